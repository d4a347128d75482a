"""The pure parts of pools.py: documents, the durability guard, facts from
/info and capabilities."""
from __future__ import annotations

import pytest

from zaqar_swift import errors
from zaqar_swift import pools

URI = 'http://127.0.0.1:8080/auth/v1.0'
INFO = {'swift': {'version': '2.38.3', 'max_file_size': 5368709122,
                  'container_listing_limit': 10000, 'max_meta_value_length': 256,
                  'policies': [{'name': 'gold', 'default': True},
                               {'name': 'single', 'aliases': 'single, one'}]},
        'bulk_delete': {'max_deletes_per_request': 10000}}


def test_pool_document_defaults_and_checks():
    doc = pools.pool_document({'uri': URI, 'weight': 5, 'options': {'replicas': 3}})
    assert doc == {'uri': URI, 'weight': 5, 'flavor': '', 'options': {'replicas': 3}}
    for bad in ({'uri': URI, 'weight': True, 'options': {'replicas': 3}},
                {'uri': URI, 'weight': 2 ** 32, 'options': {'replicas': 3}},
                {'uri': 'mongodb://x', 'weight': 1, 'options': {'replicas': 3}},
                {'uri': URI, 'weight': 1, 'flavor': 'a b', 'options': {'replicas': 3}},
                {'uri': URI, 'weight': 1, 'options': {'replicas': '3'}},
                {'uri': URI, 'weight': 1, 'options': {}},          # durability undeclared
                {'uri': URI, 'weight': 1, 'options': {'replicas': 2}},
                None, []):
        with pytest.raises(errors.InvalidRequest):
            pools.pool_document(bad)


def test_durability_guard():
    pools.durability_guard({'replicas': 1, 'unreliable': True})
    pools.durability_guard({'ec_parity': 2})
    with pytest.raises(errors.InvalidRequest, match='unreliable'):
        pools.durability_guard({'ec_parity': 1})


def test_patch_merges_options_and_keeps_secrets():
    current = {'uri': URI, 'weight': 1, 'flavor': '',
               'options': {'user': 'u', 'key': 'secret', 'replicas': 3}}
    doc = pools.pool_patch({'weight': 7, 'options': {'storage_policy': 'gold'}}, current)
    assert doc['weight'] == 7 and doc['options']['key'] == 'secret'
    assert pools.public_options(doc['options']) == {'user': 'u', 'replicas': 3,
                                                    'storage_policy': 'gold'}
    with pytest.raises(errors.InvalidRequest):
        pools.pool_patch({}, current)


def test_facts_and_capabilities():
    facts = pools.facts_from_info(INFO, {'replicas': 3})
    assert facts['storage_policy'] == 'gold' and facts['policy_exists']
    assert pools.capabilities(facts) == ['FIFO', 'CLAIMS', 'DURABILITY', 'AOD',
                                         'HIGH_THROUGHPUT']
    one = pools.facts_from_info({'swift': INFO['swift']},   # no bulk delete
                                {'storage_policy': 'one', 'replicas': 1, 'unreliable': True})
    assert one['policy_exists'] and pools.capabilities(one) == ['FIFO', 'CLAIMS', 'AOD']
    assert not pools.facts_from_info(INFO, {'storage_policy': 'x', 'replicas': 3}
                                     )['policy_exists']


def test_flavor_document():
    assert pools.flavor_document({'pool_list': ['a', 'b', 'a'],
                                  'capabilities': {'x': 1}}) == ['a', 'b']
    for bad in ({}, {'pool_list': []}, {'pool_list': 'a'}, {'pool_list': [1]},
                {'pool_list': ['a'], 'pool': 'x'}):
        with pytest.raises(errors.InvalidRequest):
            pools.flavor_document(bad)


def test_one_pool_down_does_not_stop_the_purge_of_the_others():
    class Down:
        def run_once(self):
            raise errors.StorageUnavailable('down')

    class Up:
        def run_once(self):
            return 3

    class Registered:
        def purgers(self):
            return [Down(), Up(), Down(), Up()]

    assert pools.PoolPurgers(Registered(), 1.0).run_once() == 6
