"""setkey(8): scripts, dumps, flushes and the PF_KEY monitor (sbin/setkey, lib/libipsec). [S10]

``setkey -c`` reads the script from stdin (a heredoc in a scenario), ``-e "script"``
from its argument, ``-f file`` from a file: the simulator has no filesystem, so
``-f`` always fails as FreeBSD does for a missing file (``setkey: fopen: No such
file or directory``, exit 255); put the script in a heredoc instead. Statements
run one by one as they are parsed; the kernel's refusals print
``The result of line N: File exists.`` and the script goes on; a parse error
prints ``line N: ... at [...]`` and ``parse failed, line N.`` and stops with
exit status 1 [S10.3].

``-D`` / ``-DP`` print the SAD / SPD in libipsec's ``pfkey_sadump`` /
``pfkey_spdump`` format (``-g``/``-t``: global or ifnet policies only, ``-a``: dead
SAs too, ``-l``: the short format every simulated second), ``-F`` / ``-FP`` flush,
``-x`` prints every PF_KEY message on the host's console as it happens, in
``kdebug_sadb``'s format (``-xx``: raw timestamps), ``-v`` adds the
messages of ``-D``/``-F`` (partial: script statements are not traced).

Times are the simulated clock read as a FreeBSD ``time_t``: the host booted at
the key engine's epoch (2026-01-01 00:00:00 UTC), so ``created: Jan  1 00:00:00
2026`` is an SA added at time 0. setkey's pid is one per host, from
``host.allocate_pid()``. Formats verified against libipsec/pfkey_dump.c,
ipsec_dump_policy.c, sbin/setkey/setkey.c and sys/netipsec/key_debug.c.

Layout: the dump formats are in ``_setkey_dump``, the ``-x``/``-l`` programs in
``_setkey_monitor``; their public names are importable from here.
"""

from __future__ import annotations

import weakref

from ..kernel.keysock import SadbMessage, send
from ..netipsec import PfkeyError, SetkeyError
from ..netipsec.errnos import strerror
from ..netipsec.pfkey import SATYPES, PfkeyMessage, dump_fields, kdebug_sadb
from ..netipsec.setkey_syntax import AddCommand, Parser, PolicyCommand, TableCommand
from ._core import CommandContext, Exit, register
from ._libc import getopt
from ._setkey_dump import _errmsg, ctime4, format_policy, format_sa, format_short, render_sad, render_spd
from ._setkey_monitor import Looper, Monitor

__all__ = ["setkey", "format_sa", "format_policy", "format_short", "render_sad", "render_spd", "ctime4"]

USAGE = (
    "usage: setkey [-v] -c\n"
    "       setkey [-v] -f filename\n"
    '       setkey [-v] -e "<script>"\n'
    "       setkey [-Pagltv] -D\n"
    "       setkey [-Pv] -F\n"
    "       setkey [-h] -x"
)  # setkey.c usage() of the -e era; the -e line's wording is UNCONFIRMED
_OPTSTRING = "acde:f:ghltvxDFP"
_SCOPE = {0: "any", 1: "global", 2: "ifnet", 3: "any"}  # -g: GLOBAL (1), -t: IFNET (2) [S7.10]
_SATYPE_OF = {"esp": "esp", "esp-old": "esp", "ah": "ah", "ah-old": "ah", "ipcomp": "ipcomp", "tcp": "tcp"}
_PIDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# -- the command ---------------------------------------------------------------------------------


def _usage(ctx: CommandContext) -> int:
    ctx.out(USAGE)  # usage() uses printf: stdout
    ctx.diagnostic = "setkey: usage"
    return 1


def _host_pid(host) -> int:
    pid = _PIDS.get(host)
    if pid is None:
        pid = _PIDS[host] = host.allocate_pid()
    return pid


@register("setkey")
def setkey(ctx: CommandContext, argv: list[str]) -> int:
    if len(argv) == 1:
        return _usage(ctx)
    mode, script, flags, tflag = None, None, set(), 0
    scope = 0
    for ch, value in getopt("setkey", _OPTSTRING, argv[1:], USAGE)[0]:
        if ch == "c":
            mode, script = "script", ctx.stdin
        elif ch in "ef":
            if script is not None and script is not ctx.stdin:
                raise Exit(255, "setkey: only one -f/-e option is accepted")
            if ch == "f":  # no filesystem in the simulator: fopen() fails
                raise Exit(255, "setkey: fopen: No such file or directory")
            mode, script = "script", value
        elif ch == "D":
            mode = "dump"
        elif ch == "F":
            mode = "flush"
        elif ch == "x":
            mode, tflag = "promisc", tflag + 1
        elif ch == "g":
            scope |= 1
        elif ch == "t":
            scope |= 2
        elif ch == "d":
            return _usage(ctx)
        else:
            flags.add(ch)
    keydb = getattr(ctx.host, "keydb", None)
    if keydb is None:
        raise Exit(1, "pfkey_open: Protocol not supported")
    pid = _host_pid(ctx.host)
    if mode == "dump":
        return _dump(ctx, keydb, pid, flags, _SCOPE[scope])
    if mode == "flush":
        msg_type = "SADB_X_SPDFLUSH" if "P" in flags else "SADB_FLUSH"
        _trace_request(ctx, flags, msg_type, pid)
        _send(ctx.host, SadbMessage(msg_type, "unspec", pid=pid))
        return 0
    if mode == "script":
        return _script(ctx, keydb, pid, script or "")
    if mode == "promisc":
        ctx.start(Monitor(ctx, keydb, pid, raw_time=tflag > 1))
        return 0
    return _usage(ctx)


def _trace_request(ctx: CommandContext, flags: set[str], msg_type: str, pid: int, satype: int = 0) -> None:
    """-v: kdebug_sadb of the request sendkeyshort() sends, then a blank line."""
    if "v" in flags:
        msg = PfkeyMessage(msg_type, {v: k for k, v in SATYPES.items()}.get(satype, "unspec"), 0, pid, 0.0)
        ctx.out("\n".join(kdebug_sadb(msg)) + "\n")


def _dump(ctx: CommandContext, keydb, pid: int, flags: set[str], scope: str) -> int:
    policy = "P" in flags
    _trace_request(ctx, flags, "SADB_X_SPDDUMP" if policy else "SADB_DUMP", pid, {"global": 1, "ifnet": 2}.get(scope, 0))
    if "l" in flags:
        ctx.start(Looper(ctx, keydb, pid, policy, scope))
        return 0
    now = ctx.host.clock.now
    if "v" in flags:
        _dump_verbose(ctx, keydb, pid, policy, scope, now)
        return 0
    text = render_spd(keydb, pid=pid, scope=scope, now=now) if policy else render_sad(keydb, pid=pid, now=now)
    ctx.out(text[:-1])
    return 0


def _dump_verbose(ctx: CommandContext, keydb, pid: int, policy: bool, scope: str, now: float) -> None:
    """-v -D: each reply's kdebug_sadb, a blank line, then the record (sendkeymsg's loop)."""
    from ..netipsec.pfkey import policy_fields

    t = keydb.time_second(now)
    try:
        items = keydb.spddump(scope, pid=pid, now=now) if policy else keydb.dump(pid=pid, now=now)
    except PfkeyError as e:
        kind = "SADB_X_SPDDUMP" if policy else "SADB_DUMP"
        ctx.out("\n".join(kdebug_sadb(PfkeyMessage(kind, "unspec", 0, pid, now))).replace("errno=0", "errno=2", 1))
        ctx.out("")
        ctx.out(_errmsg(e, kind) + ".")
        return
    for seq, item in zip(range(len(items) - 1, -1, -1), items):
        if policy:
            msg = PfkeyMessage("SADB_X_SPDDUMP", "unspec", seq, pid, now, policy_fields(item), 1)
            record = format_policy(item, seq=seq, pid=pid)
        else:
            info = keydb.sa_info(item)
            sav = _SavView(item, info)
            msg = PfkeyMessage("SADB_DUMP", info.index.proto, seq, pid, now, dump_fields(sav, keydb.time_second), 1)
            record = format_sa(item, info, seq=seq, pid=pid, now=t)
        ctx.out("\n".join(kdebug_sadb(msg)))
        ctx.out("")
        ctx.out("\n".join(record))


class _SavView:
    """The shape pfkey's message builders read (``sa``, ``sah.index``, ``state``, ``created``)."""

    def __init__(self, sa, info):
        self.sa, self.state, self.created, self.seq = sa, info.state, info.created, info.seq
        self.sah = type("Sah", (), {"index": info.index})()


# -- script mode ---------------------------------------------------------------------------------


def _script(ctx: CommandContext, keydb, pid: int, text: str) -> int:
    """parse() with the actions run as each statement reduces. [S10.3]

    Like FreeBSD's setkey, a statement the kernel refuses prints ``The result of line N:
    ...`` and the script goes on, and the exit status stays 0 (``sendkeymsg`` returns 0
    whatever the kernel answered; only a parse error makes ``parse()`` fail, exit 1).
    Each refusal is also reported to the shell at its statement, so that a scenario
    names the heredoc line that failed.
    """
    parser = Parser(text)
    status = 0
    while True:
        try:
            cmd = parser.next_command()
        except SetkeyError as e:
            ctx.out(e.output)
            message = next((line for line in e.output.split("\n") if not line.startswith("libipsec:")), e.output)
            ctx.refused(_explained(f"setkey: {message}", e.detail), stdin_offset=_statement_offset(e, text))
            return 1
        if cmd is None:
            return status
        for line in cmd.warnings:
            ctx.out(line)
        try:
            _execute(ctx, keydb, pid, cmd)
        except SetkeyError as e:
            if e.kind == "unsupported":
                ctx.err(f"setkey: line {cmd.lineno}: {e.output}")
                ctx.refused(f"setkey: line {cmd.lineno}: {e.output}", stdin_offset=cmd.offset)
                status = 1
            else:  # the kernel refused what the SA would need (key_setsaval, esp_init)
                ctx.out(f"The result of line {cmd.lineno}: {e.message}.")
                ctx.refused(_explained(f"setkey: The result of line {cmd.lineno}: {e.message}.", e.detail),
                            stdin_offset=cmd.offset)
        except PfkeyError as e:
            result = f"The result of line {cmd.lineno}: {_errmsg(e, _MSG_OF.get(cmd.kind, ''))}."
            ctx.out(result)
            if not (e.errno_name == "ENOENT" and cmd.kind in ("dump", "spddump")):  # an empty table is no mistake
                ctx.refused(f"setkey: {result}", stdin_offset=cmd.offset)


def _explained(message: str, detail: str) -> str:
    """setkey's own words, then the simulator's explanation of them as a second sentence."""
    return f"{message} ({detail})" if detail else message


def _statement_offset(error: SetkeyError, text: str) -> int | None:
    """Where a parse error points: its token, else the start of the line setkey names."""
    if error.offset is not None:
        return error.offset
    if error.lineno is None:
        return None
    start = 0
    for _ in range(error.lineno - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    return start


_MSG_OF = {"add": "SADB_ADD", "get": "SADB_GET", "delete": "SADB_DELETE", "deleteall": "SADB_DELETE",
           "dump": "SADB_DUMP", "flush": "SADB_FLUSH", "spdadd": "SADB_X_SPDADD", "spdupdate": "SADB_X_SPDUPDATE",
           "spddelete": "SADB_X_SPDDELETE", "spddump": "SADB_X_SPDDUMP", "spdflush": "SADB_X_SPDFLUSH"}  # fmt: skip


def _execute(ctx: CommandContext, keydb, pid: int, cmd) -> None:
    host = ctx.host
    now = host.clock.now
    if isinstance(cmd, TableCommand):
        if cmd.kind == "flush":
            _send(host, SadbMessage("SADB_FLUSH", _SATYPE_OF.get(cmd.protocol, "unspec") if cmd.protocol else "unspec",
                                    pid=pid))
        elif cmd.kind == "spdflush":
            _send(host, SadbMessage("SADB_X_SPDFLUSH", "unspec", pid=pid))
        elif cmd.kind == "dump":
            proto = _SATYPE_OF.get(cmd.protocol) if cmd.protocol else None
            text = render_sad(keydb, pid=pid, now=now, proto=proto)
            if text.startswith("No SAD entries"):
                raise PfkeyError("ENOENT")
            ctx.out(text[:-1])
        else:
            text = render_spd(keydb, pid=pid, now=now)
            if text.startswith("No SPD entries"):
                raise PfkeyError("ENOENT")
            ctx.out(text[:-1])
        return
    if isinstance(cmd, PolicyCommand):
        _send(host, SadbMessage(_MSG_OF[cmd.kind], "unspec", pid=pid, policy=cmd.to_policy()))
        return
    assert isinstance(cmd, AddCommand)
    proto = _SATYPE_OF.get(cmd.protocol, "unspec") if cmd.protocol else "unspec"
    if cmd.kind == "add":
        _send(host, SadbMessage("SADB_ADD", proto, pid=pid, **cmd.sa_arguments()))
    elif cmd.kind == "get":
        sa = _send(host, SadbMessage("SADB_GET", proto, pid=pid, src=cmd.src, dst=cmd.dst, spi=cmd.spi))
        assert sa is not None
        ctx.out("\n".join(format_sa(sa, keydb.sa_info(sa), seq=0, pid=pid, now=keydb.time_second(now))))
    else:  # delete; deleteall sends no SA extension
        _send(host, SadbMessage("SADB_DELETE", proto, pid=pid, src=cmd.src, dst=cmd.dst,
                                spi=cmd.spi if cmd.kind == "delete" else None))


def _send(host, msg: SadbMessage):
    """Write one message to the PF_KEY socket; a refusal comes back as the error setkey reports:
    a refused SA (its key, its mode) with the kernel's explanation, else the bare errno."""
    reply = send(host, msg)
    if reply.errno is None:
        return reply.sa
    if reply.checked_sa:
        raise SetkeyError(strerror(reply.errno), kind="kernel", errno=reply.errno, detail=reply.detail)
    raise PfkeyError(reply.errno, reply.detail)
