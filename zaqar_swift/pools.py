"""Pools and flavors: the v2 admin semantics, placement and routing, written once.

A *pool* is a Swift cluster (or one storage policy of it) that holds queues'
messages; a *flavor* is a named set of pools with the same capabilities.
Their records live in the control plane (``storage/swift/registry.py``, in
the service's own cluster). This module validates the admin documents,
introspects each pool's Swift (``GET /info`` and a HEAD of its account),
refuses a pool that keeps fewer than 3 copies unless it is marked
``unreliable``, places new queues (``placement.py``) and finds the message
store of a queue from the pool its record names (one SwiftClient,
MessageStore and purge worker per pool, built lazily, rebuilt when the
pool's record changes).

Credentials of a pool come from its ``options`` (``user``/``key`` for
tempauth at ``uri``, or keystoneauth1 password options with ``uri`` as the
identity endpoint); they are stored in the control plane and never returned.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import urllib.parse
from typing import Any, Callable, NamedTuple

from zaqar_swift import errors
from zaqar_swift import placement
from zaqar_swift import validation
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift.purger import PurgeWorker, Worker
from zaqar_swift.storage.swift.queues import QueueRecord
from zaqar_swift.storage.swift.registry import PoolRow, Registry
from zaqar_swift.storage.swift.store import MessageStore

LOG = logging.getLogger(__name__)
FLAVOR_KEY = '_flavor'
V1_AUTH = ('user', 'key')
KEYSTONE_AUTH = ('auth_type', 'username', 'password', 'user_id', 'project_name',
                 'project_id', 'user_domain_name', 'user_domain_id', 'project_domain_name',
                 'project_domain_id', 'region_name', 'interface')
DECLARED = ('storage_policy', 'replicas', 'ec_parity', 'unreliable', 'group')
SECRETS = frozenset({'key', 'password'})
MIN_COPIES = 3
MAX_WEIGHT = 2 ** 32 - 1
# Zaqar's capability names (zaqar.storage.Capabilities).
FIFO, CLAIMS, DURABILITY, AOD, HIGH_THROUGHPUT = (
    'FIFO', 'CLAIMS', 'DURABILITY', 'AOD', 'HIGH_THROUGHPUT')
POOL_PATCHABLE = ('weight', 'uri', 'flavor', 'options')


class PoolStore(NamedTuple):
    """What serves the queues of one pool in this process (``etag`` of the
    record it was checked against, ``reach`` the uri and options it was
    built from)."""

    etag: str
    reach: tuple[str, str]
    client: swift.SwiftClient
    store: MessageStore
    purger: PurgeWorker


@dataclasses.dataclass(frozen=True)
class PageLimits:
    max_per_page: int = 20
    default_page: int = 10


# -- documents (pure) --------------------------------------------------------------

def _invalid(text: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(text)


def registry_name(kind: str, name: str) -> str:
    if not naming.valid_registry_name(name):
        raise _invalid('A %s name is 1 to 64 letters, digits, "_" or "-".' % kind)
    return name


def _object(document: Any, what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise _invalid('The %s document must be a JSON object.' % what)
    return document


def _weight(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_WEIGHT:
        raise _invalid('weight must be an integer from 0 to %d.' % MAX_WEIGHT)
    return value


def _uri(value: Any) -> str:
    parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
    if not parts or parts.scheme not in ('http', 'https') or not parts.netloc \
            or len(value) > 255:
        raise _invalid('uri must be the http(s) URL (at most 255 characters) of '
                       'the pool\'s authentication endpoint: tempauth\'s v1 URL, '
                       'or Keystone\'s.')
    return value


def _flavor(value: Any) -> str:
    if value in (None, ''):
        return ''
    if not isinstance(value, str):
        raise _invalid('flavor must be a string.')
    return registry_name('flavor', value)


def pool_options(value: Any) -> dict[str, Any]:
    """Checked pool options: credentials, storage policy and the declared
    durability (``replicas``, or ``ec_parity`` of an erasure-coded policy)."""
    options = _object({} if value is None else value, 'options')
    unknown = sorted(set(options) - set(V1_AUTH + KEYSTONE_AUTH + DECLARED))
    if unknown:
        raise _invalid('Unknown pool options: %s (known: %s).' % (
            ', '.join(unknown), ', '.join(V1_AUTH + KEYSTONE_AUTH + DECLARED)))
    for key in V1_AUTH + KEYSTONE_AUTH + ('storage_policy', 'group'):
        if key in options and not isinstance(options[key], str):
            raise _invalid('options.%s must be a string.' % key)
    for key, low in (('replicas', 1), ('ec_parity', 0)):
        if key in options and (type(options[key]) is not int or options[key] < low):
            raise _invalid('options.%s must be an integer of at least %d.' % (key, low))
    if 'unreliable' in options and type(options['unreliable']) is not bool:
        raise _invalid('options.unreliable must be true or false.')
    return options


def copies(options: dict[str, Any]) -> int:
    """How many losses plus one the pool's policy survives, as declared:
    its replica count, or parity fragments + 1 for erasure coding."""
    if 'replicas' in options:
        return options['replicas']
    if 'ec_parity' in options:
        return options['ec_parity'] + 1
    raise _invalid('Declare the durability of the pool\'s storage policy: '
                   'options.replicas (replica count) or options.ec_parity (parity '
                   'fragments of an erasure-coded policy); Swift\'s /info does not tell.')


def durability_guard(options: dict[str, Any]) -> None:
    """A pool that keeps fewer than 3 copies only when marked unreliable."""
    if copies(options) < MIN_COPIES and not options.get('unreliable'):
        raise _invalid('The pool\'s storage policy keeps %d cop%s of each message '
                       '(fewer than %d): set options.unreliable to true to use it '
                       'anyway.' % (copies(options), 'y' if copies(options) == 1 else
                                    'ies', MIN_COPIES))


def pool_document(document: Any) -> dict[str, Any]:
    """A PUT pool document: ``uri`` and ``weight`` required, ``flavor`` and
    ``options`` optional (Zaqar's schema)."""
    doc = _object(document, 'pool')
    unknown = sorted(set(doc) - set(POOL_PATCHABLE))
    if unknown:
        raise _invalid('Unknown pool fields: %s.' % ', '.join(unknown))
    if 'uri' not in doc or 'weight' not in doc:
        raise _invalid('A pool needs "uri" and "weight".')
    options = pool_options(doc.get('options'))
    durability_guard(options)
    return {'uri': _uri(doc['uri']), 'weight': _weight(doc['weight']),
            'flavor': _flavor(doc.get('flavor')), 'options': options}


def pool_patch(document: Any, current: dict[str, Any]) -> dict[str, Any]:
    """The pool after a PATCH (at least one of uri, weight, flavor, options;
    options are merged into the current ones, so secrets need not be sent
    again)."""
    doc = _object(document, 'pool')
    if not any(field in doc for field in POOL_PATCHABLE):
        raise _invalid('One of `uri`, `weight`, `flavor`, or `options` needs to be '
                       'specified')
    merged = dict(current)
    for field in ('uri', 'weight', 'flavor'):
        if doc.get(field) is not None:
            merged[field] = doc[field]
    if doc.get('options') is not None:
        merged['options'] = {**current.get('options', {}),
                             **_object(doc['options'], 'options')}
    return pool_document({k: merged[k] for k in POOL_PATCHABLE if k in merged})


def flavor_document(document: Any) -> list[str]:
    """The pool list of a PUT/PATCH flavor document (capabilities sent by
    the client are ignored: they come from introspection)."""
    doc = _object(document, 'flavor')
    unknown = sorted(set(doc) - {'pool_list', 'capabilities'})
    if unknown:
        raise _invalid('Unknown flavor fields: %s.' % ', '.join(unknown))
    pools = doc.get('pool_list')
    if not isinstance(pools, list) or not pools:
        raise _invalid('`pool_list` needs to be specified: a non-empty list of pools.')
    for name in pools:
        if not isinstance(name, str):
            raise _invalid('pool_list holds pool names (strings).')
        registry_name('pool', name)
    return list(dict.fromkeys(pools))


def public_options(options: dict[str, Any]) -> dict[str, Any]:
    """Options as GET shows them: never a secret."""
    return {k: v for k, v in options.items() if k not in SECRETS}


# -- introspection (pure) -----------------------------------------------------------

def facts_from_info(info: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The Swift facts behind a pool's capabilities: from its ``/info``
    (the policy exists, bulk delete, limits) and what the operator declared
    (copies of the policy, which ``/info`` cannot show)."""
    core = info.get('swift') or {}
    policies = core.get('policies') or []
    names = set()
    default = None
    for policy in policies:
        names.add(policy.get('name'))
        names.update(a.strip() for a in (policy.get('aliases') or '').split(',') if a)
        if policy.get('default'):
            default = policy.get('name')
    policy = options.get('storage_policy') or default
    bulk = info.get('bulk_delete') or {}
    return {'storage_policy': policy,
            'policy_exists': policy in names if policies else policy is None,
            'bulk_delete': 'bulk_delete' in info,
            'max_deletes_per_request': bulk.get('max_deletes_per_request'),
            'expiry': True,    # X-Delete-At is Swift core; the expirer is not in /info
            'max_file_size': core.get('max_file_size'),
            'container_listing_limit': core.get('container_listing_limit'),
            'max_meta_value_length': core.get('max_meta_value_length'),
            'version': core.get('version'),
            'copies': copies(options),
            'unreliable': bool(options.get('unreliable'))}


def capabilities(facts: dict[str, Any]) -> list[str]:
    """Zaqar's capability names of a pool with these facts. Every pool has
    FIFO (per API node), CLAIMS and AOD (the claim algorithm of
    doc/design.md); DURABILITY when its policy keeps at least 3 copies;
    HIGH_THROUGHPUT when bulk delete lets it drop a batch in one request."""
    caps = [FIFO, CLAIMS]
    if facts.get('copies', 0) >= MIN_COPIES:
        caps.append(DURABILITY)
    caps.append(AOD)
    if facts.get('bulk_delete'):
        caps.append(HIGH_THROUGHPUT)
    return caps


# -- the service ------------------------------------------------------------------

Connect = Callable[[str, dict[str, Any]], swift.SwiftClient]
Build = Callable[[swift.SwiftClient, dict[str, Any]], tuple[MessageStore, PurgeWorker]]


class Pools:
    """Pools and flavors of one deployment: admin operations, placement,
    routing of queues to their pool's store, and per-pool health."""

    def __init__(self, registry: Registry, connect: Connect, build: Build,
                 control: swift.SwiftClient, limits: PageLimits = PageLimits(),
                 health_ttl: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._registry = registry
        self._connect = connect
        self._build = build
        self._control = control
        self.limits = limits
        self._health_ttl = health_ttl
        self._clock = clock
        self._stores: dict[str, PoolStore] = {}
        self._lock = threading.Lock()
        self._building = threading.Lock()   # one store built at a time
        self._health: tuple[float, dict[str, Any]] | None = None

    # -- pools ------------------------------------------------------------------
    def _page(self, limit: Any) -> int:
        return validation.page_limit(limit, self.limits.max_per_page, self.limits.default_page)

    def list_pools(self, marker: str | None = None, limit: Any = None,
                   detailed: bool = False) -> tuple[list[dict[str, Any]], str | None]:
        """(pools, next marker); each ``{name, flavor, uri, weight}`` plus
        ``options`` (without secrets) and ``capabilities`` when detailed."""
        names = self._registry.list_pools(marker or None, self._page(limit))
        pools = []
        for name in names:
            record = self._registry.get_pool(name)
            if record is not None:
                pools.append(_render_pool(name, record, detailed))
        return pools, (names[-1] if names else marker)

    def get_pool(self, name: str, detailed: bool = False) -> dict[str, Any]:
        return _render_pool(name, self._pool(name), detailed)

    def _pool(self, name: str) -> dict[str, Any]:
        record = self._registry.get_pool(registry_name('pool', name))
        if record is None:
            raise errors.PoolNotFound('Pool %s does not exist.' % name)
        return record

    def put_pool(self, name: str, document: Any) -> None:
        """Register (or replace, as Zaqar's PUT does) a pool, after checking
        that its Swift answers with these credentials and has the policy."""
        registry_name('pool', name)
        self._save_pool(name, pool_document(document))

    def update_pool(self, name: str, document: Any) -> dict[str, Any]:
        """PATCH a pool; returns it (200, as Zaqar)."""
        current = self._pool(name)
        doc = pool_patch(document, current)
        same_swift = (doc['uri'], doc['options']) == (current['uri'], current.get('options'))
        # A weight or flavor change needs no look at the pool's Swift, so a
        # pool that is down can still be given weight 0.
        self._save_pool(name, doc, current.get('facts') if same_swift else None)
        return self.get_pool(name)

    def _save_pool(self, name: str, doc: dict[str, Any],
                   facts: dict[str, Any] | None = None) -> None:
        doc['facts'] = facts or self.introspect(doc['uri'], doc['options'])
        if doc['flavor']:
            self._check_agreement(doc['flavor'], {name: doc['facts']})
        self._registry.put_pool(name, doc)

    def introspect(self, uri: str, options: dict[str, Any]) -> dict[str, Any]:
        """The pool's facts from its own Swift: 400 when it cannot be
        reached or refuses the credentials, or lacks the storage policy."""
        client = self._connect(uri, options)
        try:
            client.head_account()
            info = client.info()
        except errors.ZaqarSwiftError:
            raise _invalid('cannot connect to %s: the pool\'s Swift does not answer '
                           'or refuses its credentials.' % uri) from None
        facts = facts_from_info(info, options)
        if not facts['policy_exists']:
            raise _invalid('The storage policy %r does not exist in the pool\'s '
                           'Swift.' % facts['storage_policy'])
        return facts

    def delete_pool(self, name: str) -> None:
        """Deregister a pool; 403 while a flavor uses it (drain it first,
        see doc/design.md)."""
        record = self._registry.get_pool(registry_name('pool', name))
        if record is None:
            return
        flavor = record.get('flavor')
        if flavor and self._registry.get_flavor(flavor) is not None:
            raise errors.PoolInUse('This pool is used by flavors %s; It cannot be '
                                   'deleted.' % flavor)
        self._registry.delete_pool(name)
        with self._lock:
            self._stores.pop(name, None)

    # -- flavors ----------------------------------------------------------------
    def list_flavors(self, marker: str | None = None, limit: Any = None,
                     detailed: bool = False) -> tuple[list[dict[str, Any]], str | None]:
        names = self._registry.list_flavors(marker or None, self._page(limit))
        rows = self._registry.pool_rows()
        flavors = []
        for name in names:
            entry: dict[str, Any] = {'name': name}
            members = [r.name for r in rows if r.flavor == name]
            if members:
                entry['pool_list'] = members
            if detailed:
                entry['capabilities'] = self._flavor_caps(members)
            flavors.append(entry)
        return flavors, (names[-1] if names else marker)

    def get_flavor(self, name: str) -> dict[str, Any]:
        """``{name, capabilities, pool_list, swift}``: the capabilities its
        pools share (introspected) and, per pool, the Swift facts behind them."""
        if self._registry.get_flavor(registry_name('flavor', name)) is None:
            raise errors.FlavorNotFound('Flavor %s does not exist.' % name)
        members = self._members(name)
        facts = {}
        for pool in members:
            record = self._registry.get_pool(pool)
            if record is not None:
                facts[pool] = record.get('facts') or {}
        caps = capabilities(next(iter(facts.values()))) if facts else []
        return {'name': name, 'capabilities': caps, 'pool_list': members, 'swift': facts}

    def put_flavor(self, name: str, document: Any) -> None:
        """Create or replace a flavor made of ``pool_list``; 400 when a pool
        is missing or the pools' capabilities disagree."""
        registry_name('flavor', name)
        self._set_flavor(name, flavor_document(document))

    def update_flavor(self, name: str, document: Any) -> dict[str, Any]:
        pools = flavor_document(document)
        if self._registry.get_flavor(registry_name('flavor', name)) is None:
            raise errors.FlavorNotFound('Flavor %s does not exist.' % name)
        self._set_flavor(name, pools)
        return self.get_flavor(name)

    def _set_flavor(self, name: str, pools: list[str]) -> None:
        records = {}
        for pool in pools:
            record = self._registry.get_pool(pool)
            if record is None:
                raise _invalid('Flavor %s could not be created, error:Pool %s does not '
                               'exist' % (name, pool))
            records[pool] = record
        _agree({p: r.get('facts') or {} for p, r in records.items()})
        self._registry.put_flavor(name, {'name': name})
        for pool, record in records.items():
            if record.get('flavor') != name:
                self._registry.put_pool(pool, {**record, 'flavor': name})
        for pool in set(self._members(name)) - set(pools):
            self._clear_flavor(pool)

    def delete_flavor(self, name: str) -> None:
        """Delete a flavor; its pools keep serving their queues, with no flavor."""
        registry_name('flavor', name)
        for pool in self._members(name):
            self._clear_flavor(pool)
        self._registry.delete_flavor(name)

    def _clear_flavor(self, pool: str) -> None:
        record = self._registry.get_pool(pool)
        if record is not None:
            self._registry.put_pool(pool, {**record, 'flavor': ''})

    def _members(self, flavor: str) -> list[str]:
        self._registry.forget()
        return [r.name for r in self._registry.pool_rows() if r.flavor == flavor]

    def _flavor_caps(self, members: list[str]) -> list[str]:
        record = self._registry.get_pool(members[0]) if members else None
        return capabilities(record.get('facts') or {}) if record else []

    def _check_agreement(self, flavor: str, facts: dict[str, dict[str, Any]]) -> None:
        if self._registry.get_flavor(flavor) is None:
            return
        others = {}
        for pool in self._members(flavor):
            if pool not in facts:
                record = self._registry.get_pool(pool)
                others[pool] = (record or {}).get('facts') or {}
        _agree({**others, **facts})

    # -- placement and routing --------------------------------------------------
    def place(self, project: str, queue: str, metadata: dict[str, Any]) -> str | None:
        """The pool of a new queue: rendezvous over its flavor's pools
        (``_flavor`` metadata) or over all pools; None when no pool is
        registered (the service's own Swift serves it). The pools are listed
        afresh: processes that create one queue at once must see the same
        pools, or each could write a record naming a different pool."""
        rows = self._registry.pool_rows(fresh=True)
        flavor = metadata.get(FLAVOR_KEY)
        if flavor is not None:
            if not isinstance(flavor, str) or not naming.valid_registry_name(flavor) \
                    or self._registry.get_flavor(flavor) is None:
                raise _invalid('The flavor %r of the queue (_flavor) does not exist.'
                               % (flavor,))
            rows = [r for r in rows if r.flavor == flavor]
        elif not rows:
            return None
        chosen = placement.choose(placement.queue_key(project, queue),
                                  [(r.name, r.weight) for r in rows])
        if chosen is None:
            raise errors.StorageUnavailable('No pool%s takes new queues now (every '
                                            'weight is 0).' % (
                                                ' of flavor %s' % flavor if flavor else ''))
        return chosen

    def store_for(self, record: QueueRecord, default: MessageStore) -> MessageStore:
        """The message store of the queue's pool (``default`` when the
        record names none)."""
        if not record.pool:
            return default
        return self._pool_store(record.pool).store

    def _pool_store(self, name: str) -> PoolStore:
        with self._lock:
            cached = self._stores.get(name)
        try:
            row = next((r for r in self._registry.pool_rows() if r.name == name), None)
        except errors.StorageUnavailable:
            if cached is not None:   # the control plane is down: keep serving
                return cached
            raise
        if row is None:
            raise errors.StorageUnavailable('The pool %s of this queue is not '
                                            'registered any more.' % name)
        if cached is not None and cached.etag == row.etag:
            return cached
        return self._build_store(name, row)

    def _build_store(self, name: str, row: PoolRow) -> PoolStore:
        """The pool's store for its record as of ``row``: the same store
        when only weight or flavor changed (its claim locks and connections
        live on), a new one when its uri or options did."""
        with self._building:
            with self._lock:
                cached = self._stores.get(name)
            if cached is not None and cached.etag == row.etag:
                return cached   # another thread built it meanwhile
            record = self._registry.get_pool(name)
            if record is None:
                raise errors.StorageUnavailable('The pool %s of this queue is not '
                                                'registered any more.' % name)
            reach = (record['uri'], json.dumps(record['options'], sort_keys=True))
            if cached is not None and cached.reach == reach:
                built = cached._replace(etag=row.etag)
            else:
                client = self._connect(record['uri'], record['options'])
                store, purger = self._build(client, record['options'])
                built = PoolStore(row.etag, reach, client, store, purger)
            with self._lock:
                self._stores[name] = built
            return built

    def purgers(self) -> list[PurgeWorker]:
        """The purge worker of every registered pool (building the stores of
        pools this process has not used yet)."""
        found = []
        for row in self._registry.pool_rows():
            try:
                found.append(self._pool_store(row.name).purger)
            except errors.ZaqarSwiftError:
                continue
        return found

    def request_count(self) -> int:
        """Swift requests this thread sent to pools (for X-Swift-Requests)."""
        with self._lock:
            stores = list(self._stores.values())
        return sum(s.client.thread_count() for s in stores)

    def reset_request_count(self) -> None:
        with self._lock:
            stores = list(self._stores.values())
        for s in stores:
            s.client.reset_thread_count()

    # -- health -----------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Reachability and latency of the control plane and of each pool (a
        HEAD of its account: no writes), at most ``health_ttl`` seconds old."""
        now = self._clock()
        with self._lock:
            cached = self._health
        if cached and now - cached[0] < self._health_ttl:
            return cached[1]
        report: dict[str, Any] = {'catalog': _probe(self._control.head_account)}
        report['catalog_reachable'] = report['catalog']['storage_reachable']
        pools = {}
        try:
            rows = self._registry.pool_rows()
        except errors.StorageUnavailable:
            rows = []
        for row in rows:
            entry = {'weight': row.weight, 'flavor': row.flavor or None}
            try:
                client = self._pool_store(row.name).client
                entry.update(_probe(client.head_account))
            except errors.ZaqarSwiftError as exc:
                entry.update({'storage_reachable': False, 'detail': exc.description})
            pools[row.name] = entry
        report['pools'] = pools
        with self._lock:
            self._health = (now, report)
        return report


def _probe(head: Callable[[], Any]) -> dict[str, Any]:
    start = time.monotonic()
    try:
        head()
    except errors.ZaqarSwiftError as exc:
        return {'storage_reachable': False, 'detail': exc.description,
                'latency_ms': round((time.monotonic() - start) * 1000, 1)}
    return {'storage_reachable': True,
            'latency_ms': round((time.monotonic() - start) * 1000, 1)}


def _agree(facts: dict[str, dict[str, Any]]) -> None:
    """400 when the pools of one flavor do not have the same capabilities."""
    seen = {pool: capabilities(f) for pool, f in facts.items()}
    if len({tuple(c) for c in seen.values()}) > 1:
        raise _invalid('The pools of a flavor must have the same capabilities; '
                       'they disagree: %s.' % '; '.join(
                           '%s: %s' % (p, ', '.join(c)) for p, c in sorted(seen.items())))


def _render_pool(name: str, record: dict[str, Any], detailed: bool) -> dict[str, Any]:
    pool = {'name': name, 'flavor': record.get('flavor') or None,
            'uri': record['uri'], 'weight': record['weight']}
    if detailed:
        facts = record.get('facts') or {}
        pool['options'] = public_options(record.get('options') or {})
        pool['capabilities'] = capabilities(facts)
        pool['swift'] = facts
    return pool


class PoolPurgers(Worker):
    """Runs the purge worker of every pool, one pass each per interval."""

    name = 'pool-purge-worker'

    def __init__(self, pools: Pools, interval: float) -> None:
        super().__init__(interval)
        self._pools = pools

    def run_once(self) -> int:
        done = 0
        for purger in self._pools.purgers():
            try:
                done += purger.run_once()
            except errors.StorageUnavailable as exc:   # one pool down: the others go on
                LOG.warning('%s: %s', self.name, exc.description)
        return done
