"""python-zaqarclient's v2 HTTP client works unchanged against the API.

The client is configured the way its noauth backend expects (python-zaqarclient
4.7, ``zaqarclient/transport/request.py``): ``auth_opts.backend = 'noauth'``
and ``auth_opts.options.os_project_id`` becomes the ``X-Project-Id`` header.
Its default Client-ID is ``uuid4().hex`` (no dashes). The websocket transport
is out of scope.
"""
from __future__ import annotations

import uuid

import pytest

zclient = pytest.importorskip('zaqarclient.queues.v2.client')
from zaqarclient.queues.v2 import core  # noqa: E402
from zaqarclient.transport import errors as zerrors  # noqa: E402

try:
    from functional import helpers as h
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h


def make_client(api, project: str | None = None, client_uuid: str | None = None):
    conf = {'auth_opts': {'backend': 'noauth',
                          'options': {'os_project_id': project or h.new_project()}}}
    if client_uuid:
        conf['client_uuid'] = client_uuid
    return zclient.Client(api.url, version=2, conf=conf)


def test_ping(api):
    assert make_client(api).ping() is True


def test_queue_create_exists_metadata_stats_delete(api):
    cli = make_client(api)
    queue = cli.queue('zc-meta', force_create=True)
    assert queue.exists()

    queue.metadata(new_meta={'type': 'Bank Accounts', 'name': 'test1'})
    queue._metadata = None
    meta = queue.metadata()
    expected = dict(h.RESERVED_DEFAULTS, type='Bank Accounts', name='test1')
    assert {k: meta.get(k) for k in expected} == expected
    assert set(meta) - set(expected) <= set(h.OPTIONAL_RESERVED)

    # Replace one key, add one, drop one, set a reserved one.
    queue.metadata(new_meta={'type': 'test', 'age': 13, '_default_message_ttl': 1000})
    meta = queue.metadata(force_reload=True)
    assert meta['type'] == 'test' and meta['age'] == 13
    assert 'name' not in meta
    assert meta['_default_message_ttl'] == 1000
    assert meta['_max_messages_post_size'] == 262144

    stats = queue.stats
    assert stats['messages']['total'] == 0
    queue.post([{'body': 1, 'ttl': 60}, {'body': 2, 'ttl': 60}])
    assert queue.stats['messages']['total'] == 2
    assert queue.stats['messages']['free'] == 2

    queue.delete()
    queues, _ = cli.queues()
    assert 'zc-meta' not in [q.name for q in queues]


def test_post_and_list_messages(api):
    cli = make_client(api)
    queue = cli.queue('zc-msgs')
    result = queue.post([{'body': {'n': i}, 'ttl': 300} for i in range(5)])
    assert len(result['resources']) == 5

    # Own messages are not echoed by default.
    assert list(queue.messages()) == []
    msgs = list(queue.messages(echo=True))
    assert [m.body for m in msgs] == [{'n': i} for i in range(5)]
    for m in msgs:
        assert m.ttl == 300 and m.age >= 0 and m.id

    # Paging through next links.
    streamed = list(queue.messages(echo=True, limit=2).stream())
    assert [m.id for m in streamed] == [m.id for m in msgs]

    # Another client of the same project sees them without echo.
    other = make_client(api, project=cli.auth_opts['options']['os_project_id'])
    assert len(list(other.queue('zc-msgs', auto_create=False).messages())) == 5

    by_id = queue.message(msgs[0].id)
    assert by_id.body == {'n': 0} and by_id.id == msgs[0].id
    some = list(queue.messages(msgs[1].id, msgs[2].id))
    assert sorted(m.id for m in some) == sorted([msgs[1].id, msgs[2].id])


def test_claim_update_and_delete_with_claim(api):
    cli = make_client(api)
    queue = cli.queue('zc-claims')
    queue.post([{'body': {'n': i}, 'ttl': 300} for i in range(4)])

    claim = queue.claim(ttl=60, grace=60, limit=3)
    assert claim.id
    claimed = list(claim)
    assert [m.body for m in claimed] == [{'n': 0}, {'n': 1}, {'n': 2}]
    assert all(m.claim_id == claim.id for m in claimed)

    claim.update(ttl=120, grace=60)
    assert claim.age >= 0
    assert claim.ttl == 120

    # A claimed message cannot be deleted without its claim.
    req, trans = cli._request_and_transport()
    with pytest.raises(zerrors.ForbiddenError):
        core.message_delete(trans, req, 'zc-claims', claimed[0].id)

    for m in claimed:
        m.delete()
    for m in claimed:
        with pytest.raises(zerrors.ResourceNotFound):
            queue.message(m.id)

    claim.delete()
    remaining = queue.claim(ttl=60, grace=60)
    assert [m.body for m in remaining] == [{'n': 3}]
    remaining.delete()

    queue.delete_messages(*[m.id for m in queue.messages(echo=True)])
    empty = queue.claim(ttl=60, grace=60)
    assert empty.id is None
    assert list(empty) == []


def test_pop(api):
    cli = make_client(api)
    queue = cli.queue('zc-pop')
    queue.post([{'body': {'n': i}, 'ttl': 300} for i in range(3)])
    popped = list(queue.pop(count=2))
    assert [m.body for m in popped] == [{'n': 0}, {'n': 1}]
    assert [m.body for m in queue.messages(echo=True)] == [{'n': 2}]
    assert list(cli.queue('zc-pop').pop(count=5))[0].body == {'n': 2}
    assert list(queue.pop()) == []


def test_queue_list(api):
    cli = make_client(api)
    names = ['zc-a', 'zc-b', 'zc-c']
    for i, name in enumerate(names):
        cli.queue(name, force_create=True).metadata(new_meta={'i': i})

    queues, count = cli.queues(with_count=True)
    assert [q.name for q in queues] == names
    assert count == 3

    queues, _ = cli.queues(limit=2)
    first_page = list(queues)
    assert [q.name for q in first_page] == names[:2]
    queues, _ = cli.queues(limit=2)
    assert [q.name for q in queues.stream()] == names

    queues, _ = cli.queues(detailed=True)
    for q in queues:
        assert q.metadata()['i'] == names.index(q.name)

    # Another project sees none of them.
    queues, _ = make_client(api).queues()
    assert list(queues) == []


def test_purge(api):
    cli = make_client(api)
    queue = cli.queue('zc-purge')
    queue.post([{'body': 1, 'ttl': 300}, {'body': 2, 'ttl': 300}])
    queue.purge(resource_types=['messages'])
    assert list(queue.messages(echo=True)) == []
    queue.post([{'body': 3, 'ttl': 300}])
    queue.purge()
    assert queue.stats['messages']['total'] == 0


def test_errors_map_to_client_exceptions(api):
    cli = make_client(api)
    queue = cli.queue('zc-errors')
    with pytest.raises(zerrors.MalformedRequest):
        queue.post([{'body': 1, 'ttl': 10}])
    with pytest.raises(zerrors.ResourceNotFound):
        queue.message('a' * 24)
    with pytest.raises(zerrors.ConflictError):
        req, trans = cli._request_and_transport()
        core.queue_create(trans, req, 'zc-errors')
        req, trans = cli._request_and_transport()
        core.queue_update(trans, req, 'zc-errors',
                          [{'op': 'replace', 'path': '/metadata/nope', 'value': 1}])


def test_dashed_client_uuid_also_works(api):
    cli = make_client(api, client_uuid=str(uuid.uuid4()))
    queue = cli.queue('zc-dashed')
    queue.post({'body': 'one', 'ttl': 60})
    assert [m.body for m in queue.messages(echo=True)] == ['one']
