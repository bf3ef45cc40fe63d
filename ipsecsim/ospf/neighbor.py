"""One OSPF neighbour and its conversation: the neighbour state machine of RFC 2328 section 10,
for point-to-point interfaces (no DR election), as FRR's ospfd runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from ..packet.ospf import Lsa, LsaHeader

if TYPE_CHECKING:
    from .interface import OspfInterface

__all__ = ["NeighborState", "Neighbor"]


class NeighborState(IntEnum):
    DOWN = 0
    INIT = 2
    TWO_WAY = 3
    EXSTART = 4
    EXCHANGE = 5
    LOADING = 6
    FULL = 7

    @property
    def label(self) -> str:
        """The state as FRR's `show ip ospf neighbor` writes it."""
        return {0: "Down", 2: "Init", 3: "2-Way", 4: "ExStart", 5: "Exchange", 6: "Loading", 7: "Full"}[self]


@dataclass(eq=False)
class Neighbor:
    interface: OspfInterface
    router_id: IPv4Address
    address: IPv4Address
    priority: int = 1
    state: NeighborState = NeighborState.DOWN
    full_since: float = 0.0
    heard_at: float = 0.0  # the last Hello: the inactivity timer runs from here
    # Database exchange (RFC 2328 10.6-10.8)
    master: bool = False
    dd_sequence: int = 0
    summary: list[LsaHeader] = field(default_factory=list)  # headers still to describe
    sent_all: bool = False  # our last DD had the M bit clear
    last_dd_sent: bytes | None = None
    last_dd_received: tuple[int, int, int] | None = None  # (flags, options, sequence)
    requests: dict[tuple, LsaHeader] = field(default_factory=dict)
    retransmit: dict[tuple, Lsa] = field(default_factory=dict)
    inactivity: Any = None
    dd_timer: Any = None
    request_timer: Any = None
    retransmit_timer: Any = None

    def cancel_timers(self) -> None:
        for name in ("inactivity", "dd_timer", "request_timer", "retransmit_timer"):
            timer = getattr(self, name)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)

    def reset_exchange(self) -> None:
        """Forget the database exchange (SeqNumberMismatch, BadLSReq, KillNbr)."""
        if self.dd_timer is not None:
            self.dd_timer.cancel()
        if self.request_timer is not None:
            self.request_timer.cancel()
        if self.retransmit_timer is not None:
            self.retransmit_timer.cancel()
        self.dd_timer = self.request_timer = self.retransmit_timer = None
        self.summary.clear()
        self.requests.clear()
        self.retransmit.clear()
        self.sent_all = False
        self.last_dd_sent = None
        self.last_dd_received = None
