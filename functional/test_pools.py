"""Pools and flavors against real Swifts: the session Swift (which also holds
the control plane) and a second LocalSwift of this module are two pools, the
session Swift's 1-replica policy ``single`` a third.

Placement proportions over 1,000 names are checked on the placement
function (unit/test_placement.py); here a smaller real check: every queue
of a flavor lands on its pools only (found by listing each cluster's
containers), weight 0 gets none, a pool added later takes new queues only.
"""
from __future__ import annotations

import time
import uuid
from typing import Iterator

import pytest
import requests

from functional.helpers import Tenant, assert_json_error, new_project, wait_until
from functional.receiver import Receiver
from zaqar_swift.storage.swift import client as swift_client
from zaqar_swift.storage.swift import naming
from zaqar_swift.testing.ports import free_port_block
from zaqar_swift.testing.saio import LocalSwift
from zaqar_swift.testing.saio import config as saio_config

# The API's own control plane (catalogs, index of subscribed queues, pools):
# no other API process of the session delivers its notifications.
PREFIX = 'zpools'
ADMIN = {'X-Project-ID': 'admin-project', 'X-Roles': 'admin',
         'Client-ID': str(uuid.uuid4())}


@pytest.fixture(scope='module')
def west(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    """A second local Swift: another cluster, another pool."""
    base = free_port_block(5)
    server = LocalSwift(str(tmp_path_factory.mktemp('saio-west')), proxy_port=base,
                        base_port=base + 1)
    try:
        server.start(timeout=60)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope='module')
def papi(api_factory):
    """An API with pooling enabled (admin through X-Roles: noauth)."""
    return api_factory(pooling={'enabled': True, 'health_cache_ttl': 0, 'cache_ttl': 30},
                       swift={'retries': 1, 'container_prefix': PREFIX})


def _admin(api, method: str, path: str, body=None, **params) -> requests.Response:
    return requests.request(method, api.url + path, json=body, headers=ADMIN,
                            params=params, timeout=60)


def _pool_doc(cluster: LocalSwift, weight: int = 100, policy: str = 'gold',
              user: str | None = None, **options) -> dict:
    return {'uri': cluster.auth_url, 'weight': weight,
            'options': {'user': user or cluster.user, 'key': cluster.key,
                        'storage_policy': policy,
                        'replicas': LocalSwift.policies[policy], **options}}


def _name(kind: str) -> str:
    return '%s-%s' % (kind, uuid.uuid4().hex[:8])


# A second tempauth account of each local Swift: a pool apart on the same cluster.
PROBE = '%s:%s' % saio_config.PROBE_USER


def _containers(cluster: LocalSwift, project: str, user: str | None = None) -> set[str]:
    client = swift_client.SwiftClient.v1(cluster.auth_url, user or cluster.user, cluster.key)
    prefix = naming.catalog_container(PREFIX, project) + '.'
    _, rows = client.list_containers(prefix=prefix)
    return {row['name'][len(prefix):] for row in rows}


@pytest.fixture
def registered(papi):
    """Register pools and flavors; everything is removed after the test."""
    made: list[tuple[str, str]] = []

    def put(kind: str, name: str, body: dict) -> requests.Response:
        resp = _admin(papi, 'PUT', '/v2/%s/%s' % (kind, name), body)
        if resp.status_code == 201:
            made.append((kind, name))
        return resp
    yield put
    for kind, name in sorted(made, key=lambda m: m[0] != 'flavors'):   # flavors first
        _admin(papi, 'DELETE', '/v2/%s/%s' % (kind, name))


def test_pool_crud_with_zaqar_shapes(papi, swift, registered):
    name = _name('pool')
    resp = registered('pools', name, _pool_doc(swift, weight=10))
    assert resp.status_code == 201, resp.text
    assert resp.headers['Location'].endswith('/v2/pools/' + name)

    doc = _admin(papi, 'GET', '/v2/pools/' + name).json()
    assert doc == {'name': name, 'flavor': None, 'uri': swift.auth_url, 'weight': 10,
                   'href': '/v2/pools/' + name}
    detailed = _admin(papi, 'GET', '/v2/pools/' + name, detailed='true').json()
    assert 'key' not in detailed['options'] and detailed['options']['user'] == swift.user
    assert swift.key not in str(detailed)
    assert detailed['capabilities'] == ['FIFO', 'CLAIMS', 'DURABILITY', 'AOD',
                                        'HIGH_THROUGHPUT']
    assert detailed['swift']['storage_policy'] == 'gold'
    assert detailed['swift']['bulk_delete'] is True and detailed['swift']['copies'] == 3

    resp = _admin(papi, 'PATCH', '/v2/pools/' + name, {'weight': 20})
    assert resp.status_code == 200 and resp.json()['weight'] == 20
    assert_json_error(_admin(papi, 'PATCH', '/v2/pools/' + name, {'nothing': 1}), 400)
    assert_json_error(_admin(papi, 'PATCH', '/v2/pools/nope-' + name, {'weight': 1}), 404)

    listing = _admin(papi, 'GET', '/v2/pools', limit=20).json()
    assert name in [p['name'] for p in listing['pools']]
    assert listing['links'][0]['rel'] == 'next'

    assert _admin(papi, 'DELETE', '/v2/pools/' + name).status_code == 204
    assert_json_error(_admin(papi, 'GET', '/v2/pools/' + name), 404)


@pytest.mark.parametrize('body', [
    {'weight': 10},                                   # no uri
    {'uri': 'http://127.0.0.1:1/auth/v1.0', 'weight': -1, 'options': {'replicas': 3}},
    {'uri': 'ftp://x', 'weight': 1, 'options': {'replicas': 3}},
    {'uri': 'http://127.0.0.1:1/auth/v1.0', 'weight': 1, 'options': {'bogus': 1}},
    {'uri': 'http://127.0.0.1:1/auth/v1.0', 'weight': 1, 'options': {'replicas': 3},
     'extra': 1},
    [1, 2],
])
def test_bad_pool_documents_are_400(papi, body):
    assert_json_error(_admin(papi, 'PUT', '/v2/pools/' + _name('bad'), body), 400)


def test_unreachable_or_wrong_policy_or_key_is_400(papi, swift):
    closed = 'http://127.0.0.1:%d/auth/v1.0' % free_port_block(1)
    doc = _pool_doc(swift)
    for body in ({**doc, 'uri': closed},
                 {**doc, 'options': {**doc['options'], 'storage_policy': 'nope'}},
                 {**doc, 'options': {**doc['options'], 'key': 'wrong'}},
                 {**doc, 'options': {'user': swift.user, 'key': swift.key}}):  # no durability
        resp = _admin(papi, 'PUT', '/v2/pools/' + _name('bad'), body)
        assert_json_error(resp, 400)


def test_admin_only(papi):
    headers = {**ADMIN, 'X-Roles': 'member'}
    for method, path in (('GET', '/v2/pools'), ('PUT', '/v2/pools/x'),
                         ('GET', '/v2/flavors'), ('DELETE', '/v2/flavors/x')):
        resp = requests.request(method, papi.url + path, json={}, headers=headers,
                                timeout=30)
        assert_json_error(resp, 403)


def test_pooling_disabled_is_a_json_404(api):
    assert_json_error(_admin(api, 'GET', '/v2/pools'), 404)


def test_durability_guard_and_flavor_agreement(papi, swift, west, registered):
    single = _name('single')
    assert_json_error(registered('pools', single, _pool_doc(swift, policy='single')), 400)
    resp = registered('pools', single, _pool_doc(swift, policy='single', unreliable=True))
    assert resp.status_code == 201, resp.text
    caps = _admin(papi, 'GET', '/v2/pools/' + single, detailed='true').json()
    assert 'DURABILITY' not in caps['capabilities']

    gold = _name('gold')
    assert registered('pools', gold, _pool_doc(west)).status_code == 201
    mixed = registered('flavors', _name('mixed'), {'pool_list': [gold, single]})
    assert 'disagree' in assert_json_error(mixed, 400)['description']
    assert_json_error(registered('flavors', _name('f'), {'pool_list': ['nope-x']}), 400)
    assert_json_error(registered('flavors', _name('f'), {'pool_list': []}), 400)


def test_flavor_crud_and_pool_in_use(papi, swift, west, registered):
    east_pool, west_pool, flavor = _name('east'), _name('west'), _name('flv')
    assert registered('pools', east_pool, _pool_doc(swift)).status_code == 201
    assert registered('pools', west_pool, _pool_doc(west)).status_code == 201
    resp = registered('flavors', flavor, {'pool_list': [east_pool],
                                          'capabilities': {'FIFO': False}})
    assert resp.status_code == 201, resp.text
    doc = _admin(papi, 'GET', '/v2/flavors/' + flavor).json()
    facts = doc.pop('swift')
    assert doc == {'name': flavor, 'pool_list': [east_pool], 'href': '/v2/flavors/' + flavor,
                   'capabilities': ['FIFO', 'CLAIMS', 'DURABILITY', 'AOD',
                                    'HIGH_THROUGHPUT']}
    assert facts[east_pool]['copies'] == 3 and facts[east_pool]['bulk_delete']
    assert _admin(papi, 'GET', '/v2/pools/' + east_pool).json()['flavor'] == flavor

    resp = _admin(papi, 'PATCH', '/v2/flavors/' + flavor, {'pool_list': [west_pool]})
    assert resp.status_code == 200 and resp.json()['pool_list'] == [west_pool]
    assert _admin(papi, 'GET', '/v2/pools/' + east_pool).json()['flavor'] is None

    assert_json_error(_admin(papi, 'DELETE', '/v2/pools/' + west_pool), 403)
    listing = _admin(papi, 'GET', '/v2/flavors', detailed='true', limit=20).json()
    entry = [f for f in listing['flavors'] if f['name'] == flavor][0]
    assert entry['pool_list'] == [west_pool] and 'DURABILITY' in entry['capabilities']

    assert _admin(papi, 'DELETE', '/v2/flavors/' + flavor).status_code == 204
    assert_json_error(_admin(papi, 'GET', '/v2/flavors/' + flavor), 404)
    assert _admin(papi, 'DELETE', '/v2/pools/' + west_pool).status_code == 204


def _flavored(papi, registered, pools: dict[str, tuple]) -> str:
    """A flavor of ``{pool: (cluster, weight[, tempauth user])}``."""
    for name, (cluster, weight, *user) in pools.items():
        resp = registered('pools', name, _pool_doc(cluster, weight=weight,
                                                   user=user[0] if user else None))
        assert resp.status_code == 201, resp.text
    flavor = _name('flv')
    assert registered('flavors', flavor, {'pool_list': list(pools)}).status_code == 201
    return flavor


def test_placement_on_real_swifts(papi, swift, west, registered):
    """Pools a (east), b (west), off (west, another account, weight 0);
    later, late (east, another account, weight 200)."""
    a, b, off = _name('a'), _name('b'), _name('off')
    flavor = _flavored(papi, registered, {a: (swift, 100), b: (west, 100),
                                          off: (west, 0, PROBE)})
    tenant = Tenant(papi.url)
    queues = ['q%02d' % i for i in range(40)]
    for queue in queues:
        tenant.create_queue(queue, {'_flavor': flavor})
        tenant.post_messages(queue, [{'body': queue, 'ttl': 300}])
    on_a, on_b = _containers(swift, tenant.project), _containers(west, tenant.project)
    assert on_a | on_b == set(queues) and not on_a & on_b
    assert not _containers(west, tenant.project, PROBE)          # weight 0: none
    assert 8 <= len(on_a) <= 32, (len(on_a), len(on_b))           # 50/50 of 40
    print('placement over 2 clusters, weights 100/100/0: %d / %d / 0 of 40'
          % (len(on_a), len(on_b)))

    # A pool added later takes its share of new queues only.
    late = _name('late')
    resp = registered('pools', late, _pool_doc(swift, weight=200, user=PROBE))
    assert resp.status_code == 201, resp.text
    assert _admin(papi, 'PATCH', '/v2/flavors/' + flavor,
                  {'pool_list': [a, b, off, late]}).status_code == 200
    for queue in queues:   # old queues stay where they are and keep working
        assert [m['body'] for m in tenant.walk_messages(queue, echo='true')] == [queue]
    new = ['n%02d' % i for i in range(40)]
    for queue in new:
        tenant.create_queue(queue, {'_flavor': flavor})
        tenant.post_messages(queue, [{'body': queue}])
    counts = {'a': _containers(swift, tenant.project) - on_a,
              'b': _containers(west, tenant.project) - on_b,
              'off': _containers(west, tenant.project, PROBE),
              'late': _containers(swift, tenant.project, PROBE)}
    assert counts['a'] | counts['b'] | counts['late'] == set(new) and not counts['off']
    assert counts['late'] <= set(new) and 10 <= len(counts['late']) <= 32, counts
    print('after adding late (200): a %d, b %d, off 0, late %d of 40 new queues'
          % (len(counts['a']), len(counts['b']), len(counts['late'])))

    assert_json_error(tenant.put('/v2/queues/bad', json={'_flavor': 'no-such'}), 400)


def test_every_operation_on_each_pool_and_isolation(papi, swift, west, registered):
    flavor_east = _flavored(papi, registered, {_name('e'): (swift, 1)})
    flavor_west = _flavored(papi, registered, {_name('w'): (west, 1)})
    for flavor, cluster in ((flavor_east, swift), (flavor_west, west)):
        owner, other = Tenant(papi.url), Tenant(papi.url)
        owner.create_queue('work', {'_flavor': flavor})
        other.create_queue('work', {'_flavor': flavor})
        assert _containers(cluster, owner.project) == set()   # created lazily
        ids = owner.post_messages('work', [{'body': i, 'ttl': 300} for i in range(6)])
        assert 'work' in _containers(cluster, owner.project)
        again = owner.post('/v2/queues/work/messages', json={'messages': [{'body': 'x'}]})
        assert again.headers['X-Swift-Requests'] == '1'     # steady state: one PUT
        owner.delete(again.json()['resources'][0])
        assert owner.walk_messages('work', echo='true') and \
            not other.walk_messages('work', echo='true')             # isolation
        cid, claimed = owner.claim('work', limit=2)
        assert cid and len(claimed) == 2
        assert owner.stats('work')['claimed'] == 2
        assert owner.get('/v2/queues/work/claims/' + cid).status_code == 200
        for m in claimed:
            assert owner.delete(m['href']).status_code == 204
        assert owner.delete('/v2/queues/work/messages/' + ids[-1]).status_code == 204
        assert owner.stats('work')['total'] == 3
        popped = owner.delete('/v2/queues/work/messages', params={'pop': 1}).json()
        assert len(popped['messages']) == 1
        purge = owner.post('/v2/queues/work/purge', json={'resource_types': ['messages']})
        assert purge.status_code == 204
        assert owner.stats('work')['total'] == 0
        owner.post_messages('work', [{'body': 'after purge'}])
        assert owner.delete('/v2/queues/work').status_code == 204
        assert owner.stats('work')['total'] == 0


def test_health_reports_each_pool_without_writing(papi, swift, west, registered):
    pool = _name('h')
    _flavored(papi, registered, {pool: (west, 1)})
    doc = _admin(papi, 'GET', '/v2/health').json()
    assert doc['catalog_reachable'] is True
    entry = doc['pools'][pool]
    assert entry['storage_reachable'] is True and entry['latency_ms'] >= 0


def test_outage_of_one_pool(papi, swift, west, registered):
    flavor_east = _flavored(papi, registered, {_name('e'): (swift, 1)})
    west_pool = _name('w')
    flavor_west = _flavored(papi, registered, {west_pool: (west, 1)})
    tenant = Tenant(papi.url)
    tenant.create_queue('east', {'_flavor': flavor_east})
    tenant.create_queue('west', {'_flavor': flavor_west})
    posted = tenant.post_messages('west', [{'body': i, 'ttl': 600} for i in range(10)])

    proxy = west.process('proxy')
    proxy.stop()
    try:
        started = time.monotonic()
        for method, path, body in (
                ('GET', '/v2/queues/west/messages', None),
                ('POST', '/v2/queues/west/messages', {'messages': [{'body': 1}]}),
                ('POST', '/v2/queues/west/claims', {'ttl': 60, 'grace': 60}),
                ('GET', '/v2/queues/west/stats', None)):
            resp = tenant.request(method, path, json=body)
            assert resp.status_code == 503, (method, path, resp.text)
            assert resp.json()['title'] and resp.json()['description']
            assert resp.headers.get('Retry-After'), (method, path)
        outage_latency = (time.monotonic() - started) / 4
        tenant.post_messages('east', [{'body': 'still here'}])
        assert [m['body'] for m in tenant.walk_messages('east', echo='true')] == \
            ['still here']
        health = _admin(papi, 'GET', '/v2/health').json()
        print('503 answered in %.2f s on average' % outage_latency)
        # A pool that is down can still be drained (weight 0: no look at its Swift).
        resp = _admin(papi, 'PATCH', '/v2/pools/' + west_pool, {'weight': 0})
        assert resp.status_code == 200 and resp.json()['weight'] == 0, resp.text
        assert_json_error(_admin(papi, 'PATCH', '/v2/pools/' + west_pool,
                                 {'options': {'group': 'changed'}}), 400)   # looks: down
    finally:
        proxy.start()
        west.wait_ready(60)
    assert health['pools'][west_pool]['storage_reachable'] is False, health
    assert health['catalog_reachable'] is True
    ids = {m['id'] for m in tenant.walk_messages('west', echo='true')}
    assert set(posted) <= ids      # nothing lost


def test_zaqarclient_pool_and_flavor_calls(papi, swift, west):
    from zaqarclient.queues.v2 import client

    class AdminClient(client.Client):
        """noauth: the roles are the X-Roles header, which the client lacks."""

        def _request_and_transport(self):
            req, trans = super()._request_and_transport()
            req.headers['X-Roles'] = 'admin'
            return req, trans

    admin = AdminClient(papi.url, version=2, conf={'auth_opts': {
        'backend': 'noauth', 'options': {'os_project_id': new_project()}}})
    pool_name, flavor_name = _name('zc'), _name('zcf')
    data = _pool_doc(west, weight=10)
    pool = admin.pool(pool_name, **data)
    try:
        got = pool.get()
        assert got['name'] == pool_name and got['weight'] == 10 and got['uri'] == west.auth_url
        pool.update({'weight': 20})
        assert pool.weight == 20 and pool.get()['weight'] == 20
        assert pool_name in [p.name for p in admin.pools()]
        flavor = admin.flavor(flavor_name, pool_list=[pool_name])
        try:
            assert flavor.get()['pool_list'] == [pool_name]
            assert flavor_name in [f.name for f in admin.flavors()]
            flavor.update({'pool_list': [pool_name]})
            assert flavor.get()['capabilities'][:2] == ['FIFO', 'CLAIMS']
        finally:
            flavor.delete()
    finally:
        pool.delete()
    assert pool_name not in [p.name for p in admin.pools()]


def test_notifications_and_purge_worker_reach_pooled_queues(papi, west, registered):
    flavor = _flavored(papi, registered, {_name('w'): (west, 1)})
    tenant = Tenant(papi.url)
    tenant.create_queue('hooked', {'_flavor': flavor})
    hook = Receiver()
    try:
        resp = tenant.post('/v2/queues/hooked/subscriptions',
                           json={'subscriber': hook.url, 'ttl': 3600})
        assert resp.status_code == 201, resp.text
        tenant.post_messages('hooked', [{'body': {'n': i}} for i in range(3)])
        wait_until(lambda: len(hook.received) >= 3, 60, what='3 notifications')
        assert sorted(b['body']['n'] for b in hook.bodies()) == [0, 1, 2]
    finally:
        hook.close()
    # The pool's purge worker removes a deleted queue's objects and container.
    assert 'hooked' in _containers(west, tenant.project)
    assert tenant.delete('/v2/queues/hooked').status_code == 204
    wait_until(lambda: 'hooked' not in _containers(west, tenant.project), 90,
               what='the purge worker of the pool to drop the container')


def test_deregistered_pool_is_503_until_registered_again(papi, west, registered):
    pool = _name('gone')
    flavor = _flavored(papi, registered, {pool: (west, 1)})
    tenant = Tenant(papi.url)
    tenant.create_queue('kept', {'_flavor': flavor})
    posted = tenant.post_messages('kept', [{'body': i, 'ttl': 600} for i in range(3)])
    assert _admin(papi, 'DELETE', '/v2/flavors/' + flavor).status_code == 204
    assert _admin(papi, 'DELETE', '/v2/pools/' + pool).status_code == 204
    resp = tenant.get('/v2/queues/kept/messages')
    assert resp.status_code == 503 and resp.headers.get('Retry-After'), resp.text
    assert pool in resp.json()['description']
    assert registered('pools', pool, _pool_doc(west)).status_code == 201
    assert [m['id'] for m in tenant.walk_messages('kept', echo='true')] == posted


def test_websocket_push_and_messages_of_a_pooled_queue(papi, west, ws_factory, registered):
    import websocket

    from functional.wsclient import WsClient
    flavor = _flavored(papi, registered, {_name('w'): (west, 1)})
    ws = ws_factory(pooling={'enabled': True},
                    swift={'retries': 1, 'container_prefix': PREFIX})
    subscriber = WsClient(ws.url)
    status, _ = subscriber.call('queue_create', {'queue_name': 'pushed',
                                                 'metadata': {'_flavor': flavor}})
    assert status == 201
    status, _ = subscriber.call('subscription_create', {'queue_name': 'pushed', 'ttl': 600})
    assert status == 201
    rest = Tenant(papi.url, project=subscriber.project)
    [mid] = rest.post_messages('pushed', [{'body': 'to the pool', 'ttl': 300}])
    assert 'pushed' in _containers(west, rest.project)
    subscriber.ws.settimeout(10)
    try:
        doc = subscriber.recv()
    except websocket.WebSocketTimeoutException:
        pytest.fail('no push within 10 s')
    assert doc['id'] == mid and doc['body'] == 'to the pool'
    status, body = subscriber.call('message_list', {'queue_name': 'pushed', 'echo': True})
    assert status == 200 and [m['id'] for m in body['messages']] == [mid]
