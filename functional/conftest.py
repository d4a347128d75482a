"""Fixtures of the functional tests: a real local Swift and real API processes.

``swift``       one LocalSwift per session, in a temporary directory, on free
                ports; a test run fails (never skips) when it cannot start.
``api_factory`` ``api_factory(**overrides)`` starts one more zaqar-swift-api
                process on a free port against that Swift and returns an
                :class:`ApiServer` once ``GET /v2/ping`` answers 204. Keyword
                arguments are DEFAULT options (``auth_strategy='noauth'``) or,
                given a dict, options of that group
                (``limits={'max_messages_per_page': 5}``). Every process it
                started is stopped at the end of the session.
``api``         the API with the default configuration, shared by the session.
``ws_factory``  ``ws_factory(**overrides)`` starts one zaqar-swift-websocket
                process on a free port against that Swift (same overrides as
                ``api_factory``) and returns a :class:`WebsocketServer` once a
                ``ping`` action is answered.
``ws``          the websocket server with the default configuration.

For tests that break Swift (remove a device, stop the proxy, kill a process):

``own_swift``        a LocalSwift of this test alone (fresh data dir, free
                     ports), stopped at the end of the test.
``own_api_factory``  like ``api_factory``, against ``own_swift``; what it
                     started is stopped at the end of the test.

Both Swifts have the fault filter in their proxy: ``swift.faults.add(Rule(
...))`` (:mod:`zaqar_swift.testing.saio.faults`); clear what you add.
``faults`` is the session Swift's, cleared before and after the test.

Against a real Keystone (only the tests that ask for these start them):

``keystone``             a LocalKeystone of the session
                         (:mod:`zaqar_swift.testing.keystone`).
``keystone_swift``       a second LocalSwift whose proxy authenticates with
                         that Keystone (auth_token + keystoneauth); its
                         object-store endpoint is in the catalog.
``keystone_ws_factory``  like ``ws_factory``, with the configuration of
                         ``keystone_api_factory`` (auth_strategy = keystone).
``keystone_api_factory`` like ``api_factory``, against ``keystone_swift``
                         with ``auth_strategy = keystone``: tokens validated
                         by auth_token as the ``zaqar`` service user, Swift
                         reached as that user through keystoneauth1 and the
                         catalog. The factory's ``service`` attribute holds
                         those credentials.

Every test shares the one Swift: use a project (X-Project-ID) of your own.
"""
from __future__ import annotations

import os
import signal
from typing import Any, Callable, Iterator

import pytest

from functional.receiver import Receiver
from zaqar_swift.testing.api import LocalApi
from zaqar_swift.testing.keystone import LocalKeystone
from zaqar_swift.testing.ports import free_port_block
from zaqar_swift.testing.saio import LocalSwift
from zaqar_swift.testing.saio.faults import FaultsClient
from zaqar_swift.testing.websocket import LocalWebsocket

SWIFT_START_TIMEOUT = 60.0
KEYSTONE_START_TIMEOUT = 180.0
API_START_TIMEOUT = 30.0


class ApiServer(LocalApi):
    """One zaqar-swift-api process started by the fixtures; a failure to
    start fails the test run (never skips it)."""

    def __init__(self, swift: LocalSwift, workdir: str, port: int,
                 overrides: dict[str, object],
                 ready: tuple[str, int] = ('/v2/ping', 204)) -> None:
        self.swift = swift
        super().__init__(os.path.join(workdir, 'api-%d.conf' % port),
                         os.path.join(workdir, 'api-%d.log' % port), port, ready)
        swift.write_api_conf(self.conf_path, bind_port=port, extra=_groups(overrides))

    def start(self, timeout: float = API_START_TIMEOUT) -> 'ApiServer':
        try:
            return super().start(timeout)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)


class WebsocketServer(LocalWebsocket):
    """One zaqar-swift-websocket process started by the fixtures."""

    def __init__(self, swift: LocalSwift, workdir: str, port: int,
                 overrides: dict[str, object]) -> None:
        super().__init__(os.path.join(workdir, 'ws-%d.conf' % port),
                         os.path.join(workdir, 'ws-%d.log' % port), port)
        groups = _groups(overrides)
        groups.setdefault('websocket', {})['bind_port'] = port
        swift.write_api_conf(self.conf_path, bind_port=free_port_block(1), extra=groups)

    def start(self, timeout: float = API_START_TIMEOUT) -> 'WebsocketServer':
        try:
            return super().start(timeout)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    # Swift and the API run in sessions of their own, so they outlive a
    # killed pytest. `timeout` and CI stop a run with SIGTERM: make it an
    # interrupt, after which pytest still tears the session fixtures down.
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt('SIGTERM')


# The settle delay of every API the tests start, unless a test sets one: the
# test machine (2 cores running Swift, APIs and storms at once) is a slow
# cluster, and Δ must stay above its LIST + PUT latency tail (design.md).
TEST_SETTLE_DELAY = 0.5


def _groups(overrides: dict[str, object]) -> dict[str, dict[str, object]]:
    """``a=1, limits={'b': 2}`` -> ``{'DEFAULT': {'a': 1}, 'limits': {'b': 2}}``,
    with the tests' settle delay unless ``swift`` sets another."""
    groups: dict[str, dict[str, object]] = {'swift': {'lease_settle_delay': TEST_SETTLE_DELAY}}
    for name, value in overrides.items():
        if isinstance(value, dict):
            groups.setdefault(name, {}).update(value)
        else:
            groups.setdefault('DEFAULT', {})[name] = value
    return groups


def _started(server: Any, timeout: float) -> Any:
    """``server`` started, or the test run failed (never skipped) with why."""
    try:
        server.start(timeout=timeout)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    return server


@pytest.fixture(scope='session')
def swift(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    """A running local Swift of this test session."""
    server = _new_swift(tmp_path_factory, 'saio')
    yield server
    server.stop()


def _new_swift(tmp_path_factory: pytest.TempPathFactory, name: str) -> LocalSwift:
    base = free_port_block(5)
    return _started(LocalSwift(str(tmp_path_factory.mktemp(name)), proxy_port=base,
                               base_port=base + 1), SWIFT_START_TIMEOUT)


def _api_starter(swift: LocalSwift, workdir: str, started: list[ApiServer]
                 ) -> Callable[..., ApiServer]:
    def start(**overrides: object) -> ApiServer:
        server = ApiServer(swift, workdir, free_port_block(1), overrides)
        started.append(server)
        return server.start()
    return start


@pytest.fixture(scope='session')
def api_factory(swift: LocalSwift, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[Callable[..., ApiServer]]:
    """Start zaqar-swift-api processes with extra options (see module doc)."""
    started: list[ApiServer] = []
    yield _api_starter(swift, str(tmp_path_factory.mktemp('api')), started)
    for server in started:
        server.stop()


@pytest.fixture
def own_swift(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    """A running local Swift of this test alone, which it may break."""
    server = _new_swift(tmp_path_factory, 'saio-own')
    yield server
    server.stop()


@pytest.fixture
def own_api_factory(own_swift: LocalSwift, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[Callable[..., ApiServer]]:
    """``api_factory`` against ``own_swift``."""
    started: list[ApiServer] = []
    yield _api_starter(own_swift, str(tmp_path_factory.mktemp('api-own')), started)
    for server in started:
        server.stop()


@pytest.fixture
def faults(swift: LocalSwift) -> Iterator[FaultsClient]:
    """The session Swift's fault filter, with no rule before or after the test."""
    swift.faults.clear()
    yield swift.faults
    swift.faults.clear()


@pytest.fixture(scope='session')
def api(api_factory: Callable[..., ApiServer]) -> ApiServer:
    """The API with its default configuration."""
    return api_factory()


@pytest.fixture(scope='session')
def ws_factory(swift: LocalSwift, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Callable[..., WebsocketServer]]:
    """Start zaqar-swift-websocket processes with extra options."""
    workdir = str(tmp_path_factory.mktemp('ws'))
    started: list[WebsocketServer] = []

    def start(**overrides: object) -> WebsocketServer:
        server = WebsocketServer(swift, workdir, free_port_block(1), overrides)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope='session')
def ws(ws_factory: Callable[..., WebsocketServer]) -> WebsocketServer:
    """The websocket server with its default configuration."""
    return ws_factory()


@pytest.fixture(scope='session')
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKeystone]:
    """A running local Keystone of this test session."""
    server = _started(LocalKeystone(str(tmp_path_factory.mktemp('keystone')),
                                    free_port_block(1)), KEYSTONE_START_TIMEOUT)
    yield server
    server.stop()


@pytest.fixture(scope='session')
def keystone_swift(keystone: LocalKeystone, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[LocalSwift]:
    """A running local Swift that takes Keystone tokens, in the catalog."""
    base = free_port_block(5)
    server = _started(LocalSwift(str(tmp_path_factory.mktemp('saio-keystone')),
                                 proxy_port=base, base_port=base + 1,
                                 keystone=keystone.swift_auth()), SWIFT_START_TIMEOUT)
    keystone.set_endpoint('object-store', 'swift', server.endpoint_template)
    yield server
    server.stop()


@pytest.fixture(scope='session')
def keystone_api_factory(keystone: LocalKeystone, keystone_swift: LocalSwift,
                         tmp_path_factory: pytest.TempPathFactory
                         ) -> Iterator[Callable[..., ApiServer]]:
    """Start zaqar-swift-api processes with auth_strategy = keystone."""
    workdir = str(tmp_path_factory.mktemp('api-keystone'))
    service = keystone.service_user()
    started: list[ApiServer] = []

    def start(**overrides: object) -> ApiServer:
        groups = keystone.api_options(service)
        for group, options in _groups(overrides).items():
            groups.setdefault(group, {}).update(options)
        # /v2/ping needs a token behind keystone; /healthcheck does not.
        server = ApiServer(keystone_swift, workdir, free_port_block(1), groups,
                           ready=('/healthcheck', 200))
        started.append(server)
        return server.start()

    start.service = service
    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope='session')
def keystone_ws_factory(keystone: LocalKeystone, keystone_swift: LocalSwift,
                        keystone_api_factory: Callable[..., ApiServer],
                        tmp_path_factory: pytest.TempPathFactory
                        ) -> Iterator[Callable[..., WebsocketServer]]:
    """Start zaqar-swift-websocket processes with auth_strategy = keystone."""
    workdir = str(tmp_path_factory.mktemp('ws-keystone'))
    started: list[WebsocketServer] = []

    def start(**overrides: object) -> WebsocketServer:
        groups = keystone.api_options(keystone_api_factory.service)
        for group, options in _groups(overrides).items():
            groups.setdefault(group, {}).update(options)
        server = WebsocketServer(keystone_swift, workdir, free_port_block(1), groups)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """``receivers(behaviour=None)``: a real HTTP webhook receiver
    (functional/receiver.py), closed at the end of the test."""
    made: list[Receiver] = []

    def make(behaviour=None) -> Receiver:
        made.append(Receiver(behaviour))
        return made[-1]
    yield make
    for receiver in made:
        receiver.close()
