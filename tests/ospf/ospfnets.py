"""Networks of routers running ospfd, wired by hand with the Network API, for daemon tests."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, ip_interface

import networkx as nx

from ipsecsim.ospf.config import parse_frr_config
from ipsecsim.ospf.daemon import Ospfd
from ipsecsim.world import LinkParams, Network


def frr_text(router_id: str, costs: dict[str, int], *, hello: int = 1, dead: int = 4,
             network: str = "10.0.0.0/8") -> str:
    lines = []
    for ifname, cost in costs.items():
        lines += [f"interface {ifname}", " ip ospf network point-to-point", f" ip ospf cost {cost}",
                  f" ip ospf hello-interval {hello}", f" ip ospf dead-interval {dead}"]
    lines += ["router ospf", f" ospf router-id {router_id}", f" network {network} area 0"]
    return "\n".join(lines) + "\n"


class OspfNet:
    """Routers R0..Rn-1 as the nodes of ``graph`` (edge attribute ``cost``, the same both ways),
    each edge a cable with a /30 from 10.0.0.0/8, ospfd on every router."""

    def __init__(self, graph: nx.Graph, *, seed: int = 1, hello: int = 1, dead: int = 4, delay: float = 0.001):
        self.graph = graph
        self.net = Network(seed=seed)
        self.subnets: dict[tuple[int, int], IPv4Network] = {}
        self.ifname: dict[tuple[int, int], str] = {}  # (router, neighbour) -> interface on router
        self.links: dict[tuple[int, int], str] = {}
        costs: dict[int, dict[str, int]] = {n: {} for n in graph}
        ports = {n: 0 for n in graph}
        for index, (u, v) in enumerate(sorted(tuple(sorted(e)) for e in graph.edges)):
            a, b = f"em{ports[u]}", f"em{ports[v]}"
            ports[u] += 1
            ports[v] += 1
            link = self.net.add_link(f"R{u}:{a}", f"R{v}:{b}", LinkParams(delay=delay))
            self.links[(u, v)] = self.links[(v, u)] = link.name
            subnet = IPv4Network((0x0A000000 + 4 * index, 30))
            self.subnets[(u, v)] = subnet
            hosts = list(subnet.hosts())
            for router, ifname, address in ((u, a, hosts[0]), (v, b, hosts[1])):
                host = self.net.host(f"R{router}")
                host.add_address(host.interfaces[ifname], ip_interface(f"{address}/30"))
                host.sysctl.set("net.inet.ip.forwarding", 1)
            self.ifname[(u, v)], self.ifname[(v, u)] = a, b
            cost = graph.edges[u, v]["cost"]
            costs[u][a] = costs[v][b] = cost
        self.daemons: dict[int, Ospfd] = {}
        for n in graph:
            config = parse_frr_config(frr_text(f"1.1.{n // 256}.{n % 256}", costs[n], hello=hello, dead=dead))
            daemon = Ospfd(self.net.host(f"R{n}"), config)
            assert daemon.unsupported_interfaces() == []
            daemon.start()
            self.daemons[n] = daemon

    def router_of(self, router_id: IPv4Address) -> int:
        return next(n for n, d in self.daemons.items() if d.router_id == router_id)

    def check_routes(self) -> int:
        """Every router's route to every link subnet it is not on follows a shortest path of
        the graph (networkx, as the oracle); returns how many routes were checked."""
        graph = self.graph
        distance = dict(nx.all_pairs_dijkstra_path_length(graph, weight="cost"))
        checked = 0
        for n in graph:
            fib = self.net.host(f"R{n}").fibs[0]
            for (u, v), subnet in self.subnets.items():
                if n in (u, v):
                    continue
                # Each end advertises the subnet as a stub at its interface cost.
                want = min(distance[n].get(u, float("inf")), distance[n].get(v, float("inf"))) + graph.edges[u, v]["cost"]
                route = fib.find(subnet)
                if want == float("inf"):
                    assert route is None, (n, subnet)
                    continue
                assert route is not None, f"R{n} has no route to {subnet}"
                assert self.daemons[n].installed[subnet][2] == want, (n, subnet)
                hop = next(m for m in graph[n] if self.ifname[(n, m)] == route.ifp.name)
                rest = min(distance[hop].get(u, float("inf")), distance[hop].get(v, float("inf"))) + graph.edges[u, v]["cost"]
                assert graph.edges[n, hop]["cost"] + rest == want, f"R{n} -> {subnet} via R{hop} is not shortest"
                checked += 1
        return checked
