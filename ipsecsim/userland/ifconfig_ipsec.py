"""ifconfig(8) for if_ipsec interfaces (sbin/ifconfig/ifipsec.c, af_inet.c, af_inet6.c) [S11].

``ifconfig ipsec0 create [reqid N]``, ``destroy``, ``reqid N``, ``[inet|inet6] tunnel SRC DST``,
``-tunnel`` / ``deletetunnel``, ``tunnelfib N``; the status shows ``tunnel inet A --> B``,
``groups: ipsec`` and ``reqid: N``. Like FreeBSD's ifconfig, a refused reqid, tunnel or
tunnelfib ioctl, and a reqid or tunnelfib value strtoul cannot read, are warnings ending
in strerror(errno) (``ifconfig: ioctl(IPSECSREQID): File exists``, ``ifconfig: Invalid reqid
value abc: Invalid argument``), not failures: the remaining arguments apply, the status is 0.
A scenario reports each of them as a command error all the same.
"""

from ..kernel.if_ipsec import IpsecIf
from ..kernel.ifioctl import (IPSECSREQID, SIOCDIFPHYADDR, SIOCIFDESTROY, SIOCSIFPHYADDR, SIOCSIFPHYADDR_IN6,
                              SIOCSTUNFIB, if_clone_create, ifioctl)
from ..kernel.ifnet import Ifnet
from ._core import CommandContext, Exit
from ._ifstatus import GROUPS, STATUS_HOOKS, TUNNEL_STATUS_HOOKS
from ._libc import inet_aton, parse_inet6, strerror, strtoul
from .ifconfig import register_cloner, register_command

__all__: list[str] = []


def _create(ctx: CommandContext, name: str) -> Ifnet:
    errno, made = if_clone_create(ctx.host, name)
    if errno is not None or made is None:
        raise Exit(1, f"ifconfig: SIOCIFCREATE2 ({name}): {strerror(errno or 'EINVAL')}")
    return ctx.host.interfaces[made]


def _destroy(ctx: CommandContext, ifp: Ifnet) -> None:
    errno = ifioctl(ctx.host, ifp.name, SIOCIFDESTROY)
    if errno is not None:
        raise Exit(1, f"ifconfig: SIOCIFDESTROY: {strerror(errno)}")


def _getaddrinfo(ctx: CommandContext, text: str):
    """getaddrinfo(text, NULL, NULL, ...) as settunnel() calls it: numbers of either family
    (inet_aton's short forms too, a ``%zone`` dropped) or a host name."""
    address = inet_aton(text) or parse_inet6(text) or ctx.resolve(text, 4) or ctx.resolve(text, 6)
    if address is None:  # gai_strerror(EAI_NONAME)
        raise Exit(1, "ifconfig: error in parsing address string: hostname nor servname provided, or not known")
    return address


def _reqid(ctx: CommandContext, ifp: Ifnet, args: list[str]) -> None:
    """setreqid (ifipsec.c): ``strtoul(val, &ep, 0)`` into a uint32_t, so ``0x10`` is 16, ``010``
    is 8, ``-1`` is 4294967295 and ``99999999999`` keeps its low 32 bits; trailing text is
    ``warn("Invalid reqid value %s")``. Both warnings leave the exit status at 0. [S11.1]"""
    text = args[0]
    value, rest, errno = strtoul(text, 0)
    if errno is not None:
        ctx.errno = errno  # EINVAL when there were no digits at all ("abc")
    if rest:
        ctx.warn(f"ifconfig: Invalid reqid value {text}: {strerror(ctx.errno)}")
        return
    errno = ifioctl(ctx.host, ifp.name, IPSECSREQID, value & 0xFFFFFFFF)
    if errno is not None:
        ctx.errno = errno
        ctx.warn(f"ifconfig: ioctl(IPSECSREQID): {strerror(errno)}")  # warn() [S11.1]


def _tunnel(ctx: CommandContext, ifp: Ifnet, args: list[str]) -> None:
    src, dst = _getaddrinfo(ctx, args[0]), _getaddrinfo(ctx, args[1])
    if src.version != dst.version:
        raise Exit(1, "ifconfig: source and destination address families do not match")  # [S11.3]
    ioctl = SIOCSIFPHYADDR if src.version == 4 else SIOCSIFPHYADDR_IN6
    errno = ifioctl(ctx.host, ifp.name, ioctl, (src, dst))
    if errno is not None:
        ctx.errno = errno
        ctx.warn(f"ifconfig: {ioctl}: {strerror(errno)}")  # warn() [S11.3]


def _deletetunnel(ctx: CommandContext, ifp: Ifnet, args: list[str]) -> None:
    errno = ifioctl(ctx.host, ifp.name, SIOCDIFPHYADDR)
    if errno is not None:
        raise Exit(1, f"ifconfig: SIOCDIFPHYADDR: {strerror(errno)}")  # err(1) [S11.3]


def _tunnelfib(ctx: CommandContext, ifp: Ifnet, args: list[str]) -> None:
    """settunfib (iffib.c): strtoul(val, &ep, 0); trailing text or a value past UINT_MAX is
    ``warn("fib %s not valid")``, a refused ioctl ``warn("ioctl (SIOCSTUNFIB)")``: exit status 0."""
    fib, rest, errno = strtoul(args[0], 0)
    if errno is not None:
        ctx.errno = errno
    if rest or fib > 0xFFFFFFFF:
        ctx.warn(f"ifconfig: fib {args[0]} not valid: {strerror(ctx.errno)}")
        return
    errno = ifioctl(ctx.host, ifp.name, SIOCSTUNFIB, fib)
    if errno is not None:
        ctx.errno = errno
        ctx.warn(f"ifconfig: ioctl (SIOCSTUNFIB): {strerror(errno)}")


def _tunnel_status(ifp: Ifnet) -> list[str]:
    if not isinstance(ifp, IpsecIf) or not ifp.family:
        return []  # SIOCGIFPSRCADDR fails with EADDRNOTAVAIL: no tunnel line [S3.8]
    family = "inet" if ifp.family == 4 else "inet6"
    return [f"\ttunnel {family} {ifp.src} --> {ifp.dst}"]


def _reqid_status(ifp: Ifnet) -> list[str]:
    return [f"\treqid: {ifp.reqid}"] if isinstance(ifp, IpsecIf) else []  # [S11.1]


register_cloner("ipsec", _create, _destroy)
register_command("reqid", 1, _reqid)
register_command("tunnel", 2, _tunnel)
register_command("-tunnel", 0, _deletetunnel)
register_command("deletetunnel", 0, _deletetunnel)
register_command("tunnelfib", 1, _tunnelfib)
GROUPS["ipsec"] = "ipsec"
TUNNEL_STATUS_HOOKS.append(_tunnel_status)
STATUS_HOOKS.append((20, _reqid_status))  # groups:, then reqid:, then nd6 options= [S11.4]
