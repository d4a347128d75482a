"""Reading a request: who is asking (project, Client-ID) and its JSON body.

Bodies are read with a byte limit: a declared Content-Length above it is
refused before anything is read, and no more than limit + 1 bytes are ever
buffered. JSON is parsed strictly (64-bit integers, finite numbers, UTF-8)
so nothing the storage cannot round-trip gets past the transport.
"""
from __future__ import annotations

import json
import math
from typing import Any

import falcon
from oslo_context import context

from zaqar_swift import errors
from zaqar_swift import validation
from zaqar_swift.transport.wsgi import auth

JSON_PATCH_TYPE = 'application/openstack-messaging-v2.0-json-patch'


class _BadJSON(ValueError):
    """A value JSON can carry but this service refuses (described)."""


def _int64(text: str) -> int:
    value = int(text)
    if abs(value) > validation.INT64_MAX:
        raise _BadJSON('JSON contains integer that is too large.')
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadJSON('JSON contains a number that is too large.')
    return value


def _constant(name: str) -> Any:
    raise _BadJSON(f'{name} is not valid JSON.')


def parse_json(raw: bytes) -> Any:
    """Decode a request body, or raise InvalidRequest saying why not."""
    try:
        return json.loads(raw.decode('utf-8'), parse_int=_int64,
                          parse_float=_finite, parse_constant=_constant)
    except _BadJSON as exc:
        raise errors.InvalidRequest(str(exc)) from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.InvalidRequest('Request body could not be parsed.') from None


def _read(req: falcon.Request, limit: int) -> bytes:
    length = req.content_length
    if not length:
        return b''
    if length > limit:
        raise errors.PayloadTooLarge(
            f'Request body is {length} bytes; the limit is {limit} bytes.')
    data = req.bounded_stream.read(limit + 1)
    if len(data) > limit:
        raise errors.PayloadTooLarge(f'Request body exceeds {limit} bytes.')
    return data


def _body(req: falcon.Request, limit: int, required: bool) -> bytes:
    raw = _read(req, limit)
    if not raw and required:
        raise errors.InvalidRequest('Request body can not be empty.')
    return raw


def json_body(req: falcon.Request, limit: int, required: bool = True) -> Any:
    """The parsed body; None when it is empty and not ``required``."""
    raw = _body(req, limit, required)
    return parse_json(raw) if raw else None


def json_object(req: falcon.Request, limit: int, required: bool = True
                ) -> dict[str, Any] | None:
    """The body, which must be a JSON object (None when empty and optional)."""
    raw = _body(req, limit, required)
    if not raw:
        return None
    document = parse_json(raw)
    if not isinstance(document, dict):
        raise errors.InvalidRequest('Request body must be a JSON object.')
    return document


def member(document: dict[str, Any], key: str, description: str) -> Any:
    """``document[key]``, or InvalidRequest(``description``) when absent."""
    if key not in document:
        raise errors.InvalidRequest(description)
    return document[key]


def id_list(req: falcon.Request, name: str) -> list[str] | None:
    """A list of ids from the query: comma-separated (``ids=a,b``, also
    percent-encoded) and/or repeated (``ids=a&ids=b``, as python-zaqarclient
    sends them). None when the parameter is absent."""
    values = req.get_param_as_list(name)
    if values is None:
        return None
    return [part for value in values for part in value.split(',') if part]


def require_media_type(req: falcon.Request, media_type: str) -> None:
    """Refuse (415) a body whose Content-Type is not ``media_type``."""
    given = (req.content_type or '').split(';')[0].strip().lower()
    if given != media_type:
        raise errors.UnsupportedMediaType(f'Accepted media type for PATCH: {media_type}.')


def project(ctx: context.RequestContext, auth_strategy: str) -> str:
    """The project a request acts for: the context's. Behind keystone that
    is the validated token's (auth_token replaces any X-Project-ID a client
    sends); under noauth it is the X-Project-ID header."""
    if auth_strategy == 'keystone' and not ctx.project_id:
        raise errors.Forbidden('This API needs a token scoped to a project.')
    return validation.project_id(ctx.project_id)


class Credentials:
    """Falcon middleware: the request's oslo.context (``req.context.auth``)
    from the identity headers: project, user, roles (X-Roles). Behind
    keystone it refuses (401) an unconfirmed identity outside the open paths,
    which auth_token lets through only with ``delay_auth_decision``."""

    def __init__(self, auth_strategy: str) -> None:
        self._keystone = auth_strategy == 'keystone'

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.auth = context.RequestContext.from_environ(
            req.env, request_id=req.env.get('openstack.request_id'))
        if (self._keystone and req.path not in auth.OPEN_PATHS
                and req.get_header('X-Identity-Status') != 'Confirmed'):
            raise errors.Unauthorized(auth.TOKEN_REQUIRED)


class Tenancy:
    """Falcon middleware: for resources marked ``tenant_scoped``, check the
    project and Client-ID and put them on ``req.context``."""

    def __init__(self, limits: validation.Limits, auth_strategy: str) -> None:
        self._limits = limits
        self._auth_strategy = auth_strategy

    def process_resource(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, params: dict[str, Any]) -> None:
        if not getattr(resource, 'tenant_scoped', False):
            return
        req.context.project = project(req.context.auth, self._auth_strategy)
        req.context.client_id = validation.client_id(req.get_header('Client-ID'),
                                                     self._limits)
