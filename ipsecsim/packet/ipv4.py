"""IPv4 header (RFC 791): parse and build, with the fragmentation fields."""

from dataclasses import dataclass
from ipaddress import IPv4Address
import struct
from typing import Final

from .checksum import internet_checksum
from .errors import MalformedPacket

__all__ = ["IPv4", "IPV4_HEADER", "IP_DF", "IP_MF"]

IPV4_HEADER: Final = struct.Struct("!BBHHHBBH4s4s")
IP_DF: Final = 0x4000
IP_MF: Final = 0x2000
_OFFMASK: Final = 0x1FFF


@dataclass(frozen=True, slots=True)
class IPv4:
    """One IPv4 datagram or fragment. ``frag_offset`` is in bytes (a multiple of 8)."""

    src: IPv4Address
    dst: IPv4Address
    proto: int
    payload: bytes = b""
    ttl: int = 64
    tos: int = 0
    ident: int = 0
    df: bool = False
    mf: bool = False
    frag_offset: int = 0
    options: bytes = b""

    @property
    def header_length(self) -> int:
        return 20 + len(self.options)

    @property
    def total_length(self) -> int:
        return 20 + len(self.options) + len(self.payload)

    @property
    def is_fragment(self) -> bool:
        return self.mf or self.frag_offset != 0

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> "IPv4":
        """Parse a datagram; bytes past the total length (link padding) are ignored."""
        if len(data) < 20:
            raise MalformedPacket("truncated IPv4 header")
        vhl, tos, total, ident, off, ttl, proto, _sum, src, dst = IPV4_HEADER.unpack_from(data)
        if vhl >> 4 != 4:
            raise MalformedPacket("not IPv4")
        hlen = (vhl & 0x0F) * 4
        if hlen < 20:
            raise MalformedPacket("bad IPv4 header length")
        if total < hlen or total > len(data):
            raise MalformedPacket("bad IPv4 total length")
        if internet_checksum(data[:hlen]) != 0:
            raise MalformedPacket("bad IPv4 header checksum")
        return cls(
            src=IPv4Address(src),
            dst=IPv4Address(dst),
            proto=proto,
            payload=bytes(data[hlen:total]),
            ttl=ttl,
            tos=tos,
            ident=ident,
            df=bool(off & IP_DF),
            mf=bool(off & IP_MF),
            frag_offset=(off & _OFFMASK) * 8,
            options=bytes(data[20:hlen]),
        )

    def header_bytes(self, payload_length: int | None = None) -> bytes:
        """The header alone, checksummed, for a payload of ``payload_length`` bytes."""
        if len(self.options) % 4 or len(self.options) > 40:
            raise ValueError("IPv4 options must be padded to 4 bytes, at most 40")
        if self.frag_offset % 8:
            raise ValueError("IPv4 fragment offset must be a multiple of 8 bytes")
        if not 0 <= self.frag_offset <= 0xFFF8:  # 13 bits of 8-byte units; more would set the flags
            raise ValueError("IPv4 fragment offset must be at most 65528 bytes")
        hlen = 20 + len(self.options)
        plen = len(self.payload) if payload_length is None else payload_length
        off = (self.frag_offset // 8) | (IP_DF if self.df else 0) | (IP_MF if self.mf else 0)
        header = bytearray(hlen)
        IPV4_HEADER.pack_into(
            header, 0, 0x40 | hlen // 4, self.tos, hlen + plen, self.ident, off,
            self.ttl, self.proto, 0, self.src.packed, self.dst.packed,
        )
        header[20:] = self.options
        header[10:12] = internet_checksum(header).to_bytes(2, "big")
        return bytes(header)

    def to_bytes(self) -> bytes:
        if self.total_length > 65535:
            raise ValueError("IPv4 datagram longer than 65535 bytes")
        return self.header_bytes() + self.payload
