"""ipsecsim/packet/ipv4.py: RFC 791 headers checked against scapy, round trips, malformed input."""

from dataclasses import FrozenInstanceError, replace
from ipaddress import IPv4Address, IPv6Address
import struct

from hypothesis import given, strategies as st
import pytest
from scapy.compat import raw
from scapy.layers.inet import (
    IP, UDP, IPOption_LSRR, IPOption_NOP, IPOption_Router_Alert, IPOption_RR, IPOption_SSRR, fragment,
)
from scapy.packet import Raw

from ipsecsim.packet import IP_DF, IP_MF, IPPROTO_UDP, IPv4, IPv6, MalformedPacket, checksum_adjust16

from .helpers import (
    FAST, ORACLE, frag_offsets, hostile, ipv4_addresses, ipv4_packets, parse_or_malformed, payloads,
    scapy_recomputed, u8, u16,
)

REASONS = {"truncated IPv4 header", "not IPv4", "bad IPv4 header length", "bad IPv4 total length",
           "bad IPv4 header checksum"}
A, B = IPv4Address("192.0.2.1"), IPv4Address("198.51.100.7")


@st.composite
def scapy_options(draw) -> list:
    """Real options as scapy builds them (RFC 791 section 3.1, RFC 2113), at most 40 bytes padded."""
    routers = st.lists(ipv4_addresses.map(str), max_size=3)
    kinds = st.one_of(
        st.just(IPOption_NOP()), st.just(IPOption_Router_Alert()),
        routers.map(lambda r: IPOption_RR(routers=r)), routers.map(lambda r: IPOption_LSRR(routers=r)),
        routers.map(lambda r: IPOption_SSRR(routers=r)),
    )
    options, size = [], 0
    for option in draw(st.lists(kinds, max_size=4)):
        if size + len(raw(option)) <= 40:
            options.append(option)
            size += len(raw(option))
    return options


def scapy_flags(df: bool, mf: bool) -> int:
    return (2 if df else 0) | (1 if mf else 0)  # scapy's IP.flags: bit 1 is DF, bit 0 is MF


# --- scapy as the oracle ------------------------------------------------------------------

def assert_scapy_reads(pkt: IPv4, wire: bytes) -> None:
    """scapy parses ``wire`` to every field of ``pkt`` and computes the same header checksum."""
    sp = IP(wire)
    assert (sp.version, sp.ihl) == (4, pkt.header_length // 4)
    assert (sp.tos, sp.len, sp.id, sp.ttl, sp.proto) == (pkt.tos, len(wire), pkt.ident, pkt.ttl, pkt.proto)
    assert int(sp.flags) == scapy_flags(pkt.df, pkt.mf)
    assert sp.frag * 8 == pkt.frag_offset
    assert (sp.src, sp.dst) == (str(pkt.src), str(pkt.dst))
    assert b"".join(raw(option) for option in sp.options) == pkt.options
    assert raw(sp.payload) == pkt.payload
    assert scapy_recomputed(sp, IP, "chksum") == sp.chksum


@ORACLE
@given(
    src=ipv4_addresses, dst=ipv4_addresses, proto=u8, payload=payloads, ttl=u8, tos=u8, ident=u16,
    df=st.booleans(), mf=st.booleans(), frag_offset=frag_offsets, options=scapy_options(),
)
def test_scapy_agrees_both_ways(src, dst, proto, payload, ttl, tos, ident, df, mf, frag_offset, options):
    """Ours built, scapy parses; scapy built, ours parses; and both build the same bytes."""
    theirs = raw(IP(src=str(src), dst=str(dst), proto=proto, ttl=ttl, tos=tos, id=ident, flags=scapy_flags(df, mf),
                    frag=frag_offset // 8, options=options) / Raw(payload))
    option_bytes = raw(IP(options=options))[20:]  # scapy pads with EOL to a multiple of 4
    pkt = IPv4(src, dst, proto, payload, ttl=ttl, tos=tos, ident=ident, df=df, mf=mf, frag_offset=frag_offset,
               options=option_bytes)
    ours = pkt.to_bytes()
    assert_scapy_reads(pkt, ours)
    assert IPv4.parse(theirs) == pkt
    assert ours == theirs


@pytest.mark.parametrize(
    "df, mf, frag_offset",
    [(False, False, 0), (True, False, 0), (False, True, 0), (False, True, 1480), (False, False, 2960),
     (True, True, 8), (False, True, 0x1FFF * 8)],
)
def test_fragment_fields(df, mf, frag_offset):
    pkt = IPv4(A, B, IPPROTO_UDP, b"\x00" * 16, ident=0xBEEF, df=df, mf=mf, frag_offset=frag_offset)
    wire = pkt.to_bytes()
    assert struct.unpack_from("!H", wire, 6)[0] == frag_offset // 8 | (IP_DF if df else 0) | (IP_MF if mf else 0)
    assert_scapy_reads(pkt, wire)
    assert pkt.is_fragment == (mf or frag_offset != 0)
    theirs = IP(src=str(A), dst=str(B), proto=IPPROTO_UDP, id=0xBEEF, flags=scapy_flags(df, mf), frag=frag_offset // 8)
    assert IPv4.parse(raw(theirs / Raw(b"\x00" * 16))) == pkt


def test_options_record_route_and_router_alert():
    options = raw(IP(options=[IPOption_RR(routers=["10.0.0.1", "10.0.0.2"]), IPOption_Router_Alert()]))[20:]
    assert len(options) == 16  # 11 + 4, padded with one EOL
    pkt = IPv4(A, B, 2, b"igmp", options=options)
    assert pkt.header_length == 36 and pkt.total_length == 40
    assert_scapy_reads(pkt, pkt.to_bytes())
    assert [type(o) for o in IP(pkt.to_bytes()).options[:2]] == [IPOption_RR, IPOption_Router_Alert]


def test_we_reassemble_scapy_fragments():
    """scapy's fragment() as the oracle for offsets in 8-byte units and the MF bit."""
    datagram = IP(src=str(A), dst=str(B), id=4242) / UDP(sport=500, dport=4500) / Raw(bytes(range(256)) * 12)
    pieces = [IPv4.parse(raw(f)) for f in fragment(datagram, fragsize=1480)]
    assert len(pieces) == 3
    assert [p.mf for p in pieces] == [True, True, False]
    assert [p.frag_offset for p in pieces] == [0, 1480, 2960]
    assert {p.ident for p in pieces} == {4242}
    assert b"".join(p.payload for p in pieces) == raw(datagram)[20:]


# --- round trips and construction ----------------------------------------------------------

@FAST
@given(ipv4_packets, st.binary(max_size=46))
def test_round_trip(pkt, padding):
    """parse(to_bytes(x)) == x, from any bytes-like, ignoring link padding past the total length."""
    wire = pkt.to_bytes()
    assert len(wire) == pkt.total_length
    assert IPv4.parse(wire) == pkt
    assert IPv4.parse(bytearray(wire)) == pkt
    assert IPv4.parse(memoryview(wire + padding)) == pkt


@FAST
@given(ipv4_packets, st.integers(0, 65515 - 40))
def test_header_bytes(pkt, payload_length):
    assert pkt.header_bytes() == pkt.to_bytes()[: pkt.header_length]
    header = pkt.header_bytes(payload_length)
    assert struct.unpack_from("!H", header, 2)[0] == pkt.header_length + payload_length
    assert IPv4.parse(header + b"\x00" * payload_length) == replace(pkt, payload=b"\x00" * payload_length)


@FAST
@given(ipv4_packets.filter(lambda p: p.ttl > 0))
def test_forwarding_ttl_decrement_by_rfc1624(pkt):
    """ip_forward's incremental update of the TTL word gives the header a rebuild would."""
    wire = pkt.to_bytes()
    old_word, new_word = (pkt.ttl << 8) | pkt.proto, ((pkt.ttl - 1) << 8) | pkt.proto
    checksum = checksum_adjust16(struct.unpack_from("!H", wire, 10)[0], old_word, new_word)
    forwarded = wire[:8] + struct.pack("!BBH", pkt.ttl - 1, pkt.proto, checksum) + wire[12:]
    assert forwarded == replace(pkt, ttl=pkt.ttl - 1).to_bytes()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"options": b"\x01\x01\x01"}, "IPv4 options must be padded to 4 bytes, at most 40"),
        ({"options": b"\x01" * 44}, "IPv4 options must be padded to 4 bytes, at most 40"),
        ({"frag_offset": 1}, "IPv4 fragment offset must be a multiple of 8 bytes"),
        ({"frag_offset": 0x10000}, "IPv4 fragment offset must be at most 65528 bytes"),  # was silently MF
        ({"frag_offset": -8}, "IPv4 fragment offset must be at most 65528 bytes"),
        ({"payload": b"\x00" * 65516}, "IPv4 datagram longer than 65535 bytes"),
    ],
)
def test_local_misuse_is_a_plain_value_error(changes, message):
    """Building nonsense is our bug, not remote garbage: ValueError, never MalformedPacket."""
    with pytest.raises(ValueError) as excinfo:
        replace(IPv4(A, B, IPPROTO_UDP), **changes).to_bytes()
    assert type(excinfo.value) is ValueError
    assert str(excinfo.value) == message


def test_largest_datagram_builds():
    pkt = IPv4(A, B, IPPROTO_UDP, b"\x00" * 65515)
    assert IPv4.parse(pkt.to_bytes()) == pkt


def test_frozen_and_slotted():
    pkt = IPv4(A, B, IPPROTO_UDP)
    with pytest.raises(FrozenInstanceError):
        pkt.ttl = 1  # type: ignore[misc]
    assert not hasattr(pkt, "__dict__")


# --- malformed input -----------------------------------------------------------------------

VALID = IPv4(A, B, IPPROTO_UDP, b"payload!", ident=7, options=b"\x94\x04\x00\x00").to_bytes()  # Router Alert


def with_word(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + value.to_bytes(2, "big") + data[offset + 2 :]


@pytest.mark.parametrize("length", range(20))
def test_truncated_header(length):
    with pytest.raises(MalformedPacket, match="^truncated IPv4 header$"):
        IPv4.parse(VALID[:length])


@pytest.mark.parametrize("version", [0, 1, 5, 6, 15])
def test_bad_version(version):
    data = bytes([version << 4 | 6]) + VALID[1:]
    with pytest.raises(MalformedPacket) as excinfo:
        IPv4.parse(data)
    assert excinfo.value.reason == "not IPv4"


def test_ipv6_bytes_are_not_ipv4():
    data = IPv6(IPv6Address("2001:db8::1"), IPv6Address("2001:db8::2"), 59).to_bytes()
    with pytest.raises(MalformedPacket, match="^not IPv4$"):
        IPv4.parse(data)


@pytest.mark.parametrize("ihl", range(5))
def test_bad_header_length(ihl):
    with pytest.raises(MalformedPacket, match="^bad IPv4 header length$"):
        IPv4.parse(bytes([0x40 | ihl]) + VALID[1:])


@pytest.mark.parametrize(
    "total", [0, 19, 20, 23, len(VALID) + 1, 0xFFFF],  # below the 24-byte header, or past the data
)
def test_bad_total_length(total):
    with pytest.raises(MalformedPacket, match="^bad IPv4 total length$"):
        IPv4.parse(with_word(VALID, 2, total))


def test_header_length_beyond_data_is_a_bad_total_length():
    """IHL 15 says 60 bytes of header, but the datagram (and its total length) is 32 bytes."""
    with pytest.raises(MalformedPacket, match="^bad IPv4 total length$"):
        IPv4.parse(bytes([0x4F]) + VALID[1:])


@pytest.mark.parametrize("offset", [1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 19, 20, 23])
def test_bad_checksum(offset):
    """Any one-bit error in the header outside version/IHL/total length fails the header checksum."""
    data = bytearray(VALID)
    data[offset] ^= 0x01
    with pytest.raises(MalformedPacket, match="^bad IPv4 header checksum$"):
        IPv4.parse(bytes(data))


def test_payload_is_not_covered_by_the_header_checksum():
    data = bytearray(VALID)
    data[-1] ^= 0xFF
    assert IPv4.parse(bytes(data)).payload == b"payload" + bytes([ord("!") ^ 0xFF])


def test_negative_zero_checksum_is_accepted():
    """RFC 1624 section 5: a header whose checksum should be 0x0000 may carry 0xFFFF instead."""
    base = IPv4(A, B, IPPROTO_UDP, ident=0)
    rest = base.header_bytes()[10:12]  # complement of the other words' sum, so that ident fills it up
    pkt = replace(base, ident=int.from_bytes(rest, "big"))
    wire = pkt.to_bytes()
    assert wire[10:12] == b"\x00\x00"
    assert IPv4.parse(with_word(wire, 10, 0xFFFF)) == pkt


# Version 4 with any IHL and total length, to reach the checks past the version.
plausible_headers = st.builds(
    lambda vhl, total, rest: bytes([vhl, 0]) + total.to_bytes(2, "big") + rest,
    st.integers(0x40, 0x4F), u16, st.binary(max_size=80),
)


@FAST
@given(st.one_of(hostile(ipv4_packets.map(IPv4.to_bytes)), plausible_headers))
def test_hostile_input_raises_only_malformed_packet(data):
    parse_or_malformed(IPv4.parse, data, REASONS)
