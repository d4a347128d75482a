"""Topics (``/v2/topics``) against the real local Swift, through the API
process: Zaqar's wire shapes, a topic's messages, purge, the name space
of topics apart from queues', tenancy, bad input; and fan-out of posted
messages to a topic's webhook subscribers (a real HTTP receiver), with a
retry after the receiver failed.
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from functional.helpers import JSON_PATCH, Tenant, assert_json_error, describe, wait_until
from functional.helpers import answer_confirmation, message_id, next_href
from zaqar_swift.storage.swift import naming
from zaqar_swift.testing import processes
from zaqar_swift.storage.swift.client import SwiftClient

RESERVED = {'_max_messages_post_size': 262144, '_default_message_ttl': 3600,
            '_default_message_delay': 0}
FAST = {'poll_interval': 0.2, 'index_interval': 1.0, 'lease_ttl': 5.0, 'timeout': 5.0,
        'window': 5.0}
QUICK_RETRIES = {'retries_with_no_delay': 1, 'minimum_delay_retries': 2, 'minimum_delay': 1,
                 'maximum_delay': 11, 'maximum_delay_retries': 2,
                 'retry_backoff_function': 'linear'}


def _topic(t: Tenant, name: str, metadata: dict | None = None) -> None:
    resp = t.put('/v2/topics/' + name, json=metadata or {})
    assert resp.status_code == 201, describe(resp)


def _post(t: Tenant, topic: str, *bodies: object, ttl: int = 300) -> list[str]:
    resp = t.post('/v2/topics/%s/messages' % topic,
                  json={'messages': [{'body': b, 'ttl': ttl} for b in bodies]})
    assert resp.status_code == 201, describe(resp)
    return [message_id(h) for h in resp.json()['resources']]


def _stats(t: Tenant, topic: str) -> dict:
    resp = t.get('/v2/topics/%s/stats' % topic)
    assert resp.status_code == 200, describe(resp)
    return resp.json()['messages']


# -- topics ------------------------------------------------------------------------------
def test_create_get_update_list_delete_as_zaqar(api):
    t = Tenant(api.url)
    resp = t.put('/v2/topics/news', json={'color': 'blue', '_default_message_ttl': 120})
    assert resp.status_code == 201, describe(resp)
    assert resp.headers['Location'].endswith('/v2/topics/news')
    assert t.put('/v2/topics/news', json={'color': 'red'}).status_code == 204
    assert t.put('/v2/topics/bare').status_code == 201         # no body

    resp = t.get('/v2/topics/news')
    assert resp.status_code == 200, describe(resp)
    assert resp.json() == dict(RESERVED, color='blue', _default_message_ttl=120)
    assert t.get('/v2/topics/missing').json() == RESERVED     # 200, as Zaqar

    patch = [{'op': 'replace', 'path': '/metadata/color', 'value': 'green'},
             {'op': 'add', 'path': '/metadata/size', 'value': 3}]
    resp = t.patch('/v2/topics/news', json=patch, headers={'Content-Type': JSON_PATCH})
    assert resp.status_code == 200, describe(resp)
    assert resp.json() == dict(RESERVED, color='green', size=3, _default_message_ttl=120)
    assert t.get('/v2/topics/news').json()['size'] == 3

    resp = t.get('/v2/topics')
    assert resp.status_code == 200, describe(resp)
    doc = resp.json()
    assert doc['topics'] == [{'name': 'bare', 'href': '/v2/topics/bare'},
                             {'name': 'news', 'href': '/v2/topics/news'}]
    assert 'count' not in doc
    assert next_href(doc).startswith('/v2/topics?') and 'marker=news' in next_href(doc)
    after = t.get(next_href(doc)).json()
    assert after == {'topics': [], 'links': []}

    detailed = t.get('/v2/topics', params={'detailed': 'true', 'name': 'ew'}).json()
    assert detailed['topics'] == [{'name': 'news', 'href': '/v2/topics/news', 'metadata':
                                   dict(RESERVED, color='green', size=3,
                                        _default_message_ttl=120)}]
    assert t.get('/v2/topics', params={'limit': 1}).json()['topics'][0]['name'] == 'bare'

    assert t.delete('/v2/topics/news').status_code == 204
    assert t.delete('/v2/topics/news').status_code == 204      # missing: no error
    assert [x['name'] for x in t.get('/v2/topics').json()['topics']] == ['bare']
    assert t.get('/v2/topics/news').json() == RESERVED


def test_patch_errors_as_zaqar(api):
    t = Tenant(api.url)
    replace = [{'op': 'replace', 'path': '/metadata/nope', 'value': 1}]
    resp = t.patch('/v2/topics/ghost', json=replace, headers={'Content-Type': JSON_PATCH})
    assert assert_json_error(resp, 404)['title'] == 'Topic not found'
    _topic(t, 'patched')
    resp = t.patch('/v2/topics/patched', json=replace, headers={'Content-Type': JSON_PATCH})
    assert_json_error(resp, 409)
    resp = t.patch('/v2/topics/patched', json=replace)           # not a json-patch type
    assert_json_error(resp, 415)
    resp = t.patch('/v2/topics/patched', headers={'Content-Type': JSON_PATCH})
    assert_json_error(resp, 400)                                 # no body


# -- messages ----------------------------------------------------------------------------
def test_messages_of_a_topic(api):
    t = Tenant(api.url)
    resp = t.post('/v2/topics/nowhere/messages', json={'messages': [{'body': 1}]})
    assert assert_json_error(resp, 404)['title'] == 'Topic not found'
    assert t.get('/v2/topics').json()['topics'] == []           # and not created
    _topic(t, 'feed')
    resp = t.post('/v2/topics/feed/messages',
                  json={'messages': [{'body': {'n': 0}, 'ttl': 300}, {'body': {'n': 1}}]})
    assert resp.status_code == 201, describe(resp)
    hrefs = resp.json()['resources']
    ids = [message_id(h) for h in hrefs]
    assert hrefs == ['/v2/topics/feed/messages/' + i for i in ids]
    assert resp.headers['Location'].endswith('/v2/topics/feed/messages?ids=' + ','.join(ids))

    listed = t.get('/v2/topics/feed/messages', params={'echo': 'true'}).json()
    assert [(m['id'], m['href'], m['body']) for m in listed['messages']] == [
        (i, '/v2/topics/feed/messages/' + i, {'n': n}) for n, i in enumerate(ids)]
    assert listed['messages'][1]['ttl'] == 3600                  # the topic's default
    assert t.get('/v2/topics/feed/messages').json()['messages'] == []   # own, no echo
    assert len(t.peer().get('/v2/topics/feed/messages').json()['messages']) == 2

    one = t.get('/v2/topics/feed/messages/' + ids[0]).json()
    assert one['href'] == '/v2/topics/feed/messages/' + ids[0] and one['body'] == {'n': 0}
    some = t.get('/v2/topics/feed/messages', params={'ids': ','.join(ids)}).json()
    assert [m['id'] for m in some['messages']] == ids

    stats = _stats(t, 'feed')
    assert (stats['total'], stats['free'], stats['claimed']) == (2, 2, 0)
    assert stats['oldest']['href'] == '/v2/topics/feed/messages/' + ids[0]
    assert stats['newest']['href'] == '/v2/topics/feed/messages/' + ids[1]

    assert t.delete('/v2/topics/feed/messages/' + ids[0]).status_code == 204
    assert_json_error(t.get('/v2/topics/feed/messages/' + ids[0]), 404)
    popped = t.delete('/v2/topics/feed/messages', params={'pop': 5})
    assert popped.status_code == 200, describe(popped)
    assert [m['id'] for m in popped.json()['messages']] == [ids[1]]
    assert _stats(t, 'feed')['total'] == 0
    # No claims on topics: the route does not exist.
    assert_json_error(t.post('/v2/topics/feed/claims', json={'ttl': 60}), 404, 405)


def test_stats_of_a_missing_topic_and_purge(api):
    t = Tenant(api.url)
    assert t.get('/v2/topics/none/stats').json() == {
        'messages': {'claimed': 0, 'free': 0, 'total': 0}}
    _topic(t, 'purged')
    _post(t, 'purged', 1, 2, 3)
    resp = t.post('/v2/topics/purged/subscriptions',
                  json={'subscriber': 'http://127.0.0.1:9/x', 'ttl': 3600})
    assert resp.status_code == 201, describe(resp)
    assert _stats(t, 'purged')['total'] == 3

    resp = t.post('/v2/topics/purged/purge', json={'resource_types': ['messages']})
    assert resp.status_code == 204, describe(resp)
    assert _stats(t, 'purged') == {'claimed': 0, 'free': 0, 'delayed': 0, 'total': 0}
    subs = t.get('/v2/topics/purged/subscriptions').json()['subscriptions']
    assert len(subs) == 1 and subs[0]['source'] == 'purged'

    assert t.post('/v2/topics/purged/purge').status_code == 204   # everything
    assert t.get('/v2/topics/purged/subscriptions').json()['subscriptions'] == []
    assert t.get('/v2/topics/purged').status_code == 200          # the topic stays
    assert [x['name'] for x in t.get('/v2/topics').json()['topics']] == ['purged']
    after = _post(t, 'purged', 'again')
    assert [m['id'] for m in t.peer().get('/v2/topics/purged/messages').json()['messages']] \
        == after


def test_a_subscription_creates_its_topic_as_zaqar(api):
    t = Tenant(api.url)
    resp = t.post('/v2/topics/lazy/subscriptions',
                  json={'subscriber': 'http://127.0.0.1:9/lazy', 'ttl': 3600})
    assert resp.status_code == 201, describe(resp)
    sid = resp.json()['subscription_id']
    assert [x['name'] for x in t.get('/v2/topics').json()['topics']] == ['lazy']
    assert t.get('/v2/queues').json()['queues'] == []
    sub = t.get('/v2/topics/lazy/subscriptions/' + sid).json()
    assert (sub['source'], sub['ttl']) == ('lazy', 3600)
    assert_json_error(t.get('/v2/queues/lazy/subscriptions/' + sid), 404)
    resp = t.patch('/v2/topics/lazy/subscriptions/' + sid, json={'ttl': 7200})
    assert resp.status_code == 204, describe(resp)
    assert t.get('/v2/topics/lazy/subscriptions/' + sid).json()['ttl'] == 7200
    assert t.delete('/v2/topics/lazy/subscriptions/' + sid).status_code == 204
    assert_json_error(t.get('/v2/topics/lazy/subscriptions/' + sid), 404)


def test_a_topic_and_a_queue_of_one_name_stay_apart(api):
    t = Tenant(api.url)
    t.create_queue('same', {'kind': 'queue'})
    _topic(t, 'same', {'kind': 'topic'})
    queued = t.post_messages('same', [{'body': 'q', 'ttl': 300}])
    published = _post(t, 'same', 't1', 't2')
    assert t.get('/v2/queues/same').json()['kind'] == 'queue'
    assert t.get('/v2/topics/same').json()['kind'] == 'topic'
    peer = t.peer()
    assert [m['id'] for m in peer.get('/v2/queues/same/messages').json()['messages']] == queued
    assert [m['id'] for m in peer.get('/v2/topics/same/messages').json()['messages']] \
        == published
    assert_json_error(t.get('/v2/topics/same/messages/' + queued[0]), 404)
    assert t.stats('same')['total'] == 1 and _stats(t, 'same')['total'] == 2
    assert [q['name'] for q in t.get('/v2/queues').json()['queues']] == ['same']
    assert [x['name'] for x in t.get('/v2/topics').json()['topics']] == ['same']

    t.post('/v2/topics/same/subscriptions',
           json={'subscriber': 'http://127.0.0.1:9/t', 'ttl': 3600})
    assert t.get('/v2/queues/same/subscriptions').json()['subscriptions'] == []

    assert t.delete('/v2/topics/same').status_code == 204
    assert [m['id'] for m in peer.get('/v2/queues/same/messages').json()['messages']] == queued
    assert t.get('/v2/queues/same').json()['kind'] == 'queue'
    assert t.get('/v2/topics').json()['topics'] == []


def test_projects_do_not_see_each_others_topics(api):
    a, b = Tenant(api.url), Tenant(api.url)
    _topic(a, 'private', {'owner': 'a'})
    _post(a, 'private', 'secret')
    assert b.get('/v2/topics').json()['topics'] == []
    assert 'owner' not in b.get('/v2/topics/private').json()
    assert b.get('/v2/topics/private/stats').json()['messages']['total'] == 0
    assert b.get('/v2/topics/private/messages').json()['messages'] == []
    assert_json_error(b.post('/v2/topics/private/messages', json={'messages': [{'body': 1}]}),
                      404)
    assert b.delete('/v2/topics/private').status_code == 204
    assert _stats(a, 'private')['total'] == 1


@pytest.mark.parametrize('method,path,kwargs,status', [
    ('PUT', '/v2/topics/bad%20name', {}, 400),
    ('PUT', '/v2/topics/' + 'x' * 65, {}, 400),
    ('PUT', '/v2/topics/t', {'json': {'_default_message_ttl': 'soon'}}, 400),
    ('PUT', '/v2/topics/t', {'data': b'{not json'}, 400),
    ('PUT', '/v2/topics/t', {'json': [1, 2]}, 400),
    ('GET', '/v2/topics/bad%20name', {}, 400),
    ('GET', '/v2/topics?limit=0', {}, 400),
    ('GET', '/v2/topics?limit=1001', {}, 400),
    ('POST', '/v2/topics/t/purge', {'json': {'resource_types': ['claims']}}, 400),
    ('POST', '/v2/topics/t/messages', {'json': {'nothing': []}}, 400),
    ('POST', '/v2/topics/t/messages', {'json': {'messages': [{'ttl': 'x', 'body': 1}]}}, 400),
    ('POST', '/v2/topics/t/subscriptions', {'json': {'subscriber': 'nope'}}, 400),
    ('DELETE', '/v2/topics/t/messages?pop=0', {}, 400),
    ('GET', '/v2/topics/t/messages?limit=100', {}, 400),
    ('GET', '/v2/topics/t/subscriptions/nope', {}, 404),
])
def test_bad_input_is_a_4xx_json_error(api, method, path, kwargs, status):
    t = Tenant(api.url)
    t.put('/v2/topics/t')
    doc = assert_json_error(t.request(method, path, **kwargs), status)
    if 'name' in path or 'x' * 65 in path:
        assert 'opic' in doc['description'], doc


# -- fan-out -----------------------------------------------------------------------------
@pytest.fixture(scope='module')
def notify_api(api_factory):
    api = api_factory(notification=FAST, swift={'container_prefix': 'ztopics'})
    yield api
    api.stop()


def test_each_message_posted_to_a_topic_reaches_its_subscribers(notify_api, receivers):
    t = Tenant(notify_api.url)
    first, second, queue_hook = receivers(), receivers(), receivers()
    _topic(t, 'alerts')
    for hook in (first, second):
        resp = t.post('/v2/topics/alerts/subscriptions',
                      json={'subscriber': hook.url, 'ttl': 3600})
        assert resp.status_code == 201, describe(resp)
    resp = t.post('/v2/queues/alerts/subscriptions',
                  json={'subscriber': queue_hook.url, 'ttl': 3600})
    assert resp.status_code == 201, describe(resp)
    started = time.monotonic()
    for n in range(0, 6, 2):
        _post(t, 'alerts', {'n': n}, {'n': n + 1}, ttl=120)
    wait_until(lambda: all(sorted(h.numbers()) == list(range(6)) for h in (first, second)),
               30, what='six notifications at each topic subscriber')
    print('\ntopic fan-out: 6 messages at 2 subscribers in %.2f s'
          % (time.monotonic() - started))
    # batches go out side by side (max_per_subscriber): any order across POSTs
    assert [b for b in first.bodies() if b['body']['n'] == 0] == [
        {'body': {'n': 0}, 'ttl': 120, 'queue_name': 'alerts', 'Message_Type': 'Notification'}]
    t.post_messages('alerts', [{'body': {'n': 100}, 'ttl': 120}])   # the queue
    wait_until(lambda: queue_hook.numbers() == [100], 30, what='the queue notification')
    time.sleep(1.0)
    assert sorted(first.numbers()) == list(range(6))              # no queue message
    assert sorted(second.numbers()) == list(range(6))


def test_a_failing_subscriber_is_retried_until_it_gets_everything(notify_api, receivers):
    t = Tenant(notify_api.url)
    # 500 for the first 10 s of its life: long enough to fail the first
    # deliveries even on a loaded machine.
    flaky = receivers({'status': 200, 'fail_for': 10, 'fail_status': 500})
    _topic(t, 'flaky')
    resp = t.post('/v2/topics/flaky/subscriptions', json={
        'subscriber': flaky.url, 'ttl': 3600, 'options': {'_retry_policy': QUICK_RETRIES}})
    assert resp.status_code == 201, describe(resp)
    _post(t, 'flaky', {'n': 0}, {'n': 1}, ttl=300)
    _post(t, 'flaky', {'n': 2}, ttl=300)
    wait_until(lambda: flaky.attempts, 30, what='a first delivery attempt')
    assert time.time() - flaky.started < 10, 'the machine is too slow for this test'
    wait_until(lambda: sorted(set(flaky.numbers())) == [0, 1, 2], 90,
               what='every message after the subscriber recovered')
    assert flaky.attempts > len(flaky.received)                   # it failed at first
    print('\nflaky topic subscriber: %d attempts, %d deliveries'
          % (flaky.attempts, len(flaky.received)))


def test_a_topic_subscription_is_confirmed_through_its_own_presigned_url(api_factory,
                                                                         receivers):
    api = api_factory(notification=dict(FAST, require_confirmation=True),
                      signed_url={'secret_key': 'topic-key'},
                      swift={'container_prefix': 'ztconfirm'})
    try:
        t = Tenant(api.url)
        hook = receivers()
        _topic(t, 'gated')
        resp = t.post('/v2/topics/gated/subscriptions',
                      json={'subscriber': hook.url, 'ttl': 3600})
        assert resp.status_code == 201, describe(resp)
        sid = resp.json()['subscription_id']
        wait_until(lambda: hook.received, 10, what='a confirmation request')
        request = hook.bodies()[0]
        assert request['Message_Type'] == 'SubscriptionConfirmation'
        assert request['URL-Paths'] == '/v2/topics/gated/subscriptions/%s/confirm' % sid
        _post(t, 'gated', {'n': 0})
        time.sleep(2.0)
        assert hook.numbers() == []                       # nothing before confirmation
        resp = answer_confirmation(api.url, request)
        assert resp.status_code == 204, describe(resp)
        assert t.get('/v2/topics/gated/subscriptions/' + sid).json()['confirmed'] is True
        _post(t, 'gated', {'n': 1})
        wait_until(lambda: hook.numbers() == [1], 30, what='a notification once confirmed')
    finally:
        api.stop()


def test_topics_of_a_project_live_in_its_own_account_per_project(api_factory, swift):
    api = api_factory(swift={'layout': 'per_project', 'reseller_prefix': 'AUTH_'})
    try:
        a, b = Tenant(api.url), Tenant(api.url)
        _topic(a, 'own')
        a.create_queue('own')
        _post(a, 'own', {'n': 1})
        assert b.get('/v2/topics').json()['topics'] == []
        assert_json_error(b.post('/v2/topics/own/messages', json={'messages': [{'body': 1}]}),
                          404)
        client = SwiftClient.v1(swift.auth_url, swift.user, swift.key)
        _, rows = client.list_containers('AUTH_' + a.project)
        names = {row['name'] for row in rows}
        assert {naming.topic_catalog_container('zaqar', a.project),
                naming.topic_container('zaqar', a.project, 'own'),
                naming.catalog_container('zaqar', a.project)} <= names
        assert naming.queue_container('zaqar', a.project, 'own') not in names   # no POST
    finally:
        api.stop()


def test_purge_project_removes_the_projects_topics(api, swift, tmp_path):
    conf = swift.write_api_conf(str(tmp_path / 'm.conf'))
    t = Tenant(api.url)
    _topic(t, 'gone')
    _post(t, 'gone', {'n': 1})
    t.create_queue('kept-by-nobody')
    done = subprocess.run([sys.executable, '-m', 'zaqar_swift.cmd.manage', '--config-file',
                           conf, 'purge-project', t.project, '--yes'], capture_output=True,
                          text=True, timeout=120, env=processes.python_env())
    assert done.returncode == 0, done.stderr[-3000:]
    # the queue catalog, the topic catalog and the topic's container
    assert 'Deleted 3 containers' in done.stdout, done.stdout
    assert t.get('/v2/topics').json()['topics'] == []
