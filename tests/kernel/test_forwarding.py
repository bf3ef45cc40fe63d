"""IP forwarding, TTL, ICMP errors, fragmentation and reassembly, checked on the wire bytes."""

from ipaddress import ip_address

import pytest
from scapy.layers.inet import IP

from ipsecsim.packet import (
    ICMP6_DST_UNREACH, ICMP6_ECHO_REPLY, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP_ECHOREPLY,
    ICMP_TIMXCEED, ICMP_UNREACH, ICMP_UNREACH_HOST, ICMP_UNREACH_NEEDFRAG, ICMP_UNREACH_PORT, Icmp, Icmp6, Udp,
)

from .helpers import Chain


def echo4(chain, seq=1, size=56, **kw):
    chain.a.send(chain.b_addr4, 1, Icmp.echo_request(7, seq, bytes(size)).to_bytes(), **kw)


def echo6(chain, seq=1, size=56, **kw):
    message = Icmp6.echo_request(7, seq, bytes(size))
    chain.a.send(chain.b_addr6, 58, lambda s, d: message.to_bytes(s, d), **kw)


def test_echo_crosses_two_routers_and_ttl_drops_by_one_per_hop():
    chain = Chain(routers=2)
    seen = []
    chain.a.inet4.icmp_listeners.append(lambda src, dst, ttl, m: seen.append((src, ttl, m.type)))
    echo4(chain)
    chain.clock.advance(1)
    assert seen == [(chain.b_addr4, 62, ICMP_ECHOREPLY)]


def test_forwarding_off_is_freebsds_default_and_drops_silently():
    chain = Chain(routers=1, forwarding=False)
    got = chain.icmp_log(chain.a)
    echo4(chain)
    echo6(chain)
    chain.clock.advance(1)
    router = chain.hosts[1]
    assert got == []
    assert router.drops["not forwarding (net.inet.ip.forwarding=0)"] == 1
    assert router.drops["not forwarding (net.inet6.ip6.forwarding=0)"] == 1
    assert router.ipstat.ips_cantforward == 1


@pytest.mark.parametrize("family", [4, 6])
def test_ttl_expiry_gives_time_exceeded_from_the_router(family):
    chain = Chain(routers=2)
    got = chain.icmp_log(chain.a)
    (echo4 if family == 4 else echo6)(chain, ttl=2)
    chain.clock.advance(1)
    assert len(got) == 1
    src, message = got[0]
    assert message.type == (ICMP_TIMXCEED if family == 4 else ICMP6_TIME_EXCEEDED)
    assert str(src) == ("10.0.2.2" if family == 4 else "2001:db8:2::2")  # R2's address on the incoming link
    assert chain.hosts[2].drops[("ttl exceeded" if family == 4 else "hop limit exceeded")] == 1


def test_no_route_gives_host_unreachable():
    chain = Chain(routers=1)
    router = chain.hosts[1]
    router.fibs[0].delete(next(r.dest for r in router.fibs[0].routes(4) if r.dest.prefixlen == 0))
    got = chain.icmp_log(chain.a)
    chain.a.send(ip_address("10.0.9.9"), 1, Icmp.echo_request(7, 1, b"x").to_bytes())
    chain.clock.advance(1)
    assert [(m.type, m.code) for _, m in got] == [(ICMP_UNREACH, ICMP_UNREACH_HOST)]
    assert router.drops["no route"] == 1


def test_ipv6_no_route_gives_destination_unreachable():
    chain = Chain(routers=1)
    router = chain.hosts[1]
    router.fibs[0].delete(next(r.dest for r in router.fibs[0].routes(6) if r.dest.prefixlen == 0))
    got = chain.icmp_log(chain.a)
    message = Icmp6.echo_request(7, 1, b"x")
    chain.a.send(ip_address("2001:db8:9::9"), 58, lambda s, d: message.to_bytes(s, d))
    chain.clock.advance(1)
    assert [(m.type, m.code) for _, m in got] == [(ICMP6_DST_UNREACH, 0)]


def test_udp_to_a_closed_port_gives_port_unreachable():
    chain = Chain(routers=1)
    got = chain.icmp_log(chain.a)
    chain.a.send(chain.b_addr4, 17, Udp(5000, 9, b"hello").to_bytes)
    chain.clock.advance(1)
    assert [(m.type, m.code) for _, m in got] == [(ICMP_UNREACH, ICMP_UNREACH_PORT)]
    assert chain.b.drops["port unreachable"] == 1


def test_fragmentation_on_a_small_mtu_hop_and_reassembly_at_the_destination():
    chain = Chain(routers=1, mtus=[1500, 576])
    wire_log = []
    router_out = chain.ifaces[1][0]
    router_out.bpf = lambda pkt, outbound: outbound and wire_log.append(pkt)
    seen = []
    chain.a.inet4.icmp_listeners.append(lambda src, dst, ttl, m: seen.append(m))
    echo4(chain, size=1400)
    chain.clock.advance(1)
    fragments = [IP(p) for p in wire_log[:3]]
    assert [len(p) for p in wire_log[:3]] == [572, 572, 324]  # (576 - 20) & ~7 = 552 bytes of data
    assert [f.frag * 8 for f in fragments] == [0, 552, 1104]
    assert [bool(f.flags.MF) for f in fragments] == [True, True, False]
    assert all(f.chksum == IP(bytes(IP(p))).chksum for f, p in zip(fragments, wire_log))
    assert chain.b.ipstat.ips_reassembled == 1
    assert seen and seen[0].type == ICMP_ECHOREPLY and len(seen[0].payload) == 1400


def test_df_with_a_small_mtu_gives_fragmentation_needed_with_the_next_hop_mtu():
    chain = Chain(routers=1, mtus=[1500, 1280])
    got = chain.icmp_log(chain.a)
    echo4(chain, size=1400, df=True)
    chain.clock.advance(1)
    assert [(m.type, m.code, m.mtu) for _, m in got] == [(ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 1280)]
    quoted = IP(got[0][1].payload)
    assert quoted.dst == str(chain.b_addr4) and quoted.flags.DF


def test_ipv6_router_sends_packet_too_big_and_source_fragments():
    chain = Chain(routers=1, mtus=[1500, 1280])
    got = chain.icmp_log(chain.a)
    echo6(chain, size=1400)
    chain.clock.advance(1)
    assert [(m.type, m.mtu) for _, m in got] == [(ICMP6_PACKET_TOO_BIG, 1280)]
    # A source sending more than its own link MTU fragments, and B reassembles.
    got.clear()
    echo6(chain, seq=2, size=3000)
    chain.clock.advance(2)
    assert chain.a.ipstat.ip6s_fragmented == 1
    # Both 1500-byte fragments are too big for hop 2: one packet-too-big each.
    assert [m.type for _, m in got] == [ICMP6_PACKET_TOO_BIG, ICMP6_PACKET_TOO_BIG]


def test_ipv6_fragments_reassemble():
    chain = Chain(routers=1)
    got = chain.icmp_log(chain.a)
    echo6(chain, size=4000)
    chain.clock.advance(1)
    assert chain.b.ipstat.ip6s_reassembled == 1
    assert [(m.type, len(m.payload)) for _, m in got] == [(ICMP6_ECHO_REPLY, 4000)]


def test_reassembly_times_out_after_fragttl():
    chain = Chain(routers=1)
    router_out = chain.ifaces[0][0]
    original = router_out.transmit
    sent = []
    router_out.transmit = lambda p: sent.append(p) or (None if len(sent) == 2 else original(p))  # lose the 2nd
    echo4(chain, size=3000)
    chain.clock.advance(29)
    assert chain.b.drops["reassembly timeout"] == 0
    chain.clock.advance(31)
    assert chain.b.drops["reassembly timeout"] == 2  # the two fragments that did arrive
    assert chain.b.ipstat.ips_fragtimeout == 2


def test_more_than_maxfragsperpacket_fragments_are_dropped():
    chain = Chain(routers=1, mtus=[576, 576])
    echo4(chain, size=552 * 17)  # 18 fragments > net.inet.ip.maxfragsperpacket = 16
    chain.clock.advance(1)
    assert chain.b.drops["too many fragments"] == 1


def test_ip_id_counter_and_rfc6864_zero_id_with_df():
    chain = Chain(routers=1)
    out = []
    chain.ifaces[0][0].bpf = lambda pkt, outbound: outbound and out.append(IP(pkt))
    echo4(chain, seq=1)
    echo4(chain, seq=2)
    echo4(chain, seq=3, df=True)
    assert out[1].id == (out[0].id + 1) & 0xFFFF
    assert out[2].id == 0


def test_icmp_errors_are_rate_limited_by_icmplim():
    chain = Chain(routers=1)
    chain.hosts[1].sysctl.set("net.inet.icmp.icmplim", 3)
    got = chain.icmp_log(chain.a)
    for seq in range(10):
        echo4(chain, seq=seq, ttl=1)
    chain.clock.advance(0.5)
    assert len(got) == 3
