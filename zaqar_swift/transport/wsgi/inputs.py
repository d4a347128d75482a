"""Reading a request: who is asking (project, Client-ID) and its body.

A body is read with a byte limit: a declared Content-Length above it is
refused before anything is read, and no more than limit + 1 bytes of a
chunked body are ever buffered. The core (``zaqar_swift.documents``)
parses it. Bodies longer than any legal request never get
here (``middleware.BodyLimit``).
"""
from __future__ import annotations

from typing import Any

import falcon
from oslo_context import context

from zaqar_swift import documents
from zaqar_swift import errors
from zaqar_swift import validation
from zaqar_swift.transport.wsgi import auth

JSON_PATCH_TYPE = 'application/openstack-messaging-v2.0-json-patch'


def _raw(req: falcon.Request, limit: int) -> bytes:
    if req.content_length:
        documents.check_length(req.content_length, limit)   # before reading
        return req.bounded_stream.read(req.content_length)
    if req.env.get('wsgi.input_terminated'):   # chunked: read to the end, bounded
        return req.stream.read(limit + 1)
    return b''


def document(req: falcon.Request, limit: int, media_type: str | None = None) -> Any:
    """The JSON document of the body (None when there is none), read with
    ``limit`` bytes at most. With ``media_type``, a body of any other
    Content-Type is refused (415) before it is read."""
    if media_type is not None:
        require_media_type(req, media_type)
    return documents.parse(_raw(req, limit), limit)


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
