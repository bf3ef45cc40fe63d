"""Checks that need the whole scenario, and the defaults that depend on other values.

After the schema has accepted every value on its own, this pass checks that the values fit
together: every host, link and flow a scenario names exists, no interface is on two links,
names are unique, times fall within ``duration``. It also fills in the defaults that depend on
other values (link names, flow names, ``udp.stop``, the hosts created from links), so a loaded
:class:`Scenario` has no blanks.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from .errors import Diagnostic, PathPart, format_path
from .expect import CounterExpect, DropsExpect, FlowExpect, PingExpect
from .fields import Endpoint
from .models import HostSpec, Link, LinkSet, LinkState, PingTraffic, RunCommand, Scenario, UdpFlow
from .node import Node
from .units import format_duration

__all__ = ["complete"]


def _choices(name: str, known: Iterable[str], what: str) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not known:
        return f"; there are no {what}s"
    return f"; {what}s are: {', '.join(known)}"


class _Checker:
    def __init__(self, scn: Scenario):
        self.scn = scn
        self.diagnostics: list[Diagnostic] = []

    def problem(self, node: Node, path: Sequence[PathPart], key: str | None, message: str) -> None:
        line, col = node.pos_of(key) if key else node.pos
        full = (*path, key) if key else tuple(path)
        self.diagnostics.append(Diagnostic(node.file, line, col, format_path(full), message))

    def host_exists(self, node: Node, path: Sequence[PathPart], key: str, host: str, hosts: dict) -> None:
        if host not in hosts:
            self.problem(node, path, key, f"no host '{host}'" + _choices(host, hosts, "host"))

    def within(self, node: Node, path: Sequence[PathPart], key: str, t: float) -> None:
        end = self.scn.duration
        if t > end:
            self.problem(node, path, key, f"{format_duration(t)} is after the end of the scenario (duration: {format_duration(end)})")

    # --- sections ----------------------------------------------------------------------------

    def links(self) -> list[Link]:
        out: list[Link] = []
        ends: dict[Endpoint, int] = {}
        names: dict[str, int] = {}
        for i, link in enumerate(self.scn.links):
            path = ("links", i)
            if link.a.host == link.b.host:
                self.problem(link, path, "b", f"both ends are on host {link.a.host}; a link joins two different hosts")
            for key, end in (("a", link.a), ("b", link.b)):
                if end in ends:
                    j = ends[end]
                    self.problem(link, path, key, f"{end} is already on links[{j}] (line {self.scn.links[j].line}); an interface joins one link")
                ends.setdefault(end, i)
            name = link.name or f"{link.a}-{link.b}"
            if name in names:
                j = names[name]
                fix = "" if link.name else "; give one of them a name:"
                self.problem(link, path, "name" if link.name else None, f"link name '{name}' is already used by links[{j}]{fix}")
            names.setdefault(name, i)
            out.append(link if link.name else link.model_copy(update={"name": name}))
        return out

    def hosts(self) -> dict[str, HostSpec]:
        hosts: dict[str, HostSpec] = {}
        for link in self.scn.links:
            for key, end in (("a", link.a), ("b", link.b)):
                if end.host not in hosts:
                    spec = self.scn.hosts.get(end.host)
                    if spec is None:
                        spec = HostSpec()
                        spec._span = link._value_spans.get(key)  # a host made by a link is "written" there
                    hosts[end.host] = spec
        for name, spec in self.scn.hosts.items():
            hosts.setdefault(name, spec)
        return hosts

    def traffic(self, hosts: dict[str, HostSpec]) -> list[PingTraffic | UdpFlow]:
        out: list[PingTraffic | UdpFlow] = []
        names: dict[str, int] = {}
        counts = {"ping": 0, "udp": 0}
        for i, item in enumerate(self.scn.traffic):
            kind = "ping" if isinstance(item, PingTraffic) else "udp"
            path = ("traffic", i, kind)
            counts[kind] += 1
            self.host_exists(item, path, "from", item.from_host, hosts)
            if item.start >= self.scn.duration:
                self.problem(item, path, "start", f"{format_duration(item.start)} is not before the end of the scenario (duration: {format_duration(self.scn.duration)})")
            update: dict[str, object] = {}
            if isinstance(item, UdpFlow):
                if item.stop == float("inf"):
                    update["stop"] = max(self.scn.duration, item.start)
                else:
                    self.within(item, path, "stop", item.stop)
            name = item.name or f"{kind}-{counts[kind]}"
            if name in names:
                j = names[name]
                default = "" if item.name else " (its default name)"
                self.problem(item, path, "name" if item.name else None, f"flow name '{name}'{default} is already used by traffic[{j}]; names must be unique")
            names.setdefault(name, i)
            if not item.name:
                update["name"] = name
            out.append(item.model_copy(update=update) if update else item)
        return out

    def timeline(self, hosts: dict[str, HostSpec], links: list[Link]) -> None:
        link_names = [link.name for link in links]
        for i, event in enumerate(self.scn.timeline):
            path = ("timeline", i)
            self.within(event, path, "at", event.at)
            if isinstance(event, RunCommand):
                self.host_exists(event, path, "host", event.host, hosts)
            elif isinstance(event, LinkState | LinkSet) and event.link not in link_names:
                self.problem(event, path, "link", f"no link named '{event.link}'" + _choices(event.link, link_names, "link"))

    def expect(self, hosts: dict[str, HostSpec], traffic: list[PingTraffic | UdpFlow]) -> None:
        flows = [t.name for t in traffic if isinstance(t, UdpFlow)]
        pings = {t.name for t in traffic if isinstance(t, PingTraffic)}
        for i, exp in enumerate(self.scn.expect):
            path = ("expect", i)
            if isinstance(exp, PingExpect):
                self.host_exists(exp.ping, (*path, "ping"), "from", exp.ping.from_host, hosts)
            elif isinstance(exp, FlowExpect) and exp.flow not in flows:
                if exp.flow in pings:
                    message = f"'{exp.flow}' is a ping, not a udp flow; check pings with ping: {{from: HOST, to: ADDRESS}}"
                else:
                    message = f"no udp flow named '{exp.flow}'" + _choices(exp.flow, flows, "udp flow")
                self.problem(exp, path, "flow", message)
            elif isinstance(exp, CounterExpect):
                self.host_exists(exp, path, "counter", exp.counter.host, hosts)
            elif isinstance(exp, DropsExpect) and exp.host is not None:
                self.host_exists(exp, path, "host", exp.host, hosts)


def complete(scn: Scenario) -> tuple[Scenario, list[Diagnostic]]:
    """Check how the parts of ``scn`` fit together and fill in dependent defaults.

    Returns the completed scenario and every problem found (empty when it is usable).
    """
    checker = _Checker(scn)
    links = checker.links()
    hosts = checker.hosts()
    traffic = checker.traffic(hosts)
    checker.timeline(hosts, links)
    checker.expect(hosts, traffic)
    done = scn.model_copy(update={"links": links, "hosts": hosts, "traffic": traffic})
    return done, checker.diagnostics
