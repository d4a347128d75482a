"""Peers: processes claiming from one queue split its settled batches
(a preference only; exclusivity is the claim round's verify step)."""
from zaqar_swift.storage.swift import claims
from zaqar_swift.storage.swift import naming
from zaqar_swift.storage.swift import views
from zaqar_swift.storage.swift.client import Target

Q = Target(None, 'zaqar.p.q')
BATCH = '%014x%08x' % (1_700_000_000_000_000, 7)


def _young(writer: int) -> views.BatchView:
    name = naming.gen_object(BATCH, 1, writer)
    return views.BatchView(BATCH, gen=1, gen_rows=[{'name': name}])


def test_the_writer_of_a_state_object_is_read_back_from_its_name():
    assert naming.state_writer(naming.gen_object(BATCH, 3, 0xabcd0012)) == 0xabcd0012
    assert naming.state_writer(naming.batch_object(BATCH)) is None
    assert naming.state_writer(naming.tombstone_object(BATCH, 2)) is None


def test_alone_a_process_takes_every_batch():
    peers = claims.Peers(0x1234)
    peers.see(Q, _young(0x1234 << 16 | 5), 100.0)   # its own writes do not count
    assert peers.share(Q, 100.0) == (0, 1)
    assert all(claims._mine('%022x' % n, 0, 1) for n in range(50))


def test_two_processes_that_see_each_other_split_the_batches_between_them():
    a, b = claims.Peers(0x1000), claims.Peers(0x2000)
    a.see(Q, _young(0x2000 << 16 | 1), 100.0)
    b.see(Q, _young(0x1000 << 16 | 1), 100.0)
    (pa, na), (pb, nb) = a.share(Q, 100.5), b.share(Q, 100.5)
    assert na == nb == 2 and {pa, pb} == {0, 1}
    batches = ['%014x%08x' % (1_700_000_000_000_000 + n, n) for n in range(1000)]
    mine_a = {x for x in batches if claims._mine(x, pa, na)}
    mine_b = {x for x in batches if claims._mine(x, pb, nb)}
    assert not mine_a & mine_b and len(mine_a | mine_b) == 1000
    assert 400 < len(mine_a) < 600


def test_a_peer_not_seen_for_a_while_is_forgotten():
    peers = claims.Peers(0x1000)
    peers.see(Q, _young(0x2000 << 16 | 1), 100.0)
    assert peers.share(Q, 100.0 + claims.PEER_LIFE - 0.1)[1] == 2
    assert peers.share(Q, 100.0 + claims.PEER_LIFE + 0.1) == (0, 1)
