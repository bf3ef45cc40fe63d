"""The what-if OSPF routes (one Dijkstra per advertiser, scipy) against ospf/spf.py (a tree per
router, networkx) fed with the router-LSAs each router would originate, and ospfd's choice of
next hop among the first hops, as ospf/daemon.py makes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipsecsim.ospf.spf import shortest_path_tree
from ipsecsim.packet.ospf import INITIAL_SEQ, LINK_PTP, LINK_STUB, OPTION_E, RouterLink, router_lsa
from ipsecsim.scenario import load_scenario
from ipsecsim.scenario.build import build_network
from ipsecsim.whatif import State, Topology, model_from_network
from ipsecsim.whatif.generate import generate, generated_model

VPN = Path(__file__).resolve().parents[2] / "scenarios" / "vpn_failover.yaml"


def _links_of(state: State, name: str):
    """(adjacency end on this router, far router, far interface) of each working adjacency."""
    for adj in state.neighbours(name):
        mine, theirs = (adj.a, adj.b) if adj.a[0] == name else (adj.b, adj.a)
        yield mine[1], theirs[0], theirs[1]


def oracle_routes(state: State, name: str) -> dict:
    model = state.model
    lsas = []
    for router in state.topology.routers:
        if router in state.failed_hosts:
            continue
        host = model.hosts[router]
        links = []
        for oi in sorted(host.ospf.values(), key=lambda o: host.ifaces[o.name].index):
            if not state._end_up(router, oi.name):
                continue
            for mine, far, _ in _links_of(state, router):
                if mine == oi.name:
                    links.append(RouterLink(model.hosts[far].router_id, oi.address, LINK_PTP, oi.cost))
            links.append(RouterLink(oi.stub.network_address, oi.stub.netmask, LINK_STUB, oi.cost))
        lsas.append(router_lsa(age=0, options=OPTION_E, router_id=host.router_id, seq=INITIAL_SEQ, flags=0,
                               links=links))
    me = model.hosts[name]
    result = shortest_path_tree(me.router_id, lsas)
    own = {oi.stub for oi in me.ospf.values() if state._end_up(name, oi.name)}
    wanted = {}
    for prefix, (_, router) in result.prefixes.items():
        if router == me.router_id or prefix in own or (
                prefix.prefixlen == 32 and int(prefix.network_address) in me.local):
            continue
        for hop in result.first_hops.get(router, ()):
            ways = [(me.ospf[mine].cost, me.ifaces[mine].index, mine, model.hosts[far].ospf[far_if].address)
                    for mine, far, far_if in _links_of(state, name) if model.hosts[far].router_id == hop]
            if ways:
                _, _, ifname, gateway = min(ways)
                wanted[prefix] = (ifname, gateway)
                break
    return wanted


def assert_routes_agree(state: State) -> int:
    checked = 0
    for name in state.topology.routers:
        if name in state.failed_hosts:
            continue
        ours = {}
        for key in state.topology.stubs:
            route = state.ospf_route(name, key)
            if route is not None:
                ours[route.prefix] = (route.ifname, route.gateway)
        assert ours == oracle_routes(state, name), name
        checked += len(ours)
    return checked


@pytest.mark.parametrize("seed,max_cost", [(1, 20), (2, 3), (3, 1), (4, 2)])
def test_routes_match_spf_py(seed, max_cost):
    model = generated_model(generate(40, 0, seed=seed, extra=0.6, max_cost=max_cost))
    topology = Topology(model)
    assert assert_routes_agree(topology.base()) > 40 * 30
    links = sorted(model.links)
    for link in links[seed::11]:
        assert assert_routes_agree(State(topology, failed_links=[link])) > 0
    assert assert_routes_agree(State(topology, failed_hosts=["R0", "R7"])) > 0


def test_vpn_failover_routes_match_spf_py():
    scenario = load_scenario(VPN)
    topology = Topology(model_from_network(build_network(scenario, traffic=False), scenario))
    # The far site's /24 on each gateway: the tunnels' /32s the far end advertises are local.
    assert assert_routes_agree(topology.base()) == 2
    assert assert_routes_agree(State(topology, failed_links=["isp1:em1-B:em0"])) == 2
