"""Faults injected into the real local Swift through its proxy's fault filter
(zaqar_swift.testing.saio.faults): each action, ``times``, bulk-delete
subrequests, the API's answer to a failing Swift, and the control channel
of the Keystone-backed proxy."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests
from swiftclient import client as swiftclient

from zaqar_swift.testing.saio.faults import Rule

try:
    from functional import helpers as h
except ImportError:   # functional/ run as rootdir-less modules
    import helpers as h

# Long enough for the checks made while a row is hidden, on a loaded machine.
HIDE_S = 4.0


@pytest.fixture
def conn(swift) -> swiftclient.Connection:
    return swiftclient.Connection(swift.auth_url, swift.user, swift.key, retries=0)


@pytest.fixture
def container(conn) -> str:
    name = 'faults-' + uuid.uuid4().hex[:12]
    conn.put_container(name)
    return name


def timed(func, *args, **kwargs) -> float:
    began = time.monotonic()
    func(*args, **kwargs)
    return time.monotonic() - began


def listed(conn, container: str) -> list[str]:
    return [row['name'] for row in conn.get_container(container)[1]]


def test_the_filter_is_inert_by_default(swift):
    assert swift.faults.rules() == []


def test_delay_lands_the_request_late_and_times_bounds_it(faults, conn, container):
    rule_id = faults.add(Rule(method='PUT', path=r'/%s/o$' % container, action='delay',
                              seconds=0.6, times=1))
    assert timed(conn.put_object, container, 'o', b'1') >= 0.6
    conn.put_object(container, 'o', b'2')
    assert faults.hits(rule_id) == 1, 'times=1: the second PUT passed undelayed'


def test_delay_response_answers_late_after_the_write_landed(faults, swift, conn, container):
    faults.add(Rule(method='PUT', path=r'/%s/o$' % container, action='delay_response',
                    seconds=3.0))
    done: list[float] = []
    began = time.monotonic()
    writer = threading.Thread(target=lambda: (conn.put_object(container, 'o', b'late news'),
                                              done.append(time.monotonic() - began)))
    writer.start()
    reader = swiftclient.Connection(swift.auth_url, swift.user, swift.key, retries=0)
    seen = h.wait_until(lambda: _readable(reader, container, 'o'), timeout=10,
                        interval=0.05, what='the object readable')
    seen_at = time.monotonic() - began
    writer.join(10)
    assert seen == b'late news'
    assert done and done[0] >= 3.0, done
    assert seen_at < done[0], ('readable only after the PUT returned', seen_at, done)


def _readable(conn, container: str, name: str) -> bytes | None:
    try:
        return conn.get_object(container, name)[1]
    except swiftclient.ClientException as exc:
        assert exc.http_status == 404
        return None


def test_fail_answers_503_without_passing_the_request_on(faults, conn, container):
    conn.put_object(container, 'o', b'x', headers={'X-Object-Meta-Colour': 'blue'})
    rule_id = faults.add(Rule(method='POST', path=r'/%s/o$' % container, action='fail'))
    with pytest.raises(swiftclient.ClientException) as exc:
        conn.post_object(container, 'o', {'X-Object-Meta-Colour': 'red'})
    assert exc.value.http_status == 503
    assert conn.head_object(container, 'o')['x-object-meta-colour'] == 'blue'
    faults.add(Rule(method='GET', path=r'/%s/o$' % container, action='fail', status=507,
                    times=1))
    with pytest.raises(swiftclient.ClientException) as exc:
        conn.get_object(container, 'o')
    assert exc.value.http_status == 507
    assert conn.get_object(container, 'o')[1] == b'x'
    assert faults.hits(rule_id) == 1


def test_hide_keeps_a_put_readable_but_out_of_listings_for_a_while(faults, conn, container):
    conn.put_object(container, 'a', b'a')
    rule_id = faults.add(Rule(method='PUT', path=r'/%s/h' % container, action='hide',
                              seconds=HIDE_S, times=1))
    conn.put_object(container, 'h1', b'hidden')
    hidden_at = time.monotonic()
    conn.put_object(container, 'h2', b'times=1: listed at once')
    assert conn.get_object(container, 'h1')[1] == b'hidden'
    assert listed(conn, container) == ['a', 'h2']
    plain = requests.get('%s/%s' % (conn.url, container), timeout=10,
                         headers={'X-Auth-Token': conn.token})
    assert plain.text.split() == ['a', 'h2'], 'text listings are filtered too'
    assert int(conn.head_container(container)['x-container-object-count']) == 3
    h.wait_until(lambda: 'h1' in listed(conn, container), timeout=HIDE_S + 10,
                 interval=0.1, what='the hidden object listed again')
    assert time.monotonic() - hidden_at >= HIDE_S - 0.1
    assert listed(conn, container) == ['a', 'h1', 'h2']
    assert faults.hits(rule_id) == 1


def test_bulk_delete_subrequests_meet_the_rules(faults, conn, container):
    for name in ('b1', 'b2', 'b3'):
        conn.put_object(container, name, b'x')
    rule_id = faults.add(Rule(method='DELETE', path=r'/%s/b2$' % container,
                              query='^bulk-delete$', action='fail'))
    resp = requests.post(conn.url + '?bulk-delete', timeout=30,
                         data=''.join('/%s/%s\n' % (container, n) for n in ('b1', 'b2', 'b3')),
                         headers={'X-Auth-Token': conn.token, 'Accept': 'application/json',
                                  'Content-Type': 'text/plain'})
    result = resp.json()
    assert result['Number Deleted'] == 2, result
    assert result['Errors'] == [['/%s/b2' % container, '503 Service Unavailable']]
    assert faults.hits(rule_id) == 1
    conn.delete_object(container, 'b2')   # a plain DELETE has no bulk-delete query
    assert listed(conn, container) == []


def test_the_api_answers_503_with_retry_after_when_swift_fails_its_writes(faults, api):
    tenant = h.Tenant(api.url)
    tenant.create_queue('q')
    rule_id = faults.add(Rule(method='PUT', path=r'\.%s\.q/m/' % tenant.project,
                              action='fail'))
    resp = tenant.post('/v2/queues/q/messages', json={'messages': [{'body': 1}]})
    assert resp.status_code == 503, h.describe(resp)
    assert resp.headers.get('Retry-After') and resp.json()['title'], h.describe(resp)
    assert faults.hits(rule_id) >= 1
    faults.clear()
    assert tenant.post_bodies('q', 1) and tenant.stats('q')['free'] == 1


def test_keystone_proxy_has_the_filter_and_its_control_needs_no_token(keystone,
                                                                      keystone_swift):
    faults = keystone_swift.faults
    faults.clear()
    try:
        creds = keystone.user('faults-' + uuid.uuid4().hex[:6], 'faults-project', ('member',))
        url = 'http://127.0.0.1:%d/v1/AUTH_%s' % (keystone_swift.proxy_port,
                                                  creds.project_id)
        conn = swiftclient.Connection(preauthurl=url, preauthtoken=keystone.token(creds),
                                      retries=0)
        conn.put_container('c')
        rule_id = faults.add(Rule(method='PUT', path=r'AUTH_%s/c/o$' % creds.project_id,
                                  action='fail', status=500, times=1))
        with pytest.raises(swiftclient.ClientException) as exc:
            conn.put_object('c', 'o', b'x')
        assert exc.value.http_status == 500
        conn.put_object('c', 'o', b'x')
        assert faults.hits(rule_id) == 1
    finally:
        faults.clear()


def test_a_hidden_batch_reaches_api_listings_late(faults, api):
    """The API's own (swiftclient, JSON) listings see what the filter hides."""
    tenant = h.Tenant(api.url)
    tenant.create_queue('q')
    rule_id = faults.add(Rule(method='PUT', path=r'\.%s\.q/m/[0-9a-f]{22}/b$' % tenant.project,
                              action='hide', seconds=HIDE_S, times=1))
    posted = tenant.post_bodies('q', 2)
    assert faults.hits(rule_id) == 1
    assert tenant.listed_ids('q', echo=True) == []
    h.wait_until(lambda: tenant.listed_ids('q', echo=True) == posted, timeout=HIDE_S + 10,
                 interval=0.2, what='the batch listed')
