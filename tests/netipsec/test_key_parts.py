"""The key engine's parts, each built alone from what it needs: keysock.py, acquire.py, sad.py,
spd.py, keytimer.py, reqid.py, keyclock.py (keydb.py composes them). [S2.1] [S4] [S7] [S8]"""

import random
from ipaddress import ip_address, ip_network

import pytest

from ipsecsim.kernel.if_ipsec import IfIpsecError, init_reqid
from ipsecsim.netipsec import IpsecRequest, Lifetime, PfkeyError, SaIndex, SecurityAssociation, SecurityPolicy
from ipsecsim.netipsec.acquire import Acquire
from ipsecsim.netipsec.enums import Direction, Level, Mode, SaState
from ipsecsim.netipsec.keyclock import BOOT_EPOCH, KeyClock, KeyKnobs
from ipsecsim.netipsec.keysock import KeySocket, SendTo
from ipsecsim.netipsec.keytimer import KeyTimer
from ipsecsim.netipsec.reqid import AUTO_REQID_FIRST, ReqidCounter
from ipsecsim.netipsec.sad import Sad
from ipsecsim.netipsec.spd import Spd

A, B = ip_address("192.168.0.3"), ip_address("192.168.0.5")
ANY4 = ip_network("0.0.0.0/0")


def sa(spi, *, hard=None, soft=None):
    return SecurityAssociation(src=A, dst=B, spi=spi, enc="null", mode="tunnel", reqid=100, rng=random.Random(spi),
                               lifetime_hard=None if hard is None else Lifetime(addtime=hard),
                               lifetime_soft=None if soft is None else Lifetime(addtime=soft))  # fmt: skip


def test_clock_keeps_the_last_now_and_counts_whole_seconds():
    clock = KeyClock()
    assert clock.at(2.9) == BOOT_EPOCH + 2 and clock.now == 2.9
    assert clock.at(None) == BOOT_EPOCH + 2  # a request without a time: the last one
    assert KeyKnobs({})("net.key.blockacq_count") == 10 and KeyKnobs({"net.key.blockacq_count": 3})("net.key.blockacq_count") == 3


def test_keysock_alone_fans_out_as_key_sendup_mbuf():
    clock = KeyClock()
    sock = KeySocket(clock)
    plain, registered, promisc = [], [], []
    sock.subscribe(plain.append, satypes=())
    sock.subscribe(registered.append)
    close = sock.subscribe(promisc.append, satypes=(), promiscuous=True)
    clock.at(5.0)
    sock.send("SADB_ADD", "esp", {}, to=SendTo.ALL)
    sock.send("SADB_EXPIRE", "esp", {}, to=SendTo.REGISTERED)
    sock.send("SADB_DUMP", "esp", {}, to=SendTo.ONE)
    assert [m.type for m in plain] == ["SADB_ADD"]
    assert [m.type for m in registered] == ["SADB_ADD", "SADB_EXPIRE"]
    assert [m.type for m in promisc] == ["SADB_ADD", "SADB_ADD", "SADB_EXPIRE", "SADB_DUMP"]
    assert promisc[0].time == 5.0 and sock.promiscuous()
    close()
    assert not sock.promiscuous()


def test_spd_alone_needs_no_sad():
    """Policies, spids, unique reqids from the counter it is given, messages on its socket."""
    clock, sysctl = KeyClock(), {}
    sock = KeySocket(clock)
    seen = []
    sock.subscribe(seen.append, satypes=())
    counter = ReqidCounter()
    spd = Spd(clock, KeyKnobs(sysctl), sysctl, sock, counter)
    request = IpsecRequest("esp", "tunnel", A, B, "unique", 0)
    policy = spd.spdadd(SecurityPolicy(ANY4, ANY4, direction="in", requests=(request,)), now=1.0)
    assert policy.direction is Direction.IN and policy.spid == 1
    (stored,) = policy.requests
    assert (stored.mode, stored.level, stored.reqid) == (Mode.TUNNEL, Level.UNIQUE, AUTO_REQID_FIRST)
    assert counter() == AUTO_REQID_FIRST + 1  # the SPD drew from the counter it was handed
    assert spd.allocsp("in", A, B, 17, 1, 2) is policy and spd.has_global_policies()
    assert spd.level_of(policy, request) is Level.UNIQUE
    assert [m.type for m in seen] == ["SADB_X_SPDADD"]
    with pytest.raises(PfkeyError) as e:
        spd.spdadd(SecurityPolicy(ANY4, ANY4, requests=(IpsecRequest("esp", "any", A, B, "use"),)), now=1.0)
    assert e.value.errno_name == "EINVAL"  # mode any is for SAs only


def test_sad_alone_with_its_acquire():
    clock = KeyClock()
    knobs = KeyKnobs({})
    sock = KeySocket(clock)
    seen = []
    sock.subscribe(seen.append)
    acquire = Acquire(knobs, sock)
    sad = Sad(clock, knobs, sock, acquire)
    policy = SecurityPolicy(ANY4, ANY4, requests=(IpsecRequest("esp", "tunnel", A, B, "unique", 100),))
    assert sad.allocsa_policy(policy, policy.requests[0], now=0.0) is None
    assert [m.type for m in seen] == ["SADB_ACQUIRE"] and acquire
    s = sa(1000, hard=10, soft=5)
    sad.add(s, now=1.0, seq=seen[0].seq)  # answers the ACQUIRE
    assert sad.state_of(s) is SaState.MATURE and sad.allocsa(B, "esp", 1000) is s
    assert sad.allocsa_policy(policy, policy.requests[0], now=1.0) is s
    sad.expire(clock.at(7.0))
    assert sad.state_of(s) is SaState.DYING and seen[-1].expire == "soft"
    sad.expire(clock.at(12.0))
    assert sad.state_of(s) is SaState.DEAD and seen[-1].expire == "hard"


def test_acquire_alone_counts_and_retires():
    sock = KeySocket(KeyClock())
    seen = []
    sock.subscribe(seen.append)
    acquire = Acquire(KeyKnobs({"net.key.blockacq_count": 1, "net.key.blockacq_lifetime": 2}), sock)
    index = SaIndex("esp", Mode.TUNNEL, 100, A, B)
    for t in range(4):
        acquire.request(index, None, t)
    assert [m.seq for m in seen] == [1, 1]  # the first, then after blockacq_count + 2 packets
    acquire.expire(6)
    assert not acquire
    acquire.request(index, None, 6)
    assert seen[-1].seq == 2


def test_timer_drives_the_sad_and_acquire_it_is_given():
    clock, knobs = KeyClock(), KeyKnobs({})
    sock = KeySocket(clock)
    acquire = Acquire(knobs, sock)
    sad = Sad(clock, knobs, sock, acquire)
    timer = KeyTimer(clock, sad, acquire)
    assert not timer.needs_ticks()
    s = sa(1000, hard=1, soft=1)
    sad.add(s, now=0.0)
    assert timer.needs_ticks()
    timer.tick(2.0)
    assert clock.now == 2.0 and sad.state_of(s) is SaState.DEAD


def test_reqid_counter_and_the_kernel_s_choice_s2_1_s2_2():
    counter = ReqidCounter()
    assert [counter(), counter()] == [16385, 16386]
    counter._last = 0xFFFFFFFF
    assert counter() == 16384  # the wrap resets auto_reqid to IPSEC_MANUAL_REQID_MAX + 1
    taken = set(range(16385, 16390))
    assert init_reqid(ReqidCounter(), taken.__contains__) == 16390
    with pytest.raises(IfIpsecError) as e:
        init_reqid(ReqidCounter(), set(range(16385, 16385 + 63)).__contains__)
    assert e.value.errno_name == "EEXIST"
    assert init_reqid(ReqidCounter(), set(range(16385, 16385 + 62)).__contains__) == 16385 + 62  # the 63rd try
