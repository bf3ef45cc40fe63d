"""Checks that need the whole scenario, and the defaults that depend on other values.

After the schema has accepted every value on its own, this pass checks that the values fit
together: every host, link and flow a scenario names exists, no interface is on two links,
names are unique, times fall within ``duration``, each tunnel's two ends and keys agree and its
interfaces, reqids and SPIs are unique on each host. It also fills in the defaults that depend
on other values (link, flow and tunnel names, ``udp.stop``, the hosts created from links, each
tunnel end's ipsecN and each tunnel's SPIs), so a loaded :class:`Scenario` has no blanks.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from ..kernel.if_ipsec import IPSEC_REQID_TRYCNT
from ..ike.config import SwanctlConfigError, parse_swanctl
from ..ospf.config import FrrConfigError, parse_frr_config
from .errors import Diagnostic, PathPart, format_path
from .expect import CounterExpect, DropsExpect, FlowExpect, IkeExpect, OutageExpect, PingExpect, RouteExpect
from .fields import Endpoint
from .models import (
    HostSpec, HostState, InterfaceState, Link, LinkSet, LinkState, PingTraffic, RunCommand, Scenario, UdpFlow,
)  # fmt: skip
from .node import Node
from .tunnels import (
    DIRECTIONS, SIDES, Tunnel, TunnelKeys, TunnelSpis, cipher_key_bits, default_spis, enc_key_sizes, kernel_reqids,
)  # fmt: skip
from .units import describe, format_duration

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

    def missing(self, node: Node, path: Sequence[PathPart], key: str, message: str) -> None:
        """``key`` is not written in ``node``: point at the mapping, name the key in the path."""
        self.diagnostics.append(Diagnostic(node.file, node.line, node.col, format_path((*path, key)), message))

    def host_exists(self, node: Node, path: Sequence[PathPart], key: str, host: str, hosts: dict) -> None:
        if host not in hosts:
            self.problem(node, path, key, f"no host '{host}'" + _choices(host, hosts, "host"))

    def within(self, node: Node, path: Sequence[PathPart], key: str, t: float) -> None:
        end = self.scn.duration
        if t > end:
            self.problem(node, path, key, f"{format_duration(t)} is after the end of the scenario (duration: {format_duration(end)})")

    # --- sections ----------------------------------------------------------------------------

    def daemon_configs(self, hosts: dict[str, HostSpec]) -> None:
        """Each ``frr:`` text parses as an frr.conf and each ``swanctl:`` as a swanctl.conf; an
        error points at its line and column in the scenario file."""
        readers = (("frr", parse_frr_config, FrrConfigError), ("swanctl", parse_swanctl, SwanctlConfigError))
        for name, spec in hosts.items():
            for key, parse, refusal in readers:
                script = getattr(spec, key)
                if script is None:
                    continue
                try:
                    parse(script.text)
                except refusal as error:
                    line, col = script.position(error.line - 1)
                    self.diagnostics.append(Diagnostic(script.file, line, col + error.column - 1,
                                                       f"hosts.{name}.{key}", error.message))

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
            if isinstance(event, RunCommand | HostState):
                self.host_exists(event, path, "host", event.host, hosts)
            elif isinstance(event, InterfaceState):
                self.host_exists(event, path, "host", event.host, hosts)
                cabled = [end.ifname for link in links for end in (link.a, link.b) if end.host == event.host]
                if event.host in hosts and not _CLONED.fullmatch(event.interface) and event.interface not in cabled:
                    self.problem(event, path, "interface", f"host {event.host} has no interface '{event.interface}'"
                                 + _choices(event.interface, cabled + ["lo0"], "interface"))
            elif isinstance(event, LinkState | LinkSet) and event.link not in link_names:
                self.problem(event, path, "link", f"no link named '{event.link}'" + _choices(event.link, link_names, "link"))

    def expect(self, hosts: dict[str, HostSpec], traffic: list[PingTraffic | UdpFlow]) -> None:
        flows = [t.name for t in traffic if isinstance(t, UdpFlow)]
        pings = [t for t in traffic if isinstance(t, PingTraffic)]
        for i, exp in enumerate(self.scn.expect):
            path = ("expect", i)
            if isinstance(exp, PingExpect):
                self._ping_subject(exp, path, pings, flows, hosts)
            elif isinstance(exp, FlowExpect) and exp.flow not in flows:
                if exp.flow in (p.name for p in pings):
                    message = f"'{exp.flow}' is a ping, not a udp flow; check it with ping: {exp.flow}"
                else:
                    message = f"no udp flow named '{exp.flow}'" + _choices(exp.flow, flows, "udp flow")
                self.problem(exp, path, "flow", message)
            elif isinstance(exp, CounterExpect):
                self.host_exists(exp, path, "counter", exp.counter.host, hosts)
            elif isinstance(exp, DropsExpect) and exp.host is not None:
                self.host_exists(exp, path, "host", exp.host, hosts)
            elif isinstance(exp, RouteExpect):
                self.host_exists(exp.route, (*path, "route"), "host", exp.route.host, hosts)
            elif isinstance(exp, IkeExpect):
                self._ike_subject(exp, path, hosts)
            elif isinstance(exp, OutageExpect):
                names = flows + [p.name for p in pings]
                if exp.outage not in names:
                    self.problem(exp, path, "outage", f"no udp flow or ping named '{exp.outage}'"
                                 + _choices(exp.outage, names, "flow or ping"))

    def _ike_subject(self, exp: IkeExpect, path: tuple[PathPart, ...], hosts: dict[str, HostSpec]) -> None:
        """The host must run charon (a ``swanctl:`` block) and have the connection."""
        subject, where = exp.ike, (*path, "ike")
        if subject.host not in hosts:
            self.host_exists(subject, where, "host", subject.host, hosts)
            return
        with_charon = [name for name, spec in hosts.items() if spec.swanctl is not None]
        swanctl = hosts[subject.host].swanctl
        if swanctl is None:
            self.problem(subject, where, "host", f"host {subject.host} has no swanctl: block, so no charon"
                         + (f"; hosts running charon: {', '.join(with_charon)}" if with_charon else ""))
            return
        try:
            names = list(parse_swanctl(swanctl.text).connections)
        except SwanctlConfigError:
            return  # told where the swanctl.conf is read
        if subject.connection not in names:
            self.problem(subject, where, "connection", f"host {subject.host}'s swanctl.conf has no connection "
                         f"'{subject.connection}'" + _choices(subject.connection, names, "connection"))

    def _ping_subject(self, exp: PingExpect, path: tuple[PathPart, ...], pings: list[PingTraffic],
                      flows: list[str], hosts: dict[str, HostSpec]) -> None:
        """A ping by name must exist; a ping by host and address must be one ping, not several.

        One by host and address that matches no ping of ``traffic:`` may still be one a
        ``run:`` block or the timeline types, so the run decides that case.
        """
        subject = exp.ping
        names = [p.name for p in pings]
        if isinstance(subject, str):
            if subject in names:
                return
            if subject in flows:
                message = f"'{subject}' is a udp flow, not a ping; check it with flow: {subject}"
            else:
                message = f"no ping named '{subject}'" + _choices(subject, names, "ping")
            self.problem(exp, path, "ping", message)
            return
        self.host_exists(subject, (*path, "ping"), "from", subject.from_host, hosts)
        same = [p for p in pings if p.from_host == subject.from_host and p.to == subject.to]
        if len(same) > 1:
            which = ", ".join(f"{p.name} (line {p.line})" for p in same)
            self.problem(exp, path, "ping", f"{len(same)} pings go from {subject.from_host} to {subject.to}: "
                         f"{which}; name the one to check, e.g. ping: {same[0].name}")

    def tunnels(self, hosts: dict[str, HostSpec]) -> list[Tunnel]:
        """Each entry on its own, then what entries share on a host (names, ipsecN, reqids,
        SPIs, inner addresses); returns the entries with names, interfaces and SPIs filled in."""
        whole = [i for i, t in enumerate(self.scn.tunnels) if self._tunnel(i, t, hosts)]
        tunnels = [self.scn.tunnels[i] for i in whole]
        names = self._tunnel_names(whole)
        interfaces = self._tunnel_interfaces(whole, hosts)
        reqids, clashes = kernel_reqids(tunnels)
        for clash in clashes:
            i = whole[clash.tunnel]
            end = self.scn.tunnels[i].end(clash.side)
            if clash.owner is None:
                ioctl = "SIOCSIFPHYADDR" if end.outer.version == 4 else "SIOCSIFPHYADDR_IN6"
                self.problem(end, ("tunnels", i, clash.side), "reqid",
                             f"the kernel finds no free reqid for {interfaces[(i, clash.side)]} in {IPSEC_REQID_TRYCNT - 1} "
                             f"tries, the host's other interfaces have them (ifconfig: {ioctl}: File exists); "
                             "write a reqid")  # fmt: skip
                continue
            j = whole[clash.owner[0]]
            owner = f"tunnels[{j}].{clash.owner[1]}"
            ifname = interfaces[(j, clash.owner[1])]
            if clash.automatic:
                message = (f"{clash.reqid} is the reqid the kernel gives {ifname} of {owner}, which has none written; "
                           "write another reqid")
            else:
                message = (f"reqid {clash.reqid} is already {ifname}'s ({owner}) on host {end.host}; "
                           "if_ipsec reqids are unique per host (ifconfig: ioctl(IPSECSREQID): File exists)")
            self.problem(end, ("tunnels", i, clash.side), "reqid", message)
        spis = self._tunnel_spis(whole)
        self._inner_addresses(whole)
        out = list(self.scn.tunnels)
        for i in whole:
            tunnel = out[i]
            ends = {side: tunnel.end(side).model_copy(update={"interface": interfaces[(i, side)]}) for side in SIDES}
            out[i] = tunnel.model_copy(update={"name": names[i], "spi": spis[i], **ends})
        return out

    def _tunnel(self, i: int, tunnel: Tunnel, hosts: dict[str, HostSpec]) -> bool:
        """One entry on its own; False when an end is missing (nothing else is checked then)."""
        path = ("tunnels", i)
        for side, example in (("a", "a: {host: A, outer: 192.168.0.3, inner: 172.16.0.3/16}"),
                              ("b", "b: {host: B, outer: 192.168.0.5, inner: 172.16.0.5/16}")):
            if tunnel.end(side) is None:
                self.missing(tunnel, path, side, f"required key is missing; add it, e.g. {example}")
        if tunnel.a is None or tunnel.b is None:
            return False
        a, b = tunnel.a, tunnel.b
        for side in SIDES:
            end = tunnel.end(side)
            self.host_exists(end, (*path, side), "host", end.host, hosts)
            if end.reqid == 0:
                self.problem(end, (*path, side), "reqid", "0 asks the kernel to choose; leave reqid out for an automatic one")
        if a.host == b.host:
            self.problem(b, (*path, "b"), "host", f"both ends are on host {a.host}; a tunnel joins two different hosts")
        if a.outer.version != b.outer.version:
            self.problem(b, (*path, "b"), "outer", f"{b.outer} is IPv{b.outer.version} but a.outer {a.outer} is "
                         f"IPv{a.outer.version}; both outer addresses are of one family "
                         "(ifconfig: source and destination address families do not match)")
        elif a.outer == b.outer:
            self.problem(b, (*path, "b"), "outer", f"{b.outer} is a.outer too; the ends need different outer addresses")
        self._tunnel_inner(tunnel, path)
        self._tunnel_keys(tunnel, path)
        if tunnel.spi is not None:
            for direction in DIRECTIONS:
                if tunnel.spi[direction] <= 255:
                    self.problem(tunnel.spi, (*path, "spi"), direction, f"{tunnel.spi[direction]} is reserved "
                                 "(RFC 4303 2.1) and setkey's add fails with Invalid argument; write 256 or more")
            if tunnel.spi.a_to_b == tunnel.spi.b_to_a > 255:
                self.problem(tunnel.spi, (*path, "spi"), "b_to_a", f"{tunnel.spi.b_to_a} is a_to_b's SPI too; "
                             "each direction needs its own SPI (setkey: File exists)")
        return True

    def _tunnel_inner(self, tunnel: Tunnel, path: tuple[PathPart, ...]) -> None:
        a, b = tunnel.end("a"), tunnel.end("b")  # a tunnel gets here only with both ends
        families = {side: sorted(x.version for x in tunnel.end(side).inner) for side in SIDES}
        if families["a"] != families["b"]:
            def family(side: str) -> str:
                return " and ".join(f"IPv{v}" for v in families[side])

            self.problem(b, (*path, "b"), "inner", f"b.inner is {family('b')} but a.inner is {family('a')}; "
                         "both ends need inner addresses of the same families")
            return
        for mine in a.inner:
            theirs = next(x for x in b.inner if x.version == mine.version)
            if mine.ip == theirs.ip:
                self.problem(b, (*path, "b"), "inner", f"{theirs.ip} is a.inner too; each end needs its own inner address")
            for side, inner, peer in (("a", mine, theirs), ("b", theirs, mine)):
                if inner.version == 6 and inner.network.prefixlen < 128 and peer.ip not in inner.network:
                    other = "b" if side == "a" else "a"
                    self.problem(tunnel.end(side), (*path, side), "inner", f"{peer.ip} ({other}.inner) is outside "
                                 f"{inner.network}; write /128 for a point-to-point address, or put both ends in one prefix")

    def _tunnel_keys(self, tunnel: Tunnel, path: tuple[PathPart, ...]) -> None:
        enc, auth, name = tunnel.enc, tunnel.auth, tunnel.encryption
        if enc.aead and auth is not None:
            self.problem(tunnel, path, "authentication", f"{name} authenticates itself (AEAD); remove authentication")
            auth = None
        if tunnel.key_seed is not None:
            if tunnel.keys is not None or tunnel.auth_keys is not None:
                self.problem(tunnel, path, "key_seed", "key_seed derives every key; give keys or key_seed, not both")
            if tunnel.key_bits is not None:
                sizes = cipher_key_bits(enc)
                if enc.name == "null":
                    self.problem(tunnel, path, "key_bits", "null encryption has no key to size; remove key_bits")
                elif tunnel.key_bits not in sizes:
                    self.problem(tunnel, path, "key_bits", f"{name} has no {tunnel.key_bits}-bit keys; write {_alternatives(sizes)}")
            return
        if tunnel.key_bits is not None:
            self.problem(tunnel, path, "key_bits", "key_bits sizes the keys key_seed derives; written keys have their own length")
        if tunnel.keys is None:
            self.missing(tunnel, path, "keys", 'required key is missing; add it, e.g. keys: {a_to_b: "...", b_to_a: "..."}, '
                         "or key_seed: 1 to derive the keys")
        else:
            sizes = enc_key_sizes(enc)
            rule = f"{name} takes a key of 0 to 256 bytes" if enc.name == "null" else (
                f"{name} needs a key of {_alternatives(sizes)} bytes" + (" (key + 4-byte salt)" if enc.salt else ""))
            self._key_lengths(tunnel.keys, (*path, "keys"), sizes, rule)
        if tunnel.auth_keys is not None:
            if auth is None:
                self.problem(tunnel, path, "auth_keys", "there is no authentication to key; "
                             "add authentication: hmac-sha2-256, or remove auth_keys")
            elif not auth.key_len:
                self.problem(tunnel, path, "auth_keys", '"null" authentication takes no key; remove auth_keys')
            else:
                self._key_lengths(tunnel.auth_keys, (*path, "auth_keys"), (auth.key_len,),
                                  f"{auth.name} needs a key of {auth.key_len} bytes")
        elif auth is not None and auth.key_len and tunnel.keys is not None:
            self.missing(tunnel, path, "auth_keys", f"required key is missing; {auth.name} needs auth_keys: "
                         f"{{a_to_b: ..., b_to_a: ...}} of {auth.key_len} bytes each, or use key_seed")

    def _key_lengths(self, keys: TunnelKeys, path: tuple[PathPart, ...], sizes: Sequence[int], rule: str) -> None:
        for direction in DIRECTIONS:
            key = keys[direction]
            if len(key.data) not in sizes:
                self.problem(keys, path, direction, f"{describe(str(key))} is {len(key.data)} bytes; {rule}")

    def _tunnel_names(self, whole: list[int]) -> dict[int, str]:
        tunnels = self.scn.tunnels
        names: dict[int, str] = {}
        taken: dict[str, int] = {}
        for i in whole:
            name = tunnels[i].name
            if name and name in taken:
                self.problem(tunnels[i], ("tunnels", i), "name",
                             f"tunnel name '{name}' is already used by tunnels[{taken[name]}]; names must be unique")
            if name:
                taken.setdefault(name, i)
                names[i] = name
        for i in whole:
            if not tunnels[i].name:
                base = name = f"{tunnels[i].end('a').host}-{tunnels[i].end('b').host}"
                n = 1
                while name in taken:
                    n += 1
                    name = f"{base}-{n}"
                taken[name], names[i] = i, name
        return names

    def _tunnel_interfaces(self, whole: list[int], hosts: dict[str, HostSpec]) -> dict[tuple[int, str], str]:
        """Written ipsecN names must be unique per host and not made by the host's run: block;
        the others get the lowest free unit (tunnels are set up first, in file order)."""
        tunnels = self.scn.tunnels
        names: dict[tuple[int, str], str] = {}
        taken: dict[tuple[str, str], tuple[int, str]] = {}
        made = {host: _created_interfaces(spec) for host, spec in hosts.items()}
        for i in whole:
            for side in SIDES:
                end = tunnels[i].end(side)
                if not end.interface:
                    continue
                key = (end.host, end.interface)
                if key in taken:
                    j, other = taken[key]
                    self.problem(end, ("tunnels", i, side), "interface", f"{end.interface} on host {end.host} is already "
                                 f"tunnels[{j}].{other}'s; each tunnel end needs its own interface")
                elif end.interface in made.get(end.host, {}):
                    self.problem(end, ("tunnels", i, side), "interface", f"host {end.host}'s run: block creates {end.interface} "
                                 f"too (line {made[end.host][end.interface]}); tunnels are set up first, so that line would fail")
                taken.setdefault(key, (i, side))
                names[(i, side)] = end.interface
        lowest_free: dict[str, int] = {}  # units only get taken, so each search starts where the last stopped
        for i in whole:
            for side in SIDES:
                end = tunnels[i].end(side)
                if end.interface:
                    continue
                unit = lowest_free.get(end.host, 0)
                while (end.host, f"ipsec{unit}") in taken or f"ipsec{unit}" in made.get(end.host, {}):
                    unit += 1
                lowest_free[end.host] = unit + 1
                taken[(end.host, f"ipsec{unit}")] = (i, side)
                names[(i, side)] = f"ipsec{unit}"
        return names

    def _tunnel_spis(self, whole: list[int]) -> dict[int, TunnelSpis]:
        """Both SAs of a tunnel are added on both of its hosts; an SPI is unique in a host's SAD [S7.2]."""
        out: dict[int, TunnelSpis] = {}
        used: dict[tuple[str, int], tuple[int, str]] = {}
        for i in whole:
            tunnel = self.scn.tunnels[i]
            out[i] = tunnel.spi or TunnelSpis(**dict(zip(DIRECTIONS, default_spis(i))))
            reported = set()
            for host in (tunnel.end("a").host, tunnel.end("b").host):
                for direction in DIRECTIONS:
                    spi = out[i][direction]
                    owner = used.setdefault((host, spi), (i, direction))
                    if owner[0] == i or direction in reported:
                        continue
                    reported.add(direction)
                    message = (f"SPI {spi} is already used on host {host} by tunnels[{owner[0]}] ({owner[1]}); "
                               "every SA on a host needs its own SPI (setkey: File exists)")
                    if tunnel.spi is None:  # derived: one message, at the entry
                        reported.update(DIRECTIONS)
                        self.missing(tunnel, ("tunnels", i), "spi", f"{message}; write spi: {{a_to_b: ..., b_to_a: ...}}")
                    else:
                        self.problem(tunnel.spi, ("tunnels", i, "spi"), direction, message)
        return out

    def _inner_addresses(self, whole: list[int]) -> None:
        owners: dict[object, tuple[int, str, str]] = {}
        for i in whole:
            for side in SIDES:
                end = self.scn.tunnels[i].end(side)
                for inner in end.inner:
                    j, other, host = owners.setdefault(inner.ip, (i, side, end.host))
                    if j != i:
                        self.problem(end, ("tunnels", i, side), "inner", f"{inner.ip} is already the inner address of "
                                     f"tunnels[{j}].{other} (host {host}); every interface address is unique")


_CLONED = re.compile(r"lo0|ipsec[0-9]+")  # interfaces a host has without a link (ipsecN once a script makes it)
_CREATES = re.compile(r"\bifconfig\s+(ipsec[0-9]+)\s+create\b")


def _created_interfaces(spec: HostSpec) -> dict[str, int]:
    """ipsecN -> file line, for each ``ifconfig ipsecN create`` in a host's run: block."""
    made: dict[str, int] = {}
    if spec.run is not None:
        for index, line in enumerate(spec.run.text.split("\n")):
            for m in _CREATES.finditer(line.split("#")[0]):
                made.setdefault(m[1], spec.run.position(index)[0])
    return made


def _alternatives(sizes: Sequence[int]) -> str:
    """``16, 24 or 32``."""
    words = [str(s) for s in sizes]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def complete(scn: Scenario) -> tuple[Scenario, list[Diagnostic]]:
    """Check how the parts of ``scn`` fit together and fill in dependent defaults.

    Returns the completed scenario and every problem found (empty when it is usable).
    """
    checker = _Checker(scn)
    links = checker.links()
    hosts = checker.hosts()
    tunnels = checker.tunnels(hosts)
    traffic = checker.traffic(hosts)
    checker.timeline(hosts, links)
    checker.expect(hosts, traffic)
    checker.daemon_configs(hosts)
    done = scn.model_copy(update={"links": links, "hosts": hosts, "tunnels": tunnels, "traffic": traffic})
    return done, checker.diagnostics
