"""IPv6 on an interface marked ND6_IFF_IFDISABLED, as ifconfig shows it.

FreeBSD's kernel does not set the flag on new interfaces (sys/netinet6/nd6.c
nd6_ifattach); the rc scripts do (network.subr ifconfig_up) for interfaces without IPv6
configuration, and adding an IPv6 address clears it (sys/netinet6/in6.c in6_control,
SIOCAIFADDR_IN6). While it is set the kernel refuses IPv6 on the interface both ways.
"""

from ipaddress import ip_address, ip_interface, ip_network
import random

import pytest

from ipsecsim.kernel import Host, ManualClock, SendError
from ipsecsim.kernel.ifnet import IFDISABLED_DROP, ND6_IFF_IFDISABLED
from ipsecsim.kernel.route import RTF_UP, Route
from ipsecsim.packet import Icmp6

from .helpers import wire


def pair():
    clock = ManualClock()
    a = Host("A", clock=clock, rng=random.Random(1))
    b = Host("B", clock=clock, rng=random.Random(2))
    ea, eb = a.create_ether("em0"), b.create_ether("em0")
    wire(clock, ea, eb)
    a.add_address(ea, ip_interface("2001:db8::1/64"))
    b.add_address(eb, ip_interface("192.0.2.2/24"))  # IPv4 only: em0 keeps IFDISABLED
    return clock, a, b, ea, eb


def echo(a, dst):
    message = Icmp6.echo_request(1, 1, b"x" * 8)
    return a.send(ip_address(dst), 58, lambda s, d: message.to_bytes(s, d))


def test_new_interfaces_show_ifdisabled_until_an_ipv6_address_is_added():
    _, a, b, ea, eb = pair()
    assert eb.nd6_flags & ND6_IFF_IFDISABLED
    assert not ea.nd6_flags & ND6_IFF_IFDISABLED
    assert not a.lo0.nd6_flags & ND6_IFF_IFDISABLED


def test_input_on_an_ifdisabled_interface_is_dropped_before_counting():
    # sys/netinet6/ip6_input.c ip6_input(): "Drop the packet if IPv6 operation is disabled
    # on the interface" comes first, before ip6s_total is counted.
    clock, a, b, _, eb = pair()
    echo(a, "2001:db8::2")
    clock.advance(1)
    assert b.drops[IFDISABLED_DROP] == 1
    assert b.ipstat.ip6s_total == 0 and b.ipstat.ip6s_delivered == 0
    assert eb.data.ipackets == 1  # the interface received it


def test_output_on_an_ifdisabled_ethernet_is_enetdown():
    # sys/netinet6/nd6.c nd6_resolve(), called by ether_output: "discard the packet if IPv6
    # operation is disabled on the interface" returns ENETDOWN; nothing is counted on em0.
    clock, a, b, _, eb = pair()
    b.fibs[0].add(Route(ip_network("2001:db8::/64"), eb, None, RTF_UP, ip_address("2001:db8::2")))
    with pytest.raises(SendError) as refused:
        echo(b, "2001:db8::1")
    assert refused.value.errno_name == "ENETDOWN"
    assert b.drops[IFDISABLED_DROP] == 1 and eb.data.opackets == 0 and eb.data.oerrors == 0


def test_an_ipv6_address_enables_the_interface():
    clock, a, b, _, eb = pair()
    b.add_address(eb, ip_interface("2001:db8::2/64"))
    assert not eb.nd6_flags & ND6_IFF_IFDISABLED
    got = []
    a.inet6.icmp_listeners.append(lambda src, dst, hlim, m: got.append(m.type))
    echo(a, "2001:db8::2")
    clock.advance(1)
    assert got == [129] and IFDISABLED_DROP not in b.drops
