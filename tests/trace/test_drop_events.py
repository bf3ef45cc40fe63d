"""Every drop event carries the packet dropped, whole IP bytes, also when a send fails before
IP output built it (no route, a reject or blackhole route); tests/kernel/test_reassembly_drops.py
checks the fragments a reassembly timeout frees.

The event log's summary must read as that packet, and scapy (an outside parser) must find
in the bytes the packet the program sent.
"""

from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6

import ipsecsim
from ipsecsim.trace.events import read_events

YAML = """
name: sends that find no way out
duration: 3s
links: [{a: A:em0, b: B:em0}]
hosts:
  A:
    run: |
      ifconfig em0 inet 10.0.0.1/24
      ifconfig em0 inet6 2001:db8::1/64
      route add -inet6 2001:db8:7::/48 ::1 -reject
      route add -inet6 2001:db8:8::/48 ::1 -blackhole
  B: {run: "ifconfig em0 inet 10.0.0.2/24; ifconfig em0 inet6 2001:db8::2/64"}
traffic:
  - {udp: {name: lost, from: A, to: 10.9.9.9, rate: 8Kbit/s, size: 1000, start: 0s, stop: 2s}}
  - {ping: {from: A, to: 10.9.9.9, count: 1}}
  - {ping: {from: A, to: "2001:db8:9::9", count: 1}}
  - {ping: {from: A, to: "2001:db8:7::1", count: 1}}
  - {ping: {from: A, to: "2001:db8:8::1", count: 1}}
"""


def observe_drops(host) -> list[tuple[str, bytes]]:
    """(reason, packet) of each drop on ``host``, passed on to the observer already there."""
    got, previous = [], host.observer

    def observer(event, host_, ifname, pkt, reason, related=None):
        if event == "drop":
            got.append((reason, bytes(pkt)))
        if previous is not None:
            previous(event, host_, ifname, pkt, reason, related)

    host.observer = observer
    return got


def test_a_send_with_no_way_out_records_the_datagram_it_would_have_sent(tmp_path):
    """An unbound socket's source (0.0.0.0, ::) when no route gave one; the route's when one did."""
    sim = ipsecsim.loads(YAML, trace=tmp_path / "trace.jsonl")
    drops = observe_drops(sim.network.host("A"))
    sim.run()
    sim.close()
    ids = [ping.ident for ping in sim.network.pings]
    events = [(e["time"], e["reason"], e["length"], e["summary"])
              for e in read_events(tmp_path / "trace.jsonl") if e["event"] == "drop"]
    assert sorted(events) == sorted([
        (0.0, "no route", 1028, "IP 0.0.0.0.49152 > 10.9.9.9.9: UDP, length 1000"),
        (1.0, "no route", 1028, "IP 0.0.0.0.49152 > 10.9.9.9.9: UDP, length 1000"),
        (0.0, "no route", 84, f"IP 0.0.0.0 > 10.9.9.9: ICMP echo request, id {ids[0]}, seq 0, length 64"),
        (0.0, "no route", 104, f"IP6 :: > 2001:db8:9::9: ICMP6, echo request, id {ids[1]}, seq 0, length 64"),
        (0.0, "reject route", 104, f"IP6 ::1 > 2001:db8:7::1: ICMP6, echo request, id {ids[2]}, seq 0, length 64"),
        (0.0, "blackhole route", 104,
         f"IP6 ::1 > 2001:db8:8::1: ICMP6, echo request, id {ids[3]}, seq 0, length 64"),
    ])
    assert len(drops) == 6
    for reason, pkt in drops:
        if pkt[0] >> 4 == 4:
            ip = IP(pkt)
            assert (ip.len, ip.ttl, ip.dst) == (len(pkt), 64, "10.9.9.9")
            assert (ip.proto, len(ip[UDP if ip.proto == 17 else ICMP].payload)) in ((17, 1000), (1, 56))
            checksummed = ip.chksum
            del ip.chksum
            assert IP(bytes(ip)).chksum == checksummed
        else:
            ip6 = IPv6(pkt)
            assert (ip6.plen, ip6.hlim) == (len(pkt) - 40, 64)
            echo = ip6[ICMPv6EchoRequest]
            assert echo.id in ids and len(echo.data) == 56
            checksummed = echo.cksum
            del echo.cksum
            assert IPv6(bytes(ip6))[ICMPv6EchoRequest].cksum == checksummed  # over the source it names
        assert reason in ("no route", "reject route", "blackhole route")
