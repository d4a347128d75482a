"""Posts to one queue that arrive together share one batch object
(zaqar_swift/storage/swift/posts.py), over HTTP against the real Swift.

The first post's PUT is held back by the proxy's fault filter, so the
posts sent meanwhile are certain to wait for it and to be written as one
object after it.
"""
import concurrent.futures
import time

from functional import helpers as h
from zaqar_swift.storage.swift import naming
from zaqar_swift.testing.saio.faults import Rule

BODY_PUT = r'\.%s/m/[0-9a-f]{22}/b$'


def _post_behind_a_slow_one(t, queue, faults, posters, delay=1.0):
    """Post one message as ``t`` (its PUT delayed), then two messages per
    poster while it is in flight; the answers, the first's first. (The
    queue's container must exist: a post to a new one PUTs twice.)"""
    rule = faults.add(Rule(method='PUT', path=BODY_PUT % queue, action='delay',
                           seconds=delay, times=1))
    with concurrent.futures.ThreadPoolExecutor(len(posters) + 1) as pool:
        first = pool.submit(t.post, f'/v2/queues/{queue}/messages',
                            json={'messages': [{'body': {'by': 'first'}, 'ttl': 300}]})
        h.wait_until(lambda: faults.hits(rule) == 1, 10, interval=0.01,
                     what='the first PUT held back')
        later = [pool.submit(p.post, f'/v2/queues/{queue}/messages',
                             json={'messages': [{'body': {'by': i}, 'ttl': 300},
                                                {'body': {'by': i, 'second': True},
                                                 'ttl': 300}]})
                 for i, p in enumerate(posters)]
        return [f.result() for f in [first] + later]


def test_posts_sent_during_another_post_share_one_object(api, faults):
    t = h.Tenant(api.url)
    t.create_queue('grouped')
    t.post_bodies('grouped', 1)                 # its container exists now
    posters = [t.peer() for _ in range(5)]
    answers = _post_behind_a_slow_one(t, 'grouped', faults, posters)
    for resp in answers:
        assert resp.status_code == 201, h.describe(resp)
    ids = [resp.json()['resources'] for resp in answers]
    flat = [i.rsplit('/', 1)[-1] for r in ids for i in r]
    assert len(flat) == len(set(flat)) == 11
    # 6 posts, 2 objects: the held-back one and one for the 5 that waited
    assert len({naming.split_message_id(mid)[0] for mid in flat}) == 2
    assert len({naming.split_message_id(mid)[0] for mid in flat[1:]}) == 1
    # every poster reads back its own messages, in its own order
    for i, r in enumerate(ids[1:]):
        bodies = [t.get(path).json()['body'] for path in r]
        assert bodies == [{'by': i}, {'by': i, 'second': True}]
    # echo=false still leaves out the caller's own messages, and only those
    for i, poster in enumerate(posters):
        listed = [m['body'] for m in poster.walk_messages('grouped', echo='false')]
        assert {'by': i} not in listed and len(listed) == 10


def test_a_failed_shared_write_fails_every_post_in_it_and_stores_none(api, faults):
    t = h.Tenant(api.url)
    t.create_queue('failing')
    t.post_bodies('failing', 1)                 # its container exists now
    posters = [t.peer() for _ in range(3)]
    delay = faults.add(Rule(method='PUT', path=BODY_PUT % 'failing', action='delay',
                            seconds=1.0, times=1))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        first = pool.submit(t.post, '/v2/queues/failing/messages',
                            json={'messages': [{'body': 'first', 'ttl': 300}]})
        h.wait_until(lambda: faults.hits(delay) == 1, 10, interval=0.01, what='held back')
        failing = faults.add(Rule(method='PUT', path=BODY_PUT % 'failing', action='fail',
                                  status=503))
        later = [pool.submit(p.post, '/v2/queues/failing/messages',
                             json={'messages': [{'body': 'lost', 'ttl': 300}]})
                 for p in posters]
        answers = [first.result()] + [f.result() for f in later]
    assert answers[0].status_code == 201, h.describe(answers[0])
    for resp in answers[1:]:
        assert resp.status_code == 503, h.describe(resp)
        assert resp.headers.get('Retry-After')
    assert faults.hits(failing) >= 1
    faults.clear()
    bodies = [m['body'] for m in t.walk_messages('failing', echo='true')]
    assert bodies == [{'n': 0}, 'first']


def test_a_lone_post_is_not_held_back(api):
    t = h.Tenant(api.url)
    t.create_queue('alone')
    began = time.monotonic()
    for _ in range(5):
        t.post_bodies('alone', 1)
    assert len(t.listed_ids('alone', echo='true')) == 5
    assert time.monotonic() - began < 10
