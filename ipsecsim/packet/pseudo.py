"""The pseudo-header that UDP and ICMPv6 checksums cover (RFC 768, RFC 8200 8.1)."""

from ipaddress import IPv4Address, IPv6Address

__all__ = ["pseudo_header_sum"]


def pseudo_header_sum(src: IPv4Address | IPv6Address, dst: IPv4Address | IPv6Address, proto: int, length: int) -> int:
    """A value to pass as ``internet_checksum(..., initial=)``.

    Any integer congruent to the sum of the pseudo-header's 16-bit words modulo
    0xFFFF will do. An address read as one integer is congruent to the sum of its
    16-bit words (2^16 == 1 mod 0xFFFF), and the remaining words are the protocol
    and the length, in either layout (IPv4's or IPv6's), so no bytes need building.
    """
    return int(src) + int(dst) + proto + length
