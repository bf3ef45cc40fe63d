"""What a what-if analysis needs of a network, without the simulated hosts behind it.

A :class:`Model` holds, per host, its interfaces (state, cable, tunnel ends), its routing
tables without ospfd's routes, its security associations and its OSPF interfaces; the cables;
and the items whose paths are asked for (pings, UDP flows, each tunnel's outer packets).
:func:`model_from_network` reads it off a network built at time 0; a generator can make one
directly for networks too large to build host by host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, ip_address
from typing import TYPE_CHECKING

from ..kernel.if_ipsec import IpsecIf
from ..kernel.ifnet import IFF_RUNNING, IFF_UP
from ..kernel.route import RTF_PROTO1
from ..scenario.models import PingTraffic

if TYPE_CHECKING:
    from ..scenario.models import Scenario
    from ..world import Network

__all__ = ["Model", "HostModel", "IfaceModel", "OspfIfModel", "LinkModel", "Item", "RouteEntry",
           "model_from_network"]


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One route of a routing table: ``gateway`` None for a directly connected one."""

    prefix: IPv4Network
    ifname: str
    gateway: IPv4Address | None
    flags: int
    source: IPv4Address | None = None  # the address packets routed here leave from, if the route says


@dataclass(slots=True)
class IfaceModel:
    name: str
    index: int
    kind: str  # "ether", "ipsec", "loop"
    up: bool  # administratively up and running (carrier is the cable's business)
    addresses: list[IPv4Address] = field(default_factory=list)
    fib: int = 0
    link: str | None = None  # the cable of an Ethernet interface
    tunnel: tuple[IPv4Address, IPv4Address] | None = None  # if_ipsec outer (src, dst), IPv4 only
    reqid: int = 0
    tunnel_fib: int = 0
    outer_ipv6: bool = False  # a tunnel with IPv6 outer addresses: not analysed


@dataclass(frozen=True, slots=True)
class OspfIfModel:
    """An interface ospfd runs on: what its router-LSA and its Hellos say."""

    name: str
    cost: int
    area: IPv4Address
    passive: bool
    hello: int
    dead: int
    address: IPv4Address  # the neighbour's next hop towards this router over this interface
    stub: IPv4Network  # the stub network it advertises while up


@dataclass(slots=True)
class HostModel:
    name: str
    forwarding: bool
    local: frozenset[int]  # its IPv4 addresses, as integers
    ifaces: dict[str, IfaceModel]
    routes: list[list[RouteEntry]]  # per FIB, static and connected routes (not ospfd's)
    sas: frozenset[tuple[IPv4Address, IPv4Address, int]] = frozenset()  # ESP (src, dst, reqid)
    router_id: IPv4Address | None = None  # None: no ospfd
    ospf: dict[str, OspfIfModel] = field(default_factory=dict)
    _tables: list[tuple[list[int], dict[int, dict[int, RouteEntry]]]] | None = None

    def table(self, fib: int) -> tuple[list[int], dict[int, dict[int, RouteEntry]]]:
        """(prefix lengths, longest first; length -> network -> route) of FIB ``fib``."""
        if self._tables is None:
            tables = []
            for routes in self.routes:
                by_length: dict[int, dict[int, RouteEntry]] = {}
                for route in routes:
                    by_length.setdefault(route.prefix.prefixlen, {})[int(route.prefix.network_address)] = route
                tables.append((sorted(by_length, reverse=True), by_length))
            self._tables = tables
        return self._tables[fib] if fib < len(self._tables) else ([], {})


@dataclass(frozen=True, slots=True)
class LinkModel:
    name: str
    a: tuple[str, str]  # (host, interface)
    b: tuple[str, str]
    up: bool = True  # has carrier in the base state

    def other_end(self, host: str, ifname: str) -> tuple[str, str]:
        return self.b if (host, ifname) == self.a else self.a


@dataclass(frozen=True, slots=True)
class Item:
    """Something whose path is asked for. ``kind``: "ping" (its replies come back too),
    "udp" or "tunnel" (the ESP packets of one if_ipsec interface, ``host:ipsecN``)."""

    kind: str
    name: str
    host: str
    dst: IPv4Address
    src: IPv4Address | None = None
    fib: int = 0


@dataclass(slots=True)
class Model:
    hosts: dict[str, HostModel]
    links: dict[str, LinkModel]
    items: list[Item]
    name: str = ""
    notes: list[str] = field(default_factory=list)  # what the analysis leaves out, for the reader
    _owner: dict[int, str] | None = None
    _cable: dict[tuple[str, str], str] | None = None

    def owner(self, address: IPv4Address) -> str | None:
        """The host holding ``address`` (the first by name if several do)."""
        if self._owner is None:
            owners: dict[int, str] = {}
            for name in sorted(self.hosts):
                for value in self.hosts[name].local:
                    owners.setdefault(value, name)
            self._owner = owners
        return self._owner.get(int(address))

    def cable(self, host: str, ifname: str) -> str | None:
        if self._cable is None:
            self._cable = {end: link.name for link in self.links.values() for end in (link.a, link.b)}
        return self._cable.get((host, ifname))


def model_from_network(net: "Network", scenario: "Scenario | None" = None) -> Model:
    """The model of ``net`` as it stands (build it with ``traffic=False`` and do not run it);
    the items are the scenario's pings and UDP flows, then every if_ipsec tunnel's outer packets."""
    notes: list[str] = []
    links = {}
    cabled: dict[object, str] = {}
    for link in net.links.values():
        links[link.name] = LinkModel(link.name, (link.a.host.name, link.a.name), (link.b.host.name, link.b.name),
                                     link.carrier)
        cabled[link.a] = cabled[link.b] = link.name
    hosts = {}
    items: list[Item] = []
    tunnel_items: list[Item] = []
    for name in sorted(net.hosts):
        host = net.hosts[name]
        ifaces = {}
        for ifp in host.interfaces.values():
            iface = IfaceModel(ifp.name, ifp.index, ifp.kind, ifp.flags & (IFF_UP | IFF_RUNNING) == IFF_UP | IFF_RUNNING,
                               [a.address for a in ifp.addrs4], ifp.fib, cabled.get(ifp))
            if isinstance(ifp, IpsecIf):
                iface.reqid = ifp.reqid
                iface.tunnel_fib = ifp.tunnel_fib
                if ifp.src is not None and ifp.src.version == 4 and ifp.dst is not None:
                    iface.tunnel = (IPv4Address(ifp.src), IPv4Address(ifp.dst))
                    tunnel_items.append(Item("tunnel", f"{name}:{ifp.name}", name, iface.tunnel[1], iface.tunnel[0],
                                             ifp.tunnel_fib))
                elif ifp.src is not None:
                    iface.outer_ipv6 = True
                    notes.append(f"{name}:{ifp.name}: a tunnel with IPv6 outer addresses is not analysed")
            ifaces[ifp.name] = iface
        routes = [[RouteEntry(r.dest, r.ifp.name, r.gateway, r.flags, r.source) for r in fib.routes(4)  # type: ignore[arg-type]
                   if not r.flags & RTF_PROTO1] for fib in host.fibs]
        sas = frozenset((IPv4Address(sa.src), IPv4Address(sa.dst), int(sa.reqid))
                        for sa in host.ipsec.keydb.sas("esp") if ip_address(sa.src).version == 4)
        if host.ipsec.has_global_policies():
            notes.append(f"{name}: security policies added with setkey spdadd are not analysed; "
                         "only if_ipsec tunnels are")
        model = HostModel(name, bool(host.inet4.forwarding), frozenset(int.from_bytes(a, "big") for a in host.local4),
                          ifaces, routes, sas)
        daemon = host.daemons.get("ospfd")
        if daemon is not None:
            model.router_id = daemon.router_id
            for oi in daemon.ifaces.values():
                model.ospf[oi.name] = OspfIfModel(oi.name, oi.cost, oi.area, oi.passive, oi.hello_interval,
                                                  oi.dead_interval, oi.address.ip, oi.stub_prefix)
        hosts[name] = model
    if scenario is not None:
        for traffic in scenario.traffic:
            spec = traffic
            kind = "ping" if isinstance(spec, PingTraffic) else "udp"
            if spec.to.version != 4:
                notes.append(f"{kind} {spec.name}: IPv6 traffic is not analysed")
                continue
            items.append(Item(kind, spec.name, spec.from_host, IPv4Address(spec.to),
                              IPv4Address(spec.source) if spec.source is not None else None))
    return Model(hosts, links, items + tunnel_items, scenario.name if scenario is not None else "", notes)
