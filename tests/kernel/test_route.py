from ipaddress import ip_address, ip_interface, ip_network
import random

import pytest

from ipsecsim.kernel import Host, ManualClock, RouteError
from ipsecsim.kernel.route import RTF_GATEWAY, RTF_HOST, RTF_STATIC, RTF_UP, Fib, Route, format_route_flags


def make_host():
    host = Host("A", clock=ManualClock(), rng=random.Random(1))
    return host, host.create_ether("em0")


def test_longest_prefix_wins():
    host, em0 = make_host()
    fib = Fib()
    for net in ("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24"):
        fib.add(Route(ip_network(net), em0, ip_address("192.0.2.1"), RTF_UP | RTF_GATEWAY))
    assert str(fib.lookup(ip_address("10.1.2.3").packed).dest) == "10.1.2.0/24"
    assert str(fib.lookup(ip_address("10.1.3.3").packed).dest) == "10.1.0.0/16"
    assert str(fib.lookup(ip_address("10.9.9.9").packed).dest) == "10.0.0.0/8"
    assert str(fib.lookup(ip_address("192.168.1.1").packed).dest) == "0.0.0.0/0"


def test_cache_is_dropped_when_routes_change():
    host, em0 = make_host()
    fib = Fib()
    fib.add(Route(ip_network("0.0.0.0/0"), em0, ip_address("192.0.2.1"), RTF_UP | RTF_GATEWAY))
    dst = ip_address("10.1.2.3").packed
    assert str(fib.lookup(dst).dest) == "0.0.0.0/0"
    fib.add(Route(ip_network("10.1.0.0/16"), em0))
    assert str(fib.lookup(dst).dest) == "10.1.0.0/16"
    fib.delete(ip_network("10.1.0.0/16"))
    fib.delete(ip_network("0.0.0.0/0"))
    assert fib.lookup(dst) is None


def test_duplicate_and_missing_routes_are_errors():
    host, em0 = make_host()
    fib = Fib()
    fib.add(Route(ip_network("10.0.0.0/8"), em0))
    with pytest.raises(RouteError) as exists:
        fib.add(Route(ip_network("10.0.0.0/8"), em0))
    assert exists.value.errno_name == "EEXIST"
    with pytest.raises(RouteError) as missing:
        fib.delete(ip_network("10.9.0.0/16"))
    assert missing.value.errno_name == "ESRCH"


def test_ipv6_longest_prefix():
    host, em0 = make_host()
    fib = Fib()
    fib.add(Route(ip_network("::/0"), em0, ip_address("2001:db8::1"), RTF_UP | RTF_GATEWAY))
    fib.add(Route(ip_network("2001:db8:5::/48"), em0))
    assert str(fib.lookup(ip_address("2001:db8:5::9").packed).dest) == "2001:db8:5::/48"
    assert str(fib.lookup(ip_address("2001:db8:6::9").packed).dest) == "::/0"


def test_address_adds_connected_and_loopback_routes_like_freebsd():
    host, em0 = make_host()
    host.add_address(em0, ip_interface("192.168.0.3/24"))
    routes = {str(r.dest): (format_route_flags(r.flags), r.gateway_text, r.ifp.name) for r in host.fibs[0].routes(4)}
    assert routes["192.168.0.0/24"] == ("U", f"link#{em0.index}", "em0")
    assert routes["192.168.0.3/32"] == ("UHS", f"link#{em0.index}", "lo0")
    assert em0.is_up  # adding an address brings the interface up


def test_point_to_point_address_routes_the_far_end_only():
    host, em0 = make_host()
    host.add_address(em0, ip_interface("172.16.0.3/16"), ip_address("172.16.0.5"))
    routes = {str(r.dest): format_route_flags(r.flags) for r in host.fibs[0].routes(4)}
    assert routes["172.16.0.5/32"] == "UH"
    assert "172.16.0.0/16" not in routes


def test_removing_an_address_removes_its_routes():
    host, em0 = make_host()
    host.add_address(em0, ip_interface("192.168.0.3/24"))
    host.delete_address(em0, ip_interface("192.168.0.3/24"))
    assert [str(r.dest) for r in host.fibs[0].routes(4)] == ["127.0.0.1/32"]
    assert not host.is_local(ip_address("192.168.0.3"))


def test_flag_letters_in_netstat_order():
    assert format_route_flags(RTF_UP | RTF_GATEWAY | RTF_STATIC) == "UGS"
    assert format_route_flags(RTF_UP | RTF_HOST | RTF_STATIC) == "UHS"


def test_routes_through_an_interface_are_found_without_a_scan():
    """delete_where(via=ifp) sees exactly the routes through ifp, through any mix of adds and
    deletes, and removes the same routes a scan of the whole table would."""
    host, em0 = make_host()
    em1 = host.create_ether("em1")
    rng = random.Random(3)
    fib = Fib()
    for _ in range(300):
        net = ip_network(f"10.{rng.randrange(4)}.{rng.randrange(4)}.0/{rng.choice([16, 24])}", strict=False)
        if fib.find(net) is None:
            fib.add(Route(net, rng.choice([em0, em1])))
        else:
            fib.delete(net)
    through_em1 = sorted(str(r.dest) for r in fib.routes() if r.ifp is em1)
    removed = fib.delete_where(lambda r: True, via=em1)
    assert sorted(str(r.dest) for r in removed) == through_em1
    assert all(r.ifp is em0 for r in fib.routes())
    assert fib.delete_where(lambda r: True, via=em1) == []
