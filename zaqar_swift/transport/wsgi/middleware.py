"""Filters around the REST app, one concern each: the Swift request count
of a request, content negotiation, policy enforcement, the access log, and
the size of a body."""
from __future__ import annotations

import functools
import logging
import sys
import time
from typing import Any, Callable, Iterable

import falcon
from oslo_context import context
from oslo_policy import policy

from zaqar_swift import documents
from zaqar_swift import errors
from zaqar_swift import logtext
from zaqar_swift import policies
from zaqar_swift import validation
from zaqar_swift.transport import errors as transport_errors

LOG = logging.getLogger('zaqar_swift.access')

SWIFT_REQUESTS = 'X-Swift-Requests'
REQUEST_ID_ENV = 'openstack.request_id'


class SwiftRequests:
    """Falcon middleware: report how many Swift requests this request made
    (``X-Swift-Requests``) when the service can count them."""

    def __init__(self, service: object) -> None:
        self._reset = getattr(service, 'reset_request_count', None)
        self._count = getattr(service, 'swift_request_count', None)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._reset is not None:
            self._reset()

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        if self._count is not None:
            resp.set_header(SWIFT_REQUESTS, str(self._count()))


class Acceptable:
    """Falcon middleware: 406 when the client accepts none of the media types
    the resource serves (``serves``; JSON unless it says otherwise)."""

    def process_resource(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, params: dict[str, Any]) -> None:
        serves = getattr(resource, 'serves', ('application/json',))
        if resource is not None and not any(req.client_accepts(t) for t in serves):
            raise falcon.HTTPNotAcceptable(
                description='This endpoint serves %s; say so in the Accept header.'
                            % ' or '.join(serves))


class Authorize:
    """Falcon middleware: the one place policy is enforced. Each responder's
    rule is found by route template and method (``policies.operations()``)
    and checked against ``req.context.auth``. Discovery documents (resources
    marked ``discovery``) have no rule; any other responder without one is a
    bug, and fails (500) rather than being open."""

    def __init__(self, enforcer: policy.Enforcer) -> None:
        self._enforcer = enforcer
        self._rules = policies.operations()

    def process_resource(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, params: dict[str, Any]) -> None:
        if (resource is None or getattr(resource, 'discovery', False)
                or not hasattr(resource, 'on_' + req.method.lower())):
            return   # 404, discovery, or 405 from Falcon
        rule = self._rules[(req.uri_template, req.method)]
        ctx = req.context.auth
        if not self._enforcer.authorize(rule, {'project_id': ctx.project_id}, ctx):
            raise errors.PolicyDenied(f'Policy does not allow {rule}.')


class AccessLog:
    """WSGI middleware: one log line per request (method, path, status,
    duration, request id, project, Swift requests). What the client sent
    (method, path, project header) is escaped (``logtext.field``), so it
    cannot forge lines or fields. It sits inside
    oslo.middleware's RequestId, so the id is known, and outside the auth
    middleware, so refused requests are logged too. It also installs an
    oslo.context for the request so every log line of it carries the id."""

    def __init__(self, app: Callable, clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        started, seen = self._clock(), {}
        context.RequestContext(request_id=environ.get(REQUEST_ID_ENV))

        def recording(status: str, headers: list, exc_info: Any = None) -> Callable:
            seen.update(status=status.split(' ', 1)[0],
                        headers={k.lower(): v for k, v in headers})
            return start_response(status, headers, exc_info)

        try:
            return self._app(environ, recording)
        except Exception as exc:   # outside Falcon (auth_token, keystoneauth): JSON too
            LOG.exception('%s %s failed outside the app (request %s)',
                          logtext.field(environ.get('REQUEST_METHOD')),
                          logtext.field(environ.get('PATH_INFO')),
                          environ.get(REQUEST_ID_ENV, '-'))
            status, headers, body = transport_errors.wsgi_error(exc)
            recording(status, headers + [('Content-Length', str(len(body)))],
                      sys.exc_info())
            return [body]
        finally:
            self._log(environ, seen, self._clock() - started)

    def _log(self, environ: dict[str, Any], seen: dict[str, Any], seconds: float) -> None:
        swift = seen.get('headers', {}).get(SWIFT_REQUESTS.lower(), '-')
        LOG.info('%s %s %s %.1f ms request=%s project=%s swift_requests=%s',
                 logtext.field(environ.get('REQUEST_METHOD')),
                 logtext.field(environ.get('PATH_INFO')),
                 seen.get('status', '-'), seconds * 1000.0, environ.get(REQUEST_ID_ENV, '-'),
                 logtext.field(environ.get('HTTP_X_PROJECT_ID')), swift)


class BodyLimit:
    """WSGI middleware: a body longer than any legal request
    (``documents.largest_body``) is refused with a 413 before it is read,
    before authentication and before any header is checked. A declared
    Content-Length is judged at once; a chunked body is bounded as it is
    read (the app then renders the same 413)."""

    def __init__(self, app: Callable, limits: validation.Limits) -> None:
        self._app = app
        self._largest = documents.largest_body(limits)
        self._error = functools.partial(documents.too_large, limits)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        length = _content_length(environ)
        if length is not None and length > self._largest:
            status, headers, body = transport_errors.wsgi_error(self._error())
            start_response(status, headers + [('Content-Length', str(len(body)))])
            return [body]
        if length is None and 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower():
            environ['wsgi.input'] = _BoundedInput(environ['wsgi.input'], self._largest,
                                                  self._error)
            environ['wsgi.input_terminated'] = True
        return self._app(environ, start_response)


def _content_length(environ: dict[str, Any]) -> int | None:
    value = environ.get('CONTENT_LENGTH') or ''
    return int(value) if value.isdigit() else None


class _BoundedInput:
    """A ``wsgi.input`` that raises ``error()`` once more than ``limit`` bytes
    have been read from it."""

    def __init__(self, stream: Any, limit: int, error: Callable[[], Exception]) -> None:
        self._stream = stream
        self._left = limit
        self._error = error

    def read(self, size: int | None = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._stream.read(want)
        self._left -= len(data)
        if self._left < 0:
            raise self._error()
        return data
