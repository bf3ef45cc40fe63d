"""The routing socket: one request in, one reply with an errno out (sys/net/route_netlink.c's
``rtnl_handle_newroute`` / ``rtnl_handle_delroute`` / ``rtnl_handle_getroute``, rtsock.c's
``route_output``).

route(8) and routing daemons build a :class:`RouteMessage` and call :func:`route_request`;
the kernel resolves the next hop, edits the FIB and answers with a :class:`RouteReply`
whose ``errno`` is None on success. Nothing here prints: the caller turns the errno into
its own words. A daemon marks its routes with ``RTF_PROTO1``/``RTF_PROTO2`` in ``flags``
(zebra and bird use them so), which ``netstat -r`` shows as ``1``/``2``.

Semantics, as FreeBSD 14 answers them:

- ``RTM_ADD``: ``EEXIST`` when the prefix is already in the table (multipath is not
  modelled); a gateway not reachable through a connected route is ``ENETUNREACH``
  (``ifa_ifwithroute``); a gateway of the other family, or no gateway at all, ``EINVAL``.
- ``RTM_CHANGE``: ``ESRCH`` when the prefix is not in the table; without a gateway the old
  next hop is kept.
- ``RTM_DELETE``: ``ESRCH`` when the prefix is missing or its gateway (interface) is not
  the one named.
- ``RTM_GET``: the longest match for the destination, or with ``prefix`` (RTM_F_PREFIX) the
  exact prefix; ``ESRCH`` when none.

An interface route (``route add -interface``) is a message without ``RTF_GATEWAY`` whose
next hop is ``gateway_ifname``; ``ifname`` (``-ifp``) overrides the interface the next hop
resolved to (``ENXIO`` when there is no such interface). A route ``mtu`` larger than its
interface's is clamped to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TYPE_CHECKING

from ..packet.ipversion import IPV4, IPV6
from .route import RTF_BLACKHOLE, RTF_GATEWAY, RTF_REJECT, RTF_UP, Fib, Route, RouteError

if TYPE_CHECKING:
    from .host import Host
    from .ifnet import Ifnet

__all__ = ["RouteMessage", "RouteReply", "route_request", "RTM_ADD", "RTM_DELETE", "RTM_CHANGE", "RTM_GET"]

# sys/net/route.h message types
RTM_ADD, RTM_DELETE, RTM_CHANGE, RTM_GET = 0x1, 0x2, 0x3, 0x4

Address = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class RouteMessage:
    """One request (``rt_msghdr`` with its sockaddrs, or a netlink ``RTM_NEWROUTE``)."""

    type: int
    dst: IPv4Network | IPv6Network | None
    flags: int = RTF_GATEWAY
    gateway: Address | None = None
    gateway_ifname: str | None = None  # the next hop of an interface route (RTA_OIF)
    ifname: str | None = None  # -ifp: the interface to use whatever the next hop says
    mtu: int | None = None  # RTV_MTU; None: not given
    fib: int = 0
    prefix: bool = False  # RTM_GET only: the exact prefix, not the longest match


@dataclass(frozen=True, slots=True)
class RouteReply:
    """The kernel's answer: ``errno`` None on success; ``route`` is the entry RTM_GET found."""

    errno: str | None = None
    route: Route | None = None


def route_request(host: "Host", msg: RouteMessage) -> RouteReply:
    """Carry out one routing-socket request on ``host``."""
    try:
        return RouteReply(route=_handle(host, msg))
    except RouteError as error:
        return RouteReply(errno=error.errno_name)


def _handle(host: "Host", msg: RouteMessage) -> Route | None:
    if msg.dst is None or not 0 <= msg.fib < len(host.fibs):
        raise RouteError("EINVAL")
    fib = host.fibs[msg.fib]
    dest = msg.dst
    if msg.type == RTM_GET:
        found = fib.find(dest) if msg.prefix else fib.lookup(dest.network_address.packed)
        if found is None:
            raise RouteError("ESRCH")
        return found
    old = fib.find(dest)
    if msg.type == RTM_ADD:
        if old is not None:
            raise RouteError("EEXIST")
        fib.add(_build(host, fib, msg, None))
    elif msg.type == RTM_CHANGE:
        if old is None:
            raise RouteError("ESRCH")
        new = _build(host, fib, msg, old)
        fib.delete(dest)
        fib.add(new)
    elif msg.type == RTM_DELETE:
        if old is None or not _same_nexthop(host, msg, old):
            raise RouteError("ESRCH")
        fib.delete(dest)
    else:
        raise RouteError("EOPNOTSUPP")
    return None


def _same_nexthop(host: "Host", msg: RouteMessage, old: Route) -> bool:
    """A delete naming a gateway (or an interface) removes the route only through it."""
    if not msg.flags & RTF_GATEWAY:
        named = host.interfaces.get(msg.gateway_ifname) if msg.gateway_ifname is not None else None
        return named is None or old.ifp is named
    return msg.gateway is None or old.gateway == msg.gateway


def _nexthop(host: "Host", fib: Fib, gateway: Address) -> tuple["Ifnet", Address | None]:
    """ifa_ifwithroute(): the interface and source address a gateway is reached through."""
    family = gateway.version
    local = (host.local4 if family == 4 else host.local6).get(gateway.packed)
    if local is not None:
        return local, gateway
    for ifp in host.interfaces.values():
        for addr in ifp.addrs4 if family == 4 else ifp.addrs6:
            if addr.dest == gateway or (addr.dest is None and gateway in addr.interface.network):
                return ifp, addr.address
    found = fib.lookup(gateway.packed)
    if found is None or found.flags & (RTF_GATEWAY | RTF_REJECT | RTF_BLACKHOLE):
        raise RouteError("ENETUNREACH")
    return found.ifp, found.source or found.ifp.first_address(IPV4 if family == 4 else IPV6)


def _build(host: "Host", fib: Fib, msg: RouteMessage, old: Route | None) -> Route:
    """The entry an add or change installs (rtnl_handle_newroute's nexthop creation)."""
    dest = msg.dst
    assert dest is not None
    flags = msg.flags | RTF_UP  # every route the kernel installs is up (rt_flags |= RTF_UP)
    gateway: Address | None
    if not flags & RTF_GATEWAY:  # an interface route: it needs its interface
        ifp = host.interfaces.get(msg.gateway_ifname) if msg.gateway_ifname is not None else None
        if ifp is None:
            raise RouteError("EINVAL")
        gateway, source = None, ifp.first_address(IPV4 if dest.version == 4 else IPV6)
    elif msg.gateway is not None:
        if msg.gateway.version != dest.version:
            raise RouteError("EINVAL")
        gateway = msg.gateway
        ifp, source = _nexthop(host, fib, gateway)
    elif old is not None:  # a change without a gateway keeps the next hop
        ifp, gateway, source = old.ifp, old.gateway, old.source
        flags = flags & ~RTF_GATEWAY | old.flags & RTF_GATEWAY
    elif flags & (RTF_REJECT | RTF_BLACKHOLE):  # route(8) sends these with RTF_GATEWAY set
        ifp, gateway, source = host.lo0, None, None
        flags &= ~RTF_GATEWAY
    else:
        raise RouteError("EINVAL")
    if msg.ifname is not None:
        named = host.interfaces.get(msg.ifname)
        if named is None:
            raise RouteError("ENXIO")
        ifp = named
    mtu = msg.mtu if msg.mtu is not None else (old.mtu if old is not None and msg.gateway is None else 0)
    if mtu:
        mtu = min(mtu, ifp.mtu)
    return Route(dest, ifp, gateway, flags, source, mtu)
