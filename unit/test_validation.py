"""Zaqar v2 input rules: defaults, limits and clean refusals."""
import dataclasses
import types

import pytest

from zaqar_swift import conf
from zaqar_swift import errors
from zaqar_swift import validation as v

LIMITS = v.Limits.defaults()
NOT_INTS = [True, False, 60.0, '60', None, [60], {'n': 60}]
HUGE = 2 ** 200


def test_limits_have_one_field_per_option_and_read_a_group():
    names = {f.name for f in dataclasses.fields(v.Limits)}
    assert names == {opt.dest for opt in conf.limits_opts}
    group = types.SimpleNamespace(**{n: 7 for n in names})
    assert v.Limits.from_conf(group).max_claim_ttl == 7
    assert LIMITS.max_messages_post_size == 262144 and LIMITS.default_claim_ttl == 300


# -- scalars --------------------------------------------------------------------
@pytest.mark.parametrize('bad', NOT_INTS[:4] + [0, -1, 21, HUGE])
def test_page_limit_refuses_non_ints_and_out_of_range(bad):
    with pytest.raises(errors.InvalidRequest, match='limit'):
        v.page_limit(bad, 20, 10)


def test_page_limit_defaults_and_accepts_bounds():
    assert v.page_limit(None, 20, 10) == 10
    assert v.page_limit(None, 5, 10) == 5
    assert v.page_limit(1, 20, 10) == 1 and v.page_limit(20, 20, 10) == 20


@pytest.mark.parametrize('bad', NOT_INTS + [0, 21, -3, HUGE])
def test_pop_count(bad):
    with pytest.raises(errors.InvalidRequest):
        v.pop_count(bad, LIMITS)
    assert v.pop_count(20, LIMITS) == 20


# -- identifiers ------------------------------------------------------------------
@pytest.mark.parametrize('name', ['a', 'Q_1-x.y', 'x' * 64])
def test_good_queue_names(name):
    v.queue_name(name, LIMITS)


@pytest.mark.parametrize('name', ['...', '.a', 'a.', 'a..b', '.-'])
def test_dots_are_fine_except_as_dot_segments(name):
    v.queue_name(name, LIMITS)


@pytest.mark.parametrize('name', ['', 'x' * 65, 'a b', 'a/b', 'ünï', 'abc\n', 'a%20', None, 5,
                                  '.', '..', '../x', 'x/..', '/'])
def test_bad_queue_names(name):
    with pytest.raises(errors.InvalidRequest):
        v.queue_name(name, LIMITS)


def test_client_id_is_a_normalised_uuid_by_default():
    raw = '3381AF92-2B9E-11E3-B191-71861300734D'
    assert v.client_id(raw, LIMITS) == raw.lower()
    assert v.client_id(raw.replace('-', ''), LIMITS) == raw.lower()
    for bad in (None, '', 'not-a-uuid', '1234'):
        with pytest.raises(errors.MissingHeader):
            v.client_id(bad, LIMITS)


def test_client_id_free_form_when_uuid_safety_is_off():
    lax = dataclasses.replace(LIMITS, client_id_uuid_safe='off')
    assert v.client_id('ldap-user-0042', lax) == 'ldap-user-0042'
    for bad in ('short', 'x' * 37):
        with pytest.raises(errors.MissingHeader):
            v.client_id(bad, lax)


def test_project_id():
    assert v.project_id('p' * 256) == 'p' * 256
    for bad in (None, '', 'p' * 257):
        with pytest.raises(errors.MissingHeader):
            v.project_id(bad)


def test_message_ids_dedupe_and_bounds():
    assert v.message_ids(['b', 'a', 'b'], LIMITS) == ['b', 'a']
    for bad in ([], ['x'] + [str(i) for i in range(20)], ['x'] * 21, 'a,b', [1], [''], None):
        with pytest.raises(errors.InvalidRequest):
            v.message_ids(bad, LIMITS)
    assert v.claim_ids(['c1'], LIMITS) == ['c1']


def test_message_deletion_needs_exactly_one_of_ids_and_pop():
    v.message_deletion(['a'], None)
    v.message_deletion(None, 3)
    for ids, pop in ((['a'], 3), (None, None)):
        with pytest.raises(errors.InvalidRequest):
            v.message_deletion(ids, pop)


def test_collection_deletion():
    assert v.collection_deletion(['a', 'a'], None, None, LIMITS) == (['a'], None, None)
    assert v.collection_deletion(['a'], None, ['c', 'c'], LIMITS) == (['a'], None, ['c'])
    assert v.collection_deletion(None, 3, None, LIMITS) == (None, 3, None)
    assert v.collection_deletion(None, 3, ['c'], LIMITS) == (None, 3, None)
    for ids, pop, claims in ((['a'], 3, None), (None, None, None), (None, None, ['c']),
                             ([], None, None), (None, 0, None), (None, 21, None),
                             (['a'], None, []), (['a'], None, ['c'] * 21),
                             (['a'], None, [''])):
        with pytest.raises(errors.InvalidRequest):
            v.collection_deletion(ids, pop, claims, LIMITS)


def test_purge_types():
    assert v.purge_types(None) == ['messages', 'subscriptions']
    assert v.purge_types(['messages', 'messages']) == ['messages']
    assert v.purge_types([]) == []
    for bad in (['bogus'], 'messages', [1], {'messages': 1}):
        with pytest.raises(errors.InvalidRequest):
            v.purge_types(bad)


def test_purge_document():
    assert v.purge_document(None) == ['messages', 'subscriptions']
    assert v.purge_document({'resource_types': ['messages']}) == ['messages']
    for bad in ({}, {'types': []}, [], 'messages', {'resource_types': None}):
        with pytest.raises(errors.InvalidRequest):
            v.purge_document(bad)


# -- request documents ---------------------------------------------------------------
def test_document_and_member():
    assert v.document({'a': 1}, True) == {'a': 1}
    assert v.document(None, False) is None
    with pytest.raises(errors.InvalidRequest, match='empty'):
        v.document(None, True)
    for bad in ([], 'x', 1, True):
        with pytest.raises(errors.InvalidRequest, match='JSON object'):
            v.document(bad, False)
    assert v.member({'k': None}, 'k', 'no k') is None
    with pytest.raises(errors.InvalidRequest, match='no k'):
        v.member({}, 'k', 'no k')


def _deep(depth, leaf=0):
    value = leaf
    for level in range(depth):
        value = {'k': value} if level % 2 else [value]
    return value


@pytest.mark.parametrize('depth', [1, 5, 32])
def test_nesting_up_to_the_limit(depth):
    v.nesting(_deep(depth), 'body', 32)
    v.nesting('a' * depth, 'body', 1)   # scalars are 0 levels
    v.nesting([_deep(depth - 1)] * 100, 'body', 32)


@pytest.mark.parametrize('depth', [33, 1000, 200000])
def test_nesting_beyond_the_limit_without_recursion(depth):
    with pytest.raises(errors.InvalidRequest, match='at most 32 levels'):
        v.nesting(_deep(depth), 'body', 32)
    with pytest.raises(errors.InvalidRequest):
        v.nesting([1, {'a': [2, 3]}, _deep(depth)], 'body', 32)


def test_message_bodies_and_metadata_nest_at_most_max_json_depth():
    shallow = dataclasses.replace(LIMITS, max_json_depth=2)
    assert v.message_posts([{'body': [[1]]}], shallow, {})[0][0] == [[1]]
    assert v.message_posts([{'body': 'scalar'}], shallow, {})[0][0] == 'scalar'
    with pytest.raises(errors.InvalidRequest, match='Message 1: body'):
        v.message_posts([{'body': 1}, {'body': [[[1]]]}], shallow, {})
    assert v.queue_metadata({'k': [1]}, shallow) == {'k': [1]}
    with pytest.raises(errors.InvalidRequest, match='Queue metadata'):
        v.queue_metadata({'k': [[1]]}, shallow)
    with pytest.raises(errors.InvalidRequest):
        v.queue_patch([{'op': 'add', 'path': '/metadata/k', 'value': [[1]]}], {}, shallow)


def test_message_post_document():
    assert v.message_post_document({'messages': [1]}) == [1]
    for bad, says in ((None, 'empty'), ([], 'JSON object'), ({}, 'No messages'),
                      ({'message': []}, 'No messages')):
        with pytest.raises(errors.InvalidRequest, match=says):
            v.message_post_document(bad)


# -- queue metadata ---------------------------------------------------------------
def test_queue_defaults_match_zaqar():
    assert v.queue_defaults(LIMITS) == {
        '_max_messages_post_size': 262144, '_default_message_ttl': 3600,
        '_default_message_delay': 0, '_dead_letter_queue': None,
        '_dead_letter_queue_messages_ttl': None, '_max_claim_count': None}


def test_with_defaults_replaces_falsy_reserved_values_only():
    shown = v.with_defaults({'_default_message_ttl': 0, '_max_claim_count': 3,
                             'owner': '', 'n': 0}, LIMITS)
    assert shown['_default_message_ttl'] == 3600 and shown['_max_claim_count'] == 3
    assert shown['owner'] == '' and shown['n'] == 0


def test_queue_metadata_accepts_reserved_values_and_drops_nulls():
    meta = {'_default_message_ttl': 60, '_max_messages_post_size': 1,
            '_default_message_delay': 900, '_max_claim_count': 0,
            '_dead_letter_queue': 'dlq.1', '_dead_letter_queue_messages_ttl': 1209600,
            '_dead_letter_queue_x': None, 'free': {'any': [1, 2.5, None]}}
    assert v.queue_metadata(meta, LIMITS) == meta
    assert v.queue_metadata({'_max_claim_count': None, 'k': None}, LIMITS) == {'k': None}


@pytest.mark.parametrize('key,bad', [
    ('_default_message_ttl', 59), ('_default_message_ttl', 1209601),
    ('_default_message_ttl', True), ('_default_message_ttl', '3600'),
    ('_default_message_ttl', 3600.0), ('_max_messages_post_size', 0),
    ('_max_messages_post_size', 262145), ('_default_message_delay', 901),
    ('_default_message_delay', -1), ('_max_claim_count', -1), ('_max_claim_count', 'x'),
    ('_max_claim_count', HUGE), ('_dead_letter_queue', 'a b'), ('_dead_letter_queue', 7),
    ('_dead_letter_queue_messages_ttl', 10),
])
def test_queue_metadata_refuses_bad_reserved_values(key, bad):
    with pytest.raises(errors.InvalidRequest, match=key if key != '_dead_letter_queue'
                       else 'queue name|Queue names'):
        v.queue_metadata({key: bad}, LIMITS)


def test_queue_metadata_must_be_a_small_object():
    for bad in ([], 'x', None, 3):
        with pytest.raises(errors.InvalidRequest):
            v.queue_metadata(bad, LIMITS)
    small = dataclasses.replace(LIMITS, max_queue_metadata=20)
    v.queue_metadata({'k': 'x' * 12}, small)
    with pytest.raises(errors.InvalidRequest, match='too large'):
        v.queue_metadata({'k': 'x' * 13}, small)


# -- queue PATCH ------------------------------------------------------------------
def op(name, key, *value):
    doc = {'op': name, 'path': '/metadata/' + key}
    if value:
        doc['value'] = value[0]
    return doc


def test_patch_add_replace_remove():
    current = {'a': 1, 'b': 2}
    new = v.queue_patch([op('add', 'c', 3), op('replace', 'a', 9), op('remove', 'b')],
                        current, LIMITS)
    assert new == {'a': 9, 'c': 3}
    assert current == {'a': 1, 'b': 2}
    assert v.queue_patch([], current, LIMITS) == current


def test_patch_reserved_keys_always_exist():
    new = v.queue_patch([op('replace', '_default_message_ttl', 300),
                         op('remove', '_max_claim_count')], {}, LIMITS)
    assert new == {'_default_message_ttl': 300}
    merged = v.queue_defaults(LIMITS)
    assert v.queue_patch([op('add', 'k', 1)], merged, LIMITS) == dict(
        {k: x for k, x in merged.items() if x is not None}, k=1)


def test_patch_escaped_pointer():
    assert v.queue_patch([op('add', 'a~1b~0c', 1)], {}, LIMITS) == {'a/b~c': 1}


@pytest.mark.parametrize('ops', [[op('replace', 'missing', 1)], [op('remove', 'missing')]])
def test_patch_conflicts_on_missing_keys(ops):
    with pytest.raises(errors.Conflict):
        v.queue_patch(ops, {'other': 1}, LIMITS)


@pytest.mark.parametrize('patch', [
    None, {'op': 'add'}, 'add', ['x'], [{'op': 'move', 'path': '/metadata/a', 'value': 1}],
    [{'path': '/metadata/a', 'value': 1}], [{'op': 'add', 'value': 1}],
    [{'op': 'add', 'path': '/metadata/a'}], [op('add', 'a')],
    [{'op': 'add', 'path': '/other/a', 'value': 1}],
    [{'op': 'add', 'path': 'metadata/a', 'value': 1}],
    [{'op': 'add', 'path': '/metadata/a/b', 'value': 1}],
    [{'op': 'add', 'path': '/metadata/', 'value': 1}],
    [{'op': 'add', 'path': '/metadata/a~2', 'value': 1}],
    [{'op': 'add', 'path': 5, 'value': 1}],
    [op('add', '_default_message_ttl', 'long')],
])
def test_patch_bad_documents(patch):
    with pytest.raises(errors.InvalidRequest):
        v.queue_patch(patch, {}, LIMITS)


# -- messages -----------------------------------------------------------------------
def test_message_posts_defaults_from_queue_then_limits():
    got = v.message_posts([{'body': 1}, {'body': None, 'ttl': 60, 'delay': 5, 'junk': 1}],
                          LIMITS, {})
    assert got == [(1, 3600, 0), (None, 60, 5)]
    queue = {'_default_message_ttl': 999, '_default_message_delay': 30}
    assert v.message_posts([{'body': 'x'}], LIMITS, queue) == [('x', 999, 30)]
    merged = v.queue_defaults(LIMITS)
    assert v.message_posts([{'body': 'x'}], LIMITS, merged) == [('x', 3600, 0)]


@pytest.mark.parametrize('messages', [
    None, {}, [], 'body', [1], [{}], [{'ttl': 60}],
    [{'body': 1, 'ttl': 59}], [{'body': 1, 'ttl': 1209601}], [{'body': 1, 'ttl': True}],
    [{'body': 1, 'ttl': 60.0}], [{'body': 1, 'ttl': '60'}], [{'body': 1, 'ttl': HUGE}],
    [{'body': 1, 'delay': 901}], [{'body': 1, 'delay': -1}], [{'body': 1, 'delay': False}],
    [{'body': 1, 'ttl': None}], [{'body': 1, 'delay': None}],
    [{'body': i} for i in range(21)],
])
def test_message_posts_refuse(messages):
    with pytest.raises(errors.InvalidRequest):
        v.message_posts(messages, LIMITS, {})


def test_message_posts_size_uses_the_queue_limit():
    body = 'x' * 100
    v.message_posts([{'body': body}], LIMITS, {'_max_messages_post_size': 200})
    with pytest.raises(errors.PayloadTooLarge, match='100'):
        v.message_posts([{'body': body}], LIMITS, {'_max_messages_post_size': 100})
    with pytest.raises(errors.PayloadTooLarge):
        v.message_posts([{'body': 'x' * 262144}], LIMITS, {'_max_messages_post_size': 10 ** 9})


# -- claims --------------------------------------------------------------------------
def test_claim_params_defaults_and_bounds():
    assert v.claim_params(None, None, None, LIMITS) == (300, 60, 10)
    assert v.claim_params(60, 60, 1, LIMITS) == (60, 60, 1)
    assert v.claim_params(43200, 43200, 20, LIMITS) == (43200, 43200, 20)


@pytest.mark.parametrize('args', [
    (59, None, None), (43201, None, None), (True, None, None), (300.0, None, None),
    (None, 43201, None), (None, '60', None), (None, -1, None),
    (None, None, 0), (None, None, 21), (None, None, HUGE), (None, None, 1.5),
])
def test_claim_params_refuse(args):
    with pytest.raises(errors.InvalidRequest):
        v.claim_params(*args, LIMITS)


def test_claim_request_and_renewal_documents():
    assert v.claim_request(None, None, LIMITS) == (300, 60, 10)
    assert v.claim_request({'ttl': 120, 'other': 1}, 5, LIMITS) == (120, 60, 5)
    assert v.claim_renewal({'ttl': 120}, LIMITS) == (120, 60)
    for doc, limit in (([], None), ({'ttl': None}, None), ({'grace': None}, None),
                       ({}, 0), ('x', None)):
        with pytest.raises(errors.InvalidRequest):
            v.claim_request(doc, limit, LIMITS)
    for doc in (None, [], {'ttl': None}, {'ttl': 59}, 5):
        with pytest.raises(errors.InvalidRequest):
            v.claim_renewal(doc, LIMITS)


def test_no_nulls():
    v.no_nulls({'ttl': 60}, 'ttl', 'grace')
    with pytest.raises(errors.InvalidRequest, match='grace'):
        v.no_nulls({'ttl': 60, 'grace': None}, 'ttl', 'grace')
