"""The routing table (FIB): static and connected routes, longest-prefix match.

Lookups are cached per destination and the cache is dropped on any change, so
the forwarding path pays one dict lookup per packet in the steady state.
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network
from typing import TYPE_CHECKING, Callable, Final

from ..netipsec.errnos import KernelError

if TYPE_CHECKING:
    from .ifnet import Ifnet

__all__ = [
    "Route", "Fib", "RouteError", "format_route_flags",
    "RTF_UP", "RTF_GATEWAY", "RTF_HOST", "RTF_REJECT", "RTF_STATIC", "RTF_BLACKHOLE",
]

# sys/net/route.h
RTF_UP: Final = 0x1
RTF_GATEWAY: Final = 0x2
RTF_HOST: Final = 0x4
RTF_REJECT: Final = 0x8
RTF_DYNAMIC: Final = 0x10
RTF_MODIFIED: Final = 0x20
RTF_STATIC: Final = 0x800
RTF_BLACKHOLE: Final = 0x1000
RTF_PROTO2: Final = 0x4000
RTF_PROTO1: Final = 0x8000
# Letter order of netstat -r (usr.bin/netstat/route.c rt_bits).
_FLAG_LETTERS = (
    (RTF_UP, "U"), (RTF_GATEWAY, "G"), (RTF_HOST, "H"), (RTF_REJECT, "R"), (RTF_DYNAMIC, "D"),
    (RTF_MODIFIED, "M"), (RTF_STATIC, "S"), (RTF_PROTO1, "1"), (RTF_PROTO2, "2"), (RTF_BLACKHOLE, "B"),
)


def format_route_flags(flags: int) -> str:
    return "".join(letter for bit, letter in _FLAG_LETTERS if flags & bit)


class RouteError(KernelError):
    """A routing-socket error; ``errno_name`` is what route(8) reports (EEXIST, ESRCH, ...)."""


@dataclass(slots=True)
class Route:
    """One entry. ``gateway`` None means directly reachable through ``ifp`` (``link#N``)."""

    dest: IPv4Network | IPv6Network
    ifp: "Ifnet"
    gateway: IPv4Address | IPv6Address | None = None
    flags: int = RTF_UP
    source: IPv4Address | IPv6Address | None = None  # the address packets routed here leave from
    mtu: int = 0  # 0: the interface's MTU
    link: int = 0  # the interface index netstat shows as link#N; 0: ifp's own

    @property
    def gateway_text(self) -> str:
        return str(self.gateway) if self.gateway is not None else f"link#{self.link or self.ifp.index}"

    @property
    def is_host(self) -> bool:
        return bool(self.flags & RTF_HOST)

    def path_mtu(self) -> int:
        return self.mtu or self.ifp.mtu


class Fib:
    """One routing table (FreeBSD supports several; ``net.fibs``)."""

    def __init__(self, number: int = 0):
        self.number = number
        # family -> prefixlen -> network address (int) -> Route
        self._tables: dict[int, dict[int, dict[int, Route]]] = {4: {}, 6: {}}
        self._lengths: dict[int, list[int]] = {4: [], 6: []}
        self._cache: dict[bytes, Route | None] = {}
        # The routes through each interface, so that removing an interface or one of its
        # addresses looks only at its own routes, not the whole table (a hub has thousands).
        self._via: dict[object, dict[tuple[int, int, int], Route]] = {}
        self.generation = 0
        # Called with ("add" | "delete", route) after each change, as a routing socket reader
        # sees RTM_ADD/RTM_DELETE (route -n monitor); the world logs route changes here.
        self.listeners: list[Callable[[str, Route], None]] = []

    def _changed(self, family: int) -> None:
        self._lengths[family] = sorted(self._tables[family], reverse=True)
        self._cache.clear()
        self.generation += 1

    def add(self, route: Route) -> None:
        family = route.dest.version
        by_net = self._tables[family].setdefault(route.dest.prefixlen, {})
        key = int(route.dest.network_address)
        if key in by_net:
            raise RouteError("EEXIST", "route already in table")
        by_net[key] = route
        self._via.setdefault(route.ifp, {})[(family, route.dest.prefixlen, key)] = route
        self._changed(family)
        for listener in self.listeners:
            listener("add", route)

    def find(self, dest: IPv4Network | IPv6Network) -> Route | None:
        """The route for exactly ``dest`` (not a longest-prefix match)."""
        return self._tables[dest.version].get(dest.prefixlen, {}).get(int(dest.network_address))

    def delete(self, dest: IPv4Network | IPv6Network) -> Route:
        family = dest.version
        by_net = self._tables[family].get(dest.prefixlen, {})
        route = by_net.pop(int(dest.network_address), None)
        if route is None:
            raise RouteError("ESRCH", "not in table")
        if not by_net:
            del self._tables[family][dest.prefixlen]
        via = self._via[route.ifp]
        del via[(family, dest.prefixlen, int(dest.network_address))]
        if not via:
            del self._via[route.ifp]
        self._changed(family)
        for listener in self.listeners:
            listener("delete", route)
        return route

    def delete_where(self, predicate, *, via=None) -> list[Route]:
        """Remove every route for which ``predicate(route)`` holds (interface gone, address
        removed); with ``via``, only routes through that interface are looked at."""
        candidates = self.routes() if via is None else list(self._via.get(via, {}).values())
        removed = [r for r in candidates if predicate(r)]
        for route in removed:
            self.delete(route.dest)
        return removed

    def lookup(self, dst: bytes) -> Route | None:
        """Longest-prefix match for a packed address (4 or 16 bytes), as the forwarding path has it."""
        try:
            return self._cache[dst]
        except KeyError:
            pass
        family = 4 if len(dst) == 4 else 6
        bits = 32 if family == 4 else 128
        value = int.from_bytes(dst, "big")
        tables = self._tables[family]
        found = None
        for length in self._lengths[family]:
            route = tables[length].get(value >> (bits - length) << (bits - length) if length else 0)
            if route is not None:
                found = route
                break
        self._cache[dst] = found
        return found

    def lookup_address(self, address: IPv4Address | IPv6Address) -> Route | None:
        return self.lookup(address.packed)

    def routes(self, family: int | None = None) -> list[Route]:
        """All routes, in netstat -rn order (by address, then prefix length)."""
        families = (4, 6) if family is None else (family,)
        found = [r for f in families for by_net in self._tables[f].values() for r in by_net.values()]
        return sorted(found, key=lambda r: (r.dest.version, int(r.dest.network_address), r.dest.prefixlen))


def parse_destination(text: str, family: int | None = None) -> IPv4Network | IPv6Network:
    """``default``, ``10.0.0.0/8``, ``10.1.2.3`` (a host) as route(8) takes them."""
    if text == "default":
        return ip_network("::/0" if family == 6 else "0.0.0.0/0")
    return ip_network(text, strict=False)
