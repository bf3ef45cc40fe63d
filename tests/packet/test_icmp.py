"""ipsecsim/packet/icmp.py: ICMP (RFC 792, RFC 1191) and ICMPv6 (RFC 4443) against scapy."""

from dataclasses import FrozenInstanceError
from ipaddress import IPv6Address

from hypothesis import given, strategies as st
import pytest
from scapy.compat import raw
from scapy.layers.inet import ICMP, IP, UDP, IPerror, icmpcodes, icmptypes
from scapy.layers.inet6 import (
    ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig, ICMPv6TimeExceeded,
    IPerror6, IPv6 as ScapyIPv6, icmp6types,
)
from scapy.packet import Raw

import ipsecsim.packet as P
from ipsecsim.packet import IPPROTO_ICMPV6, Icmp, Icmp6, IPv6, MalformedPacket

from .helpers import (
    FAST, ORACLE, hostile, icmp6_messages, icmp_messages, ipv6_addresses, parse_or_malformed, payloads,
    scapy_recomputed, u8, u16, u32,
)

REASONS = {"truncated ICMP header", "bad ICMP checksum"}
REASONS6 = {"truncated ICMPv6 header", "bad ICMPv6 checksum"}
A4, B4 = "192.0.2.1", "198.51.100.7"
A6, B6 = IPv6Address("2001:db8::1"), IPv6Address("2001:db8:ffff::2")

# What an error quotes: the offending datagram's header and first 8 payload bytes (RFC 792), or
# as much of it as fits in the minimum MTU (RFC 4443 section 3).
QUOTE4 = raw(IP(src=B4, dst=A4, id=77) / UDP(sport=33434, dport=33435) / Raw(b"traceroute"))[:28]
QUOTE6 = raw(ScapyIPv6(src=str(B6), dst=str(A6), hlim=1) / UDP(sport=33434, dport=33435) / Raw(b"traceroute"))


def test_icmp_constants_match_scapys_tables():
    """FreeBSD's names (netinet/ip_icmp.h) against scapy's independent type and code tables."""
    assert {icmptypes[t] for t in (P.ICMP_ECHOREPLY, P.ICMP_UNREACH, P.ICMP_ECHO, P.ICMP_TIMXCEED)} == {
        "echo-reply", "dest-unreach", "echo-request", "time-exceeded"}
    unreach = icmpcodes[P.ICMP_UNREACH]
    assert unreach[P.ICMP_UNREACH_NET] == "network-unreachable"
    assert unreach[P.ICMP_UNREACH_HOST] == "host-unreachable"
    assert unreach[P.ICMP_UNREACH_PROTOCOL] == "protocol-unreachable"
    assert unreach[P.ICMP_UNREACH_PORT] == "port-unreachable"
    assert unreach[P.ICMP_UNREACH_NEEDFRAG] == "fragmentation-needed"
    assert unreach[P.ICMP_UNREACH_FILTER_PROHIB] == "communication-prohibited"
    assert icmpcodes[P.ICMP_TIMXCEED][P.ICMP_TIMXCEED_INTRANS] == "ttl-zero-during-transit"
    assert icmpcodes[P.ICMP_TIMXCEED][P.ICMP_TIMXCEED_REASS] == "ttl-zero-during-reassembly"


def test_icmp6_constants_match_scapys_tables():
    """FreeBSD's names (netinet/icmp6.h) against scapy's RFC 4443 tables."""
    assert icmp6types[P.ICMP6_DST_UNREACH] == "Destination unreachable"
    assert icmp6types[P.ICMP6_PACKET_TOO_BIG] == "Packet too big"
    assert icmp6types[P.ICMP6_TIME_EXCEEDED] == "Time exceeded"
    assert icmp6types[P.ICMP6_PARAM_PROB] == "Parameter problem"
    assert icmp6types[P.ICMP6_ECHO_REQUEST] == "Echo Request"
    assert icmp6types[P.ICMP6_ECHO_REPLY] == "Echo Reply"
    unreach = ICMPv6DestUnreach.fields_desc[1].i2s
    assert unreach[P.ICMP6_DST_UNREACH_NOROUTE] == "No route to destination"
    assert unreach[P.ICMP6_DST_UNREACH_ADMIN] == "Communication with destination administratively prohibited"
    assert unreach[P.ICMP6_DST_UNREACH_ADDR] == "Address unreachable"
    assert unreach[P.ICMP6_DST_UNREACH_NOPORT] == "Port unreachable"
    exceeded = ICMPv6TimeExceeded.fields_desc[1].i2s
    assert exceeded[P.ICMP6_TIME_EXCEED_TRANSIT] == "hop limit exceeded in transit"
    assert exceeded[P.ICMP6_TIME_EXCEED_REASSEMBLY] == "fragment reassembly time exceeded"


# --- ICMP, with scapy as the oracle -------------------------------------------------------

def scapy_reads(message: Icmp) -> ICMP:
    """scapy parses our bytes to the same type and code and computes the same checksum."""
    sp = ICMP(message.to_bytes())
    assert (sp.type, sp.code) == (message.type, message.code)
    assert scapy_recomputed(sp, ICMP, "chksum") == sp.chksum
    return sp


@ORACLE
@given(st.sampled_from([P.ICMP_ECHO, P.ICMP_ECHOREPLY]), u16, u16, payloads)
def test_echo_both_ways(type_, ident, seq, data):
    """Ours built, scapy parses; scapy built, ours parses; and both build the same bytes."""
    message = Icmp(type_, 0, ident << 16 | seq, data)
    sp = scapy_reads(message)
    assert (sp.id, sp.seq) == (ident, seq) == (message.ident, message.seq)
    assert raw(sp.payload) == data
    theirs = raw(ICMP(type=type_, id=ident, seq=seq) / Raw(data))
    assert Icmp.parse(theirs) == message
    assert message.to_bytes() == theirs
    if type_ == P.ICMP_ECHO:
        assert Icmp.echo_request(ident, seq, data) == message


@pytest.mark.parametrize(
    "type_, code",
    [(P.ICMP_UNREACH, P.ICMP_UNREACH_NET), (P.ICMP_UNREACH, P.ICMP_UNREACH_HOST),
     (P.ICMP_UNREACH, P.ICMP_UNREACH_PROTOCOL), (P.ICMP_UNREACH, P.ICMP_UNREACH_PORT),
     (P.ICMP_UNREACH, P.ICMP_UNREACH_FILTER_PROHIB),
     (P.ICMP_TIMXCEED, P.ICMP_TIMXCEED_INTRANS), (P.ICMP_TIMXCEED, P.ICMP_TIMXCEED_REASS)],
)
def test_errors_both_ways(type_, code):
    message = Icmp(type_, code, 0, QUOTE4)
    sp = scapy_reads(message)
    assert (sp.reserved, sp.length) == (0, 0)  # RFC 792 "unused"; RFC 4884 length of an original datagram
    quoted = sp[IPerror]
    assert (quoted.src, quoted.dst, quoted.id) == (B4, A4, 77)
    assert raw(quoted) == QUOTE4
    theirs = raw(ICMP(type=type_, code=code) / IPerror(QUOTE4))
    assert Icmp.parse(theirs) == message
    assert message.to_bytes() == theirs


@ORACLE
@given(u16, st.one_of(st.just(0), u8))
def test_needfrag_both_ways(mtu, reserved):
    """RFC 1191 section 4: the next-hop MTU is the low-order 16 bits of the second word.

    The high-order 16 bits are unused, so what a sender leaves in them does not change the MTU.
    """
    message = Icmp.needfrag(mtu, QUOTE4)
    sp = scapy_reads(message)
    assert (sp.type, sp.code, sp.reserved, sp.length, sp.nexthopmtu) == (3, 4, 0, 0, mtu)
    assert message.mtu == mtu
    assert raw(sp[IPerror]) == QUOTE4
    theirs = Icmp.parse(raw(ICMP(type=3, code=4, reserved=reserved, nexthopmtu=mtu) / IPerror(QUOTE4)))
    assert (theirs.type, theirs.code, theirs.mtu, theirs.payload) == (3, 4, mtu, QUOTE4)
    assert (theirs == message) == (reserved == 0)


def test_needfrag_from_a_pre_rfc1191_router_has_mtu_zero():
    assert Icmp.parse(raw(ICMP(type=3, code=4) / IPerror(QUOTE4))).mtu == 0


# --- ICMPv6, with scapy as the oracle -----------------------------------------------------

def scapy_reads6(message: Icmp6, layer, src=A6, dst=B6):
    """scapy parses our bytes, inside our IPv6 header, and computes the same checksum."""
    sp = ScapyIPv6(IPv6(src, dst, IPPROTO_ICMPV6, message.to_bytes(src, dst)).to_bytes())
    icmp = sp[layer]
    assert (icmp.type, icmp.code) == (message.type, message.code)
    assert scapy_recomputed(sp, layer, "cksum") == icmp.cksum
    return icmp


def parse_theirs6(layers, src=A6, dst=B6) -> tuple[Icmp6, bytes]:
    """Parse scapy's bytes with ours: the IPv6 header, then the message against its pseudo-header."""
    wire = raw(ScapyIPv6(src=str(src), dst=str(dst)) / layers)
    pkt = IPv6.parse(wire)
    assert pkt.next_header == IPPROTO_ICMPV6
    return Icmp6.parse(pkt.payload, pkt.src, pkt.dst), pkt.payload


@ORACLE
@given(ipv6_addresses, ipv6_addresses, st.booleans(), u16, u16, payloads)
def test_echo6_both_ways(src, dst, request, ident, seq, data):
    type_, layer = (P.ICMP6_ECHO_REQUEST, ICMPv6EchoRequest) if request else (P.ICMP6_ECHO_REPLY, ICMPv6EchoReply)
    message = Icmp6(type_, 0, ident << 16 | seq, data)
    icmp = scapy_reads6(message, layer, src, dst)
    assert (icmp.id, icmp.seq, icmp.data) == (ident, seq, data) == (message.ident, message.seq, message.payload)
    theirs, wire = parse_theirs6(layer(id=ident, seq=seq, data=data), src, dst)
    assert theirs == message
    assert message.to_bytes(src, dst) == wire
    if request:
        assert Icmp6.echo_request(ident, seq, data) == message


@pytest.mark.parametrize(
    "type_, code, layer",
    [(1, P.ICMP6_DST_UNREACH_NOROUTE, ICMPv6DestUnreach), (1, P.ICMP6_DST_UNREACH_ADMIN, ICMPv6DestUnreach),
     (1, P.ICMP6_DST_UNREACH_ADDR, ICMPv6DestUnreach), (1, P.ICMP6_DST_UNREACH_NOPORT, ICMPv6DestUnreach),
     (3, P.ICMP6_TIME_EXCEED_TRANSIT, ICMPv6TimeExceeded), (3, P.ICMP6_TIME_EXCEED_REASSEMBLY, ICMPv6TimeExceeded)],
)
def test_errors6_both_ways(type_, code, layer):
    message = Icmp6(type_, code, 0, QUOTE6)
    icmp = scapy_reads6(message, layer)
    assert (icmp.length, icmp.unused) == (0, 0)
    assert raw(icmp[IPerror6]) == QUOTE6
    theirs, wire = parse_theirs6(layer(code=code) / IPerror6(QUOTE6))
    assert theirs == message
    assert message.to_bytes(A6, B6) == wire


@ORACLE
@given(u32)
def test_packet_too_big_both_ways(mtu):
    """RFC 4443 section 3.2: the MTU is the whole 32-bit second word."""
    message = Icmp6.packet_too_big(mtu, QUOTE6)
    icmp = scapy_reads6(message, ICMPv6PacketTooBig)
    assert icmp.mtu == mtu == message.mtu
    assert raw(icmp[IPerror6]) == QUOTE6
    theirs, wire = parse_theirs6(ICMPv6PacketTooBig(mtu=mtu) / IPerror6(QUOTE6))
    assert theirs == message
    assert message.to_bytes(A6, B6) == wire


# --- round trips ---------------------------------------------------------------------------

@FAST
@given(icmp_messages)
def test_round_trip(message):
    wire = message.to_bytes()
    assert Icmp.parse(wire) == message
    assert Icmp.parse(memoryview(wire)) == message
    rest = message.rest
    assert (message.ident, message.seq, message.mtu) == (rest >> 16, rest & 0xFFFF, rest & 0xFFFF)


@FAST
@given(icmp6_messages, ipv6_addresses, ipv6_addresses)
def test_round_trip6(message, src, dst):
    wire = message.to_bytes(src, dst)
    assert Icmp6.parse(wire, src, dst) == message
    assert Icmp6.parse(bytearray(wire), src, dst) == message
    assert message.mtu == message.rest


def test_frozen_and_slotted():
    for message in (Icmp.echo_request(1, 2), Icmp6.echo_request(1, 2)):
        with pytest.raises(FrozenInstanceError):
            message.code = 1  # type: ignore[misc]
        assert not hasattr(message, "__dict__")


# --- malformed input -----------------------------------------------------------------------

@pytest.mark.parametrize("length", range(8))
def test_truncated_header(length):
    with pytest.raises(MalformedPacket, match="^truncated ICMP header$"):
        Icmp.parse(Icmp.echo_request(1, 2, b"hello").to_bytes()[:length])


@pytest.mark.parametrize("length", range(8))
def test_truncated_header6(length):
    with pytest.raises(MalformedPacket, match="^truncated ICMPv6 header$"):
        Icmp6.parse(Icmp6.echo_request(1, 2, b"hello").to_bytes(A6, B6)[:length], A6, B6)


@pytest.mark.parametrize("offset", range(13))
def test_bad_checksum(offset):
    data = bytearray(Icmp.echo_request(1, 2, b"hello").to_bytes())
    data[offset] ^= 0x10
    with pytest.raises(MalformedPacket, match="^bad ICMP checksum$"):
        Icmp.parse(bytes(data))


def test_all_zero_message_is_a_bad_checksum():
    """Zero is not a valid ICMP checksum: an all-zero header sums to 0xFFFF."""
    with pytest.raises(MalformedPacket, match="^bad ICMP checksum$"):
        Icmp.parse(bytes(8))
    assert Icmp(P.ICMP_ECHOREPLY).to_bytes() == b"\x00\x00\xff\xff\x00\x00\x00\x00"


@pytest.mark.parametrize("offset", range(13))
def test_bad_checksum6(offset):
    data = bytearray(Icmp6.echo_request(1, 2, b"hello").to_bytes(A6, B6))
    data[offset] ^= 0x10
    with pytest.raises(MalformedPacket, match="^bad ICMPv6 checksum$"):
        Icmp6.parse(bytes(data), A6, B6)


def test_icmp6_checksum_covers_the_pseudo_header():
    """RFC 4443 section 2.3: a message delivered to the wrong address fails its checksum.

    (Swapping source and destination cannot be caught: the sum does not depend on word order.)
    """
    wire = Icmp6.packet_too_big(1280, QUOTE6).to_bytes(A6, B6)
    assert Icmp6.parse(wire, B6, A6) == Icmp6.packet_too_big(1280, QUOTE6)
    for src, dst in [(A6, IPv6Address("2001:db8:ffff::3")), (IPv6Address("2001:db8::5"), B6)]:
        with pytest.raises(MalformedPacket, match="^bad ICMPv6 checksum$"):
            Icmp6.parse(wire, src, dst)


@FAST
@given(hostile(icmp_messages.map(Icmp.to_bytes)))
def test_hostile_input_raises_only_malformed_packet(data):
    parse_or_malformed(Icmp.parse, data, REASONS)


@FAST
@given(hostile(icmp6_messages.map(lambda m: m.to_bytes(A6, B6))), ipv6_addresses)
def test_hostile_input6_raises_only_malformed_packet(data, src):
    parse_or_malformed(lambda d: Icmp6.parse(d, A6, B6), data, REASONS6)
    parse_or_malformed(lambda d: Icmp6.parse(d, src, B6), data, REASONS6)
