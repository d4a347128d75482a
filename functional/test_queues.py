"""Queue lifecycle, metadata, listing, stats and purge over HTTP (Zaqar v2).

Contract sources: Zaqar api-ref queues.inc, unit tests
``zaqar/tests/unit/transport/wsgi/v2_0/test_queue_lifecycle.py`` and
``test_purge.py``, and ``zaqar/transport/wsgi/v2_0/queues.py``.
"""
from __future__ import annotations

try:
    from functional import helpers as h
except ImportError:  # functional/ is not a package: pytest put it on sys.path
    import helpers as h


def _metadata(t: h.Tenant, name: str) -> dict:
    resp = t.get(f'/v2/queues/{name}')
    assert resp.status_code == 200, h.describe(resp)
    return resp.json()


def assert_metadata(doc: dict, user: dict, **reserved) -> None:
    """``doc`` is ``user`` merged over the reserved defaults (and ``reserved``)."""
    expected = dict(h.RESERVED_DEFAULTS, **reserved)
    expected.update(user)
    extra = set(doc) - set(expected) - set(h.OPTIONAL_RESERVED)
    assert not extra, f'unexpected keys {extra} in {doc}'
    for key, value in expected.items():
        assert key in doc, f'{key} missing from {doc}'
        assert doc[key] == value, f'{key}: expected {value!r}, got {doc[key]!r}'


# -- lifecycle ----------------------------------------------------------------
def test_put_creates_then_204(api):
    t = h.Tenant(api.url)
    resp = t.put('/v2/queues/fizbat')
    assert resp.status_code == 201, h.describe(resp)
    assert resp.headers['Location'].endswith('/v2/queues/fizbat')
    assert not resp.content
    resp = t.put('/v2/queues/fizbat')
    assert resp.status_code == 204, h.describe(resp)
    resp = t.put('/v2/queues/fizbat', data='')
    assert resp.status_code == 204, h.describe(resp)


def test_get_missing_queue_is_200_with_defaults(api):
    t = h.Tenant(api.url)
    assert_metadata(_metadata(t, 'never-created'), {})


def test_get_existing_queue_merges_defaults(api):
    t = h.Tenant(api.url)
    user = {'messages': {'ttl': 600}, 'node': 31, 'label': 'ünïcode'}
    resp = t.put('/v2/queues/gumshoe', json=user)
    assert resp.status_code == 201, h.describe(resp)
    assert_metadata(_metadata(t, 'gumshoe'), user)


def test_reserved_metadata_is_stored(api):
    t = h.Tenant(api.url)
    t.create_queue('custom', {'_default_message_ttl': 120,
                              '_max_messages_post_size': 2048,
                              '_max_claim_count': 3,
                              '_dead_letter_queue': 'custom-dlq',
                              '_dead_letter_queue_messages_ttl': 600,
                              'owner': 'me'})
    assert_metadata(_metadata(t, 'custom'), {'owner': 'me'},
                    _default_message_ttl=120, _max_messages_post_size=2048,
                    _max_claim_count=3, _dead_letter_queue='custom-dlq',
                    _dead_letter_queue_messages_ttl=600)


def test_queue_default_message_ttl_applies_to_posts(api):
    t = h.Tenant(api.url)
    t.create_queue('ttl999', {'_default_message_ttl': 999})
    [mid] = t.post_messages('ttl999', [{'body': {'k': 'v'}}])
    resp = t.get(f'/v2/queues/ttl999/messages/{mid}')
    assert resp.status_code == 200, h.describe(resp)
    assert resp.json()['ttl'] == 999


def test_delete_is_204_even_when_missing(api):
    t = h.Tenant(api.url)
    t.create_queue('doomed')
    t.post_bodies('doomed', 3)
    resp = t.delete('/v2/queues/doomed')
    assert resp.status_code == 204, h.describe(resp)
    assert not resp.content
    resp = t.delete('/v2/queues/doomed')
    assert resp.status_code == 204, h.describe(resp)
    resp = t.delete('/v2/queues/never-was')
    assert resp.status_code == 204, h.describe(resp)
    names = [q['name'] for q in t.get('/v2/queues').json()['queues']]
    assert 'doomed' not in names
    # A new queue of the same name starts empty.
    t.create_queue('doomed')
    assert t.stats('doomed')['total'] == 0
    assert t.list_messages('doomed', echo=True)['messages'] == []


# -- stats ----------------------------------------------------------------------
def test_stats_of_missing_queue_are_zeros(api):
    t = h.Tenant(api.url)
    stats = t.stats('nothing-here')
    assert (stats['free'], stats['claimed'], stats['total']) == (0, 0, 0)
    assert 'oldest' not in stats and 'newest' not in stats


def test_stats_count_free_and_claimed(api):
    t = h.Tenant(api.url)
    ids = t.post_bodies('counted', 5)
    stats = t.stats('counted')
    assert (stats['free'], stats['claimed'], stats['total']) == (5, 0, 5)
    claim_id, claimed = t.claim('counted', limit=2)
    assert claim_id and len(claimed) == 2
    stats = t.stats('counted')
    assert (stats['free'], stats['claimed'], stats['total']) == (3, 2, 5)
    for key in ('oldest', 'newest'):
        entry = stats[key]
        assert h.message_id(entry['href']) in ids, entry
        assert '/v2/queues/counted/messages/' in entry['href'], entry
        assert isinstance(entry['age'], int) and entry['age'] >= 0, entry
        assert isinstance(entry['created'], str) and entry['created'], entry
    assert h.message_id(stats['oldest']['href']) == ids[0]
    assert h.message_id(stats['newest']['href']) == ids[-1]


# -- listing --------------------------------------------------------------------
NAMES = ['alpha-1', 'alpha-2', 'alpha-3', 'beta-1', 'beta-2']


def _create_named(t: h.Tenant) -> None:
    for i, name in enumerate(NAMES):
        t.create_queue(name, {'node': i})


def test_list_empty_project(api):
    t = h.Tenant(api.url)
    resp = t.get('/v2/queues')
    assert resp.status_code == 200, h.describe(resp)
    doc = resp.json()
    assert doc['queues'] == []
    assert 'links' in doc
    assert h.next_href(doc) is None, 'an empty page must not link to a next one'


def test_list_pages_with_marker_and_limit(api):
    t = h.Tenant(api.url)
    _create_named(t)
    resp = t.get('/v2/queues', params={'limit': 2})
    assert resp.status_code == 200, h.describe(resp)
    doc = resp.json()
    seen: list[str] = []
    pages = 0
    while doc['queues']:
        pages += 1
        assert len(doc['queues']) <= 2
        for q in doc['queues']:
            assert set(q) == {'name', 'href'}, q
            assert q['href'].endswith('/v2/queues/' + q['name'])
        seen.extend(q['name'] for q in doc['queues'])
        doc = t.follow_next(doc)
        assert pages < 10
    assert seen == sorted(NAMES)
    assert pages == 3


def test_list_marker_resumes_after_name(api):
    t = h.Tenant(api.url)
    _create_named(t)
    doc = t.get('/v2/queues', params={'marker': 'alpha-2'}).json()
    assert [q['name'] for q in doc['queues']] == ['alpha-3', 'beta-1', 'beta-2']
    doc = t.get('/v2/queues', params={'marker': 'zzz'}).json()
    assert doc['queues'] == []


def test_list_detailed(api):
    t = h.Tenant(api.url)
    _create_named(t)
    doc = t.get('/v2/queues', params={'detailed': 'true'}).json()
    assert [q['name'] for q in doc['queues']] == sorted(NAMES)
    for q in doc['queues']:
        assert q['metadata']['node'] == NAMES.index(q['name']), q
    first = doc['queues'][0]
    assert first['metadata'].items() <= _metadata(t, first['name']).items()


def test_list_with_count_and_name_filter(api):
    t = h.Tenant(api.url)
    _create_named(t)
    doc = t.get('/v2/queues', params={'with_count': 'true', 'limit': 2}).json()
    assert doc['count'] == 5
    assert len(doc['queues']) == 2
    doc = t.get('/v2/queues', params={'name': 'alpha'}).json()
    assert [q['name'] for q in doc['queues']] == ['alpha-1', 'alpha-2', 'alpha-3']
    doc = t.get('/v2/queues', params={'name': 'alpha', 'with_count': 'true'}).json()
    assert doc['count'] == 3


def test_list_limit_bounds(api):
    t = h.Tenant(api.url)
    for bad in (0, 21, -1):
        h.assert_json_error(t.get('/v2/queues', params={'limit': bad}), 400)
    assert t.get('/v2/queues', params={'limit': 20}).status_code == 200


def test_list_shows_lazily_created_queue(api):
    t = h.Tenant(api.url)
    t.post_bodies('lazy', 1)
    names = [q['name'] for q in t.get('/v2/queues').json()['queues']]
    assert names == ['lazy']


# -- PATCH (JSON patch) -----------------------------------------------------------
def _patch(t: h.Tenant, name: str, ops: list, ctype: str = h.JSON_PATCH):
    return t.patch(f'/v2/queues/{name}', json=ops, headers={'Content-Type': ctype})


def test_patch_add_replace_remove(api):
    t = h.Tenant(api.url)
    t.create_queue('xyz')
    resp = _patch(t, 'xyz', [{'op': 'add', 'path': '/metadata/key1', 'value': 1},
                             {'op': 'add', 'path': '/metadata/key2', 'value': 1}])
    assert resp.status_code == 200, h.describe(resp)
    assert_metadata(resp.json(), {'key1': 1, 'key2': 1})

    # Removing a reserved key that was never set is accepted and does nothing.
    resp = _patch(t, 'xyz', [{'op': 'remove', 'path': '/metadata/_default_message_ttl'}])
    assert resp.status_code == 200, h.describe(resp)

    resp = _patch(t, 'xyz', [{'op': 'replace', 'path': '/metadata/key1', 'value': 2},
                             {'op': 'replace', 'path': '/metadata/_default_message_ttl',
                              'value': 300}])
    assert resp.status_code == 200, h.describe(resp)
    assert_metadata(_metadata(t, 'xyz'), {'key1': 2, 'key2': 1}, _default_message_ttl=300)

    resp = _patch(t, 'xyz', [{'op': 'remove', 'path': '/metadata/key1'},
                             {'op': 'remove', 'path': '/metadata/_default_message_ttl'}])
    assert resp.status_code == 200, h.describe(resp)
    assert_metadata(resp.json(), {'key2': 1})
    assert_metadata(_metadata(t, 'xyz'), {'key2': 1})


def test_patch_remove_every_reserved_key_is_accepted(api):
    """python-zaqarclient's Queue.metadata(new_meta) removes every key it did not
    get, reserved ones included (even those whose value is null)."""
    t = h.Tenant(api.url)
    t.create_queue('all-reserved')
    ops = [{'op': 'remove', 'path': '/metadata/' + k} for k in h.RESERVED_DEFAULTS]
    resp = _patch(t, 'all-reserved', ops)
    assert resp.status_code == 200, h.describe(resp)
    assert_metadata(resp.json(), {})


def test_patch_conflicts_on_missing_key(api):
    t = h.Tenant(api.url)
    t.create_queue('conflicts')
    h.assert_json_error(
        _patch(t, 'conflicts', [{'op': 'replace', 'path': '/metadata/key3', 'value': 2}]), 409)
    h.assert_json_error(
        _patch(t, 'conflicts', [{'op': 'remove', 'path': '/metadata/key3'}]), 409)


def test_patch_missing_queue_is_404(api):
    t = h.Tenant(api.url)
    for op in ({'op': 'add', 'path': '/metadata/key1', 'value': 1},
               {'op': 'replace', 'path': '/metadata/key3', 'value': 2},
               {'op': 'remove', 'path': '/metadata/key3'}):
        h.assert_json_error(_patch(t, 'ghost', [op]), 404)


def test_patch_needs_json_patch_media_type(api):
    t = h.Tenant(api.url)
    t.create_queue('media')
    op = [{'op': 'add', 'path': '/metadata/k', 'value': 1}]
    h.assert_json_error(_patch(t, 'media', op, ctype='application/json'), 415)
    resp = t.patch('/v2/queues/media', data='[]', headers={'Content-Type': 'text/plain'})
    h.assert_json_error(resp, 415)
    assert 'k' not in _metadata(t, 'media')


def test_patch_bad_documents(api):
    t = h.Tenant(api.url)
    t.create_queue('badpatch')
    bad = [
        [{'op': 'move', 'path': '/metadata/a', 'value': 1}],
        [{'path': '/metadata/a', 'value': 1}],
        [{'op': 'add', 'value': 1}],
        [{'op': 'add', 'path': '/metadata/a'}],
        [{'op': 'add', 'path': '/other/a', 'value': 1}],
        [{'op': 'add', 'path': 'metadata/a', 'value': 1}],
        [{'op': 'add', 'path': '/metadata/a/b', 'value': 1}],
        ['not an object'],
        {'op': 'add', 'path': '/metadata/a', 'value': 1},
    ]
    for doc in bad:
        h.assert_json_error(_patch(t, 'badpatch', doc), 400)
    for raw in ('', '[', 'null'):
        resp = t.patch('/v2/queues/badpatch', data=raw, headers={'Content-Type': h.JSON_PATCH})
        h.assert_json_error(resp, 400)
    assert_metadata(_metadata(t, 'badpatch'), {})


# -- purge ----------------------------------------------------------------------
def test_purge_messages_keeps_queue(api):
    t = h.Tenant(api.url)
    t.create_queue('purgeable', {'keep': True})
    ids = t.post_bodies('purgeable', 3)
    t.claim('purgeable', limit=1)
    resp = t.post('/v2/queues/purgeable/purge', json={'resource_types': ['messages']})
    assert resp.status_code == 204, h.describe(resp)
    for mid in ids:
        assert t.get(f'/v2/queues/purgeable/messages/{mid}').status_code == 404
    assert t.stats('purgeable')['total'] == 0
    assert _metadata(t, 'purgeable')['keep'] is True
    assert [q['name'] for q in t.get('/v2/queues').json()['queues']] == ['purgeable']


def test_purge_without_body_purges_everything(api):
    t = h.Tenant(api.url)
    t.post_bodies('purge-all', 2)
    resp = t.post('/v2/queues/purge-all/purge')
    assert resp.status_code == 204, h.describe(resp)
    assert t.stats('purge-all')['total'] == 0


def test_purge_rejects_unknown_resource_types(api):
    t = h.Tenant(api.url)
    t.post_bodies('purge-bad', 1)
    h.assert_json_error(
        t.post('/v2/queues/purge-bad/purge', json={'resource_types': ['bogus']}), 400)
    h.assert_json_error(t.post('/v2/queues/purge-bad/purge', json={'types': []}), 400)
    assert t.stats('purge-bad')['total'] == 1
