"""ipsecsim/packet/udp.py: RFC 768 over IPv4 and IPv6 against scapy, the zero-checksum rules, malformed input."""

from dataclasses import FrozenInstanceError
from ipaddress import IPv4Address, IPv6Address
import struct

from hypothesis import given, strategies as st
import pytest
from scapy.compat import raw
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6 as ScapyIPv6
from scapy.packet import Raw

from ipsecsim.packet import IPPROTO_UDP, IPv4, IPv6, MalformedPacket, Udp, internet_checksum, pseudo_header_sum

from .helpers import (
    FAST, ORACLE, hostile, ipv4_addresses, ipv6_addresses, parse_or_malformed, payloads, scapy_recomputed, u16,
    udp_datagrams,
)

REASONS4 = {"truncated UDP header", "bad UDP length", "bad UDP checksum"}
REASONS6 = REASONS4 | {"zero UDP checksum over IPv6"}
A4, B4 = IPv4Address("192.0.2.1"), IPv4Address("198.51.100.7")
A6, B6 = IPv6Address("2001:db8::1"), IPv6Address("2001:db8:ffff::2")
addresses = st.one_of(st.tuples(ipv4_addresses, ipv4_addresses), st.tuples(ipv6_addresses, ipv6_addresses))


def in_ip(src, dst, segment: bytes) -> bytes:
    """Wrap a UDP segment in our IPv4 or IPv6 header, for scapy to read whole."""
    if src.version == 4:
        return IPv4(src, dst, IPPROTO_UDP, segment).to_bytes()
    return IPv6(src, dst, IPPROTO_UDP, segment).to_bytes()


def scapy_ip(src, dst):
    if src.version == 4:
        return IP(src=str(src), dst=str(dst))
    return ScapyIPv6(src=str(src), dst=str(dst))


def parse_scapy(packet) -> Udp:
    wire = raw(packet)
    pkt = IPv4.parse(wire) if packet.version == 4 else IPv6.parse(wire)
    return Udp.parse(pkt.payload, pkt.src, pkt.dst)


def payload_making_checksum_zero(src, dst, sport: int, dport: int) -> bytes:
    """Two payload bytes that bring the one's complement sum to 0xFFFF, whose complement is zero."""
    head = struct.pack("!HHHH", sport, dport, 10, 0)
    rest = internet_checksum(head + b"\x00\x00", pseudo_header_sum(src, dst, IPPROTO_UDP, 10))
    return rest.to_bytes(2, "big")  # sum + ~sum = 0xFFFF


# --- scapy as the oracle ------------------------------------------------------------------

@ORACLE
@given(addresses, udp_datagrams)
def test_scapy_agrees_both_ways(addrs, datagram):
    """Ours built, scapy parses; scapy built, ours parses; and both build the same bytes."""
    src, dst = addrs
    ours = datagram.to_bytes(src, dst)
    sp = scapy_ip(src, dst).__class__(in_ip(src, dst, ours))
    udp = sp[UDP]
    assert (udp.sport, udp.dport, udp.len) == (datagram.sport, datagram.dport, 8 + len(datagram.payload))
    assert raw(udp.payload) == datagram.payload
    assert udp.chksum != 0
    assert scapy_recomputed(sp, UDP, "chksum") == udp.chksum
    theirs = scapy_ip(src, dst) / UDP(sport=datagram.sport, dport=datagram.dport) / Raw(datagram.payload)
    assert parse_scapy(theirs) == datagram
    assert raw(theirs[UDP]) == ours


@ORACLE
@given(addresses, u16, u16)
def test_computed_zero_is_sent_as_all_ones(addrs, sport, dport):
    """RFC 768: "If the computed checksum is zero, it is transmitted as all ones"; scapy does the same."""
    src, dst = addrs
    datagram = Udp(sport, dport, payload_making_checksum_zero(src, dst, sport, dport))
    wire = datagram.to_bytes(src, dst)
    assert wire[6:8] == b"\xff\xff"
    assert Udp.parse(wire, src, dst) == datagram
    theirs = scapy_ip(src, dst) / UDP(sport=sport, dport=dport) / Raw(datagram.payload)
    assert raw(theirs[UDP]) == wire


@ORACLE
@given(addresses, u16, u16, payloads)
def test_zero_checksum_rules(addrs, sport, dport, data):
    """A transmitted zero: over IPv4 "the transmitter generated no checksum" (RFC 768); over IPv6
    receivers "must discard UDP packets containing a zero checksum" (RFC 8200 section 8.1).
    """
    src, dst = addrs
    wire = raw(scapy_ip(src, dst) / UDP(sport=sport, dport=dport, chksum=0) / Raw(data))
    pkt = IPv4.parse(wire) if src.version == 4 else IPv6.parse(wire)
    assert pkt.payload[6:8] == b"\x00\x00"
    if src.version == 4:
        assert Udp.parse(pkt.payload, src, dst) == Udp(sport, dport, data)
        # Not checked at all: the same bytes are accepted between any pair of addresses.
        assert Udp.parse(pkt.payload, dst, IPv4Address("0.0.0.0")) == Udp(sport, dport, data)
    else:
        with pytest.raises(MalformedPacket, match="^zero UDP checksum over IPv6$"):
            Udp.parse(pkt.payload, src, dst)


# --- round trips and construction ----------------------------------------------------------

@FAST
@given(addresses, udp_datagrams, st.binary(max_size=20))
def test_round_trip(addrs, datagram, trailer):
    """parse(to_bytes(x)) == x over either family; bytes past the UDP length are not the datagram's."""
    src, dst = addrs
    wire = datagram.to_bytes(src, dst)
    assert len(wire) == 8 + len(datagram.payload)
    assert Udp.parse(wire, src, dst) == datagram
    assert Udp.parse(memoryview(wire + trailer), src, dst) == datagram


def test_longest_datagram_builds_and_longer_is_a_plain_value_error():
    assert Udp.parse(Udp(1, 2, b"\x00" * 65527).to_bytes(A6, B6), A6, B6) == Udp(1, 2, b"\x00" * 65527)
    with pytest.raises(ValueError) as excinfo:
        Udp(1, 2, b"\x00" * 65528).to_bytes(A4, B4)
    assert type(excinfo.value) is ValueError
    assert str(excinfo.value) == "UDP datagram longer than 65535 bytes"


def test_frozen_and_slotted():
    datagram = Udp(500, 500)
    with pytest.raises(FrozenInstanceError):
        datagram.sport = 4500  # type: ignore[misc]
    assert not hasattr(datagram, "__dict__")


# --- malformed input -----------------------------------------------------------------------

VALID4 = Udp(500, 4500, b"payload!").to_bytes(A4, B4)
VALID6 = Udp(500, 4500, b"payload!").to_bytes(A6, B6)
BOTH = [(VALID4, A4, B4), (VALID6, A6, B6)]


def with_word(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + value.to_bytes(2, "big") + data[offset + 2 :]


@pytest.mark.parametrize("valid, src, dst", BOTH)
@pytest.mark.parametrize("length", range(8))
def test_truncated_header(valid, src, dst, length):
    with pytest.raises(MalformedPacket, match="^truncated UDP header$"):
        Udp.parse(valid[:length], src, dst)


@pytest.mark.parametrize("valid, src, dst", BOTH)
@pytest.mark.parametrize("length", [0, 7, 17, 0xFFFF])
def test_bad_length(valid, src, dst, length):
    with pytest.raises(MalformedPacket, match="^bad UDP length$"):
        Udp.parse(with_word(valid, 4, length), src, dst)


@pytest.mark.parametrize("valid, src, dst", BOTH)
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 6, 7, 8, 15])
def test_bad_checksum(valid, src, dst, offset):
    data = bytearray(valid)
    data[offset] ^= 0x04
    with pytest.raises(MalformedPacket, match="^bad UDP checksum$"):
        Udp.parse(bytes(data), src, dst)


@pytest.mark.parametrize("valid, src, dst", BOTH)
def test_checksum_covers_the_pseudo_header(valid, src, dst):
    with pytest.raises(MalformedPacket, match="^bad UDP checksum$"):
        Udp.parse(valid, src, dst + 1)


@pytest.mark.parametrize("valid, src, dst", BOTH)
def test_shorter_udp_length_is_checked_over_that_length(valid, src, dst):
    """The checksum and payload both end at the UDP length; a stale checksum then fails."""
    with pytest.raises(MalformedPacket, match="^bad UDP checksum$"):
        Udp.parse(with_word(valid, 4, 12), src, dst)


@FAST
@given(st.one_of(
    st.tuples(hostile(udp_datagrams.map(lambda d: d.to_bytes(A4, B4))), st.just((A4, B4))),
    st.tuples(hostile(udp_datagrams.map(lambda d: d.to_bytes(A6, B6))), st.just((A6, B6))),
))
def test_hostile_input_raises_only_malformed_packet(case):
    data, (src, dst) = case
    parse_or_malformed(lambda d: Udp.parse(d, src, dst), data, REASONS4 if src.version == 4 else REASONS6)
