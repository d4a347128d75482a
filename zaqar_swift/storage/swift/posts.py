"""Posts to one queue that arrive together share one batch object.

A POST is one object (all of its messages are stored or none). While one
post's PUT is in flight, other posts to the same queue in this process
wait for it instead of sending PUTs of their own; when it ends, the first
of them writes every post then waiting as one object (up to
``GROUP_MESSAGES`` messages and ``GROUP_BYTES`` of bodies; a post larger
than that goes alone, never split), hands each its own message ids, and
passes the turn to the next waiting post. A post that finds nobody
writing writes at once: nothing waits a fixed time, and a lone producer
sees no change. Every post of a group is in the one object, so each is
still all or nothing: when the PUT fails, each of them fails.

What it saves (doc/design.md, "Swift requests per API operation"): one PUT
per group instead of one per post, and the claims that later take the
group's messages write one state object for it instead of one per post.
"""
from __future__ import annotations

import dataclasses
import threading
import weakref
from typing import Any, Callable

# Messages one shared object takes at most: what a claim takes by default,
# so consumers claiming 10 at a time each take a whole object and do not
# contend for halves of one (measured: 20 slowed bench/drain.py's 16
# consumers, whose producers post 10 at a time, by about a quarter).
GROUP_MESSAGES = 10
GROUP_BYTES = 256 * 1024  # bytes of bodies one shared object takes at most

# PUTs one object holding every post of a group, in order; the ids of all
# of its messages.
Writer = Callable[[list['Post']], list[str]]


@dataclasses.dataclass(eq=False)
class Post:
    """One POST waiting for (or in) a shared object."""

    bodies: list[bytes]          # each message's body, JSON-encoded
    ttls: list[int]
    delays: list[int]
    key: str                     # the poster's client key
    cut: int                     # the queue's cut as the post read it (µs)
    ids: list[str] | None = None
    error: BaseException | None = None
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    turn: bool = False           # it was asked to write the next group

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.bodies)


class _Queue:
    """The posts of one queue container waiting in this process."""

    __slots__ = ('guard', 'waiting', 'writing', '__weakref__')

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.waiting: list[Post] = []
        self.writing = False


class PostGroups:
    """One waiting line per queue container, alive while in use."""

    def __init__(self) -> None:
        self._queues: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def post(self, target: Any, post: Post, write: Writer) -> list[str]:
        """Store ``post`` (alone or with the posts waiting with it) by
        ``write``, which PUTs one object for a group and returns the ids of
        all its messages in order; returns this post's ids."""
        with self._guard:
            queue = self._queues.get(target)
            if queue is None:
                queue = self._queues[target] = _Queue()
        with queue.guard:
            queue.waiting.append(post)
            lead = not queue.writing
            queue.writing = True
        if not lead:
            post.done.wait()
            if not post.turn:
                return _result(post)
        self._write_group(queue, write)
        return _result(post)

    @staticmethod
    def _write_group(queue: _Queue, write: Writer) -> None:
        """Write the posts at the head of the line (this thread's first)
        as one object, then pass the turn on."""
        with queue.guard:
            group = _head(queue.waiting)
            del queue.waiting[:len(group)]
        try:
            ids = write(group)
        except BaseException as exc:   # every post of the group fails with it
            for post in group:
                post.error = exc
        else:
            start = 0
            for post in group:
                post.ids, start = ids[start:start + len(post.bodies)], start + len(post.bodies)
        with queue.guard:
            if queue.waiting:
                queue.waiting[0].turn = True
                queue.waiting[0].done.set()
            else:
                queue.writing = False
        for post in group:
            post.turn = False
            post.done.set()


def _head(waiting: list[Post]) -> list[Post]:
    """The posts the next object takes: the first always, then the ones
    after it while the object stays within both bounds."""
    group, messages, size = [waiting[0]], len(waiting[0].bodies), waiting[0].size
    for post in waiting[1:]:
        messages, size = messages + len(post.bodies), size + post.size
        if messages > GROUP_MESSAGES or size > GROUP_BYTES:
            break
        group.append(post)
    return group


def _result(post: Post) -> list[str]:
    if post.error is not None:
        raise post.error
    assert post.ids is not None
    return post.ids
