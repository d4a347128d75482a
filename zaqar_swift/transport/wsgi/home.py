"""Discovery and liveness: the versions document, the v2 JSON-home document,
ping and health."""
from __future__ import annotations

import json
from typing import Any

import falcon

from zaqar_swift.service import MessagingService
from zaqar_swift.transport.wsgi import output

V2 = {
    'id': '2',
    'status': 'CURRENT',
    'updated': '2014-9-24T04:06:47Z',
    'media-types': [{'base': 'application/json',
                     'type': 'application/vnd.openstack.messaging-v2+json'}],
    'links': [{'href': '/v2/', 'rel': 'self'}],
}

_Q = '/v2/queues/{queue_name}'


def _rel(template: str, allow: list[str], accept_post: bool = False,
         **href_vars: str) -> dict[str, Any]:
    hints: dict[str, Any] = {'allow': allow, 'formats': {'application/json': {}}}
    if accept_post:
        hints['accept-post'] = ['application/json']
    entry: dict[str, Any] = {'href-template': template, 'hints': hints}
    if href_vars:
        entry['href-vars'] = {k: 'param/' + v for k, v in href_vars.items()}
    return entry


def _queue_vars(**extra: str) -> dict[str, str]:
    return dict(queue_name='queue_name', **extra)


JSON_HOME = {'resources': {
    'rel/queues': _rel('/v2/queues{?marker,limit,detailed}', ['GET'], marker='marker',
                       limit='queue_limit', detailed='detailed'),
    'rel/queue': _rel(_Q, ['GET', 'PUT', 'DELETE', 'PATCH'], **_queue_vars()),
    'rel/queue_stats': _rel(_Q + '/stats', ['GET'], **_queue_vars()),
    'rel/queue_purge': _rel(_Q + '/purge', ['POST'], True, **_queue_vars()),
    'rel/messages': _rel(_Q + '/messages{?marker,limit,echo,include_claimed}', ['GET'],
                         **_queue_vars(marker='marker', limit='messages_limit',
                                       echo='echo', include_claimed='include_claimed')),
    'rel/post_messages': _rel(_Q + '/messages', ['POST'], True, **_queue_vars()),
    'rel/messages_delete': _rel(_Q + '/messages{?ids,pop}', ['DELETE'],
                                **_queue_vars(ids='ids', pop='pop')),
    'rel/message_delete': _rel(_Q + '/messages/{message_id}{?claim}', ['DELETE'],
                               **_queue_vars(message_id='message_id', claim='claim_id')),
    'rel/message_get': _rel(_Q + '/messages/{message_id}', ['GET'],
                            **_queue_vars(message_id='message_id')),
    'rel/claim': _rel(_Q + '/claims/{claim_id}', ['GET'], **_queue_vars(claim_id='claim_id')),
    'rel/post_claim': _rel(_Q + '/claims{?limit}', ['POST'], True,
                           **_queue_vars(limit='claim_limit')),
    'rel/patch_claim': _rel(_Q + '/claims/{claim_id}', ['PATCH'], True,
                            **_queue_vars(claim_id='claim_id')),
    'rel/delete_claim': _rel(_Q + '/claims/{claim_id}', ['DELETE'],
                             **_queue_vars(claim_id='claim_id')),
    'rel/ping': _rel('/v2/ping', ['GET']),
}}


class Versions:
    """``/``: the API versions this service speaks (300, as Zaqar). Served
    without authentication (see ``auth.OPEN_PATHS``); no policy rule."""

    discovery = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        output.json(resp, {'versions': [V2]}, 300)


class Home:
    """``/v2/``: the JSON-home document of the v2 API (authenticated callers;
    no policy rule)."""

    discovery = True

    serves = ('application/json-home', 'application/json')

    def __init__(self) -> None:
        self._document = json.dumps(JSON_HOME, indent=4).encode('utf-8')

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self._document
        resp.content_type = 'application/json-home'
        resp.cache_control = ['max-age=86400']


class Ping:
    """``/v2/ping``: 204 while the API answers."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.status = falcon.HTTP_204

    on_head = on_get


class Health:
    """``/v2/health``: the storage health as the service measures it."""

    def __init__(self, service: MessagingService) -> None:
        self._service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        output.json(resp, self._service.health())
