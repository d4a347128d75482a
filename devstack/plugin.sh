#!/usr/bin/env bash
# devstack plugin of zaqar-swift: a Zaqar v2 messaging API stored in Swift.
#
#   [[local|localrc]]
#   enable_plugin zaqar-swift https://<git host>/<org>/zaqar-swift main
#
# Phases (devstack runs this file with "$1" "$2"):
#   stack install      install the package (setup_develop)
#   stack post-config  write zaqar-swift.conf, the Keystone service user,
#                      service and endpoints, and the uwsgi config
#   stack extra        start the API (uwsgi), the worker and the websocket
#                      server, and wait until they answer
#   stack test-config  tempest's options for the messaging service
#   unstack            stop every process this plugin started
#   clean              remove the config (and the containers when
#                      ZAQAR_SWIFT_CLEAN_CONTAINERS is True)

# Save trace setting
_XTRACE_ZAQAR_SWIFT=$(set +o | grep xtrace)
set +o xtrace

ZAQAR_SWIFT_SERVICES="zaqar-swift-api zaqar-swift-worker zaqar-swift-websocket"

# The directory of the package's console scripts.
function zaqar_swift_bin_dir {
    get_python_exec_prefix
}

# Whether the installed package has the websocket server.
function zaqar_swift_has_websocket {
    [[ -x "$(zaqar_swift_bin_dir)/zaqar-swift-websocket" ]]
}

function install_zaqar_swift {
    setup_develop "$ZAQAR_SWIFT_DIR"
}

function configure_zaqar_swift {
    sudo install -d -o "$STACK_USER" "$ZAQAR_SWIFT_CONF_DIR" "$ZAQAR_SWIFT_STATE_DIR"
    rm -f "$ZAQAR_SWIFT_CONF"

    iniset "$ZAQAR_SWIFT_CONF" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$ZAQAR_SWIFT_CONF" DEFAULT bind_host "$SERVICE_LISTEN_ADDRESS"
    iniset "$ZAQAR_SWIFT_CONF" DEFAULT bind_port "$ZAQAR_SWIFT_SERVICE_PORT"
    iniset "$ZAQAR_SWIFT_CONF" DEFAULT auth_strategy keystone
    configure_keystone_authtoken_middleware "$ZAQAR_SWIFT_CONF" "$ZAQAR_SWIFT_SERVICE_USER"

    # Swift as the service user, through the catalog (keystoneauth1).
    configure_keystoneauth "$ZAQAR_SWIFT_CONF" "$ZAQAR_SWIFT_SERVICE_USER" swift
    iniset "$ZAQAR_SWIFT_CONF" swift region_name "$REGION_NAME"
    iniset "$ZAQAR_SWIFT_CONF" swift layout "$ZAQAR_SWIFT_LAYOUT"
    iniset "$ZAQAR_SWIFT_CONF" swift reseller_prefix AUTH_
    iniset "$ZAQAR_SWIFT_CONF" swift replicas "$ZAQAR_SWIFT_REPLICAS"
    iniset "$ZAQAR_SWIFT_CONF" swift lease_settle_delay "$ZAQAR_SWIFT_SETTLE_DELAY"
    if [[ -n "$ZAQAR_SWIFT_STORAGE_POLICY" ]]; then
        iniset "$ZAQAR_SWIFT_CONF" swift storage_policy "$ZAQAR_SWIFT_STORAGE_POLICY"
    fi

    # The workers run in zaqar-swift-worker, never in the API processes.
    iniset "$ZAQAR_SWIFT_CONF" worker run_in_api False
    iniset "$ZAQAR_SWIFT_CONF" metrics directory "$ZAQAR_SWIFT_STATE_DIR/metrics"
    iniset "$ZAQAR_SWIFT_CONF" websocket bind_host "$SERVICE_LISTEN_ADDRESS"
    iniset "$ZAQAR_SWIFT_CONF" websocket bind_port "$ZAQAR_SWIFT_WEBSOCKET_PORT"

    write_uwsgi_config "$ZAQAR_SWIFT_UWSGI_CONF" "$ZAQAR_SWIFT_UWSGI" "" \
        "$SERVICE_LISTEN_ADDRESS:$ZAQAR_SWIFT_SERVICE_PORT" zaqar-swift-api
    iniset "$ZAQAR_SWIFT_UWSGI_CONF" uwsgi processes "$ZAQAR_SWIFT_API_WORKERS"
    iniset "$ZAQAR_SWIFT_UWSGI_CONF" uwsgi threads "$ZAQAR_SWIFT_API_THREADS"
    iniset "$ZAQAR_SWIFT_UWSGI_CONF" uwsgi env "ZAQAR_SWIFT_CONFIG_FILE=$ZAQAR_SWIFT_CONF"
}

function create_zaqar_swift_accounts {
    # admin: an operator of its own Swift account (layout shared);
    # ResellerAdmin: every project's account (layout per_project).
    create_service_user "$ZAQAR_SWIFT_SERVICE_USER" admin
    if [[ "$ZAQAR_SWIFT_LAYOUT" == "per_project" ]]; then
        get_or_add_user_project_role ResellerAdmin "$ZAQAR_SWIFT_SERVICE_USER" \
            "$SERVICE_PROJECT_NAME" "$SERVICE_DOMAIN_NAME" "$SERVICE_DOMAIN_NAME"
    fi

    get_or_create_service zaqar-swift messaging "Zaqar v2 messaging stored in Swift"
    get_or_create_endpoint messaging "$REGION_NAME" "$ZAQAR_SWIFT_URL" "" "$ZAQAR_SWIFT_URL"

    if is_service_enabled zaqar-swift-websocket; then
        get_or_create_service zaqar-swift-websocket messaging-websocket \
            "Zaqar v2 messaging over websocket, stored in Swift"
        get_or_create_endpoint messaging-websocket "$REGION_NAME" \
            "$ZAQAR_SWIFT_WEBSOCKET_URL" "" "$ZAQAR_SWIFT_WEBSOCKET_URL"
    fi
}

# Wait until url answers HTTP at all (any status: a 401 means the API is up).
function zaqar_swift_wait_for {
    local name=$1
    local url=$2
    if ! timeout "$SERVICE_TIMEOUT" bash -c \
            "until curl -s -o /dev/null --noproxy '*' '$url'; do sleep 1; done"; then
        die $LINENO "$name did not answer at $url within $SERVICE_TIMEOUT s"
    fi
}

function start_zaqar_swift {
    local bin
    bin=$(zaqar_swift_bin_dir)
    run_process zaqar-swift-api "$bin/uwsgi --procname-prefix zaqar-swift-api --ini $ZAQAR_SWIFT_UWSGI_CONF"
    run_process zaqar-swift-worker "$bin/zaqar-swift-worker --config-file $ZAQAR_SWIFT_CONF"
    if is_service_enabled zaqar-swift-websocket && zaqar_swift_has_websocket; then
        run_process zaqar-swift-websocket "$bin/zaqar-swift-websocket --config-file $ZAQAR_SWIFT_CONF"
    fi

    if is_service_enabled zaqar-swift-api; then
        zaqar_swift_wait_for zaqar-swift-api "$ZAQAR_SWIFT_URL/healthcheck"
    fi
    if is_service_enabled zaqar-swift-websocket && zaqar_swift_has_websocket; then
        zaqar_swift_wait_for zaqar-swift-websocket \
            "http://$ZAQAR_SWIFT_SERVICE_HOST:$ZAQAR_SWIFT_WEBSOCKET_PORT/"
    fi
}

function configure_tempest_for_zaqar_swift {
    iniset "$TEMPEST_CONFIG" service_available zaqar True
    iniset "$TEMPEST_CONFIG" messaging catalog_type messaging
    iniset "$TEMPEST_CONFIG" messaging max_queues_per_page 20
    iniset "$TEMPEST_CONFIG" messaging max_queue_metadata 65536
    iniset "$TEMPEST_CONFIG" messaging max_messages_per_page 20
    iniset "$TEMPEST_CONFIG" messaging max_messages_per_claim_or_pop 20
    iniset "$TEMPEST_CONFIG" messaging max_message_size 262144
}

function stop_zaqar_swift {
    local service
    for service in $ZAQAR_SWIFT_SERVICES; do
        stop_process "$service"
    done
}

function cleanup_zaqar_swift {
    if [[ "$(trueorfalse False ZAQAR_SWIFT_CLEAN_CONTAINERS)" == "True" ]]; then
        "$(zaqar_swift_bin_dir)/zaqar-swift-manage" --config-file "$ZAQAR_SWIFT_CONF" \
            delete-containers --yes
    fi
    remove_uwsgi_config "$ZAQAR_SWIFT_UWSGI_CONF" zaqar-swift-api
    sudo rm -rf "$ZAQAR_SWIFT_CONF_DIR" "$ZAQAR_SWIFT_STATE_DIR"
}

function zaqar_swift_enabled {
    local service
    for service in $ZAQAR_SWIFT_SERVICES; do
        if is_service_enabled "$service"; then
            return 0
        fi
    done
    return 1
}

if zaqar_swift_enabled; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing zaqar-swift"
        install_zaqar_swift
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring zaqar-swift"
        configure_zaqar_swift
        if is_service_enabled keystone; then
            create_zaqar_swift_accounts
        fi
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Starting zaqar-swift"
        start_zaqar_swift
    elif [[ "$1" == "stack" && "$2" == "test-config" ]]; then
        if is_service_enabled tempest; then
            configure_tempest_for_zaqar_swift
        fi
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_zaqar_swift
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_zaqar_swift
    fi
fi

# Restore xtrace
$_XTRACE_ZAQAR_SWIFT
