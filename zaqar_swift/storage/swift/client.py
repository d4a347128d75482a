"""The one place that talks to python-swiftclient.

``SwiftClient`` keeps one keep-alive ``swiftclient.Connection`` per thread
(a Connection is not thread safe), counts every request it sends (per
thread, for the ``X-Swift-Requests`` header and the benchmarks, and in
total), and turns swiftclient's exceptions into two storage-level signals
(``Missing``, ``PreconditionFailed``) or the domain's ``StorageUnavailable``.
No other module imports swiftclient.
"""
from __future__ import annotations

import collections
import json
import logging
import math
import threading
import time
import urllib.parse
from typing import Any, Callable, Iterator, NamedTuple

from keystoneauth1 import exceptions as ks_exc
from requests import exceptions as requests_exc
from swiftclient import client as swiftclient
from swiftclient import exceptions as swift_exc

from zaqar_swift import errors

LOG = logging.getLogger(__name__)
BULK_MAX = 10000   # names in one bulk delete (Swift's max_deletes_per_request)
# The earliest X-Delete-At we send, in seconds from now: longer than a request
# can take to reach the proxy server (Swift refuses an X-Delete-At already
# past when the request arrives). Readers never rely on an object's removal
# to know it expired: they compare the times in names and content types.
EXPIRY_FLOOR = 60
# Pauses before the object PUT is tried again when a container just made is
# not yet seen by the proxy (a container replica or a racing creator behind).
NEW_CONTAINER_RETRIES = (0.05, 0.2)


class Missing(errors.NotFound):
    """The container or object does not exist (404). Storage code catches it
    where absence has a meaning; anywhere else it is the domain's 404 (the
    resource went away under the request)."""

    title = 'Not found'


class PreconditionFailed(errors.Conflict):
    """A conditional request lost (412), or a container is not empty (409);
    uncaught, the domain's 409."""

    title = 'Conflict'


def _domain_error(status: int | None, verb: str, detail: str) -> errors.ZaqarSwiftError:
    """Every Swift status as the domain error it means to our caller."""
    if status == 404:
        return Missing('The resource was removed while the request ran (storage %s '
                       'answered 404).' % verb)
    if status in (409, 412):
        return PreconditionFailed('The resource changed while the request ran; try '
                                  'again (storage %s answered %d).' % (verb, status))
    # Anything else is ours or Swift's to fix, never the client's: a 4xx
    # means a request we should not have sent (logged as an error).
    if status is not None and 400 <= status < 500:
        LOG.error('Swift refused a %s (%s): %s', verb, status, detail)
    else:
        LOG.warning('Swift %s failed: %s', verb, detail)
    return errors.StorageUnavailable(
        'The storage backend answered %s to a %s request; try again later.'
        % (status or 'nothing', verb))


def _conn_factory_v1(auth_url: str, user: str, key: str, timeout: float,
                     retries: int) -> Callable[[], swiftclient.Connection]:
    def factory() -> swiftclient.Connection:
        return swiftclient.Connection(authurl=auth_url, user=user, key=key,
                                      timeout=timeout, retries=retries,
                                      starting_backoff=0.1, max_backoff=2)
    return factory


def _conn_factory_session(session: Any, os_options: dict, timeout: float,
                          retries: int) -> Callable[[], swiftclient.Connection]:
    def factory() -> swiftclient.Connection:
        return swiftclient.Connection(session=session, os_options=os_options,
                                      timeout=timeout, retries=retries,
                                      starting_backoff=0.1, max_backoff=2)
    return factory


class Target(NamedTuple):
    """A container in an account: ``account`` None is the service's own
    account (layout "shared"); otherwise the project's (layout "per_project")."""

    account: str | None
    container: str | None


def _in_account(func: Callable[..., Any], account: str | None) -> Callable[..., Any]:
    """``func`` (a swiftclient request function) aimed at ``account`` instead
    of the account of the authenticated storage URL. Applied on every attempt,
    so a re-authentication inside swiftclient's retry loop cannot redirect a
    request to the service's own account. The account is one quoted path
    segment (``safe=''``: a ``/`` in it must not become a separator)."""
    if account is None:
        return func
    segment = urllib.parse.quote(account, safe='')

    def call(url: str, token: str, *args: Any, http_conn: Any = None, **kwargs: Any) -> Any:
        base = url.rstrip('/').rsplit('/', 1)[0]
        url = '%s/%s' % (base, segment)
        if http_conn is not None:
            http_conn = (urllib.parse.urlparse(url), http_conn[1])
        return func(url, token, *args, http_conn=http_conn, **kwargs)
    return call


class SwiftClient:
    """Swift requests with per-thread connections and request counting."""

    def __init__(self, connection_factory: Callable[[], swiftclient.Connection]) -> None:
        self._factory = connection_factory
        self._local = threading.local()
        self._lock = threading.Lock()
        self.totals: collections.Counter[str] = collections.Counter()

    @classmethod
    def v1(cls, auth_url: str, user: str, key: str, timeout: float = 30.0,
           retries: int = 3) -> 'SwiftClient':
        return cls(_conn_factory_v1(auth_url, user, key, timeout, retries))

    @classmethod
    def with_session(cls, session: Any, os_options: dict, timeout: float = 30.0,
                     retries: int = 3) -> 'SwiftClient':
        return cls(_conn_factory_session(session, os_options, timeout, retries))

    # -- bookkeeping ----------------------------------------------------------
    @property
    def _conn(self) -> swiftclient.Connection:
        conn = getattr(self._local, 'conn', None)
        if conn is None:
            conn = self._local.conn = self._factory()
        return conn

    def thread_count(self) -> int:
        """Requests sent by this thread since ``reset_thread_count``."""
        return getattr(self._local, 'count', 0)

    def reset_thread_count(self) -> None:
        self._local.count = 0

    def add_thread_count(self, requests: int) -> None:
        """Count requests made for this thread by a helper thread."""
        self._local.count = self.thread_count() + requests

    def _count(self, verb: str) -> None:
        self._local.count = getattr(self._local, 'count', 0) + 1
        with self._lock:
            self.totals[verb] += 1

    def _call(self, verb: str, where: Target | str | None, func: Callable[..., Any],
              *args: Any, **kwargs: Any) -> Any:
        """Send one request (swiftclient retries it) in ``where``'s account."""
        account, container = _split(where)
        self._count(verb)
        args = (container,) + args if container is not None else args
        try:
            return self._conn._retry(None, _in_account(func, account), *args, **kwargs)
        except swift_exc.ClientException as exc:
            raise _domain_error(exc.http_status, verb, str(exc)) from None
        except (OSError, requests_exc.RequestException, ks_exc.ClientException) as exc:
            # connection failures, and keystoneauth's failures to get a token or
            # find the object-store endpoint (session credentials)
            LOG.warning('Swift %s failed: %s', verb, exc)
            raise errors.StorageUnavailable(
                'The storage backend cannot be reached; try again later.') from exc

    # -- objects --------------------------------------------------------------
    def put_object(self, where: Target | str, name: str, body: bytes, content_type: str,
                   headers: dict[str, str] | None = None,
                   if_none_match: bool = False) -> str:
        """PUT an object; returns its etag. PreconditionFailed when
        ``if_none_match`` and the object exists."""
        headers = _future_expiry(headers)
        if if_none_match:
            headers['If-None-Match'] = '*'
        return self._call('PUT', where, swiftclient.put_object, name, body,
                          content_type=content_type, headers=headers)

    def put_object_creating(self, where: Target | str, name: str, body: bytes,
                            content_type: str, headers: dict[str, str] | None = None,
                            policy: str | None = None) -> str:
        """PUT an object, creating its container (with ``policy``) first when
        Swift answers that it is missing: containers are made lazily."""
        try:
            return self.put_object(where, name, body, content_type, headers)
        except Missing:
            self.put_container(where, policy)
        for pause in NEW_CONTAINER_RETRIES:
            try:
                return self.put_object(where, name, body, content_type, headers)
            except Missing:
                LOG.info('PUT %s: the container just created is not seen yet; '
                         'again in %.2f s', name, pause)
                time.sleep(pause)
        try:
            return self.put_object(where, name, body, content_type, headers)
        except Missing:
            raise errors.StorageUnavailable('The storage does not show a container it '
                                            'has just created; try again.') from None

    def get_object(self, where: Target | str, name: str,
                   newest: bool = False) -> tuple[dict[str, str], bytes]:
        headers = {'X-Newest': 'true'} if newest else {}
        return self._call('GET', where, swiftclient.get_object, name, headers=headers)

    def head_object(self, where: Target | str, name: str) -> dict[str, str]:
        return self._call('HEAD', where, swiftclient.head_object, name)

    def post_object(self, where: Target | str, name: str, headers: dict[str, str]) -> None:
        self._call('POST', where, swiftclient.post_object, name, _future_expiry(headers))

    def delete_object(self, where: Target | str, name: str) -> bool:
        """False when the object was already gone."""
        try:
            self._call('DELETE', where, swiftclient.delete_object, name)
        except Missing:
            return False
        return True

    def list_objects(self, where: Target | str, prefix: str | None = None,
                     marker: str | None = None, end_marker: str | None = None,
                     limit: int = 10000) -> list[dict[str, Any]]:
        """One page of a container listing (Missing when the container is)."""
        _, rows = self._call('LIST', where, swiftclient.get_container, prefix=prefix,
                             marker=marker, end_marker=end_marker, limit=limit)
        with self._lock:
            self.totals['rows'] += len(rows)   # listing rows read, for tests and benchmarks
        return rows

    def iter_objects(self, where: Target | str, prefix: str | None = None,
                     marker: str | None = None, end_marker: str | None = None,
                     page: int = 10000) -> Iterator[dict[str, Any]]:
        """Every row of a listing, a page at a time."""
        while True:
            rows = self.list_objects(where, prefix, marker, end_marker, page)
            yield from rows
            if len(rows) < page:
                return
            marker = rows[-1]['name']

    def delete_many(self, where: Target | str, names: list[str], bulk: bool = True) -> None:
        """Delete objects of one container: bulk requests of up to 10,000
        names, or one DELETE each where the cluster has no bulk middleware."""
        if not bulk:
            for name in names:
                self.delete_object(where, name)
            return
        for start in range(0, len(names), BULK_MAX):
            self.bulk_delete(where, names[start:start + BULK_MAX])

    # -- containers -----------------------------------------------------------
    def put_container(self, where: Target | str, policy: str | None = None) -> None:
        headers = {'X-Storage-Policy': policy} if policy else {}
        self._call('PUT', where, swiftclient.put_container, headers=headers)

    def delete_container(self, where: Target | str) -> bool:
        """False when missing; PreconditionFailed when not empty."""
        try:
            self._call('DELETE', where, swiftclient.delete_container)
        except Missing:
            return False
        return True

    def head_account(self, account: str | None = None) -> dict[str, str]:
        return self._call('HEAD', Target(account, None), swiftclient.head_account)

    def list_containers(self, account: str | None = None, prefix: str | None = None,
                        marker: str | None = None, limit: int = 10000
                        ) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """One page of an account listing (name, count, bytes) and the
        account's headers (operator tools)."""
        return self._call('LIST', Target(account, None), swiftclient.get_account,
                          prefix=prefix, marker=marker, limit=limit)

    def info(self) -> dict[str, Any]:
        """The cluster's capabilities (``GET /info``; operator tools)."""
        self._count('INFO')
        try:
            return self._conn.get_capabilities()
        except swift_exc.ClientException as exc:
            raise _domain_error(exc.http_status, 'INFO', str(exc)) from None
        except (OSError, requests_exc.RequestException, ks_exc.ClientException) as exc:
            raise errors.StorageUnavailable(
                'The storage backend cannot be reached; try again later.') from exc

    # -- bulk delete ----------------------------------------------------------
    def bulk_delete(self, where: Target | str, names: list[str]) -> int:
        """Delete many objects of one container in one request (Swift's bulk
        middleware, at most 10,000 names). Returns how many were deleted or
        already absent."""
        if not names:
            return 0
        if len(names) == 1:
            self.delete_object(where, names[0])
            return 1
        account, container = _split(where)
        body = '\n'.join(urllib.parse.quote('/%s/%s' % (container, n))
                         for n in names).encode('utf-8')
        result = self._call('BULK', Target(account, None), _bulk_delete, body)
        errs = result.get('Errors') or []
        if errs:
            LOG.warning('bulk delete in %s left %d errors: %s', container,
                        len(errs), errs[:3])
            raise errors.StorageUnavailable('The storage backend failed to '
                                            'delete some objects; try again.')
        return int(result.get('Number Deleted', 0)) + int(result.get('Number Not Found', 0))


def _future_expiry(headers: dict[str, str] | None) -> dict[str, str]:
    """``headers`` with an X-Delete-At no earlier than a moment from now:
    Swift refuses (400) one in the past, which a write that came late (a
    slow claim, a loaded cluster) would otherwise send. An object due to
    expire by then is dead to every reader anyway."""
    headers = dict(headers or {})
    if 'X-Delete-At' in headers:
        floor = math.ceil(time.time()) + EXPIRY_FLOOR
        headers['X-Delete-At'] = str(max(int(headers['X-Delete-At']), floor))
    return headers


def _split(where: Target | str | None) -> tuple[str | None, str | None]:
    if isinstance(where, Target):
        return where.account, where.container
    return None, where


def _bulk_delete(url: str, token: str, body: bytes, http_conn: Any = None,
                 service_token: str | None = None) -> dict[str, Any]:
    parsed, conn = http_conn
    headers = {'X-Auth-Token': token, 'Content-Type': 'text/plain',
               'Accept': 'application/json'}
    conn.request('POST', parsed.path + '?bulk-delete', body, headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status < 200 or resp.status >= 300:
        raise swift_exc.ClientException.from_response(resp, 'Bulk delete failed', data)
    return json.loads(data or b'{}')
