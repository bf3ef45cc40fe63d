"""Turn a loaded :class:`Scenario` into a running :class:`~ipsecsim.world.Network`.

Run scripts execute at time 0 in file order, each host's ``tunnels:`` lines before its own
``run:`` block (see ``tunnels.py``); traffic and timeline events are
scheduled on the clock. Command errors are collected (``file:line:col: message``)
and, with ``strict``, the first one stops the build.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ..ike.config import parse_swanctl
from ..ike.daemon import Charon
from ..ospf.config import parse_frr_config
from ..ospf.daemon import Ospfd
from ..packet.ospf import ALL_SPF_ROUTERS, OSPF_PROTO
from ..world.flowmon import DEFAULT_BIN
from ..world import Bernoulli, GilbertElliott, LinkParams, Network
from .errors import Diagnostic, ScenarioError
from .models import GilbertElliott as GilbertElliottSpec
from .models import HostState, InterfaceState, LinkSet, LinkState, PingTraffic, RunCommand, Scenario, UdpFlow
from .tunnels import host_scripts, join_scripts
from .units import format_duration, format_rate

__all__ = ["build_network", "late_timeline_events", "link_params", "loss_model", "start_charon", "start_ospfd"]


def loss_model(loss):
    """The world's loss model for a scenario ``loss:`` value (a fraction or a Gilbert-Elliott spec)."""
    if isinstance(loss, GilbertElliottSpec):
        return GilbertElliott(loss.p, loss.r, loss.loss_good, loss.loss_bad)
    return Bernoulli(loss) if loss else None


def _queue(queue) -> tuple[int | None, int | None]:
    return (queue.limit, None) if queue.unit == "packets" else (None, queue.limit)


def link_params(link) -> LinkParams:
    packets, octets = _queue(link.queue)
    return LinkParams(bandwidth=link.bandwidth, delay=link.delay, jitter=link.jitter, reorder=link.reorder,
                      loss=loss_model(link.loss), queue_packets=packets, queue_bytes=octets, mtu=link.mtu)


def _changes(changes) -> dict:
    converted = {}
    for key, value in changes.changed().items():
        if key == "loss":
            converted[key] = loss_model(value)
        elif key == "queue":
            converted[key] = _queue(value)
        else:
            converted[key] = value
    return converted


def build_network(scenario: Scenario, *, seed: int | None = None, pcap_dir: Path | None = None,
                  trace_file: Path | None = None, strict: bool = False, traffic: bool = True,
                  bin: float = DEFAULT_BIN) -> Network:
    """The network of ``scenario`` with its run: blocks done; ``traffic=False`` starts no
    pings or flows (the timeline still happens), for ``check`` and for hands-on work."""
    net = Network(seed=scenario.seed if seed is None else seed)
    net.enable_ledger()
    net.enable_flow_monitor(bin)
    if pcap_dir is not None or trace_file is not None:
        net.enable_capture(pcap_dir, trace_file)
    for link in scenario.links:
        net.add_link(str(link.a), str(link.b), link_params(link), name=link.name, up=link.up)
    for name in scenario.hosts:
        net.add_host(name)
    owners: dict = {}
    problems = []
    for name, parts in host_scripts(scenario).items():  # its tunnels' lines, then its run: block
        for part in parts:
            _run(net, name, part.script, strict, part.path)
        if parts:
            problems += _duplicate_addresses(net, name, join_scripts(p.script for p in parts), owners)
        # A host booting again after a timeline "state: down" runs the same lines, in order.
        net.startup[name] = partial(_run_all, net, name, parts, strict)
    if problems:
        raise ScenarioError(problems)
    for name, spec in scenario.hosts.items():
        if spec.frr is not None:
            start_ospfd(net, name, spec.frr)
        if spec.swanctl is not None:
            start_charon(net, name, spec.swanctl)
    for item in scenario.traffic if traffic else ():
        if isinstance(item, PingTraffic):
            net.start_ping(item.from_host, item.to, start=item.start, count=item.count, interval=item.interval,
                           size=item.size, ttl=item.ttl, source=item.source, name=item.name)
        elif isinstance(item, UdpFlow):
            net.start_udp(item.name, item.from_host, item.to, rate=item.rate, size=item.size, start=item.start,
                          stop=item.stop, sport=item.sport, dport=item.dport, source=item.source)
    for index, event in enumerate(scenario.timeline):
        if isinstance(event, RunCommand):
            net.at(event.at, _happens, net, describe_timeline_event(event),
                   partial(_run_if_up, net, event.host, event.run, strict, f"timeline[{index}].run"))
        elif isinstance(event, InterfaceState):
            net.at(event.at, _happens, net, describe_timeline_event(event),
                   partial(_set_interface, net, event, index))
        elif isinstance(event, HostState):
            net.at(event.at, _happens, net, describe_timeline_event(event),
                   partial(net.host_up if event.up else net.host_down, event.host))
        elif isinstance(event, LinkState):
            net.at(event.at, _happens, net, describe_timeline_event(event),
                   partial(net.link(event.link).set_state, event.up))
        elif isinstance(event, LinkSet):
            net.at(event.at, _happens, net, describe_timeline_event(event),
                   partial(net.link(event.link).set, **_changes(event.changes)))
    return net


def start_ospfd(net: Network, name: str, frr) -> None:
    """ospfd on host ``name`` from its frr.conf text (checked when the scenario was loaded), if
    the text has a ``router ospf`` block; an interface it cannot run on is a scenario error.
    A host that boots again after a timeline ``state: down`` starts a fresh ospfd."""
    config = parse_frr_config(frr.text)
    if not config.ospf_enabled:
        return
    unsupported = Ospfd(net.host(name), config).unsupported_interfaces()
    if unsupported:
        line, col = frr.position(0)
        raise ScenarioError([Diagnostic(frr.file, line, col, f"hosts.{name}.frr", unsupported[0])])
    if net.flowmon is not None:
        for ifp in net.host(name).interfaces.values():
            if ifp.addrs4 and ifp.name != "lo0":
                net.flowmon.name_protocol(f"ospf {name} {ifp.name}", name, ifp.addrs4[0].address, ALL_SPF_ROUTERS,
                                          OSPF_PROTO)
    daemon = Ospfd(net.host(name), config)
    net.routing_daemons.append(daemon)
    daemon.start()

    def restart(booted: str) -> None:
        if booted == name:
            again = Ospfd(net.host(name), parse_frr_config(frr.text))
            net.routing_daemons.append(again)
            again.start()

    net.boot_hooks.append(restart)


def start_charon(net: Network, name: str, swanctl) -> None:
    """charon on host ``name`` from its swanctl.conf text (checked when the scenario was loaded),
    after the host's run: lines, so its if_ipsec(4) interfaces and their policies exist. A host
    that boots again after a timeline ``state: down`` starts a fresh charon (its SAs are gone)."""
    charon = Charon(net.host(name), parse_swanctl(swanctl.text))
    net.ike_daemons.append(charon)
    charon.start()

    def restart(booted: str) -> None:
        if booted == name:
            again = Charon(net.host(name), parse_swanctl(swanctl.text))
            net.ike_daemons.append(again)
            again.start()

    net.boot_hooks.append(restart)


def describe_timeline_event(event) -> str:
    """One line for the summary and the plots: ``link A:em0-B:em0 down``, ``A: ifconfig em0 down``."""
    if isinstance(event, RunCommand):
        lines = [line.strip() for line in event.run.text.splitlines() if line.strip()]
        more = f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else ""
        return f"{event.host}: {lines[0] if lines else ''}{more}"
    if isinstance(event, LinkState):
        return f"link {event.link} {event.state}"
    if isinstance(event, InterfaceState):
        return f"{event.host}: interface {event.interface} {event.state}"
    if isinstance(event, HostState):
        return f"host {event.host} {'boots' if event.up else 'powered off'}"
    changes = ", ".join(f"{key} {_shown(key, value)}" for key, value in event.changes.changed().items())
    return f"link {event.link} set {changes}"


def _shown(key: str, value) -> str:
    """A changed link attribute as a scenario would write it."""
    if key == "bandwidth":
        return format_rate(value)
    if key in ("delay", "jitter"):
        return format_duration(value)
    if key == "loss":
        return f"{value * 100:g}%" if isinstance(value, float | int) else repr(loss_model(value))
    if key == "queue":
        return f"{value.limit} {value.unit}"
    return str(value)


def _happens(net: Network, what: str, action) -> None:
    """A timeline event: written down (for the summary and the plots' time axes), then done."""
    net.timeline.append((net.now, what))
    action()


def late_timeline_events(scenario: Scenario, duration: float) -> list[tuple[str, str]]:
    """``(file:line:col, what)`` of each timeline event at or after the end of the run: it never
    happens, since the clock stops at ``duration`` before anything scheduled for that instant runs."""
    return [(event.where("at"), f"timeline[{index}].at: {format_duration(event.at)} is not before the end of "
             f"the run ({format_duration(duration)}), so this event never happens; move it earlier or make "
             "the run longer (duration:, --duration)")
            for index, event in enumerate(scenario.timeline) if event.at >= duration]


def _duplicate_addresses(net: Network, name: str, script, owners: dict) -> list[Diagnostic]:
    """Two hosts configured with one address: point at the ifconfig line of the second."""
    problems = []
    for ifp in net.host(name).interfaces.values():
        if ifp.kind == "loop":
            continue
        for entry in ifp.addrs4 + ifp.addrs6:
            address = entry.address
            if address in owners and owners[address] != name:
                lines = script.text.split("\n")
                index = next((i for i, line in enumerate(lines) if str(address) in line), 0)
                line, col = script.position(index)
                problems.append(Diagnostic(script.file, line, col, f"hosts.{name}.run",
                                           f"{address} is already an address of host {owners[address]}"))
            owners.setdefault(address, name)
    return problems


def _run_all(net: Network, host: str, parts, strict: bool) -> None:
    for part in parts:
        _run(net, host, part.script, strict, part.path)


def _run_if_up(net: Network, host: str, script, strict: bool, path: str) -> None:
    if not net.host(host).powered:
        net.notes.append(f"{script.where(0)}: {path}: host {host} is down at {format_duration(net.now)}; "
                         "the commands did not run")
        return
    _run(net, host, script, strict, path)


def _set_interface(net: Network, event: InterfaceState, index: int) -> None:
    """ifconfig IF up|down; an interface that does not exist then (a script did not make it,
    or the host is down) is told in the notes, with where the timeline entry is."""
    host = net.host(event.host)
    if event.interface not in host.interfaces:
        state = " (the host is down)" if not host.powered else ""
        net.notes.append(f"{event.where('interface')}: timeline[{index}]: host {event.host} has no interface "
                         f"{event.interface} at {format_duration(net.now)}{state}; nothing changed")
        return
    net.set_interface(event.host, event.interface, event.up)


class ScriptFailed(ScenarioError):
    """``--strict``: a command in a script failed; the run stops here."""


def _run(net: Network, host: str, script, strict: bool, path: str) -> None:
    result = net.sh(host, script.text, file=script.file, positions=list(script.lines), strict=strict)
    if strict and result.errors:
        error = result.errors[0]
        raise ScriptFailed([Diagnostic(error.file or script.file, error.line, error.col,
                                       path, error.message)])
