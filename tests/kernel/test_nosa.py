"""ipsecsim/kernel/nosa.py: ips_out_nosa drops written down per situation, as they happen."""

import random
from ipaddress import ip_address

from ipsecsim.kernel.nosa import NoSaLog
from ipsecsim.netipsec import IpsecRequest, KeyDB, SecurityAssociation

A, B, C = ip_address("192.168.0.3"), ip_address("192.168.0.5"), ip_address("192.168.0.9")
REQUEST = IpsecRequest("esp", "tunnel", A, B, "unique", 100)


class CountingKeyDB(KeyDB):
    """A key engine that counts how often the log reads its SAD."""

    reads = 0

    def sas(self, proto=None):
        self.reads += 1
        return super().sas(proto)


def setup():
    db = CountingKeyDB(sysctl={}, rng=random.Random(1))
    log = NoSaLog(db)
    db.subscribe(log.sad_changed, satypes=("esp",))
    return db, log


def sa(spi, src=A, dst=B, reqid=100):
    return SecurityAssociation(src=src, dst=dst, spi=spi, enc="null", mode="tunnel", reqid=reqid,
                               rng=random.Random(spi))


def test_the_sad_is_read_once_per_situation_and_drops_are_only_counted():
    db, log = setup()
    for n in range(1000):
        log.dropped(REQUEST, A, B, now=n / 1000)
    assert db.reads == 1
    (record,) = log.records
    assert (record.count, record.first, record.last, record.had) == (1000, 0.0, 0.999, ())


def test_a_change_of_other_addresses_sas_keeps_the_situation():
    db, log = setup()
    log.dropped(REQUEST, A, B, now=1.0)
    db.add(sa(10005, A, C), now=1.5)
    log.dropped(REQUEST, A, B, now=2.0)
    assert db.reads == 1 and [r.count for r in log.records] == [2]


def test_a_change_of_these_addresses_sas_starts_a_new_situation():
    db, log = setup()
    log.dropped(REQUEST, A, B, now=1.0)
    db.add(sa(10002, reqid=300), now=1.5)
    log.dropped(REQUEST, A, B, now=2.0)
    db.add(sa(10000), now=2.5)
    db.delete(A, B, "esp", 10000, now=3.0)
    log.dropped(REQUEST, A, B, now=3.5)
    db.flush()
    log.dropped(REQUEST, A, B, now=4.0)
    assert [(r.first, r.count, r.had) for r in log.records] == [
        (1.0, 1, ()), (2.0, 1, ((10002, 300, "tunnel"),)), (3.5, 1, ((10002, 300, "tunnel"),)), (4.0, 1, ())]
