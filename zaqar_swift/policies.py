"""Who may do what: the API's authorization rules, defined in code (oslo.policy).

Every operation of the API has one documented rule whose ``operations``
name the route template and method it guards; the REST transport enforces
exactly those (``operations()``), so the sample file documents what runs.
Operators override rules in the policy file (``[oslo_policy] policy_file``,
``policy.yaml`` next to the config file by default); the commented defaults
come from ``oslopolicy-sample-generator --namespace zaqar_swift``.

Defaults follow Zaqar: queue, message and claim operations are open to
anyone acting for a project (``project_user``; the project is always the
caller's own, taken from its token), ping is open to any authenticated
caller, and the storage health report is for admins.
"""
from __future__ import annotations

from oslo_config import cfg
from oslo_policy import policy

ADMIN = 'context_is_admin'
PROJECT_USER = 'project_user'

_Q = '/v2/queues/{queue}'
_S = _Q + '/subscriptions/{subscription_id}'

BASE_RULES = [
    policy.RuleDefault(
        ADMIN, 'role:admin',
        description='An administrator of the messaging service.'),
    policy.RuleDefault(
        PROJECT_USER, 'project_id:%(project_id)s',
        description='A caller acting for the project whose queues it addresses. '
                    'The project always comes from the caller (its token behind '
                    'keystone), so this admits every project-scoped caller, as '
                    'Zaqar does; override it, e.g. with "role:member and '
                    'project_id:%(project_id)s", to require a role everywhere.'),
]


def _rule(name: str, check: str, description: str,
          *operations: tuple[str, str]) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path} for method, path in operations])


def _user(name: str, description: str, *operations: tuple[str, str]
          ) -> policy.DocumentedRuleDefault:
    return _rule(name, 'rule:' + PROJECT_USER, description, *operations)


OPERATION_RULES = [
    _rule('ping:get', '', 'Check that the API answers.',
          ('GET', '/v2/ping'), ('HEAD', '/v2/ping')),
    _rule('health:get', 'rule:' + ADMIN, 'Report the health of the storage.',
          ('GET', '/v2/health')),
    _rule('metrics:get', 'rule:' + ADMIN, 'Read the service metrics (Prometheus text).',
          ('GET', '/metrics')),
    _user('queues:get_all', 'List the queues of the project.', ('GET', '/v2/queues')),
    _user('queues:create', 'Create a queue.', ('PUT', _Q)),
    _user('queues:get', 'Read the metadata of a queue.', ('GET', _Q)),
    _user('queues:update', 'Update the metadata of a queue.', ('PATCH', _Q)),
    _user('queues:delete', 'Delete a queue.', ('DELETE', _Q)),
    _user('queues:stats', 'Read the message counts of a queue.', ('GET', _Q + '/stats')),
    _user('queues:purge', 'Delete the messages of a queue.', ('POST', _Q + '/purge')),
    _user('messages:create', 'Post messages.', ('POST', _Q + '/messages')),
    _user('messages:get_all', 'List messages, or get several by id.',
          ('GET', _Q + '/messages')),
    _user('messages:delete_all', 'Delete several messages by id, or pop messages.',
          ('DELETE', _Q + '/messages')),
    _user('messages:get', 'Get one message.', ('GET', _Q + '/messages/{message_id}')),
    _user('messages:delete', 'Delete one message.',
          ('DELETE', _Q + '/messages/{message_id}')),
    _user('claims:create', 'Claim messages.', ('POST', _Q + '/claims')),
    _user('claims:get', 'Read a claim.', ('GET', _Q + '/claims/{claim_id}')),
    _user('claims:update', 'Renew a claim.', ('PATCH', _Q + '/claims/{claim_id}')),
    _user('claims:delete', 'Release a claim.', ('DELETE', _Q + '/claims/{claim_id}')),
    _user('queues:share', 'Make a pre-signed URL of a queue.', ('POST', _Q + '/share')),
    _user('subscription:get_all', 'List the subscriptions of a queue.',
          ('GET', _Q + '/subscriptions')),
    _user('subscription:create', 'Subscribe to a queue.', ('POST', _Q + '/subscriptions')),
    _user('subscription:get', 'Read a subscription.', ('GET', _S)),
    _user('subscription:update', 'Change a subscription.', ('PATCH', _S)),
    _user('subscription:delete', 'Delete a subscription.', ('DELETE', _S)),
    _user('subscription:confirm', 'Confirm or cancel a subscription.',
          ('PUT', _S + '/confirm')),
]

_P, _F = '/v2/pools', '/v2/flavors'
# Pools and flavors are the operator's (Zaqar: admin only).
OPERATION_RULES += [
    _rule('pools:get_all', 'rule:' + ADMIN, 'List the pools.', ('GET', _P)),
    _rule('pools:create', 'rule:' + ADMIN, 'Register a pool.', ('PUT', _P + '/{pool}')),
    _rule('pools:get', 'rule:' + ADMIN, 'Read a pool.', ('GET', _P + '/{pool}')),
    _rule('pools:update', 'rule:' + ADMIN, 'Change a pool.', ('PATCH', _P + '/{pool}')),
    _rule('pools:delete', 'rule:' + ADMIN, 'Deregister a pool.', ('DELETE', _P + '/{pool}')),
    _rule('flavors:get_all', 'rule:' + ADMIN, 'List the flavors.', ('GET', _F)),
    _rule('flavors:create', 'rule:' + ADMIN, 'Create a flavor.', ('PUT', _F + '/{flavor}')),
    _rule('flavors:get', 'rule:' + ADMIN, 'Read a flavor.', ('GET', _F + '/{flavor}')),
    _rule('flavors:update', 'rule:' + ADMIN, 'Change a flavor.', ('PATCH', _F + '/{flavor}')),
    _rule('flavors:delete', 'rule:' + ADMIN, 'Delete a flavor.', ('DELETE', _F + '/{flavor}')),
]


# Topics (Zaqar's topics:* rules). A topic's messages and subscriptions are
# guarded by the messages:* and subscription:* rules, as in Zaqar.
_T = '/v2/topics/{topic}'
OPERATION_RULES += [
    _user('topics:get_all', 'List the topics of the project.', ('GET', '/v2/topics')),
    _user('topics:create', 'Create a topic.', ('PUT', _T)),
    _user('topics:get', 'Read the metadata of a topic.', ('GET', _T)),
    _user('topics:update', 'Update the metadata of a topic.', ('PATCH', _T)),
    _user('topics:delete', 'Delete a topic.', ('DELETE', _T)),
    _user('topics:stats', 'Read the message counts of a topic.', ('GET', _T + '/stats')),
    _user('topics:purge', 'Delete the messages and/or subscriptions of a topic.',
          ('POST', _T + '/purge')),
]


def _with_topics(rule: policy.DocumentedRuleDefault) -> policy.DocumentedRuleDefault:
    """A messages:* or subscription:* rule that also guards the topic route
    of each of its queue routes."""
    if rule.name.split(':')[0] not in ('messages', 'subscription'):
        return rule
    ops = [(op['method'], op['path']) for op in rule.operations]
    ops += [(method, _T + path[len(_Q):]) for method, path in ops
            if path.startswith(_Q + '/')]
    return _rule(rule.name, rule.check_str, rule.description, *ops)


OPERATION_RULES = [_with_topics(rule) for rule in OPERATION_RULES]


def list_rules() -> list[policy.RuleDefault]:
    """Every rule with its default (entry point ``oslo.policy.policies``)."""
    return BASE_RULES + OPERATION_RULES


def operations() -> dict[tuple[str, str], str]:
    """``(route template, method) -> rule name`` for every guarded operation."""
    return {(op['path'], op['method']): rule.name
            for rule in OPERATION_RULES for op in rule.operations}


def build_enforcer(conf: cfg.ConfigOpts) -> policy.Enforcer:
    """An enforcer reading ``[oslo_policy]`` of ``conf``, with every default
    registered. Build one per process: it re-reads the policy file only when
    the file changes."""
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer


def get_enforcer() -> policy.Enforcer:
    """The enforcer of the default configuration files (entry point
    ``oslo.policy.enforcer``, used by ``oslopolicy-policy-generator`` and
    ``oslopolicy-checker``)."""
    conf = cfg.ConfigOpts()
    conf([], project='zaqar-swift')
    return build_enforcer(conf)
