"""ipsecsim/packet/ipv6.py: the RFC 8200 fixed and fragment headers against scapy, round trips, malformed input."""

from dataclasses import FrozenInstanceError
from ipaddress import IPv4Address, IPv6Address

from hypothesis import given, strategies as st
import pytest
from scapy.compat import raw
from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6 as ScapyIPv6, IPv6ExtHdrFragment, fragment6
from scapy.packet import Raw

from ipsecsim.packet import IPPROTO_FRAGMENT, IPPROTO_NONE, IPPROTO_UDP, IPv4, IPv6, IPv6Fragment, MalformedPacket

from .helpers import (
    FAST, ORACLE, frag_offsets, hostile, ipv6_addresses, ipv6_fragments, ipv6_packets, parse_or_malformed, payloads,
    u8, u32,
)

REASONS = {"truncated IPv6 header", "not IPv6", "bad IPv6 payload length"}
FRAGMENT_REASONS = {"truncated IPv6 fragment header"}
A, B = IPv6Address("2001:db8::1"), IPv6Address("2001:db8:ffff::2")
flow_labels = st.integers(0, 0xFFFFF)


# --- scapy as the oracle ------------------------------------------------------------------

@ORACLE
@given(src=ipv6_addresses, dst=ipv6_addresses, payload=payloads, hlim=u8, tc=u8, fl=flow_labels)
def test_scapy_agrees_both_ways(src, dst, payload, hlim, tc, fl):
    """Ours built, scapy parses; scapy built, ours parses; and both build the same bytes.

    The next header is No Next Header (59) so that scapy keeps the payload as raw bytes.
    """
    pkt = IPv6(src, dst, IPPROTO_NONE, payload, hop_limit=hlim, traffic_class=tc, flow_label=fl)
    ours = pkt.to_bytes()
    sp = ScapyIPv6(ours)
    assert (sp.version, sp.tc, sp.fl, sp.plen, sp.nh, sp.hlim) == (6, tc, fl, len(payload), IPPROTO_NONE, hlim)
    assert (IPv6Address(sp.src), IPv6Address(sp.dst)) == (src, dst)
    assert raw(sp.payload) == payload
    theirs = raw(ScapyIPv6(src=str(src), dst=str(dst), nh=IPPROTO_NONE, hlim=hlim, tc=tc, fl=fl) / Raw(payload))
    assert IPv6.parse(theirs) == pkt
    assert ours == theirs


@ORACLE
@given(nh=u8, offset=frag_offsets, m=st.booleans(), ident=u32, res1=u8, res2=st.integers(0, 3), payload=payloads)
def test_scapy_agrees_on_the_fragment_header(nh, offset, m, ident, res1, res2, payload):
    """Both ways, through an outer IPv6 header; RFC 8200 section 4.5: the reserved fields are "ignored on reception"."""
    fragment = IPv6Fragment(nh, offset, m, ident, payload)
    frag = ScapyIPv6(IPv6(A, B, IPPROTO_FRAGMENT, fragment.to_bytes()).to_bytes())[IPv6ExtHdrFragment]
    assert (frag.nh, frag.res1, frag.offset, frag.res2, frag.m, frag.id) == (nh, 0, offset // 8, 0, int(m), ident)
    assert frag.original[8:] == payload
    theirs = IPv6ExtHdrFragment(nh=nh, res1=res1, offset=offset // 8, res2=res2, m=int(m), id=ident) / Raw(payload)
    assert IPv6Fragment.parse(raw(theirs)) == fragment


def test_we_reassemble_scapy_fragments():
    """scapy's fragment6() as the oracle for the offset in 8-byte units and the M flag."""
    datagram = (ScapyIPv6(src=str(A), dst=str(B)) / IPv6ExtHdrFragment(id=0xC0FFEE)
                / UDP(sport=500, dport=4500) / Raw(bytes(range(256)) * 12))
    outer = [IPv6.parse(raw(f)) for f in fragment6(datagram, 1280)]
    assert {(p.src, p.dst, p.next_header) for p in outer} == {(A, B, IPPROTO_FRAGMENT)}
    pieces = [IPv6Fragment.parse(p.payload) for p in outer]
    assert len(pieces) == 3
    assert [p.more for p in pieces] == [True, True, False]
    assert {(p.ident, p.next_header) for p in pieces} == {(0xC0FFEE, IPPROTO_UDP)}
    offset = 0
    for piece in pieces:
        assert piece.offset == offset
        offset += len(piece.payload)
    assert b"".join(p.payload for p in pieces) == raw(datagram[UDP])


# --- round trips and construction ----------------------------------------------------------

@FAST
@given(ipv6_packets, st.binary(max_size=46), st.integers(0, 65535))
def test_round_trip(pkt, padding, payload_length):
    """parse(to_bytes(x)) == x, from any bytes-like, ignoring link padding past the payload length.

    header_bytes() is the first 40 bytes, and header_bytes(n) differs only in the payload length.
    """
    wire = pkt.to_bytes()
    assert len(wire) == pkt.total_length
    assert IPv6.parse(wire) == pkt
    assert IPv6.parse(bytearray(wire)) == pkt
    assert IPv6.parse(memoryview(wire + padding)) == pkt
    assert pkt.header_bytes() == wire[:40]
    assert pkt.header_bytes(payload_length) == wire[:4] + payload_length.to_bytes(2, "big") + wire[6:40]


@FAST
@given(ipv6_fragments)
def test_fragment_round_trip(fragment):
    wire = fragment.to_bytes()
    assert len(wire) == 8 + len(fragment.payload)
    assert IPv6Fragment.parse(wire) == fragment
    assert IPv6Fragment.parse(memoryview(wire)) == fragment


def test_largest_payload_builds():
    pkt = IPv6(A, B, IPPROTO_NONE, b"\x00" * 65535)
    assert IPv6.parse(pkt.to_bytes()) == pkt


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: IPv6(A, B, IPPROTO_NONE, b"\x00" * 65536).to_bytes(),
         "IPv6 payload longer than 65535 bytes (jumbograms are not modelled)"),
        (lambda: IPv6Fragment(IPPROTO_UDP, 1, False, 1).to_bytes(),
         "IPv6 fragment offset must be a multiple of 8 bytes"),
        # Both used to spill silently into the version nibble or the traffic class.
        (lambda: IPv6(A, B, IPPROTO_NONE, traffic_class=0x100).to_bytes(),
         "IPv6 traffic class is 8 bits and flow label 20 bits"),
        (lambda: IPv6(A, B, IPPROTO_NONE, flow_label=0x100000).header_bytes(),
         "IPv6 traffic class is 8 bits and flow label 20 bits"),
    ],
)
def test_local_misuse_is_a_plain_value_error(build, message):
    with pytest.raises(ValueError) as excinfo:
        build()
    assert type(excinfo.value) is ValueError
    assert str(excinfo.value) == message


def test_frozen_and_slotted():
    for obj in (IPv6(A, B, IPPROTO_NONE), IPv6Fragment(IPPROTO_UDP, 0, False, 1)):
        with pytest.raises(FrozenInstanceError):
            obj.next_header = 0  # type: ignore[misc]
        assert not hasattr(obj, "__dict__")


# --- malformed input -----------------------------------------------------------------------

VALID = IPv6(A, B, IPPROTO_UDP, b"payload!", traffic_class=0xB8, flow_label=0x12345).to_bytes()


@pytest.mark.parametrize("length", [0, 1, 4, 8, 39])
def test_truncated_header(length):
    with pytest.raises(MalformedPacket, match="^truncated IPv6 header$"):
        IPv6.parse(VALID[:length])


@pytest.mark.parametrize("version", [0, 4, 5, 7, 15])
def test_bad_version(version):
    with pytest.raises(MalformedPacket) as excinfo:
        IPv6.parse(bytes([version << 4 | VALID[0] & 0x0F]) + VALID[1:])
    assert excinfo.value.reason == "not IPv6"


def test_ipv4_bytes_are_not_ipv6():
    data = IPv4(IPv4Address("192.0.2.1"), IPv4Address("192.0.2.2"), IPPROTO_UDP, b"\x00" * 20).to_bytes()
    with pytest.raises(MalformedPacket, match="^not IPv6$"):
        IPv6.parse(data)


@pytest.mark.parametrize("payload_length", [9, 100, 0xFFFF])
def test_payload_length_beyond_data(payload_length):
    data = VALID[:4] + payload_length.to_bytes(2, "big") + VALID[6:]
    with pytest.raises(MalformedPacket, match="^bad IPv6 payload length$"):
        IPv6.parse(data)


def test_payload_length_shorter_than_data_drops_the_rest():
    data = VALID[:4] + (3).to_bytes(2, "big") + VALID[6:]
    assert IPv6.parse(data).payload == b"pay"


@pytest.mark.parametrize("length", range(8))
def test_truncated_fragment_header(length):
    with pytest.raises(MalformedPacket, match="^truncated IPv6 fragment header$"):
        IPv6Fragment.parse(IPv6Fragment(IPPROTO_UDP, 1480, True, 99, b"data").to_bytes()[:length])


@FAST
@given(hostile(ipv6_packets.map(IPv6.to_bytes)))
def test_hostile_input_raises_only_malformed_packet(data):
    parse_or_malformed(IPv6.parse, data, REASONS)


@FAST
@given(hostile(ipv6_fragments.map(IPv6Fragment.to_bytes)))
def test_hostile_fragment_headers_raise_only_malformed_packet(data):
    parse_or_malformed(IPv6Fragment.parse, data, FRAGMENT_REASONS)
