"""route(8)'s argument reading (sbin/route/route.c ``newroute``, ``getaddr``, ``prefixlen``,
``inet_makenetandmask``, ``fiboptlist_csv``), kept apart from what the kernel then does with it.

The rules are route.c's, classful corners included: a bare ``10.2.0.0`` is a host
(its class A host part is not zero), ``-net 10.2.0.0`` takes its mask from the
trailing zero bytes (/16), ``10.2/16`` is 10.2.0.0/16, ``default`` is 0/0, and an
IPv6 destination without a prefix length is a host.
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from ..kernel.ifnet import Ifnet
from ..kernel.route import RTF_BLACKHOLE, RTF_GATEWAY, RTF_HOST, RTF_PROTO1, RTF_PROTO2, RTF_REJECT, RTF_STATIC, RTF_UP
from ._core import CommandContext, Exit
from ._libc import (EX_DATAERR, EX_NOHOST, EX_OSERR, EX_USAGE, atoi, inet_aton, inet_lnaof, inet_network,
                    parse_inet6, strtol)

__all__ = ["RouteRequest", "parse_route_args", "fib_list", "USAGE"]

USAGE = "route: usage: route [-46dnqtv] command [[modifiers] args]"
_METRICS = ("mtu", "hopcount", "expire", "recvpipe", "sendpipe", "ssthresh", "rtt", "rttvar", "weight")
_IGNORED = ("lock", "lockrest", "sticky", "nostick", "xresolve", "proxy", "llinfo", "cloning")
_WITH_ARG = ("ifa", "ifp", "genmask", "gateway", "dst", "netmask", "prefixlen", "fib") + _METRICS


@dataclass
class RouteRequest:
    """What newroute() collected from the arguments."""

    af: int | None
    flags: int = RTF_STATIC
    ishost: bool = False
    forcenet: bool = False
    forcehost: bool = False
    interface: bool = False
    dest: str = ""
    gateway: str = ""
    dst: IPv4Address | IPv6Address | None = None
    plen: int | None = None
    mask_af: int | None = None  # the family the netmask was built in (the af at that point)
    gw: IPv4Address | IPv6Address | None = None
    gw_ifp: Ifnet | None = None
    ifp_name: str | None = None
    mtu: int | None = None
    fibs: list[int] | None = None

    @property
    def family(self) -> int:
        return self.af or 4


def _set_mask(req: RouteRequest, plen: int, family: int) -> None:
    req.plen = plen
    req.mask_af = family


def _bad_address(text: str) -> Exit:
    return Exit(EX_NOHOST, f"route: bad address: {text}")


def _makenetandmask(req: RouteRequest, net: int, bits: int, text: str) -> None:
    if net <= 0xFF:
        addr = net << 24
    elif net <= 0xFFFF:
        addr = net << 16
    elif net <= 0xFFFFFF:
        addr = net << 8
    else:
        addr = net
    if bits == 0 and addr != 0:
        i = next(i for i in range(4) if addr & (0xFF << 8 * i))
        bits = 32 - 8 * i
    if bits > 32:
        raise _bad_address(text)
    req.dst = IPv4Address(addr)
    _set_mask(req, bits, 4)


def _prefixlen(req: RouteRequest, text: str) -> int:
    length = atoi(text)
    top = 128 if req.family == 6 else 32
    if length < 0 or length > top:
        raise Exit(EX_USAGE, f"route: {text}: invalid prefixlen")
    _set_mask(req, length, req.family)
    return -1 if length == top else length


def _getaddr(ctx: CommandContext, req: RouteRequest, which: str, text: str) -> bool:
    """route.c getaddr(): parse ``text`` as the destination, gateway or netmask; True for a host."""
    if req.af is None:
        req.af = 4
    if which == "gateway" and req.interface:
        ifp = ctx.host.interfaces.get(text)
        if ifp is None:
            raise Exit(EX_DATAERR, f"route: interface '{text}' does not exist")
        req.gw_ifp = ifp
        return True
    v6 = req.af == 6
    if text == "default":
        if which == "dst":
            req.forcenet = True
            req.dst = IPv6Address(0) if v6 else IPv4Address(0)
            _set_mask(req, 0, req.af)
        elif which == "netmask":
            _set_mask(req, 0, req.af)
        return False
    if v6:
        name, _, length = text.partition("/") if which == "dst" else (text, "", "")
        address = parse_inet6(name) or ctx.resolve(name, 6)
        if address is None:
            raise Exit(EX_OSERR, f"route: {name}: hostname nor servname provided, or not known")
        if which == "gateway":
            req.gw = address
        elif which == "netmask":
            _set_mask(req, bin(int(address)).count("1"), 6)
        else:
            req.dst = address
            if not length and address.is_unspecified:
                length = "0"
            if not length or length == "128":
                return True
            _prefixlen(req, length)
        return False
    if which == "dst" and "/" in text:
        before, _, after = text.partition("/")
        net = inet_network(before)
        if net is not None:
            _makenetandmask(req, net, max(strtol(after, 0)[0], 0), text)
            return False
    if which != "dst" or not req.forcenet:
        address = inet_aton(text)
        if address is not None:
            if which == "gateway":
                req.gw = address
            elif which == "netmask":
                _set_mask(req, bin(int(address)).count("1"), 4)
            elif req.forcehost or inet_lnaof(address) != 0:
                req.dst = address
            else:
                _makenetandmask(req, int(address), 0, text)
                return False
            return True
    if which == "dst" and not req.forcehost:
        net = inet_network(text)
        if net is not None:
            _makenetandmask(req, net, 0, text)
            return False
    address = ctx.resolve(text, 4)
    if address is None:
        raise _bad_address(text)
    if which == "gateway":
        req.gw = address
    else:
        req.dst = address
    return True


def fib_list(ctx: CommandContext, text: str) -> list[int]:
    numfibs = int(ctx.host.sysctl["net.fibs"])
    fibs: list[int] = []
    ranges = [f"0-{numfibs - 1}" if numfibs > 1 else "0"] if text == "all" else text.split(",")
    for token in ranges:
        bounds = token.split("-") if not token.startswith("-") and "-" in token else [token]
        values = []
        for piece in bounds:
            value, rest = strtol(piece, 0)
            if rest or not piece or value < 0 or value > numfibs - 1 or len(bounds) > 2:
                raise Exit(EX_USAGE, f"route: invalid fib number: {text}")
            values.append(value)
        if len(values) == 2:
            if values[0] >= values[1]:
                raise Exit(EX_USAGE, f"route: invalid fib number: {text}")
            values = list(range(values[0], values[1] + 1))
        fibs += values
    return fibs


def parse_route_args(ctx: CommandContext, af: int | None, args: list[str]) -> RouteRequest:
    req = RouteRequest(af)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg.startswith("-"):
            key = arg[1:]
            if key in _WITH_ARG:
                if i >= len(args):
                    raise Exit(EX_USAGE, USAGE)
                value = args[i]
                i += 1
            if key in ("4", "inet"):
                req.af = 4
            elif key in ("6", "inet6"):
                req.af = 6
            elif key in ("iface", "interface"):
                req.interface = True
            elif key == "nostatic":
                req.flags &= ~RTF_STATIC
            elif key == "static":
                req.flags |= RTF_STATIC
            elif key == "host":
                req.forcehost = True
            elif key == "net":
                req.forcenet = True
            elif key == "reject":
                req.flags |= RTF_REJECT
            elif key == "blackhole":
                req.flags |= RTF_BLACKHOLE
            elif key == "proto1":
                req.flags |= RTF_PROTO1
            elif key == "proto2":
                req.flags |= RTF_PROTO2
            elif key in _IGNORED:
                pass
            elif key == "fib":
                req.fibs = fib_list(ctx, value)
            elif key == "ifp":
                req.ifp_name = value
            elif key in ("ifa", "genmask"):
                pass  # the source address follows the interface; no cloning masks
            elif key == "gateway":
                _getaddr(ctx, req, "gateway", value)
                req.gateway = value
            elif key == "dst":
                req.ishost = _getaddr(ctx, req, "dst", value)
                req.dest = value
            elif key == "netmask":
                _getaddr(ctx, req, "netmask", value)
                req.forcenet = True
            elif key == "prefixlen":
                if req.af is None:
                    req.af = 4
                if _prefixlen(req, value) == -1:
                    req.forcenet, req.ishost = False, True
                else:
                    req.forcenet, req.ishost = True, False
            elif key in _METRICS:
                number, rest = strtol(value, 0)
                if rest or not value:
                    raise Exit(EX_USAGE, f"route: {value}: Invalid argument")
                if key == "mtu":
                    req.mtu = number
            else:
                raise Exit(EX_USAGE, f"route: bad keyword: {key}\n{USAGE}")
        elif req.dst is None:
            req.dest = arg
            req.ishost = _getaddr(ctx, req, "dst", arg)
        elif req.gw is None and req.gw_ifp is None:
            req.gateway = arg
            _getaddr(ctx, req, "gateway", arg)
        else:
            _getaddr(ctx, req, "netmask", arg)
            req.forcenet = True
    if req.forcehost:
        req.ishost = True
        if req.family == 6:
            req.plen = None
    if req.forcenet:
        req.ishost = False
    req.flags |= RTF_UP
    if req.ishost:
        req.flags |= RTF_HOST
    if not req.interface:
        req.flags |= RTF_GATEWAY
    return req
