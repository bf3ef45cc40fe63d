"""Small commands: ``echo``, ``true``, ``false``, ``hostname``, ``sleep``."""

from ._core import CommandContext, Exit, register

__all__ = ["echo", "true", "false", "hostname", "sleep"]

_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


@register("echo")
def echo(ctx: CommandContext, argv: list[str]) -> int:
    """sh's builtin echo: ``-n`` (accepted; output stays line based) and ``-e`` (escapes)."""
    args = argv[1:]
    escapes = False
    while args and args[0] in ("-n", "-e", "-ne", "-en"):
        escapes = escapes or "e" in args[0]
        args = args[1:]
    text = " ".join(args)
    if escapes:
        out, i = [], 0
        while i < len(text):
            if text[i] == "\\" and i + 1 < len(text):
                if text[i + 1] == "c":
                    break
                out.append(_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
                i += 2
            else:
                out.append(text[i])
                i += 1
        text = "".join(out)
    ctx.out(text)
    return 0


@register("true", ":")
def true(ctx: CommandContext, argv: list[str]) -> int:
    return 0


@register("false")
def false(ctx: CommandContext, argv: list[str]) -> int:
    return 1


@register("hostname")
def hostname(ctx: CommandContext, argv: list[str]) -> int:
    """hostname(1): print ``kern.hostname`` (``-s`` short, ``-d`` domain) or set it."""
    args = argv[1:]
    short = domain = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        for flag in args.pop(0)[1:]:
            if flag == "s":
                short = True
            elif flag == "d":
                domain = True
            elif flag != "f":
                raise Exit(1, "usage: hostname [-f] [-s | -d] [name-of-host]")
    if len(args) > 1 or (short and domain):
        raise Exit(1, "usage: hostname [-f] [-s | -d] [name-of-host]")
    if args:
        ctx.host.sysctl.set("kern.hostname", args[0])
        return 0
    name = str(ctx.host.sysctl["kern.hostname"])
    if short:
        name = name.split(".")[0]
    elif domain:
        name = name.partition(".")[2]
    ctx.out(name)
    return 0


@register("sleep")
def sleep(ctx: CommandContext, argv: list[str]) -> int:
    """A script cannot wait for simulated time to pass: the clock only moves between commands.

    ``sleep 0`` is accepted; any other duration is refused with a message pointing
    at the scenario's ``timeline:``, which runs commands at a given time.
    """
    if len(argv) < 2:
        raise Exit(1, "usage: sleep number[unit] [...]")
    total = 0.0
    for arg in argv[1:]:
        number, unit = (arg[:-1], arg[-1]) if arg[-1:] in ("s", "m", "h", "d") else (arg, "s")
        try:
            value = float(number)
        except ValueError:
            raise Exit(1, "usage: sleep number[unit] [...]") from None
        total += value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    if total == 0:
        return 0
    raise Exit(1, f"sleep: a run block cannot wait ({' '.join(argv[1:])}); "
                  "schedule later commands with the scenario's timeline (at: TIME)")
