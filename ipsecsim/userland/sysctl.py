"""sysctl(8): read and set the host's MIB (sbin/sysctl/sysctl.c).

``sysctl NAME`` prints ``NAME: value`` (a subtree prints every knob under it),
``sysctl NAME=VALUE`` prints ``NAME: old -> new``; ``-n`` drops the names,
``-N`` prints only names, ``-e`` uses ``=`` as the separator, ``-d`` prints
descriptions, ``-a`` prints everything, ``-i`` ignores unknown names and ``-q``
keeps their warning quiet; ``-f file`` fails as for a missing file (there is no
filesystem), ``-B size`` and ``-w`` are accepted and change nothing. Integers are
read as ``strtol(…, 0)`` reads them (``0x10``, ``010``). Errors: ``sysctl: unknown oid 'net.foo'``,
``sysctl: oid 'net.fibs' is read only``, ``sysctl: invalid integer 'abc'``,
``sysctl: net.inet.ip.ttl=0: Invalid argument``.
"""

from ..kernel import SysctlError
from ._core import CommandContext, Exit, register
from ._libc import EX_NOINPUT, getopt, strtol

__all__ = ["sysctl"]

USAGE = (
    "usage: sysctl [-bdehiNnoqTtWx] [ -B <bufsize> ] [-f filename] name[=value] ...\n"
    "       sysctl [-bdehNnoqTtWx] [ -B <bufsize> ] -a"
)


@register("sysctl")
def sysctl(ctx: CommandContext, argv: list[str]) -> int:
    opts, args = getopt("sysctl", "AabB:def:hiNnoqtTwWxX", argv[1:], USAGE)
    flags = {ch for ch, _ in opts}
    # -B (a buffer size) and -w (compatibility) change nothing here
    conffile = next((value for ch, value in reversed(opts) if ch == "f"), None)
    if "N" in flags and "n" in flags:
        raise Exit(1, USAGE)
    if not args:
        if "a" in flags or "A" in flags or "X" in flags:
            return _show(ctx, ctx.host.sysctl.names(), flags)
        if conffile is None:
            raise Exit(1, USAGE)
    if conffile is not None:  # parsefile(): no filesystem in the simulator, so fopen() fails
        raise Exit(EX_NOINPUT, f"sysctl: {conffile}: No such file or directory")
    failures = 0
    for arg in args:
        failures += _one(ctx, arg, flags)
    return 1 if failures else 0


def _separator(flags: set[str]) -> str:
    return "=" if "e" in flags else ": "


def _show(ctx: CommandContext, names: list[str], flags: set[str]) -> int:
    mib = ctx.host.sysctl
    for name in names:
        if "N" in flags:
            ctx.out(name)
            continue
        value = mib.knob(name).description if "d" in flags else mib[name]
        ctx.out(f"{value}" if "n" in flags else f"{name}{_separator(flags)}{value}")
    return 0


def _one(ctx: CommandContext, arg: str, flags: set[str]) -> int:
    mib = ctx.host.sysctl
    name, has_value, text = arg.partition("=")
    names = mib.names(name) if name else []
    if not names:
        if "i" not in flags:
            if "q" not in flags:
                ctx.warn(f"sysctl: unknown oid '{name}'")
            return 1
        return 0
    if not has_value:
        return _show(ctx, names, flags)
    if names != [name]:
        ctx.warn(f"sysctl: oid '{name}' isn't a leaf node")
        return 1
    knob = mib.knob(name)
    value: int | str = text
    if isinstance(knob.default, int):
        if not text:
            ctx.warn("sysctl: empty numeric value")
            return 1
        number, rest = strtol(text, 0)
        if rest:
            ctx.warn(f"sysctl: invalid integer '{text}'")
            return 1
        value = number
    try:
        old = mib.set(name, value)
    except SysctlError as error:
        message = f"{arg}: Invalid argument" if error.errno_name == "EINVAL" else str(error)
        ctx.warn(f"sysctl: {message}")
        return 1
    if "N" in flags:
        ctx.out(name)
    else:
        prefix = "" if "n" in flags else f"{name}{_separator(flags)}"
        ctx.out(f"{prefix}{old} -> {mib[name]}")
    return 0
