"""Names from the URL never change a Swift path.

``.`` and ``..`` are legal characters of a Zaqar queue name but would be dot
segments of the Swift object path of the queue record, which HTTP libraries
collapse (``/v1/AUTH_x/zaqar.p/..`` becomes ``/v1/AUTH_x/``). Every route
refuses them with a 400 before Swift is called; a ``/`` (``%2F``) splits the
path before routing, so those requests match no route (404). Ids are checked
with full-string matches, so a trailing newline is no id either.

The requests are sent with ``http.client``: ``requests`` (urllib3) removes
dot segments from a URL before sending it.
"""
from __future__ import annotations

import http.client
import json
import uuid

import pytest

from zaqar_swift.storage.swift import client as swift_client
from zaqar_swift.storage.swift import naming

try:
    from functional import helpers as h
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h

CLAIM_ID = '0' * 24
MESSAGE_ID = '0' * 24
NAMES = ['.', '..', '%2E', '%2E%2E', '%2e%2E', '%2F', '..%2F..', '%2F..%2F..']

ROUTES = [
    ('PUT', '/v2/queues/{q}', None),
    ('GET', '/v2/queues/{q}', None),
    ('PATCH', '/v2/queues/{q}', [{'op': 'add', 'path': '/metadata/k', 'value': 1}]),
    ('DELETE', '/v2/queues/{q}', None),
    ('GET', '/v2/queues/{q}/stats', None),
    ('POST', '/v2/queues/{q}/purge', {'resource_types': ['messages']}),
    ('POST', '/v2/queues/{q}/messages', {'messages': [{'body': 1}]}),
    ('GET', '/v2/queues/{q}/messages', None),
    ('GET', '/v2/queues/{q}/messages?ids=' + MESSAGE_ID, None),
    ('DELETE', '/v2/queues/{q}/messages?ids=' + MESSAGE_ID, None),
    ('DELETE', '/v2/queues/{q}/messages?pop=1', None),
    ('GET', '/v2/queues/{q}/messages/' + MESSAGE_ID, None),
    ('DELETE', '/v2/queues/{q}/messages/' + MESSAGE_ID, None),
    ('POST', '/v2/queues/{q}/claims', {'ttl': 60, 'grace': 60}),
    ('GET', '/v2/queues/{q}/claims/' + CLAIM_ID, None),
    ('PATCH', '/v2/queues/{q}/claims/' + CLAIM_ID, {'ttl': 60}),
    ('DELETE', '/v2/queues/{q}/claims/' + CLAIM_ID, None),
]


def raw(api, tenant: h.Tenant, method: str, path: str, document=None
        ) -> tuple[int, dict[str, str], bytes]:
    """One request with ``path`` sent byte for byte."""
    conn = http.client.HTTPConnection('127.0.0.1', api.port, timeout=h.REQUEST_TIMEOUT)
    headers = {'X-Project-ID': tenant.project, 'Client-ID': tenant.client_id,
               'Accept': 'application/json'}
    body = None
    if document is not None:
        body = json.dumps(document).encode()
        headers['Content-Type'] = ('application/openstack-messaging-v2.0-json-patch'
                                   if isinstance(document, list) else 'application/json')
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def assert_refused(status: int, headers: dict[str, str], body: bytes, what: str) -> None:
    assert status in (400, 404), f'{what} -> {status} {body[:300]!r}'
    assert headers.get('content-type', '').startswith('application/json'), what
    doc = json.loads(body)
    assert doc.get('title') and isinstance(doc.get('description'), str), what


@pytest.mark.parametrize('name', NAMES)
def test_dot_segment_and_slash_queue_names_are_refused_on_every_route(api, name):
    t = h.Tenant(api.url)
    t.post_bodies('safe', 1)
    for method, template, document in ROUTES:
        path = template.format(q=name)
        status, headers, body = raw(api, t, method, path, document)
        assert_refused(status, headers, body, f'{method} {path}')
        if name in ('.', '..', '%2E', '%2E%2E', '%2e%2E'):
            assert status == 400, f'{method} {path} -> {status} {body[:300]!r}'
    # nothing reached another queue, the catalog or the account
    assert [q['name'] for q in t.get('/v2/queues').json()['queues']] == ['safe']
    assert t.stats('safe')['total'] == 1


ID_ROUTES = [
    ('GET', '/v2/queues/safe/messages/{i}', None, (404,)),
    ('DELETE', '/v2/queues/safe/messages/{i}', None, (204,)),
    ('DELETE', '/v2/queues/safe/messages/{i}?claim_id={i}', None, (204, 400, 403)),
    ('GET', '/v2/queues/safe/messages?ids={i}', None, (404,)),
    ('DELETE', '/v2/queues/safe/messages?ids={i}&claim_ids={i}', None, (204, 400)),
    ('GET', '/v2/queues/safe/claims/{i}', None, (404,)),
    ('PATCH', '/v2/queues/safe/claims/{i}', {'ttl': 60}, (404,)),
    ('DELETE', '/v2/queues/safe/claims/{i}', None, (204,)),
]


@pytest.mark.parametrize('name', NAMES)
def test_dot_segment_and_slash_ids_are_unknown_ids(api, name):
    """Message and claim ids are matched in full against what we generate,
    so these never reach a Swift path: unknown (404, or 204 for an
    idempotent delete), or no route (404)."""
    t = h.Tenant(api.url)
    t.post_bodies('safe', 2)
    t.claim('safe', limit=1)
    for method, template, document, statuses in ID_ROUTES:
        path = template.format(i=name)
        status, headers, body = raw(api, t, method, path, document)
        allowed = statuses + ((404,) if '%2F' in name else ())   # no route
        assert status in allowed, f'{method} {path} -> {status} {body[:300]!r}'
        if body:
            assert_refused(status, headers, body, f'{method} {path}')
    stats = t.stats('safe')
    assert (stats['total'], stats['claimed']) == (2, 1)


def test_dot_segment_stats_is_a_400_not_a_500(api):
    """The original report: ``GET /v2/queues/%2E%2E/stats`` was a 500."""
    t = h.Tenant(api.url)
    status, headers, body = raw(api, t, 'GET', '/v2/queues/%2E%2E/stats')
    assert status == 400, body
    assert 'queue' in json.loads(body)['description'].lower()


def test_queue_names_with_dots_inside_still_work(api):
    t = h.Tenant(api.url)
    for name in ('...', 'a.b', '.hidden', 'trailing.'):
        t.create_queue(name)
        t.post_bodies(name, 1)
        assert t.stats(name)['total'] == 1
    names = [q['name'] for q in t.get('/v2/queues', params={'limit': 20}).json()['queues']]
    assert sorted(names) == sorted(['...', 'a.b', '.hidden', 'trailing.'])


@pytest.mark.parametrize('suffix', ['%0A', '%0D%0A', '%00', '%20'])
def test_ids_with_a_trailing_control_character_are_not_ids(api, suffix):
    """``re.match('^[0-9a-f]+$')`` accepts a trailing newline; ids are
    matched in full, so these are unknown ids (404/204), never a Swift
    request with a newline in its path (a 500)."""
    t = h.Tenant(api.url)
    [mid] = t.post_bodies('ids', 1)
    claim_id, _ = t.claim('ids')
    bad_claim = claim_id[:-1] + suffix
    bad_message = mid[:-1] + suffix
    for method, path, statuses in [
            ('GET', f'/v2/queues/ids/claims/{bad_claim}', (404,)),
            ('PATCH', f'/v2/queues/ids/claims/{bad_claim}', (404,)),
            ('DELETE', f'/v2/queues/ids/claims/{bad_claim}', (204,)),
            ('GET', f'/v2/queues/ids/messages/{bad_message}', (404,)),
            ('DELETE', f'/v2/queues/ids/messages/{bad_message}', (204,)),
            ('GET', f'/v2/queues/ids/messages?ids={bad_message}', (404,))]:
        document = {'ttl': 60} if method == 'PATCH' else None
        status, headers, body = raw(api, t, method, path, document)
        assert status in statuses, f'{method} {path} -> {status} {body[:300]!r}'
    assert t.stats('ids')['claimed'] == 1


def test_a_new_project_is_not_a_path(api):
    """Project ids are free-form (Zaqar): in the shared layout they are
    hashed into container names, so ``..`` and ``/`` stay inside the name."""
    for project in ('..', '.', 'a/b', '../' + uuid.uuid4().hex, '%2F', 'jobs/..'):
        t = h.Tenant(api.url, project=project + '-' + uuid.uuid4().hex[:6])
        t.post_bodies('q', 1)
        assert t.stats('q')['total'] == 1


# -- reserved names -----------------------------------------------------------------
def _queue_names(t: h.Tenant) -> list[str]:
    resp = t.get('/v2/queues', params={'limit': 20})
    assert resp.status_code == 200, h.describe(resp)
    return [q['name'] for q in resp.json()['queues']]


def _gone(client: swift_client.SwiftClient, container: str) -> bool:
    try:
        client.list_objects(container, limit=1)
    except swift_client.Missing:
        return True
    return False


def test_project_jobs_cannot_see_or_disturb_purge_jobs(api_factory, swift):
    """``<prefix>.jobs`` was both the purge worker's job list and the catalog
    of project ``jobs``: its queue records broke the worker, and it listed
    the jobs as its queues. Service containers now have a namespace of
    their own (``naming.SERVICE_CONTAINERS``)."""
    api = api_factory(worker={'interval': 0.3})
    jobs = h.Tenant(api.url, project='jobs')
    jobs.post_bodies('q', 2)
    other = h.Tenant(api.url)
    other.post_bodies('doomed', 3)
    resp = other.delete('/v2/queues/doomed')
    assert resp.status_code == 204, h.describe(resp)
    assert _queue_names(jobs) == ['q']
    client = swift_client.SwiftClient.v1(swift.auth_url, swift.user, swift.key)
    doomed = naming.queue_container('zaqar', other.project, 'doomed')
    h.wait_until(lambda: _gone(client, doomed), timeout=30,
                 what='purge worker reclaims the deleted queue')
    assert _queue_names(jobs) == ['q']
    assert jobs.stats('q')['total'] == 2
