"""Shared by tests/packet/: Hypothesis strategies, the parse-or-MalformedPacket check, a scapy checksum oracle."""

from ipaddress import IPv4Address, IPv6Address

from hypothesis import settings, strategies as st

from ipsecsim.packet import IPv4, IPv6, IPv6Fragment, Icmp, Icmp6, MalformedPacket, Udp

# Two shared cores: about 200 examples a property and no deadline (a loaded machine is not a
# bug). Cross-checks through scapy cost 1-3 ms an example in scapy alone, and check field layout
# rather than search for edge cases, so they take half as many.
FAST = settings(max_examples=200, deadline=None)
ORACLE = settings(max_examples=100, deadline=None)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
ipv4_addresses = st.builds(IPv4Address, st.integers(0, 2**32 - 1))
ipv6_addresses = st.builds(IPv6Address, st.integers(0, 2**128 - 1))
payloads = st.binary(max_size=300)
frag_offsets = st.integers(0, 0x1FFF).map(lambda units: units * 8)  # 13 bits of 8-byte units

# Options are opaque to IPv4: any bytes, padded to 4 bytes, at most 40 (RFC 791).
ipv4_option_bytes = st.integers(0, 10).flatmap(lambda words: st.binary(min_size=4 * words, max_size=4 * words))

ipv4_packets = st.builds(
    IPv4, src=ipv4_addresses, dst=ipv4_addresses, proto=u8, payload=payloads, ttl=u8, tos=u8,
    ident=u16, df=st.booleans(), mf=st.booleans(), frag_offset=frag_offsets, options=ipv4_option_bytes,
)
ipv6_packets = st.builds(
    IPv6, src=ipv6_addresses, dst=ipv6_addresses, next_header=u8, payload=payloads,
    hop_limit=u8, traffic_class=u8, flow_label=st.integers(0, 0xFFFFF),
)
ipv6_fragments = st.builds(
    IPv6Fragment, next_header=u8, offset=frag_offsets, more=st.booleans(), ident=u32, payload=payloads,
)
icmp_messages = st.builds(Icmp, type=u8, code=u8, rest=u32, payload=payloads)
icmp6_messages = st.builds(Icmp6, type=u8, code=u8, rest=u32, payload=payloads)
udp_datagrams = st.builds(Udp, sport=u16, dport=u16, payload=payloads)


@st.composite
def damaged(draw, valid: st.SearchStrategy[bytes]) -> bytes:
    """A valid encoding with a few bits flipped or bytes overwritten, and half the time cut short."""
    data = bytearray(draw(valid))
    if data:
        for bit in draw(st.lists(st.integers(0, len(data) * 8 - 1), max_size=3)):
            data[bit // 8] ^= 0x80 >> (bit % 8)
        for index, value in draw(st.lists(st.tuples(st.integers(0, len(data) - 1), u8), max_size=2)):
            data[index] = value
    return bytes(data[: draw(st.one_of(st.just(len(data)), st.integers(0, len(data))))])


def hostile(valid: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Input from a peer we cannot trust: arbitrary bytes, or damaged encodings that get past the first checks."""
    return st.one_of(st.binary(max_size=80), damaged(valid))


def parse_or_malformed(parse, data, reasons: set[str]):
    """The h11 invariant: ``data`` parses, or ``parse`` raises MalformedPacket with a known reason.

    Any other exception (IndexError, struct.error, a bare ValueError) propagates and fails the test.
    Returns the parsed object, or None.
    """
    try:
        return parse(data)
    except MalformedPacket as exc:
        assert type(exc) is MalformedPacket
        assert exc.reason in reasons, exc.reason
        assert str(exc) == exc.reason
        return None


def scapy_recomputed(packet, layer, field: str) -> int:
    """The checksum scapy computes for ``layer`` of ``packet`` when the field is left for it to fill."""
    clone = packet.copy()
    delattr(clone[layer], field)
    return getattr(packet.__class__(bytes(clone))[layer], field)
