"""Outer IP headers for ESP: the host's knobs, ECN and IP ID rules.

The headers themselves are packed in :mod:`.esp`, on the per-packet path; the
IPv4/IPv6 dataclasses of ``ipsecsim.packet`` serve everything that is not hot. An
incoming outer header is read by ``ipsecsim.packet.iphdr``, as the kernel reads it.
[S6.1] [S6.2] [S6.3]
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, cycle
from typing import Final

__all__ = ["OuterHeaderConfig", "ip_id_counter", "RandomIpId", "ecn_ingress"]

IPPROTO_ESP: Final = 50


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
