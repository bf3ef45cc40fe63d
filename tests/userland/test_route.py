"""ipsecsim/userland/route.py: route(8)'s argument rules, its output and messages, and the
routing table it leaves behind (seen through netstat -rn and route get)."""

from ipaddress import ip_network

import pytest

from ipsecsim.kernel.route import RTF_BLACKHOLE, RTF_GATEWAY, RTF_HOST, RTF_REJECT, RTF_STATIC, RTF_UP

from .netkit import routed_lab

ROUTES_A = """\
route add -net 10.2.0.0/16 10.0.1.2
route add 10.3/16 10.0.1.2 -mtu 1400
route add -net 192.168.7.0 10.0.1.2
route add -host 10.4.4.4 10.0.1.2
route add -net 10.5.0.0 -netmask 255.255.255.0 -interface em0
route add -net 10.6.0.0/16 127.0.0.1 -blackhole
route add -net 10.7.0.0/16 127.0.0.1 -reject
route add -inet6 2001:db8:9::/48 2001:db8:1::2
route add -6 2001:db8:a::1 2001:db8:1::2
"""


@pytest.fixture
def lab():
    lab = routed_lab()
    return lab


def fib(lab, name="A"):
    return lab.hosts[name].fibs[0]


def test_golden_route_add_output_and_netstat_rn(lab, golden):
    text = "A# route add ...\n" + lab.out("A", ROUTES_A)
    for cmd in ("netstat -rn", "netstat -r", "netstat -rn -f inet6", "netstat -rn -4", "netstat -rnW"):
        text += f"A# {cmd}\n{lab.out('A', cmd)}"
    text += "R# netstat -rn\n" + lab.out("R", "netstat -rn")
    golden("userland_netstat_rn.txt", text)


def test_golden_route_get(lab, golden):
    lab.out("A", ROUTES_A)
    text = ""
    for cmd in ("route get 10.2.3.4", "route -n get 8.8.8.8", "route get default", "route get 10.0.1.2",
                "route get 10.0.1.1", "route show 10.3.9.9", "route get -net 10.2.0.0/16", "route get 127.0.0.1",
                "route get -inet6 2001:db8:9::5", "route get -6 default", "route get 10.6.0.1"):
        text += f"A# {cmd}\n{lab.out('A', cmd)}"
    golden("userland_route_get.txt", text)


def test_route_get_block_layout(lab):
    assert lab.out("A", "route get 10.2.3.4").splitlines() == [
        "   route to: 10.2.3.4",
        "destination: default",
        "       mask: default",
        "    gateway: 10.0.1.2",
        "        fib: 0",
        "  interface: em0",
        "      flags: <UP,GATEWAY,DONE,STATIC>",
        " recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire",
        "       0         0         0         0      1500         1         0 ",
    ]


@pytest.mark.parametrize("command, dest, flags, gateway", [
    ("route add 10.2.0.0 10.0.1.2", "10.2.0.0/32", RTF_UP | RTF_GATEWAY | RTF_HOST | RTF_STATIC, "10.0.1.2"),
    ("route add -net 10.2.0.0 10.0.1.2", "10.2.0.0/16", RTF_UP | RTF_GATEWAY | RTF_STATIC, "10.0.1.2"),
    ("route add 10.2/16 10.0.1.2", "10.2.0.0/16", RTF_UP | RTF_GATEWAY | RTF_STATIC, "10.0.1.2"),
    ("route add 10.0.0.0 10.0.1.2", "10.0.0.0/8", RTF_UP | RTF_GATEWAY | RTF_STATIC, "10.0.1.2"),
    ("route add 192.168.5.0 10.0.1.2", "192.168.5.0/24", RTF_UP | RTF_GATEWAY | RTF_STATIC, "10.0.1.2"),
    ("route add -net 172.16.0.0 10.0.1.2 255.240.0.0", "172.16.0.0/12", RTF_UP | RTF_GATEWAY | RTF_STATIC,
     "10.0.1.2"),
    ("route add -net 10.8.0.0 -prefixlen 20 10.0.1.2", "10.8.0.0/20", RTF_UP | RTF_GATEWAY | RTF_STATIC,
     "10.0.1.2"),
    ("route add -host 10.9.9.9 -interface em0", "10.9.9.9/32", RTF_UP | RTF_HOST | RTF_STATIC, None),
    ("route add -net 10.6.0.0/16 127.0.0.1 -blackhole", "10.6.0.0/16",
     RTF_UP | RTF_GATEWAY | RTF_STATIC | RTF_BLACKHOLE, "127.0.0.1"),
    ("route add 10.7.0.0/16 -reject 127.0.0.1", "10.7.0.0/16", RTF_UP | RTF_GATEWAY | RTF_STATIC | RTF_REJECT,
     "127.0.0.1"),
    ("route add -inet6 2001:db8:9::/48 2001:db8:1::2", "2001:db8:9::/48", RTF_UP | RTF_GATEWAY | RTF_STATIC,
     "2001:db8:1::2"),
    ("route add -6 2001:db8:9:: 2001:db8:1::2", "2001:db8:9::/128", RTF_UP | RTF_GATEWAY | RTF_HOST | RTF_STATIC,
     "2001:db8:1::2"),
])
def test_destination_rules(lab, command, dest, flags, gateway):
    lab.out("A", command)
    found = fib(lab).find(ip_network(dest))
    assert found is not None
    assert found.flags == flags
    assert (str(found.gateway) if found.gateway else None) == gateway


def test_add_prints_the_typed_destination(lab):
    assert lab.out("A", "route add -net 10.2.0.0/16 10.0.1.2") == "add net 10.2.0.0/16: gateway 10.0.1.2\n"
    assert lab.out("A", "route add 10.2.3.4 10.0.1.2") == "add host 10.2.3.4: gateway 10.0.1.2\n"
    assert lab.out("A", "route -q add 10.8/16 10.0.1.2") == ""
    assert lab.out("A", "route add 10.9.0.0/16 -iface em0") == "add net 10.9.0.0/16: gateway em0\n"


def test_routes_take_the_gateway_interface_and_source(lab):
    lab.out("R", "route add -net 10.7.0.0/16 10.0.2.2")
    found = fib(lab, "R").find(ip_network("10.7.0.0/16"))
    assert (found.ifp.name, str(found.source)) == ("em1", "10.0.2.1")


def test_mtu_is_kept_and_clamped(lab):
    lab.out("A", "route add 10.3/16 10.0.1.2 -mtu 1400; route add 10.4/16 10.0.1.2 -mtu 9000")
    assert fib(lab).find(ip_network("10.3.0.0/16")).path_mtu() == 1400
    assert fib(lab).find(ip_network("10.4.0.0/16")).path_mtu() == 1500


def test_delete(lab):
    lab.out("A", "route add -net 10.2.0.0/16 10.0.1.2; route add 10.9.9.9 10.0.1.2")
    assert lab.out("A", "route delete -net 10.2.0.0/16") == "delete net 10.2.0.0/16\n"
    assert lab.out("A", "route del 10.9.9.9 10.0.1.2") == "del host 10.9.9.9: gateway 10.0.1.2\n"
    assert fib(lab).find(ip_network("10.2.0.0/16")) is None
    assert lab.out("A", "route delete default") == "delete net default\n"
    assert fib(lab).find(ip_network("0.0.0.0/0")) is None


def test_change_gateway_and_mtu(lab):
    lab.out("A", "route add -net 10.2.0.0/16 10.0.1.2")
    lab.out("B", "route add 10.2/16 10.0.2.1")
    assert lab.out("B", "route change 10.2/16 10.0.2.1 -mtu 1300") == "change net 10.2/16: gateway 10.0.2.1\n"
    assert fib(lab, "B").find(ip_network("10.2.0.0/16")).path_mtu() == 1300
    lab.out("R", "route add 10.2/16 10.0.1.1")
    lab.out("R", "route change 10.2/16 10.0.2.2")
    found = fib(lab, "R").find(ip_network("10.2.0.0/16"))
    assert (str(found.gateway), found.ifp.name) == ("10.0.2.2", "em1")
    assert lab.out("R", "route change 10.2/16 -mtu 1000") == "change net 10.2/16\n"
    found = fib(lab, "R").find(ip_network("10.2.0.0/16"))
    assert (str(found.gateway), found.path_mtu(), found.flags & RTF_GATEWAY) == ("10.0.2.2", 1000, RTF_GATEWAY)


def test_flush_removes_gateway_routes(lab):
    lab.out("A", "route add -net 10.2.0.0/16 10.0.1.2; route add -host 10.9.9.9 -iface em0")
    assert lab.out("A", "route flush -inet").splitlines() == [
        "default              10.0.1.2             -fib 0   done",
        "10.2                 10.0.1.2             -fib 0   done",
    ]
    assert [str(r.dest) for r in fib(lab).routes(4) if r.flags & RTF_GATEWAY] == []
    assert fib(lab).find(ip_network("10.9.9.9/32")) is not None
    assert [str(r.dest) for r in fib(lab).routes(6) if r.flags & RTF_GATEWAY] == ["::/0"]


@pytest.mark.parametrize("command, stdout, stderr, status", [
    ("route add default 10.0.1.2", "add net default: gateway 10.0.1.2 fib 0: route already in table",
     "route: message indicates error: File exists", 1),
    ("route add -net 10.2.0.0/16 10.9.9.9", "add net 10.2.0.0/16: gateway 10.9.9.9 fib 0: Network is unreachable",
     "route: message indicates error: Network is unreachable", 1),
    ("route add -net 10.2.0.0/16 10.0.2.1", "add net 10.2.0.0/16: gateway 10.0.2.1 fib 0: Network is unreachable",
     "route: message indicates error: Network is unreachable", 1),
    ("route delete -net 10.2.0.0/16 10.0.1.2", "delete net 10.2.0.0/16: gateway 10.0.1.2 fib 0: not in table",
     "route: route has not been found", 1),
    ("route delete default 10.0.1.9", "delete net default: gateway 10.0.1.9 fib 0: not in table",
     "route: route has not been found", 1),
    ("route change 10.2/16 10.0.1.2", "change net 10.2/16: gateway 10.0.1.2 fib 0: not in table",
     "route: route has not been found", 1),
    ("route add -net 10.2.0.0/16", "add net 10.2.0.0/16 fib 0: Invalid argument",
     "route: message indicates error: Invalid argument", 1),
    ("route get 8.8.8.8 -fib 0", None, None, 0),
    ("route add 10.2.0.0/16 10.0.1.300", None, "route: bad address: 10.0.1.300", 68),
    ("route add -inet6 2001:db8:zz::/48 2001:db8:1::2", None,
     "route: 2001:db8:zz::: hostname nor servname provided, or not known", 71),
    ("route add -inet6 2001:db8:9::/129 2001:db8:1::2", None, "route: 129: invalid prefixlen", 64),
    ("route add 10.2/16 2001:db8:1::2", None, "route: bad address: 2001:db8:1::2", 68),
    ("route add 10.2/16 -interface em5", None, "route: interface 'em5' does not exist", 65),
    ("route add 10.2/16 10.0.1.2 -fib 1", None, "route: invalid fib number: 1", 64),
    ("route add 10.2/16 10.0.1.2 -mtu big", None, "route: big: Invalid argument", 64),
    ("route add 10.2/16 10.0.1.2 -mtu", None, "route: usage: route [-46dnqtv] command [[modifiers] args]", 64),
    ("route add 10.2/16 10.0.1.2 -frobnicate", None, "route: bad keyword: frobnicate", 64),
    ("route frobnicate", None, "route: bad keyword: frobnicate", 64),
    ("route -z add default 10.0.1.2", None, "route: illegal option -- z", 64),
    ("route", None, "route: usage: route [-46dnqtv] command [[modifiers] args]", 64),
])
def test_messages(lab, command, stdout, stderr, status):
    result = lab.sh("A", command)
    assert result.status == status
    lines = result.output.splitlines()
    if stdout is not None:
        assert stdout in lines
    if stderr is not None:
        assert lines[0] == stderr
        assert result.errors[0].message == (stdout or stderr)
    else:
        assert result.errors == []


def test_route_get_not_found(lab):
    lab.out("A", "route delete default")
    result = lab.sh("A", "route get 8.8.8.8")
    assert (result.status, result.output) == (1, "route: route has not been found\n")


def test_blackhole_and_reject_routes_in_the_forwarding_path(lab):
    lab.out("R", "route add -net 10.66.0.0/16 127.0.0.1 -blackhole; route add -net 10.77.0.0/16 127.0.0.1 -reject")
    result = lab.sh("A", "ping -c 1 10.66.0.1; ping -c 1 10.77.0.1")
    assert result.errors == []
    lab.clock.advance(15)
    drops = lab.hosts["R"].drops
    assert (drops["blackhole route"], drops["reject route"]) == (1, 1)
    assert lab.hosts["R"].ipstat.icps_error == 1  # only the reject answers (host unreachable)
    # locally sent: a reject route refuses the send, a blackhole swallows it
    result = lab.sh("R", "ping -c 1 10.77.0.1; ping -c 1 10.66.0.1")
    assert "ping: sendto: Network is unreachable" in result.output
    lab.clock.advance(30)
    assert lab.hosts["R"].drops["blackhole route"] == 2


# -- found by fuzzing (tests/userland/test_fuzz.py) ------------------------------------------------


def test_family_flag_after_the_destination_keeps_its_family(lab):
    """-inet6 after an IPv4 destination changes only how later words are read: the message's
    prefix length comes from the destination's own family (route_netlink.c rtmsg_nl_int()),
    so ``10.0.1.1`` is still a /32 host route. Crashed with a ValueError ((10.0.1.1, 128))."""
    result = lab.sh("A", "route add 10.9.9.9 10.0.1.2 -inet6")
    assert (result.status, result.output) == (0, "add host 10.9.9.9: gateway 10.0.1.2\n")
    assert fib(lab).find(ip_network("10.9.9.9/32")) is not None
    result = lab.sh("A", "route add 10.0.1.1 -inet6")
    assert result.errors[0].message == "add host 10.0.1.1 fib 0: route already in table"


def test_netmask_of_the_other_family_reads_as_no_bits(lab):
    """rtmsg_nl_int() reads the netmask as a sockaddr_in for an IPv4 destination; a mask that
    -prefixlen built as a sockaddr_in6 has zero there (sin6_flowinfo), hence /0."""
    lab.out("A", "route delete default")
    assert lab.out("A", "route add -net 10.9.0.0 10.0.1.2 -inet6 -prefixlen 64") == (
        "add net 10.9.0.0: gateway 10.0.1.2\n")
    assert fib(lab).find(ip_network("0.0.0.0/0")).gateway == ip_network("10.0.1.2/32").network_address
