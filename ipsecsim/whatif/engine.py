"""Converged routing and forwarding of a :class:`~.model.Model` under a set of failures.

OSPF is modelled as ospfd computes it once every adjacency that can form has formed: the
router-LSAs list a point-to-point link for each adjacency and a stub for each interface that
is up, and each router installs, for every stub prefix, the route towards the cheapest
(cost, router ID) advertiser through the lowest-router-ID first hop (see ospf/spf.py and
ospf/daemon.py). Distances come from one Dijkstra per advertiser on the reversed graph
(scipy.sparse.csgraph), so a router's route is found without a tree per router, and a failure
only costs the trees its items ask for.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Iterable

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ..kernel.route import RTF_BLACKHOLE, RTF_GATEWAY, RTF_PROTO1, RTF_REJECT
from .model import Model, RouteEntry

__all__ = ["Adjacency", "Path", "State", "Topology"]

_TTL = 64  # net.inet.ip.ttl: a walk longer than this is a loop


@dataclass(frozen=True, slots=True)
class Adjacency:
    """A possible OSPF adjacency between interface ``a`` and interface ``b`` (host, ifname)."""

    id: int
    a: tuple[str, str]
    b: tuple[str, str]
    link: str | None  # the cable it runs over, or None over a tunnel


@dataclass(frozen=True, slots=True)
class Path:
    """Where one packet goes. ``hops``: the ``host:interface`` it leaves each host by; ``end``:
    the host it reaches (delivered) or where it is lost; ``reply``: a ping's echo reply."""

    reachable: bool
    reason: str | None
    hops: tuple[str, ...]
    end: str | None
    cost: int | None
    links: frozenset[str] = frozenset()  # cables crossed, the tunnels' outer packets' included
    tunnels: tuple[str, ...] = ()  # if_ipsec interfaces entered
    reply: "Path | None" = None

    @property
    def ok(self) -> bool:
        return self.reachable and (self.reply is None or self.reply.reachable)

    def same_route(self, other: "Path") -> bool:
        return (self.reachable, self.reason, self.hops, self.end) == (other.reachable, other.reason, other.hops,
                                                                      other.end) and (
            (self.reply is None) == (other.reply is None)
            and (self.reply is None or other.reply is None or self.reply.same_route(other.reply)))


class Topology:
    """What does not change with failures: the routers, the possible adjacencies, the stubs."""

    def __init__(self, model: Model):
        self.model = model
        hosts = model.hosts
        self.routers = sorted((h.name for h in hosts.values() if h.router_id is not None),
                              key=lambda n: (int(hosts[n].router_id), n))  # type: ignore[arg-type]
        self.index = {name: i for i, name in enumerate(self.routers)}
        self.rid = [int(hosts[n].router_id) for n in self.routers]  # type: ignore[arg-type]
        self.adjacencies: list[Adjacency] = []
        # Prefixes as (network, length) integers: hashing IPv4Network objects costs more than
        # the rest of a lookup on a large network.
        self.stubs: dict[tuple[int, int], list[tuple[str, str, int]]] = {}
        for name in self.routers:
            for oi in hosts[name].ospf.values():
                self.stubs.setdefault(_key(oi.stub), []).append((name, oi.name, oi.cost))
        self.stub_lengths = sorted({length for _, length in self.stubs}, reverse=True)
        for link in sorted(model.links.values(), key=lambda l: l.name):
            if self._compatible(link.a, link.b):
                self.adjacencies.append(Adjacency(len(self.adjacencies), link.a, link.b, link.name))
        seen = set()
        for name in self.routers:
            for iface in sorted(hosts[name].ifaces.values(), key=lambda i: i.index):
                if iface.tunnel is None:
                    continue
                far = model.owner(iface.tunnel[1])
                if far is None:
                    continue
                for other in sorted(hosts[far].ifaces.values(), key=lambda i: i.index):
                    ends = ((name, iface.name), (far, other.name))
                    if (other.tunnel == (iface.tunnel[1], iface.tunnel[0]) and ends[::-1] not in seen
                            and self._compatible(*ends)):
                        seen.add(ends)
                        self.adjacencies.append(Adjacency(len(self.adjacencies), ends[0], ends[1], None))
        self.tunnel_adjacencies = [a for a in self.adjacencies if a.link is None]
        self.by_link: dict[str, list[int]] = {}
        self.by_pair: dict[tuple[str, str], list[int]] = {}
        for adj in self.adjacencies:
            if adj.link is not None:
                self.by_link.setdefault(adj.link, []).append(adj.id)
            self.by_pair.setdefault((adj.a[0], adj.b[0]), []).append(adj.id)
            self.by_pair.setdefault((adj.b[0], adj.a[0]), []).append(adj.id)
        self.base_down = frozenset(name for name, link in model.links.items() if not link.up)
        self.host_links: dict[str, list[str]] = {}
        for link in model.links.values():
            for host in {link.a[0], link.b[0]}:
                self.host_links.setdefault(host, []).append(link.name)
        self.by_host: dict[str, list[Adjacency]] = {}
        for adj in self.adjacencies:
            for end in (adj.a, adj.b):
                self.by_host.setdefault(end[0], []).append(adj)
        self.link_stubs: dict[str, list[tuple[int, int]]] = {}  # what each cable's ends advertise
        for link in model.links.values():
            for host, ifname in (link.a, link.b):
                stub_end = hosts[host].ospf.get(ifname) if host in hosts else None
                if stub_end is not None:
                    self.link_stubs.setdefault(link.name, []).append(_key(stub_end.stub))
        self._base: State | None = None
        self._stub_links: dict[tuple[int, int], list[str]] | None = None
        self._pair_slot: dict[tuple[int, int], int] = {}
        self._base_matrix: csr_matrix | None = None

    def stub_links(self) -> dict[tuple[int, int], list[str]]:
        """(network, length) -> the cables whose ends advertise it."""
        if self._stub_links is None:
            index: dict[tuple[int, int], list[str]] = {}
            for link, prefixes in self.link_stubs.items():
                for prefix in prefixes:
                    index.setdefault(prefix, []).append(link)
            self._stub_links = index
        return self._stub_links

    def _compatible(self, a: tuple[str, str], b: tuple[str, str]) -> bool:
        """Could these two interfaces become OSPF neighbours (Hello parameters, area, not passive)?"""
        hosts = self.model.hosts
        if a[0] not in hosts or b[0] not in hosts or a[0] == b[0]:
            return False
        ha, hb = hosts[a[0]], hosts[b[0]]
        oa, ob = ha.ospf.get(a[1]), hb.ospf.get(b[1])
        if oa is None or ob is None or oa.passive or ob.passive or ha.router_id == hb.router_id:
            return False
        return (oa.area, oa.hello, oa.dead) == (ob.area, ob.hello, ob.dead)

    def weights(self, active: Iterable[int]) -> dict[tuple[int, int], int]:
        """(u, w) -> the metric u's router-LSA gives its link to w (the lowest over parallel ones)."""
        hosts = self.model.hosts
        found: dict[tuple[int, int], int] = {}
        for adj_id in active:
            adj = self.adjacencies[adj_id]
            for (u, ui), (w, _) in ((adj.a, adj.b), (adj.b, adj.a)):
                key = (self.index[u], self.index[w])
                cost = hosts[u].ospf[ui].cost
                if key not in found or cost < found[key]:
                    found[key] = cost
        return found

    def base(self) -> "State":
        if self._base is None:
            self._base = State(self)
        return self._base

    def _full_matrix(self, active: frozenset[int]) -> csr_matrix:
        n = len(self.routers)
        weights = self.weights(active)
        keys = list(weights)
        rows = np.fromiter((w for _, w in keys), dtype=np.int32, count=len(keys))
        cols = np.fromiter((u for u, _ in keys), dtype=np.int32, count=len(keys))
        data = np.fromiter((weights[k] for k in keys), dtype=np.float64, count=len(keys))
        matrix = csr_matrix((data, (rows, cols)), shape=(n, n))
        matrix.sort_indices()
        return matrix

    def matrix(self, active: frozenset[int]) -> csr_matrix:
        """The reversed graph (row w, column u: the metric of u -> w) of these adjacencies: the
        base state's matrix with its weights changed when only adjacencies went away."""
        n = len(self.routers)
        base = self._base  # None while the base state itself is being settled
        if base is None or not active <= base.active:
            return self._full_matrix(active)
        if self._base_matrix is None:
            matrix = self._base_matrix = self._full_matrix(base.active)
            for row in range(n):
                for slot in range(matrix.indptr[row], matrix.indptr[row + 1]):
                    self._pair_slot[(int(matrix.indices[slot]), row)] = slot
        if active == base.active:
            return self._base_matrix
        gone = base.active - active
        data = self._base_matrix.data.copy()
        pairs: set[tuple[int, int]] = set()
        for adj_id in gone:
            adj = self.adjacencies[adj_id]
            u, w = self.index[adj.a[0]], self.index[adj.b[0]]
            pairs.update(((u, w), (w, u)))
        routers = self.routers
        remaining = self.weights(adj_id for u, w in pairs for adj_id in self.by_pair[(routers[u], routers[w])]
                                 if adj_id in active)
        for pair in pairs:
            data[self._pair_slot[pair]] = remaining.get(pair, np.inf)
        return csr_matrix((data, self._base_matrix.indices, self._base_matrix.indptr), shape=(n, n))


class State:
    """The network with ``failed_links`` cut and ``failed_hosts`` powered off, converged."""

    def __init__(self, topology: Topology, failed_links: Iterable[str] = (), failed_hosts: Iterable[str] = ()):
        self.topology = topology
        self.model = topology.model
        self.active: frozenset[int] = frozenset()
        self.failed_hosts = frozenset(failed_hosts)
        down = set(topology.base_down)
        down.update(failed_links)
        for host in self.failed_hosts:
            down.update(topology.host_links.get(host, ()))
        self.down_links = frozenset(down)
        self._dist: dict[int, np.ndarray] = {}
        self._ospf: dict[tuple[str, tuple[int, int]], RouteEntry | None] = {}
        self._outer: dict[tuple[str, str], Path] = {}
        self._matrix: csr_matrix | None = None
        base = topology._base
        if base is not None and not self.failed_hosts and not topology.tunnel_adjacencies:
            # Cables only: the base adjacencies less those over the cut cables (the common,
            # large case; looking at every adjacency again would cost more than the answer).
            cut = {adj_id for link in down - topology.base_down for adj_id in topology.by_link.get(link, ())}
            self._reset(base.active - cut)
            return
        cables = frozenset(a.id for a in topology.adjacencies
                           if a.link is not None and self._end_up(*a.a) and self._end_up(*a.b))
        self.active = cables
        tunnels: frozenset[int] = frozenset()
        if base is not None and topology.tunnel_adjacencies:
            tunnels = frozenset(a.id for a in topology.tunnel_adjacencies if a.id in base.active)
        for _ in range(2 * len(topology.tunnel_adjacencies) + 1):
            self._reset(cables | tunnels)
            working = frozenset(a.id for a in topology.tunnel_adjacencies if self._tunnel_adjacency(a))
            if working == tunnels:
                break
            tunnels = working
        self._reset(cables | tunnels)

    def _reset(self, active: frozenset[int]) -> None:
        self.active = active
        self._dist.clear()
        self._ospf.clear()
        self._outer.clear()
        self._matrix = None
        self._neighbours: dict[str, list[Adjacency]] = {}

    # -- what is up ----------------------------------------------------------------------

    def _end_up(self, host: str, ifname: str) -> bool:
        """Interface up, with carrier if it is cabled, on a host that is on."""
        if host in self.failed_hosts:
            return False
        iface = self.model.hosts[host].ifaces.get(ifname)
        if iface is None or not iface.up:
            return False
        return iface.link is None or iface.link not in self.down_links

    def _tunnel_works(self, host: str, ifname: str) -> tuple[tuple[str, str] | None, Path | None]:
        """(the far end's (host, interface) if the tunnel carries, the outer path) of one
        tunnel end's ESP packets."""
        hosts = self.model.hosts
        iface = hosts[host].ifaces[ifname]
        if iface.tunnel is None or not iface.up:
            return None, None
        src, dst = iface.tunnel
        outer = self.outer(host, ifname)
        if not outer.reachable or outer.end is None or (src, dst, iface.reqid) not in hosts[host].sas:
            return None, outer
        far = hosts[outer.end]
        for other in sorted(far.ifaces.values(), key=lambda i: i.index):
            if other.tunnel == (dst, src) and other.up and (src, dst, other.reqid) in far.sas:
                return (far.name, other.name), outer
        return None, outer

    def _tunnel_adjacency(self, adj: Adjacency) -> bool:
        if not (self._end_up(*adj.a) and self._end_up(*adj.b)):
            return False
        return self._tunnel_works(*adj.a)[0] == adj.b and self._tunnel_works(*adj.b)[0] == adj.a

    def neighbours(self, host: str) -> list[Adjacency]:
        found = self._neighbours.get(host)
        if found is None:
            found = self._neighbours[host] = [a for a in self.topology.by_host.get(host, ()) if a.id in self.active]
        return found

    # -- OSPF -------------------------------------------------------------------------------

    def dist_to(self, router: str) -> np.ndarray:
        """The cost from every router to ``router`` (inf: unreachable)."""
        index = self.topology.index[router]
        found = self._dist.get(index)
        if found is None:
            if self._matrix is None:
                self._matrix = self.topology.matrix(self.active)
            found = self._dist[index] = dijkstra(self._matrix, directed=True, indices=index)
        return found

    def ospf_route(self, host: str, prefix: tuple[int, int]) -> RouteEntry | None:
        key = (host, prefix)
        if key in self._ospf:
            return self._ospf[key]
        self._ospf[key] = route = self._ospf_route(host, prefix)
        return route

    def _ospf_route(self, host: str, prefix: tuple[int, int]) -> RouteEntry | None:
        topo = self.topology
        me = self.model.hosts[host]
        if any(_key(oi.stub) == prefix and self._end_up(host, oi.name) for oi in me.ospf.values()):
            return None  # its own interface's: connected, not ospfd's
        if prefix[1] == 32 and prefix[0] in me.local:
            return None
        u = topo.index[host]
        best: tuple[float, int, str] | None = None
        for router, ifname, cost in topo.stubs.get(prefix, ()):
            if not self._end_up(router, ifname):
                continue
            total = float(self.dist_to(router)[u]) + cost
            if total != np.inf and (best is None or (total, topo.rid[topo.index[router]]) < best[:2]):
                best = (total, topo.rid[topo.index[router]], router)
        if best is None or best[2] == host:
            return None
        dist = self.dist_to(best[2])
        # The first hops: neighbours w with metric(u, w) + dist(w) == dist(u); the lowest router ID wins.
        by_neighbour: dict[str, list[tuple[int, int, str, IPv4Address]]] = {}
        for adj in self.neighbours(host):
            (_, mine), (other, theirs) = (adj.a, adj.b) if adj.a[0] == host else (adj.b, adj.a)
            oi = me.ospf[mine]
            by_neighbour.setdefault(other, []).append(
                (oi.cost, me.ifaces[mine].index, mine, self.model.hosts[other].ospf[theirs].address))
        choice = None
        for other, ways in by_neighbour.items():
            metric = min(w[0] for w in ways)
            if metric + float(dist[topo.index[other]]) == float(dist[u]):
                if choice is None or topo.rid[topo.index[other]] < topo.rid[topo.index[choice]]:
                    choice = other
        if choice is None:
            return None
        _, _, ifname, gateway = min(by_neighbour[choice])
        return RouteEntry(IPv4Network(prefix), ifname, gateway, RTF_GATEWAY | RTF_PROTO1)

    # -- forwarding -----------------------------------------------------------------------

    def lookup(self, host: str, dst: IPv4Address, fib: int = 0) -> RouteEntry | None:
        """Longest-prefix match over the host's static and connected routes and ospfd's; a
        static route to the very prefix ospfd wants keeps ospfd's out of the table."""
        me = self.model.hosts[host]
        lengths, table = me.table(fib)
        value = int(dst)
        ospf = fib == 0 and me.router_id is not None and host not in self.failed_hosts
        for length in _merged(lengths, self.topology.stub_lengths if ospf else []):
            key = value >> (32 - length) << (32 - length) if length else 0
            route = table.get(length, {}).get(key)
            if route is not None:
                return route
            if ospf:
                prefix = (key, length)
                if prefix in self.topology.stubs:
                    found = self.ospf_route(host, prefix)
                    if found is not None:
                        return found
        return None

    def outer(self, host: str, ifname: str) -> Path:
        key = (host, ifname)
        found = self._outer.get(key)
        if found is None:
            iface = self.model.hosts[host].ifaces[ifname]
            assert iface.tunnel is not None
            # Outer packets routed back into a tunnel whose own path is being found: a loop.
            self._outer[key] = Path(False, "loop", (f"{host}:{ifname}",), host, None)
            self._outer[key] = found = self.walk(host, iface.tunnel[1], iface.tunnel_fib)
        return found

    def walk(self, start: str, dst: IPv4Address, fib: int = 0, depth: int = 0) -> Path:
        """The packet ``start`` sends to ``dst``, forwarded as each kernel on the way would."""
        hosts = self.model.hosts
        host, origin = start, True
        hops: list[str] = []
        links: set[str] = set()
        tunnels: list[str] = []
        cost = 0
        ospf_hops = False
        value = int(dst)

        def lost(reason: str, where: str) -> Path:
            return Path(False, reason, tuple(hops), where, cost if ospf_hops else None, frozenset(links), tuple(tunnels))

        for _ in range(_TTL + 1):
            me = hosts[host]
            if host in self.failed_hosts:
                return lost("host down", host)
            if value in me.local:
                return Path(True, None, tuple(hops), host, cost if ospf_hops else None, frozenset(links),
                            tuple(tunnels))
            if not origin and not me.forwarding:
                return lost("not forwarding", host)
            route = self.lookup(host, dst, fib)
            if route is None:
                return lost("no route", host)
            if route.flags & (RTF_REJECT | RTF_BLACKHOLE):
                return lost("reject route" if route.flags & RTF_REJECT else "blackhole route", host)
            iface = me.ifaces[route.ifname]
            hop = f"{host}:{iface.name}"
            hops.append(hop)
            oi = me.ospf.get(iface.name)
            if oi is not None:
                cost += oi.cost
                ospf_hops = True
            if iface.kind == "ether":
                if iface.link is None:
                    return lost("link down", hop)
                far, far_if = self.model.links[iface.link].other_end(host, iface.name)
                if far in self.failed_hosts:
                    links.add(iface.link)
                    return lost("host down", far)
                if not iface.up or iface.link in self.down_links or not hosts[far].ifaces[far_if].up:
                    return lost("link down", hop)
                links.add(iface.link)
                host, fib = far, hosts[far].ifaces[far_if].fib
            elif iface.kind == "ipsec":
                if depth > 4:
                    return lost("loop", hop)
                if iface.outer_ipv6:
                    return lost("not analysed: IPv6 tunnel", hop)
                far_end, outer = self._tunnel_works(host, iface.name)
                if outer is not None:
                    links.update(outer.links)
                tunnels.append(hop)
                if far_end is None:
                    return lost("tunnel down", hop)
                far, far_if = far_end
                host, fib = far, hosts[far].ifaces[far_if].fib
            else:
                return lost("no route", hop)
            origin = False
        return lost("loop", host)


def _key(prefix: IPv4Network) -> tuple[int, int]:
    return int(prefix.network_address), prefix.prefixlen


def _merged(a: list[int], b: list[int]) -> list[int]:
    if not b:
        return a
    if not a:
        return b
    return sorted(set(a) | set(b), reverse=True)
