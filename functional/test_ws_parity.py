"""REST and websocket accept and refuse exactly the same input: each
operation, with good and bad input, goes through both transports (one
project, one Client-ID, one queue state) and gets the same status and the
same body, once the websocket's own fields are taken out (see
``transport/websocket/render.py``: ``error``, ``message_ids``, a claim's
``claim_id``, a message's ``claim_id``, ``message_get``'s envelope)."""
from __future__ import annotations

import json
from typing import Any

import pytest

try:
    from functional import helpers as h
    from functional.wsclient import WsClient
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h
    from wsclient import WsClient

Q = '/v2/queues/par'
BIG = 'a' * 270000
DEEP: Any = 1
for _ in range(40):
    DEEP = [DEEP]


def compact(document: Any) -> str:
    """The JSON text the websocket side measures (sizes are compared)."""
    return json.dumps(document, separators=(',', ':'))


def rest_json(document: Any, **extra: Any) -> dict[str, Any]:
    return dict(data=compact(document), headers={'Content-Type': 'application/json'}, **extra)


PATCH = {'Content-Type': 'application/openstack-messaging-v2.0-json-patch'}

# name: ((method, path, requests kwargs), (action, body)); {m0}.. {c} are
# the fixture's message ids and claim id.
CASES: dict[str, tuple[tuple, tuple]] = {
    # queues
    'queue_create bad name': (('PUT', '/v2/queues/bad*name', {}),
                              ('queue_create', {'queue_name': 'bad*name'})),
    'queue_create long name': (('PUT', '/v2/queues/' + 'n' * 65, {}),
                               ('queue_create', {'queue_name': 'n' * 65})),
    'queue_create dot name': (('PUT', '/v2/queues/%2E%2E', {}),
                              ('queue_create', {'queue_name': '..'})),
    'queue_create list metadata': (('PUT', '/v2/queues/pq', rest_json([1])),
                                   ('queue_create', {'queue_name': 'pq', 'metadata': [1]})),
    'queue_create bad reserved': (
        ('PUT', '/v2/queues/pq', rest_json({'_default_message_ttl': 'x'})),
        ('queue_create', {'queue_name': 'pq', 'metadata': {'_default_message_ttl': 'x'}})),
    'queue_create metadata too large': (
        ('PUT', '/v2/queues/pq', rest_json({'x': BIG[:70000]})),
        ('queue_create', {'queue_name': 'pq', 'metadata': {'x': BIG[:70000]}})),
    'queue_create too deep': (('PUT', '/v2/queues/pq', rest_json({'x': DEEP})),
                              ('queue_create', {'queue_name': 'pq', 'metadata': {'x': DEEP}})),
    'queue_get': (('GET', Q, {}), ('queue_get', {'queue_name': 'par'})),
    'queue_get missing': (('GET', '/v2/queues/nowhere', {}),
                          ('queue_get', {'queue_name': 'nowhere'})),
    'queue_list': (('GET', '/v2/queues', {'params': {'detailed': 'true', 'with_count': 'true'}}),
                   ('queue_list', {'detailed': True, 'with_count': True})),
    'queue_list limit 0': (('GET', '/v2/queues', {'params': {'limit': 0}}),
                           ('queue_list', {'limit': 0})),
    'queue_list limit 21': (('GET', '/v2/queues', {'params': {'limit': 21}}),
                            ('queue_list', {'limit': 21})),
    'queue_update bad op': (
        ('PATCH', Q, dict(data=compact([{'op': 'move', 'path': '/metadata/a'}]), headers=PATCH)),
        ('queue_update', {'queue_name': 'par', 'patch': [{'op': 'move',
                                                          'path': '/metadata/a'}]})),
    'queue_update missing queue': (
        ('PATCH', '/v2/queues/nowhere', dict(data=compact(
            [{'op': 'add', 'path': '/metadata/a', 'value': 1}]), headers=PATCH)),
        ('queue_update', {'queue_name': 'nowhere', 'patch': [
            {'op': 'add', 'path': '/metadata/a', 'value': 1}]})),
    'queue_update': (
        ('PATCH', Q, dict(data=compact([{'op': 'add', 'path': '/metadata/a', 'value': 1}]),
                          headers=PATCH)),
        ('queue_update', {'queue_name': 'par', 'patch': [
            {'op': 'add', 'path': '/metadata/a', 'value': 1}]})),
    'queue_get_stats bad name': (('GET', '/v2/queues/bad*name/stats', {}),
                                 ('queue_get_stats', {'queue_name': 'bad*name'})),
    'queue_purge bad types': (('POST', Q + '/purge', rest_json({'resource_types': ['x']})),
                              ('queue_purge', {'queue_name': 'par', 'resource_types': ['x']})),
    'queue_delete bad name': (('DELETE', '/v2/queues/bad*name', {}),
                              ('queue_delete', {'queue_name': 'bad*name'})),
    # messages
    'message_post no messages': (('POST', Q + '/messages', rest_json({})),
                                 ('message_post', {'queue_name': 'par'})),
    'message_post not a list': (('POST', Q + '/messages', rest_json({'messages': 3})),
                                ('message_post', {'queue_name': 'par', 'messages': 3})),
    'message_post short ttl': (
        ('POST', Q + '/messages', rest_json({'messages': [{'body': 1, 'ttl': 5}]})),
        ('message_post', {'queue_name': 'par', 'messages': [{'body': 1, 'ttl': 5}]})),
    'message_post no body': (
        ('POST', Q + '/messages', rest_json({'messages': [{'ttl': 60}]})),
        ('message_post', {'queue_name': 'par', 'messages': [{'ttl': 60}]})),
    'message_post too many': (
        ('POST', Q + '/messages', rest_json({'messages': [{'body': i} for i in range(21)]})),
        ('message_post', {'queue_name': 'par', 'messages': [{'body': i} for i in range(21)]})),
    'message_post huge integer': (
        ('POST', Q + '/messages', rest_json({'messages': [{'body': 2 ** 64}]})),
        ('message_post', {'queue_name': 'par', 'messages': [{'body': 2 ** 64}]})),
    'message_post NaN': (
        ('POST', Q + '/messages', rest_json({'messages': [{'body': float('nan')}]})),
        ('message_post', {'queue_name': 'par', 'messages': [{'body': float('nan')}]})),
    'message_post too deep': (
        ('POST', Q + '/messages', rest_json({'messages': [{'body': DEEP}]})),
        ('message_post', {'queue_name': 'par', 'messages': [{'body': DEEP}]})),
    'message_post over the post limit': (
        ('POST', '/v2/queues/small/messages', rest_json({'messages': [{'body': BIG[:2000]}]})),
        ('message_post', {'queue_name': 'small', 'messages': [{'body': BIG[:2000]}]})),
    'message_post larger than any request': (
        ('POST', Q + '/messages', rest_json({'messages': [{'body': BIG[:262200]}]})),
        ('message_post', {'queue_name': 'par', 'messages': [{'body': BIG[:262200]}]})),
    'message_list': (('GET', Q + '/messages', {'params': {'echo': 'true',
                                                          'include_claimed': 'true'}}),
                     ('message_list', {'queue_name': 'par', 'echo': True,
                                       'include_claimed': True})),
    'message_list limit 0': (('GET', Q + '/messages', {'params': {'limit': 0}}),
                             ('message_list', {'queue_name': 'par', 'limit': 0})),
    'message_list limit 21': (('GET', Q + '/messages', {'params': {'limit': 21}}),
                              ('message_list', {'queue_name': 'par', 'limit': 21})),
    'message_get': (('GET', Q + '/messages/{m2}', {}),
                    ('message_get', {'queue_name': 'par', 'message_id': '{m2}'})),
    'message_get claimed': (('GET', Q + '/messages/{m0}', {}),
                            ('message_get', {'queue_name': 'par', 'message_id': '{m0}'})),
    'message_get unknown': (('GET', Q + '/messages/' + 'f' * 24, {}),
                            ('message_get', {'queue_name': 'par', 'message_id': 'f' * 24})),
    'message_get not an id': (('GET', Q + '/messages/zzz', {}),
                              ('message_get', {'queue_name': 'par', 'message_id': 'zzz'})),
    'message_get_many': (('GET', Q + '/messages', {'params': {'ids': '{m1},{m2}'}}),
                         ('message_get_many', {'queue_name': 'par',
                                               'message_ids': ['{m1}', '{m2}']})),
    'message_get_many none found': (
        ('GET', Q + '/messages', {'params': {'ids': 'f' * 24}}),
        ('message_get_many', {'queue_name': 'par', 'message_ids': ['f' * 24]})),
    'message_get_many too many': (
        ('GET', Q + '/messages', {'params': {'ids': ','.join('%024x' % i for i in range(21))}}),
        ('message_get_many', {'queue_name': 'par',
                              'message_ids': ['%024x' % i for i in range(21)]})),
    'message_delete claimed': (('DELETE', Q + '/messages/{m0}', {}),
                               ('message_delete', {'queue_name': 'par', 'message_id': '{m0}'})),
    'message_delete wrong claim': (
        ('DELETE', Q + '/messages/{m0}', {'params': {'claim_id': 'f' * 24}}),
        ('message_delete', {'queue_name': 'par', 'message_id': '{m0}', 'claim_id': 'f' * 24})),
    'message_delete unknown': (
        ('DELETE', Q + '/messages/' + 'f' * 24, {}),
        ('message_delete', {'queue_name': 'par', 'message_id': 'f' * 24})),
    'message_delete_many neither': (('DELETE', Q + '/messages', {}),
                                    ('message_delete_many', {'queue_name': 'par'})),
    'message_delete_many both': (
        ('DELETE', Q + '/messages', {'params': {'ids': '{m1}', 'pop': 1}}),
        ('message_delete_many', {'queue_name': 'par', 'message_ids': ['{m1}'], 'pop': 1})),
    'message_delete_many pop 0': (('DELETE', Q + '/messages', {'params': {'pop': 0}}),
                                  ('message_delete_many', {'queue_name': 'par', 'pop': 0})),
    'message_delete_many pop 21': (('DELETE', Q + '/messages', {'params': {'pop': 21}}),
                                   ('message_delete_many', {'queue_name': 'par', 'pop': 21})),
    'message_delete_many claimed': (
        ('DELETE', Q + '/messages', {'params': {'ids': '{m0}', 'claim_ids': 'f' * 24}}),
        ('message_delete_many', {'queue_name': 'par', 'message_ids': ['{m0}'],
                                 'claim_ids': ['f' * 24]})),
    # claims
    'claim_create short ttl': (('POST', Q + '/claims', rest_json({'ttl': 5})),
                               ('claim_create', {'queue_name': 'par', 'ttl': 5})),
    'claim_create null grace': (('POST', Q + '/claims', rest_json({'grace': None})),
                                ('claim_create', {'queue_name': 'par', 'grace': None})),
    'claim_create limit 0': (('POST', Q + '/claims', {'params': {'limit': 0}}),
                             ('claim_create', {'queue_name': 'par', 'limit': 0})),
    'claim_create limit 21': (('POST', Q + '/claims', {'params': {'limit': 21}}),
                              ('claim_create', {'queue_name': 'par', 'limit': 21})),
    'claim_create empty queue': (('POST', '/v2/queues/empty/claims', {}),
                                 ('claim_create', {'queue_name': 'empty'})),
    'claim_get': (('GET', Q + '/claims/{c}', {}),
                  ('claim_get', {'queue_name': 'par', 'claim_id': '{c}'})),
    'claim_get unknown': (('GET', Q + '/claims/' + 'f' * 24, {}),
                          ('claim_get', {'queue_name': 'par', 'claim_id': 'f' * 24})),
    'claim_update no ttl': (('PATCH', Q + '/claims/' + 'f' * 24, rest_json({})),
                            ('claim_update', {'queue_name': 'par', 'claim_id': 'f' * 24})),
    'claim_update long ttl': (
        ('PATCH', Q + '/claims/{c}', rest_json({'ttl': 10 ** 6})),
        ('claim_update', {'queue_name': 'par', 'claim_id': '{c}', 'ttl': 10 ** 6})),
    'claim_update unknown': (
        ('PATCH', Q + '/claims/' + 'f' * 24, rest_json({'ttl': 60})),
        ('claim_update', {'queue_name': 'par', 'claim_id': 'f' * 24, 'ttl': 60})),
    'claim_delete unknown': (('DELETE', Q + '/claims/' + 'f' * 24, {}),
                             ('claim_delete', {'queue_name': 'par', 'claim_id': 'f' * 24})),
    # headers
    'no Client-ID': (('GET', Q, {'headers': {'Client-ID': None}}),
                     ('queue_get', {'queue_name': 'par'}, {'Client-ID': None})),
    'bad Client-ID': (('GET', Q, {'headers': {'Client-ID': 'not-a-uuid'}}),
                      ('queue_get', {'queue_name': 'par'}, {'Client-ID': 'not-a-uuid'})),
    'no project': (('GET', Q, {'headers': {'X-Project-ID': None}}),
                   ('queue_get', {'queue_name': 'par'}, {'X-Project-ID': None})),
    'health not admin': (('GET', '/v2/health', {}), ('health', {})),
    'ping': (('GET', '/v2/ping', {}), ('ping', {})),
}


@pytest.fixture(scope='module')
def state(api, ws):
    rest = h.Tenant(api.url)
    rest.create_queue('small', {'_max_messages_post_size': 1000})
    ids = rest.post_messages('par', [{'body': {'n': n}, 'ttl': 600} for n in range(3)])
    claim_id, _ = rest.claim('par', limit=1)
    client = WsClient(ws.url, project=rest.project, client_id=rest.client_id)
    yield rest, client, dict(m0=ids[0], m1=ids[1], m2=ids[2], c=claim_id)
    client.close()


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names) if '{' in value else value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _ws_headers(client: WsClient, override: dict | None) -> dict[str, str]:
    headers = client.headers()
    for key, value in (override or {}).items():
        headers.pop(key) if value is None else headers.__setitem__(key, value)
    return headers


def _as_rest(action: str, body: Any) -> Any:
    """A websocket body without the websocket's own fields."""
    if not isinstance(body, dict):
        return body
    body = {k: v for k, v in body.items() if k not in ('error', 'message_ids', 'claim_id')}
    if action == 'message_get' and 'messages' in body:
        body = body['messages']
        body.pop('claim_id', None)
    for message in body.get('messages', []) if isinstance(body.get('messages'), list) else []:
        message.pop('claim_id', None)
    return body


def _both(state, case):
    rest, client, names = state
    (method, path, kwargs), (action, body, *override) = _fill(case, names)
    resp = rest.request(method, path, **kwargs)
    status, ws_body = client.call(action, body, _ws_headers(client, override[0] if override
                                                            else None))
    rest_body = resp.json() if resp.content else {}
    return (resp.status_code, rest_body), (status, _as_rest(action, ws_body))


@pytest.mark.parametrize('name', sorted(CASES))
def test_same_status_and_body(state, name):
    for _ in range(3):   # an age may tick between the two requests
        rest, ws = _both(state, CASES[name])
        if rest == ws:
            break
    assert ws == rest
    assert rest[0] < 500


def test_every_action_is_compared():
    from zaqar_swift.transport.websocket import actions
    compared = {case[1][0] for case in CASES.values()}
    assert set(actions.ACTIONS) <= compared
