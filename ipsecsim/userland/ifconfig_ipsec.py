"""ifconfig(8) for if_ipsec interfaces (sbin/ifconfig/ifipsec.c, af_inet.c, af_inet6.c) [S11].

``ifconfig ipsec0 create [reqid N]``, ``destroy``, ``reqid N``, ``[inet|inet6] tunnel SRC DST``,
``-tunnel`` / ``deletetunnel``, ``tunnelfib N``; the status shows ``tunnel inet A --> B``,
``groups: ipsec`` and ``reqid: N``. Like FreeBSD's ifconfig, a refused reqid, tunnel or
tunnelfib ioctl, and a reqid or tunnelfib value strtoul cannot read, are warnings ending
in strerror(errno) (``ifconfig: ioctl(IPSECSREQID): File exists``, ``ifconfig: Invalid reqid
value abc: Invalid argument``), not failures: the remaining arguments apply, the status is 0.
A scenario reports each of them as a command error all the same.
"""

from ..kernel.if_ipsec import IPSEC_MTU_MAX, IPSEC_MTU_MIN, IfIpsecError, IpsecIf, create_ipsec
from ..kernel.ifnet import Ifnet
from ._core import CommandContext, Exit
from ._ifstatus import GROUPS, STATUS_HOOKS, TUNNEL_STATUS_HOOKS
from ._libc import inet_aton, parse_inet6, strerror, strtoul
from .ifconfig import MTU_RANGE, register_cloner, register_command

__all__: list[str] = []


def _create(ctx: CommandContext, name: str) -> Ifnet:
    try:
        return create_ipsec(ctx.host, None if name == "ipsec" else name)
    except IfIpsecError as error:
        raise Exit(1, f"ifconfig: SIOCIFCREATE2 ({name}): {strerror(error.errno_name)}") from None


def _destroy(ctx: CommandContext, ifp: Ifnet) -> None:
    ifp.destroy()


def _ipsec(ifp: Ifnet) -> IpsecIf:
    """The if_ipsec softc behind an ioctl; any other driver answers these ioctls with EINVAL."""
    if not isinstance(ifp, IpsecIf):
        raise IfIpsecError("EINVAL", "Invalid argument")
    return ifp


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
    try:
        _ipsec(ifp).set_reqid(value & 0xFFFFFFFF)
    except IfIpsecError as error:
        ctx.errno = error.errno_name
        ctx.warn(f"ifconfig: ioctl(IPSECSREQID): {strerror(error.errno_name)}")  # warn() [S11.1]


def _tunnel(ctx: CommandContext, ifp: Ifnet, args: list[str]) -> None:
    src, dst = _getaddrinfo(ctx, args[0]), _getaddrinfo(ctx, args[1])
    if src.version != dst.version:
        raise Exit(1, "ifconfig: source and destination address families do not match")  # [S11.3]
    ioctl = "SIOCSIFPHYADDR" if src.version == 4 else "SIOCSIFPHYADDR_IN6"
    try:
        _ipsec(ifp).set_tunnel(src, dst)
    except IfIpsecError as error:
        ctx.errno = error.errno_name
        ctx.warn(f"ifconfig: {ioctl}: {strerror(error.errno_name)}")  # warn() [S11.3]


def _deletetunnel(ctx: CommandContext, ifp: Ifnet, args: list[str]) -> None:
    try:
        _ipsec(ifp).delete_tunnel()
    except IfIpsecError as error:
        raise Exit(1, f"ifconfig: SIOCDIFPHYADDR: {strerror(error.errno_name)}") from None  # err(1) [S11.3]


def _tunnelfib(ctx: CommandContext, ifp: Ifnet, args: list[str]) -> None:
    """settunfib (iffib.c): strtoul(val, &ep, 0); trailing text or a value past UINT_MAX is
    ``warn("fib %s not valid")``, a refused ioctl ``warn("ioctl (SIOCSTUNFIB)")``: exit status 0."""
    fib, rest, errno = strtoul(args[0], 0)
    if errno is not None:
        ctx.errno = errno
    if rest or fib > 0xFFFFFFFF:
        ctx.warn(f"ifconfig: fib {args[0]} not valid: {strerror(ctx.errno)}")
        return
    try:
        _ipsec(ifp).set_tunnel_fib(fib)
    except IfIpsecError as error:
        ctx.errno = error.errno_name
        ctx.warn(f"ifconfig: ioctl (SIOCSTUNFIB): {strerror(error.errno_name)}")


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
MTU_RANGE["ipsec"] = (IPSEC_MTU_MIN, IPSEC_MTU_MAX)
GROUPS["ipsec"] = "ipsec"
TUNNEL_STATUS_HOOKS.append(_tunnel_status)
STATUS_HOOKS.append((20, _reqid_status))  # groups:, then reqid:, then nd6 options= [S11.4]
