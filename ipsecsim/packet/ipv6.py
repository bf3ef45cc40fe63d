"""IPv6 fixed header (RFC 8200) and the fragment header."""

from dataclasses import dataclass
from ipaddress import IPv6Address
import struct
from typing import Final

from .errors import MalformedPacket

__all__ = ["IPv6", "IPv6Fragment", "IPV6_HEADER"]

IPV6_HEADER: Final = struct.Struct("!IHBB16s16s")
_FRAG: Final = struct.Struct("!BBHI")


@dataclass(frozen=True, slots=True)
class IPv6:
    """An IPv6 packet: the fixed header and everything after it as ``payload``."""

    src: IPv6Address
    dst: IPv6Address
    next_header: int
    payload: bytes = b""
    hop_limit: int = 64
    traffic_class: int = 0
    flow_label: int = 0

    @property
    def total_length(self) -> int:
        return 40 + len(self.payload)

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> "IPv6":
        if len(data) < 40:
            raise MalformedPacket("truncated IPv6 header")
        vtf, plen, nxt, hlim, src, dst = IPV6_HEADER.unpack_from(data)
        if vtf >> 28 != 6:
            raise MalformedPacket("not IPv6")
        if 40 + plen > len(data):
            raise MalformedPacket("bad IPv6 payload length")
        return cls(
            src=IPv6Address(src),
            dst=IPv6Address(dst),
            next_header=nxt,
            payload=bytes(data[40 : 40 + plen]),
            hop_limit=hlim,
            traffic_class=(vtf >> 20) & 0xFF,
            flow_label=vtf & 0xFFFFF,
        )

    def header_bytes(self, payload_length: int | None = None) -> bytes:
        if not (0 <= self.traffic_class <= 0xFF and 0 <= self.flow_label <= 0xFFFFF):
            raise ValueError("IPv6 traffic class is 8 bits and flow label 20 bits")  # else they overwrite the version
        plen = len(self.payload) if payload_length is None else payload_length
        vtf = (6 << 28) | (self.traffic_class << 20) | self.flow_label
        return IPV6_HEADER.pack(vtf, plen, self.next_header, self.hop_limit, self.src.packed, self.dst.packed)

    def to_bytes(self) -> bytes:
        if len(self.payload) > 65535:
            raise ValueError("IPv6 payload longer than 65535 bytes (jumbograms are not modelled)")
        return self.header_bytes() + self.payload


@dataclass(frozen=True, slots=True)
class IPv6Fragment:
    """The fragment extension header (RFC 8200 section 4.5). ``offset`` is in bytes."""

    next_header: int
    offset: int
    more: bool
    ident: int
    payload: bytes = b""

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> "IPv6Fragment":
        if len(data) < 8:
            raise MalformedPacket("truncated IPv6 fragment header")
        nxt, _reserved, offm, ident = _FRAG.unpack_from(data)
        return cls(nxt, offm & 0xFFF8, bool(offm & 1), ident, bytes(data[8:]))

    def to_bytes(self) -> bytes:
        if self.offset % 8:
            raise ValueError("IPv6 fragment offset must be a multiple of 8 bytes")
        return _FRAG.pack(self.next_header, 0, self.offset | int(self.more), self.ident) + self.payload
