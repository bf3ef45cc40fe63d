"""An interface OSPF runs on, with its configured timers and cost (RFC 2328 section 9)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from ..kernel.ifnet import Ifnet
from .neighbor import Neighbor

__all__ = ["OspfInterface", "DEFAULT_BANDWIDTH_KBPS", "output_cost"]

# FRR's OSPF_DEFAULT_BANDWIDTH: what an interface that reports no speed (if_ipsec) is taken for.
DEFAULT_BANDWIDTH_KBPS = 10_000


def output_cost(reference_mbps: int, baudrate: float) -> int:
    """auto-cost: the reference bandwidth over the interface's, rounded, within 1..65535."""
    kbps = baudrate / 1000 if baudrate else DEFAULT_BANDWIDTH_KBPS
    return max(1, min(65535, int(reference_mbps * 1000 / kbps + 0.5)))


@dataclass(eq=False)
class OspfInterface:
    ifp: Ifnet
    address: IPv4Interface
    peer: IPv4Address | None  # the far end of a point-to-point address (ifconfig ... A B)
    area: IPv4Address
    cost: int
    hello_interval: int
    dead_interval: int
    retransmit_interval: int
    transmit_delay: int
    passive: bool
    mtu_ignore: bool = False
    neighbor: Neighbor | None = None  # point-to-point: at most one
    hello_timer: Any = None
    hello_due: float = 0.0

    @property
    def name(self) -> str:
        return self.ifp.name

    @property
    def stub_prefix(self) -> IPv4Network:
        """The stub network the router-LSA lists for this interface: the peer's host route on a
        point-to-point address, else the subnet."""
        if self.peer is not None:
            return IPv4Network(self.peer)
        return self.address.network

    @property
    def up(self) -> bool:
        return self.ifp.operational
