"""swanctl(8): strongSwan's control tool, asking the host's charon.

charon is ``host.daemons["charon"]`` (see :class:`~ipsecsim.ike.views.CharonView`):
its ``config`` is the swanctl.conf it loaded, ``ike_sas()`` its IKE_SAs,
``initiate(child)`` and ``terminate(ike)`` the VICI commands of the same names.
swanctl reaches charon over a socket, so without a daemon on the host every
command prints what swanctl prints when ``/var/run/charon.vici`` is missing,
even ``--list-conns`` (the configuration lives in the daemon, not in swanctl).

Supported: ``--list-sas [--ike NAME]``, ``--list-conns``, ``--load-all``,
``--initiate --child NAME [--ike NAME]``, ``--terminate --ike NAME``, each with
its one-letter form. ``--raw``/``--pretty`` and the other commands are refused.
"""

from typing import Any

from ..ike.show import list_conns, list_sas, load_all
from ._core import CommandContext, Exit, register

__all__ = ["swanctl", "NOT_RUNNING"]

VERSION = "strongSwan 5.9.14 swanctl"
SOCKET = "unix:///var/run/charon.vici"
NOT_RUNNING = (f"connecting to '{SOCKET}' failed: No such file or directory\n"
               "Error: connecting to 'default' URI failed: No such file or directory")

# command -> (short letter, long options: name -> (letter, takes an argument)), as swanctl registers them
_COMMANDS: dict[str, tuple[str, dict[str, tuple[str, bool]]]] = {
    "list-sas": ("l", {"help": ("h", False), "ike": ("i", True), "ike-id": ("I", True),
                       "noblock": ("n", False), "raw": ("r", False), "pretty": ("P", False)}),
    "list-conns": ("L", {"help": ("h", False), "raw": ("r", False), "pretty": ("P", False)}),
    "load-all": ("q", {"help": ("h", False), "clear": ("c", False), "noprompt": ("n", False),
                       "raw": ("r", False), "pretty": ("P", False), "file": ("f", True)}),
    "initiate": ("i", {"help": ("h", False), "child": ("c", True), "ike": ("I", True), "timeout": ("t", True),
                       "raw": ("r", False), "pretty": ("P", False), "loglevel": ("l", True)}),
    "terminate": ("t", {"help": ("h", False), "child": ("c", True), "ike": ("i", True),
                        "child-id": ("C", True), "ike-id": ("I", True), "force": ("f", False),
                        "timeout": ("t", True), "raw": ("r", False), "pretty": ("P", False),
                        "loglevel": ("l", True)}),
}
_USAGE_LINES = {
    "list-sas": "swanctl --list-sas [--raw|--pretty]",
    "list-conns": "swanctl --list-conns [--raw|--pretty]",
    "load-all": "swanctl --load-all [--raw|--pretty] [--clear] [--noprompt]",
    "initiate": "swanctl --initiate --child <name> [--ike <name>] [--timeout <s>] [--raw|--pretty]",
    "terminate": "swanctl --terminate --child <name> | --ike <name> | --child-id <id> | --ike-id <id> "
                 "[--timeout <s>] [--force] [--raw|--pretty]",
}


def _usage(error: str | None, command: str | None = None) -> Exit:
    """swanctl's command_usage(): the error, the version, the usage; status 1 with an error."""
    lines = [f"Error: {error}"] if error else []
    lines.append(VERSION)
    lines.append("usage:")
    for name in ([command] if command else _USAGE_LINES):
        lines.append(f"  {_USAGE_LINES[name]}")
    return Exit(1 if error else 0, "\n".join(lines), diagnostic=f"swanctl: {error}" if error else None)


def _command(argv: list[str]) -> str:
    """The command the first word names (``--list-sas`` or ``-l``)."""
    if not argv:
        raise _usage(None)
    first = argv[0]
    command = next((name for name, (letter, _) in _COMMANDS.items()
                    if first == f"--{name}" or first == f"-{letter}"), None)
    if command is None:
        if first in ("-h", "--help"):
            raise _usage(None)
        raise _usage(f"invalid command '{first}'")
    return command


def _options(command: str, argv: list[str]) -> dict[str, str]:
    """The command's options, getopt_long style (``--ike x``, ``--ike=x``, ``-i x``)."""
    options = _COMMANDS[command][1]
    by_letter = {letter: (name, takes) for name, (letter, takes) in options.items()}
    found: dict[str, str] = {}
    i = 0
    while i < len(argv):
        word = argv[i]
        value: str | None = None
        if word.startswith("--"):
            name, eq, inline = word[2:].partition("=")
            if name not in options:
                raise _usage(f"invalid --{command} option", command)
            takes = options[name][1]
            value = inline if eq else None
        elif word.startswith("-") and len(word) == 2 and word[1] in by_letter:
            name, takes = by_letter[word[1]]
        else:
            raise _usage(f"invalid --{command} option", command)
        if takes and value is None:
            if i + 1 >= len(argv):
                raise _usage(f"invalid --{command} option", command)
            value = argv[i + 1]
            i += 1
        found[name] = value if value is not None else ""
        i += 1
    if "help" in found:
        raise _usage(None, command)
    if "raw" in found or "pretty" in found:
        raise Exit(1, "swanctl: --raw and --pretty (VICI messages) are not simulated")
    return found


def _outcome(result: object) -> str | None:
    """A daemon call's result as an error message: None/True succeed, False or a message fail."""
    if result is None or result is True:
        return None
    if isinstance(result, str):
        return result
    return "" if result is False else None


@register("swanctl")
def swanctl(ctx: CommandContext, argv: list[str]) -> int:
    command = _command(argv[1:])
    daemons: dict[str, Any] = getattr(ctx.host, "daemons", None) or {}
    charon = daemons.get("charon")
    # swanctl connects to charon's socket before the command reads its own options.
    if charon is None or not getattr(charon, "running", True):
        raise Exit(1, NOT_RUNNING, diagnostic=NOT_RUNNING.split("\n")[-1])
    options = _options(command, argv[2:])
    if command == "list-conns":
        _write(ctx, list_conns(charon.config))
    elif command == "list-sas":
        sas = charon.ike_sas()
        if "ike" in options:
            sas = [sa for sa in sas if sa.name == options["ike"]]
        if "ike-id" in options:
            sas = [sa for sa in sas if str(sa.unique_id) == options["ike-id"]]
        _write(ctx, list_sas(sas))
    elif command == "load-all":
        text = load_all(charon.config)
        for line in text.splitlines():
            (ctx.err if line.startswith("no connections found") else ctx.out)(line)
    elif command == "initiate":
        return _initiate(ctx, charon, options)
    else:
        return _terminate(ctx, charon, options)
    return 0


def _initiate(ctx: CommandContext, charon: Any, options: dict[str, str]) -> int:
    child = options.get("child")
    if not child:
        raise _usage("--child option is missing", "initiate")
    known = {c for conn in charon.config.connections.values() for c in conn.children}
    error = f"CHILD_SA config '{child}' not found" if child not in known else _outcome(charon.initiate(child))
    if error is None:
        ctx.out("initiate completed successfully")
        return 0
    return _failed(ctx, "initiate", error or f"establishing CHILD_SA '{child}' failed")


def _terminate(ctx: CommandContext, charon: Any, options: dict[str, str]) -> int:
    ike = options.get("ike")
    if not ike:
        if any(k in options for k in ("child", "child-id", "ike-id")):
            raise Exit(1, "swanctl: only --terminate --ike NAME is simulated")
        raise _usage("please specify --child, --ike, --child-id or --ike-id", "terminate")
    if not any(sa.name == ike for sa in charon.ike_sas()):
        error: str | None = "no matching SAs to terminate found"
    else:
        error = _outcome(charon.terminate(ike))
    if error is None:
        ctx.out("terminate completed successfully")
        return 0
    return _failed(ctx, "terminate", error or f"terminating IKE_SA '{ike}' failed")


def _failed(ctx: CommandContext, what: str, error: str) -> int:
    message = f"{what} failed: {error}"
    ctx.err(message)
    ctx.diagnostic = message
    return 1


def _write(ctx: CommandContext, text: str) -> None:
    if text:
        ctx.out(text.removesuffix("\n"))
