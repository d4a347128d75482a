"""LocalKeystone's configuration pieces (no Keystone needed; the real one
runs in functional/test_keystone.py)."""
from __future__ import annotations

import configparser

from zaqar_swift.testing.keystone import Credentials, LocalKeystone
from zaqar_swift.testing.keystone import launch as keystone_launch
from zaqar_swift.testing.saio import config as saio_config


def test_api_options_validate_tokens_and_reach_swift_as_the_service_user(tmp_path):
    ks = LocalKeystone(str(tmp_path), port=25000)
    zaqar = Credentials('zaqar', 'pw', 'service', 'uid', 'pid')
    groups = ks.api_options(zaqar)
    assert groups['DEFAULT'] == {'auth_strategy': 'keystone'}
    authtoken, swift = groups['keystone_authtoken'], groups['swift']
    for group in (authtoken, swift):
        assert (group['auth_type'], group['auth_url'], group['username'],
                group['project_name'], group['interface']) == \
            ('password', 'http://127.0.0.1:25000/v3', 'zaqar', 'service', 'public')
    assert authtoken['www_authenticate_uri'] == 'http://127.0.0.1:25000/v3'
    assert 'v1_auth_url' not in swift
    text = saio_config.api_conf(swift, 9000, {'keystone_authtoken': authtoken})
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(text)
    assert conf['swift']['user_domain_name'] == 'Default'


def test_admin_password_survives_in_the_data_dir(tmp_path):
    first = LocalKeystone(str(tmp_path), port=25000)
    first._write_state({'port': 25000, 'admin_password': first.admin.password})
    again = LocalKeystone(str(tmp_path), port=25000)
    assert again.admin.password == first.admin.password
    assert again.pid() is None


def test_launcher_usage():
    assert keystone_launch.main([]) == 2
    assert keystone_launch.main(['serve', 'conf']) == 2
