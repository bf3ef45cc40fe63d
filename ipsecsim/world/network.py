"""The simulated network: hosts, links, the programs running on them, and the clock.

This is the one object that owns a run. ``scenario`` builds it from a YAML file;
Python users and notebooks may build one by hand:

    net = Network(seed=1)
    net.add_link("A:em0", "B:em0", LinkParams(bandwidth=10e6, delay=0.001))
    net.sh("A", "ifconfig em0 inet 10.0.0.1/24")
"""

from collections.abc import Callable
from functools import partial
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import networkx as nx

from ..kernel import Host
from ..kernel.route import Route, format_route_flags
from ..userland.console import Console
from ..userland.ping import Ping
from ..userland.shell import CommandError, Shell, ShellResult
from ..userland.udpflow import FlowSocket, FlowStats, UdpSender, UdpSink
from .capture import Capture
from .engine import Engine
from .ledger import DatagramLedger
from .flowmon import DEFAULT_BIN, MAX_PACKET_AGE, FlowMonitor
from .link import Link, LinkParams
from .outages import flow_outages, ping_outages

__all__ = ["Network", "NetworkError"]


class NetworkError(Exception):
    """A request that does not fit the network (an unknown host or link, a port in use)."""


class Network:
    def __init__(self, seed: int = 1):
        self.engine = Engine(seed)
        self.hosts: dict[str, Host] = {}
        self.links: dict[str, Link] = {}
        self.consoles: dict[str, Console] = {}
        self.shells: dict[str, Shell] = {}
        self.pings: list[Ping] = []
        self.flows: dict[str, FlowStats] = {}
        self.flow_sockets: list[FlowSocket] = []  # the sockets the flows' sinks are bound to
        self.command_errors: list[CommandError] = []
        self.notes: list[str] = []  # things the run could not do, told to the user in the summary
        self.timeline: list[tuple[float, str]] = []  # (time, what) of each timeline event done
        self.capture: Capture | None = None
        self.ledger: DatagramLedger | None = None
        self.flowmon: FlowMonitor | None = None  # per-flow statistics: enable_flow_monitor()
        # Called with every host, those already here and those added later (see add_observer).
        self.host_watchers: list = []
        # What each host runs when it boots again after a timeline "state: down" (the scenario's
        # lines for it: build_network sets this), then every boot hook, called with its name.
        self.startup: dict[str, Callable[[], None]] = {}
        self.boot_hooks: list[Callable[[str], None]] = []
        # Every change to a routing table after time 0: {"time", "host", "change", "destination",
        # "gateway", "interface", "flags"}.
        self.route_changes: list[dict] = []
        self.routing_daemons: list = []  # every ospfd started, those stopped by a power-off too
        self.ike_daemons: list = []  # every charon started, in order, those stopped by a power-off too
        self._ping_starts: dict[Ping, float] = {}
        self._udp: dict[str, tuple[UdpSender, list[UdpSink]]] = {}
        self._ephemeral: dict[str, int] = {}

    # -- building -----------------------------------------------------------------

    def add_host(self, name: str) -> Host:
        if name in self.hosts:
            return self.hosts[name]
        host = Host(name, clock=self.engine, rng=self.engine.rng("host", name))
        self.hosts[name] = host
        for fib in host.fibs:
            fib.listeners.append(partial(self._route_changed, host))
        self.consoles[name] = Console(host)
        self.shells[name] = Shell(host, self.consoles[name])
        if self.capture is not None:
            self.capture.attach(host)
        for watch in self.host_watchers:
            watch(host)
        return host

    def host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise NetworkError(f"no host named {name!r}") from None

    def add_link(self, a: str, b: str, params: LinkParams | None = None, *, name: str | None = None,
                 up: bool = True) -> Link:
        """Cable ``"HOST:IF"`` to ``"HOST:IF"``; hosts and interfaces are created as needed."""
        name = name or f"{a}-{b}"
        if name in self.links:
            raise NetworkError(f"a link named {name!r} already exists")
        ends = []
        for end in (a, b):
            host_name, _, if_name = end.partition(":")
            host = self.add_host(host_name)
            if if_name in host.interfaces:
                raise NetworkError(f"{end} is already cabled")
            ends.append(host.create_ether(if_name))
        link = Link(self.engine, name, ends[0], ends[1], params or LinkParams(), up=up)
        self.links[name] = link
        return link

    def link(self, name: str) -> Link:
        try:
            return self.links[name]
        except KeyError:
            raise NetworkError(f"no link named {name!r}") from None

    # -- running commands and programs ----------------------------------------------

    def sh(self, host: str, text: str, *, file: str | None = None,
           positions: list[tuple[int, int]] | None = None, strict: bool = False) -> ShellResult:
        """Run a script on ``host`` now; its errors are kept for the summary."""
        result = self.shells[self.host(host).name].run(text, file=file, positions=positions, strict=strict)
        self.command_errors.extend(result.errors)
        return result

    def at(self, when: float, fn, *args, **kwargs) -> None:
        """Call ``fn(*args, **kwargs)`` at simulated time ``when``."""
        self.engine.call_at(when, partial(fn, *args, **kwargs) if kwargs else fn, *args if not kwargs else ())

    def start_ping(self, host: str, dst: IPv4Address | IPv6Address, *, start: float = 0.0, **options) -> Ping:
        console = self.consoles[self.host(host).name]
        ping = Ping(self.hosts[host], dst, write=console.write, **options)
        self.pings.append(ping)
        self._ping_starts[ping] = start
        if self.flowmon is not None:
            self.flowmon.name_ping(ping.name, host, dst, ping.ident)
        self.engine.call_at(start, ping.start)
        return ping

    def start_udp(self, name: str, host: str, dst: IPv4Address | IPv6Address, *, rate: float, size: int,
                  start: float, stop: float, sport: int = 0, dport: int = 9,
                  source: IPv4Address | IPv6Address | None = None) -> FlowStats:
        if name in self.flows:
            raise NetworkError(f"a flow named {name!r} already exists")
        sender_host = self.host(host)
        stats = self.flows[name] = FlowStats(name, rate=rate)
        sport = sport or self._ephemeral_port(host)
        flow_id = len(self.flows)  # 1, 2, ...: unique in the network, the same every run
        if self.flowmon is not None:
            self.flowmon.name_udp(name, host, dst, sport, dport)
        sender = UdpSender(sender_host, dst, rate=rate, size=size, start=start, stop=stop,
                           sport=sport, dport=dport, stats=stats, flow_id=flow_id, source=source)
        sinks: list[UdpSink] = []
        self._udp[name] = (sender, sinks)

        def bind_sink_and_start() -> None:
            owner = next((h for h in self.hosts.values() if h.is_local(dst)), None)
            if owner is None:
                self.notes.append(f"udp flow {name}: no host has address {dst} at {start:g}s; nothing receives it")
            else:
                try:
                    sink = UdpSink(owner, dport, stats, flow_id).bind()
                    socket = sink.socket
                except ValueError as error:
                    self.notes.append(f"udp flow {name}: {error}")
                else:
                    sinks.append(sink)
                    if socket is not None and socket not in self.flow_sockets:
                        self.flow_sockets.append(socket)
            sender.start()

        self.engine.call_at(start, bind_sink_and_start)
        return stats

    def _ephemeral_port(self, host: str) -> int:
        # FreeBSD's default ephemeral range starts at 49152 (net.inet.ip.portrange.first).
        port = self._ephemeral.get(host, 49151) + 1
        self._ephemeral[host] = port
        return port

    # -- changes over time (the timeline) -------------------------------------------------

    def set_interface(self, host: str, interface: str, up: bool) -> None:
        """``ifconfig IF up|down`` (IFF_UP): link-state listeners hear of it at once."""
        self.host(host).interface(interface).set_up(up)

    def host_down(self, name: str) -> None:
        """Power ``name`` off: its programs stop (daemons, and what its scripts started in the
        background; the scenario's traffic keeps its schedule and its sends fail), its cables
        lose carrier at both ends, what reaches it is dropped ("host down"), and its kernel
        state is gone (Host.power_off)."""
        host = self.host(name)
        if not host.powered:
            return
        for daemon in list(host.daemons.values()):
            daemon.stop()
        host.daemons.clear()
        for program in self.shells[name].programs:  # what its scripts started: ping, setkey -x
            if isinstance(program, Ping):
                program.kill()
            elif hasattr(program, "stop"):
                program.stop()
        host.powered = False  # before the carrier goes: nothing the host does from here is sent
        for link in self._links_of(host):
            link.set_end_power(link.a if link.a.host is host else link.b, False)
        host.power_off()

    def host_up(self, name: str) -> None:
        """Boot ``name`` again: lo0, its cables' carrier, the scenario's lines for it (startup),
        then every boot hook. Flow sinks and running pings on it listen again."""
        host = self.host(name)
        if host.powered:
            return
        host.boot()
        for socket in self.flow_sockets:
            if socket.host is host:
                host.inet4.udp_ports[socket.port] = host.inet6.udp_ports[socket.port] = socket
        for ping in self.pings:
            if ping.host is host and ping.started and not ping.done:
                stack = host.inet6 if ping.dst.version == 6 else host.inet4
                if ping._on_icmp not in stack.icmp_listeners:  # not if it started while the host was down
                    stack.icmp_listeners.append(ping._on_icmp)
        for link in self._links_of(host):
            end = link.a if link.a.host is host else link.b
            end.mtu = link.params.mtu
            link.set_end_power(end, True)
        startup = self.startup.get(name)
        if startup is not None:
            startup()
        for hook in list(self.boot_hooks):
            hook(name)

    def _links_of(self, host: Host) -> list[Link]:
        return [link for link in self.links.values() if link.a.host is host or link.b.host is host]

    def _route_changed(self, host: Host, change: str, route: Route) -> None:
        if self.engine.now > 0:
            self.route_changes.append({
                "time": self.engine.now, "host": host.name, "change": change, "destination": str(route.dest),
                "gateway": None if route.gateway is None else str(route.gateway), "interface": route.ifp.name,
                "flags": format_route_flags(route.flags),
            })

    def outages(self) -> list[dict]:
        """Each ping's and UDP flow's outages so far (world/outages.py), in time order."""
        found = []
        for ping in self.pings:
            if ping.started:
                found += ping_outages(ping.name, ping, self._ping_starts[ping], self.now)
        for name, (sender, sinks) in self._udp.items():
            if sinks:
                found += flow_outages(name, sender, sinks[0], self.now)
        return sorted(found, key=lambda o: o["start"])

    # -- time ---------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.engine.now

    def run(self, until: float) -> None:
        self.engine.run(until)

    def watch_hosts(self, watch) -> None:
        """Call ``watch(host)`` for every host, now and as hosts are added (monitors attach so)."""
        self.host_watchers.append(watch)
        for host in self.hosts.values():
            watch(host)

    def enable_ledger(self) -> DatagramLedger:
        """Keep the books of every datagram the hosts send (``ledger.close_books(net)`` tells them)."""
        if self.ledger is None:
            self.ledger = DatagramLedger(self.engine)
            self.watch_hosts(self.ledger.attach)
        return self.ledger

    def enable_flow_monitor(self, bin: float = DEFAULT_BIN, max_age: float = MAX_PACKET_AGE) -> FlowMonitor:
        """Per-flow statistics and time series sampled every ``bin`` seconds (``flowmon.py``);
        start it before the traffic, so that flows get their names."""
        if self.flowmon is None:
            self.flowmon = FlowMonitor(self, bin, max_age)
        return self.flowmon

    def enable_capture(self, pcap_dir: Path | None = None, trace_file: Path | None = None) -> Capture:
        self.capture = Capture(self.engine, pcap_dir, trace_file)
        for host in self.hosts.values():
            self.capture.attach(host)
        return self.capture

    def close(self) -> None:
        if self.capture is not None:
            try:
                esp = self.capture.write_esp_sa(self.hosts.values())
                ike = self.capture.write_ike_keys(self.ike_daemons)
                if esp is not None or ike is not None:
                    what = "ESP and IKE" if esp is not None and ike is not None else "ESP" if esp else "IKE"
                    self.notes.append(f"decrypt the {what} captures with: {self.capture.decrypt_hint()}")
            finally:  # the captures are closed (flushed) even if esp_sa cannot be written
                self.capture.close()

    # -- views ---------------------------------------------------------------------------

    @property
    def topology(self) -> nx.MultiGraph:
        """Hosts as nodes, links as edges keyed by link name and carrying their parameters."""
        graph: nx.MultiGraph = nx.MultiGraph()
        for name, host in self.hosts.items():
            graph.add_node(name, interfaces=sorted(host.interfaces))
        for name, link in self.links.items():
            graph.add_edge(link.a.host.name, link.b.host.name, key=name, **link.describe())
        return graph

    def draw(self, ax=None):
        """Draw the hosts and cables with matplotlib; returns the Axes.

        The cables only: ``Simulation.draw()`` (and a result's ``plot_topology()``) also draws
        the if_ipsec tunnels over them, with interface names and addresses.
        """
        import matplotlib.pyplot as plt

        graph = self.topology
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        positions = nx.spring_layout(graph, seed=self.engine.seed)
        nx.draw_networkx(graph, positions, ax=ax, node_color="#cfe3f7", node_size=900)
        labels = {(u, v, k): f"{d['bandwidth'] / 1e6:g} Mbit/s, {d['delay'] * 1e3:g} ms"
                  for u, v, k, d in graph.edges(keys=True, data=True)}
        nx.draw_networkx_edge_labels(graph, positions, edge_labels={(u, v): t for (u, v, _), t in labels.items()},
                                     ax=ax, font_size=8)
        ax.set_axis_off()
        return ax
