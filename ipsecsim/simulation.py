"""The Python API: ``ipsecsim.load(path)`` gives a :class:`Simulation`; ``sim.run()`` a Result.

    sim = ipsecsim.load("scenarios/routed_three_hosts.yaml")
    print(sim.host("R").sh("netstat -rn"))
    result = sim.run()
    print(result.summary())
"""

from __future__ import annotations

from dataclasses import asdict
from ipaddress import ip_address, ip_network
import math
from pathlib import Path

import networkx as nx

from .kernel.drops import canonical_reason
from .netipsec import SecurityAssociation
from .lab import PacketCapture, ShellOutput
from .progress import progress_wanted, run_with_bar
from .report import ExpectationResult, Result
from .report.topology import snapshot as topology_snapshot
from .report.ike import acquire_note, ike_results
from .report.text import interrupted_note
from .scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from .scenario.build import build_network, late_timeline_events
from .scenario.expect import CounterExpect, DropsExpect, FlowExpect, IkeExpect, OutageExpect, PingExpect, RouteExpect
from .scenario.comparison import Comparison
from .scenario.limits import MAX_HOST_SECONDS, limit_problems
from .scenario.units import UnitError, format_duration, format_rate, parse_duration
from .userland.ping import Ping
from .world import Network
from .world.flowmon import DEFAULT_BIN
from .world.observers import add_bpf_tap

__all__ = ["Simulation", "HostHandle", "load", "loads"]

MAX_RTTS = 100_000  # a ping's [time sent, rtt] pairs kept in the results


class HostHandle:
    """One host of a running simulation, as a shell prompt: ``sim.host("A").sh("ifconfig em0")``."""

    def __init__(self, sim: "Simulation", name: str):
        self._sim = sim
        self.name = name
        self.kernel = sim.network.host(name)  # the simulated kernel, for the curious

    def sh(self, command: str) -> ShellOutput:
        """Run ``command`` now, at the current simulated time, and return what it printed.

        Commands that take time on FreeBSD (``ping -c 3``) run in the background
        in scripts; here the simulation advances until they finish, so the output
        is complete, as at a real prompt. A ping without ``-c`` (or ``-t``) would
        never finish: it keeps running in the background, printing to the console.
        """
        net = self._sim.network
        shell = net.shells[self.name]
        console = net.consoles[self.name]
        shown = self._sim._shown.setdefault(self.name, set())  # console lines sh() returned
        programs = len(shell.programs)
        before = len(console)
        result = net.sh(self.name, command)
        _mark_shown(console.entries, before, result.output.splitlines(), shown)
        started = [p for p in shell.programs[programs:] if isinstance(p, Ping) and p.will_finish]
        if not started:
            return ShellOutput(result.output)
        printed = [len(ping.lines) for ping in started]  # what the command itself already returned
        waiting = len(console)
        while not all(p.done for p in started):
            net.run(net.now + 0.5)
        # The console also holds other programs' lines (the scenario's own pings, setkey -x): keep these ones'.
        later = [line for ping, n in zip(started, printed) for line in ping.lines[n:]]
        _mark_shown(console.entries, waiting, later, shown)
        return ShellOutput(result.output + "".join(line + "\n" for line in later))

    def console(self, since: float = 0.0, *, everything: bool = False) -> ShellOutput:
        """What programs running in the background printed on the host's console, from simulated
        time ``since`` on: ``setkey -x``'s PF_KEY messages, the pings of a ``run:`` block or of
        the timeline. Lines ``sh()`` already returned are left out, unless ``everything``: then
        it is the whole transcript, typed commands' output included, in the order printed."""
        entries = self._sim.network.consoles[self.name].entries
        shown = set() if everything else self._sim._shown.get(self.name, set())
        return ShellOutput("".join(line + "\n" for index, (time, line) in enumerate(entries)
                                   if time >= since and index not in shown))

    def daemon_log(self, daemon: str = "charon") -> ShellOutput:
        """What a daemon on this host logged (``[   0.004] line``, simulated seconds): on FreeBSD
        it goes to syslog, ``/var/log/daemon.log``. Empty if the host runs no such daemon.
        A daemon restarted by the timeline (host down and up) starts a new log."""
        running = self.kernel.daemons.get(daemon)
        lines = getattr(running, "log", None) or []
        return ShellOutput("".join(f"[{time:9.3f}] {text}\n" for time, text in lines))

    def sa(self, spi: int, dst: str | None = None) -> SecurityAssociation:
        """The SA with ``spi`` in this host's SAD (and destination ``dst``, if several share the SPI).

        The kernel's own SA, as ``setkey -D`` lists it: its algorithms and keys (``enc``,
        ``enc_key``, ``auth``, ``auth_key``), ``replay`` window and ``stats`` (espstat).
        Read it; to open a packet with its keys use :func:`ipsecsim.lab.decrypt`, which
        leaves it untouched. Raises ``LookupError`` naming the SPIs the SAD has.
        """
        sas = [sa for sa in self.kernel.keydb.sas() if sa.spi == spi and (dst is None or str(sa.dst) == str(dst))]
        if len(sas) == 1:
            return sas[0]
        have = ", ".join(f"{sa.spi} ({sa.src} -> {sa.dst})" for sa in self.kernel.keydb.sas()) or "none"
        if not sas:
            raise LookupError(f"{self.name} has no SA with SPI {spi}" + (f" to {dst}" if dst else "")
                              + f"; its SAD has: {have}")
        raise LookupError(f"{self.name} has {len(sas)} SAs with SPI {spi}; say which with dst=: {have}")

    def __repr__(self) -> str:
        return f"<host {self.name}>"


class Simulation:
    def __init__(self, scenario: Scenario, network: Network, *, duration: float | None = None):
        self.scenario = scenario
        self.network = network
        self.duration = scenario.duration if duration is None else duration
        self.planned = 0.0  # the furthest time a run was asked to reach
        self.interrupted = False  # a run was stopped by Ctrl-C: results cover up to now only
        self._injected = 0  # packets handed to hosts with inject(), told in the results' notes
        self._shown: dict[str, set[int]] = {}  # per host, the console lines sh() returned (HostHandle.console)
        # Things in the file that will not happen as written (``FILE:LINE:COL: warning: ...``).
        late = late_timeline_events(scenario, self.duration)
        self.warnings = [f"{where}: warning: {what}" for where, what in late]
        network.notes += [what for _, what in late]

    def check_timeline(self) -> None:
        """Run the timeline up to its last event before the end, with no traffic flowing.

        For ``ipsecsim check``: the timeline's commands then run at their times, in order,
        on hosts configured as the scenario says, so a mistyped command is an error now
        rather than minutes into a run. Build with ``traffic=False`` first.
        """
        times = [event.at for event in self.scenario.timeline if event.at < self.duration]
        if times:
            self.network.run(max(times) + 1e-9)

    @property
    def now(self) -> float:
        return self.network.now

    @property
    def topology(self) -> nx.MultiGraph:
        return self.network.topology

    @property
    def hosts(self) -> list[str]:
        return list(self.network.hosts)

    def host(self, name: str) -> HostHandle:
        return HostHandle(self, name)

    def capture(self, host: str, interface: str) -> PacketCapture:
        """Start keeping, in memory, every packet that crosses ``host``'s ``interface`` from now on.

        Like ``tcpdump -i em0`` left running: ``capture.packets`` lists each packet's time,
        bytes and direction, as the interface's BPF tap sees them (on em0 the ESP packets,
        on ipsec0 the plaintext). Start it before the traffic you want to see. It goes on
        beside ``--pcap`` files and other captures; ``capture.stop()`` ends it.
        """
        ifp = self._interface(host, interface)
        capture = PacketCapture(host, interface, raw_ip=ifp.kind == "ether")
        engine = self.network.engine
        add_bpf_tap(ifp, lambda pkt, outbound: capture._see(engine.now, pkt, outbound))
        return capture

    def inject(self, host: str, interface: str, data: bytes) -> dict[str, int]:
        """Hand ``data`` (an IP packet) to ``host`` as if it had just arrived on ``interface``'s cable.

        For replay and tampering experiments: the packet goes through the host's input
        path now, as any other (counted on the interface, shown to captures, then IP, ESP,
        if_ipsec ...). Returns what the host dropped while it handled the packet, by
        reason (``{"esps_replay": 1}``); ``{}`` when nothing was dropped. Replies it
        sends travel once the clock advances (``sim.run(sim.now + 1)``). The run's books
        count an injected packet as a datagram sent, so every datagram still has an end.
        """
        ifp = self._interface(host, interface)
        if ifp.kind != "ether":
            raise ValueError(f"{host}:{interface} is a {ifp.kind} interface; inject into a cabled one (em0, ...), "
                             "where packets arrive from the wire")
        kernel = ifp.host
        before = dict(kernel.drops)
        net = self.network
        if net.ledger is not None:
            net.ledger.sent += 1
        self._injected += 1
        ifp.receive(bytes(data))
        return {reason: count - before.get(reason, 0) for reason, count in sorted(kernel.drops.items())
                if count != before.get(reason, 0)}

    def draw(self):
        """The network as it stands now: hosts, cables (bandwidth, delay, interface addresses), and
        each if_ipsec tunnel dashed over its cable, labelled with its interfaces and inner
        addresses. A matplotlib Figure (Jupyter shows it); the layout is the same every time."""
        from .report.plots import topology_figure

        snapshot = Result(name=self.scenario.name, duration=self.network.now, seed=self.network.engine.seed)
        snapshot.topology = topology_snapshot(self.network, self.network.now)
        return topology_figure(snapshot)

    def _interface(self, host: str, interface: str):
        kernel = self.network.host(host)
        if interface not in kernel.interfaces:
            raise ValueError(f"{host} has no interface {interface!r}; it has {', '.join(kernel.interfaces)}")
        return kernel.interfaces[interface]

    def run(self, until: float | None = None, progress: bool | None = None) -> Result:
        """Advance to ``until`` (default: the scenario's duration) and return the results so far.

        ``progress`` shows a bar on stderr (simulated time done, events a second, time left);
        ``None`` shows it when stderr is a terminal or in a Jupyter notebook. The bar costs
        nothing in the results: running in steps gives the same bytes as running at once.

        Ctrl-C (KeyboardInterrupt) stops the run and is raised again, as Python code expects;
        :meth:`result` then gives the results so far, with ``interrupted`` set (``ipsecsim
        run`` prints and saves them). The run cannot be resumed after that.

        A time no run reaches (each host's key engine wakes once a simulated second, so hosts
        x seconds is bounded by ``MAX_HOST_SECONDS``) is refused with a ``UnitError``.
        """
        end = self.duration if until is None else until
        hosts = max(1, len(self.network.hosts))
        if not math.isfinite(end) or hosts * end > MAX_HOST_SECONDS:
            raise UnitError(f"until={end!r}: {hosts} hosts for that long are more than the {MAX_HOST_SECONDS:,} "
                            f"host-seconds a run can simulate; stop at {format_duration(MAX_HOST_SECONDS / hosts)} "
                            "or before")
        self.planned = max(self.planned, end)
        if progress is None:
            progress = progress_wanted()
        try:
            if progress and end > self.network.now:
                run_with_bar(self.network, end)
            else:
                self.network.run(end)
        except KeyboardInterrupt:
            self.interrupted = True
            raise
        return self.result()

    def close(self) -> None:
        """Finish pings still running (they print their statistics) and close capture files."""
        for ping in self._all_pings():
            if ping.started and not ping.done:
                ping.finish()
        self.network.close()

    def _all_pings(self) -> list[Ping]:
        """Traffic pings, then pings typed in scripts or at the prompt, in start order per host."""
        typed = [p for shell in self.network.shells.values() for p in shell.programs if isinstance(p, Ping)]
        return list(self.network.pings) + typed

    def result(self) -> Result:
        net = self.network
        result = Result(name=self.scenario.name, duration=net.now, seed=net.engine.seed)
        for ping in self._all_pings():
            entry = ping.stats.as_dict()
            entry["name"] = ping.name
            entry["rtts"] = [[sent, rtt] for sent, rtt in zip(ping.stats.sent_times[:MAX_RTTS], ping.stats.rtts)]
            result.pings.append(entry)
        result.flows = {name: stats.as_dict() for name, stats in net.flows.items()}
        for host in net.hosts.values():
            for ifp in host.interfaces.values():
                result.counters[f"{host.name}:{ifp.name}"] = asdict(ifp.data)
            if host.drops:
                result.drops_by_host[host.name] = dict(sorted(host.drops.items()))
                for reason, count in host.drops.items():
                    result.drops[reason] = result.drops.get(reason, 0) + count
        result.drops = dict(sorted(result.drops.items()))
        for host in net.hosts.values():
            in_sad = host.keydb.sas()
            for sa in in_sad + [sa for sa in host.ipsec.used_sas if sa not in in_sad]:
                result.sas.append({
                    "host": host.name, "src": str(sa.src), "dst": str(sa.dst), "spi": sa.spi, "mode": str(sa.mode),
                    "reqid": sa.reqid, "enc": sa.enc.name, "auth": sa.auth.name if sa.auth else None,
                    "seq": sa.replay.count, "packets": sa.current.allocations, "bytes": sa.current.bytes,
                    "state": str(host.keydb.state_of(sa)),  # plain words in results, as in the JSON
                })
        result.command_errors = [str(e) for e in net.command_errors]
        result.console = {name: [[t, line] for t, line in console.entries]
                          for name, console in net.consoles.items() if console.entries}
        result.notes = list(net.notes) + _ignored_datagrams(net) + _explain_missing_sas(net)
        if self._injected:
            result.notes.append(f"{_packets(self._injected)} injected with sim.inject(), counted as sent")
        result.scheduler_events = net.engine.scheduled
        result.timeline = [{"time": time, "what": what} for time, what in net.timeline]
        result.route_changes = list(net.route_changes)
        result.outages = net.outages()
        result.adjacency_changes = sorted((c for d in net.routing_daemons for c in d.adjacency_changes),
                                          key=lambda c: (c["time"], c["host"], c["interface"]))
        result.ike = ike_results(net.ike_daemons)
        result.topology = topology_snapshot(net, net.now)
        if net.ledger is not None:
            result.ledger = net.ledger.close_books(net)
        if net.flowmon is not None:
            result.flow_stats = net.flowmon.flow_stats()
            result.timeseries = net.flowmon.timeseries()
            result.drops_by_place = net.flowmon.drops_by_place()
        if net.capture is not None:
            result.files = [str(p) for p in net.capture.files()]
        in_file = {ping.name for ping in net.pings}  # the pings of traffic:
        result.expectations = [check for expectation in self.scenario.expect
                               for check in (_check_route(expectation, net) if isinstance(expectation, RouteExpect)
                                             else _check(expectation, result, in_file))]
        if self.interrupted:
            result.interrupted = True
            result.planned_duration = self.planned
            result.notes.append(interrupted_note(net.now, self.planned))
        return result


def _mark_shown(entries: list[tuple[float, str]], start: int, lines: list[str], shown: set[int]) -> None:
    """Mark as shown the console entries from ``start`` on that are ``lines``, in order; the
    others between them were printed meanwhile by programs in the background."""
    want = iter(lines)
    line = next(want, None)
    for index in range(start, len(entries)):
        if line is None:
            return
        if entries[index][1] == line:
            shown.add(index)
            line = next(want, None)


def _ignored_datagrams(net: Network) -> list[str]:
    """Datagrams a flow sink's socket received that belong to no flow: told, never counted in one."""
    return [f"{socket.host.name}: {_packets(socket.ignored, 'datagram')} to UDP port {socket.port} carried "
            "no flow's stamp; the flow sink received them and counted them in no flow"
            for socket in net.flow_sockets if socket.ignored]


def _packets(count: int, noun: str = "packet") -> str:
    """``"1 packet"``, ``"2,000 packets"``."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _explain_missing_sas(net: Network) -> list[str]:
    """Why packets were dropped with ips_out_nosa: what the policy asked for, what the SAD held then.

    The kernel writes each situation down as the drops happen (``kernel.nosa``): the SA the
    policy request looked for (outer addresses and reqid, as the SADB_ACQUIRE names it
    [S8.2]) and the SAs the SAD held for those addresses. An SA with the addresses but
    another reqid is the classic if_ipsec mistake (SAs added without ``-u``) [S7.1] [S9.5].
    """
    notes = []
    for host in net.hosts.values():
        for drops in host.ipsec.nosa.records:
            reqid = f" with reqid {drops.reqid}" if drops.reqid else ""
            wanted = f"an {drops.proto.upper()} SA {drops.src} -> {drops.dst}{reqid}"
            span = (f"at {drops.first:.3f} s" if drops.first == drops.last
                    else f"from {drops.first:.3f} s to {drops.last:.3f} s")
            head = f"{host.name}: {_packets(drops.count)} dropped (ips_out_nosa) {span}: the policy needs {wanted}"
            if not drops.had:
                charons = [d for d in net.ike_daemons if d.host is host]
                notes.append(f"{head} and the SAD had none; "
                             + (acquire_note(charons, drops.reqid, drops.count) if charons else
                                "add it with setkey (an IKE daemon would answer the SADB_ACQUIRE the kernel sent)"))
                continue
            have = ", ".join(f"spi {spi} with reqid {sa_reqid}"
                             + (f" in {mode} mode" if _other_mode(mode, drops) else "")
                             for spi, sa_reqid, mode in drops.had)
            notes.append(f"{head}, but the SAD had {have}; {_fix(drops)}")
    return notes


def _other_mode(mode: str, drops) -> bool:
    """Does an SA of ``mode`` fail the request's mode? (``any``, setkey's default, fits both.)"""
    return mode not in ("any", drops.mode)


def _fix(drops) -> str:
    """The setkey options the SAs the SAD had lack, else where to look."""
    options = []
    if any(_other_mode(mode, drops) for _spi, _reqid, mode in drops.had):
        options.append(f"-m {drops.mode}")
    if drops.reqid and any(reqid != drops.reqid for _spi, reqid, _mode in drops.had):
        options.append(f"-u {drops.reqid}")
    return f'add it with "{" ".join(options)}"' if options else "check the SA's addresses and mode"


def _measured(expectation, measure: str, result: Result, in_file: set[str]):
    """The value an expectation's measure refers to, or None if there is no such subject.

    A result holds SI units, as expectations do: no conversion is needed.
    """
    if isinstance(expectation, PingExpect):
        pings = _pings(expectation, result, in_file)
        return pings[0][measure] if len(pings) == 1 else None
    if isinstance(expectation, FlowExpect):
        flow = result.flows.get(expectation.flow)
        return None if flow is None else flow[measure]
    if isinstance(expectation, CounterExpect):
        counters = result.counters.get(str(expectation.counter))
        return None if counters is None else counters[measure]
    if isinstance(expectation, DropsExpect):
        drops = result.drops_by_host.get(expectation.host, {}) if expectation.host else result.drops
        return drops.get(canonical_reason(expectation.drops), 0)
    return None


def _pings(expectation: PingExpect, result: Result, in_file: set[str]) -> list[dict]:
    """The result entries of the pings an expectation names.

    By host and address: the ping of ``traffic:`` that goes there (loading made sure there is
    at most one), else the pings typed in scripts or at the prompt that do (one, or the check
    fails naming them).
    """
    subject = expectation.ping
    if isinstance(subject, str):
        return [p for p in result.pings if p["name"] == subject]
    there = [p for p in result.pings if p["from"] == subject.from_host and p["to"] == str(subject.to)]
    return [p for p in there if p["name"] in in_file] or there


def _format(value: float, unit_kind: str) -> str:
    if value != value:
        return "nothing measured"
    if unit_kind == "percent":
        return f"{value * 100:.3g}%"
    if unit_kind == "duration":
        return format_duration(value)
    if unit_kind == "rate":
        return format_rate(value)
    return f"{value:g}"


def _check_route(expectation: RouteExpect, net: Network) -> list[ExpectationResult]:
    """The route at the end of the run: by longest prefix match for an address, exactly for a prefix."""
    fib = net.host(expectation.route.host).fibs[0]
    to = expectation.route.to
    route = fib.find(ip_network(to, strict=False)) if "/" in to else fib.lookup(ip_address(to).packed)
    checks = []
    for measure, wanted in expectation.route_checks():
        where, text = expectation.where(measure), expectation.describe(measure)
        if route is None:
            checks.append(ExpectationResult(text, False, "no route", where))
            continue
        actual = route.ifp.name if measure == "via" else (str(route.gateway) if route.gateway else route.gateway_text)
        checks.append(ExpectationResult(text, actual == wanted, actual, where))
    return checks


def _check_outages(expectation: OutageExpect, result: Result) -> list[ExpectationResult]:
    """``count`` compares the number of outages; ``duration`` and ``lost`` must hold for each."""
    outages = [o for o in result.outages if o["flow"] == expectation.outage]
    checks = []
    for measure, comparison in expectation.checks():
        where, text = expectation.where(measure), expectation.describe(measure)
        if measure == "count":
            checks.append(ExpectationResult(text, comparison.holds(len(outages)), str(len(outages)), where))
            continue
        if measure == "duration":
            values = [result.duration - o["start"] if o["end"] is None else o["duration"] for o in outages]
            shown = [format_duration(v) + (" (still out at the end)" if o["end"] is None else "")
                     for v, o in zip(values, outages)]
        else:
            values = [o["lost"] for o in outages]
            shown = [f"{v:g}" for v in values]
        holds = all(comparison.holds(v) for v in values)
        checks.append(ExpectationResult(text, holds, ", ".join(shown) if shown else "no outage", where))
    return checks


def _check_ike(expectation: IkeExpect, result: Result) -> list[ExpectationResult]:
    """Against ``result.ike``: ``established`` is whether any IKE_SA of the connection came up,
    ``failure`` a text some recorded failure reason contains, ``time_to_establish`` must hold
    for each IKE_SA the host initiated and got up (and fails when there is none)."""
    stats = result.ike.get(expectation.ike.host, {}).get(expectation.ike.connection)
    checks = []
    for measure, wanted, _node in expectation.ike_checks():
        where, text = expectation.where(measure), expectation.describe(measure)
        if stats is None:
            checks.append(ExpectationResult(text, False, f"no charon ran {expectation.ike.connection} on "
                                                         f"{expectation.ike.host}", where))
            continue
        reasons = [f["reason"] for f in stats["failures"]]
        if measure == "established":
            up = stats["established"] > 0
            actual = (f"established {stats['established']} time{'s' if stats['established'] != 1 else ''}" if up
                      else f"never established{': ' + reasons[-1] if reasons else ''}")
            checks.append(ExpectationResult(text, up == wanted, actual, where))
        elif measure == "failure":
            holds = any(str(wanted) in reason for reason in reasons)
            checks.append(ExpectationResult(text, holds, "; ".join(reasons) if reasons else "no failure", where))
        elif measure == "time_to_establish":
            times = stats["times_to_establish"]
            assert isinstance(wanted, Comparison)
            holds = bool(times) and all(wanted.holds(t) for t in times)
            shown = ", ".join(format_duration(t) for t in times) if times else "no IKE_SA initiated and established"
            checks.append(ExpectationResult(text, holds, shown, where))
        else:
            assert isinstance(wanted, Comparison)
            value = stats[measure]
            checks.append(ExpectationResult(text, wanted.holds(value), f"{value:g}", where))
    return checks


def _check(expectation, result: Result, in_file: set[str]) -> list[ExpectationResult]:
    if isinstance(expectation, OutageExpect):
        return _check_outages(expectation, result)
    if isinstance(expectation, IkeExpect):
        return _check_ike(expectation, result)
    checks = []
    for measure, comparison in expectation.checks():
        actual = _measured(expectation, measure, result, in_file)
        where = expectation.where(measure)
        text = expectation.describe(measure)
        several = isinstance(expectation, PingExpect) and _pings(expectation, result, in_file)[1:]
        if actual is None and several:
            names = ", ".join(p["name"] for p in _pings(expectation, result, in_file))
            checks.append(ExpectationResult(text, False, f"{len(several) + 1} pings, not one: {names}", where))
        elif actual is None:
            checks.append(ExpectationResult(text, False, f"no {expectation.subject} in this run", where))
        else:
            checks.append(ExpectationResult(text, comparison.holds(actual), _format(actual, comparison.unit_kind), where))
    return checks


def load(path: str | Path, *, seed: int | None = None, duration: float | None = None,
         pcap: str | Path | None = None, trace: str | Path | None = None, strict: bool = False,
         traffic: bool = True, bin: float | str | None = None) -> Simulation:
    """Read a scenario file, build its network and run every host's ``run:`` block at time 0.

    ``traffic=False`` leaves out the scenario's pings and flows: the hosts are configured
    and the timeline happens, and only what you type yourself makes packets. ``bin`` is the
    width of the time series' bins (seconds or a duration such as ``"50ms"``; 100 ms by default).
    """
    scenario = load_scenario(path)
    return _build(scenario, seed, duration, pcap, trace, strict, traffic, bin)


def loads(text: str, filename: str = "<string>", **options) -> Simulation:
    """Like :func:`load`, from YAML text (handy in notebooks and tests)."""
    return _build(parse_scenario(text, filename), options.get("seed"), options.get("duration"),
                  options.get("pcap"), options.get("trace"), options.get("strict", False),
                  options.get("traffic", True), options.get("bin"))


def _build(scenario, seed, duration, pcap, trace, strict, traffic=True, bin=None) -> Simulation:
    _check_options(seed, duration)
    width = _bin_width(bin)
    problems = limit_problems(scenario, duration)  # before any file is opened
    if problems:
        raise ScenarioError(problems)
    network = build_network(scenario, seed=seed, pcap_dir=Path(pcap) if pcap else None,
                            trace_file=Path(trace) if trace else None, strict=strict, traffic=traffic, bin=width)
    running = [(name, program) for name, shell in network.shells.items() for program in shell.programs
               if isinstance(program, Ping) and program.started and not program.done]
    problems = limit_problems(scenario, duration, running) if running else []  # pings the run: blocks started
    if problems:
        network.close()
        raise ScenarioError(problems)
    return Simulation(scenario, network, duration=duration)


def _bin_width(value) -> float:
    """``bin=`` as seconds or a duration text; UnitError says why not."""
    if value is None:
        return DEFAULT_BIN
    if isinstance(value, str):
        try:
            value = parse_duration(value)
        except UnitError as error:
            raise UnitError(f"bin={value!r}: {error}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not value > 0:
        raise UnitError(f"bin={value!r} is not a bin width; write a duration greater than 0, e.g. 50ms")
    if value < 1e-6:
        raise UnitError(f"bin={value!r}: bins shorter than 1us would be more samples than packets; write 1us or more")
    return float(value)


def _check_options(seed, duration) -> None:
    """``seed=`` and ``duration=`` as the scenario file would take them; UnitError says why not."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64):
        raise UnitError(f"seed={seed!r} is not a seed; write a whole number from 0 to 2**64-1, as in the file")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int | float)
                                 or not duration > 0):
        raise UnitError(f"duration={duration!r} is not a duration; write a number of seconds greater than 0")
