"""Topics without Swift: their names never meet a queue's or the service's,
their reserved metadata, the wording of their errors, the listing document."""
from __future__ import annotations

import itertools

import pytest

from unit.test_wsgi_app import assert_error
from unit.test_wsgi_stub import JSON_PATCH, Untouchable, client
from zaqar_swift import errors
from zaqar_swift import topics
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.storage.swift import naming
from zaqar_swift.transport import render

LIMITS = validation.Limits.defaults()
PROJECTS = ['p', 'P-1_x', 'jobs', '~t', '.~t', 'p.~t', 'p~t', 'a.b', '', '~', '.', '/', 'a/b',
            't', 'x' * 64, 'y' * 65, 'z' * 256, 'p\n', 'zaqar', 'subscribed-topics']
# Valid queue and topic names (``validation.queue_name``), the tricky ones included.
NAMES = ['q', 't', 't.x', 'a.b', '...', 'x' * 64, '-', '_t', 'jobs', 'subscribed-topics']


def _valid(name: str) -> bool:
    try:
        validation.queue_name(name, LIMITS)
    except errors.InvalidRequest:
        return False
    return True


def test_the_argument_holds_no_queue_name_has_a_tilde_and_no_project_key_a_dot():
    assert not _valid('~t') and not _valid('a~b') and not _valid('~')
    assert all(_valid(name) for name in NAMES)
    for project in PROJECTS:
        assert naming.PROJECT_SEPARATOR not in naming.project_key(project)


@pytest.mark.parametrize('prefix', ['zaqar', 'z', 'a.b', 'pre~fix'])
def test_no_project_or_queue_maps_onto_a_topic_container(prefix):
    queue_side = set()
    for project in PROJECTS:
        queue_side.add(naming.catalog_container(prefix, project))
        queue_side.update(naming.queue_container(prefix, project, q) for q in NAMES)
    topic_side = set()
    for project in PROJECTS:
        topic_side.add(naming.topic_catalog_container(prefix, project))
        topic_side.update(naming.topic_container(prefix, project, t) for t in NAMES)
    assert not queue_side & topic_side
    services = {naming.service_container(prefix, s) for s in naming.SERVICE_CONTAINERS}
    assert not topic_side & services


@pytest.mark.parametrize('prefix', ['zaqar', 'a.b'])
def test_topic_containers_are_distinct_and_among_their_projects(prefix):
    pairs = list(itertools.product(PROJECTS, NAMES))
    names = [naming.topic_container(prefix, p, t) for p, t in pairs]
    assert len(set(names)) == len(pairs)
    for (project, _), name in zip(pairs, names):
        # purge-project and the status report find a project's containers by this prefix
        assert name.startswith(naming.catalog_container(prefix, project) + '.')
        if '.' not in prefix:   # the purge worker takes turns by owner
            assert naming.container_owner(name) == naming.catalog_container(prefix, project)
    catalogs = {naming.topic_catalog_container(prefix, p) for p in PROJECTS}
    assert len(catalogs) == len(PROJECTS) and not catalogs & set(names)


def test_topic_names_fit_swift_limits_for_the_longest_inputs():
    name = naming.topic_container('zaqar-swift-prefix', 'p' * 256, 'q' * 64)
    assert len(name.encode()) <= naming.MAX_CONTAINER
    assert naming.subscribed_topics_container('zaqar') == 'zaqar~subscribed-topics'
    assert naming.SUBSCRIBED_TOPICS in naming.SERVICE_CONTAINERS


def test_a_topic_shows_three_reserved_keys_and_what_it_set():
    shown = topics.topic_defaults({'color': 'blue', '_default_message_ttl': 60,
                                   '_dead_letter_queue': 'dlq'}, LIMITS)
    assert shown == {'color': 'blue', '_default_message_ttl': 60, '_dead_letter_queue': 'dlq',
                     '_max_messages_post_size': LIMITS.max_messages_post_size,
                     '_default_message_delay': LIMITS.default_message_delay}
    assert set(topics.topic_defaults({}, LIMITS)) == set(topics.TOPIC_RESERVED)


@pytest.mark.parametrize('name,fragment', [
    ('', 'A topic name must be'), ('x' * 65, 'Topic names may not be more than 64'),
    ('a b', 'Topic names may only contain'), ('..', 'A topic name may not be'),
])
def test_topic_name_errors_say_topic(name, fragment):
    with pytest.raises(errors.InvalidRequest) as raised:
        validation.queue_name(name, LIMITS, 'topic')
    assert fragment in raised.value.description
    with pytest.raises(errors.InvalidRequest) as raised:
        validation.queue_name(name, LIMITS)
    assert 'opic' not in raised.value.description


def test_topic_listing_document():
    doc = render.topic_page('/v2/topics', [{'name': 'a'}, {'name': 'b', 'metadata': {'k': 1}}],
                            'b', {'limit': 2})
    assert doc == {'topics': [{'name': 'a', 'href': '/v2/topics/a'},
                              {'name': 'b', 'href': '/v2/topics/b', 'metadata': {'k': 1}}],
                   'links': [{'rel': 'next', 'href': '/v2/topics?limit=2&marker=b'}]}
    assert render.topic_page('/v2/topics', [], 'b', {}) == {'topics': [], 'links': []}
    assert render.message_href('t', 'm1', base=render.TOPICS) == '/v2/topics/t/messages/m1'


# -- the REST transport: bad input is refused before storage ---------------------------
def _untouched() -> MessagingService:
    topics_core = topics.Topics(Untouchable('client'), Untouchable('topic catalog'),
                                Untouchable('topic store'), LIMITS)
    return MessagingService(Untouchable('client'), Untouchable('catalog'),
                            Untouchable('store'), LIMITS, topics=topics_core)


@pytest.mark.parametrize('method,path,kwargs,status', [
    ('PUT', '/v2/topics/bad%20name', {}, 400),
    ('PUT', '/v2/topics/..', {}, 400),
    ('GET', '/v2/topics/' + 'x' * 65, {}, 400),
    ('PUT', '/v2/topics/t', {'body': '{"a": NaN}'}, 400),
    ('PUT', '/v2/topics/t', {'body': '[1]'}, 400),
    ('PATCH', '/v2/topics/t', {'body': '[]'}, 415),
    ('PATCH', '/v2/topics/t', {'body': '', 'headers': {'Content-Type': JSON_PATCH}}, 400),
    ('GET', '/v2/topics', {'params': {'limit': '0'}}, 400),
    ('POST', '/v2/topics/t/purge', {'body': '{"resource_types": ["claims"]}'}, 400),
    ('POST', '/v2/topics/bad%20name/messages', {'body': '{"messages": [{"body": 1}]}'}, 400),
    ('DELETE', '/v2/topics/t/messages', {'params': {'pop': '0'}}, 400),
    ('GET', '/v2/topics/t/messages', {'params': {'limit': '1000'}}, 400),
    ('POST', '/v2/topics/t/claims', {'body': '{}'}, 404),
])
def test_bad_input_is_refused_before_storage(method, path, kwargs, status):
    resp = client(_untouched()).simulate_request(method, path, **kwargs)
    doc = assert_error(resp, status)
    if 'name' in path or 'x' * 65 in path or '..' in path:
        assert 'topic' in doc['description'].lower(), doc
