"""The v2 semantics of Zaqar, written once.

REST and websocket transports are thin adapters over ``MessagingService``:
they parse a request into plain Python values, call one method, and render
what it returns. Every value coming from a user is validated here (not in the
transports) so both transports accept and reject exactly the same input.

Return shapes (transports add ``href`` fields themselves):

* message: ``{'id': str, 'body': Any, 'ttl': int, 'age': int,
  'claim_id': str | None, 'claim_count': int}``
* queue listing entry: ``{'name': str}`` plus ``'metadata': dict`` when detailed
* claim: ``{'id': str, 'ttl': int, 'grace': int, 'age': int,
  'messages': [message, ...]}``
* stats: ``{'messages': {'free': int, 'claimed': int, 'delayed': int,
  'total': int, 'oldest': {...}, 'newest': {...}}}`` (oldest/newest only when
  total > 0, each ``{'id', 'age', 'created'}`` with ``created`` ISO 8601 UTC)

Errors are the classes of ``zaqar_swift.errors``.
"""
from __future__ import annotations

from typing import Any


class MessagingService:
    """Zaqar v2 queues, messages and claims for many projects.

    ``project`` is the first argument of every method and is never optional;
    ``client_id`` is the caller's Client-ID header value (a string, already
    checked to be present by the transport).
    """

    # -- health -------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Checks Swift for real: ``{'storage_reachable': bool, ...}``."""
        raise NotImplementedError

    # -- queues -------------------------------------------------------------
    def create_queue(self, project: str, name: str,
                     metadata: dict[str, Any] | None) -> bool:
        """PUT a queue; True when it was created, False when it existed
        (its metadata is then replaced)."""
        raise NotImplementedError

    def get_queue(self, project: str, name: str) -> dict[str, Any]:
        """The queue's metadata merged with the reserved defaults (200 even
        when the queue does not exist)."""
        raise NotImplementedError

    def update_queue(self, project: str, name: str,
                     patch: list[dict[str, Any]]) -> dict[str, Any]:
        """Apply a JSON-patch document (add/replace/remove on ``/metadata/...``)
        and return the new metadata. QueueNotFound when the queue is missing."""
        raise NotImplementedError

    def delete_queue(self, project: str, name: str) -> None:
        """Delete the queue and everything in it (missing queue: no error)."""
        raise NotImplementedError

    def list_queues(self, project: str, marker: str | None = None,
                    limit: int | None = None, detailed: bool = False,
                    name: str | None = None, with_count: bool = False
                    ) -> tuple[list[dict[str, Any]], str | None, int | None]:
        """(queues, next_marker, count). ``name`` filters by prefix...
        count is None unless ``with_count``."""
        raise NotImplementedError

    def queue_stats(self, project: str, name: str) -> dict[str, Any]:
        """Stats document (zeros for a missing queue)."""
        raise NotImplementedError

    def purge_queue(self, project: str, name: str,
                    resource_types: list[str] | None) -> None:
        """Drop messages (and, later, subscriptions) but keep the queue."""
        raise NotImplementedError

    # -- messages -----------------------------------------------------------
    def post_messages(self, project: str, queue: str, client_id: str,
                      messages: Any) -> list[str]:
        """Validate and enqueue ``messages`` (the list inside the
        ``{"messages": [...]}`` wrapper, unvalidated); return their ids in
        order. The queue is created when missing."""
        raise NotImplementedError

    def list_messages(self, project: str, queue: str, client_id: str,
                      marker: str | None = None, limit: int | None = None,
                      echo: bool = False, include_claimed: bool = False,
                      include_delayed: bool = False
                      ) -> tuple[list[dict[str, Any]], str | None]:
        """(messages, next_marker); next_marker is None when the page is empty."""
        raise NotImplementedError

    def get_message(self, project: str, queue: str,
                    message_id: str) -> dict[str, Any]:
        """One message; MessageNotFound when missing or expired."""
        raise NotImplementedError

    def get_messages(self, project: str, queue: str,
                     ids: list[str]) -> list[dict[str, Any]]:
        """The messages among ``ids`` that exist (missing ones are skipped)."""
        raise NotImplementedError

    def delete_message(self, project: str, queue: str, message_id: str,
                       claim_id: str | None = None) -> None:
        """Delete one message. A claimed message needs its claim id
        (MessageIsClaimed); a wrong claim id is ClaimMismatch; a missing
        message is not an error."""
        raise NotImplementedError

    def delete_messages(self, project: str, queue: str, ids: list[str],
                        claim_ids: list[str] | None = None) -> None:
        """Delete many messages by id, with the same claim rules."""
        raise NotImplementedError

    def pop_messages(self, project: str, queue: str,
                     count: int) -> list[dict[str, Any]]:
        """Claim and delete up to ``count`` messages, returning them."""
        raise NotImplementedError

    # -- claims -------------------------------------------------------------
    def create_claim(self, project: str, queue: str, client_id: str,
                     ttl: Any = None, grace: Any = None, limit: Any = None
                     ) -> tuple[str | None, list[dict[str, Any]]]:
        """Claim up to ``limit`` free messages; (None, []) when none are free.
        ttl/grace/limit are unvalidated user values (None: defaults)."""
        raise NotImplementedError

    def get_claim(self, project: str, queue: str,
                  claim_id: str) -> dict[str, Any]:
        """The claim document; ClaimNotFound when missing or expired."""
        raise NotImplementedError

    def update_claim(self, project: str, queue: str, claim_id: str,
                     ttl: Any = None, grace: Any = None) -> None:
        """Renew a claim (its age restarts; messages live at least ttl+grace)."""
        raise NotImplementedError

    def delete_claim(self, project: str, queue: str, claim_id: str) -> None:
        """Release a claim (missing claim: no error)."""
        raise NotImplementedError
