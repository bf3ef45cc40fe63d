"""ipsecsim/packet/checksum.py and pseudo.py: RFC 1071, RFC 1624 and the pseudo-headers of RFC 768 / RFC 8200."""

from ipaddress import IPv4Address, IPv6Address
import struct

from hypothesis import assume, given, strategies as st
import pytest
from scapy.utils import checksum as scapy_checksum

from ipsecsim.packet import checksum_adjust16, internet_checksum, pseudo_header_sum

from .helpers import FAST, ipv4_addresses, ipv6_addresses, u8, u16


def reference_checksum(data: bytes, initial: int = 0) -> int:
    """RFC 1071 section 4.1's C loop, transcribed: add 16-bit words, fold the carries, complement."""
    if len(data) % 2:
        data += b"\x00"  # "Add left-over byte, if any"
    total = initial
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
    while total >> 16:  # "Fold 32-bit sum to 16 bits"
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# RFC 1071 section 3, "Numerical Examples": bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (after the
# end-around carries 2ddf0 -> ddf2), so the checksum is ~ddf2 = 220d.
RFC1071_EXAMPLE = bytes.fromhex("0001f203f4f5f6f7")


def test_rfc1071_numerical_example():
    assert internet_checksum(RFC1071_EXAMPLE) == 0x220D
    assert reference_checksum(RFC1071_EXAMPLE) == 0x220D
    assert scapy_checksum(RFC1071_EXAMPLE) == 0x220D


def test_rfc1071_byte_order_independence():
    """RFC 1071 section 2(B) and the swapped column of section 3: swapping bytes swaps the sum."""
    swapped = bytes(b for pair in zip(RFC1071_EXAMPLE[1::2], RFC1071_EXAMPLE[::2]) for b in pair)
    assert internet_checksum(swapped) == 0x0D22


def test_rfc1071_example_verifies_once_checksum_is_inserted():
    """Section 1: summed with its checksum the data gives all ones (-0), so the check yields zero."""
    assert internet_checksum(RFC1071_EXAMPLE + (0x220D).to_bytes(2, "big")) == 0


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", 0xFFFF),
        (b"\x00\x00", 0xFFFF),
        (b"\x00", 0xFFFF),
        (b"\x01", 0xFEFF),  # an odd byte is the high half of a word padded with zero
        (b"\xff\xff", 0x0000),  # a non-zero sum of all ones (-0) complements to zero
        (b"\xff\xff\xff\xff", 0x0000),
        (b"\x00\x01\xff\xfe", 0x0000),  # 1 + 0xfffe = 0xffff: a non-zero multiple of 0xffff
        (b"\x80\x00\x80\x00", 0xFFFE),  # 0x10000 folds to 0x0001
    ],
)
def test_edge_values(data, expected):
    assert reference_checksum(data) == expected
    assert internet_checksum(data) == expected


@FAST
@given(st.binary(max_size=2000), st.one_of(st.just(0), st.integers(0, 2**320)))
def test_matches_reference_loop(data, initial):
    """Any data, and any partial sum to start from (a pseudo-header's is up to 40 bytes wide)."""
    expected = reference_checksum(data, initial)
    assert internet_checksum(data, initial) == expected
    assert internet_checksum(bytearray(data), initial) == expected
    assert internet_checksum(memoryview(b"xx" + data)[2:], initial) == expected


@FAST
@given(st.binary(max_size=200).map(lambda b: b + b"\x00" * (len(b) % 2)))
def test_data_with_its_checksum_appended_verifies(data):
    assume(any(data))
    assert internet_checksum(data + internet_checksum(data).to_bytes(2, "big")) == 0


@FAST
@given(st.binary(max_size=200).map(lambda b: b + b"\x00" * (len(b) % 2)))
def test_byte_order_independence(data):
    swapped = bytes(b for pair in zip(data[1::2], data[::2]) for b in pair)
    value = internet_checksum(data)
    assert internet_checksum(swapped) == ((value & 0xFF) << 8) | (value >> 8)


# --- RFC 1624: incremental update --------------------------------------------------------

def rfc1141_update(checksum: int, old_word: int, new_word: int) -> int:
    """RFC 1624's eqn. 2, HC' = HC + m + ~m' (RFC 1141): the update RFC 1624 replaced."""
    total = checksum + old_word + (~new_word & 0xFFFF)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def test_rfc1624_section4_example():
    """RFC 1624 section 4: m = 0x5555 -> m' = 0x3285, other words sum to 0xCD7A.

    Recomputation gives HC' = ~(0xCD7A + 0x3285) = ~0xFFFF = 0x0000, and eqn. 3 must agree;
    RFC 1141's eqn. 2 gives 0xFFFF here, the boundary case RFC 1624 was written for.
    """
    assert internet_checksum(struct.pack("!HH", 0xCD7A, 0x5555)) == 0xDD2F
    assert internet_checksum(struct.pack("!HH", 0xCD7A, 0x3285)) == 0x0000
    assert checksum_adjust16(0xDD2F, 0x5555, 0x3285) == 0x0000
    assert rfc1141_update(0xDD2F, 0x5555, 0x3285) == 0xFFFF  # what this test exists to catch


_HEADER = struct.Struct("!BBHHHBBH4s4s")


def ipv4_header(ttl: int, proto: int, ident: int, *, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02",
                checksum: int | None = None) -> bytes:
    """A 20-byte IPv4 header built with struct and summed with the reference loop."""
    header = _HEADER.pack(0x45, 0, 84, ident, 0x4000, ttl, proto, 0, src, dst)
    if checksum is None:
        checksum = reference_checksum(header)
    return header[:10] + checksum.to_bytes(2, "big") + header[12:]


def forward(header: bytes, new_ttl: int) -> bytes:
    """What ip_forward does: rewrite the TTL word and adjust the checksum by RFC 1624 eqn. 3."""
    ttl, proto, old = struct.unpack_from("!BBH", header, 8)
    new = checksum_adjust16(old, (ttl << 8) | proto, (new_ttl << 8) | proto)
    return header[:8] + struct.pack("!BBH", new_ttl, proto, new) + header[12:]


def ident_giving_checksum_zero(ttl: int, proto: int) -> int:
    """The ident that brings the header's sum to 0xFFFF (-0), so that its checksum is 0x0000.

    With ident 0 the checksum is ~S; putting ~S in the ident makes the sum S + ~S = 0xFFFF.
    """
    return reference_checksum(ipv4_header(ttl, proto, 0, checksum=0))


@FAST
@given(ttl=u8, new_ttl=st.one_of(st.none(), u8), proto=u8, ident=u16, src=st.binary(min_size=4, max_size=4),
       dst=st.binary(min_size=4, max_size=4))
def test_ttl_change_equals_recomputation(ttl, new_ttl, proto, ident, src, dst):
    """A forwarding decrement (or any TTL rewrite) updated by eqn. 3 equals the header rebuilt."""
    new_ttl = (ttl - 1) % 256 if new_ttl is None else new_ttl
    after = forward(ipv4_header(ttl, proto, ident, src=src, dst=dst), new_ttl)
    assert after == ipv4_header(new_ttl, proto, ident, src=src, dst=dst)
    assert reference_checksum(after) == 0


@pytest.mark.parametrize("ttl, proto", [(64, 17), (1, 50), (255, 1), (2, 0)])
def test_ttl_decrement_to_checksum_zero(ttl, proto):
    """The RFC 1624 case: the new header's checksum is 0x0000, never 0xFFFF."""
    ident = ident_giving_checksum_zero(ttl - 1, proto)
    after = forward(ipv4_header(ttl, proto, ident), ttl - 1)
    assert after[10:12] == b"\x00\x00"
    assert after == ipv4_header(ttl - 1, proto, ident)


@pytest.mark.parametrize("ttl, proto", [(64, 17), (1, 50), (255, 1), (2, 0)])
def test_ttl_decrement_from_checksum_zero(ttl, proto):
    """Starting from a header whose checksum is 0x0000 (~HC = 0xFFFF in eqn. 3)."""
    ident = ident_giving_checksum_zero(ttl, proto)
    before = ipv4_header(ttl, proto, ident)
    assert before[10:12] == b"\x00\x00"
    assert forward(before, ttl - 1) == ipv4_header(ttl - 1, proto, ident)


@pytest.mark.parametrize("ttl, proto", [(64, 17), (2, 50), (255, 1), (3, 0)])
def test_ttl_decrement_from_negative_zero_checksum(ttl, proto):
    """RFC 1624 section 5: a router using eqn. 2 (RFC 1141) may emit 0xFFFF where 0x0000 is right.

    The header still verifies (a receiver compares the sum against -0), and the next router's
    eqn. 3 update from it gives the recomputed checksum again.
    """
    ident = ident_giving_checksum_zero(ttl - 1, proto)
    checksum = int.from_bytes(ipv4_header(ttl, proto, ident)[10:12], "big")
    assert rfc1141_update(checksum, (ttl << 8) | proto, ((ttl - 1) << 8) | proto) == 0xFFFF
    sent = ipv4_header(ttl - 1, proto, ident, checksum=0xFFFF)
    assert internet_checksum(sent) == 0
    assert forward(sent, ttl - 2) == ipv4_header(ttl - 2, proto, ident)


@FAST
@given(st.integers(0, 0xFFFE), u16)
def test_unchanged_word_leaves_the_checksum_alone(checksum, word):
    """RFC 1624 erratum 4782 feared eqn. 3 turns 0x0000 into 0xFFFF when m' == m; done in
    16-bit one's complement (erratum 5865) it does not, for any checksum a header can carry.
    """
    assert checksum_adjust16(checksum, word, word) == checksum


@FAST
@given(st.lists(u16, min_size=1, max_size=40), st.data())
def test_any_word_change_equals_recomputation(words, data):
    """Eqn. 3 for any word of any buffer, as long as the result is not all zero words."""
    index = data.draw(st.integers(0, len(words) - 1))
    new_word = data.draw(u16)
    changed = words[:index] + [new_word] + words[index + 1 :]
    assume(any(changed))
    old_sum = internet_checksum(struct.pack(f"!{len(words)}H", *words))
    expected = internet_checksum(struct.pack(f"!{len(changed)}H", *changed))
    assert checksum_adjust16(old_sum, words[index], new_word) == expected


# --- pseudo-headers ------------------------------------------------------------------------

def ipv4_pseudo_header(src: IPv4Address, dst: IPv4Address, proto: int, length: int) -> bytes:
    """RFC 768: source, destination, zero, protocol, UDP length."""
    return src.packed + dst.packed + bytes([0, proto]) + length.to_bytes(2, "big")


def ipv6_pseudo_header(src: IPv6Address, dst: IPv6Address, proto: int, length: int) -> bytes:
    """RFC 8200 section 8.1: source, destination, 32-bit upper-layer length, three zeros, next header."""
    return src.packed + dst.packed + length.to_bytes(4, "big") + bytes([0, 0, 0, proto])


@FAST
@given(st.one_of(st.tuples(ipv4_addresses, ipv4_addresses), st.tuples(ipv6_addresses, ipv6_addresses)), u8,
       st.binary(max_size=300), u16)
def test_pseudo_header_sum(addrs, proto, data, length):
    """Starting from pseudo_header_sum equals summing the pseudo-header bytes with the data."""
    src, dst = addrs
    header = (ipv4_pseudo_header if src.version == 4 else ipv6_pseudo_header)(src, dst, proto, length)
    assert internet_checksum(data, pseudo_header_sum(src, dst, proto, length)) == reference_checksum(header + data)


def test_ipv6_pseudo_header_length_is_32_bits():
    """RFC 8200 section 8.1: the upper-layer packet length is a 32-bit field (jumbograms)."""
    src, dst = IPv6Address("2001:db8::1"), IPv6Address("2001:db8::2")
    for length in (0x10000, 0xFFFF_FFFF):
        expected = reference_checksum(ipv6_pseudo_header(src, dst, 17, length) + b"data")
        assert internet_checksum(b"data", pseudo_header_sum(src, dst, 17, length)) == expected
