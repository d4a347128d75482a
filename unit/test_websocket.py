"""The websocket transport without Swift: frames, the action table against
the policy rules, the dispatcher's order of checks (keystone with a stub
token check), the push cursor, and the 4003 close of an expired token."""
from __future__ import annotations

import asyncio
import json
import time

import msgpack
import pytest
from oslo_context import context
from websockets.asyncio import client as ws_client

from zaqar_swift import conf
from zaqar_swift import errors
from zaqar_swift import policies
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift.store import Cursor
from zaqar_swift.transport.websocket import actions
from zaqar_swift.transport.websocket import frames
from zaqar_swift.transport.websocket import server
from zaqar_swift.transport.websocket import subscriptions
from zaqar_swift.transport.websocket.keystone import Identity
from zaqar_swift.transport.websocket.session import Dispatcher, Session

try:
    from unit.test_wsgi_stub import CLIENT_ID, HEADERS, LIMITS, PROJECT, StubService
except ImportError:  # unit/ is not a package: pytest put it on sys.path
    from test_wsgi_stub import CLIENT_ID, HEADERS, LIMITS, PROJECT, StubService

ENFORCER = policies.build_enforcer(conf.defaults())


def request(action: str, body: dict | None = None, headers: dict | None = None,
            binary: bool = False) -> frames.Request:
    return frames.Request(action, HEADERS if headers is None else headers, body or {}, binary)


class Tokens:
    """A token check: 'good' is project 'kp' until ``expires``."""

    def __init__(self, expires: float | None = None) -> None:
        self.expires = expires

    def __call__(self, token):
        if token != 'good':
            raise errors.Unauthorized('bad token')
        ctx = context.RequestContext(project_id='kp', user_id='u', roles=['member'])
        return Identity(ctx, self.expires)


def dispatch(dispatcher: Dispatcher, session: Session, *args, **kwargs) -> tuple[int, dict]:
    reply = dispatcher.handle(session, request(*args, **kwargs))
    return reply['headers']['status'], reply['body']


# -- frames ------------------------------------------------------------------------
@pytest.mark.parametrize('frame', ['{', b'\xc1', '[' * 5000 + ']' * 5000])
def test_undecodable_frames_are_invalid_requests(frame):
    with pytest.raises(errors.InvalidRequest):
        frames.decode(frame)


@pytest.mark.parametrize('document', [[], {'action': ''}, {'action': 'x', 'headers': []},
                                      {'action': 'x', 'headers': {'a': 1}},
                                      {'action': 'x', 'body': 3}])
def test_malformed_requests_are_refused(document):
    with pytest.raises(errors.InvalidRequest):
        frames.request(document, False)


def test_replies_come_back_in_the_request_format():
    req = request('ping', binary=True)
    reply = frames.reply(req, 204, {})
    assert msgpack.unpackb(frames.encode(reply, True)) == reply
    assert json.loads(frames.encode(reply, False))['request']['api'] == 'v2'


# -- the action table --------------------------------------------------------------
def test_every_action_mirrors_a_rest_operation_with_a_rule():
    rules = policies.operations()
    for name, action in actions.ACTIONS.items():
        assert (action.path, action.method) in rules, name
    assert subscriptions.PUSH_RULE[::-1] in rules


def test_core_subscription_calls_name_methods_of_the_service():
    import inspect

    from zaqar_swift.service import MessagingService
    for call in subscriptions.CORE.values():
        method = getattr(MessagingService, call.name)
        names = list(inspect.signature(method).parameters)[1:]
        expected = ['project', 'queue'] + (['sid'] if call.id_key else []) + (
            ['document'] if call.document else []) + (['marker', 'limit'] if call.query else [])
        if call.name == 'share_queue':
            expected[1] = 'name'
        assert names == expected, (call.name, names)


# -- the dispatcher -------------------------------------------------------------------
def test_noauth_calls_the_service_like_rest():
    stub = StubService()
    dispatcher = Dispatcher(stub, LIMITS, 'noauth', ENFORCER)
    assert dispatch(dispatcher, Session(), 'queue_create', {'queue_name': 'q'}) == (201, {})
    assert stub.last('create_queue') == (PROJECT, 'q', None)
    assert dispatch(dispatcher, Session(), 'message_post', {
        'queue_name': 'q', 'messages': [{'body': 1}]})[0] == 201
    assert stub.last('post_messages') == (PROJECT, 'q', CLIENT_ID, {'messages': [{'body': 1}]})


def test_order_of_checks_unknown_action_then_headers():
    dispatcher = Dispatcher(StubService(), LIMITS, 'noauth', ENFORCER)
    assert dispatch(dispatcher, Session(), 'nope')[0] == 400
    status, body = dispatch(dispatcher, Session(), 'queue_get', {'queue_name': 'q'},
                            headers={'X-Project-ID': PROJECT})
    assert status == 400 and 'Client-ID' in body['description']
    assert dispatch(dispatcher, Session(), 'health')[0] == 403


def test_unexpected_errors_are_500_without_internals():
    stub = StubService()
    stub.raises['get_queue'] = RuntimeError('secret detail')
    status, body = dispatch(Dispatcher(stub, LIMITS, 'noauth', ENFORCER), Session(),
                            'queue_get', {'queue_name': 'q'})
    assert status == 500 and 'secret' not in json.dumps(body)


def test_keystone_serves_nothing_before_authenticate():
    stub = StubService()
    dispatcher = Dispatcher(stub, LIMITS, 'keystone', ENFORCER, Tokens())
    session = Session()
    assert dispatch(dispatcher, session, 'ping')[0] == 401
    assert dispatch(dispatcher, session, 'queue_get', {'queue_name': 'q'})[0] == 401
    assert stub.calls == []
    assert dispatch(dispatcher, session, 'authenticate',
                    headers={'X-Auth-Token': 'bad'})[0] == 401
    assert dispatch(dispatcher, session, 'authenticate',
                    headers={'X-Auth-Token': 'good'}) == (200, {'message': 'Authentified.'})
    assert dispatch(dispatcher, session, 'ping')[0] == 204
    # The token's project, whatever X-Project-ID says (as auth_token does in REST).
    assert dispatch(dispatcher, session, 'queue_get', {'queue_name': 'q'})[0] == 200
    assert stub.last('get_queue') == ('kp', 'q')


def test_keystone_expired_token_is_unauthenticated():
    dispatcher = Dispatcher(StubService(), LIMITS, 'keystone', ENFORCER,
                            Tokens(expires=time.time() - 1))
    session = Session()
    dispatch(dispatcher, session, 'authenticate', headers={'X-Auth-Token': 'good'})
    assert dispatch(dispatcher, session, 'ping')[0] == 401


def test_core_subscription_actions_answer_501_until_the_core_has_them():
    dispatcher = Dispatcher(StubService(), LIMITS, 'noauth', ENFORCER)
    for action in subscriptions.CORE:
        body = {'queue_name': 'q', 'subscription_id': 's', 'subscriber': 'http://x'}
        assert dispatch(dispatcher, Session(), action, body)[0] == 501, action


# -- the push cursor ---------------------------------------------------------------------
def batch(seconds: float, rand: int = 1) -> str:
    return naming.batch_id(int(seconds * 1e6), rand)


def test_cursor_news_is_after_the_floor_and_unseen():
    cursor = Cursor(floor=100.0, window=5.0)
    assert not cursor.is_news(batch(99.9))
    assert cursor.is_news(batch(100.0))
    assert cursor.start(now=103.0) == 100_000_000          # the floor
    cursor.advance([batch(100.5), batch(101)], now=110.0)
    assert cursor.start(now=110.0) == 105_000_000          # the window
    cursor.advance([batch(106), batch(107)], now=110.0)
    assert not cursor.is_news(batch(106)) and cursor.is_news(batch(108))
    cursor.advance([], now=120.0)
    assert cursor.start(now=120.0) == 115_000_000


# -- the server: 4003 when the token expires ------------------------------------------------
def test_connection_is_closed_with_4003_when_the_token_expires():
    async def scenario() -> int:
        dispatcher = Dispatcher(StubService(), LIMITS, 'keystone', ENFORCER,
                                Tokens(expires=time.time() + 0.5))
        ws = server.Server(dispatcher, None, '127.0.0.1', 0, 65536, 10, 2)
        stopping, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(ws.serve(stopping, ready.set))
        await ready.wait()
        async with ws_client.connect(f'ws://127.0.0.1:{ws.port}/') as conn:
            await conn.send(json.dumps({'action': 'authenticate',
                                        'headers': {'X-Auth-Token': 'good'}}))
            assert json.loads(await conn.recv())['headers']['status'] == 200
            await asyncio.wait_for(conn.wait_closed(), 5)
            code = conn.close_code
        stopping.set()
        await task
        return code

    assert asyncio.run(scenario()) == 4003
