"""The domain errors of zaqar-swift: one flat tree, one class per meaning.

The core raises these; the transports turn them into HTTP or websocket
responses through one table (``zaqar_swift.errormap``). Storage code
re-raises Swift failures as ``StorageUnavailable``.
"""
from __future__ import annotations


class ZaqarSwiftError(Exception):
    """Base class: ``title`` is short, ``description`` tells the user what to fix."""

    title = 'Error'

    def __init__(self, description: str = '', title: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        if title is not None:
            self.title = title


class InvalidRequest(ZaqarSwiftError):
    """The request is malformed or a value is outside its limits (400)."""

    title = 'Invalid API request'


class MissingHeader(InvalidRequest):
    """A required header (Client-ID, X-Project-ID) is absent or malformed (400)."""

    title = 'Missing header'


class MessageNotClaimed(InvalidRequest):
    """A message was deleted with a claim id but is not claimed (any more) (400)."""

    title = 'Message not claimed'


class PayloadTooLarge(ZaqarSwiftError):
    """A request body is larger than the configured limit (400, as Zaqar)."""

    title = 'Request body too large'


class RequestTooLarge(ZaqarSwiftError):
    """A request body is larger than any legal request; it is refused
    before it is read (413)."""

    title = 'Request body too large'


class UnsupportedMediaType(ZaqarSwiftError):
    """The Content-Type of a PATCH is not the JSON-patch one (415)."""

    title = 'Unsupported media type'


class NotFound(ZaqarSwiftError):
    """A message, claim or other resource does not exist (404)."""

    title = 'Not found'


class QueueNotFound(NotFound):
    """The queue does not exist where the API requires it to (404)."""

    title = 'Queue not found'


class MessageNotFound(NotFound):
    """The message does not exist or has expired (404)."""

    title = 'Message not found'


class ClaimNotFound(NotFound):
    """The claim does not exist or has expired (404)."""

    title = 'Claim not found'


class Forbidden(ZaqarSwiftError):
    """The caller may not do this (403)."""

    title = 'Forbidden'


class MessageIsClaimed(Forbidden):
    """A claimed message was deleted without its claim id (403)."""

    title = 'Message is claimed'


class ClaimMismatch(Forbidden):
    """A message was deleted with a claim id that does not hold it (403)."""

    title = 'Claim mismatch'


class PolicyDenied(Forbidden):
    """The policy rule of the operation does not allow the caller (403)."""

    title = 'Forbidden by policy'


class Conflict(ZaqarSwiftError):
    """The resource changed under the request (409)."""

    title = 'Conflict'


class Unauthorized(ZaqarSwiftError):
    """Authentication is required or failed (401)."""

    title = 'Unauthorized'


class NotImplementedYet(ZaqarSwiftError):
    """The operation is part of the API but this service cannot do it yet (501)."""

    title = 'Not implemented'


class StorageUnavailable(ZaqarSwiftError):
    """Swift cannot be reached or failed; the request may be retried (503)."""

    title = 'Service temporarily unavailable'


class IdentityUnavailable(ZaqarSwiftError):
    """Keystone cannot be reached to validate a token; the request may be
    retried (503)."""

    title = 'Identity service unavailable'


class PoolNotFound(NotFound):
    """The pool is not registered (404)."""

    title = 'Pool not found'


class FlavorNotFound(NotFound):
    """The flavor is not registered (404)."""

    title = 'Flavor not found'


class PoolInUse(Forbidden):
    """A pool that belongs to a flavor cannot be deleted (403, as Zaqar)."""

    title = 'Unable to delete'
