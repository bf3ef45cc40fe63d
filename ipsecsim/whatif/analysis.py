"""Failures and what they do to each item: unaffected, moved or lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

from .engine import Path, State, Topology
from .model import Item, Model

__all__ = ["Failure", "ItemChange", "FailureResult", "WhatIf", "analyse", "item_path", "parse_failures"]


@dataclass(frozen=True, slots=True)
class Failure:
    """Links cut and hosts powered off together."""

    links: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return ", ".join([f"link {name}" for name in self.links] + [f"host {name}" for name in self.hosts])


@dataclass(frozen=True, slots=True)
class ItemChange:
    item: Item
    status: str  # "unaffected", "moved", "lost", "restored"
    before: Path
    after: Path


@dataclass(slots=True)
class FailureResult:
    failure: Failure
    changes: list[ItemChange]  # the affected items only, in item order
    unaffected: int


@dataclass(slots=True)
class WhatIf:
    model: Model
    base: list[tuple[Item, Path]]
    results: list[FailureResult] = field(default_factory=list)


class FailureError(ValueError):
    """A --fail name that is neither a link nor a host."""


def parse_failures(model: Model, names: list[str]) -> Failure:
    links, hosts = [], []
    for name in names:
        if name in model.links:
            links.append(name)
        elif name in model.hosts:
            hosts.append(name)
        else:
            example = next(iter(sorted(model.links)), "A:em0-B:em0")
            raise FailureError(f"--fail {name}: no link or host of that name (a link is named as the scenario "
                               f"names it, e.g. {example}; a host by its name)")
    return Failure(tuple(links), tuple(hosts))


def item_path(state: State, item: Item) -> Path:
    """The item's packets' path; for a ping, with its echo replies' path as ``reply``."""
    forward = state.walk(item.host, item.dst, item.fib)
    if item.kind != "ping" or not forward.reachable or forward.end is None:
        return forward
    src = item.src
    if src is None:
        me = state.model.hosts[item.host]
        if int(item.dst) in me.local:
            src = item.dst
        else:
            route = state.lookup(item.host, item.dst, item.fib)
            addresses = me.ifaces[route.ifname].addresses if route is not None else []
            src = route.source if route is not None and route.source is not None else (
                addresses[0] if addresses else None)
    if src is None:
        return Path(False, "no source address", forward.hops, item.host, forward.cost)
    reply = state.walk(forward.end, src, 0)
    return Path(forward.reachable, forward.reason, forward.hops, forward.end, forward.cost, forward.links | reply.links,
                forward.tunnels + reply.tunnels, reply)


def _relevant_links(topology: Topology, model: Model, item: Item, path: Path) -> frozenset[str]:
    """The cables whose failure can change this item's path: those it crosses (its tunnels' outer
    packets' too), and those whose ends advertise a prefix holding an address it is sent to.
    Any other adjacency going away only lengthens paths it does not use."""
    found = set(path.links)
    targets = [item.dst]
    for hop in path.tunnels:
        host, _, ifname = hop.partition(":")
        tunnel = model.hosts[host].ifaces[ifname].tunnel
        if tunnel is not None:
            targets.append(tunnel[1])
    if path.reply is not None:
        # The reply goes to the ping's source, an address of the sending host.
        targets.extend(IPv4Address(a) for a in model.hosts[item.host].local)
    index = topology.stub_links()
    for target in targets:
        value = int(target)
        for length in topology.stub_lengths:
            key = value >> (32 - length) << (32 - length) if length else 0
            found.update(index.get((key, length), ()))
    return frozenset(found)


def _status(before: Path, after: Path) -> str:
    if before.same_route(after) or (not before.ok and not after.ok):
        return "unaffected"
    if before.ok and not after.ok:
        return "lost"
    return "restored" if not before.ok else "moved"


def analyse(model: Model, failures: list[Failure], *, shortcut: bool = True) -> WhatIf:
    """Every item's path in the base state, then under each failure. With ``shortcut``, a
    failure of links alone recomputes only the items whose paths it can touch."""
    topology = Topology(model)
    base_state = topology.base()
    base = [(item, item_path(base_state, item)) for item in model.items]
    # A tunnel that could carry OSPF but does not may start to after a failure (its outer
    # packets rerouted): then any path may change, and every item is recomputed.
    safe = shortcut and all(a.id in base_state.active for a in topology.tunnel_adjacencies)
    relevant: dict[str, list[int]] = {}
    if safe:
        for number, (item, path) in enumerate(base):
            for link in _relevant_links(topology, model, item, path):
                relevant.setdefault(link, []).append(number)
    result = WhatIf(model, base)
    for failure in failures:
        if safe and not failure.hosts:
            numbers = sorted({n for link in failure.links for n in relevant.get(link, ())})
        else:
            numbers = list(range(len(base)))
        changes = []
        if numbers:
            state = State(topology, failure.links, failure.hosts)
            for number in numbers:
                item, before = base[number]
                after = item_path(state, item)
                status = _status(before, after)
                if status != "unaffected":
                    changes.append(ItemChange(item, status, before, after))
        result.results.append(FailureResult(failure, changes, len(base) - len(changes)))
    return result
