"""Every configuration option of zaqar-swift, declared in one place.

Options are read at the edges (the API command, the worker command, the
test fixtures) and passed to constructors as plain values; nothing below
``zaqar_swift.cmd`` reads ``cfg.CONF`` directly.
"""
from __future__ import annotations

import itertools

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

api_opts = [
    cfg.HostAddressOpt('bind_host', default='127.0.0.1',
                       help='Address the API listens on.'),
    cfg.PortOpt('bind_port', default=8888, help='Port the API listens on.'),
    cfg.IntOpt('api_threads', default=16, min=1,
               help='Worker threads of the WSGI server; each keeps its own '
                    'Swift connection.'),
    cfg.StrOpt('auth_strategy', default='noauth', choices=['noauth', 'keystone'],
               help='noauth trusts the X-Project-ID and X-Roles headers '
                    '(development only); keystone validates tokens with '
                    'keystonemiddleware, configured in [keystone_authtoken].'),
]

limits_opts = [
    cfg.IntOpt('max_queues_per_page', default=20, min=1,
               help='Largest page of a queue listing (limit).'),
    cfg.IntOpt('max_messages_per_page', default=20, min=1,
               help='Largest page of a message listing and largest POST batch.'),
    cfg.IntOpt('max_messages_per_claim_or_pop', default=20, min=1,
               help='Most messages one claim or one pop may take.'),
    cfg.IntOpt('default_queue_page_size', default=10, min=1,
               help='Queues per page when the request sets no limit.'),
    cfg.IntOpt('default_message_page_size', default=10, min=1,
               help='Messages per page when the request sets no limit.'),
    cfg.IntOpt('default_claim_limit', default=10, min=1,
               help='Messages a claim takes when the request sets no limit.'),
    cfg.IntOpt('max_queue_metadata', default=64 * 1024, min=1,
               help='Largest queue metadata document, in bytes.'),
    cfg.IntOpt('max_messages_post_size', default=256 * 1024, min=1,
               help='Largest body of a message POST, in bytes.'),
    cfg.IntOpt('max_queue_name_length', default=64, min=1, max=64,
               help='Longest queue name (Zaqar: 64).'),
    cfg.IntOpt('max_message_ttl', default=1209600, min=60,
               help='Longest message TTL, in seconds.'),
    cfg.IntOpt('min_message_ttl', default=60, min=1,
               help='Shortest message TTL, in seconds.'),
    cfg.IntOpt('default_message_ttl', default=3600, min=1,
               help='TTL of a message that sets none (queue _default_message_ttl wins).'),
    cfg.IntOpt('max_message_delay', default=900, min=0,
               help='Longest message delay, in seconds.'),
    cfg.IntOpt('default_message_delay', default=0, min=0,
               help='Delay of a message that sets none (queue _default_message_delay wins).'),
    cfg.IntOpt('max_claim_ttl', default=43200, min=60,
               help='Longest claim TTL, in seconds.'),
    cfg.IntOpt('min_claim_ttl', default=60, min=1,
               help='Shortest claim TTL, in seconds.'),
    cfg.IntOpt('default_claim_ttl', default=300, min=1,
               help='Claim TTL when the request sets none.'),
    cfg.IntOpt('max_claim_grace', default=43200, min=60,
               help='Longest claim grace, in seconds.'),
    cfg.IntOpt('min_claim_grace', default=60, min=0,
               help='Shortest claim grace, in seconds.'),
    cfg.IntOpt('default_claim_grace', default=60, min=0,
               help='Claim grace when the request sets none.'),
    cfg.IntOpt('max_claim_count', default=0, min=0,
               help='Default _max_claim_count of a queue (0: unlimited).'),
    cfg.StrOpt('client_id_uuid_safe', default='strict', choices=['strict', 'off'],
               help='strict: the Client-ID header must be a UUID (as Zaqar); '
                    'off: any string of min..max_length_client_id characters.'),
    cfg.IntOpt('min_length_client_id', default=10, min=1,
               help='Shortest Client-ID when client_id_uuid_safe is off.'),
    cfg.IntOpt('max_length_client_id', default=36, min=1,
               help='Longest Client-ID when client_id_uuid_safe is off.'),
    cfg.IntOpt('max_json_depth', default=32, min=1, max=256,
               help='Deepest nesting of arrays and objects in a message body '
                    'or in queue metadata (the metadata object is one level). '
                    'Deeper documents are refused (400), so every stored '
                    'document can be decoded again.'),
    cfg.IntOpt('max_subscriptions_per_page', default=20, min=1,
               help='Largest page of a subscription listing (limit).'),
    cfg.IntOpt('default_subscription_page_size', default=10, min=1,
               help='Subscriptions per page when the request sets no limit.'),
    cfg.IntOpt('default_subscription_ttl', default=3600, min=60,
               help='TTL of a subscription that sets none, in seconds.'),
    cfg.IntOpt('max_subscription_ttl', default=10 * 365 * 86400, min=60,
               help='Longest subscription TTL, in seconds (Zaqar has no limit '
                    'but the end of the calendar; Swift needs an expiry date).'),
    cfg.ListOpt('subscriber_types',
                default=['http', 'https', 'mailto', 'trust+http', 'trust+https'],
                help='URI schemes a subscriber may use.'),
]

swift_opts = [
    # Not "auth_url": keystoneauth1's password plugin registers an option of
    # that name in this group when it loads, and the two would clash.
    cfg.StrOpt('v1_auth_url',
               help='Swift v1 (tempauth) auth URL, e.g. '
                    'http://127.0.0.1:8080/auth/v1.0. When unset, the '
                    'keystoneauth1 options of this group (auth_type, '
                    'auth_url, username, ...) are used and the object-store '
                    'endpoint comes from the catalog.'),
    cfg.StrOpt('user', help='v1 auth user, e.g. messaging:zaqar.'),
    cfg.StrOpt('key', secret=True, help='v1 auth key.'),
    cfg.StrOpt('storage_policy',
               help='Storage policy name for new containers (cluster default '
                    'when unset).'),
    cfg.IntOpt('replicas', default=3, min=1,
               help='Replicas of the storage policy, as the deployer declares '
                    'them (Swift\'s /info does not tell): zaqar-swift-manage '
                    'check reports it and warns under 3.'),
    cfg.StrOpt('interface', default='public',
               help='Catalog interface of the object-store endpoint.'),
    cfg.StrOpt('region_name', help='Catalog region of the object-store endpoint.'),
    cfg.FloatOpt('request_timeout', default=30.0, min=0.1,
                 help='Seconds to wait for one Swift request.'),
    cfg.IntOpt('retries', default=3, min=0,
               help='Retries of an idempotent Swift request after a '
                    'connection error or a 5xx.'),
    cfg.StrOpt('layout', default='shared', choices=[
                   ('shared', 'every project\'s containers in the service\'s own '
                              'account, told apart by container name'),
                   ('per_project', 'each project\'s containers in its own account '
                                   '(<reseller_prefix><project id>), so Swift\'s '
                                   'account quotas and usage apply; the service '
                                   'user needs the ResellerAdmin role (or '
                                   'tempauth .reseller_admin)')],
               help='Where messaging data lives in Swift (doc/design.md).'),
    cfg.StrOpt('reseller_prefix', default='AUTH_',
               help='Account prefix of project accounts in layout per_project.'),
    cfg.StrOpt('container_prefix', default='zaqar',
               help='Prefix of every container this service creates.'),
    cfg.FloatOpt('lease_settle_delay', default=0.25, min=0.05,
                 help='Seconds a claimer waits after writing claim state before '
                      'verifying it won; also the longest a state write may take '
                      'after its read (doc/design.md, "Claims"). Set it above the '
                      'read-then-PUT latency tail of your Swift, and above the '
                      'time a PUT takes to show in a container listing.'),
    cfg.FloatOpt('metadata_cache_ttl', default=2.0, min=0.0,
                 help='Seconds a queue\'s metadata is cached in this process. '
                      'Writes through this process invalidate it at once.'),
    cfg.IntOpt('metadata_cache_size', default=10000, min=1,
               help='Most queue records cached in this process (least recently '
                    'used go first).'),
    cfg.IntOpt('max_rows_per_request', default=10000, min=1000,
               help='Most container listing rows one API request reads. A '
                    'message listing that reaches it answers a short page with '
                    'a next marker; a claim takes what it found by then.'),
    cfg.FloatOpt('long_poll_interval', default=1.0, min=0.1,
                 help='Seconds between two looks (one listing) at a queue while '
                      'requests of this process long-poll it (?wait=N), whatever '
                      'their number. At most half of api_threads ([websocket] '
                      'threads in a websocket process) requests of a process '
                      'wait at once; the others answer as without wait.'),
]

worker_opts = [
    cfg.FloatOpt('interval', default=5.0, min=0.1,
                 help='Seconds between two passes of a background worker.'),
    cfg.FloatOpt('max_backoff', default=300.0, min=1.0,
                 help='Longest wait before a failing purge job is tried again '
                      '(the wait doubles from interval with each failure).'),
    cfg.BoolOpt('run_in_api', default=True,
                help='Whether zaqar-swift-api (the single-process waitress '
                     'server) runs the background workers in threads of its '
                     'own. Set it to false when zaqar-swift-worker runs them. '
                     'The WSGI entry point for uwsgi and gunicorn '
                     '(zaqar_swift.wsgi) never runs them, whatever this says.'),
]

metrics_opts = [
    cfg.BoolOpt('enabled', default=True,
                help='Serve GET /metrics (Prometheus text format; policy '
                     'metrics:get, admin only by default).'),
    cfg.StrOpt('directory',
               help='A directory every process of a multi-process server '
                    '(uwsgi, gunicorn) writes its counters to, so a scrape of '
                    'any process reports the whole group. Unset: each process '
                    'reports its own.'),
    cfg.FloatOpt('flush_interval', default=1.0, min=0.0,
                 help='Seconds between two writes of a process\' counters to '
                      'the metrics directory.'),
]

notification_opts = [
    cfg.BoolOpt('enabled', default=True,
                help='Run the notification worker in this process (it delivers '
                     'the messages of queues with subscriptions).'),
    cfg.BoolOpt('require_confirmation', default=False,
                help='A new subscription gets a confirmation request (with a '
                     'pre-signed confirm URL; needs [signed_url] secret_key) and '
                     'nothing else until it is confirmed.'),
    cfg.FloatOpt('poll_interval', default=1.0, min=0.05,
                 help='Seconds between two looks at a subscribed queue for '
                      'messages posted through other API processes (posts '
                      'through this process wake its worker at once).'),
    cfg.FloatOpt('index_interval', default=5.0, min=0.1,
                 help='Seconds between two reads of the index of subscribed '
                      'queues.'),
    cfg.FloatOpt('lease_ttl', default=30.0, min=2.0,
                 help='Seconds a worker keeps the right to deliver a queue '
                      'without renewing it; a crashed worker\'s queues move '
                      'to another after at most this long.'),
    cfg.FloatOpt('lease_settle_delay', default=2.0, min=0.05,
                 help='Seconds a worker waits between writing a lease and reading '
                      'it back (recipe B of SWIFT_NOTES.md): also the slowest a '
                      'lease PUT may be and still count. Above the PUT latency '
                      'tail of the cluster under load; paid once per queue when '
                      'a worker takes it over.'),
    cfg.FloatOpt('window', default=10.0, min=0.5,
                 help='Seconds behind the newest message a worker still looks '
                      'for batches: above the clock skew of API nodes plus the '
                      'slowest message PUT. A batch that shows up later than '
                      'this is not delivered.'),
    cfg.IntOpt('max_notifier_workers', default=16, min=1,
               help='Deliveries in flight at once, over all subscribers.'),
    cfg.IntOpt('max_per_subscriber', default=4, min=1,
               help='Deliveries in flight at once to one subscriber, so a slow '
                    'or dead one cannot hold up the others.'),
    cfg.FloatOpt('timeout', default=5.0, min=0.1,
                 help='Seconds to wait for a subscriber to answer one '
                      'notification (then it is retried).'),
    cfg.IntOpt('max_pending', default=1000, min=1,
               help='Most batches one subscriber may have undelivered in the '
                    'delivery state; later ones wait in Swift.'),
    cfg.StrOpt('smtp_host', default='127.0.0.1', help='SMTP server of mailto subscribers.'),
    cfg.PortOpt('smtp_port', default=25, help='Port of the SMTP server.'),
    cfg.StrOpt('smtp_mode', default='plain', choices=['plain', 'starttls', 'ssl'],
               help='plain SMTP, SMTP with STARTTLS, or SMTP over TLS.'),
    cfg.StrOpt('smtp_user_name', help='SMTP login (none: no login).'),
    cfg.StrOpt('smtp_user_password', secret=True, help='SMTP password.'),
    cfg.StrOpt('sender', default='zaqar-swift@localhost',
               help='From address of notification mail (a subscription\'s '
                    'options.from wins).'),
    cfg.StrOpt('subject', default='Zaqar notification of queue {queue}',
               help='Subject of notification mail ({queue}; the subscriber\'s '
                    '?subject= or options.subject wins).'),
    cfg.StrOpt('body_template', default='{message}',
               help='Body of notification mail: {message} is the notification '
                    'as JSON, {queue} the queue.'),
    cfg.StrOpt('confirmation_subject', default='Confirm your subscription to {queue}',
               help='Subject of a confirmation request by mail.'),
    cfg.StrOpt('confirmation_body',
               default='You have chosen to subscribe to the queue {queue} of project '
                       '{project}. To confirm, PUT {{"confirmed": true}} to {url} with '
                       'these headers:\n{headers}\n',
               help='Body of a confirmation request by mail ({queue}, {project}, '
                    '{url}, {headers}).'),
    cfg.StrOpt('external_url',
               help='Public URL of this API (e.g. https://messaging.example.com), '
                    'put in confirmation requests as WSGISubscribeURL.'),
    cfg.StrOpt('trust_auth_url',
               help='Keystone URL for trust+http(s) subscribers (default: '
                    '[keystone_authtoken] auth_url).'),
]

signed_url_opts = [
    cfg.StrOpt('secret_key', secret=True,
               help='Key of the HMAC of pre-signed URLs (POST /v2/queues/{queue}/share '
                    'and confirmation requests). Unset: sharing is refused and '
                    'every signed request is a 404.'),
]

websocket_opts = [
    cfg.HostAddressOpt('bind_host', default='127.0.0.1',
                       help='Address the websocket server (zaqar-swift-websocket) '
                            'listens on.'),
    cfg.PortOpt('bind_port', default=9000,
                help='Port the websocket server listens on (Zaqar\'s default).'),
    cfg.IntOpt('max_frame_size', min=1024,
               help='Largest frame (message) a client may send, in bytes; a '
                    'larger one closes the connection with code 1009. Unset: '
                    'the largest legal request body plus 8 KiB for the '
                    'action and headers.'),
    cfg.IntOpt('max_connections', default=1000, min=1,
               help='Most open websocket connections of this process; more '
                    'are refused with HTTP 503 before the upgrade.'),
    cfg.IntOpt('threads', default=8, min=1,
               help='Threads that run requests against Swift (each keeps its '
                    'own Swift connection). A connection has at most one '
                    'request running at a time.'),
    cfg.FloatOpt('push_interval', default=0.5, min=0.05,
                 help='Seconds between two looks at each queue that a '
                      'connection of this process subscribed to: one bounded '
                      'listing per queue, whatever the number of subscribers.'),
    cfg.FloatOpt('push_window', default=5.0, min=0.5,
                 help='Seconds of recent batches every look re-lists, so a '
                      'message whose POST took long to show in the listing, '
                      'or was posted by an API node whose clock lags, is '
                      'still pushed (once). Above the POST latency tail plus '
                      'the clock skew between API nodes.'),
]

pooling_opts = [
    cfg.BoolOpt('enabled', default=False,
                help='Serve /v2/pools and /v2/flavors and place new queues in '
                     'the registered pools (weighted rendezvous hashing; a '
                     'queue\'s _flavor metadata picks the flavor). While no pool '
                     'is registered, queues stay on the [swift] cluster, which '
                     'also keeps the control plane (queue records, pools, '
                     'flavors) in every case. Disabled: no pool lookups at all.'),
    cfg.FloatOpt('cache_ttl', default=2.0, min=0.0,
                 help='Seconds a process reuses its listing of the pools (one '
                      'LIST of the control plane per interval); writes through '
                      'the process refresh it at once.'),
    cfg.FloatOpt('health_cache_ttl', default=5.0, min=0.0,
                 help='Seconds /v2/health reuses its probes of the pools (a '
                      'HEAD of each pool\'s account; nothing is written).'),
    cfg.IntOpt('max_pools_per_page', default=20, min=1,
               help='Largest page of a pool or flavor listing (limit).'),
    cfg.IntOpt('default_pools_page_size', default=10, min=1,
               help='Pools or flavors per page when the request sets no limit.'),
]

GROUPS = {
    'DEFAULT': api_opts,
    'limits': limits_opts,
    'swift': swift_opts,
    'worker': worker_opts,
    'metrics': metrics_opts,
    'notification': notification_opts,
    'signed_url': signed_url_opts,
    'websocket': websocket_opts,
    'pooling': pooling_opts,
}


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option of the service on ``conf``."""
    for group, opts in GROUPS.items():
        conf.register_opts(opts, group=None if group == 'DEFAULT' else group)
    ks_loading.register_session_conf_options(conf, 'swift')
    ks_loading.register_auth_conf_options(conf, 'swift')


def list_opts() -> list:
    """Options for oslo-config-generator (entry point ``zaqar_swift``)."""
    swift_all = itertools.chain(
        swift_opts,
        ks_loading.get_session_conf_options(),
        ks_loading.get_auth_common_conf_options(),
        ks_loading.get_auth_plugin_conf_options('password'),
        ks_loading.get_auth_plugin_conf_options('v3applicationcredential'))
    return [
        ('DEFAULT', api_opts),
        ('limits', limits_opts),
        ('swift', list(swift_all)),
        ('worker', worker_opts),
        ('metrics', metrics_opts),
        ('notification', notification_opts),
        ('signed_url', signed_url_opts),
        ('websocket', websocket_opts),
        ('pooling', pooling_opts),
    ]


def defaults() -> cfg.ConfigOpts:
    """The service's options at their defaults: no command line, no config
    file (tests, and an app built without a deployment's configuration)."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    return conf
