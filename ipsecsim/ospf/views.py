"""Read-only snapshots a running ospfd hands to vtysh.

The daemon builds these when asked; :mod:`.show` turns them into the text FRR's
``show`` commands print (ospfd/ospf_vty.c, zebra/zebra_vty.c). Nothing here
holds a reference back into the daemon, so a snapshot stays what it was.
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Protocol

__all__ = ["NeighborView", "RouteView", "OspfRouteView", "OspfInterfaceView", "LsaView", "OspfdView"]

Nexthops = tuple[tuple[IPv4Address | None, str], ...]


@dataclass(frozen=True)
class NeighborView:
    """One neighbor as ``show ip ospf neighbor`` lists it."""

    router_id: IPv4Address
    priority: int
    state: str  # "Down" "Init" "2-Way" "ExStart" "Exchange" "Loading" "Full" (RFC 2328 10.1)
    role: str  # "DROther", "DR", "Backup", or "-" on a point-to-point network
    up_time: float  # seconds since it reached Full (0 if not Full)
    dead_time: float  # seconds left on its inactivity timer
    address: IPv4Address  # its interface address (the Hello's source)
    interface: str
    local_address: IPv4Address
    retransmit_count: int
    request_count: int
    summary_count: int


@dataclass(frozen=True)
class RouteView:
    """One route in zebra's RIB, as ``show ip route`` shows it."""

    prefix: IPv4Network
    protocol: str  # "ospf" "connected" "kernel" "static" "local"
    distance: int
    metric: int
    nexthops: Nexthops  # (gateway or None for directly connected, interface name)
    selected: bool
    installed: bool
    age: float  # seconds since zebra learned it


@dataclass(frozen=True)
class OspfRouteView:
    """One network in ospfd's own routing table (``show ip ospf route``)."""

    prefix: IPv4Network
    cost: int
    area: IPv4Address
    nexthops: Nexthops
    connected: bool


@dataclass(frozen=True)
class OspfInterfaceView:
    """One OSPF interface (``show ip ospf interface [NAME]``)."""

    name: str
    up: bool
    address: IPv4Interface
    peer: IPv4Address | None
    area: IPv4Address
    router_id: IPv4Address
    network_type: str  # "POINTOPOINT" or "BROADCAST", as FRR prints it
    cost: int
    transmit_delay: int
    state: str  # ISM state: "Down" "Loopback" "Waiting" "Point-To-Point" "DROther" "Backup" "DR"
    priority: int
    hello: int
    dead: int
    retransmit: int
    hello_due: float  # seconds until the next Hello
    neighbors: int
    adjacent: int
    passive: bool
    mtu: int


@dataclass(frozen=True)
class LsaView:
    """One LSA header (``show ip ospf database``)."""

    type: int
    link_state_id: IPv4Address
    advertising_router: IPv4Address
    age: int
    seq: int
    checksum: int
    link_count: int


class OspfdView(Protocol):
    """What vtysh asks a running ospfd."""

    router_id: IPv4Address

    def neighbors(self) -> list[NeighborView]: ...

    def ospf_routes(self) -> list[OspfRouteView]: ...

    def interfaces(self) -> list[OspfInterfaceView]: ...

    def database(self) -> list[LsaView]: ...
