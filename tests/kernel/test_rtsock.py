"""The routing socket without route(8): requests in, errnos out (route_netlink.c semantics)."""

from ipaddress import ip_address, ip_interface, ip_network
import random

from ipsecsim.kernel import Host, ManualClock
from ipsecsim.kernel.route import RTF_BLACKHOLE, RTF_GATEWAY, RTF_HOST, RTF_PROTO1, RTF_STATIC, RTF_UP
from ipsecsim.kernel.rtsock import RTM_ADD, RTM_CHANGE, RTM_DELETE, RTM_GET, RouteMessage, route_request

GW = RTF_UP | RTF_GATEWAY | RTF_STATIC


def make_host():
    host = Host("A", clock=ManualClock(), rng=random.Random(1))
    em0 = host.create_ether("em0")
    host.add_address(em0, ip_interface("10.0.1.1/24"))
    host.add_address(em0, ip_interface("2001:db8:1::1/64"))
    return host, em0


def add(host, dst, gateway, flags=GW, **kw):
    return route_request(host, RouteMessage(RTM_ADD, ip_network(dst), flags, ip_address(gateway), **kw))


def test_add_resolves_the_next_hop_through_the_connected_route():
    host, em0 = make_host()
    assert add(host, "10.2.0.0/16", "10.0.1.2").errno is None
    route = host.fibs[0].find(ip_network("10.2.0.0/16"))
    assert route.ifp is em0 and route.gateway == ip_address("10.0.1.2")
    assert route.source == ip_address("10.0.1.1")


def test_gateway_off_every_connected_network_is_enetunreach():
    host, _ = make_host()
    assert add(host, "10.2.0.0/16", "192.0.2.1").errno == "ENETUNREACH"
    assert host.fibs[0].find(ip_network("10.2.0.0/16")) is None


def test_gateway_of_the_other_family_is_einval():
    host, _ = make_host()
    assert add(host, "10.2.0.0/16", "2001:db8:1::2").errno == "EINVAL"


def test_second_add_is_eexist_and_change_of_a_missing_route_is_esrch():
    host, _ = make_host()
    assert add(host, "10.2.0.0/16", "10.0.1.2").errno is None
    assert add(host, "10.2.0.0/16", "10.0.1.3").errno == "EEXIST"
    missing = RouteMessage(RTM_CHANGE, ip_network("10.3.0.0/16"), GW, ip_address("10.0.1.2"))
    assert route_request(host, missing).errno == "ESRCH"


def test_change_without_a_gateway_keeps_the_next_hop_and_takes_the_mtu():
    host, em0 = make_host()
    add(host, "10.2.0.0/16", "10.0.1.2")
    reply = route_request(host, RouteMessage(RTM_CHANGE, ip_network("10.2.0.0/16"), GW, mtu=9000))
    assert reply.errno is None
    route = host.fibs[0].find(ip_network("10.2.0.0/16"))
    assert route.gateway == ip_address("10.0.1.2")
    assert route.mtu == em0.mtu  # clamped to the interface's


def test_delete_names_the_gateway_it_removes():
    host, _ = make_host()
    add(host, "10.2.0.0/16", "10.0.1.2")
    wrong = RouteMessage(RTM_DELETE, ip_network("10.2.0.0/16"), GW, ip_address("10.0.1.3"))
    assert route_request(host, wrong).errno == "ESRCH"
    right = RouteMessage(RTM_DELETE, ip_network("10.2.0.0/16"), GW, ip_address("10.0.1.2"))
    assert route_request(host, right).errno is None
    assert route_request(host, right).errno == "ESRCH"


def test_get_is_a_longest_match_unless_the_exact_prefix_is_asked():
    host, _ = make_host()
    add(host, "10.2.0.0/16", "10.0.1.2")
    host_msg = RouteMessage(RTM_GET, ip_network("10.2.3.4/32"), RTF_UP | RTF_HOST)
    assert str(route_request(host, host_msg).route.dest) == "10.2.0.0/16"
    exact = RouteMessage(RTM_GET, ip_network("10.2.3.0/24"), GW, prefix=True)
    assert route_request(host, exact).errno == "ESRCH"


def test_a_daemon_marks_its_routes_with_a_proto_flag():
    host, _ = make_host()
    assert add(host, "2001:db8:9::/48", "2001:db8:1::2", GW | RTF_PROTO1).errno is None
    assert host.fibs[0].find(ip_network("2001:db8:9::/48")).flags & RTF_PROTO1


def test_interface_route_needs_an_existing_interface_and_ifp_must_exist():
    host, em0 = make_host()
    iface = RouteMessage(RTM_ADD, ip_network("10.5.0.0/16"), RTF_UP | RTF_STATIC, gateway_ifname="em0")
    assert route_request(host, iface).errno is None
    assert host.fibs[0].find(ip_network("10.5.0.0/16")).ifp is em0
    no_ifp = RouteMessage(RTM_ADD, ip_network("10.6.0.0/16"), RTF_UP | RTF_STATIC)
    assert route_request(host, no_ifp).errno == "EINVAL"
    assert add(host, "10.7.0.0/16", "10.0.1.2", ifname="em9").errno == "ENXIO"


def test_blackhole_without_a_next_hop_goes_to_lo0():
    host, _ = make_host()
    msg = RouteMessage(RTM_ADD, ip_network("10.8.0.0/16"), GW | RTF_BLACKHOLE)
    assert route_request(host, msg).errno is None
    route = host.fibs[0].find(ip_network("10.8.0.0/16"))
    assert route.ifp is host.lo0 and not route.flags & RTF_GATEWAY


def test_a_fib_that_does_not_exist_is_einval():
    host, _ = make_host()
    assert add(host, "10.2.0.0/16", "10.0.1.2", fib=3).errno == "EINVAL"


def test_the_kernel_marks_what_it_installs_up():
    host, _ = make_host()
    assert add(host, "10.2.0.0/16", "10.0.1.2", RTF_GATEWAY).errno is None
    assert host.fibs[0].find(ip_network("10.2.0.0/16")).flags == RTF_UP | RTF_GATEWAY
