"""UDP (RFC 768) with its checksum over the IPv4 or IPv6 pseudo-header."""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
import struct
from typing import Final

from .checksum import internet_checksum
from .errors import MalformedPacket
from .pseudo import pseudo_header_sum

__all__ = ["Udp", "UDP_HEADER"]

UDP_HEADER: Final = struct.Struct("!HHHH")
IPPROTO_UDP: Final = 17


@dataclass(frozen=True, slots=True)
class Udp:
    sport: int
    dport: int
    payload: bytes = b""

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview, src: IPv4Address | IPv6Address,
              dst: IPv4Address | IPv6Address) -> "Udp":
        if len(data) < 8:
            raise MalformedPacket("truncated UDP header")
        sport, dport, length, checksum = UDP_HEADER.unpack_from(data)
        if length < 8 or length > len(data):
            raise MalformedPacket("bad UDP length")
        segment = data[:length]
        if checksum == 0 and src.version == 6:
            raise MalformedPacket("zero UDP checksum over IPv6")  # RFC 8200 8.1
        if checksum and internet_checksum(segment, pseudo_header_sum(src, dst, IPPROTO_UDP, length)) != 0:
            raise MalformedPacket("bad UDP checksum")
        return cls(sport, dport, bytes(segment[8:]))

    def to_bytes(self, src: IPv4Address | IPv6Address, dst: IPv4Address | IPv6Address) -> bytes:
        length = 8 + len(self.payload)
        if length > 65535:
            raise ValueError("UDP datagram longer than 65535 bytes")
        head = UDP_HEADER.pack(self.sport, self.dport, length, 0)
        checksum = internet_checksum(head + self.payload, pseudo_header_sum(src, dst, IPPROTO_UDP, length))
        # RFC 768: a computed zero is sent as all ones; zero means "no checksum".
        return UDP_HEADER.pack(self.sport, self.dport, length, checksum or 0xFFFF) + self.payload
