"""Builds the service from configuration: the only place that reads
``[swift]``, ``[limits]`` and ``[worker]`` and wires the pieces together."""
from __future__ import annotations

import functools
import logging
import threading
from typing import Callable

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from zaqar_swift import longpoll
from zaqar_swift import metrics
from zaqar_swift import pools as pools_module
from zaqar_swift import validation
from zaqar_swift.notification import senders
from zaqar_swift.notification.worker import NotificationWorker, Settings
from zaqar_swift.service import MessagingService
from zaqar_swift.storage.swift.delivery import DeliveryStore
from zaqar_swift.storage.swift import client as swift
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift.purger import PurgeWorker
from zaqar_swift.storage.swift.queues import Catalog
from zaqar_swift.storage.swift.registry import Registry
from zaqar_swift.storage.swift.store import MessageStore
from zaqar_swift.storage.swift.subscriptions import SubscriptionStore
from zaqar_swift.storage.swift.topics import TopicCatalog, TopicMessages, TopicSubscriptionStore
from zaqar_swift.subscriptions import Subscriptions
from zaqar_swift.topics import Topics, TopicSubscriptions

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


def pool_client(conf: cfg.ConfigOpts, uri: str, options: dict) -> swift.SwiftClient:
    """A pool's Swift client from its record: tempauth (v1) at ``uri`` when
    its options have ``user``/``key``, else keystoneauth1 (``auth_type``,
    password by default) with ``uri`` as the identity endpoint."""
    group = conf.swift
    measured = metrics.measured_client_class()
    if 'user' in options:
        return measured.v1(uri, options['user'], options.get('key', ''),
                           group.request_timeout, group.retries)
    from keystoneauth1 import session as ks_session
    loader = ks_loading.get_plugin_loader(options.get('auth_type', 'password'))
    auth = loader.load_from_options(auth_url=uri, **{
        k: v for k, v in options.items() if k in pools_module.KEYSTONE_AUTH
        and k not in ('auth_type', 'region_name', 'interface')})
    os_options = {'interface': options.get('interface', 'public'),
                  'region_name': options.get('region_name'), 'service_type': 'object-store'}
    return measured.with_session(ks_session.Session(auth=auth), os_options,
                                 group.request_timeout, group.retries)


def build_pools(conf: cfg.ConfigOpts, client: swift.SwiftClient,
                limits: validation.Limits, catalog: Callable[[], Catalog]
                ) -> pools_module.Pools:
    """Pools and flavors over the control plane of ``client``; each pool's
    store is built like the default one, on the pool's Swift and policy."""
    group, reseller = conf.swift, _reseller(conf)

    def build(pool: swift.SwiftClient, options: dict) -> tuple[MessageStore, PurgeWorker]:
        store = MessageStore(pool, catalog(), group.container_prefix,
                             options.get('storage_policy'), group.lease_settle_delay,
                             reseller_prefix=reseller, max_rows=group.max_rows_per_request,
                             longest_claim=limits.max_claim_ttl + limits.max_claim_grace)
        return store, PurgeWorker(store, pool, conf.worker.interval, conf.worker.max_backoff)

    registry = Registry(client, group.container_prefix, conf.pooling.cache_ttl)
    return pools_module.Pools(
        registry, functools.partial(pool_client, conf), build, client,
        pools_module.PageLimits(conf.pooling.max_pools_per_page,
                                conf.pooling.default_pools_page_size),
        conf.pooling.health_cache_ttl)


def _reseller(conf: cfg.ConfigOpts) -> str | None:
    return conf.swift.reseller_prefix if conf.swift.layout == 'per_project' else None


def build_service(conf: cfg.ConfigOpts, client: swift.SwiftClient | None = None,
                  threads: int | None = None) -> MessagingService:
    """The service; ``threads`` serve its requests (default ``api_threads``):
    at most half of them may wait in long polls."""
    limits = validation.Limits.from_conf(conf.limits)
    client = client or swift_client(conf)
    group = conf.swift
    reseller = group.reseller_prefix if group.layout == 'per_project' else None
    pools = None
    if conf.pooling.enabled:
        pools = build_pools(conf, client, limits, lambda: catalog)
    catalog = Catalog(client, group.container_prefix, group.metadata_cache_ttl,
                      tombstone_life(limits), reseller_prefix=reseller,
                      cache_size=group.metadata_cache_size,
                      placer=pools.place if pools else None)
    store = MessageStore(client, catalog, group.container_prefix, group.storage_policy,
                         group.lease_settle_delay, reseller_prefix=reseller,
                         max_rows=group.max_rows_per_request,
                         longest_claim=limits.max_claim_ttl + limits.max_claim_grace)
    workers = [PurgeWorker(store, client, conf.worker.interval, conf.worker.max_backoff)]
    if pools is not None:
        workers.append(pools_module.PoolPurgers(pools, conf.worker.interval))
    sub_store = SubscriptionStore(client, group.container_prefix, group.storage_policy,
                                  reseller_prefix=reseller)
    notifier = None
    if conf.notification.enabled:
        notifier = notification_worker(conf, client, catalog, store, sub_store, pools)
        workers.append(notifier)
    trusts = None
    if conf.auth_strategy == 'keystone':
        from zaqar_swift.notification import trusts as trust_module
        trusts = trust_module.KeystoneTrusts.from_conf(conf)
        if notifier is not None:
            notifier.use_trusts(trusts)
    subscriptions = Subscriptions(catalog, sub_store, limits, notifier, trusts)
    threads = threads or conf.api_threads
    pollers = longpoll.Pollers(group.long_poll_interval, max(1, threads // 2))
    return MessagingService(client, catalog, store, limits, workers, subscriptions,
                            conf.signed_url.secret_key,
                            build_topics(conf, client, limits, workers, trusts), pools,
                            pollers)


def build_topics(conf: cfg.ConfigOpts, client: swift.SwiftClient, limits: validation.Limits,
                 workers: list, trusts: object = None) -> Topics:
    """The topics core, on the default Swift (topics have no pool), with a
    notification worker of their own (appended to ``workers``)."""
    group = conf.swift
    reseller = group.reseller_prefix if group.layout == 'per_project' else None
    catalog = TopicCatalog(client, group.container_prefix, group.metadata_cache_ttl,
                           tombstone_life(limits), reseller_prefix=reseller,
                           cache_size=group.metadata_cache_size)
    store = TopicMessages(client, catalog, group.container_prefix, group.storage_policy,
                          group.lease_settle_delay, reseller_prefix=reseller,
                          max_rows=group.max_rows_per_request,
                          longest_claim=limits.max_claim_ttl + limits.max_claim_grace)
    sub_store = TopicSubscriptionStore(client, group.container_prefix, group.storage_policy,
                                       reseller_prefix=reseller)
    notifier = None
    if conf.notification.enabled:
        notifier = notification_worker(conf, client, catalog, store, sub_store)
        notifier.name, notifier.resource = 'topic-notification-worker', 'topics'
        if trusts is not None:
            notifier.use_trusts(trusts)
        workers.append(notifier)
    subscriptions = TopicSubscriptions(catalog, sub_store, limits, notifier, trusts)
    return Topics(client, catalog, store, limits, subscriptions=subscriptions)


def smtp_settings(conf: cfg.ConfigOpts) -> senders.SmtpSettings:
    n = conf.notification
    return senders.SmtpSettings(n.smtp_host, n.smtp_port, n.smtp_mode, n.smtp_user_name,
                                n.smtp_user_password, n.sender, n.subject, n.body_template,
                                n.timeout * 2)


def notification_worker(conf: cfg.ConfigOpts, client: swift.SwiftClient, catalog: Catalog,
                        store: MessageStore, sub_store: SubscriptionStore,
                        pools: pools_module.Pools | None = None) -> NotificationWorker:
    """The worker that delivers notifications, from ``[notification]``."""
    n = conf.notification
    settings = Settings(n.poll_interval, n.index_interval, n.lease_ttl, n.window,
                        n.max_notifier_workers, n.max_per_subscriber, n.max_pending,
                        n.require_confirmation, conf.signed_url.secret_key, n.external_url)
    webhook = senders.Webhook(n.timeout)
    send = senders.Senders(webhook, senders.Mail(smtp_settings(conf)))
    delivery = DeliveryStore(client, n.lease_settle_delay)
    stores = functools.partial(pools.store_for, default=store) if pools else None
    return NotificationWorker(catalog, store, sub_store, delivery, send, settings,
                              stores=stores)


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
