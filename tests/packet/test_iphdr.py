"""packet.iphdr: offsets and selectors read from the bytes, checked against scapy's dissection."""

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop

from ipsecsim.kernel.drops import DropReason
from ipsecsim.packet import MalformedPacket
from ipsecsim.packet.iphdr import destination, flow_selectors, locate_payload, protocol_offset


def test_ipv4_with_options_and_link_padding():
    pkt = bytes(IP(src="10.0.0.1", dst="10.0.0.2", options=b"\x01" * 4) / UDP(sport=1234, dport=53) / (b"x" * 5))
    version, off, proto, length = locate_payload(pkt + b"\0\0")
    assert (version, off, proto, length) == (4, 24, 17, len(pkt))
    assert flow_selectors(pkt) == (bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]), 17, 1234, 53)
    assert destination(pkt) == bytes([10, 0, 0, 2])


def test_ipv6_extension_headers_are_walked():
    pkt = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
                / UDP(sport=7, dport=9))
    assert locate_payload(pkt) == (6, 56, 17, len(pkt))
    assert protocol_offset(pkt, 56) == 48  # the destination options header's next-header byte
    assert pkt[48] == 17


def test_protocol_offset_without_extension_headers():
    assert protocol_offset(bytes(IPv6() / UDP()), 40) == 6
    assert protocol_offset(bytes(IP(options=b"\x01" * 4) / UDP()), 24) == 9


def test_icmp_type_and_code_stand_for_ports():
    pkt = bytes(IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=3, code=4))
    assert flow_selectors(pkt)[2:] == (1, 3, 4)


def test_a_non_first_fragment_has_no_ports():
    pkt = bytes(IP(src="10.0.0.1", dst="10.0.0.2", frag=10) / UDP(sport=1, dport=2))
    assert flow_selectors(pkt)[2:] == (17, 0, 0)


@pytest.mark.parametrize("pkt, reason", [
    (b"", "malformed: unknown IP version"),
    (b"\x45" + bytes(10), "truncated IPv4 header"),
    (b"\x44" + bytes(19), "bad IPv4 header length"),
    (bytes(IP(dst="10.0.0.2"))[:2] + b"\x00\x10" + bytes(IP(dst="10.0.0.2"))[4:], "bad IPv4 total length"),
    (bytes(IP(dst="10.0.0.2") / (b"x" * 10))[:25], "truncated IPv4 packet"),
    (bytes(IPv6(dst="2001:db8::2") / (b"x" * 10))[:45], "truncated IPv6 packet"),
    (bytes(IPv6(dst="2001:db8::2", nh=0, plen=4)) + bytes(4), "truncated IPv6 extension header"),
])
def test_errors_name_the_kernel_drop_reason(pkt, reason):
    with pytest.raises(MalformedPacket) as error:
        locate_payload(pkt)
    assert error.value.reason == reason
    assert DropReason(error.value.reason).value == reason
