"""Random OSPF networks of N routers with UDP flows: as a scenario YAML, or as the what-if model
that building that scenario would give, made directly (building 10,000 simulated hosts takes
minutes; the model takes a second).

Router ``Ri`` has one cable per neighbour (``em0``, ``em1``... in cable order), a /30 from
10.0.0.0/8 on each cable, forwarding on, and ospfd with a point-to-point network and a random
cost (1-20) on each interface, router ID 1.(i >> 16).(i >> 8 & 255).(i & 255) + 1.0.0.0. The
graph is a random tree (each router joins an earlier one) plus ``extra`` random cables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
import random

from ..kernel.route import RTF_HOST, RTF_STATIC, RTF_UP
from .model import HostModel, IfaceModel, Item, LinkModel, Model, OspfIfModel, RouteEntry

__all__ = ["GeneratedNetwork", "generate", "generated_model", "scenario_yaml"]

_BASE = int(IPv4Address("10.0.0.0"))
_LOOPBACK = IPv4Address("127.0.0.1")
_AREA = IPv4Address(0)


@dataclass(frozen=True)
class GeneratedNetwork:
    routers: int
    cables: list[tuple[int, int, int, int]]  # (u, v, cost at u, cost at v), in cable order
    flows: list[tuple[str, int, int]]  # (name, from router, to router: its em0 address)
    seed: int
    pings: list[tuple[str, int, int]] = field(default_factory=list)  # as flows, one echo request each

    def ports(self) -> list[list[tuple[int, int]]]:
        """Per router, (cable number, neighbour) of em0, em1..."""
        found: list[list[tuple[int, int]]] = [[] for _ in range(self.routers)]
        for number, (u, v, _, _) in enumerate(self.cables):
            found[u].append((number, v))
            found[v].append((number, u))
        return found

    def address(self, cable: int, router: int) -> IPv4Address:
        u = self.cables[cable][0]
        return IPv4Address(_BASE + 4 * cable + (1 if router == u else 2))


def router_id(i: int) -> IPv4Address:
    return IPv4Address(int(IPv4Address("1.0.0.0")) + i + 1)


def generate(routers: int, flows: int = 100, *, seed: int = 1, extra: float = 0.5, max_cost: int = 20,
             pings: int = 0) -> GeneratedNetwork:
    """``max_cost``: interface costs are drawn from 1..max_cost (small values make equal-cost ties)."""
    if routers < 2:
        raise ValueError("a network has at least 2 routers")
    rng = random.Random(seed)
    edges: set[tuple[int, int]] = set()
    for i in range(1, routers):
        edges.add((rng.randrange(i), i))
    wanted = len(edges) + int(extra * routers)
    tries = 0
    while len(edges) < wanted and tries < 10 * wanted:
        tries += 1
        u, v = sorted(rng.sample(range(routers), 2))
        edges.add((u, v))
    cables = [(u, v, rng.randint(1, max_cost), rng.randint(1, max_cost)) for u, v in sorted(edges)]
    chosen = [_pair(rng, f"f{number + 1}", routers) for number in range(flows)]
    echoes = [_pair(rng, f"p{number + 1}", routers) for number in range(pings)]
    return GeneratedNetwork(routers, cables, chosen, seed, echoes)


def _pair(rng: random.Random, name: str, routers: int) -> tuple[str, int, int]:
    u, v = rng.sample(range(routers), 2)
    return name, u, v


def _em0_address(net: GeneratedNetwork, ports, router: int) -> IPv4Address:
    return net.address(ports[router][0][0], router)


def scenario_yaml(net: GeneratedNetwork, *, duration: str = "10s") -> str:
    """The scenario an administrator would write for this network."""
    ports = net.ports()
    lines = [f"name: generated OSPF network, {net.routers} routers, seed {net.seed}", f"duration: {duration}",
             f"seed: {net.seed}", "links:"]
    slot = [0] * net.routers
    for u, v, _, _ in net.cables:
        lines.append(f"  - {{a: R{u}:em{slot[u]}, b: R{v}:em{slot[v]}, bandwidth: 1Gbit/s, delay: 1ms}}")
        slot[u] += 1
        slot[v] += 1
    lines.append("hosts:")
    for router in range(net.routers):
        lines += [f"  R{router}:", "    run: |"]
        for port, (cable, _) in enumerate(ports[router]):
            lines.append(f"      ifconfig em{port} inet {net.address(cable, router)}/30")
        lines += ["      sysctl net.inet.ip.forwarding=1", "    frr: |"]
        for port, (cable, _) in enumerate(ports[router]):
            u, _, cost_u, cost_v = net.cables[cable]
            lines += [f"      interface em{port}", "       ip ospf network point-to-point",
                      f"       ip ospf cost {cost_u if router == u else cost_v}"]
        lines += ["      router ospf", f"       ospf router-id {router_id(router)}", "       network 10.0.0.0/8 area 0"]
    lines.append("traffic:")
    for name, u, v in net.flows:
        lines.append(f"  - {{udp: {{name: {name}, from: R{u}, to: {_em0_address(net, ports, v)}, rate: 1Mbit/s}}}}")
    for name, u, v in net.pings:
        lines.append(f"  - {{ping: {{name: {name}, from: R{u}, to: {_em0_address(net, ports, v)}, count: 1}}}}")
    return "\n".join(lines) + "\n"


def generated_model(net: GeneratedNetwork) -> Model:
    """The model :func:`~.model.model_from_network` gives for :func:`scenario_yaml`'s network."""
    ports = net.ports()
    links = {}
    slot = [0] * net.routers
    for u, v, _, _ in net.cables:
        name = f"R{u}:em{slot[u]}-R{v}:em{slot[v]}"
        links[name] = LinkModel(name, (f"R{u}", f"em{slot[u]}"), (f"R{v}", f"em{slot[v]}"))
        slot[u] += 1
        slot[v] += 1
    hosts = {}
    loopback_routes = RouteEntry(IPv4Network(_LOOPBACK), "lo0", None, RTF_UP | RTF_HOST, _LOOPBACK)
    for router in range(net.routers):
        name = f"R{router}"
        ifaces = {"lo0": IfaceModel("lo0", 1, "loop", True, [_LOOPBACK])}
        routes = [loopback_routes]
        ospf = {}
        local = {int(_LOOPBACK)}
        for port, (cable, other) in enumerate(ports[router]):
            u, v, cost_u, cost_v = net.cables[cable]
            address = net.address(cable, router)
            ifname = f"em{port}"
            link = f"R{u}:em{ports[u].index((cable, v))}-R{v}:em{ports[v].index((cable, u))}"
            ifaces[ifname] = IfaceModel(ifname, 2 + port, "ether", True, [address], link=link)
            subnet = IPv4Network((_BASE + 4 * cable, 30))
            routes.append(RouteEntry(subnet, ifname, None, RTF_UP, address))
            routes.append(RouteEntry(IPv4Network(address), "lo0", None, RTF_UP | RTF_HOST | RTF_STATIC, address))
            ospf[ifname] = OspfIfModel(ifname, cost_u if router == u else cost_v, _AREA, False, 10, 40, address, subnet)
            local.add(int(address))
        hosts[name] = HostModel(name, True, frozenset(local), ifaces, [routes], router_id=router_id(router),
                                ospf=ospf)
    items = [Item("udp", name, f"R{u}", _em0_address(net, ports, v)) for name, u, v in net.flows]
    items += [Item("ping", name, f"R{u}", _em0_address(net, ports, v)) for name, u, v in net.pings]
    return Model(hosts, links, items, f"generated OSPF network, {net.routers} routers, seed {net.seed}")
