"""The pseudo-header that UDP and ICMPv6 checksums cover (RFC 768, RFC 8200 8.1)."""

from ipaddress import IPv4Address, IPv6Address
import struct

__all__ = ["pseudo_header_sum"]

_V4_TAIL = struct.Struct("!xBH")
_V6_TAIL = struct.Struct("!I3xB")


def pseudo_header_sum(src: IPv4Address | IPv6Address, dst: IPv4Address | IPv6Address, proto: int, length: int) -> int:
    """A value to pass as ``internet_checksum(..., initial=)``.

    Any integer congruent to the sum of the pseudo-header's 16-bit words modulo
    0xFFFF will do, and the pseudo-header read as one big-endian integer is one.
    """
    if src.version == 4:
        tail = _V4_TAIL.pack(proto, length)
    else:
        tail = _V6_TAIL.pack(length, proto)
    return int.from_bytes(src.packed + dst.packed + tail, "big")
