"""The configuration the sample generator documents."""
from oslo_config import cfg

from zaqar_swift import conf


def test_every_option_is_documented_for_the_sample():
    for group, opts in conf.list_opts():
        for opt in opts:
            assert opt.help, '%s.%s has no help text' % (group, opt.name)


def test_options_register_and_default():
    c = cfg.ConfigOpts()
    conf.register_opts(c)
    c([])
    assert c.swift.layout == 'shared'
    assert c.limits.default_message_ttl == 3600
    assert c.swift.lease_settle_delay == 0.25
