"""ipsecsim/ospf/config.py: the frr.conf subset, FRR's defaults and ranges, errors at line:column."""

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipsecsim.ospf import FrrConfigError, OspfConfig, OspfInterfaceConfig, parse_frr_config

SITE_A = """\
frr version 8.4.4
frr defaults traditional
hostname site-a
log syslog informational
service integrated-vtysh-config
!
interface ipsec0
 description primary tunnel over ISP 1
 ip ospf cost 10
 ip ospf hello-interval 2
 ip ospf dead-interval 8
 ip ospf network point-to-point
exit
!
interface ipsec1
 ip ospf cost 100
 ip ospf retransmit-interval 3
 ip ospf transmit-delay 2
 ip ospf mtu-ignore
exit
!
router ospf
 ospf router-id 10.255.0.1
 log-adjacency-changes detail
 auto-cost reference-bandwidth 1000
 timers throttle spf 200 400 10000
 timers throttle lsa all 1000
 timers lsa min-arrival 500
 passive-interface default
 no passive-interface ipsec0
 no passive-interface ipsec1
 network 10.1.0.0/24 area 0
 network 172.16.0.0/30 area 0.0.0.0
 network 172.16.1.0/30 area 0
exit
!
line vty
 exec-timeout 0 0
!
end
"""


def test_site_config_parses_to_every_field():
    c = parse_frr_config(SITE_A)
    zero = IPv4Address(0)
    assert c.hostname == "site-a" and c.frr_version == "8.4.4" and c.frr_defaults == "traditional"
    assert c.ospf_enabled and c.router_id == IPv4Address("10.255.0.1")
    assert c.networks == [(IPv4Network("10.1.0.0/24"), zero), (IPv4Network("172.16.0.0/30"), zero),
                          (IPv4Network("172.16.1.0/30"), zero)]
    assert c.interfaces == {
        "ipsec0": OspfInterfaceConfig("ipsec0", cost=10, hello_interval=2, dead_interval=8,
                                      network="point-to-point", description="primary tunnel over ISP 1"),
        "ipsec1": OspfInterfaceConfig("ipsec1", cost=100, retransmit_interval=3, transmit_delay=2, mtu_ignore=True),
    }
    assert (c.passive_default, c.passive, c.not_passive) == (True, set(), {"ipsec0", "ipsec1"})
    assert (c.reference_bandwidth, c.spf_delay, c.spf_initial_hold, c.spf_max_hold) == (1000, 200, 400, 10000)
    assert (c.lsa_min_interval, c.lsa_min_arrival) == (1000, 500)
    assert c.log_adjacency_changes and c.log_adjacency_detail


def test_defaults_are_frrs():
    c = parse_frr_config("")
    assert c == OspfConfig()
    assert not c.ospf_enabled and c.router_id is None
    # ospfd.h / ospf_interface.h: hello 10, dead 4 x hello, retransmit 5, transmit delay 1;
    # spf throttle 0/50/5000 ms, lsa throttle 5000 ms, min-arrival 1000 ms, reference 100 Mbit/s.
    assert (c.spf_delay, c.spf_initial_hold, c.spf_max_hold, c.lsa_min_interval, c.lsa_min_arrival,
            c.reference_bandwidth) == (0, 50, 5000, 5000, 1000, 100)
    em0 = c.interface("em0")
    assert (em0.cost, em0.hello_interval, em0.dead, em0.retransmit_interval, em0.transmit_delay, em0.network) == \
        (None, 10, 40, 5, 1, None)
    assert "em0" not in c.interfaces  # asking does not invent a block
    assert parse_frr_config("interface em0\n ip ospf hello-interval 3\n").interface("em0").dead == 12
    assert parse_frr_config("interface em0\n ip ospf hello-interval 3\n ip ospf dead-interval 7\n"
                            ).interface("em0").dead == 7


def test_datacenter_profile_logs_adjacency_changes():
    assert parse_frr_config("frr defaults datacenter\n").log_adjacency_changes
    c = parse_frr_config("frr defaults datacenter\nrouter ospf\n no log-adjacency-changes\n")
    assert not c.log_adjacency_changes
    assert not parse_frr_config("frr defaults traditional\n").log_adjacency_changes


def test_indentation_and_exit_do_not_matter():
    """FRR falls back to the parent node for a line the current node does not know."""
    c = parse_frr_config("interface em0\nip ospf cost 5\ninterface em1\n  ip ospf cost 7\n"
                         "router ospf\nnetwork 10.0.0.0/8 area 1\ninterface em2\n ip ospf cost 9\n")
    assert [(n, i.cost) for n, i in c.interfaces.items()] == [("em0", 5), ("em1", 7), ("em2", 9)]
    assert c.networks == [(IPv4Network("10.0.0.0/8"), IPv4Address(1))]


def test_unique_prefixes_are_accepted_as_in_frr():
    c = parse_frr_config("int em0\n ip os he 3\n ip ospf dead 9\nrouter ospf\n ospf router 1.2.3.4\n"
                         " passive em0\n timers throttle spf 1 2 3\n")
    assert (c.interface("em0").hello_interval, c.interface("em0").dead) == (3, 9)
    assert c.router_id == IPv4Address("1.2.3.4") and c.passive == {"em0"} and c.spf_delay == 1


def test_router_id_forms_and_areas_in_both_notations():
    c = parse_frr_config("router ospf\n router-id 9.9.9.9\n network 10.0.0.0/24 area 4294967295\n"
                         " network 10.0.1.0/24 area 0.0.0.7\n network 10.0.2.5/24 area 7\n")
    assert c.router_id == IPv4Address("9.9.9.9")
    assert c.networks == [(IPv4Network("10.0.0.0/24"), IPv4Address("255.255.255.255")),
                          (IPv4Network("10.0.1.0/24"), IPv4Address(7)), (IPv4Network("10.0.2.0/24"), IPv4Address(7))]
    # FRR keeps each statement's own notation (area_id_fmt) to write it back
    assert c.decimal_networks == {IPv4Network("10.0.0.0/24"), IPv4Network("10.0.2.0/24")}


def test_passive_interfaces():
    c = parse_frr_config("router ospf\n passive-interface em0\n")
    assert c.is_passive("em0") and not c.is_passive("em1")
    c = parse_frr_config("router ospf\n passive-interface default\n no passive-interface ipsec0\n")
    assert c.is_passive("em0") and not c.is_passive("ipsec0")
    c = parse_frr_config("interface em3\n ip ospf passive\n")
    assert c.is_passive("em3")


def test_area_for():
    c = parse_frr_config("router ospf\n network 10.1.0.0/16 area 1\n network 10.0.0.0/8 area 2\n"
                         " network 172.16.0.0/30 area 0\n")
    addr = [IPv4Interface("10.1.2.3/24")]
    # Of nested statements the wider one is visited first in FRR's prefix tree, so it wins.
    assert c.area_for("em0", addr) == IPv4Address(2)
    assert c.area_for("em0", [IPv4Interface("192.168.0.1/24"), IPv4Interface("172.16.0.1/30")]) == IPv4Address(0)
    assert c.area_for("em0", [IPv4Interface("192.168.0.1/24")]) is None
    assert c.area_for("em0", []) is None
    c = parse_frr_config("interface ipsec0\n ip ospf area 0.0.0.3\n")
    assert c.area_for("ipsec0", []) == IPv4Address(3)
    assert c.area_for("em0", addr) is None


@pytest.mark.parametrize("text, where, message", [
    ("foo bar", "1:1", "% Unknown command: foo bar"),
    ("interface em0\n ip ospf cost 0", "2:15", "% Unknown command: ip ospf cost 0; expected a number 1-65535"),
    ("interface em0\n ip ospf cost 65536", "2:15", "% Unknown command: ip ospf cost 65536; expected a number 1-65535"),
    ("interface em0\n ip ospf hello-interval", "2:10", "% Command incomplete: ip ospf hello-interval"),
    ("interface em0\n ip ospf cst 5", "2:10", "% Unknown command: ip ospf cst 5"),
    ("interface em0\n ip ospf network nbma", "2:18",
     "% Unknown command: ip ospf network nbma; expected non-broadcast or point-to-multipoint or point-to-point "
     "or broadcast"),
    ("router ospf\n network 10.0.0.0/33 area 0", "2:10",
     "% Unknown command: network 10.0.0.0/33 area 0; expected A.B.C.D/M"),
    ("router ospf\n network 10.0.0.0/8 area 4294967296", "2:26",
     "% Unknown command: network 10.0.0.0/8 area 4294967296; expected A.B.C.D or a number 0-4294967295"),
    ("router ospf\n ospf router-id 1.2.3", "2:17", "% Unknown command: ospf router-id 1.2.3; expected A.B.C.D"),
    ("router ospf\n timers throttle spf 1 2", "2:24", "% Command incomplete: timers throttle spf 1 2"),
    ("router ospf\n auto-cost reference-bandwidth 4294968", "2:32",
     "% Unknown command: auto-cost reference-bandwidth 4294968; expected a number 1-4294967"),
    ("router ospf\n redistribute connected", "2:2",
     "'redistribute connected' is FRR configuration the simulator does not model (see docs/frr.md)"),
    ("interface em0\n ip ospf priority 0", "2:2",
     "'ip ospf priority 0' is FRR configuration the simulator does not model (see docs/frr.md)"),
    ("router ospf 2", "1:1", "'router ospf 2' is FRR configuration the simulator does not model (see docs/frr.md)"),
    ("interface em0\n shutdown", "2:2", "'shutdown' in frr.conf is not modelled; take the interface down with "
     "'ifconfig IF down' in the host's run: block or its timeline"),
    ("interface em0\n ip ospf area 1\nrouter ospf\n network 10.0.0.0/8 area 1", "4:2",
     "Please remove all ip ospf area x.x.x.x commands first."),
    ("router ospf\n network 10.0.0.0/8 area 1\ninterface em0\n ip ospf area 1", "4:2",
     "Please remove all network commands first."),
    ("interface em0\n ip ospf area 1\n ip ospf area 0.0.0.2", "3:2",
     "Must remove previous area config before changing ospf area"),
    ("router ospf\n network 10.0.0.0/8 area 1\n network 10.0.0.0/8 area 2", "3:2",
     "There is already same network statement."),
])
def test_errors_name_line_and_column(text, where, message):
    with pytest.raises(FrrConfigError) as caught:
        parse_frr_config(text)
    assert str(caught.value) == f"line {where}: {message}"
    line, col = where.split(":")
    assert (caught.value.line, caught.value.column, caught.value.message) == (int(line), int(col), message)


def test_other_scripts_digits_are_not_numbers():
    for text in ("interface em0\n ip ospf cost \u00b2", "interface em0\n ip ospf cost \u0663",
                 "router ospf\n network 10.0.0.\u0661/8 area 0"):
        with pytest.raises(FrrConfigError, match="Unknown command"):
            parse_frr_config(text)


def test_crlf_line_ends():
    assert parse_frr_config("interface em0\r\n ip ospf cost 7\r\n").interface("em0").cost == 7


def test_comments_and_blank_lines():
    c = parse_frr_config("! comment\n# another\n\n   \n  ! indented comment\nhostname h\n")
    assert c.hostname == "h"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["interface", "em0", "router", "ospf", "ip", "cost", "network", "10.0.0.0/8",
                                 "area", "0", "65536", "passive-interface", "default", "no", "!", "\n", " ",
                                 "timers", "throttle", "spf", "1", "exit", "hello-interval", "x"]), max_size=30))
def test_any_text_parses_or_raises_frr_config_error(parts):
    """The h11 invariant: a config either parses or is refused with a located message."""
    try:
        parse_frr_config(" ".join(parts))
    except FrrConfigError as error:
        assert error.line >= 1 and error.column >= 1 and error.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_frr_config_error(text):
    try:
        parse_frr_config(text)
    except FrrConfigError:
        pass
