"""ospfd's routes equal networkx's shortest paths on random networks, before and after failures."""

import random

import networkx as nx
import pytest

from ipsecsim.ospf.neighbor import NeighborState

from .ospfnets import OspfNet


def random_graph(n: int, seed: int) -> nx.Graph:
    rng = random.Random(seed)
    while True:
        graph = nx.gnm_random_graph(n, int(n * 1.6), seed=rng.randrange(1 << 30))
        if nx.is_connected(graph):
            break
    for u, v in graph.edges:
        graph.edges[u, v]["cost"] = rng.randint(1, 20)
    return graph


@pytest.mark.parametrize("n,seed", [(20, 1), (35, 2), (50, 3)])
def test_routes_are_shortest_paths_and_follow_a_link_failure(n, seed):
    ospf = OspfNet(random_graph(n, seed), seed=seed)
    ospf.net.run(12.0)
    for daemon in ospf.daemons.values():
        assert all(v.state == "Full" for v in daemon.neighbors())
    assert ospf.check_routes() > n

    # Cut a link whose loss keeps the graph connected: both ends lose carrier, notice at once,
    # and every router's routes move to the new shortest paths.
    graph = ospf.graph
    u, v = next((u, v) for u, v in sorted(graph.edges) if nx.is_connected(nx.restricted_view(graph, [], [(u, v)])))
    ospf.net.link(ospf.links[(u, v)]).set_state(False)
    cut_at = ospf.net.now
    graph.remove_edge(u, v)
    del ospf.subnets[tuple(sorted((u, v)))]  # nobody advertises the dead link's subnet any more
    ospf.net.run(cut_at + 12.0)
    down = [t for t, text in ospf.daemons[u].log if "InterfaceDown" in text]
    assert down == [cut_at]
    assert ospf.check_routes() > n


def test_a_router_that_goes_silent_is_dropped_after_the_dead_interval():
    graph = nx.cycle_graph(4)
    nx.set_edge_attributes(graph, 1, "cost")
    ospf = OspfNet(graph, hello=1, dead=4)
    ospf.net.run(10.0)
    # R2 stops answering: its daemon stops (its cables stay up, so only the timers can tell).
    ospf.daemons[2].stop()
    stopped = ospf.net.now
    ospf.net.run(20.0)
    for n in (1, 3):
        down = [t for t, text in ospf.daemons[n].log if "InactivityTimer" in text]
        assert len(down) == 1
        assert stopped + 4 - 1 <= down[0] <= stopped + 4, down  # dead interval after the last Hello
        assert all(view.router_id != ospf.daemons[2].router_id or view.state != NeighborState.FULL.label
                   for view in ospf.daemons[n].neighbors())
    graph.remove_node(2)
    for key in [k for k in ospf.subnets if 2 in k]:
        del ospf.subnets[key]
    del ospf.daemons[2]
    assert ospf.check_routes() > 0
