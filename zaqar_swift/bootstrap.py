"""Builds the service from configuration: the only place that reads
``[swift]``, ``[limits]`` and ``[worker]`` and wires the pieces together."""
from __future__ import annotations

import logging
import threading

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from zaqar_swift import metrics
from zaqar_swift import validation
from zaqar_swift.service import MessagingService
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift.purger import PurgeWorker
from zaqar_swift.storage.swift.queues import Catalog
from zaqar_swift.storage.swift.store import MessageStore

LOG = logging.getLogger(__name__)


def swift_client(conf: cfg.ConfigOpts) -> swift.SwiftClient:
    """v1 (tempauth) credentials when ``[swift] v1_auth_url`` is set, else a
    keystoneauth1 session from the same group."""
    group = conf.swift
    measured = metrics.measured_client_class()
    if group.v1_auth_url:
        return measured.v1(group.v1_auth_url, group.user, group.key,
                           group.request_timeout, group.retries)
    auth = ks_loading.load_auth_from_conf_options(conf, 'swift')
    session = ks_loading.load_session_from_conf_options(conf, 'swift', auth=auth)
    os_options = {'interface': group.interface, 'region_name': group.region_name,
                  'service_type': 'object-store'}
    return measured.with_session(session, os_options, group.request_timeout,
                                 group.retries)


def tombstone_life(limits: validation.Limits) -> int:
    """Seconds a deleted queue's cut must be remembered: the longest a message
    can live (ttl plus claim extension)."""
    return limits.max_message_ttl + limits.max_claim_ttl + limits.max_claim_grace + 60


def build_service(conf: cfg.ConfigOpts,
                  client: swift.SwiftClient | None = None) -> MessagingService:
    limits = validation.Limits.from_conf(conf.limits)
    client = client or swift_client(conf)
    group = conf.swift
    reseller = group.reseller_prefix if group.layout == 'per_project' else None
    catalog = Catalog(client, group.container_prefix, group.metadata_cache_ttl,
                      tombstone_life(limits), reseller_prefix=reseller,
                      cache_size=group.metadata_cache_size)
    store = MessageStore(client, catalog, group.container_prefix, group.storage_policy,
                         group.lease_settle_delay, reseller_prefix=reseller,
                         max_rows=group.max_rows_per_request,
                         longest_claim=limits.max_claim_ttl + limits.max_claim_grace)
    workers = [PurgeWorker(store, client, conf.worker.interval, conf.worker.max_backoff)]
    return MessagingService(client, catalog, store, limits, workers)


def start_workers(service: MessagingService) -> list[threading.Thread]:
    """Run the background workers in daemon threads of this process."""
    return start_workers_of(service.workers)


def start_workers_of(workers: list) -> list[threading.Thread]:
    """Run ``workers`` (``run_forever``) in daemon threads of this process."""
    threads = []
    for worker in workers:
        thread = threading.Thread(target=worker.run_forever, name=worker.name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def purge_backlog(conf: cfg.ConfigOpts, client: swift.SwiftClient):
    """A callable counting the purge jobs waiting (one listing, at most
    10,000), for the metrics."""
    jobs = swift.Target(None, naming.jobs_container(conf.swift.container_prefix))

    def count() -> int:
        try:
            return len(client.list_objects(jobs))
        except swift.Missing:
            return 0
    return count
