"""The devstack plugin, offline: syntax, devstack's bashate flags,
shellcheck at warning level, and every phase sourced the way devstack
sources it, with devstack's functions replaced by recording stubs.

The phase runs get an empty PATH, so no external command can run: one that
is looked up is recorded (``command_not_found_handle``) and succeeds. The
package's console scripts live in a temporary bin directory
(``get_python_exec_prefix``) where the test puts recording scripts.

What this does not prove: that devstack's real functions behave as the
stubs assume (their signatures were read from devstack's lib/ and
functions-common), that uwsgi serves the module with that ini, that
Keystone and Swift accept what is created, or that tempest passes. Those
need a devstack run.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEVSTACK = ROOT / 'devstack'
SCRIPTS = [DEVSTACK / 'plugin.sh', DEVSTACK / 'settings']
BIN = pathlib.Path(sys.executable).parent
BASH = shutil.which('bash') or '/bin/bash'

# devstack functions the plugin and settings may call
STUBS = ('define_plugin plugin_requires enable_service setup_develop iniset '
         'configure_keystone_authtoken_middleware configure_keystoneauth '
         'create_service_user get_or_add_user_project_role get_or_create_service '
         'get_or_create_endpoint write_uwsgi_config remove_uwsgi_config run_process '
         'stop_process echo_summary die').split()

PRELUDE = r'''
record() { printf '%s\n' "$*" >> "$CALLS"; }
command_not_found_handle() { record "EXTERNAL $*"; return 0; }
for f in $STUBS; do eval "function $f { record \"$f \$*\"; }"; done
function is_service_enabled {
    local s
    for s in "$@"; do [[ ",$ENABLED_SERVICES," == *",$s,"* ]] && return 0; done
    return 1
}
function get_python_exec_prefix { echo "$FAKE_BIN"; }
function trueorfalse {
    local default=$1 value=${!2:-}
    [[ -z "$value" ]] && value=$default
    [[ "$value" == True || "$value" == true ]] && echo True || echo False
}
DEST=/opt/stack DATA_DIR=/opt/stack/data STACK_USER=stack SERVICE_HOST=192.0.2.10
SERVICE_PROTOCOL=http SERVICE_LISTEN_ADDRESS=0.0.0.0 REGION_NAME=RegionOne
SERVICE_PROJECT_NAME=service SERVICE_DOMAIN_NAME=Default SERVICE_TIMEOUT=60
ENABLE_DEBUG_LOG_LEVEL=True TEMPEST_CONFIG=/opt/stack/tempest/etc/tempest.conf
source "$DEVSTACK/settings"
source "$DEVSTACK/plugin.sh" "$@"
'''

PHASES = [('stack', 'pre-install'), ('stack', 'install'), ('stack', 'post-config'),
          ('stack', 'extra'), ('stack', 'test-config'), ('unstack', ''), ('clean', '')]
ALL = 'key,keystone,swift,tempest,zaqar-swift-api,zaqar-swift-worker,zaqar-swift-websocket'


def run_phase(tmp_path, phase, enabled=ALL, websocket=True, **env):
    """The calls a phase makes: devstack stubs, external commands and the
    package's console scripts, one line each; settings' calls left out."""
    fake_bin = tmp_path / 'bin'
    fake_bin.mkdir(exist_ok=True)
    calls = tmp_path / ('calls-%s-%s' % phase)
    scripts = ['zaqar-swift-manage'] + (['zaqar-swift-websocket'] if websocket else [])
    for name in scripts:
        script = fake_bin / name
        script.write_text('#!%s\nprintf "%%s\\n" "%s $*" >> "$CALLS"\n' % (BASH, name))
        script.chmod(0o755)
    done = subprocess.run([BASH, '-c', PRELUDE, 'phase', *phase], capture_output=True,
                          text=True, timeout=30, env=dict(
                              env, PATH='/nonexistent', CALLS=str(calls),
                              STUBS=' '.join(STUBS), DEVSTACK=str(DEVSTACK),
                              FAKE_BIN=str(fake_bin), ENABLED_SERVICES=enabled))
    assert done.returncode == 0, done.stderr
    assert done.stderr == '', done.stderr
    lines = calls.read_text().splitlines() if calls.exists() else []
    settings = {'define_plugin zaqar-swift', 'plugin_requires zaqar-swift swift',
                'enable_service zaqar-swift-api zaqar-swift-worker zaqar-swift-websocket',
                'EXTERNAL grep xtrace'}
    return [line.replace(str(fake_bin), '$BIN') for line in lines if line not in settings]


def show(phase, calls):
    print('\n== %s %s ==\n%s' % (phase[0], phase[1], '\n'.join(calls) or '(nothing)'))


@pytest.mark.parametrize('script', SCRIPTS, ids=lambda p: p.name)
def test_bash_syntax(script):
    done = subprocess.run([BASH, '-n', str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_bashate_with_devstack_flags():
    done = subprocess.run([str(BIN / 'bashate'), '-v', '-iE006', '-eE005,E042',
                           *map(str, SCRIPTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_shellcheck_at_warning_level():
    done = subprocess.run([str(BIN / 'shellcheck'), '--severity=warning', '--shell=bash',
                           *map(str, SCRIPTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_settings_define_the_plugin_and_its_services(tmp_path):
    calls = tmp_path / 'calls'
    script = ('source "$1"; for v in ${!ZAQAR_SWIFT_@}; do echo "$v=${!v}"; done')
    done = subprocess.run(
        [BASH, '-c', 'function define_plugin { echo "define_plugin $*" >> "$CALLS"; }\n'
         'function plugin_requires { echo "plugin_requires $*" >> "$CALLS"; }\n'
         'function enable_service { echo "enable_service $*" >> "$CALLS"; }\n' + script,
         'settings', str(DEVSTACK / 'settings')], capture_output=True, text=True,
        env={'PATH': '/nonexistent', 'CALLS': str(calls), 'ZAQAR_SWIFT_LAYOUT': 'per_project',
             'SERVICE_HOST': 'h', 'SERVICE_PROTOCOL': 'http'})
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == [
        'define_plugin zaqar-swift', 'plugin_requires zaqar-swift swift',
        'enable_service zaqar-swift-api zaqar-swift-worker zaqar-swift-websocket']
    values = dict(line.split('=', 1) for line in done.stdout.splitlines())
    assert values['ZAQAR_SWIFT_LAYOUT'] == 'per_project'   # FOO=${FOO:-default}
    assert values['ZAQAR_SWIFT_URL'] == 'http://h:8888'
    assert values['ZAQAR_SWIFT_WEBSOCKET_URL'] == 'ws://h:9000'
    text = (DEVSTACK / 'settings').read_text()
    for line in text.splitlines():
        if line.startswith('ZAQAR_SWIFT_') and '=' in line:
            name, value = line.split('=', 1)
            assert value.startswith('${%s:-' % name), line


def test_every_phase_with_everything_enabled(tmp_path):
    seen = {}
    for phase in PHASES:
        seen[phase] = run_phase(tmp_path, phase)
        show(phase, seen[phase])
    assert seen[('stack', 'pre-install')] == []
    assert seen[('stack', 'install')] == [
        'echo_summary Installing zaqar-swift', 'setup_develop /opt/stack/zaqar-swift']
    post = seen[('stack', 'post-config')]
    assert post[:3] == ['echo_summary Configuring zaqar-swift',
                        'EXTERNAL sudo install -d -o stack /etc/zaqar-swift '
                        '/opt/stack/data/zaqar-swift',
                        'EXTERNAL rm -f /etc/zaqar-swift/zaqar-swift.conf']
    conf = '/etc/zaqar-swift/zaqar-swift.conf'
    for expected in [
            'iniset %s DEFAULT auth_strategy keystone' % conf,
            'configure_keystone_authtoken_middleware %s zaqar-swift' % conf,
            'configure_keystoneauth %s zaqar-swift swift' % conf,
            'iniset %s swift region_name RegionOne' % conf,
            'iniset %s swift layout shared' % conf,
            'iniset %s worker run_in_api False' % conf,
            'iniset %s websocket bind_port 9000' % conf,
            'write_uwsgi_config /etc/zaqar-swift/zaqar-swift-api-uwsgi.ini '
            'zaqar_swift.wsgi:application  0.0.0.0:8888 zaqar-swift-api',
            'iniset /etc/zaqar-swift/zaqar-swift-api-uwsgi.ini uwsgi env '
            'ZAQAR_SWIFT_CONFIG_FILE=%s' % conf,
            'create_service_user zaqar-swift admin',
            'get_or_create_service zaqar-swift messaging Zaqar v2 messaging stored in Swift',
            'get_or_create_endpoint messaging RegionOne http://192.0.2.10:8888  '
            'http://192.0.2.10:8888',
            'get_or_create_service zaqar-swift-websocket messaging-websocket '
            'Zaqar v2 messaging over websocket, stored in Swift',
            'get_or_create_endpoint messaging-websocket RegionOne ws://192.0.2.10:9000  '
            'ws://192.0.2.10:9000']:
        assert expected in post, expected
    assert not any('ResellerAdmin' in c for c in post)   # layout shared
    assert seen[('stack', 'extra')] == [
        'echo_summary Starting zaqar-swift',
        'run_process zaqar-swift-api $BIN/uwsgi --procname-prefix zaqar-swift-api '
        '--ini /etc/zaqar-swift/zaqar-swift-api-uwsgi.ini',
        'run_process zaqar-swift-worker $BIN/zaqar-swift-worker --config-file %s' % conf,
        'run_process zaqar-swift-websocket $BIN/zaqar-swift-websocket --config-file %s'
        % conf,
        "EXTERNAL timeout 60 bash -c until curl -s -o /dev/null --noproxy '*' "
        "'http://192.0.2.10:8888/healthcheck'; do sleep 1; done",
        "EXTERNAL timeout 60 bash -c until curl -s -o /dev/null --noproxy '*' "
        "'http://192.0.2.10:9000/'; do sleep 1; done"]
    tempest = seen[('stack', 'test-config')]
    assert 'iniset /opt/stack/tempest/etc/tempest.conf service_available zaqar True' \
        in tempest
    assert 'iniset /opt/stack/tempest/etc/tempest.conf messaging catalog_type messaging' \
        in tempest
    assert seen[('unstack', '')] == ['stop_process zaqar-swift-api',
                                     'stop_process zaqar-swift-worker',
                                     'stop_process zaqar-swift-websocket']
    assert seen[('clean', '')] == [
        'remove_uwsgi_config /etc/zaqar-swift/zaqar-swift-api-uwsgi.ini zaqar-swift-api',
        'EXTERNAL sudo rm -rf /etc/zaqar-swift /opt/stack/data/zaqar-swift']


def test_per_project_layout_grants_reseller_admin(tmp_path):
    post = run_phase(tmp_path, ('stack', 'post-config'), ZAQAR_SWIFT_LAYOUT='per_project')
    assert 'iniset /etc/zaqar-swift/zaqar-swift.conf swift layout per_project' in post
    assert 'get_or_add_user_project_role ResellerAdmin zaqar-swift service Default ' \
           'Default' in post


def test_without_the_websocket_command_only_the_api_and_worker_start(tmp_path):
    extra = run_phase(tmp_path, ('stack', 'extra'), websocket=False)
    show(('stack', 'extra (no websocket command)'), extra)
    assert [c.split()[1] for c in extra if c.startswith('run_process')] == [
        'zaqar-swift-api', 'zaqar-swift-worker']
    assert not any(':9000' in c for c in extra)


def test_websocket_disabled_gets_no_catalog_entry(tmp_path):
    enabled = ALL.replace(',zaqar-swift-websocket', '')
    post = run_phase(tmp_path, ('stack', 'post-config'), enabled=enabled)
    assert not any('websocket' in c and c.startswith('get_or_create') for c in post)
    extra = run_phase(tmp_path, ('stack', 'extra'), enabled=enabled)
    assert not any('zaqar-swift-websocket' in c for c in extra)


def test_without_keystone_no_accounts_and_without_tempest_no_tempest_config(tmp_path):
    enabled = 'swift,zaqar-swift-api,zaqar-swift-worker'
    post = run_phase(tmp_path, ('stack', 'post-config'), enabled=enabled)
    assert not any(c.startswith(('create_service_user', 'get_or_create')) for c in post)
    assert run_phase(tmp_path, ('stack', 'test-config'), enabled=enabled) == []


def test_plugin_does_nothing_when_none_of_its_services_is_enabled(tmp_path):
    for phase in PHASES:
        assert run_phase(tmp_path, phase, enabled='key,swift') == []


def test_clean_deletes_the_containers_only_when_asked(tmp_path):
    clean = run_phase(tmp_path, ('clean', ''), ZAQAR_SWIFT_CLEAN_CONTAINERS='True')
    assert clean[0] == ('zaqar-swift-manage --config-file /etc/zaqar-swift/zaqar-swift.conf '
                        'delete-containers --yes')
    assert os.path.basename(clean[1].split()[1]) == 'zaqar-swift-api-uwsgi.ini'
