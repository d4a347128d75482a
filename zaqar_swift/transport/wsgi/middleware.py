"""Filters around the REST app, one concern each: the Swift request count
of a request, content negotiation, policy enforcement, and the access log."""
from __future__ import annotations

import logging
import sys
import time
from typing import Any, Callable, Iterable

import falcon
from oslo_context import context
from oslo_policy import policy

from zaqar_swift import errors
from zaqar_swift import policies
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
    duration, request id, project, Swift requests). It sits inside
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
                          environ.get('REQUEST_METHOD'), environ.get('PATH_INFO'),
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
                 environ.get('REQUEST_METHOD'), environ.get('PATH_INFO'),
                 seen.get('status', '-'), seconds * 1000.0, environ.get(REQUEST_ID_ENV, '-'),
                 environ.get('HTTP_X_PROJECT_ID', '-'), swift)
