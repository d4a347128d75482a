"""Every Swift container, object and header name zaqar-swift uses.

This module is the only place that builds or parses a name. Layout (one
Swift account, layout "shared" of doc/design.md)::

    <prefix>.<pkey>                  catalog container of a project
        <queue>                      queue record: metadata JSON, purge cut
    <prefix>.<pkey>.<queue>          message container of one queue
        m/<batch>/b                  one POST: the message bodies
        m/<batch>/g<gen>.<writer>    claim state of the batch, generation gen,
                                     one object per concurrent writer
        m/<batch>/x<idx>             tombstone: message idx was deleted
        c/<claim id>                 claim record
        s/<subscription id>          subscription (expires with its ttl)
        n/state                      notification delivery state
        n/lease                      which worker delivers this queue now
    <prefix>~jobs                    background work (purges)
        <account>/<container>/<cut>  purge everything below cut
    <prefix>~subscribed              queues that have (had) subscriptions
        <project>/<queue>            one per queue, %-quoted project
    <prefix>~pools                   pools (control plane, service's cluster)
        <pool>                       one per pool: uri, weight, options, facts
    <prefix>~flavors                 flavors (control plane)
        <flavor>                     one per flavor
    <prefix>.<pkey>.~t               topic catalog of a project (as the catalog)
        <topic>                      topic record
    <prefix>.<pkey>.~t.<topic>       container of one topic (as a queue's)
    <prefix>~subscribed-topics       topics that have (had) subscriptions
        <project>/<topic>            one per topic, %-quoted project

``pkey`` is the project id when it is short and plain, otherwise ``~`` plus
a hash, so container names stay within Swift's 256 bytes for any 256-byte
project id and 64-character queue name.

Every container of a project starts with ``<prefix>.``; the service's own
containers (``SERVICE_CONTAINERS``) start with ``<prefix>~``, so no project
id or queue name can name one of them.

Topics have a name space of their own (a queue and a topic may share a
name): their containers put ``~t`` where a queue's name would be. No
project key contains ``.`` and no queue name contains ``~``, so no catalog
or queue container is a topic's, and the topics stay among the project's
containers (``<prefix>.<pkey>.``) for the tools that list those.

In layout "per_project" the same containers live in the project's own account
(``<reseller prefix><project id>``, e.g. ``AUTH_<project id>``) instead of
the service's, so Swift's account quotas and usage apply to messaging data.
The jobs container always lives in the service's account.
"""
from __future__ import annotations

import hashlib
import re
import urllib.parse

from zaqar_swift import errors

MAX_CONTAINER = 256
MAX_OBJECT = 1024
MAX_META_VALUE = 256

# Names are matched in full (``fullmatch``): ``$`` also matches before a
# trailing newline.
_PLAIN_PROJECT = re.compile(r'[A-Za-z0-9_\-]{1,64}')
BATCH_ID_LEN = 22          # 14 hex digits of microseconds + 8 random hex
MESSAGE_ID_LEN = BATCH_ID_LEN + 2
CLAIM_ID_LEN = 24
_HEX = re.compile(r'[0-9a-f]+')

PROJECT_SEPARATOR = '.'    # <prefix>.<pkey>[.<queue>]: every project container
SERVICE_SEPARATOR = '~'    # <prefix>~<name>: the service's own containers
JOBS = 'jobs'
SUBSCRIBED = 'subscribed'
POOLS = 'pools'
FLAVORS = 'flavors'
SUBSCRIBED_TOPICS = 'subscribed-topics'
# Every container the service keeps for itself, by name.
SERVICE_CONTAINERS = frozenset({JOBS, SUBSCRIBED, SUBSCRIBED_TOPICS, POOLS, FLAVORS})
TOPICS_MARK = '~t'         # <prefix>.<pkey>.~t[.<topic>]: no queue name has a ~
# Pool and flavor names: one plain Swift object name each, and a value of a
# content-type parameter (the pool listing carries weight and flavor).
_REGISTRY_NAME = re.compile(r'[A-Za-z0-9_\-]{1,64}')
DOT_SEGMENTS = frozenset({'.', '..'})


def path_segment_safe(name: str) -> bool:
    """Whether ``name`` stays one segment of a Swift path: no ``/``, and not
    a dot segment that an HTTP library would collapse with its parent."""
    return '/' not in name and name not in DOT_SEGMENTS


def project_key(project: str) -> str:
    """A container-safe key for a project id; distinct ids give distinct keys."""
    if _PLAIN_PROJECT.fullmatch(project):
        return project
    digest = hashlib.sha256(project.encode('utf-8')).hexdigest()
    return '~' + digest[:40]


def catalog_container(prefix: str, project: str) -> str:
    return _checked(prefix + PROJECT_SEPARATOR + project_key(project))


def queue_container(prefix: str, project: str, queue: str) -> str:
    return _checked(PROJECT_SEPARATOR.join((prefix, project_key(project), queue)))


def topic_catalog_container(prefix: str, project: str) -> str:
    """The catalog of a project's topics (queue names never contain ``~``)."""
    return _checked(PROJECT_SEPARATOR.join((prefix, project_key(project), TOPICS_MARK)))


def topic_container(prefix: str, project: str, topic: str) -> str:
    """The container of one topic: messages, subscriptions, delivery state."""
    return _checked(PROJECT_SEPARATOR.join((prefix, project_key(project), TOPICS_MARK,
                                            topic)))


def service_container(prefix: str, name: str) -> str:
    """A container of the service itself (one of ``SERVICE_CONTAINERS``)."""
    if name not in SERVICE_CONTAINERS:
        raise ValueError(f'{name!r} is not a service container')
    return _checked(prefix + SERVICE_SEPARATOR + name)


def jobs_container(prefix: str) -> str:
    return service_container(prefix, JOBS)


def subscribed_container(prefix: str) -> str:
    """The index of queues with subscriptions, which the notification
    worker reads instead of listing every project."""
    return service_container(prefix, SUBSCRIBED)


def pools_container(prefix: str) -> str:
    """The pools of the control plane (always in the service's cluster)."""
    return service_container(prefix, POOLS)


def flavors_container(prefix: str) -> str:
    return service_container(prefix, FLAVORS)


def valid_registry_name(name: str) -> bool:
    """Whether ``name`` may name a pool or a flavor."""
    return bool(_REGISTRY_NAME.fullmatch(name))


def subscribed_topics_container(prefix: str) -> str:
    """The index of topics with subscriptions (the topics' notification
    worker reads it)."""
    return service_container(prefix, SUBSCRIBED_TOPICS)


class UnsafeAccount(errors.InvalidRequest):
    """A project id that cannot be the name of a Swift account (400)."""


def container_owner(container: str) -> str:
    """The part of a queue container's name that names its project
    (``<prefix>.<pkey>``): the purge worker takes turns by it."""
    return '.'.join(container.split('.', 2)[:2])


def project_account(reseller_prefix: str | None, project: str) -> str | None:
    """The Swift account holding ``project``'s data: None (the service's own
    account) in layout "shared". Swift splits a path after decoding it, so
    an account name is one safe path segment, and it reserves accounts whose
    id starts with a dot (no reseller admin may use them): UnsafeAccount."""
    if reseller_prefix is None:
        return None
    account = reseller_prefix + project
    if not path_segment_safe(account) or project.startswith('.'):
        raise UnsafeAccount('In this deployment each project has a Swift account '
                            'named after its id, so a project id may not contain '
                            '"/" nor start with ".".')
    return account


def _checked(container: str) -> str:
    if len(container.encode('utf-8')) > MAX_CONTAINER:
        raise ValueError('container name longer than %d bytes' % MAX_CONTAINER)
    return container


# -- ids ----------------------------------------------------------------------

def batch_id(micros: int, rand: int) -> str:
    """Batch ids sort by enqueue time (14 hex digits of microseconds last
    until the year 4253), then by a random tail."""
    return '%014x%08x' % (micros, rand & 0xffffffff)


def batch_micros(batch: str) -> int:
    return int(batch[:14], 16)


def message_id(batch: str, index: int) -> str:
    return '%s%02x' % (batch, index)


def split_message_id(message_id: str) -> tuple[str, int] | None:
    """(batch, index) of a message id, or None when it is not one of ours."""
    if len(message_id) != MESSAGE_ID_LEN or not _HEX.fullmatch(message_id):
        return None
    return message_id[:BATCH_ID_LEN], int(message_id[BATCH_ID_LEN:], 16)


def claim_id(micros: int, rand: int) -> str:
    return '%014x%010x' % (micros, rand & 0xffffffffff)


def claim_micros(claim: str) -> int:
    """When the claim was made (microseconds, the clock of ids and cuts)."""
    return int(claim[:14], 16)


def valid_claim_id(value: str) -> bool:
    return len(value) == CLAIM_ID_LEN and bool(_HEX.fullmatch(value))


def subscription_id(micros: int, rand: int) -> str:
    """Like a claim id: creation time first, so a queue's cut hides the
    subscriptions made before a purge or a delete."""
    return claim_id(micros, rand)


def valid_subscription_id(value: str) -> bool:
    return valid_claim_id(value)


def subscription_micros(sid: str) -> int:
    return claim_micros(sid)


# -- objects in a queue container ----------------------------------------------

MESSAGES_PREFIX = 'm/'
CLAIMS_PREFIX = 'c/'
SUBSCRIPTIONS_PREFIX = 's/'
DELIVERY_STATE = 'n/state'
DELIVERY_LEASE = 'n/lease'


def batch_prefix(batch: str) -> str:
    return f'm/{batch}/'


def batch_object(batch: str) -> str:
    return f'm/{batch}/b'


def gen_object(batch: str, gen: int, writer: int) -> str:
    """A state object: writers of one generation never share a name, so no
    write can overwrite another (Swift would keep only the newest)."""
    return 'm/%s/g%06x.%08x' % (batch, gen, writer & 0xffffffff)


def state_writer(name: str) -> int | None:
    """The writer number of a state object's name (``gen_object``), else None."""
    head, dot, writer = name.rpartition('.')
    if not dot or '/g' not in head or not _HEX.fullmatch(writer):
        return None
    return int(writer, 16)


def tombstone_object(batch: str, index: int) -> str:
    return 'm/%s/x%02x' % (batch, index)


def batch_end_marker(batch: str) -> str:
    """An end_marker that includes every object of ``batch`` (``'/' < '0'``)."""
    return f'm/{batch}0'


def cut_marker(cut_micros: int) -> str:
    """A listing marker that skips every batch enqueued before ``cut_micros``."""
    return 'm/%014x' % cut_micros


def claim_object(claim: str) -> str:
    return f'c/{claim}'


def subscription_object(sid: str) -> str:
    return f's/{sid}'


def subscription_of(name: str) -> str | None:
    """The subscription id of a listing row's name, None if not one."""
    sid = name[len(SUBSCRIPTIONS_PREFIX):]
    if name.startswith(SUBSCRIPTIONS_PREFIX) and valid_subscription_id(sid):
        return sid
    return None


def parse_object(name: str) -> tuple[str, str, int | None] | None:
    """('b'|'g'|'x', batch, number) for a message-area object, else None."""
    parts = name.split('/')
    if len(parts) != 3 or parts[0] != 'm' or len(parts[1]) != BATCH_ID_LEN:
        return None
    kind, rest = parts[2][:1], parts[2][1:]
    if kind == 'b' and not rest:
        return 'b', parts[1], None
    if kind == 'g':
        rest = rest.partition('.')[0]
    if kind in ('g', 'x') and rest and _HEX.fullmatch(rest):
        return kind, parts[1], int(rest, 16)
    return None


def job_object(account: str | None, container: str, cut_micros: int) -> str:
    """``<account>/<container>/<cut>``; ``-`` for the service's account (no
    reseller-prefixed account is ``-``). The account is %-quoted."""
    quoted = '-' if account is None else urllib.parse.quote(account, safe='')
    return '%s/%s/%014x' % (quoted, container, cut_micros)


def parse_job(name: str) -> tuple[str | None, str, int]:
    account, container, cut = name.split('/')
    return (None if account == '-' else urllib.parse.unquote(account)), container, int(cut, 16)


def subscribed_object(project: str, queue: str) -> str:
    """``<project>/<queue>`` in the subscribed index; the project is
    %-quoted (``safe=''``), so the first ``/`` splits the two."""
    return '%s/%s' % (urllib.parse.quote(project, safe=''), queue)


def parse_subscribed(name: str) -> tuple[str, str]:
    project, queue = name.split('/', 1)
    return urllib.parse.unquote(project), queue
