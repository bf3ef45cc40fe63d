"""The shortest-path tree of one area from its router-LSAs (RFC 2328 section 16.1), with networkx.

Only what point-to-point areas need: routers joined by point-to-point links that both ends
advertise (the two-way check of 16.1 step 2b), and stub networks hung off the routers reached.
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Iterable

import networkx as nx

from ..packet.ospf import LINK_PTP, LINK_STUB, Lsa

__all__ = ["SpfResult", "shortest_path_tree", "stub_prefix"]


@dataclass(frozen=True)
class SpfResult:
    """``distance`` and ``first_hops`` (the neighbours of the root a path starts through) per
    router reached; ``prefixes``: the cheapest (cost, advertising router) of every stub."""

    distance: dict[IPv4Address, int]
    first_hops: dict[IPv4Address, tuple[IPv4Address, ...]]
    prefixes: dict[IPv4Network, tuple[int, IPv4Address]]


def stub_prefix(link_id: IPv4Address, mask: IPv4Address) -> IPv4Network:
    return IPv4Network(f"{link_id}/{mask}", strict=False)


def shortest_path_tree(root: IPv4Address, router_lsas: Iterable[Lsa]) -> SpfResult:
    lsas = {lsa.header.advertising_router: lsa for lsa in router_lsas}
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_node(root)
    advertised = {adv: {(link.link_id, link.metric) for link in lsa.router_links if link.type == LINK_PTP}
                  for adv, lsa in lsas.items()}
    for adv, links in advertised.items():
        for neighbour, metric in links:
            # Two-way check: the neighbour's own LSA must list a point-to-point link back.
            if any(back == adv for back, _ in advertised.get(neighbour, ())):
                if not graph.has_edge(adv, neighbour) or graph[adv][neighbour]["weight"] > metric:
                    graph.add_edge(adv, neighbour, weight=metric)
    predecessors, distance = nx.dijkstra_predecessor_and_distance(graph, root)
    first_hops: dict[IPv4Address, tuple[IPv4Address, ...]] = {root: ()}
    for router in sorted(distance, key=lambda r: (distance[r], int(r))):
        if router == root:
            continue
        hops: set[IPv4Address] = set()
        for parent in predecessors[router]:
            hops.update((router,) if parent == root else first_hops[parent])
        first_hops[router] = tuple(sorted(hops, key=int))
    prefixes: dict[IPv4Network, tuple[int, IPv4Address]] = {}
    for router in sorted(distance, key=int):
        lsa = lsas.get(router)
        if lsa is None:
            continue
        for link in lsa.router_links:
            if link.type != LINK_STUB:
                continue
            prefix = stub_prefix(link.link_id, link.link_data)
            cost = int(distance[router]) + link.metric
            if prefix not in prefixes or cost < prefixes[prefix][0]:
                prefixes[prefix] = (cost, router)
    return SpfResult({r: int(d) for r, d in distance.items()}, first_hops, prefixes)
