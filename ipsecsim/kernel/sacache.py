"""Per-flow SA caches of the IPsec paths, valid until the SAD changes.

Current FreeBSD looks the SA of an outbound request up for every packet, in a hash
of SA heads by address (``key_allocsa_policy``: "a different SA may be involved
each time this request is checked"; KAME's ``isr->sav`` cache is gone), and an
inbound SA in a hash by SPI (``key_allocsa``). Those hashes cost C next to
nothing; their Python stand-ins (a scan of SA heads, address objects) do not. So
the kernel remembers each answer in a small dictionary and throws every answer
away whenever the SAD changes in a way that could change one, which keeps the
answers equal to ``key_allocsa_policy``'s at every moment:

* every PF_KEY message the key engine sends up (ADD, UPDATE, DELETE, FLUSH,
  EXPIRE for a hard or soft lifetime, ...) is such a change: the key engine
  announces each SA state change to its listeners (``key_sendup_mbuf``), so a
  deleted or expired SA stops being used by the very next packet;
* ``net.key.preferred_oldsa`` changes which alive SA ``key_allocsa_policy`` picks.

Only answers that found an SA are cached: a request without one goes to the key
engine every time, which sends its (rate-limited) ACQUIRE as before. Lifetimes
still count per packet, on the SA itself.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..netipsec.keydb import KeyDB

__all__ = ["SaCache"]


class SaCache:
    """The SA per outbound request and per inbound (SPI, destination), flushed on SAD changes."""

    __slots__ = ("_keydb", "_outbound", "_inbound", "generation")

    def __init__(self, keydb: "KeyDB", sysctl):
        self._keydb = keydb
        self._outbound: dict = {}
        self._inbound: dict = {}
        self.generation = 0  # bumped on every flush, for tests and readers of the cache
        # Registered (satypes) so that EXPIRE, sent to registered sockets only, reaches us.
        keydb.subscribe(self._sad_changed, satypes=("esp",))
        sysctl.watch("net.key.preferred_oldsa", self._sad_changed)

    def _sad_changed(self, _message=None) -> None:
        if self._outbound or self._inbound:
            self._outbound.clear()
            self._inbound.clear()
        self.generation += 1

    def outbound(self, policy, request, now: float, src, dst):
        """``key_allocsa_policy`` for a request naming its own endpoints (tunnel mode), cached.

        Transport requests take the packet's addresses: they are passed through uncached.
        """
        if request.src is None or request.dst is None:
            return self._keydb.allocsa_policy(policy, request, now=now, src=src, dst=dst)
        # Keyed by identity (hashing a request hashes its addresses, in Python); the entry
        # holds the request, so its id cannot be reused while the entry lives.
        entry = self._outbound.get(id(request))
        if entry is None or entry[0] is not request:
            sa = self._keydb.allocsa_policy(policy, request, now=now, src=src, dst=dst)
            if sa is not None:
                self._outbound[id(request)] = (request, sa)
        else:
            sa = entry[1]
            # The key engine stamps messages sent without a time of their own (SADB_FLUSH,
            # SPDDELETE) with the last time it saw; keep that moving with the packets as the
            # uncached lookup (its _clock(now)) would.
            self._keydb.clock.now = now
        return sa

    def inbound(self, spi: int, dst: bytes):
        """``key_allocsa(dst, "esp", spi)`` by the packed outer destination, cached."""
        key = (spi, dst)
        sa = self._inbound.get(key)
        if sa is None:
            sa = self._keydb.allocsa(ip_address(dst), "esp", spi)
            if sa is not None:
                self._inbound[key] = sa
        return sa
