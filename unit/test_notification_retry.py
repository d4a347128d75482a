"""Zaqar's retry policies as schedules of delays (notification/retry.py)."""
from __future__ import annotations

import pytest

from zaqar_swift import errors
from zaqar_swift import validation
from zaqar_swift.notification import retry


def test_defaults_are_zaqars_schedule():
    policy = retry.effective(None, None)
    assert retry.schedule(policy) == [0, 0, 0, 5, 5, 5, 5, 10, 15, 20, 25, 30, 30, 30]
    assert retry.delay(policy, 1) == 0 and retry.delay(policy, 4) == 5
    assert retry.delay(policy, 100) == 30     # after the schedule: maximum_delay, forever


@pytest.mark.parametrize('function, expected', [   # the values of Zaqar's formulas
    ('linear', [10, 15, 20, 25, 30, 35]),
    ('arithmetic', [10, 12, 16, 22, 30, 40]),
    ('geometric', [10, 13, 17, 22, 30, 39]),
    ('exponential', [10, 13, 17, 22, 30, 39]),
])
def test_backoff_functions_go_from_minimum_to_maximum(function, expected):
    assert retry.backoff(function, 10, 40) == expected


def test_subscription_policy_wins_unless_overridden():
    queue = {'minimum_delay': 1, 'maximum_delay': 11}
    sub = {'minimum_delay': 2, 'maximum_delay': 20}
    assert retry.effective(queue, sub)['minimum_delay'] == 2
    assert retry.effective(queue, None)['minimum_delay'] == 1
    assert retry.effective(dict(queue, ignore_subscription_override=True), sub)[
        'minimum_delay'] == 1


@pytest.mark.parametrize('policy', [
    'x', {'minimum_delay': 'x'}, {'retries_with_no_delay': True},
    {'retry_backoff_function': 'cubic'}, {'ignore_subscription_override': 'yes'},
    {'minimum_delay': 20, 'maximum_delay': 25},
])
def test_bad_policies_are_refused(policy):
    with pytest.raises(errors.InvalidRequest):
        validation.retry_policy(policy)


def test_queue_metadata_checks_its_retry_policy():
    limits = validation.Limits.defaults()
    with pytest.raises(errors.InvalidRequest):
        validation.queue_metadata({'_retry_policy': {'maximum_delay': 6}}, limits)
    assert validation.queue_metadata({'_retry_policy': {'maximum_delay': 60}}, limits)
