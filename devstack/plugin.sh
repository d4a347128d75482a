#!/usr/bin/env bash
# devstack plugin for zaqar-swift (stub). Enable with:
#   enable_plugin zaqar-swift <repo> main
# It installs the package and writes a config that points at devstack's Swift;
# Keystone authentication, the service user and the catalog entry are added
# with the Keystone work.

function install_zaqar_swift {
    setup_develop $ZAQAR_SWIFT_DIR
}

function configure_zaqar_swift {
    sudo install -d -o $STACK_USER $ZAQAR_SWIFT_CONF_DIR
    iniset $ZAQAR_SWIFT_CONF DEFAULT bind_port $ZAQAR_SWIFT_PORT
    iniset $ZAQAR_SWIFT_CONF swift auth_url "$SWIFT_SERVICE_PROTOCOL://$SERVICE_HOST:8080/auth/v1.0"
}

function start_zaqar_swift {
    run_process zaqar-swift "$ZAQAR_SWIFT_DIR/.venv/bin/zaqar-swift-api --config-file $ZAQAR_SWIFT_CONF"
}

if is_service_enabled zaqar-swift; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        install_zaqar_swift
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        configure_zaqar_swift
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        start_zaqar_swift
    fi
    if [[ "$1" == "unstack" ]]; then
        stop_process zaqar-swift
    fi
fi
