"""Subscriptions over HTTP against the real local Swift: Zaqar v2's wire
behaviour (tempest's test_subscriptions*, Zaqar's unit tests' quirks),
paging, the lazy queue, purge and queue delete, isolation, and
python-zaqarclient's subscription calls."""
from __future__ import annotations

import pytest
from zaqarclient.queues.v2 import client as zaqar_client

from functional.helpers import Tenant, assert_json_error, describe, next_href

SUBSCRIBERS = ['http://fake:8080', 'https://fake:8080', 'mailto:fake@123.com']
SUB_FIELDS = {'id', 'source', 'subscriber', 'ttl', 'age', 'options', 'confirmed'}


def _path(queue: str, *rest: str) -> str:
    return '/'.join(['/v2/queues', queue, 'subscriptions'] + list(rest))


def _create(t: Tenant, queue: str, subscriber: str, status: int = 201, **body: object) -> str:
    resp = t.post(_path(queue), json=dict(body, subscriber=subscriber))
    assert resp.status_code == status, describe(resp)
    return resp.json()['subscription_id']


def _listing(t: Tenant, queue: str, **params: object) -> dict:
    resp = t.get(_path(queue), params=params)
    assert resp.status_code == 200, describe(resp)
    return resp.json()


def test_create_list_show_update_delete_as_tempest(api):
    t = Tenant(api.url)
    t.create_queue('tq')
    ids = [_create(t, 'tq', s, ttl=120, options={'MessagingKey': 'v'}) for s in SUBSCRIBERS]
    doc = _listing(t, 'tq')
    assert len(doc['subscriptions']) == 3 and len(doc['links']) == 1
    for sub in doc['subscriptions']:
        assert set(sub) == SUB_FIELDS and sub['source'] == 'tq' and sub['ttl'] == 120
    shown = t.get(_path('tq', ids[0])).json()
    assert shown['subscriber'] == 'http://fake:8080' and shown['options'] == {'MessagingKey': 'v'}
    resp = t.patch(_path('tq', ids[0]), json={'options': {'test': 'updated'}, 'ttl': 300})
    assert resp.status_code == 204, describe(resp)
    shown = t.get(_path('tq', ids[0])).json()
    assert shown['options'] == {'test': 'updated'} and shown['ttl'] == 300
    for sid in ids:
        assert t.delete(_path('tq', sid)).status_code == 204
    assert_json_error(t.get(_path('tq', ids[0])), 404)
    assert _listing(t, 'tq') == {'subscriptions': [], 'links': []}
    assert t.delete(_path('tq', ids[0])).status_code == 204          # again
    assert t.delete(_path('tq', '123')).status_code == 204            # not an id
    assert t.delete(_path('nowhere', ids[1])).status_code == 204      # no such queue


def test_duplicate_subscriber_is_201_until_confirmed_then_409(api):
    t = Tenant(api.url)
    first = _create(t, 'dq', 'http://fake:8080')
    assert _create(t, 'dq', 'http://fake:8080', ttl=293305) == first
    assert_json_error(t.put(_path('dq', first, 'confirm'), json={'confirmed': 123}), 400)
    assert_json_error(t.put(_path('dq', '0' * 24, 'confirm'), json={'confirmed': True}), 404)
    assert t.put(_path('dq', first, 'confirm'), json={'confirmed': True}).status_code == 204
    assert t.get(_path('dq', first)).json()['confirmed'] is True
    assert_json_error(t.post(_path('dq'), json={'subscriber': 'http://fake:8080'}), 409)
    assert t.put(_path('dq', first, 'confirm'), json={'confirmed': False}).status_code == 204
    assert _create(t, 'dq', 'http://fake:8080') == first


@pytest.mark.parametrize('body, words', [
    (None, 'Missing parameter subscriber'),
    ({'options': {'k': 'v'}, 'ttl': 120}, 'Missing parameter subscriber'),
    ({'subscriber': 'fake'}, 'must be supported in the list'),
    ({'subscriber': 'email://fake'}, 'must be supported in the list'),
    ({'subscriber': 'http://fake:8080', 'options': '123'}, 'must be a dict'),
    ({'subscriber': 'http://fake:8080', 'ttl': '123'}, 'ttl'),
    ({'subscriber': 'http://fake:8080', 'ttl': 59}, 'ttl'),
    ({'subscriber': 'http://fake:8080', 'options': {'_retry_policy': {'minimum_delay': 'x'}}},
     'minimum_delay'),
    ({'subscriber': 'http://fake:8080',
      'options': {'_retry_policy': {'retry_backoff_function': 'cubic'}}}, 'backoff'),
])
def test_create_refuses_bad_documents(api, body, words):
    t = Tenant(api.url)
    resp = t.post(_path('vq'), json=body) if body is not None else t.post(_path('vq'))
    assert words in assert_json_error(resp, 400)['description']


def test_update_rules(api):
    t = Tenant(api.url)
    sid = _create(t, 'uq', 'http://one:80')
    _create(t, 'uq', 'http://two:80')
    assert 'No subscription' in assert_json_error(t.patch(_path('uq', sid)), 400)['description']
    assert assert_json_error(t.patch(_path('uq', sid), json=[1]), 400)['description'] == \
        'Subscriptions must be a dict.'
    assert_json_error(t.patch(_path('uq', sid), json={'ttl': 50}), 400)
    assert_json_error(t.patch(_path('uq', sid), json={'ttl': 'invalid'}), 400)
    assert_json_error(t.patch(_path('uq', sid), json={'subscriber': 'http://two:80'}), 409)
    assert_json_error(t.patch(_path('uq', '0' * 24), json={'ttl': 100}), 404)
    assert_json_error(t.patch(_path('nowhere', sid), json={'ttl': 1000}), 404)
    assert t.patch(_path('uq', sid), json={'subscriber': 'http://three:80'}).status_code == 204
    assert t.get(_path('uq', sid)).json()['subscriber'] == 'http://three:80'
    assert_json_error(t.get(_path('uq', '123')), 404)
    assert_json_error(t.get(_path('nowhere', '123')), 404)
    assert _listing(t, 'never-made') == {'subscriptions': [], 'links': []}


def test_paging_follows_next_links_in_id_order(api):
    t = Tenant(api.url)
    ids = [_create(t, 'pq', 'http://host-%d:80' % i) for i in range(15)]
    assert ids == sorted(ids)
    seen, doc = [], _listing(t, 'pq', limit=4)
    while doc['subscriptions']:
        assert len(doc['subscriptions']) <= 4
        seen += [s['id'] for s in doc['subscriptions']]
        doc = t.get(next_href(doc)).json()
    assert seen == ids and doc['links'] == []
    after = _listing(t, 'pq', marker=ids[9])
    assert [s['id'] for s in after['subscriptions']] == ids[10:15]
    assert len(_listing(t, 'pq')['subscriptions']) == 10        # Zaqar's default page
    assert_json_error(t.get(_path('pq'), params={'limit': 21}), 400)


def test_post_creates_the_queue_lazily(api):
    t = Tenant(api.url)
    _create(t, 'lazy', 'http://fake:8080')
    names = [q['name'] for q in t.get('/v2/queues').json()['queues']]
    assert names == ['lazy']


def test_purge_drops_every_page_of_subscriptions_and_keeps_them_for_messages(api):
    t = Tenant(api.url)
    for i in range(25):
        _create(t, 'gq', 'http://host-%d:80' % i)
    t.post_bodies('gq', 3)
    resp = t.post('/v2/queues/gq/purge', json={'resource_types': ['messages']})
    assert resp.status_code == 204, describe(resp)
    assert len(_listing(t, 'gq', limit=20)['subscriptions']) == 20
    assert t.post('/v2/queues/gq/purge', json={'resource_types': ['subscriptions']}
                  ).status_code == 204
    assert _listing(t, 'gq') == {'subscriptions': [], 'links': []}
    sid = _create(t, 'gq', 'http://host-0:80')            # a new one after the purge
    t.post_bodies('gq', 2)
    assert t.post('/v2/queues/gq/purge').status_code == 204
    assert _listing(t, 'gq')['subscriptions'] == [] and t.listed_ids('gq') == []
    assert_json_error(t.get(_path('gq', sid)), 404)


def test_queue_delete_removes_subscriptions(api):
    t = Tenant(api.url)
    sid = _create(t, 'xq', 'http://fake:8080')
    assert t.delete('/v2/queues/xq').status_code == 204
    t.create_queue('xq')
    assert _listing(t, 'xq')['subscriptions'] == []
    assert_json_error(t.get(_path('xq', sid)), 404)


def test_projects_never_see_each_others_subscriptions(api):
    alice, bob = Tenant(api.url), Tenant(api.url)
    sid = _create(alice, 'shared-name', 'http://fake:8080')
    _create(bob, 'shared-name', 'http://other:8080')
    assert [s['subscriber'] for s in _listing(bob, 'shared-name')['subscriptions']] == \
        ['http://other:8080']
    assert_json_error(bob.get(_path('shared-name', sid)), 404)
    assert_json_error(bob.patch(_path('shared-name', sid), json={'ttl': 100}), 404)
    assert bob.delete(_path('shared-name', sid)).status_code == 204
    assert alice.get(_path('shared-name', sid)).status_code == 200


def test_python_zaqarclient_subscription_calls(api):
    project = Tenant(api.url).project
    client = zaqar_client.Client(api.url, version=2, conf={
        'auth_opts': {'backend': 'noauth', 'options': {'os_project_id': project}}})
    sub = client.subscription('zc', subscriber='http://fake:8080', ttl=600,
                              options={'k': 'v'})
    assert sub.id and sub.ttl == 600 and sub.options == {'k': 'v'}
    listed = list(client.subscriptions('zc'))
    assert [s.id for s in listed] == [sub.id] and listed[0].subscriber == 'http://fake:8080'
    sub.update({'ttl': 900})
    again = client.subscription('zc', id=sub.id, auto_create=True)
    assert again.ttl == 900
    sub.delete()
    assert list(client.subscriptions('zc')) == []
