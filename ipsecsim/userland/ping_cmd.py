"""The ``ping`` and ``ping6`` commands: FreeBSD 14's option parsing (sbin/ping/main.c, ping.c,
ping6.c) in front of :class:`~.ping.Ping`.

In a run block a ping runs in the background: the command prints its ``PING``
line and returns 0 at once, the script goes on, and the replies and the final
statistics reach the host's console at the simulated times they happen. Its
:class:`~.ping.Ping` object is in ``Shell.programs`` (and ``ctx.background``),
where the caller finds the statistics. Without ``-c`` the ping runs until ``-t``
expires or the simulation ends.

Options: ``-c count``, ``-i wait``, ``-s packetsize``, ``-m ttl``/hoplimit,
``-S src_addr``, ``-t timeout``, ``-W waittime`` (milliseconds), ``-q``, ``-n``,
``-D`` (don't fragment), ``-z tos``/tclass, ``-v`` (verbose: ICMP errors that
are not ours, ping6's errors at all; see :mod:`.ping`), ``-4``, ``-6``; ``ping6``
is ping with ``-6``. Messages are FreeBSD's, e.g. ``ping: invalid count of packets to
transmit: `x'`` and, for IPv6, ``ping6: illegal number of packets -- x``.
"""

import math
import re
from ipaddress import ip_address

from ._core import CommandContext, Exit, register
from ._libc import EX_NOHOST, EX_USAGE, getopt, inet_aton, parse_inet6, strtol, strtonum
from .ping import Ping

__all__ = ["ping"]

USAGE = (
    "usage: ping [-4AaDdfHnoQqRrv] [-C pcp] [-c count] [-G sweepmaxsize]\n"
    "\t    [-g sweepminsize] [-h sweepincrsize] [-i wait] [-l preload]\n"
    "\t    [-M mask | time] [-m ttl] [-P policy] [-p pattern] [-S src_addr] \n"
    "\t    [-s packetsize] [-t timeout] [-W waittime] [-z tos] IPv4-host\n"
    "       ping [-4AaDdfHLnoQqRrv] [-C pcp] [-c count] [-I iface] [-i wait]\n"
    "\t    [-l preload] [-M mask | time] [-m ttl] [-P policy] [-p pattern]\n"
    "\t    [-S src_addr] [-s packetsize] [-T ttl] [-t timeout] [-W waittime]\n"
    "            [-z tos] IPv4-mcast-group\n"
    "       ping [-6aADdfHnNoOquvyY] [-b bufsiz] [-c count] [-e gateway]\n"
    "            [-I interface] [-i wait] [-k addrtype] [-l preload] [-m hoplimit]\n"
    "            [-p pattern] [-P policy] [-S sourceaddr] [-s packetsize] [-t timeout]\n"
    "\t    [-W waittime] [-z tclass] [IPv6-hops ...] IPv6-host"
)
# getopt strings of ping.c and ping6.c; the letters the simulator implements are handled below.
_OPTS4 = "4AaC:c:DdfG:g:Hh:I:i:Ll:M:m:nop:P:QqRrS:s:T:t:vW:z:"
_OPTS6 = "6Aab:C:c:Dde:fHI:i:k:l:m:nNoOp:P:qS:s:t:uvyYW:z:"
_SUPPORTED = set("46cDimnqSstvWz")
_MAXALARM = 3600
_MIN_INTERVAL = 0.000001
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_MAXPAYLOAD4 = 65535 - 20 - 8
_MAXDATALEN6 = 131072 - 40 - 8


def _family_flags(args: list[str]) -> tuple[bool, bool, int]:
    """main.c's first pass: is -4 or -6 among the options (option arguments skipped)?"""
    takes = {c for opts in (_OPTS4, _OPTS6) for c, n in zip(opts, opts[1:] + " ") if n == ":" and c != ":"}
    v4 = v6 = False
    i = 0
    while i < len(args) and args[i].startswith("-") and len(args[i]) > 1 and args[i] != "--":
        for j, ch in enumerate(args[i][1:], 1):
            v4, v6 = v4 or ch == "4", v6 or ch == "6"
            if ch in takes:
                i += j == len(args[i]) - 1  # the argument is the next word
                break
        i += 1
    return v4, v6, i


def _strtod(text: str) -> float | None:
    """A finite decimal number, all of ``text`` (what ``strtod`` + an ``*ep`` check accept)."""
    if not _DECIMAL.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


@register("ping", "ping6")
def ping(ctx: CommandContext, argv: list[str]) -> int:
    prog = argv[0]
    args = argv[1:]
    v4_flag, v6_flag, first = _family_flags(args)
    v6_flag = v6_flag or prog == "ping6"
    if first >= len(args):  # no host after the options
        raise Exit(1, USAGE)
    if v4_flag and v6_flag:
        raise Exit(1, f"{prog}: -4 and -6 cannot be used simultaneously")
    target = args[-1]
    try:
        literal = ip_address(target)
    except ValueError:
        literal = None
    if literal is not None and literal.version == 4 and v6_flag:
        raise Exit(1, f"{prog}: IPv6 requested but IPv4 target address provided")
    if literal is not None and literal.version == 6 and v4_flag:
        raise Exit(1, f"{prog}: IPv4 requested but IPv6 target address provided")
    if literal is not None:
        v6 = literal.version == 6
    elif v6_flag or v4_flag:
        v6 = v6_flag
    elif inet_aton(target) is not None or ctx.resolve(target, 4) is not None:
        v6 = False
    elif ctx.resolve(target, 6) is not None:
        v6 = True
    else:
        raise Exit(1, f"{prog}: Unknown host")
    opts, rest = getopt(prog, _OPTS6 if v6 else _OPTS4, args, USAGE)
    if len(rest) != 1:
        raise Exit(1, USAGE)
    settings = (_options6 if v6 else _options4)(ctx, prog, opts)
    dst = _target(ctx, prog, target, v6)
    if v6 and settings["source"] is None and ctx.host.fibs[0].lookup(dst.packed) is None:
        raise Exit(1, f"{prog}: UDP connect: No route to host")
    return _start(ctx, prog, target, dst, settings)


def _target(ctx: CommandContext, prog: str, target: str, v6: bool):
    if v6:
        address = parse_inet6(target) or ctx.resolve(target, 6)
        if address is None:
            raise Exit(EX_NOHOST, f"{prog}: cannot resolve {target}: hostname nor servname provided, or not known")
        return address
    address = inet_aton(target) or ctx.resolve(target, 4)
    if address is None:
        raise Exit(EX_NOHOST, f"{prog}: cannot resolve {target}: Unknown host")
    return address


def _unsupported(prog: str, ch: str) -> Exit:
    return Exit(EX_USAGE, f"{prog}: -{ch}: option not supported by the simulator")


def _common(ctx: CommandContext, prog: str, ch: str, value: str, settings: dict) -> None:
    """-t and -W, identical in ping.c and ping6.c."""
    if ch == "t":
        timeout = strtol(value, 0)[0]  # strtoul: trailing text is ignored
        if timeout < 1:
            raise Exit(EX_USAGE, f"{prog}: invalid timeout: `{value}'")
        if timeout > _MAXALARM:
            raise Exit(EX_USAGE, f"{prog}: invalid timeout: `{value}' > {_MAXALARM}")
        settings["timeout"] = timeout
    else:
        wait = _strtod(value)
        if wait is None or wait > 2**31 - 1:
            raise Exit(EX_USAGE, f"{prog}: invalid timing interval: `{value}'")
        settings["wait"] = int(wait) / 1000.0


def _options4(ctx: CommandContext, prog: str, opts) -> dict:
    settings: dict[str, object] = {"count": None, "interval": 1.0, "size": 56, "ttl": None, "source": None, "tos": 0,
                "df": False, "quiet": False, "timeout": None, "wait": None, "verbose": False}
    for ch, value in opts:
        if ch not in _SUPPORTED:
            raise _unsupported(prog, ch)
        if ch == "c":
            count, problem = strtonum(value, 1, 2**63 - 1)
            if problem:
                raise Exit(EX_USAGE, f"{prog}: invalid count of packets to transmit: `{value}'")
            settings["count"] = count
        elif ch == "i":
            seconds = _strtod(value)
            if seconds is None or seconds * 1000 > 2**31 - 1 or seconds < 0:
                raise Exit(EX_USAGE, f"{prog}: invalid timing interval: `{value}'")
            # ping.c keeps whole milliseconds; 0 would send forever at one instant of simulated time
            settings["interval"] = max(int(seconds * 1000) / 1000.0, _MIN_INTERVAL)
        elif ch == "m":
            ttl, problem = strtonum(value, 0, 255)
            if problem:
                raise Exit(EX_USAGE, f"{prog}: invalid TTL: `{value}'")
            settings["ttl"] = ttl
        elif ch == "s":
            size, problem = strtonum(value, 0, 2**63 - 1)
            if problem:
                raise Exit(EX_USAGE, f"{prog}: invalid packet size: `{value}'")
            if size > _MAXPAYLOAD4:
                raise Exit(EX_USAGE, f"{prog}: packet size too large: {size} > {_MAXPAYLOAD4}")
            settings["size"] = size
        elif ch == "z":
            tos, rest = strtol(value, 0)  # ping.c: strtol(optarg, &ep, 0), so 0xb8 works too
            if rest or not value or not 0 <= tos <= 255:
                raise Exit(EX_USAGE, f"{prog}: invalid TOS: `{value}'")
            settings["tos"] = tos
        elif ch == "S":
            source = inet_aton(value) or ctx.resolve(value, 4)
            if source is None:
                raise Exit(EX_NOHOST, f"{prog}: cannot resolve {value}: Unknown host")
            settings["source"] = source
        elif ch in "tW":
            _common(ctx, prog, ch, value, settings)
        else:
            settings.update({"D": {"df": True}, "q": {"quiet": True}, "v": {"verbose": True}}.get(ch, {}))
    return settings


def _options6(ctx: CommandContext, prog: str, opts) -> dict:
    settings: dict[str, object] = {"count": None, "interval": 1.0, "size": 56, "ttl": None, "source": None, "tos": 0,
                "df": False, "quiet": False, "timeout": None, "wait": None, "verbose": False}
    for ch, value in opts:
        if ch not in _SUPPORTED:
            raise _unsupported(prog, ch)
        number, rest = strtol(value, 10)
        if ch == "c":
            if number <= 0 or not value or rest:
                raise Exit(1, f"{prog}: illegal number of packets -- {value}")
            settings["count"] = number
        elif ch == "i":
            seconds = _strtod(value)
            if seconds is None or seconds < 0:
                raise Exit(1, f"{prog}: illegal timing interval {value}")
            settings["interval"] = max(seconds, _MIN_INTERVAL)  # ping6.c: "raised to .000001"
        elif ch == "m":
            if not value or rest:
                raise Exit(1, f"{prog}: illegal hoplimit {value}")
            if not -1 <= number <= 255:
                raise Exit(1, f"{prog}: illegal hoplimit -- {value}")
            settings["ttl"] = None if number == -1 else number
        elif ch == "s":
            if number <= 0 or not value or rest:
                raise Exit(1, f"{prog}: illegal datalen value -- {value}")
            if number > _MAXDATALEN6:
                raise Exit(1, f"{prog}: datalen value too large, maximum is {_MAXDATALEN6}")
            settings["size"] = number
        elif ch == "z":
            if not value or rest:
                raise Exit(1, f"{prog}: illegal traffic class {value}")
            if not -1 <= number <= 255:
                raise Exit(1, f"{prog}: illegal traffic class -- {value}")
            settings["tos"] = max(number, 0)
        elif ch == "S":
            source = parse_inet6(value)
            if source is None:
                raise Exit(1, f"{prog}: invalid source address: hostname nor servname provided, or not known")
            settings["source"] = source
        elif ch in "tW":
            _common(ctx, prog, ch, value, settings)
        else:
            settings.update({"D": {"df": True}, "q": {"quiet": True}, "v": {"verbose": True}}.get(ch, {}))
    return settings


def _start(ctx: CommandContext, prog: str, target: str, dst, settings: dict) -> int:
    source = settings["source"]
    if source is not None and not ctx.host.is_local(source):
        raise Exit(1, f"{prog}: bind: Can't assign requested address")
    running = [True]
    console = ctx.console

    def write(line: str) -> None:
        is_err = line.startswith(("ping: ", "ping6: "))
        if running[0]:
            (ctx.err if is_err else ctx.out)(line)
        else:
            console.write(line, stderr=is_err)

    program = Ping(ctx.host, dst, count=settings["count"], interval=settings["interval"], size=settings["size"],
                   ttl=settings["ttl"], source=source, tos=settings["tos"], df=settings["df"],
                   quiet=settings["quiet"], wait=settings["wait"], write=write, hostname=target,
                   verbose=settings["verbose"])
    program.timeout = settings["timeout"]
    ctx.start(program)
    if program.timeout is not None:
        ctx.host.clock.call_later(program.timeout, program.finish)
    running[0] = False
    return 0
