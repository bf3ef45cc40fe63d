"""The run's books: every datagram the hosts sent, and where each one ended.

sent = delivered + dropped + in flight + waiting in reassembly, counted per datagram.
An ESP packet is the datagram it carries, transformed: its delivery to ESP is not the
end of anything (the inner packet comes back in). A datagram cut in fragments is lost
once, with the reason of its first lost piece; each lost piece is also listed in
``fragment_drops``. A fragment carried in ESP, or an ESP packet cut in fragments, is
traced back to the datagram it belongs to (its root).
"""

from collections import Counter
from typing import Any

from ..packet.iphdr import IPV6_EXTENSION_HEADERS
from .link import _Arrival
from .observers import add_observer

__all__ = ["DatagramLedger"]

_ESP = 50
_IPV6_FRAGMENT = 44


def _fragment_key(pkt: bytes) -> bytes | None:
    """The key of the datagram ``pkt`` is a fragment of (as ip_reass keys it), or None (also
    for a packet too short or too broken to say: the kernel drops those whole)."""
    try:
        if pkt[0] >> 4 == 4:
            if pkt[6] & 0x3F or pkt[7]:  # MF or an offset
                return pkt[12:20] + pkt[9:10] + pkt[4:6]
            return None
        if pkt[0] >> 4 != 6:
            return None
        next_header, off = pkt[6], 40
        while next_header in IPV6_EXTENSION_HEADERS:
            next_header, off = pkt[off], off + (pkt[off + 1] + 1) * 8
        if next_header == _IPV6_FRAGMENT and off + 8 <= len(pkt):
            return pkt[8:40] + pkt[off + 4:off + 8]
    except IndexError:
        pass
    return None


def _upper(pkt: bytes) -> tuple[int, int]:
    """(upper protocol, its offset) of a packet that is not a fragment; -1 if it cannot be told."""
    try:
        if pkt[0] >> 4 == 4:
            return pkt[9], (pkt[0] & 15) * 4
        next_header, off = pkt[6], 40
        while next_header in IPV6_EXTENSION_HEADERS:
            next_header, off = pkt[off], off + (pkt[off + 1] + 1) * 8
        return next_header, off
    except IndexError:
        return -1, 0


def _esp_key(pkt: bytes) -> bytes | None:
    """(outer src, dst, SPI, sequence number) of an ESP packet (not a fragment), else None."""
    proto, off = _upper(pkt)
    if proto != _ESP:
        return None
    if pkt[0] >> 4 == 4:
        return pkt[12:20] + pkt[off:off + 8]
    return pkt[8:40] + pkt[off:off + 8]


class DatagramLedger:
    """A host observer (see ``Observer`` in kernel/host.py) keeping the books of a run."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.sent = 0
        self.delivered = 0
        self.dropped: Counter[str] = Counter()
        self.fragment_drops: Counter[str] = Counter()
        # root key -> time it was lost; ESP key -> (inner root, time); outer fragments' key ->
        # (inner root, time). Entries go when their packet ends, or expire after ``horizon``.
        self.lost: dict[bytes, float] = {}
        self.carried: dict[bytes, tuple[bytes, float]] = {}
        self.parent: dict[bytes, tuple[bytes, float]] = {}
        self.hosts: list = []
        self._delivered_pkt: bytes | None = None  # the last datagram delivered to a protocol
        self.horizon = 0.0
        self._next_sweep = 0.0

    def attach(self, host) -> None:
        self.hosts.append(host)
        add_observer(host, self)

    def __call__(self, event: str, host, ifname: str | None, pkt: bytes, reason: str | None,
                 related: Any = None) -> None:
        # the common events first, and the common case of each in a few byte tests
        if event == "deliver":
            if (pkt[9] if pkt[0] >> 4 == 4 else _upper(pkt)[0]) != _ESP:
                self.delivered += 1
                self._delivered_pkt = pkt
            elif self.carried:
                key = _esp_key(pkt)
                if key is not None:
                    self.carried.pop(key, None)
        elif event == "output":
            self.sent += 1
        elif event == "encap":
            if related[0] >> 4 == 4 and not (related[6] & 0x3F or related[7]):
                return  # an IPv4 packet that is no fragment: the ESP packet is simply that datagram
            key = _fragment_key(related)
            if key is not None:
                esp = _esp_key(pkt)
                if esp is not None:
                    self.carried[esp] = (self._root(key), self._tidy())
        elif event == "drop":
            self._drop(pkt, reason or "")
        elif event == "fragment":
            if self.carried and _fragment_key(pkt) is None:
                esp = _esp_key(pkt)
                entry = self.carried.get(esp) if esp is not None else None
                if entry is not None:
                    key = _fragment_key(related[0])
                    if key is not None:
                        self.parent[key] = (entry[0], self._tidy())
        elif event == "reassembled":
            if self.parent:
                # the datagram made whole has its fragments' key in its header (v4) or is
                # forgotten with the others at expiry (v6: the ident lived in the fragment header)
                if pkt[0] >> 4 == 4:
                    self.parent.pop(pkt[12:20] + pkt[9:10] + pkt[4:6], None)

    def _drop(self, pkt: bytes, reason: str) -> None:
        if pkt is self._delivered_pkt:
            # The protocol it was delivered to refused it (no socket on the port, a routing
            # daemon's checks): one datagram, one outcome, and that is the drop.
            self._delivered_pkt = None
            self.delivered -= 1
        key = _fragment_key(pkt)
        if key is not None:
            self.fragment_drops[reason] += 1
            self._lose(self._root(key), reason)
            return
        if self.carried:
            esp = _esp_key(pkt)
            if esp is not None:
                entry = self.carried.pop(esp, None)
                if entry is not None:  # a piece of the datagram inside, in ESP
                    self.fragment_drops[reason] += 1
                    self._lose(entry[0], reason)
                    return
        self.dropped[reason] += 1

    def _lose(self, root: bytes, reason: str) -> None:
        if root not in self.lost:
            self.lost[root] = self._tidy()
            self.dropped[reason] += 1

    def _root(self, key: bytes) -> bytes:
        entry = self.parent.get(key)
        return key if entry is None else entry[0]

    def _tidy(self) -> float:
        """The time now; forgets entries older than ``horizon`` now and then (at most once a horizon)."""
        now = self.clock.now
        if now >= self._next_sweep:
            # read now: a run may raise fragttl; never shrink, a queue keeps the life it began with
            for host in self.hosts:
                ttl = max(int(host.sysctl["net.inet.ip.fragttl"]), int(host.sysctl["net.inet6.ip6.fragttl"]))
                self.horizon = max(self.horizon, 2.0 * ttl)
            if self._next_sweep:
                oldest = now - self.horizon
                self.lost = {k: t for k, t in self.lost.items() if t >= oldest}
                self.carried = {k: e for k, e in self.carried.items() if e[1] >= oldest}
                self.parent = {k: e for k, e in self.parent.items() if e[1] >= oldest}
            self._next_sweep = now + self.horizon
        return now

    def close_books(self, network) -> dict:
        """The books at this moment; changes nothing, so it may be called again later."""
        flying = 0
        roots: set[bytes] = set()
        for entry in network.engine.env._queue:
            event = entry[3]
            if type(event) is not _Arrival:
                continue
            root = self._root_of(event.pkt)
            if root is None:
                flying += 1
            elif root not in self.lost:
                roots.add(root)
        waiting: set[bytes] = set()
        for host in network.hosts.values():
            for reassembler in (host.inet4.reassembler, host.inet6.reassembler):
                for fragments in reassembler.pending():
                    root = self._root_of(fragments[0])
                    if root is not None and root not in self.lost and root not in roots:
                        waiting.add(root)
        dropped = sum(self.dropped.values())
        in_flight = flying + len(roots)
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "dropped": dict(sorted(self.dropped.items())),
            "in_flight": in_flight,
            "in_reassembly": len(waiting),
            "fragment_drops": dict(sorted(self.fragment_drops.items())),
            "unaccounted": self.sent - self.delivered - dropped - in_flight - len(waiting),
        }

    def _root_of(self, pkt: bytes) -> bytes | None:
        """The root of a fragment or of an ESP packet carrying one; None for a whole datagram."""
        key = _fragment_key(pkt)
        if key is not None:
            return self._root(key)
        if self.carried:
            esp = _esp_key(pkt)
            entry = self.carried.get(esp) if esp is not None else None
            if entry is not None:
                return entry[0]
        return None
