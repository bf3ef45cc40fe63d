"""One address on two interfaces of a host, as FreeBSD's in.c and in6.c allow or refuse it.

The FreeBSD Handbook's VPN chapter gives its tunnel the LAN address as inner local
address (``ifconfig gif0 10.246.38.1 10.0.0.5`` with 10.246.38.1 on the LAN card).
"""

from ipaddress import ip_address, ip_interface, ip_network
import random

import pytest

from ipsecsim.kernel import Host, HostError, ManualClock
from ipsecsim.kernel.route import RTF_STATIC

LAN = ip_interface("10.246.38.1/24")
PEER = ip_address("10.0.0.5")


@pytest.fixture
def gw():
    host = Host("corp-gw", clock=ManualClock(), rng=random.Random(1))
    host.create_ether("em0")
    host.create_ether("em1")  # stands in for the point-to-point tunnel interface
    return host


def routes(host):
    return {str(r.dest): (r.ifp.name, r.link) for r in host.fibs[0].routes(4)}


def test_ipv4_address_on_lan_and_tunnel_is_accepted(gw):
    # sys/netinet/in.c in_aifaddr_ioctl(): the "does the address already exist" loop
    # walks ifp->if_addrhead, this interface's addresses only; no EEXIST elsewhere.
    em0, em1 = gw.interface("em0"), gw.interface("em1")
    gw.add_address(em0, LAN)
    gw.add_address(em1, ip_interface("10.246.38.1/32"), PEER)
    assert [a.address for a in em1.addrs4] == [LAN.ip]
    table = routes(gw)
    assert table["10.246.38.0/24"] == ("em0", 0)  # in_addprefix: em0's prefix route
    assert table["10.0.0.5/32"] == ("em1", 0)  # ia_getrtprefix case 3: host route to dst
    # ia_need_loopback_route + in_localip_more(): the lo0 route exists once, em0's.
    assert table["10.246.38.1/32"] == ("lo0", em0.index)
    # in_localip() holds; ifa_ifwithaddr() (sys/net/if.c) answers the first interface.
    assert gw.is_local(LAN.ip) and gw.local4[LAN.ip.packed] is em0


def test_removing_one_holder_keeps_the_other(gw):
    # sys/netinet/in.c in_scrubprefix(): the lo0 route is switched to the other holder
    # (ifa_switch_loopback_route) and only the departing address's prefix route goes.
    em0, em1 = gw.interface("em0"), gw.interface("em1")
    gw.add_address(em0, LAN)
    gw.add_address(em1, ip_interface("10.246.38.1/32"), PEER)
    gw.delete_address(em0, LAN)
    table = routes(gw)
    assert "10.246.38.0/24" not in table
    assert table["10.0.0.5/32"] == ("em1", 0)
    assert table["10.246.38.1/32"] == ("lo0", em1.index)
    assert gw.fibs[0].find(ip_network("10.246.38.1/32")).flags & RTF_STATIC
    assert gw.local4[LAN.ip.packed] is em1
    gw.delete_address(em1, ip_interface("10.246.38.1/32"))
    assert "10.246.38.1/32" not in routes(gw) and not gw.is_local(LAN.ip)


def test_ipv6_address_on_a_second_interface_is_eexist(gw):
    # sys/netinet6/in6.c in6_notify_ifa(): ifa_add_loopback_route() fails with EEXIST for
    # the lo0 route the first holder installed, the error is returned, and
    # in6_update_ifa() unlinks the new address (in6_unlink_ifa).
    em0, em1 = gw.interface("em0"), gw.interface("em1")
    gw.add_address(em0, ip_interface("2001:db8::1/64"))
    with pytest.raises(HostError) as refused:
        gw.add_address(em1, ip_interface("2001:db8::1/128"), ip_address("2001:db8:5::5"))
    assert refused.value.errno_name == "EEXIST"
    assert em1.addrs6 == [] and gw.local6[ip_address("2001:db8::1").packed] is em0
