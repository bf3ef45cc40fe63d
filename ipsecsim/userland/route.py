"""route(8): ``add``, ``delete``, ``change``, ``get``/``show`` and ``flush`` (sbin/route/route.c,
route_netlink.c of FreeBSD 14).

Arguments are read as route.c reads them (see :mod:`._routeargs`: a bare
``10.2.0.0`` is a host route, ``-net 10.2.0.0`` is 10.2.0.0/16). Output and errors follow FreeBSD 14's netlink route(8):

    add net default: gateway 10.0.1.2
    route: message indicates error: File exists
    add net default: gateway 10.0.1.2 fib 0: route already in table
    route: route has not been found
    delete net 10.2.0.0/16: gateway 10.0.1.2 fib 0: not in table

A gateway must be reachable through an interface route, else the kernel
refuses with ``Network is unreachable``. Not modelled: multipath routes (a
second ``add`` of the same prefix is ``route already in table``), ``-link``,
``monitor``. A ``-mtu`` larger than the interface's is clamped to it.
"""

from ipaddress import IPv4Network, IPv6Network, ip_network

from ..kernel import Route
from ..kernel.route import RTF_GATEWAY, RTF_HOST, RTF_UP
from ..kernel.rtsock import RTM_ADD, RTM_CHANGE, RTM_DELETE, RTM_GET, RouteMessage, route_request
from ._core import CommandContext, Exit, register
from ._libc import EX_USAGE, getopt, routename, strerror
from ._routeargs import USAGE, RouteRequest, fib_list, parse_route_args

__all__ = ["route", "format_route_bits"]

RTF_DONE = 0x40
# sbin/route/route.c routeflags, for printb().
_ROUTE_BITS = (
    (0x1, "UP"), (0x2, "GATEWAY"), (0x4, "HOST"), (0x8, "REJECT"), (0x10, "DYNAMIC"), (0x20, "MODIFIED"),
    (0x40, "DONE"), (0x200, "XRESOLVE"), (0x400, "LLINFO"), (0x800, "STATIC"), (0x1000, "BLACKHOLE"),
    (0x4000, "PROTO2"), (0x8000, "PROTO1"), (0x10000, "PRCLONING"), (0x20000, "WASCLONED"),
    (0x40000, "PROTO3"), (0x80000, "FIXEDMTU"), (0x100000, "PINNED"), (0x200000, "LOCAL"),
    (0x400000, "BROADCAST"), (0x800000, "MULTICAST"), (0x10000000, "STICKY"),
)
# route(8) prints these for the errno of a failed change (newroute()).
_ROUTE_ERRORS = {"ESRCH": "not in table", "EBUSY": "entry in use", "ENOBUFS": "not enough memory",
                 "EADDRINUSE": "gateway uses the same route", "EEXIST": "route already in table"}
_COMMANDS = ("add", "change", "delete", "del", "get", "show", "flush", "monitor")


def format_route_bits(flags: int) -> str:
    """printb(flags, routeflags): ``<UP,GATEWAY,DONE,STATIC>``."""
    names = [name for bit, name in _ROUTE_BITS if flags & bit]
    return f"<{','.join(names)}>" if names else ""


# -- the message route(8) sends (rtmsg_nl in route_netlink.c) ---------------------------------

_RTM = {"add": RTM_ADD, "change": RTM_CHANGE, "delete": RTM_DELETE, "del": RTM_DELETE, "get": RTM_GET, "show": RTM_GET}


def _prefix(req: RouteRequest) -> IPv4Network | IPv6Network:
    """The prefix rtmsg_nl() sends (route_netlink.c): its length is read from the netmask as the
    destination's own sockaddr type, whatever ``-inet``/``-inet6`` said later on the line; a
    netmask built in the other family reads as no bits at all."""
    assert req.dst is not None
    top: int = req.dst.max_prefixlen
    if req.flags & RTF_HOST or req.plen is None:
        plen = top
    else:
        plen = req.plen if req.mask_af == req.dst.version else 0
    return ip_network((req.dst, plen), strict=False)


def _message(cmd: str, req: RouteRequest, fibnum: int) -> RouteMessage:
    return RouteMessage(
        _RTM[cmd], _prefix(req) if req.dst is not None else None, req.flags,
        gateway=None if req.interface else req.gw,
        gateway_ifname=req.gw_ifp.name if req.interface and req.gw_ifp is not None else None,
        ifname=req.ifp_name, mtu=req.mtu, fib=fibnum,
        prefix=req.plen is not None and not req.flags & RTF_HOST,
    )


# -- the command ----------------------------------------------------------------------------


def _print_get(ctx: CommandContext, req: RouteRequest, found: Route, fibnum: int, numeric: bool) -> None:
    dest = found.dest
    ctx.out(f"   route to: {routename(req.dst, numeric)}")
    ctx.out(f"destination: {routename(dest.network_address, numeric)}")
    if dest.prefixlen != dest.max_prefixlen:
        ctx.out(f"       mask: {routename(dest.netmask, numeric)}")
    if found.gateway is not None and found.flags & RTF_GATEWAY:
        ctx.out(f"    gateway: {routename(found.gateway, numeric)}")
    ctx.out(f"        fib: {fibnum}")
    ctx.out(f"  interface: {found.ifp.name}")
    ctx.out(f"      flags: {format_route_bits(found.flags | RTF_UP | RTF_DONE)}")
    ctx.out(f"{'recvpipe':>9} {'sendpipe':>9} {'ssthresh':>9} {'rtt,msec':>9} {'mtu   ':>9} {'weight':>10} "
            f"{'expire':>9}")
    ctx.out("".join(f"{value:8d}  " for value in (0, 0, 0, 0, found.path_mtu(), 1)) + f"{0:8d} ")


def _flush(ctx: CommandContext, af: int | None, args: list[str], numeric: bool, quiet: bool) -> int:
    fibs = [0]
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-"):
            raise Exit(EX_USAGE, f"route: bad keyword: {arg}\n{USAGE}")
        key = arg[1:]
        if key in ("4", "inet"):
            af = 4
        elif key in ("6", "inet6"):
            af = 6
        elif key == "fib" and i + 1 < len(args):
            i += 1
            fibs = fib_list(ctx, args[i])
        else:
            raise Exit(EX_USAGE, f"route: bad keyword: {key}\n{USAGE}")
        i += 1
    for fibnum in fibs:
        for found in ctx.host.fibs[fibnum].routes(af):  # the NET_RT_DUMP sysctl flushroutes() reads
            if not found.flags & RTF_GATEWAY:
                continue
            reply = route_request(ctx.host, RouteMessage(RTM_DELETE, found.dest, found.flags, found.gateway,
                                                         fib=fibnum))
            if reply.errno is not None or quiet:
                continue
            dst = found.dest.network_address
            name = routename(dst, numeric) if found.flags & RTF_HOST else _netname(dst, numeric)
            ctx.out(f"{name[:20]:<20} {routename(found.gateway, numeric)[:20]:<20} -fib {fibnum:<3} done")
    return 0


def _netname(address, numeric: bool) -> str:
    """route.c netname(): 10.2.0.0 is ``10.2``; IPv6 as a number."""
    if address.version == 6:
        return str(address)
    value = int(address)
    if value == 0:
        return "default"
    octets = str(address).split(".")
    while len(octets) > 1 and octets[-1] == "0":
        octets.pop()
    return ".".join(octets)


@register("route")
def route(ctx: CommandContext, argv: list[str]) -> int:
    # getopt(3) over the leading options; a word such as ``-add`` is already the command
    words = argv[1:]
    n = 0
    while n < len(words) and words[n].startswith("-") and len(words[n]) > 1 and words[n][1:] not in _COMMANDS:
        n += 1
    opts, rest = getopt("route", "46nqdtv", words[:n], USAGE, EX_USAGE)
    args = rest + words[n:]
    af = None
    numeric = quiet = False
    for ch, _ in opts:
        af = 4 if ch == "4" else 6 if ch == "6" else af
        numeric = numeric or ch == "n"
        quiet = quiet or ch == "q"
    if not args:
        raise Exit(EX_USAGE, USAGE)
    cmd, args = args[0], args[1:]
    if cmd not in _COMMANDS:
        raise Exit(EX_USAGE, f"route: bad keyword: {cmd}\n{USAGE}", diagnostic=f"route: bad keyword: {cmd}")
    if cmd == "flush":
        return _flush(ctx, af, args, numeric, quiet)
    if cmd == "monitor":
        raise Exit(EX_USAGE, "route: monitor: not available in a simulated run block")
    req = parse_route_args(ctx, af, args)
    fibs = req.fibs if req.fibs is not None else [0]
    numfibs = int(ctx.host.sysctl["net.fibs"])
    what = f"{cmd} {'host' if req.ishost else 'net'} {req.dest}" + (f": gateway {req.gateway}" if req.gateway else "")
    failures, done = [], []
    for fibnum in fibs:
        reply = route_request(ctx.host, _message(cmd, req, fibnum))
        if reply.errno is not None:
            if reply.errno == "ESRCH":
                ctx.err("route: route has not been found")
            else:
                ctx.err(f"route: message indicates error: {strerror(reply.errno)}")
            failures.append((fibnum, reply.errno))
            continue
        if reply.route is not None:
            _print_get(ctx, req, reply.route, fibnum, numeric)
        done.append(fibnum)
    if cmd in ("get", "show"):
        return 1 if failures else 0
    if not quiet and done:
        ctx.out(what + (f" fib {','.join(map(str, done))}" if numfibs > 1 else ""))
    status = 0
    for fibnum, errno_name in failures:
        line = f"{what} fib {fibnum}: {_ROUTE_ERRORS.get(errno_name) or strerror(errno_name)}"
        if not quiet:
            ctx.out(line)
        ctx.diagnostic = ctx.diagnostic or line
        status = 1
    return status
