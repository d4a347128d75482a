"""The error table (``zaqar_swift.errormap``) wired into Falcon and WSGI.

``install`` renders domain errors through the table, Falcon's own errors
(unknown route, 405, bad query parameter) as the same JSON, and anything
unexpected as a logged 500; ``wsgi_error`` renders the same response for
filters outside Falcon.
"""
from __future__ import annotations

import http
import json
import logging
from typing import Any

import falcon

from zaqar_swift import errormap
from zaqar_swift import errors
from zaqar_swift import logtext

LOG = logging.getLogger(__name__)

JSON_TYPE = 'application/json; charset=UTF-8'


def wsgi_error(exc: BaseException) -> tuple[str, list[tuple[str, str]], bytes]:
    """``(status line, headers, body)`` of ``exc`` as the app would render it."""
    status = errormap.status_for(exc)
    body = json.dumps(errormap.error_body(exc), ensure_ascii=False).encode('utf-8')
    headers = [('Content-Type', JSON_TYPE)] + errormap.extra_headers(status)
    return f'{status} {http.HTTPStatus(status).phrase}', headers, body


def _write(resp: falcon.Response, status: int, body: dict[str, Any]) -> None:
    resp.status = status
    resp.content_type = JSON_TYPE
    resp.text = json.dumps(body, ensure_ascii=False)


def _request_id(req: falcon.Request) -> str:
    return req.env.get('openstack.request_id', '-')


def _domain_error(req: falcon.Request, resp: falcon.Response,
                  exc: errors.ZaqarSwiftError, params: dict) -> None:
    status = errormap.status_for(exc)
    LOG.debug('%s %s: %s %s', logtext.field(req.method), logtext.field(req.path),
              status, logtext.field(exc.description))
    _write(resp, status, errormap.error_body(exc))
    for name, value in errormap.extra_headers(status):
        resp.set_header(name, value)


def _unexpected_error(req: falcon.Request, resp: falcon.Response,
                      exc: Exception, params: dict) -> None:
    LOG.exception('Unexpected error in %s %s (request %s)', logtext.field(req.method),
                  logtext.field(req.path), _request_id(req))
    _write(resp, 500, errormap.error_body(exc))


def _falcon_error(req: falcon.Request, resp: falcon.Response,
                  exc: falcon.HTTPError) -> None:
    resp.content_type = JSON_TYPE
    resp.text = json.dumps({'title': exc.title, 'description': exc.description or exc.title},
                           ensure_ascii=False)


def install(app: falcon.App) -> None:
    """Render domain errors through the table, Falcon's errors as the same
    JSON, and anything else as a logged 500. Falcon picks the handler of the
    nearest class, so its own HTTPError handler still wins for HTTPError."""
    app.add_error_handler(Exception, _unexpected_error)
    app.add_error_handler(errors.ZaqarSwiftError, _domain_error)
    app.set_error_serializer(_falcon_error)
