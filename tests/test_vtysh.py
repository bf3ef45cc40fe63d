"""ipsecsim/ospf/show.py and ipsecsim/userland/vtysh.py: FRR 8's show output, from views and from a host.

Expected lines marked "FRR output" are copied from published output of real FRR 8/9
routers (VyOS documentation, FRR users' lab notes); the views are built to carry the
same values, so they check our column widths and time formats against FRR itself.
"""

import random
from types import SimpleNamespace
from ipaddress import IPv4Address as A
from ipaddress import IPv4Interface as I
from ipaddress import IPv4Network as N

import pytest

from ipsecsim.kernel import Host, ManualClock
from ipsecsim.kernel.route import RTF_BLACKHOLE, RTF_GATEWAY, RTF_PROTO1, RTF_STATIC, RTF_UP, Route
from ipsecsim.ospf import (LsaView, NeighborView, OspfInterfaceView, OspfRouteView, RouteView,
                           parse_frr_config)
from ipsecsim.ospf.show import (ROUTE_CODES, KernelIf, ospf_timeval, show_database, show_interfaces,
                                show_neighbors, show_ospf_routes, show_routes, show_running_config, zebra_uptime)
from ipsecsim.userland import Console, Shell

NEIGHBOR_HEADER = ("Neighbor ID     Pri State           Up Time         Dead Time Address         Interface"
                   "                        RXmtL RqstL DBsmL")


@pytest.mark.parametrize("seconds, text", [
    (0.0, "0 usecs"), (0.0005, "500 usecs"), (0.25, "0.250s"), (35.123, "35.123s"), (59.9999, "59.999s"),
    (125.5, "2m05s"), (1436, "23m56s"), (77103, "21h25m03s"), (93780, "1d02h03m"), (8 * 86400 + 3600, "1w1d01h"),
])
def test_ospf_timer_text(seconds, text):
    assert ospf_timeval(seconds) == text


@pytest.mark.parametrize("seconds, text", [
    (0, "00:00:00"), (12.9, "00:00:12"), (85932, "23:52:12"), (93780, "1d02h03m"), (2 * 86400 + 23 * 3600 + 480,
                                                                                  "2d23h08m"),
    (8 * 86400 + 3 * 3600, "01w1d03h"),
])
def test_zebra_uptime_text(seconds, text):
    assert zebra_uptime(seconds) == text


def neighbor(rid, pri, state, role, up, dead, addr, ifname, local, counts=(0, 0, 0)):
    return NeighborView(A(rid), pri, state, role, up, dead, A(addr), ifname, A(local), *counts)


def test_neighbors_line_up_with_frr_output():
    text = show_neighbors([
        neighbor("1.1.1.1", 1, "Full", "-", 1436.2, 37.948, "10.100.100.2", "vti1", "10.100.100.1"),
        neighbor("3.152.0.1", 1, "Full", "DR", 77103, 37.053, "3.0.1.2", "port_KHAR", "3.0.1.1"),
        neighbor("2.2.2.2", 1, "Full", "DR", 56.401, 38.597, "172.20.0.2", "eth1", "172.20.0.3"),
        neighbor("9.9.9.9", 1, "Down", "-", 0, 0, "10.9.9.9", "vti9", "10.9.9.1"),  # not listed
    ])
    assert text == "\n".join([
        "",
        NEIGHBOR_HEADER,
        # FRR output (VyOS documentation, FRR 9)
        "1.1.1.1           1 Full/-          23m56s            37.948s 10.100.100.2    vti1:10.100.100.1"
        "                    0     0     0",
        # FRR output (FRR 8 lab notes)
        "3.152.0.1         1 Full/DR         21h25m03s         37.053s 3.0.1.2         port_KHAR:3.0.1.1"
        "                    0     0     0",
        "2.2.2.2           1 Full/DR         56.401s           38.597s 172.20.0.2      eth1:172.20.0.3"
        "                      0     0     0",
        "", ""])


def test_neighbor_list_counts_and_states():
    text = show_neighbors([neighbor("10.0.0.2", 0, "ExStart", "-", 0, 39.5, "172.16.0.5", "ipsec0", "172.16.0.3",
                                    (3, 12, 104))])
    assert text.splitlines()[2] == ("10.0.0.2          0 ExStart/-       0 usecs           39.500s 172.16.0.5"
                                    "      ipsec0:172.16.0.3                    3    12   104")
    assert show_neighbors([]) == f"\n{NEIGHBOR_HEADER}\n\n"


def route(prefix, protocol, distance, metric, nexthops, selected=True, installed=True, age=0.0):
    return RouteView(N(prefix), protocol, distance, metric, tuple(nexthops), selected, installed, age)


def test_routes_match_frr_output():
    text = show_routes([
        route("10.0.10.0/30", "connected", 0, 0, [(None, "enp0s8")], age=85933),
        route("10.0.10.0/30", "ospf", 110, 300, [(A("10.0.12.2"), "enp0s9")], False, False, age=85892),
        route("10.0.11.0/30", "ospf", 110, 200, [(A("10.0.12.2"), "enp0s9")], age=85897),
        route("0.0.0.0/0", "kernel", 0, 100, [(A("10.0.2.2"), "enp0s3")], age=85933),
        route("10.0.12.0/30", "ospf", 110, 100, [(None, "enp0s9")], False, False, age=85932),
        route("10.0.12.0/30", "connected", 0, 0, [(None, "enp0s9")], age=85933),
    ])
    # FRR output (FRR 8.5.2 on a Linux lab router), with the kernel route's "src" left out
    assert text == ROUTE_CODES + "\n" + "\n".join([
        "K>* 0.0.0.0/0 [0/100] via 10.0.2.2, enp0s3, 23:52:13",
        "O   10.0.10.0/30 [110/300] via 10.0.12.2, enp0s9, weight 1, 23:51:32",
        "C>* 10.0.10.0/30 is directly connected, enp0s8, 23:52:13",
        "O>* 10.0.11.0/30 [110/200] via 10.0.12.2, enp0s9, weight 1, 23:51:37",
        "O   10.0.12.0/30 [110/100] is directly connected, enp0s9, weight 1, 23:52:12",
        "C>* 10.0.12.0/30 is directly connected, enp0s9, 23:52:13",
    ]) + "\n"


def test_routes_codes_header_is_frr_8():
    # FRR output (FRR 8.5.2): the header zebra prints above IPv4 routes
    assert ROUTE_CODES.splitlines() == [
        "Codes: K - kernel route, C - connected, S - static, R - RIP,",
        "       O - OSPF, I - IS-IS, B - BGP, E - EIGRP, N - NHRP,",
        "       T - Table, v - VNC, V - VNC-Direct, A - Babel, F - PBR,",
        "       f - OpenFabric,",
        "       > - selected route, * - FIB route, q - queued, r - rejected, b - backup",
        "       t - trapped, o - offload failure",
    ]


def test_routes_multipath_unreachable_and_empty():
    text = show_routes([
        route("10.2.0.0/24", "ospf", 110, 20, [(A("172.16.0.5"), "ipsec0"), (A("172.16.1.5"), "ipsec1")], age=12),
        route("10.6.0.0/16", "kernel", 0, 0, [(None, "blackhole")], age=5),
        route("10.7.0.0/16", "kernel", 0, 0, [(None, "reject")], age=5),
    ]).splitlines()[7:]
    assert text == [
        "O>* 10.2.0.0/24 [110/20] via 172.16.0.5, ipsec0, weight 1, 00:00:12",
        "  *" + " " * 22 + "via 172.16.1.5, ipsec1, weight 1, 00:00:12",
        "K>* 10.6.0.0/16 [0/0] unreachable (blackhole), 00:00:05",
        "K>* 10.7.0.0/16 [0/0] unreachable (ICMP unreachable), 00:00:05",
    ]
    assert text[0].index("via") == text[1].index("via")  # zebra lines later nexthops up under the first
    assert show_routes([]) == ""  # zebra prints the codes only above a first route


P2P = OspfInterfaceView("ipsec0", True, I("172.16.0.3/16"), A("172.16.0.5"), A(0), A("10.255.0.1"), "POINTOPOINT",
                        10, 1, "Point-To-Point", 1, 10, 40, 5, 7.056, 1, 1, False, 1400)
LAN = OspfInterfaceView("em1", True, I("10.1.0.1/24"), None, A(0), A("10.255.0.1"), "BROADCAST",
                        10, 1, "DR", 1, 10, 40, 5, 0.0, 0, 0, True, 1500)
KERNEL = {"ipsec0": KernelIf(4, 1400, 0, "<UP,POINTOPOINT,RUNNING,MULTICAST>"),
          "em1": KernelIf(3, 1500, 1000, "<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST>"),
          "em0": KernelIf(2, 1500, 1000, "<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST>")}


def test_interfaces_in_name_order_with_frr_lines():
    assert show_interfaces([P2P, LAN], KERNEL, mtu_ignore=["em1"]) == "\n".join([
        "em1 is up",
        "  ifindex 3, MTU 1500 bytes, BW 1000 Mbit <UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST>",
        "  Internet Address 10.1.0.1/24, Broadcast 10.1.0.255, Area 0.0.0.0",
        "  MTU mismatch detection: disabled",
        "  Router ID 10.255.0.1, Network Type BROADCAST, Cost: 10",
        "  Transmit Delay is 1 sec, State DR, Priority 1",
        "  No backup designated router on this network",
        "  Multicast group memberships: <None>",
        "  Timer intervals configured, Hello 10s, Dead 40s, Wait 40s, Retransmit 5",
        "    No Hellos (Passive interface)",
        "  Neighbor Count is 0, Adjacent neighbor count is 0",
        "  Graceful Restart hello delay: 10s",
        "ipsec0 is up",
        "  ifindex 4, MTU 1400 bytes, BW 0 Mbit <UP,POINTOPOINT,RUNNING,MULTICAST>",
        "  Internet Address 172.16.0.3/16, Peer 172.16.0.5, Area 0.0.0.0",
        "  MTU mismatch detection: enabled",
        "  Router ID 10.255.0.1, Network Type POINTOPOINT, Cost: 10",
        "  Transmit Delay is 1 sec, State Point-To-Point, Priority 1",
        "  No backup designated router on this network",
        "  Multicast group memberships: OSPFAllRouters",
        "  Timer intervals configured, Hello 10s, Dead 40s, Wait 40s, Retransmit 5",
        "    Hello due in 7.056s",
        "  Neighbor Count is 1, Adjacent neighbor count is 1",
        "  Graceful Restart hello delay: 10s",
        "", ""])


def test_interface_by_name_down_absent_and_not_ospf():
    down = OspfInterfaceView(**{**P2P.__dict__, "up": False})
    assert show_interfaces([down], KERNEL, name="ipsec0") == (
        "ipsec0 is down\n  ifindex 4, MTU 1400 bytes, BW 0 Mbit <UP,POINTOPOINT,RUNNING,MULTICAST>\n"
        "  OSPF is enabled, but not running on this interface\n\n")
    assert show_interfaces([P2P], KERNEL, name="em0") == (
        "em0 is up\n  ifindex 2, MTU 1500 bytes, BW 1000 Mbit <UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST>\n"
        "  OSPF not enabled on this interface\n\n")
    assert show_interfaces([P2P], KERNEL, name="em7") == "No such interface name\n\n"


def test_ospf_routes():
    text = show_ospf_routes([
        OspfRouteView(N("10.2.0.0/24"), 20, A(0), ((A("172.16.0.5"), "ipsec0"),), False),
        OspfRouteView(N("10.1.0.0/24"), 10, A(0), ((None, "em1"),), True),
    ])
    assert text == "\n".join([
        "============ OSPF network routing table ============",
        "N    10.1.0.0/24           [10] area: 0.0.0.0",
        "                           directly attached to em1",
        "N    10.2.0.0/24           [20] area: 0.0.0.0",
        "                           via 172.16.0.5, ipsec0",
        "",
        "============ OSPF router routing table =============",
        "",
        "============ OSPF external routing table ===========",
        "", "", ""])


def test_database_matches_frr_output():
    text = show_database(A("1.1.1.1"), [
        LsaView(1, A("2.2.2.2"), A("2.2.2.2"), 1210, 0x80000004, 0x2e4b, 3),
        LsaView(1, A("1.1.1.1"), A("1.1.1.1"), 585, 0x80000006, 0x13b5, 2),
    ], A(0))
    assert text == "\n".join([
        "",
        "       OSPF Router with ID (1.1.1.1)",
        "",
        "                Router Link States (Area 0.0.0.0)",
        "",
        "Link ID         ADV Router      Age  Seq#       CkSum  Link count",
        "1.1.1.1         1.1.1.1          585 0x80000006 0x13b5 2",  # FRR output (FRR 8 lab notes)
        "2.2.2.2         2.2.2.2         1210 0x80000004 0x2e4b 3",
        "", "", ""])


SITE = """\
frr version 8.4.4
frr defaults traditional
hostname site-a
!
interface ipsec1
 ip ospf cost 100
 ip ospf dead-interval 8
 ip ospf hello-interval 2
 ip ospf network point-to-point
!
interface em10
 description LAN
 ip ospf network point-to-point
 ip ospf passive
!
interface em2
 ip ospf mtu-ignore
 ip ospf transmit-delay 2
 ip ospf retransmit-interval 3
!
router ospf
 network 10.1.0.0/24 area 0
 network 172.16.0.0/30 area 0.0.0.0
 ospf router-id 10.255.0.1
 timers throttle spf 200 400 10000
 auto-cost reference-bandwidth 1000
 log-adjacency-changes
 passive-interface default
 no passive-interface ipsec1
!
end
"""


def test_running_config_in_frr_order():
    config = parse_frr_config(SITE)
    assert show_running_config(config, point_to_point=["ipsec1"]) == "\n".join([
        "Building configuration...", "", "Current configuration:", "!",
        "frr version 8.4.4", "frr defaults traditional", "hostname site-a", "service integrated-vtysh-config",
        "!",
        "interface em2",
        " ip ospf retransmit-interval 3",
        " ip ospf transmit-delay 2",
        " ip ospf mtu-ignore",
        "exit", "!",
        "interface em10",
        " description LAN",
        " ip ospf network point-to-point",
        " ip ospf passive",
        "exit", "!",
        "interface ipsec1",
        " ip ospf cost 100",
        " ip ospf hello-interval 2",
        " ip ospf dead-interval 8",
        " no ip ospf passive",
        "exit", "!",
        "router ospf",
        " ospf router-id 10.255.0.1",
        " log-adjacency-changes",
        "! Important: ensure reference bandwidth is consistent across all routers",
        " auto-cost reference-bandwidth 1000",
        " timers throttle spf 200 400 10000",
        " passive-interface default",
        " network 10.1.0.0/24 area 0",
        " network 172.16.0.0/30 area 0.0.0.0",
        "exit", "!",
        "end", ""])


@pytest.mark.parametrize("text", [SITE, "router ospf\n network 10.0.0.0/8 area 3\n", "frr defaults datacenter\n"
                                  "router ospf\n no log-adjacency-changes\n timers lsa min-arrival 20\n"
                                  " timers throttle lsa all 200\n", "interface em0\n ip ospf area 7\n"])
def test_running_config_parses_back_to_the_same_config(text):
    config = parse_frr_config(text)
    shown = show_running_config(config).split("\n", 3)[3]  # past "Building configuration..." and its blank line
    again = parse_frr_config(shown)
    assert again.frr_version == (config.frr_version or "8.4")
    again.frr_version = config.frr_version
    assert again == config


# -- vtysh on a host ------------------------------------------------------------------------------


class StubOspfd:
    """What the integrator's ospfd offers vtysh: the views, its config, when it started."""

    router_id = A("10.255.0.1")
    started_at = 10.0

    def __init__(self, config_text: str = "router ospf\n network 10.1.0.0/24 area 0\n"):
        self.config = parse_frr_config(config_text)
        self.route_times = {N("10.2.0.0/24"): 88.0}

    def neighbors(self):
        return [neighbor("10.255.0.2", 1, "Full", "-", 77.5, 31.25, "172.16.0.5", "ipsec0", "172.16.0.3")]

    def ospf_routes(self):
        return [OspfRouteView(N("10.1.0.0/24"), 10, A(0), ((None, "em1"),), True),
                OspfRouteView(N("10.2.0.0/24"), 20, A(0), ((A("172.16.0.5"), "ipsec0"),), False)]

    def interfaces(self):
        return [P2P]

    def database(self):
        return [LsaView(1, A("10.255.0.1"), A("10.255.0.1"), 30, 0x80000002, 0x1234, 2)]


@pytest.fixture
def bench():
    clock = ManualClock(100.0)
    h = Host("site-a", clock=clock, rng=random.Random(1))
    h.create_ether("em0")
    h.create_ether("em1")
    shell = Shell(h, Console(h))
    result = shell.run("ifconfig em0 inet 192.168.0.3/24\nifconfig em1 inet 10.1.0.1/24\n"
                       "ifconfig ipsec0 create reqid 100\nifconfig ipsec0 inet tunnel 192.168.0.3 192.168.0.5\n"
                       "ifconfig ipsec0 inet 172.16.0.3/16 172.16.0.5\nroute add 10.9.0.0/16 192.168.0.1\n"
                       "route add -blackhole 10.6.0.0/16 127.0.0.1\n")
    assert result.errors == []
    for name in ("em0", "em1"):
        h.interface(name).flags |= 0x40  # IFF_RUNNING: cabled (the lab wires nothing here)
    h.fibs[0].add(Route(N("10.2.0.0/24"), h.interface("ipsec0"), A("172.16.0.5"), RTF_UP | RTF_GATEWAY | RTF_PROTO1))
    return SimpleNamespace(host=h, shell=shell)


def vtysh(bench, *commands, ok=True):
    result = bench.shell.run("vtysh " + " ".join(f"-c '{c}'" for c in commands))
    assert (result.status == 0) == ok, result.output
    return result


def test_vtysh_needs_a_daemon(bench):
    result = vtysh(bench, "show ip route", ok=False)
    assert result.output == "Exiting: failed to connect to any daemons.\n"
    assert [e.message for e in result.errors] == ["Exiting: failed to connect to any daemons."]


def test_vtysh_without_ospfd_still_has_zebra(bench):
    bench.host.daemons = {"zebra": object()}
    assert vtysh(bench, "show ip ospf neighbor").output == "ospfd is not running\n"
    assert vtysh(bench, "show ip route kernel").output.endswith("K>* 10.9.0.0/16 [0/0] via 192.168.0.1, em0, "
                                                               "00:01:40\n")


def test_vtysh_without_router_ospf(bench):
    bench.host.daemons = {"ospfd": StubOspfd("interface ipsec0\n ip ospf cost 5\n")}
    assert vtysh(bench, "show ip ospf neighbor").output == "% OSPF instance not found\n"


def test_vtysh_shows_what_the_daemon_reports(bench):
    bench.host.daemons = {"ospfd": StubOspfd()}
    out = vtysh(bench, "sh ip os nei").output
    assert out == vtysh(bench, "show ip ospf neighbor").output
    assert out.splitlines()[2] == ("10.255.0.2        1 Full/-          1m17s             31.250s 172.16.0.5"
                                   "      ipsec0:172.16.0.3                    0     0     0")
    assert vtysh(bench, "show ip ospf interface ipsec0").output.splitlines()[:3] == [
        "ipsec0 is up", "  ifindex 4, MTU 1400 bytes, BW 0 Mbit <UP,POINTOPOINT,RUNNING,MULTICAST>",
        "  Internet Address 172.16.0.3/16, Peer 172.16.0.5, Area 0.0.0.0"]
    assert vtysh(bench, "show ip ospf interface em0").output.splitlines()[-2:] == [
        "  OSPF not enabled on this interface", ""]
    assert "N    10.2.0.0/24           [20] area: 0.0.0.0" in vtysh(bench, "sh ip ospf ro").output
    assert "10.255.0.1      10.255.0.1        30 0x80000002 0x1234 2" in vtysh(bench, "show ip ospf data").output


def test_vtysh_show_ip_route_is_zebra_view_of_the_fib(bench):
    bench.host.daemons = {"ospfd": StubOspfd()}
    assert vtysh(bench, "show ip route").output == ROUTE_CODES + "\n" + "\n".join([
        "O   10.1.0.0/24 [110/10] is directly connected, em1, weight 1, 00:01:30",
        "C>* 10.1.0.0/24 is directly connected, em1, 00:01:30",
        "O>* 10.2.0.0/24 [110/20] via 172.16.0.5, ipsec0, weight 1, 00:00:12",
        "K>* 10.6.0.0/16 [0/0] unreachable (blackhole), 00:01:30",
        "K>* 10.9.0.0/16 [0/0] via 192.168.0.1, em0, 00:01:30",
        "C>* 127.0.0.0/8 is directly connected, lo0, 00:01:30",
        "C>* 172.16.0.5/32 is directly connected, ipsec0, 00:01:30",
        "C>* 192.168.0.0/24 is directly connected, em0, 00:01:30",
    ]) + "\n"
    assert vtysh(bench, "show ip route ospf").output.splitlines()[-2:] == [
        "O   10.1.0.0/24 [110/10] is directly connected, em1, weight 1, 00:01:30",
        "O>* 10.2.0.0/24 [110/20] via 172.16.0.5, ipsec0, weight 1, 00:00:12"]
    assert vtysh(bench, "show ip route static").output == ""  # nothing: zebra prints no header either


def test_vtysh_connected_route_goes_with_its_interface(bench):
    bench.host.daemons = {"ospfd": StubOspfd()}
    bench.shell.run("ifconfig em1 down")
    assert "10.1.0.0/24 is directly connected, em1" not in vtysh(bench, "show ip route connected").output


def test_vtysh_running_config(bench):
    bench.host.daemons = {"ospfd": StubOspfd("interface ipsec0\n ip ospf network point-to-point\n ip ospf cost 5\n"
                                       "router ospf\n network 10.1.0.0/24 area 0\n")}
    assert vtysh(bench, "show running-config").output.splitlines()[4:13] == [
        "frr version 8.4", "frr defaults traditional", "hostname site-a", "service integrated-vtysh-config", "!",
        "interface ipsec0", " ip ospf cost 5", "exit", "!"]  # point-to-point is ipsec0's own type: not written


def test_vtysh_unknown_command_stops_the_run(bench):
    bench.host.daemons = {"ospfd": StubOspfd()}
    result = vtysh(bench, "show ip foo", "show ip ospf neighbor", ok=False)
    assert result.output == "% Unknown command: show ip foo\n"
    assert [str(e) for e in result.errors] == ["<stdin>:1:1: % Unknown command: show ip foo"]
    assert vtysh(bench, "show ip ospf", ok=False).output == "% Command incomplete: show ip ospf\n"


def test_vtysh_echo_and_several_commands(bench):
    bench.host.daemons = {"ospfd": StubOspfd()}
    result = bench.shell.run("vtysh -E -c 'show ip route static' -c 'sh ip ospf nei'")
    assert result.status == 0
    assert result.output.splitlines()[:3] == ["site-a# show ip route static", "site-a# sh ip ospf nei", ""]


def test_vtysh_usage(bench):
    bench.host.daemons = {"ospfd": StubOspfd()}
    result = bench.shell.run("vtysh")
    assert result.status == 1 and "non-interactive" in result.output
    result = bench.shell.run("vtysh -x")
    assert result.status == 1 and result.output.startswith("vtysh: illegal option -- x\n")


def test_static_blackhole_flags_are_kernel_routes(bench):
    found = bench.host.fibs[0].find(N("10.6.0.0/16"))
    assert found is not None and found.flags & RTF_BLACKHOLE and found.flags & RTF_STATIC
