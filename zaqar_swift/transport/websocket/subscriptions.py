"""Subscription actions.

A ``subscription_create`` without a subscriber subscribes the connection
itself: the push watcher (``push.py``) sends it the messages of the queue
for as long as the connection and the subscription's ttl last. Everything
else about subscriptions (subscriber URIs, get/list/update/delete/confirm
of stored subscriptions, and ``signed_url_create``, the share operation)
is the core's: ``CORE`` names the ``MessagingService`` method each action
calls, and an action whose method the service does not have yet answers
501.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from zaqar_swift import errors
from zaqar_swift.transport.websocket import actions

_S = '/v2/queues/{queue}/subscriptions'


@dataclasses.dataclass(frozen=True)
class CoreCall:
    """How an action calls the core: ``method(project, queue[, id][, document
    or query])``, answered with ``status`` and what the method returned
    (``{}`` for None)."""

    http_method: str
    path: str
    name: str
    status: int
    id_key: str | None = None
    document: tuple[str, ...] = ()
    query: tuple[str, ...] = ()


# The service methods issue 7 brings (signatures in the README).
CORE: dict[str, CoreCall] = {
    'subscription_create': CoreCall('POST', _S, 'create_subscription', 201,
                                    document=('subscriber', 'ttl', 'options')),
    'subscription_list': CoreCall('GET', _S, 'list_subscriptions', 200,
                                  query=('marker', 'limit')),
    'subscription_get': CoreCall('GET', _S + '/{subscription_id}', 'get_subscription', 200,
                                 id_key='subscription_id'),
    'subscription_update': CoreCall('PATCH', _S + '/{subscription_id}',
                                    'update_subscription', 204, id_key='subscription_id',
                                    document=('subscriber', 'ttl', 'options')),
    'subscription_delete': CoreCall('DELETE', _S + '/{subscription_id}',
                                    'delete_subscription', 204, id_key='subscription_id'),
    'subscription_confirm': CoreCall('PUT', _S + '/{subscription_id}/confirm',
                                     'confirm_subscription', 204, id_key='subscription_id',
                                     document=('confirmed',)),
    'signed_url_create': CoreCall('POST', '/v2/queues/{queue}/share', 'share_queue', 200,
                                  document=('paths', 'methods', 'expires')),
}

# Receiving pushes is reading the queue's messages.
PUSH_RULE = ('GET', '/v2/queues/{queue}/messages')


def core_method(service: Any, call: CoreCall) -> Any:
    """The service's method for ``call``; 501 until the core has it."""
    method = getattr(service, call.name, None)
    if method is None:
        raise errors.NotImplementedYet(
            f'This service does not store subscriptions or share queues yet '
            f'({call.name} is missing from the core).')
    return method


def core_arguments(call: CoreCall, caller: actions.Caller, body: dict[str, Any],
                   limit: int, limits: Any) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments of ``call`` from an action's body."""
    args: list[Any] = [caller.project, actions.required(body, 'queue_name')]
    if call.id_key:
        args.append(actions.string(body, call.id_key))
    if call.document:
        args.append(actions.members(body, call.document, limit, limits))
    return args, actions.query(body, ('marker',), ('limit',)) if call.query else {}


def core_reply(call: CoreCall, result: Any) -> actions.Reply:
    if call.name == 'create_subscription':
        return call.status, {'subscription_id': result}
    if call.name == 'list_subscriptions':
        found, marker = result
        return call.status, {'subscriptions': found, 'marker': marker}
    return call.status, {} if result is None else result


def is_push(action: str, body: dict[str, Any]) -> bool:
    """A subscription of the connection itself: no subscriber URI."""
    return action == 'subscription_create' and not body.get('subscriber')


@dataclasses.dataclass
class PushSubscription:
    """The connection's own subscription to a queue of its project."""

    id: str
    project: str
    queue: str
    ttl: int
    created: float
    binary: bool
    session: Any

    @property
    def expires(self) -> float:
        return self.created + self.ttl

    def document(self, now: float) -> dict[str, Any]:
        return {'id': self.id, 'source': self.queue, 'subscriber': 'websocket',
                'ttl': self.ttl, 'age': int(now - self.created), 'options': {}}
