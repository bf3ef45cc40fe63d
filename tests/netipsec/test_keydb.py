"""ipsecsim/netipsec/keydb.py: key.c's SAD, SPD, ACQUIRE and lifetimes. [S2] [S4] [S7] [S8]"""

import random
from ipaddress import ip_address, ip_network

import pytest

from ipsecsim.netipsec import IpsecRequest, KeyDB, Lifetime, PfkeyError, SecurityAssociation, SecurityPolicy
from ipsecsim.netipsec.policy import SaIndex

A, B, C = ip_address("192.168.0.3"), ip_address("192.168.0.5"), ip_address("192.168.0.9")


class Mib(dict):
    """A Sysctl-like dict: ``get(name)`` is all the key engine reads."""


def keydb(**knobs) -> KeyDB:
    return KeyDB(sysctl=Mib(knobs), rng=random.Random(1))


def sa(spi, src=A, dst=B, *, mode="tunnel", reqid=100, hard=None, soft=None) -> SecurityAssociation:
    return SecurityAssociation(src=src, dst=dst, spi=spi, enc="null", mode=mode, reqid=reqid,
                               lifetime_hard=None if hard is None else Lifetime(addtime=hard),
                               lifetime_soft=None if soft is None else Lifetime(addtime=soft),
                               rng=random.Random(spi))  # fmt: skip


def tunnel_policy(reqid=100, level="unique", direction="out"):
    request = IpsecRequest("esp", "tunnel", A, B, level, reqid)
    return SecurityPolicy(ip_network("0.0.0.0/0"), ip_network("0.0.0.0/0"), direction=direction,
                          requests=(request,), scope="ifnet", ifname="ipsec0", priority=3), request  # fmt: skip


def errno(fn, *args, **kwargs) -> str:
    with pytest.raises(PfkeyError) as e:
        fn(*args, **kwargs)
    return e.value.errno_name


def test_knobs_are_s7_12_defaults():
    knobs = {name: default for name, default, *_ in KeyDB.KNOBS}
    assert knobs["net.key.blockacq_count"] == 10 and knobs["net.key.blockacq_lifetime"] == 20
    assert knobs["net.key.preferred_oldsa"] == 1 and knobs["net.key.larval_lifetime"] == 30
    assert knobs["net.key.spi_minval"] == 0x100 and knobs["net.key.esp_keymin"] == 256


def test_add_rules_s7_3():
    db = keydb()
    db.add(sa(1000), now=0.0)
    assert errno(db.add, sa(1000, C, A), now=0.0) == "EEXIST"  # one SPI namespace per host
    bad = sa(1001)
    bad.lifetime_soft = None
    bad.lifetime_hard = Lifetime(addtime=10)
    assert errno(db.add, bad, now=0.0) == "EINVAL"
    assert str(PfkeyError("EEXIST")) == "File exists"


def test_sa_heads_newest_first_and_dump_order_s7_9():
    db = keydb()
    db.add(sa(1000), now=0.0)
    db.add(sa(1001, B, A), now=0.0)
    db.add(sa(1002), now=1.0)  # joins the first head, in front of 1000
    assert [s.spi for s in db.dump()] == [1001, 1002, 1000]
    assert db.sa_info(db.get(A, B, "esp", 1002)).index.reqid == 100
    db.flush()
    assert errno(db.dump) == "ENOENT"


def test_outbound_selection_preferred_oldsa_s7_1():
    db = keydb()
    policy, request = tunnel_policy()
    db.add(sa(1000), now=0.0)
    db.add(sa(1001), now=1.0)
    assert db.allocsa_policy(policy, request, now=2.0).spi == 1000  # oldest
    db.sysctl["net.key.preferred_oldsa"] = 0
    assert db.allocsa_policy(policy, request, now=2.0).spi == 1001
    # an SA without reqid is never used by a policy with one [S7.1]
    other = keydb()
    other.add(sa(2000, reqid=0), now=0.0)
    assert other.allocsa_policy(policy, request, now=0.0) is None


def test_inbound_lookup_by_spi_and_dst_s7_2():
    db = keydb()
    db.add(sa(1000), now=0.0)
    assert db.allocsa(B, "esp", 1000).spi == 1000
    assert db.allocsa(A, "esp", 1000) is None and db.allocsa(B, "ah", 1000) is None
    assert db.allocsa(B, "esp", 1001) is None


def test_get_delete_deleteall_s7_8():
    db = keydb()
    db.add(sa(1000), now=0.0)
    db.add(sa(1001, mode="any", reqid=0), now=0.0)
    assert errno(db.get, B, A, "esp", 1000) == "ESRCH"
    assert errno(db.delete, A, B, "esp", 999, now=0.0) == "ESRCH"
    db.delete(A, B, "esp", 1000, now=0.0)
    assert db.state_of(sa(1000)) == "dead"
    db.add(sa(1002), now=0.0)
    db.deleteall(A, B, "esp", now=0.0)  # any mode, any reqid
    assert db.sas() == []
    db.deleteall(A, C, "esp", now=0.0)  # nothing matched: still fine


def test_lifetimes_soft_then_hard_s7_6():
    db = keydb()
    messages = []
    db.subscribe(messages.append)
    s = sa(1000, hard=10, soft=5)
    db.add(s, now=0.4)  # created = time_second 0: whole seconds
    for t in range(1, 6):
        db.tick(float(t))
    assert db.state_of(s) == "mature"  # 5 s is not more than 5 s
    db.tick(6.0)
    assert db.state_of(s) == "dying" and messages[-1].expire == "soft"
    policy, request = tunnel_policy()
    assert db.allocsa_policy(policy, request, now=6.0) is s  # a dying SA is still used
    for t in range(7, 11):
        db.tick(float(t))
    assert db.state_of(s) == "dying"
    db.tick(11.0)
    assert db.state_of(s) == "dead" and messages[-1].expire == "hard"
    assert messages[-1].fields["lifetime_hard"]["addtime"] == 10
    assert db.needs_ticks()  # the empty SA head goes at the next tick
    db.tick(12.0)
    assert not db.needs_ticks()


def test_soft_expiry_at_80_percent_of_the_sequence_space_s7_6():
    db = keydb()
    s = sa(1000, hard=100000, soft=100000)
    db.add(s, now=0.0)
    s.replay.count = 0xCCCCCCCC
    db.tick(1.0)
    assert db.state_of(s) == "mature"
    s.replay.count += 1
    db.tick(2.0)
    assert db.state_of(s) == "dying"


def test_acquire_one_message_per_12_packets_and_new_seq_after_20s_s8_1():
    db = keydb()
    acquires = []
    db.subscribe(lambda m: acquires.append((m.time, m.seq)) if m.type == "SADB_ACQUIRE" else None)
    policy, request = tunnel_policy()
    policy.spid = 2
    for t in range(0, 30):  # one packet a second, as ping does [scenario check 10]
        db.tick(float(t))
        assert db.allocsa_policy(policy, request, now=float(t)) is None
    assert acquires == [(0.0, 1), (12.0, 1), (24.0, 1)]
    for t in range(30, 46):  # no packets: the entry lives 20 s after its last send
        db.tick(float(t))
    db.allocsa_policy(policy, request, now=46.0)
    assert acquires[-1] == (46.0, 2)


def test_acquire_message_fields_s8_2():
    db = keydb()
    messages = []
    db.subscribe(messages.append)
    db.subscribe(lambda m: pytest.fail("an unregistered socket got an ACQUIRE"), satypes=())
    policy, request = tunnel_policy(reqid=100)
    policy.spid = 7
    db.allocsa_policy(policy, request, now=0.0)
    (msg,) = messages
    assert (msg.type, msg.satype, msg.seq, msg.pid) == ("SADB_ACQUIRE", "esp", 1, 0)
    assert (msg.src, msg.dst, msg.mode, msg.reqid, msg.spid) == (A, B, "tunnel", 100, 7)
    assert list(msg.fields) == ["src", "dst", "policy", "sa2", "proposal"]
    proposal = msg.fields["proposal"]
    assert proposal["replay"] == 32
    assert [c["encrypt"] for c in proposal["combs"]] == [11, 12, 13, 15, 20, 21]
    assert {(c["hard_addtime"], c["soft_usetime"], c["soft_addtime"], c["hard_usetime"]) for c in proposal["combs"]} == {(86400, 28800, 0, 0)}


def test_acqdone_retires_the_entry_s8_1():
    db = keydb()
    seqs = []
    db.subscribe(lambda m: seqs.append(m.seq) if m.type == "SADB_ACQUIRE" else None)
    policy, request = tunnel_policy()
    db.allocsa_policy(policy, request, now=0.0)
    db.add(sa(1000), now=1.0, seq=seqs[0])  # the IKE daemon's answer carries the ACQUIRE's seq
    db.delete(A, B, "esp", 1000, now=1.5)
    db.tick(2.0)
    db.allocsa_policy(policy, request, now=2.0)
    assert seqs == [1, 2]


def test_spd_order_errors_and_spids_s7_11():
    db = keydb()
    out = [SecurityPolicy(ip_network(f"10.{i}.0.0/16"), ip_network("10.9.0.0/16"), policy="none", priority=p)
           for i, p in ((1, 5), (2, 1), (3, 5))]  # fmt: skip
    for policy in out:
        db.spdadd(policy, now=0.0)
    assert [p.spid for p in db.spddump()] == [2, 1, 3]  # priority, then insertion
    dup = SecurityPolicy(ip_network("10.1.0.0/16"), ip_network("10.9.0.0/16"), policy="discard")
    assert errno(db.spdadd, dup, now=0.0) == "EEXIST"
    assert db.spdadd(dup, now=0.0, update=True).spid == 4
    assert errno(db.spdadd, SecurityPolicy(ip_network("1.0.0.0/8"), ip_network("2.0.0.0/8")), now=0.0) == "EINVAL"
    assert errno(db.spdadd, SecurityPolicy(ip_network("1.0.0.0/8"), ip_network("2.0.0.0/8"), policy="bypass"), now=0.0) == "EINVAL"
    assert db.allocsp("out", ip_address("10.2.3.4"), ip_address("10.9.1.1"), 6, 1, 2).spid == 2
    assert db.allocsp("in", ip_address("10.2.3.4"), ip_address("10.9.1.1"), 6, 1, 2) is None
    ifnet, _ = tunnel_policy()
    db.register_ifnet([ifnet], now=0.0)
    assert ifnet.spid == 5  # one counter for spdadd and ifnet registration [S4.2]
    assert errno(db.spddelete2, 5) == "EACCES" and errno(db.spddelete2, 99) == "EINVAL"
    assert db.allocsp("out", ip_address("1.1.1.1"), ip_address("2.2.2.2"), 6, 1, 2) is None  # ifnet: never [S4.3]
    db.spdflush()
    assert db.spddump() == [ifnet] and not db.has_global_policies()


def test_reqids_and_levels_s2_1_s4_5():
    db = keydb()
    assert [db.newreqid(), db.newreqid()] == [16385, 16386]
    request = IpsecRequest("esp", "tunnel", A, B, "unique", 0)
    policy = db.spdadd(SecurityPolicy(ip_network("10.0.0.0/8"), ip_network("10.1.0.0/16"), requests=(request,)), now=0.0)
    assert policy.requests[0].reqid == 16387
    ifnet, req = tunnel_policy(level="unique")
    assert db.level_of(ifnet, req) == "require"
    default = IpsecRequest("esp", "tunnel", A, B, "default")
    assert db.level_of(policy, default) == "use"
    db.sysctl["net.inet.ipsec.esp_net_deflev"] = 2
    assert db.level_of(policy, default) == "require"
    assert db.level_of(policy, IpsecRequest("esp", "transport", None, None, "unique", 5)) == "unique"


def test_promiscuous_listeners_see_broadcasts_twice_and_dumps():
    db = keydb()
    seen = []
    unsubscribe = db.subscribe(seen.append, satypes=(), promiscuous=True)
    db.add(sa(1000), now=0.0, pid=42)
    assert [m.type for m in seen] == ["SADB_ADD", "SADB_ADD"]
    assert seen[0].pid == 42 and "key_encrypt" not in seen[0].fields  # keys are never echoed
    db.dump(pid=42)
    assert seen[-1].type == "SADB_DUMP" and seen[-1].fields["key_encrypt"]["bits"] == 0
    unsubscribe()
    db.flush()
    assert seen[-1].type == "SADB_DUMP"


def test_sa_heads_found_by_address_are_the_first_match_in_tree_order_s7_1_s7_3():
    """``_getsah`` looks only at heads with the request's protocol and addresses (a hub has
    thousands of heads); through adds, deletes, empty heads reaped by ticks and flushes, it
    finds the head a scan of the whole tree in order would, and ``allocsa_policy`` uses it."""
    rng = random.Random(7)
    db, spi, now = keydb(), 1000, 0.0
    hosts = [A, B, C]
    for _ in range(400):
        action = rng.choice(["add"] * 6 + ["delete", "tick", "flush"])
        if action == "add":
            spi += 1
            src, dst = rng.sample(hosts, 2)
            db.add(sa(spi, src, dst, mode=rng.choice(["tunnel", "transport", "any"]), reqid=rng.choice([0, 100, 200])),
                   now=now)
        elif action == "delete" and db.sas():
            victim = rng.choice(db.sas())
            db.delete(victim.src, victim.dst, "esp", victim.spi, now=now)
        elif action == "tick":
            now += 1.0
            db.tick(now)
        elif action == "flush" and rng.random() < 0.2:
            db.flush()
        for src in hosts:
            for dst in hosts:
                for mode in ("tunnel", "transport"):
                    for reqid in (0, 100, 200):
                        wanted = SaIndex("esp", mode, reqid, src, dst)
                        scan = next((h for h in db.sad._sahs if h.index.matches_request(wanted)), None)
                        assert db.sad._getsah(wanted) is scan
                        request = IpsecRequest("esp", mode, src, dst, "unique", reqid)
                        expected = scan.alive[-1].sa if scan is not None and scan.alive else None
                        assert db.allocsa_policy(tunnel_policy()[0], request, now=now) is expected
