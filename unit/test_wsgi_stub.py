"""A stub MessagingService for the REST transport's unit tests, and the test
that keeps it honest: every stub method has the real method's parameters.

``untouched_service()`` is the real service over storage that fails the test
when touched: with it, a request that the core must refuse before any Swift
request can be sent through the whole stack."""
from __future__ import annotations

import inspect
import uuid
from typing import Any

from falcon import testing

from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.transport.wsgi import build_wsgi_app

LIMITS = validation.Limits.defaults()
PROJECT = 'proj-1'
CLIENT_ID = str(uuid.UUID('3381af92-2b9e-11e3-b191-71861300734d'))
HEADERS = {'X-Project-ID': PROJECT, 'Client-ID': CLIENT_ID}
JSON_PATCH = 'application/openstack-messaging-v2.0-json-patch'


def message(mid: str, claim_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A message as the service returns it."""
    return dict({'id': mid, 'body': {'n': mid}, 'ttl': 300, 'age': 4,
                 'claim_id': claim_id, 'claim_count': 1 if claim_id else 0}, **extra)


class StubService:
    """Records calls as ``(name, *args)``; returns ``returns[name]``; raises
    ``raises[name]`` when set. Counts Swift requests like the real one."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.raises: dict[str, BaseException] = {}
        self.returns: dict[str, Any] = {
            'health': {'storage_reachable': True},
            'create_queue': True,
            'get_queue': validation.queue_defaults(LIMITS),
            'update_queue': {'k': 1},
            'list_queues': ([], None, None),
            'queue_stats': {'messages': {'free': 0, 'claimed': 0, 'delayed': 0, 'total': 0}},
            'post_messages': ['m1', 'm2'],
            'list_messages': ([], None),
            'get_message': message('m1'),
            'get_messages': [message('m1')],
            'pop_messages': [message('m1', 'c9')],
            'create_claim': (None, []),
            'get_claim': {'id': 'c1', 'ttl': 60, 'grace': 30, 'age': 2,
                          'messages': [message('m1', 'c1')]},
        }
        self.swift_requests = 0

    def _call(self, name: str, *args: Any) -> Any:
        self.calls.append((name,) + args)
        self.swift_requests += 2
        if name in self.raises:
            raise self.raises[name]
        return self.returns.get(name)

    def last(self, name: str) -> tuple:
        """The arguments of the last call to ``name``."""
        return [c for c in self.calls if c[0] == name][-1][1:]

    def reset_request_count(self) -> None:
        self.swift_requests = 0

    def swift_request_count(self) -> int:
        return self.swift_requests

    def health(self):
        return self._call('health')

    def create_queue(self, project, name, metadata):
        return self._call('create_queue', project, name, metadata)

    def get_queue(self, project, name):
        return self._call('get_queue', project, name)

    def update_queue(self, project, name, patch):
        return self._call('update_queue', project, name, patch)

    def delete_queue(self, project, name):
        return self._call('delete_queue', project, name)

    def list_queues(self, project, marker=None, limit=None, detailed=False, name=None,
                    with_count=False):
        return self._call('list_queues', project, marker, limit, detailed, name, with_count)

    def queue_stats(self, project, name):
        return self._call('queue_stats', project, name)

    def purge_queue(self, project, name, document):
        return self._call('purge_queue', project, name, document)

    def post_messages(self, project, queue, client_id, document):
        return self._call('post_messages', project, queue, client_id, document)

    def list_messages(self, project, queue, client_id, marker=None, limit=None, echo=False,
                      include_claimed=False, include_delayed=False, wait=None):
        return self._call('list_messages', project, queue, client_id, marker, limit, echo,
                          include_claimed, include_delayed, *_given(wait))

    def get_message(self, project, queue, message_id):
        return self._call('get_message', project, queue, message_id)

    def get_messages(self, project, queue, ids):
        return self._call('get_messages', project, queue, ids)

    def delete_message(self, project, queue, message_id, claim_id=None):
        return self._call('delete_message', project, queue, message_id, claim_id)

    def delete_messages(self, project, queue, ids, claim_ids=None):
        return self._call('delete_messages', project, queue, ids, claim_ids)

    def delete_many(self, project, queue, client_id, ids=None, pop=None, claim_ids=None):
        return self._call('delete_many', project, queue, client_id, ids, pop, claim_ids)

    def pop_messages(self, project, queue, client_id, count):
        return self._call('pop_messages', project, queue, client_id, count)

    def create_claim(self, project, queue, client_id, document=None, limit=None, wait=None):
        return self._call('create_claim', project, queue, client_id, document, limit,
                          *_given(wait))

    def get_claim(self, project, queue, claim_id):
        return self._call('get_claim', project, queue, claim_id)

    def update_claim(self, project, queue, claim_id, document):
        return self._call('update_claim', project, queue, claim_id, document)

    def delete_claim(self, project, queue, claim_id):
        return self._call('delete_claim', project, queue, claim_id)


class Untouchable:
    """Storage that must not be reached: any use fails the test."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        raise AssertionError(f'{self._name}.{attr} used: the request reached storage')

    def reset_thread_count(self) -> None:   # request accounting is not storage
        pass

    def thread_count(self) -> int:
        return 0


def untouched_service(limits: validation.Limits = LIMITS) -> MessagingService:
    """The real service over storage that fails the test when touched."""
    return MessagingService(Untouchable('client'), Untouchable('catalog'),
                            Untouchable('store'), limits)


def client(service: Any = None, limits: validation.Limits = LIMITS,
           auth_strategy: str = 'noauth', headers: dict | None = None) -> testing.TestClient:
    """A test client over the whole WSGI stack (request id, access log, app)."""
    stack = build_wsgi_app(service if service is not None else StubService(), limits,
                           auth_strategy)
    return testing.TestClient(lambda environ, start: stack(environ, start),
                              headers=HEADERS if headers is None else headers)


def _params(func: Any) -> list[tuple[str, Any]]:
    return [(p.name, p.default) for p in inspect.signature(func).parameters.values()]


def test_stub_methods_have_the_service_signatures():
    public = [n for n in vars(StubService) if not n.startswith('_') and n != 'last']
    assert len(public) > 20
    for name in public:
        assert hasattr(MessagingService, name), name
        assert _params(getattr(StubService, name)) == _params(getattr(MessagingService, name))


def _given(wait):
    """``wait`` as a recorded argument only when the request had one."""
    return () if wait is None else (wait,)
