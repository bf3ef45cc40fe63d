"""ICMP for IPv4 (RFC 792, RFC 1191) and ICMPv6 (RFC 4443)."""

from dataclasses import dataclass
from ipaddress import IPv6Address
import struct
from typing import Final

from .checksum import internet_checksum
from .errors import MalformedPacket
from .pseudo import pseudo_header_sum

__all__ = [
    "Icmp", "Icmp6",
    "ICMP_ECHOREPLY", "ICMP_UNREACH", "ICMP_ECHO", "ICMP_TIMXCEED",
    "ICMP_UNREACH_NET", "ICMP_UNREACH_HOST", "ICMP_UNREACH_PROTOCOL", "ICMP_UNREACH_PORT",
    "ICMP_UNREACH_NEEDFRAG", "ICMP_UNREACH_FILTER_PROHIB", "ICMP_TIMXCEED_INTRANS", "ICMP_TIMXCEED_REASS",
    "ICMP6_DST_UNREACH", "ICMP6_PACKET_TOO_BIG", "ICMP6_TIME_EXCEEDED", "ICMP6_PARAM_PROB",
    "ICMP6_ECHO_REQUEST", "ICMP6_ECHO_REPLY", "ICMP6_DST_UNREACH_NOROUTE", "ICMP6_DST_UNREACH_ADMIN",
    "ICMP6_DST_UNREACH_ADDR", "ICMP6_DST_UNREACH_NOPORT", "ICMP6_TIME_EXCEED_TRANSIT",
    "ICMP6_TIME_EXCEED_REASSEMBLY",
]

# Names as in FreeBSD's netinet/ip_icmp.h and netinet/icmp6.h.
ICMP_ECHOREPLY, ICMP_UNREACH, ICMP_ECHO, ICMP_TIMXCEED = 0, 3, 8, 11
ICMP_UNREACH_NET, ICMP_UNREACH_HOST, ICMP_UNREACH_PROTOCOL, ICMP_UNREACH_PORT = 0, 1, 2, 3
ICMP_UNREACH_NEEDFRAG, ICMP_UNREACH_FILTER_PROHIB = 4, 13
ICMP_TIMXCEED_INTRANS, ICMP_TIMXCEED_REASS = 0, 1

ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP6_PARAM_PROB = 1, 2, 3, 4
ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY = 128, 129
ICMP6_DST_UNREACH_NOROUTE, ICMP6_DST_UNREACH_ADMIN = 0, 1
ICMP6_DST_UNREACH_ADDR, ICMP6_DST_UNREACH_NOPORT = 3, 4
ICMP6_TIME_EXCEED_TRANSIT, ICMP6_TIME_EXCEED_REASSEMBLY = 0, 1

_HEAD: Final = struct.Struct("!BBHI")
IPPROTO_ICMPV6: Final = 58


class _IcmpFields:
    """Accessors shared by ICMP and ICMPv6: both keep a 4-byte 'rest of header' word."""

    __slots__ = ()
    rest: int  # the subclass's field

    @property
    def ident(self) -> int:
        return self.rest >> 16

    @property
    def seq(self) -> int:
        return self.rest & 0xFFFF

    @property
    def mtu(self) -> int:
        """Next-hop MTU of a fragmentation-needed (RFC 1191) or packet-too-big message."""
        return self.rest & (0xFFFF if isinstance(self, Icmp) else 0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class Icmp(_IcmpFields):
    type: int
    code: int = 0
    rest: int = 0
    payload: bytes = b""

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> "Icmp":
        if len(data) < 8:
            raise MalformedPacket("truncated ICMP header")
        if internet_checksum(data) != 0:
            raise MalformedPacket("bad ICMP checksum")
        type_, code, _sum, rest = _HEAD.unpack_from(data)
        return cls(type_, code, rest, bytes(data[8:]))

    def to_bytes(self) -> bytes:
        body = _HEAD.pack(self.type, self.code, 0, self.rest) + self.payload
        checksum = internet_checksum(body)
        return body[:2] + checksum.to_bytes(2, "big") + body[4:]

    @classmethod
    def echo_request(cls, ident: int, seq: int, data: bytes = b"") -> "Icmp":
        return cls(ICMP_ECHO, 0, (ident << 16) | seq, data)

    @classmethod
    def needfrag(cls, mtu: int, original: bytes) -> "Icmp":
        return cls(ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, mtu & 0xFFFF, original)


@dataclass(frozen=True, slots=True)
class Icmp6(_IcmpFields):
    type: int
    code: int = 0
    rest: int = 0
    payload: bytes = b""

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview, src: IPv6Address, dst: IPv6Address) -> "Icmp6":
        if len(data) < 8:
            raise MalformedPacket("truncated ICMPv6 header")
        if internet_checksum(data, pseudo_header_sum(src, dst, IPPROTO_ICMPV6, len(data))) != 0:
            raise MalformedPacket("bad ICMPv6 checksum")
        type_, code, _sum, rest = _HEAD.unpack_from(data)
        return cls(type_, code, rest, bytes(data[8:]))

    def to_bytes(self, src: IPv6Address, dst: IPv6Address) -> bytes:
        body = _HEAD.pack(self.type, self.code, 0, self.rest) + self.payload
        checksum = internet_checksum(body, pseudo_header_sum(src, dst, IPPROTO_ICMPV6, len(body)))
        return body[:2] + checksum.to_bytes(2, "big") + body[4:]

    @classmethod
    def echo_request(cls, ident: int, seq: int, data: bytes = b"") -> "Icmp6":
        return cls(ICMP6_ECHO_REQUEST, 0, (ident << 16) | seq, data)

    @classmethod
    def packet_too_big(cls, mtu: int, original: bytes) -> "Icmp6":
        return cls(ICMP6_PACKET_TOO_BIG, 0, mtu, original)
