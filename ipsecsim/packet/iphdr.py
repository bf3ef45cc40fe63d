"""Byte-level IPv4/IPv6 header access for the per-packet paths: offsets, not objects.

The kernel's input paths, the IPsec selectors and the ESP core all need the same
few facts about a packet's IP header: where its payload starts, which protocol it
carries, its addresses and the upper-layer ports. They read them here, with
precompiled ``struct.Struct``s and no intermediate objects; the dataclasses in
:mod:`.ipv4`/:mod:`.ipv6` are for building and for tests.

Errors are :class:`MalformedPacket` whose reason phrase is the kernel's drop
reason for the same condition (``DropReason(error.reason)``).
"""

from __future__ import annotations

import struct
from typing import Final

from .errors import MalformedPacket

__all__ = [
    "IPV6_EXTENSION_HEADERS", "locate_payload", "protocol_offset",
    "destination", "flow_selectors", "PORTS", "SPI",
]

# Extension headers IPv6 input walks past before the upper-layer protocol (and ESP):
# hop-by-hop options, routing, destination options (RFC 8200 4.1).
IPV6_EXTENSION_HEADERS = frozenset((0, 43, 60))
PORTS: Final = struct.Struct("!HH")  # TCP/UDP/SCTP source and destination port; ICMP type, code use bytes
SPI: Final = struct.Struct("!I")
_PORT_PROTOCOLS = frozenset((6, 17, 132))  # TCP, UDP, SCTP
_ICMP_PROTOCOLS = frozenset((1, 58))


def locate_payload(pkt: bytes | bytearray | memoryview) -> tuple[int, int, int, int]:
    """``(version, offset, protocol, length)`` of an IP packet, checked as ip_input/ip6_input do.

    ``offset`` is where the upper-layer header starts (past IPv4 options or IPv6
    extension headers), ``protocol`` the upper-layer protocol number, ``length``
    the datagram length from the header (bytes beyond are link padding).
    """
    n = len(pkt)
    if n < 1:
        raise MalformedPacket("malformed: unknown IP version")
    version = pkt[0] >> 4
    if version == 4:
        if n < 20:
            raise MalformedPacket("truncated IPv4 header")
        hlen = (pkt[0] & 0x0F) << 2
        if hlen < 20 or hlen > n:
            raise MalformedPacket("bad IPv4 header length")
        length = (pkt[2] << 8) | pkt[3]
        if length < hlen:
            raise MalformedPacket("bad IPv4 total length")
        if length > n:
            raise MalformedPacket("truncated IPv4 packet")
        return 4, hlen, pkt[9], length
    if version == 6:
        if n < 40:
            raise MalformedPacket("truncated IPv6 header")
        length = 40 + ((pkt[4] << 8) | pkt[5])
        if length > n:
            raise MalformedPacket("truncated IPv6 packet")
        proto, off = pkt[6], 40
        while proto in IPV6_EXTENSION_HEADERS:
            if off + 8 > length:
                raise MalformedPacket("truncated IPv6 extension header")
            proto, off = pkt[off], off + (pkt[off + 1] + 1) * 8
            if off > length:
                raise MalformedPacket("truncated IPv6 extension header")
        return 6, off, proto, length
    raise MalformedPacket("malformed: unknown IP version")


def protocol_offset(pkt: bytes | bytearray | memoryview, offset: int) -> int:
    """The offset of the byte naming the protocol at ``offset`` (from :func:`locate_payload`).

    9 for IPv4; for IPv6 the next-header byte of the last extension header before
    ``offset``, or the IPv6 header's own (6): the byte ESP transport mode rewrites
    and FreeBSD passes on as ``protoff``. The packet has passed :func:`locate_payload`.
    """
    if pkt[0] >> 4 == 4:
        return 9
    protoff, off = 6, 40
    while off < offset:
        protoff = off
        off += (pkt[off + 1] + 1) * 8
    return protoff


def destination(pkt: bytes) -> bytes:
    """The packed destination address (4 or 16 bytes) of an IPv4 or IPv6 packet."""
    return pkt[16:20] if pkt[0] >> 4 == 4 else pkt[24:40]


def flow_selectors(pkt: bytes) -> tuple[bytes, bytes, int, int, int]:
    """``(src, dst, protocol, sport, dport)``, addresses packed, as the SPD matches a packet.

    FreeBSD's ipsec4_setspidx_ipaddr / ipsec4_get_ulp (and the IPv6 twins): the
    ports of TCP, UDP and SCTP; ICMP's type and code where the ports go; 0 for a
    non-first fragment or a payload too short to hold them. The packet has passed
    IP input (or was built here), so its header is trusted.
    """
    if pkt[0] >> 4 == 4:
        src, dst, proto = pkt[12:16], pkt[16:20], pkt[9]
        off = (pkt[0] & 0x0F) << 2
        if ((pkt[6] << 8) | pkt[7]) & 0x1FFF:  # a non-first fragment has no upper-layer header
            return src, dst, proto, 0, 0
    else:
        src, dst, proto, off = pkt[8:24], pkt[24:40], pkt[6], 40
    if len(pkt) >= off + 4:
        if proto in _PORT_PROTOCOLS:
            sport, dport = PORTS.unpack_from(pkt, off)
            return src, dst, proto, sport, dport
        if proto in _ICMP_PROTOCOLS:
            return src, dst, proto, pkt[off], pkt[off + 1]
    return src, dst, proto, 0, 0
