"""The one table from domain errors to HTTP statuses, shared by transports.

``status_for`` and ``error_body`` are plain functions so the websocket
transport renders the same status and body as REST; ``install`` wires them
into a Falcon app, together with a JSON rendering of Falcon's own errors
(unknown route, 405, bad query parameter) and a 500 for anything unexpected;
``wsgi_error`` renders the same response for filters outside Falcon.
"""
from __future__ import annotations

import http
import json
import logging
from typing import Any

import falcon

from zaqar_swift import errors

LOG = logging.getLogger(__name__)

JSON_TYPE = 'application/json; charset=UTF-8'
RETRY_AFTER = '30'

STATUS: dict[type[errors.ZaqarSwiftError], int] = {
    errors.InvalidRequest: 400,        # and MissingHeader
    errors.Unauthorized: 401,
    errors.Forbidden: 403,             # and MessageIsClaimed, ClaimMismatch, PolicyDenied
    errors.NotFound: 404,              # and Queue/Message/ClaimNotFound
    errors.Conflict: 409,
    # Zaqar answers 400 to an oversized body, and python-zaqarclient raises
    # only for the statuses Zaqar uses: a 413 would look like success to it.
    errors.PayloadTooLarge: 400,
    errors.UnsupportedMediaType: 415,
    errors.StorageUnavailable: 503,
    errors.IdentityUnavailable: 503,
}

UNEXPECTED = {'title': 'Internal server error',
              'description': 'The request failed unexpectedly; its request id '
                             'identifies it in the service logs.'}


def status_for(exc: BaseException) -> int:
    """The HTTP status of an exception: its nearest class in STATUS, else 500."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(exc: BaseException) -> dict[str, str]:
    """``{"title", "description"}``; never internals of an unexpected error."""
    if isinstance(exc, errors.ZaqarSwiftError) and status_for(exc) != 500:
        return {'title': exc.title, 'description': exc.description}
    return dict(UNEXPECTED)


def _extra_headers(status: int) -> list[tuple[str, str]]:
    return [('Retry-After', RETRY_AFTER)] if status == 503 else []


def wsgi_error(exc: BaseException) -> tuple[str, list[tuple[str, str]], bytes]:
    """``(status line, headers, body)`` of ``exc`` as the app would render it."""
    status = status_for(exc)
    body = json.dumps(error_body(exc), ensure_ascii=False).encode('utf-8')
    headers = [('Content-Type', JSON_TYPE)] + _extra_headers(status)
    return f'{status} {http.HTTPStatus(status).phrase}', headers, body


def _write(resp: falcon.Response, status: int, body: dict[str, Any]) -> None:
    resp.status = status
    resp.content_type = JSON_TYPE
    resp.text = json.dumps(body, ensure_ascii=False)


def _request_id(req: falcon.Request) -> str:
    return req.env.get('openstack.request_id', '-')


def _domain_error(req: falcon.Request, resp: falcon.Response,
                  exc: errors.ZaqarSwiftError, params: dict) -> None:
    status = status_for(exc)
    LOG.debug('%s %s: %s %s', req.method, req.path, status, exc.description)
    _write(resp, status, error_body(exc))
    for name, value in _extra_headers(status):
        resp.set_header(name, value)


def _unexpected_error(req: falcon.Request, resp: falcon.Response,
                      exc: Exception, params: dict) -> None:
    LOG.exception('Unexpected error in %s %s (request %s)',
                  req.method, req.path, _request_id(req))
    _write(resp, 500, error_body(exc))


def _falcon_error(req: falcon.Request, resp: falcon.Response,
                  exc: falcon.HTTPError) -> None:
    resp.content_type = JSON_TYPE
    resp.text = json.dumps({'title': exc.title, 'description': exc.description or exc.title},
                           ensure_ascii=False)


def install(app: falcon.App) -> None:
    """Render domain errors through STATUS, Falcon's errors as the same JSON,
    and anything else as a logged 500. Falcon picks the handler of the
    nearest class, so its own HTTPError handler still wins for HTTPError."""
    app.add_error_handler(Exception, _unexpected_error)
    app.add_error_handler(errors.ZaqarSwiftError, _domain_error)
    app.set_error_serializer(_falcon_error)
