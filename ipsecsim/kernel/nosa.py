"""Outbound packets dropped for lack of an SA (``ips_out_nosa``), written down as they happen.

A report explains these drops after the run, when the SAD may hold something else (an SA
deleted at 4 s and added again at 6 s). So while packets are dropped the kernel keeps,
once per situation, what the policy asked for and what the SAD held for those outer
addresses, and then only counts. A situation ends when the SAD changes for those
addresses: the key engine tells every PF_KEY listener (SADB_ADD, UPDATE, DELETE, EXPIRE,
FLUSH) [S8.2], and this log listens like one. Keeping it changes nothing in the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..netipsec.keydb import KeyDB

__all__ = ["NoSaDrops", "NoSaLog"]

Address = IPv4Address | IPv6Address
# PF_KEY messages that tell of a change in the SAD (SADB_FLUSH carries no addresses).
_SAD_CHANGES = frozenset({"SADB_ADD", "SADB_UPDATE", "SADB_DELETE", "SADB_EXPIRE", "SADB_FLUSH"})


@dataclass(slots=True)
class NoSaDrops:
    """Packets dropped in one situation: the SA a policy request wanted, and the SAs the SAD
    held then with the same protocol and outer addresses, as ``(spi, reqid, mode)``."""

    proto: str  # "esp"
    mode: str  # "tunnel" or "transport"
    src: Address
    dst: Address
    reqid: int  # 0: any reqid will do
    had: tuple[tuple[int, int, str], ...]
    first: float  # simulated seconds of the first and the last drop
    last: float
    count: int = 0


class NoSaLog:
    """Every :class:`NoSaDrops` of one host, in the order the situations began."""

    def __init__(self, keydb: "KeyDB") -> None:
        self._keydb = keydb
        self.records: list[NoSaDrops] = []
        # (proto, mode, src, dst, reqid) -> (the SAD version it was seen in, its record)
        self._open: dict[tuple, tuple[tuple[int, int], NoSaDrops]] = {}
        self._changes: dict[tuple[Address, Address], int] = {}  # SAD changes per (src, dst)
        self._flushes = 0

    def sad_changed(self, message) -> None:
        """A PF_KEY listener: note which addresses' SAs changed."""
        if message.type in _SAD_CHANGES:
            if message.src is None:
                self._flushes += 1
            else:
                key = (message.src, message.dst)
                self._changes[key] = self._changes.get(key, 0) + 1

    def dropped(self, request, src: Address, dst: Address, now: float) -> None:
        """One packet under ``request`` dropped: count it, describing the SAD on a new situation."""
        wanted = (request.proto, request.mode, src, dst, request.reqid)
        version = (self._flushes, self._changes.get((src, dst), 0))
        entry = self._open.get(wanted)
        if entry is None or entry[0] != version:
            had = tuple((sa.spi, sa.reqid, sa.mode) for sa in self._keydb.sas(request.proto)
                        if sa.src == src and sa.dst == dst)
            record = NoSaDrops(request.proto, request.mode, src, dst, request.reqid, had, now, now)
            self.records.append(record)
            self._open[wanted] = entry = (version, record)
        record = entry[1]
        record.count += 1
        record.last = now
