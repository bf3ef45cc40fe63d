"""vtysh(1) ``-c "show ..."``: FRR's shell, asking the host's ospfd (and zebra's view of the FIB).

Each ``-c`` command is matched with FRR's unique-prefix rule (``sh ip ospf nei``)
and answered from the snapshots the running ospfd hands out
(:class:`~ipsecsim.ospf.views.OspfdView`, found in ``host.daemons["ospfd"]``).
``show ip route`` is zebra's RIB rebuilt from the kernel: connected routes from
the interfaces' addresses (zebra learns them from address events, not from the
routing table), the FIB's ``RTF_PROTO1`` routes as OSPF's own (FRR marks the
routes it installs on FreeBSD with that flag), every other static or gateway route as
a kernel route (K, distance 0), and ospfd's routes the FIB does not carry as
unselected ``O`` entries (its directly connected networks, lost to C).

As vtysh does, a command that does not parse prints ``% Unknown command: ...``
and ends the run with exit status 1; with no FRR daemon on the host it prints
``Exiting: failed to connect to any daemons.``; with zebra but no ospfd, an
OSPF command prints ``ospfd is not running``, and with an ospfd that has no
``router ospf``, ``% OSPF instance not found``.
"""

from ipaddress import IPv4Address, IPv4Network
from typing import Any, Callable

from ..kernel.ifnet import IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFF_POINTOPOINT, IFF_RUNNING, IFF_SIMPLEX, IFF_UP
from ..kernel.route import RTF_BLACKHOLE, RTF_GATEWAY, RTF_HOST, RTF_PROTO1, RTF_REJECT, RTF_STATIC
from ..ospf._cli import CliError, Matcher
from ..ospf.config import OspfConfig
from ..ospf.show import (KernelIf, show_database, show_interfaces, show_neighbors, show_ospf_routes, show_routes,
                         show_running_config)
from ..ospf.views import RouteView
from ._core import CommandContext, Exit, register
from ._libc import getopt

__all__ = ["vtysh", "zebra_rib"]

USAGE = "Try `vtysh --help' for more information."
_NO_DAEMONS = "Exiting: failed to connect to any daemons."

# lib/if.c if_flag_dump: the kernel's flags in FRR's order and words.
_IF_FLAGS = ((IFF_UP, "UP"), (IFF_BROADCAST, "BROADCAST"), (IFF_LOOPBACK, "LOOPBACK"),
             (IFF_POINTOPOINT, "POINTOPOINT"), (IFF_RUNNING, "RUNNING"), (IFF_SIMPLEX, "SIMPLEX"),
             (IFF_MULTICAST, "MULTICAST"))


class _Session:
    """One vtysh run: the host, its daemons and the time the commands are answered at."""

    def __init__(self, ctx: CommandContext):
        self.ctx = ctx
        self.host = ctx.host
        daemons: dict[str, Any] = getattr(ctx.host, "daemons", None) or {}
        ospfd = daemons.get("ospfd")
        self.ospfd = ospfd if ospfd is not None and getattr(ospfd, "running", True) else None
        self.frr = bool(daemons.get("zebra") is not None or ospfd is not None)
        self.now = ctx.host.clock.now

    def need_ospfd(self) -> Any:
        """The running ospfd with a ``router ospf``, or None having said why (as vtysh would)."""
        if self.ospfd is None:
            self.ctx.out("ospfd is not running")
            return None
        config = getattr(self.ospfd, "config", None)
        if config is not None and not config.ospf_enabled:
            self.ctx.out("% OSPF instance not found")  # ospfd runs, but no `router ospf`
            return None
        return self.ospfd

    # -- the commands --------------------------------------------------------------------------

    def neighbors(self, *values: Any) -> None:
        if (ospfd := self.need_ospfd()) is not None:
            self.write(show_neighbors(ospfd.neighbors()))

    def interfaces(self, *values: Any) -> None:
        if (ospfd := self.need_ospfd()) is None:
            return
        config = getattr(ospfd, "config", None)
        ignore = [n for n, i in config.interfaces.items() if i.mtu_ignore] if config is not None else []
        name = values[4] if len(values) > 4 else None
        self.write(show_interfaces(ospfd.interfaces(), self.kernel_interfaces(), mtu_ignore=ignore, name=name))

    def ospf_routes(self, *values: Any) -> None:
        if (ospfd := self.need_ospfd()) is not None:
            self.write(show_ospf_routes(ospfd.ospf_routes()))

    def database(self, *values: Any) -> None:
        if (ospfd := self.need_ospfd()) is None:
            return
        areas = [v.area for v in ospfd.interfaces()]
        self.write(show_database(ospfd.router_id, ospfd.database(), areas[0] if areas else IPv4Address(0)))

    def routes(self, *values: Any) -> None:
        protocol = values[3] if len(values) > 3 else None
        rib = zebra_rib(self.host, self.ospfd, self.now)
        self.write(show_routes(r for r in rib if protocol is None or r.protocol == protocol))

    def running_config(self, *values: Any) -> None:
        config = getattr(self.ospfd, "config", None) if self.ospfd is not None else None
        if config is None:
            config = OspfConfig()
        ptp = [ifp.name for ifp in self.host.interfaces.values() if ifp.flags & IFF_POINTOPOINT]
        self.write(show_running_config(config, hostname=self.host.name, point_to_point=ptp))

    # -- helpers -------------------------------------------------------------------------------

    def write(self, text: str) -> None:
        if text:  # ctx.out ends each write with a newline of its own
            self.ctx.out(text[:-1] if text.endswith("\n") else text)

    def kernel_interfaces(self) -> dict[str, KernelIf]:
        found = {}
        for ifp in self.host.interfaces.values():
            flags = ",".join(word for bit, word in _IF_FLAGS if ifp.flags & bit)
            bandwidth = int(getattr(ifp, "baudrate", 0) or 0) // 1_000_000
            found[ifp.name] = KernelIf(ifp.index, ifp.mtu, bandwidth, f"<{flags}>")
        return found


_S = _Session
_COMMANDS: Matcher[Callable[..., None]] = Matcher([
    ("show ip ospf neighbor", _S.neighbors),
    ("show ip ospf interface [IFNAME]", _S.interfaces),
    ("show ip ospf route", _S.ospf_routes),
    ("show ip ospf database", _S.database),
    ("show ip route", _S.routes),
    ("show ip route <ospf|connected|kernel|static>", _S.routes),
    ("show running-config", _S.running_config),
])


@register("vtysh")
def vtysh(ctx: CommandContext, argv: list[str]) -> int:
    pairs, rest = getopt("vtysh", "bc:d:Ef:hmnN:u:H:w", argv[1:], USAGE)
    commands = [value for ch, value in pairs if ch == "c"]
    if rest or not commands:
        raise Exit(1, "vtysh: only non-interactive use is simulated: vtysh -c \"show ...\"")
    echo = any(ch == "E" for ch, _ in pairs)
    session = _Session(ctx)
    if not session.frr:
        raise Exit(1, _NO_DAEMONS)
    for command in commands:
        if echo:
            ctx.out(f"{ctx.host.name}# {command}")
        try:
            handler, values = _COMMANDS.match(command, hint=False)
        except CliError as error:
            ctx.out(error.message)
            ctx.diagnostic = error.message
            return 1
        handler(session, *values)
    return 0


def zebra_rib(host: Any, ospfd: Any, now: float) -> list[RouteView]:
    """zebra's IPv4 RIB as ``show ip route`` lists it, rebuilt from the host and its ospfd."""
    started = float(getattr(ospfd, "started_at", 0.0) or 0.0) if ospfd is not None else 0.0
    installed_at: dict = getattr(ospfd, "route_times", None) or {}
    rib: list[RouteView] = []
    fib_routes = {route.dest: route for route in host.fibs[0].routes(4)}
    connected: set[IPv4Network] = set()
    for ifp in sorted(host.interfaces.values(), key=lambda i: i.index):
        if not (ifp.flags & IFF_UP and ifp.flags & IFF_RUNNING):
            continue  # zebra withdraws an interface's connected routes when it stops being operative
        for addr in ifp.addrs4:
            prefix = IPv4Network(addr.dest) if addr.dest is not None else IPv4Network(addr.interface.network)
            if prefix in connected:
                continue
            connected.add(prefix)
            rib.append(RouteView(prefix, "connected", 0, 0, ((None, ifp.name),),
                                 _selected(fib_routes.get(prefix), ospf=False), True, now - started))
    for dest, route in fib_routes.items():
        nexthop = _nexthop(route)
        if route.flags & RTF_PROTO1:
            age = now - installed_at.get(dest, started)
            rib.append(RouteView(dest, "ospf", 110, _ospf_metric(ospfd, dest), (nexthop,), True, True, age))
        elif route.flags & (RTF_STATIC | RTF_GATEWAY) and not _is_local(host, route):
            rib.append(RouteView(dest, "kernel", 0, 0, (nexthop,), True, True, now - started))
    if ospfd is not None:
        for r in ospfd.ospf_routes():
            found = fib_routes.get(r.prefix)
            if found is not None and found.flags & RTF_PROTO1:
                continue  # listed above, as the FIB has it
            age = now - installed_at.get(r.prefix, started)
            rib.append(RouteView(r.prefix, "ospf", 110, r.cost, r.nexthops, False, False, age))
    return rib


def _nexthop(route: Any) -> tuple[Any, str]:
    """A FIB route's way out as a RouteView nexthop; blackhole and reject routes have none."""
    if route.flags & RTF_BLACKHOLE:
        return None, "blackhole"
    if route.flags & RTF_REJECT:
        return None, "reject"
    return route.gateway, route.ifp.name


def _selected(route: Any, *, ospf: bool) -> bool:
    return route is None or bool(route.flags & RTF_PROTO1) == ospf


def _is_local(host: Any, route: Any) -> bool:
    """The lo0 host route of one of the host's own addresses (not a route zebra reports)."""
    return bool(route.flags & RTF_HOST) and route.ifp is host.lo0 and host.is_local(route.dest.network_address)


def _ospf_metric(ospfd: Any, prefix: IPv4Network) -> int:
    if ospfd is None:
        return 0
    return next((r.cost for r in ospfd.ospf_routes() if r.prefix == prefix), 0)
