"""ifconfig(8) for physical and loopback interfaces (sbin/ifconfig/ifconfig.c, af_inet.c, af_inet6.c).

Arguments are handled as FreeBSD's ``ifconfig()`` loop does: a word that is a
known parameter runs it (``up``, ``mtu 9000``, ``alias``...); any other word
is an address, the first one the interface address and the next one the
destination. Flags, MTU and the like take effect at once; the address request
is deferred to the end, where a plain ``inet A`` first removes the interface's
first IPv4 address (so it replaces it), ``alias`` adds, and ``-alias``/``delete``
removes. IPv6 addresses accumulate (``inet6 A`` only replaces the same address).

Errors are FreeBSD's: ``ifconfig: interface em7 does not exist``,
``ifconfig: ioctl (SIOCAIFADDR): File exists``, ``ifconfig: 10.0.0.300: bad value``,
``ifconfig: ioctl SIOCSIFMTU (set mtu): Invalid argument``; each ends the command
with status 1, as ``err(1, ...)`` does. Two FreeBSD warnings that leave ifconfig's
exit status at 0 (``fib`` with a bad or out-of-range number) exit 1 here, so a
scenario check reports them.

Other interface types plug in with :func:`register_cloner` (``ifconfig ipsec0
create``), :func:`register_command` (``tunnel``, ``reqid``) and the hooks of
:mod:`._ifstatus`. ``create`` on an interface that exists is ``interface ipsec0 already
exists`` when alone; followed by more arguments it is dropped and the rest applied.
"""

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from typing import Callable

from ..kernel import Ifnet
from ..kernel.ifioctl import (SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR, SIOCDIFADDR_IN6, SIOCSIFDESCR, SIOCSIFFIB,
                              SIOCSIFFLAGS, SIOCSIFINFO_IN6, SIOCSIFMTU, ifioctl)
from ..kernel.ifnet import IFF_LOOPBACK, IFF_POINTOPOINT, IFF_UP
from ._core import CommandContext, Exit, register
from ._ifstatus import status_lines
from ._libc import atoi, getopt, inet_aton, parse_inet6, strerror, strtol, strtonum

__all__ = ["ifconfig", "register_cloner", "register_command", "CLONERS", "EXTRA_COMMANDS"]

USAGE = (
    "usage: ifconfig [-L] interface address_family [address [dest_address]]\n"
    "                [parameters]\n"
    "       ifconfig interface create\n"
    "       ifconfig -a [-L] [-d] [-m] [-u] [-v] [address_family]\n"
    "       ifconfig -l [-d] [-u] [address_family]\n"
    "       ifconfig [-L] [-d] [-m] [-u] [-v]"
)
_FAMILIES = ("inet", "inet6", "link", "ether", "lladdr")
_LINK = ("link", "ether", "lladdr")

# Cloner name ("ipsec") -> (create(ctx, ifname) -> Ifnet, destroy(ctx, ifp)).
CLONERS: dict[str, tuple[Callable[[CommandContext, str], Ifnet], Callable[[CommandContext, Ifnet], None]]] = {}
# Extra parameters: name -> (number of arguments, handler(ctx, ifp, args)).
EXTRA_COMMANDS: dict[str, tuple[int, Callable[[CommandContext, Ifnet, list[str]], None]]] = {}


def register_cloner(name: str, create, destroy) -> None:
    """Let ``ifconfig NAMEn create`` / ``destroy`` make and remove interfaces of a cloned type."""
    CLONERS[name] = (create, destroy)


def register_command(name: str, nargs: int, handler) -> None:
    """Add an ifconfig parameter such as ``tunnel SRC DST`` (nargs 2) or ``reqid N`` (nargs 1)."""
    EXTRA_COMMANDS[name] = (nargs, handler)


def _fail(message: str) -> Exit:
    return Exit(1, f"ifconfig: {message}")


def _ioctl(ctx: CommandContext, ifp: Ifnet, request: str, arg, words: str) -> None:
    """Ask the kernel; a refusal is ``err(1, words)``: ``ifconfig: <words>: <strerror>``."""
    errno = ifioctl(ctx.host, ifp.name, request, arg)
    if errno is not None:
        ctx.errno = errno
        raise _fail(f"{words}: {strerror(errno)}")


# -- the address request of one run (in_aliasreq / in6_aliasreq) -------------------------


@dataclass
class _Request:
    family: str
    setaddr: bool = False
    setmask: bool = False
    doalias: int = 0
    clearaddr: bool = False
    newaddr: bool = True
    addr: IPv4Address | IPv6Address | None = None
    plen: int | None = None
    dest: IPv4Address | IPv6Address | None = None
    warnings: list[str] = field(default_factory=list)

    def address(self, ctx: CommandContext, text: str) -> None:
        if self.setaddr:  # setifdstaddr
            self.dest = self._parse(ctx, text, dest=True)[0]
            return
        self.setaddr = True
        if self.doalias == 0 and self.family not in _LINK:
            self.clearaddr = True
        self.addr, plen = self._parse(ctx, text, dest=False)
        if plen is not None:
            self.plen = plen

    def _parse(self, ctx: CommandContext, text: str, *, dest: bool):
        if self.family in _LINK:
            raise _fail("ioctl (SIOCSIFLLADDR): Operation not supported")
        if self.family == "inet6":
            return _in6_getaddr(ctx, text, dest)
        return _in_getaddr(ctx, text, dest)

    def alias(self, value: int) -> None:  # notealias
        self.doalias = value
        if value < 0:
            self.clearaddr = True
            self.newaddr = False
        else:
            self.clearaddr = False


def _in_getaddr(ctx: CommandContext, text: str, dest: bool) -> tuple[IPv4Address, int | None]:
    plen = None
    name = text
    if not dest and "/" in text:
        cut = text.rindex("/")
        width = text[cut + 1 :]
        if width[:1].isdigit():
            plen, problem = strtonum(width, 0, 32)
        else:
            problem = "invalid"
        if problem is not None:
            raise _fail(f"{text}: bad value (width {problem})")
        name = text[:cut]
    address = inet_aton(name) or ctx.resolve(name, 4)
    if address is None:
        raise _fail(f"{name}: bad value")
    return address, plen


def _in6_getaddr(ctx: CommandContext, text: str, dest: bool) -> tuple[IPv6Address, int | None]:
    plen = None
    name = text
    if not dest and "/" in text:
        cut = text.rindex("/")
        plen = strtol(text[cut + 1 :], 10)[0]
        if not 0 <= plen <= 128:
            raise _fail(f"{text[cut + 1:]}: bad value")
        name = text[:cut]
    address = parse_inet6(name) or ctx.resolve(name, 6)
    if address is None:
        raise _fail(f"{name}: bad value")
    return address, plen


# -- parameters ------------------------------------------------------------------------------


def _setflags(up: bool):
    def run(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
        flags = ifp.flags | IFF_UP if up else ifp.flags & ~IFF_UP  # SIOCGIFFLAGS, then set
        _ioctl(ctx, ifp, SIOCSIFFLAGS, flags, "ioctl (SIOCSIFFLAGS)")
    return run


def _setmtu(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
    _ioctl(ctx, ifp, SIOCSIFMTU, atoi(args[0]), "ioctl SIOCSIFMTU (set mtu)")


def _setnetmask(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
    if req.family == "inet6":
        return  # in6 has no netmask parameter; FreeBSD ignores it there too
    if req.family in _LINK:
        raise _fail("ioctl (SIOCSIFLLADDR): Operation not supported")
    mask = inet_aton(args[0]) or ctx.resolve(args[0], 4)
    if mask is None:
        raise _fail(f"{args[0]}: bad value")
    req.setmask = True
    req.plen = bin(int(mask)).count("1")


def _setbroadcast(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
    # The kernel always uses the subnet's broadcast address; the value is checked, then ignored.
    if inet_aton(args[0]) is None and ctx.resolve(args[0], 4) is None:
        raise _fail(f"{args[0]}: bad value")


def _setprefixlen(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
    plen = atoi(args[0])
    if not 0 <= plen <= (128 if req.family == "inet6" else 32):
        raise _fail(f"{args[0]}: bad value")
    req.setmask = True
    req.plen = plen


def _setdescr(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
    _ioctl(ctx, ifp, SIOCSIFDESCR, args[0] if args else "", "ioctl (SIOCSIFDESCR)")


def _setfib(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
    fib, rest = strtol(args[0], 0)
    if rest or not args[0] or fib < 0 or fib > 0xFFFFFFFF:
        raise _fail(f"fib {args[0]} not valid: Invalid argument")
    _ioctl(ctx, ifp, SIOCSIFFIB, fib, "ioctl (SIOCSIFFIB)")


def _alias(value: int):
    def run(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
        req.alias(value)
    return run


def _nd6(flag: int, on: bool):
    def run(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
        flags = ifp.nd6_flags | flag if on else ifp.nd6_flags & ~flag  # SIOCGIFINFO_IN6, then set
        _ioctl(ctx, ifp, SIOCSIFINFO_IN6, flags, "ioctl(SIOCSIFINFO_IN6)")
    return run


def _destroy(ctx: CommandContext, ifp: Ifnet, req: _Request, args: list[str]) -> None:
    cloner = CLONERS.get(_cloner_name(ifp.name))
    if cloner is None or ifp.kind in ("ether", "loop"):
        raise _fail("SIOCIFDESTROY: Invalid argument")
    cloner[1](ctx, ifp)
    raise _Destroyed


class _Destroyed(Exception):
    """The interface is gone: the remaining arguments are not applied."""


_COMMANDS: dict[str, tuple[int, Callable]] = {
    "up": (0, _setflags(True)), "down": (0, _setflags(False)),
    "mtu": (1, _setmtu), "netmask": (1, _setnetmask), "broadcast": (1, _setbroadcast),
    "prefixlen": (1, _setprefixlen),
    "alias": (0, _alias(1)), "-alias": (0, _alias(-1)), "delete": (0, _alias(-1)), "remove": (0, _alias(-1)),
    "description": (1, _setdescr), "descr": (1, _setdescr),
    "-description": (0, _setdescr), "-descr": (0, _setdescr),
    "fib": (1, _setfib), "destroy": (0, _destroy), "unplumb": (0, _destroy),
    "ifdisabled": (0, _nd6(0x8, True)), "-ifdisabled": (0, _nd6(0x8, False)),
    "nud": (0, _nd6(0x1, True)), "-nud": (0, _nd6(0x1, False)),
    "auto_linklocal": (0, _nd6(0x20, True)), "-auto_linklocal": (0, _nd6(0x20, False)),
    "accept_rtadv": (0, _nd6(0x2, True)), "-accept_rtadv": (0, _nd6(0x2, False)),
    "no_dad": (0, _nd6(0x100, True)), "-no_dad": (0, _nd6(0x100, False)),
}


# -- the deferred address operations -------------------------------------------------------


def _postproc(ctx: CommandContext, ifp: Ifnet, req: _Request) -> None:
    if req.family == "inet" and req.setaddr and req.plen is None and req.newaddr:
        if not ifp.flags & (IFF_POINTOPOINT | IFF_LOOPBACK):
            ctx.err("ifconfig: WARNING: setting interface address without mask is deprecated,\n"
                    "default mask may not be correct.")
        first = int(req.addr) >> 24  # type: ignore[arg-type]  # setaddr: an address was read
        req.plen = 8 if first < 128 else 16 if first < 192 else 24  # in_setdefaultmask_nl
    elif req.family == "inet6" and req.plen is None:
        req.plen = 64  # in6_postproc: "all prefixes are 64"


def _apply(ctx: CommandContext, ifp: Ifnet, req: _Request) -> None:
    if req.family in _LINK:
        return
    inet = req.family == "inet"
    if req.clearaddr:
        # A plain ``inet A`` replaces the first IPv4 address (SIOCDIFADDR without an address);
        # ``inet6 A`` and -alias/delete name theirs. Only -alias/delete of a missing one fails.
        doomed = req.addr if req.setaddr and not (inet and req.doalias >= 0) else None
        errno = ifioctl(ctx.host, ifp.name, SIOCDIFADDR if inet else SIOCDIFADDR_IN6, doomed)
        if errno is not None and req.doalias < 0:
            raise _fail(f"ioctl (SIOCDIFADDR): {strerror(errno)}")
    if req.newaddr and (req.setaddr or req.setmask):
        if not req.setaddr:
            raise _fail("ioctl (SIOCAIFADDR): Invalid argument")
        iface_type = IPv4Interface if inet else IPv6Interface
        _ioctl(ctx, ifp, SIOCAIFADDR if inet else SIOCAIFADDR_IN6, (iface_type((req.addr, req.plen)), req.dest),
               "ioctl (SIOCAIFADDR)")


def _configure(ctx: CommandContext, ifp: Ifnet, family: str, args: list[str]) -> None:
    req = _Request(family)
    i = 0
    while i < len(args):
        word = args[i]
        spec = _COMMANDS.get(word)
        extra = EXTRA_COMMANDS.get(word) if spec is None else None
        if spec is None and extra is None:
            req.address(ctx, word)
            i += 1
            continue
        nargs = spec[0] if spec is not None else extra[0]  # type: ignore[index]  # one of them is set
        if len(args) - i - 1 < nargs:
            raise _fail(f"'{word}' requires argument" if nargs == 1 else f"'{word}' requires {nargs} arguments")
        params = args[i + 1 : i + 1 + nargs]
        try:
            if spec is not None:
                spec[1](ctx, ifp, req, params)
            else:
                extra[1](ctx, ifp, params)  # type: ignore[index]
        except _Destroyed:
            return
        i += 1 + nargs
    _postproc(ctx, ifp, req)
    _apply(ctx, ifp, req)


# -- listing ---------------------------------------------------------------------------------------


def _has_family(ifp: Ifnet, family: str) -> bool:
    if family in _LINK:
        return bool(getattr(ifp, "ether", None))
    return bool(ifp.addrs4 if family == "inet" else ifp.addrs6)


def _cloner_name(ifname: str) -> str:
    return ifname.rstrip("0123456789")


def _usage() -> Exit:
    return Exit(1, USAGE)


@register("ifconfig")
def ifconfig(ctx: CommandContext, argv: list[str]) -> int:
    opts, args = getopt("ifconfig", "adklmnuvL", argv[1:], USAGE)
    flags = {ch for ch, _ in opts}
    host = ctx.host
    if "l" in flags and ("a" in flags or "m" in flags) or "u" in flags and "d" in flags:
        raise _usage()
    listing = "l" in flags or "a" in flags or not args
    if listing:
        if len(args) > 1 or (args and args[0] not in _FAMILIES):
            raise _usage()
        family = args[0] if args else None
        shown = []
        for ifp in sorted(host.interfaces.values(), key=lambda i: i.index):
            if "d" in flags and ifp.flags & IFF_UP or "u" in flags and not ifp.flags & IFF_UP:
                continue
            if family is not None and not _has_family(ifp, family):
                continue
            shown.append(ifp)
        if "l" in flags:
            ctx.out(" ".join(ifp.name for ifp in shown))
        else:
            for ifp in shown:
                ctx.out("\n".join(status_lines(ifp, family)))
        return 0

    name, args = args[0], args[1:]
    found = host.interfaces.get(name)
    if found is None:
        ctx.errno = "ENXIO"  # if_nametoindex() failed; a later warn() shows it
        if args and args[0] in ("create", "plumb"):
            return _create(ctx, name, args[1:])
        raise _fail(f"interface {name} does not exist")
    if args and args[0] in ("create", "plumb"):
        # ifconfig.c main(): "create" alone on an existing interface is an error; with more
        # arguments it is dropped and the rest applies to the interface as it is.
        if len(args) == 1:
            raise _fail(f"interface {name} already exists")
        args = args[1:]
    family = None
    if args and args[0] in _FAMILIES:
        family, args = args[0], args[1:]
    if not args:
        ctx.out("\n".join(status_lines(found, family)))
        return 0
    _configure(ctx, found, family or "inet", args)
    return 0


def _create(ctx: CommandContext, name: str, args: list[str]) -> int:
    cloner = CLONERS.get(_cloner_name(name))
    if cloner is None:
        raise _fail(f"SIOCIFCREATE2 ({name}): Invalid argument")
    ifp = cloner[0](ctx, name)
    if ifp.name != name:
        ctx.out(ifp.name)  # "ifconfig ipsec create" prints the unit it made
    family = None
    if args and args[0] in _FAMILIES:
        family, args = args[0], args[1:]
    if args:
        _configure(ctx, ifp, family or "inet", args)
    return 0
