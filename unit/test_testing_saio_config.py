"""Files a local Swift is made of: ports, policies, pipelines, API config."""
from __future__ import annotations

import configparser

from zaqar_swift.testing.saio import config as saio_config
from zaqar_swift.testing.saio import LocalSwift


def layout(tmp_path, memcached=False) -> saio_config.Layout:
    return saio_config.Layout(data_dir=str(tmp_path), proxy_port=21000,
                              base_port=21001, memcached=memcached, key='k')


def parse(text: str) -> configparser.ConfigParser:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(text)
    return conf


def test_ports_follow_the_base_port(tmp_path):
    lay = layout(tmp_path)
    assert (lay.account_port, lay.container_port, lay.object_port) == \
        (21001, 21002, 21003)
    assert lay.ports() == [21000, 21001, 21002, 21003]
    assert layout(tmp_path, memcached=True).ports()[-1] == 21004


def test_swift_conf_declares_gold_default_and_single():
    conf = parse(saio_config.swift_conf())
    assert conf['storage-policy:0']['name'] == 'gold'
    assert conf['storage-policy:0']['default'] == 'yes'
    assert conf['storage-policy:1']['name'] == 'single'


def test_proxy_pipeline_has_what_the_driver_needs(tmp_path):
    conf = parse(saio_config.server_confs(layout(tmp_path))['proxy-server'])
    pipeline = conf['pipeline:main']['pipeline'].split()
    for name in ('catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging',
                 'cache', 'bulk', 'tempauth', 'copy', 'slo', 'dlo'):
        assert name in pipeline
    assert pipeline[-1] == 'proxy-server'
    assert conf['filter:tempauth']['user_messaging_zaqar'] == \
        'k .admin .reseller_admin'
    assert conf['filter:cache']['paste.filter_factory'] == \
        'zaqar_swift.testing.saio.cache:filter_factory'


def test_memcached_replaces_the_in_process_cache(tmp_path):
    confs = saio_config.server_confs(layout(tmp_path, memcached=True))
    proxy = parse(confs['proxy-server'])
    assert proxy['filter:cache']['memcache_servers'] == '127.0.0.1:21004'
    expirer = parse(confs['object-expirer'])
    assert 'cache' in expirer['pipeline:main']['pipeline'].split()


def test_expirer_and_updater_run_every_second(tmp_path):
    confs = saio_config.server_confs(layout(tmp_path))
    assert parse(confs['object-expirer'])['object-expirer']['interval'] == '1'
    assert parse(confs['saio-updater'])['saio-updater']['interval'] == '1'


def test_rings_have_the_policies_replica_counts(tmp_path):
    from swift.common.ring import RingData

    lay = layout(tmp_path)
    saio_config.write_all(lay)
    rings = {name: RingData.load('%s/%s.ring.gz' % (lay.etc_dir, name))
             for name in ('account', 'container', 'object', 'object-1')}
    assert {name: ring.replica_count for name, ring in rings.items()} == \
        {'account': 3, 'container': 3, 'object': 3, 'object-1': 1}
    assert {d['device'] for d in rings['object'].devs} == \
        {'d1', 'd2', 'd3', 'd4'}
    assert {d['port'] for d in rings['container'].devs} == {21002}


def test_api_conf_with_overrides():
    text = saio_config.api_conf(
        saio_config.v1_swift_options('http://127.0.0.1:1/auth/v1.0', 'a:u', 'key'),
        bind_port=9999,
        extra={'DEFAULT': {'auth_strategy': 'keystone'},
               'limits': {'max_messages_per_page': 5}})
    conf = parse(text)
    assert conf['DEFAULT']['bind_host'] == '127.0.0.1'
    assert conf['DEFAULT']['bind_port'] == '9999'
    assert conf['DEFAULT']['auth_strategy'] == 'keystone'
    swift = conf['swift']
    assert (swift['v1_auth_url'], swift['user'], swift['key']) == \
        ('http://127.0.0.1:1/auth/v1.0', 'a:u', 'key')
    assert conf['limits']['max_messages_per_page'] == '5'


def test_key_and_ports_survive_in_the_data_dir(tmp_path):
    first = LocalSwift(str(tmp_path), proxy_port=21000)
    saio_config.write_all(first.layout)
    again = LocalSwift.from_data_dir(str(tmp_path))
    assert again.key == first.key
    assert again.proxy_port == 21000
    assert again.layout.base_port == 21001
    assert again.auth_url == 'http://127.0.0.1:21000/auth/v1.0'


def test_keystone_proxy_puts_authtoken_and_keystoneauth_in_tempauth_place(tmp_path):
    auth = saio_config.KeystoneAuth(
        'http://127.0.0.1:5000/v3', 'swift', 'pw', 'service', 'probe', 'ppw', 'probe')
    lay = saio_config.Layout(data_dir=str(tmp_path), proxy_port=21000, base_port=21001,
                             memcached=False, key='k', keystone=auth)
    conf = parse(saio_config.server_confs(lay)['proxy-server'])
    pipeline = conf['pipeline:main']['pipeline'].split()
    assert 'tempauth' not in pipeline and 'filter:tempauth' not in conf
    assert pipeline.index('authtoken') + 1 == pipeline.index('keystoneauth')
    assert pipeline.index('bulk') < pipeline.index('authtoken')
    authtoken = conf['filter:authtoken']
    assert (authtoken['auth_url'], authtoken['username'], authtoken['interface']) == \
        ('http://127.0.0.1:5000/v3', 'swift', 'public')
    keystoneauth = conf['filter:keystoneauth']
    assert set(keystoneauth['operator_roles'].replace(' ', '').split(',')) == \
        {'admin', 'member'}
    assert keystoneauth['reseller_admin_role'] == 'ResellerAdmin'
    swift = LocalSwift(str(tmp_path), proxy_port=21000, keystone=auth)
    assert swift.api_swift_options() == {}
    assert swift.auth_url == 'http://127.0.0.1:5000/v3'
    assert swift.endpoint_template == 'http://127.0.0.1:21000/v1/AUTH_%(project_id)s'


def test_fault_filter_sits_after_bulk_just_before_the_proxy_in_both_variants(tmp_path):
    auth = saio_config.KeystoneAuth(
        'http://127.0.0.1:5000/v3', 'swift', 'pw', 'service', 'probe', 'ppw', 'probe')
    for keystone in (None, auth):
        lay = saio_config.Layout(data_dir=str(tmp_path), proxy_port=21000, base_port=21001,
                                 memcached=False, key='k', keystone=keystone)
        conf = parse(saio_config.server_confs(lay)['proxy-server'])
        pipeline = conf['pipeline:main']['pipeline'].split()
        assert pipeline[-3:] == ['faults', 'proxy-logging', 'proxy-server']
        assert pipeline.index('bulk') < pipeline.index('faults')
        assert conf['filter:faults']['paste.filter_factory'] == \
            'zaqar_swift.testing.saio.faults:filter_factory'
