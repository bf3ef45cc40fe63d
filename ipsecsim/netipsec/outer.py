"""Outer IP headers for ESP: the host's knobs, ECN and IP ID rules, and a header parser.

The headers themselves are packed in :mod:`.esp`, on the per-packet path; the
IPv4/IPv6 dataclasses of ``ipsecsim.packet`` serve everything that is not hot.
[S6.1] [S6.2] [S6.3]
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, cycle

from .errors import EspHdrops

__all__ = ["OuterHeaderConfig", "ip_id_counter", "RandomIpId", "ecn_ingress", "parse_ip"]

IPPROTO_ESP = 50
_IP6_EXT = frozenset((0, 43, 60))  # hop-by-hop, routing, destination options: before ESP


def ip_id_counter(seed: int = 0) -> Callable[[], int]:
    """``ip_fillid``'s default: a counter, seeded at random at boot, +1 per packet. [S6.1]

    Incremented before use, so the first ID is ``seed + 1`` (mod 2^16). Built from
    C iterators (a call costs ~25 ns): it runs once per tunnelled packet.
    """
    start = (seed + 1) & 0xFFFF
    return partial(next, chain(range(start, 0x10000), cycle(range(0x10000))))


class RandomIpId:
    """``net.inet.ip.random_id=1``: random, non-zero, no repeat within the last ``period`` IDs. [S6.1]

    ``period`` is ``net.inet.ip.random_id_period`` (8192 by default; UNCONFIRMED).
    """

    __slots__ = ("rng", "period", "_recent", "_order")

    def __init__(self, rng: random.Random, period: int = 8192):
        self.rng = rng
        self.period = period
        self._recent: set[int] = set()
        self._order: deque[int] = deque()

    def __call__(self) -> int:
        while True:
            ident = self.rng.randrange(1, 0x10000)
            if ident not in self._recent:
                break
        self._recent.add(ident)
        self._order.append(ident)
        if len(self._order) > self.period:
            self._recent.discard(self._order.popleft())
        return ident


@dataclass(slots=True)
class OuterHeaderConfig:
    """The sysctls that shape a tunnel's outer header, FreeBSD defaults. [S6.1] [S6.2] [S7.12]

    The kernel passes each host's own object; sysctl changes are attribute writes.
    ``dfbit`` (any integer, as ``ipsec_encap`` reads it): for an IPv4 inner packet 0
    clears DF, 1 sets it, any other value copies the inner DF; for an IPv6 inner
    packet any non-zero value sets DF. ``ecn``/``ecn6``: 0 forbidden (clear), 1
    allowed (copy, CE -> ECT(0)), any other value copies everything (-1 is NOCARE).
    ``next_ip_id``/``next_random_ip_id`` are the host's ID generators; ``ip_fillid``'s
    choice between them (0 for DF under RFC 6864) is made in ``esp.encapsulate``. A
    kernel whose own generator already applies ``random_id`` passes it as
    ``next_ip_id`` and leaves ``random_id`` at 0 here.
    """

    ttl: int = 64  # net.inet.ip.ttl
    hop_limit: int = 64  # net.inet6.ip6.hlim
    dfbit: int = 0  # net.inet.ipsec.dfbit
    ecn: int = 0  # net.inet.ipsec.ecn
    ecn6: int = 0  # net.inet6.ipsec6.ecn
    rfc6864: int = 1  # net.inet.ip.rfc6864
    random_id: int = 0  # net.inet.ip.random_id
    next_ip_id: Callable[[], int] = field(default_factory=ip_id_counter)
    next_random_ip_id: Callable[[], int] | None = None


def ecn_ingress(mode: int, inner_tos: int) -> int:
    """``ip_ecn_ingress``: the outer TOS from the inner one (DSCP always copied). [S6.1]"""
    if mode == 0:
        return inner_tos & 0xFC
    if mode == 1 and inner_tos & 3 == 3:
        return inner_tos & 0xFE  # CE becomes ECT(0)
    return inner_tos


def parse_ip(buf: bytes | memoryview) -> tuple[int, int, int, int]:
    """Validate an IP header as ``ip_input``/``ip6_input`` would; return where its payload is.

    Returns ``(version, skip, protoff, length)``: header length including IPv6
    extension headers that come before ESP, offset of the byte holding the
    upper-layer protocol, and the datagram length from the header (bytes beyond it
    are link padding, which ``ip_input`` trims). Raises :class:`EspHdrops`.
    """
    n = len(buf)
    if n < 1:
        raise EspHdrops("empty packet")
    version = buf[0] >> 4
    if version == 4:
        if n < 20:
            raise EspHdrops("truncated IPv4 header")
        skip = (buf[0] & 0x0F) * 4
        length = (buf[2] << 8) | buf[3]
        if skip < 20 or length < skip or length > n:
            raise EspHdrops("bad IPv4 header or total length")
        return 4, skip, 9, length
    if version == 6:
        if n < 40:
            raise EspHdrops("truncated IPv6 header")
        length = 40 + ((buf[4] << 8) | buf[5])
        if length > n:
            raise EspHdrops("bad IPv6 payload length")
        nxt, skip, protoff = buf[6], 40, 6
        while nxt in _IP6_EXT:
            if skip + 8 > length:
                raise EspHdrops("truncated IPv6 extension header")
            protoff = skip
            nxt = buf[skip]
            skip += (buf[skip + 1] + 1) * 8
            if skip > length:
                raise EspHdrops("truncated IPv6 extension header")
        return 6, skip, protoff, length
    raise EspHdrops(f"IP version {version}")
