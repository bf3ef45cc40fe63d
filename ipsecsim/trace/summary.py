"""One-line, tcpdump-like packet descriptions for the event log. Never raises.

The header layouts are :mod:`ipsecsim.packet`'s; the walk over them is tolerant
and shallow (no checksum checks, no dataclasses, no exceptions for bad bytes): a summary
must describe *any* bytes, including the malformed ones the kernel is about to drop, and
it runs once per traced event. The wording follows
tcpdump's non-verbose output where tcpdump has one::

    IP 10.0.0.1 > 10.0.2.2: ICMP echo request, id 1, seq 0, length 64
    IP 10.0.0.1.5000 > 10.0.2.2.9: UDP, length 1000
    IP 192.168.0.3 > 192.168.0.5: ESP(spi=0x00002710,seq=0x1), length 152
    IP6 2001:db8::1 > 2001:db8::2: ICMP6, echo request, id 1, seq 0, length 64

Fragments get ``frag id N, offset N, flags [+]`` (``[+]``: more fragments follow,
``[none]``: the last one); bytes that do not parse get ``truncated ...`` or
``malformed ...`` text. ``length`` is the payload length tcpdump prints: the ICMP
message, the UDP payload, the ESP part of the IP payload.
"""

from __future__ import annotations

import functools
import ipaddress
import struct

from ..packet.iphdr import IPV6_EXTENSION_HEADERS
from ..packet.ipv4 import IPV4_HEADER
from ..packet.ipv6 import IPV6_HEADER

__all__ = ["packet_summary"]

_PORTS = struct.Struct("!HHH")  # source port, destination port, UDP length
_II = struct.Struct("!II")
_HH = struct.Struct("!HH")
_TCP = struct.Struct("!HHIIBBH")

_PROTO_NAMES = {
    0: "IPv6-hopopts", 1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 17: "UDP", 41: "IPv6", 43: "IPv6-route",
    44: "IPv6-frag", 47: "GRE", 50: "ESP", 51: "AH", 58: "ICMP6", 59: "no next header",
    60: "IPv6-opts", 103: "PIM", 132: "SCTP",
}

# ICMP types and codes with tcpdump's words (print-icmp.c).
_ICMP_UNREACH = {
    0: "net {} unreachable",
    1: "host {} unreachable",
    2: "{} protocol {} unreachable",
    3: "{} {} port {} unreachable",
    4: "{} unreachable - need to frag (mtu {})",
    5: "{} unreachable - source route failed",
    6: "net {} unreachable - unknown",
    7: "host {} unreachable - unknown",
    9: "net {} unreachable - admin prohibited",
    10: "host {} unreachable - admin prohibited",
    13: "host {} unreachable - admin prohibited filter",
}
_ICMP_SIMPLE = {
    0: "echo reply", 8: "echo request", 13: "time stamp request", 14: "time stamp reply",
    10: "router solicitation", 9: "router advertisement",
}
_ICMP6_TYPES = {
    1: "destination unreachable", 2: "packet too big", 3: "time exceeded", 4: "parameter problem",
    128: "echo request", 129: "echo reply", 133: "router solicitation", 134: "router advertisement",
    135: "neighbor solicitation", 136: "neighbor advertisement", 137: "redirect",
    143: "multicast listener report v2",
}
_ICMP6_UNREACH = {
    0: "unreachable route", 1: "unreachable prohibited", 2: "beyond scope",
    3: "unreachable address", 4: "unreachable port", 5: "source address failed policy",
    6: "reject route",
}
_ICMP6_TIMXCEED = {0: "time exceeded in-transit", 1: "ip6 reassembly time exceeded"}
_TCP_FLAGS = ((0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P"), (0x20, "U"), (0x40, "E"), (0x80, "W"))

# Families a DLT_NULL header may carry (every BSD's AF_INET6, Linux's too).
_FAMILY_VERSION = {4: 4, 6: 6, 2: 4, 24: 6, 28: 6, 30: 6, 10: 6}


def packet_summary(data: bytes | bytearray | memoryview, family_hint: int | None = None) -> str:
    """Describe an IP packet in one line, tcpdump style; never raises.

    ``family_hint`` is what the link layer claimed (``4``/``6``, or a DLT_NULL
    address family such as ``AF_INET`` = 2 and FreeBSD's ``AF_INET6`` = 28). The
    version nibble decides how the bytes are read; the hint names garbage and flags a
    disagreement.
    """
    try:
        if type(data) is not bytes:
            data = bytes(data)
        return _summarize_ip(data, _FAMILY_VERSION.get(family_hint) if family_hint is not None else None, 0)
    except Exception as exc:  # a summary must never take the run down
        return f"malformed packet ({type(exc).__name__}), {_safe_len(data)} bytes"


def _safe_len(data) -> int:
    try:
        return len(data)
    except Exception:
        return 0


def _summarize_ip(data: bytes, hint: int | None, depth: int) -> str:
    if not data:
        return "empty packet"
    version = data[0] >> 4
    if version == 4:
        text = _ipv4(data, depth)
    elif version == 6:
        text = _ipv6(data, depth)
    else:
        label = {4: "IP ", 6: "IP6 "}.get(hint, "") if hint is not None else ""
        return f"{label}malformed: IP version {version}, {len(data)} bytes"
    if hint is not None and hint != version:
        text += f" [family mismatch: IPv{hint} expected]"
    return text


def _ipv4(data: bytes, depth: int) -> str:
    if len(data) < 20:
        return f"IP truncated header, {len(data)} bytes"
    _vhl, _tos, total, ident, frag, _ttl, proto, _ck, src, dst = IPV4_HEADER.unpack_from(data)
    src_s = "%d.%d.%d.%d" % tuple(src)
    dst_s = "%d.%d.%d.%d" % tuple(dst)
    ihl = (data[0] & 0x0F) * 4
    if ihl < 20:
        return f"IP {src_s} > {dst_s}: malformed: header length {ihl} < 20"
    if total < ihl:
        return f"IP {src_s} > {dst_s}: malformed: total length {total} < header length {ihl}"
    missing = total - len(data)
    if ihl > len(data):
        return f"IP {src_s} > {dst_s}: truncated header ({ihl - len(data)} bytes missing)"
    payload = data[ihl:total]
    offset = (frag & 0x1FFF) * 8
    more = frag & 0x2000
    frag_text = ""
    if offset or more:
        frag_text = f", frag id {ident}, offset {offset}, flags [{'+' if more else 'none'}]"
    if offset:  # a later fragment: no transport header to read
        body = f"{src_s} > {dst_s}: {_PROTO_NAMES.get(proto, f'ip-proto-{proto}')}{frag_text}, length {len(payload)}"
        frag_text = ""
    else:
        body = _transport(proto, payload, src_s, dst_s, 4, depth)
    text = f"IP {body}{frag_text}"
    if missing > 0:
        text += f" (truncated-ip - {missing} bytes missing)"
    return text


def _ipv6(data: bytes, depth: int) -> str:
    if len(data) < 40:
        return f"IP6 truncated header, {len(data)} bytes"
    _vtcfl, plen, nxt, _hlim, src, dst = IPV6_HEADER.unpack_from(data)
    src_s = _ip6(src)
    dst_s = _ip6(dst)
    end = 40 + plen
    missing = end - len(data)
    payload = data[40:end]
    frag_text = ""
    hops = 0
    while True:
        if nxt in IPV6_EXTENSION_HEADERS:  # (len + 1) * 8 bytes
            size = (payload[1] + 1) * 8 if len(payload) >= 2 else 8
            if len(payload) < size:
                return f"IP6 {src_s} > {dst_s}: truncated {_PROTO_NAMES.get(nxt, nxt)} header"
            nxt, payload = payload[0], payload[size:]
        elif nxt == 44:  # fragment header (RFC 8200 4.5)
            if len(payload) < 8:
                return f"IP6 {src_s} > {dst_s}: truncated fragment header"
            offlg, ident = _HH.unpack_from(payload, 2)[0], _II.unpack_from(payload, 0)[1]
            offset = offlg & 0xFFF8
            more = offlg & 1
            frag_text = f", frag id {ident}, offset {offset}, flags [{'+' if more else 'none'}]"
            nxt, payload = payload[0], payload[8:]
            if offset:
                text = (f"IP6 {src_s} > {dst_s}: {_PROTO_NAMES.get(nxt, f'ip-proto-{nxt}')}"
                        f"{frag_text}, length {len(payload)}")
                return text + (f" (truncated-ip6 - {missing} bytes missing)" if missing > 0 else "")
        else:
            break
        hops += 1
        if hops > 8:
            return f"IP6 {src_s} > {dst_s}: malformed: too many extension headers"
    text = f"IP6 {_transport(nxt, payload, src_s, dst_s, 6, depth)}{frag_text}"
    if missing > 0:
        text += f" (truncated-ip6 - {missing} bytes missing)"
    return text


@functools.lru_cache(maxsize=4096)  # formatting an IPv6 address costs ~3 us; a run has few
def _ip6(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def _transport(proto: int, p: bytes, src: str, dst: str, version: int, depth: int) -> str:
    """What follows ``IP ``/``IP6 ``: ``SRC > DST: ...`` (``SRC.PORT > DST.PORT: ...`` for UDP, TCP)."""
    if proto in (17, 6):
        return _ports(proto, p, src, dst)
    return f"{src} > {dst}: {_payload(proto, p, version, depth)}"


def _ports(proto: int, p: bytes, src: str, dst: str) -> str:
    if proto == 6:
        return _tcp(p, src, dst)
    if len(p) < 8:
        return f"{src} > {dst}: truncated UDP header, length {len(p)}"
    sport, dport, ulen = _PORTS.unpack_from(p)
    head = f"{src}.{sport} > {dst}.{dport}: "
    if 4500 in (sport, dport) and len(p) >= 16 and p[8:12] != b"\0\0\0\0":
        return head + "UDP-encap: " + _esp(p[8:])  # RFC 3948 ESP-in-UDP
    if ulen < 8:
        return head + f"UDP, bad length {ulen}"
    return head + f"UDP, length {ulen - 8}"


def _payload(proto: int, p: bytes, version: int, depth: int) -> str:
    if proto == 50:
        return _esp(p)
    if proto == 1 and version == 4:
        return _icmp(p)
    if proto == 58 and version == 6:
        return _icmp6(p)
    if proto == 51:
        if len(p) < 12:
            return f"truncated AH header, length {len(p)}"
        spi, seq = _II.unpack_from(p, 4)
        return f"AH(spi=0x{spi:08x},seq=0x{seq:x}), length {len(p)}"
    if proto in (4, 41) and depth < 2:
        return _summarize_ip(p, 4 if proto == 4 else 6, depth + 1)
    if proto == 59:
        return f"no next header, length {len(p)}"
    return f"ip-proto-{proto}, length {len(p)}"


def _esp(p: bytes) -> str:
    if len(p) < 8:
        return f"truncated ESP header, length {len(p)}"
    spi, seq = _II.unpack_from(p)
    return f"ESP(spi=0x{spi:08x},seq=0x{seq:x}), length {len(p)}"


def _icmp(p: bytes) -> str:
    if len(p) < 4:
        return f"truncated ICMP header, length {len(p)}"
    typ, code = p[0], p[1]
    n = len(p)
    if typ in (0, 8):
        if n < 8:
            return f"truncated ICMP {_ICMP_SIMPLE[typ]}, length {n}"
        ident, seq = _HH.unpack_from(p, 4)
        return f"ICMP {_ICMP_SIMPLE[typ]}, id {ident}, seq {seq}, length {n}"
    if typ == 3:
        fmt = _ICMP_UNREACH.get(code)
        inner_dst, inner_proto, inner_port = _quoted_ipv4(p[8:])
        if fmt is None:
            return f"ICMP {inner_dst} unreachable - #{code}, length {n}"
        if code == 2:
            text = fmt.format(inner_dst, inner_proto)
        elif code == 3:
            name = {17: "udp", 6: "tcp"}.get(inner_proto, f"ip-proto-{inner_proto}") if inner_proto is not None else "?"
            text = fmt.format(inner_dst, name, inner_port if inner_port is not None else "?")
        elif code == 4:
            mtu = _HH.unpack_from(p, 4)[1] if n >= 8 else "?"
            text = fmt.format(inner_dst, mtu)
        else:
            text = fmt.format(inner_dst)
        return f"ICMP {text}, length {n}"
    if typ == 11:
        what = {0: "time exceeded in-transit", 1: "ip reassembly time exceeded"}.get(code, f"time exceeded #{code}")
        return f"ICMP {what}, length {n}"
    if typ == 5:
        return f"ICMP redirect, length {n}"
    if typ == 12:
        return f"ICMP parameter problem - octet {p[4] if n > 4 else '?'}, length {n}"
    if typ in _ICMP_SIMPLE:
        return f"ICMP {_ICMP_SIMPLE[typ]}, length {n}"
    return f"ICMP type-#{typ}, length {n}"


def _quoted_ipv4(q: bytes) -> tuple[str, int | None, int | None]:
    """Destination, protocol and destination port of the packet an ICMP error quotes."""
    if len(q) < 20 or q[0] >> 4 != 4:
        return "?", None, None
    ihl = (q[0] & 0x0F) * 4
    proto = q[9]
    dst = "%d.%d.%d.%d" % tuple(q[16:20])
    port = _HH.unpack_from(q, ihl)[1] if ihl >= 20 and len(q) >= ihl + 4 else None
    return dst, proto, port


def _icmp6(p: bytes) -> str:
    if len(p) < 4:
        return f"truncated ICMP6 header, length {len(p)}"
    typ, code = p[0], p[1]
    n = len(p)
    name = _ICMP6_TYPES.get(typ, f"type-#{typ}")
    if typ in (128, 129):
        if n < 8:
            return f"ICMP6, {name}, truncated, length {n}"
        ident, seq = _HH.unpack_from(p, 4)
        return f"ICMP6, {name}, id {ident}, seq {seq}, length {n}"
    if typ == 2:
        mtu = _II.unpack_from(p, 4)[0] if n >= 8 else "?"
        return f"ICMP6, packet too big, mtu {mtu}, length {n}"
    if typ == 1:
        return f"ICMP6, destination unreachable, {_ICMP6_UNREACH.get(code, f'code-#{code}')}, length {n}"
    if typ == 3:
        return f"ICMP6, {_ICMP6_TIMXCEED.get(code, f'time exceeded code-#{code}')}, length {n}"
    if typ in (135, 136) and n >= 24:
        target = _ip6(p[8:24])
        verb = "who has" if typ == 135 else "tgt is"
        return f"ICMP6, {name}, {verb} {target}, length {n}"
    return f"ICMP6, {name}, length {n}"


def _tcp(p: bytes, src: str, dst: str) -> str:
    if len(p) < 20:
        return f"{src} > {dst}: truncated TCP header, length {len(p)}"
    sport, dport, seq, ack, off, flags, win = _TCP.unpack_from(p)
    hlen = (off >> 4) * 4
    letters = "".join(c for bit, c in _TCP_FLAGS if flags & bit) + ("." if flags & 0x10 else "")
    head = f"{src}.{sport} > {dst}.{dport}: Flags [{letters or 'none'}], seq {seq}"
    if flags & 0x10:
        head += f", ack {ack}"
    if hlen < 20:
        return head + f", bad header length {hlen}"
    return head + f", win {win}, length {max(len(p) - hlen, 0)}"
