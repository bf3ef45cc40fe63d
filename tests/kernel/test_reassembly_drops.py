"""A reassembly timeout records each fragment it frees, as received, in its drop event."""

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment

from ipsecsim.packet import Icmp, Icmp6

from .helpers import Chain


def observe_drops(host) -> list[tuple[str, bytes]]:
    """(reason, packet) of each drop on ``host``."""
    got = []
    host.observer = lambda event, host_, ifname, pkt, reason, related=None: event == "drop" and got.append((reason, bytes(pkt)))
    return got


def lose_second_packet(chain) -> None:
    """A's em0 loses the second packet it sends (the second fragment of a datagram)."""
    em0 = chain.ifaces[0][0]
    original, sent = em0.transmit, []
    em0.transmit = lambda p: sent.append(p) or (None if len(sent) == 2 else original(p))


def test_ipv4_fragments():
    chain = Chain(routers=1)
    lose_second_packet(chain)
    drops = observe_drops(chain.b)
    arrived = []
    chain.b.interfaces["em0"].bpf = lambda pkt, outbound: outbound or arrived.append(bytes(pkt))
    chain.a.send(chain.b_addr4, 1, Icmp.echo_request(7, 1, bytes(3000)).to_bytes())
    chain.clock.advance(31)  # net.inet.ip.fragttl = 30 s
    assert [reason for reason, _ in drops] == ["reassembly timeout"] * 2
    dropped = [pkt for _, pkt in drops]
    assert sorted(dropped) == sorted(arrived)  # the very fragments B received
    offsets = sorted((IP(pkt).frag * 8, IP(pkt).flags.MF) for pkt in dropped)
    assert offsets == [(0, True), (2960, False)]


def test_ipv6_fragments():
    chain = Chain(routers=1)
    lose_second_packet(chain)
    drops = observe_drops(chain.b)
    message = Icmp6.echo_request(7, 1, bytes(3000))
    chain.a.send(chain.b_addr6, 58, lambda s, d: message.to_bytes(s, d))
    chain.clock.advance(61)  # net.inet6.ip6.fragttl = 60 s
    assert [reason for reason, _ in drops] == ["reassembly timeout"] * 2
    fragments = [IPv6(pkt) for _, pkt in drops]
    assert all(f.src == "2001:db8:1::1" and f.dst == str(chain.b_addr6) for f in fragments)
    assert sorted(f[IPv6ExtHdrFragment].offset * 8 for f in fragments) == [0, 2896]
