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
"""

from __future__ import annotations

import weakref
from datetime import datetime, timezone

from ..netipsec import PfkeyError, SecurityAssociation, SetkeyError
from ..netipsec.pfkey import SATYPES, PfkeyMessage, dump_fields, ipsec_hexdump, kdebug_sadb
from ..netipsec.policy import IPSEC_MANUAL_REQID_MAX, IPSEC_ULPROTO_ANY
from ..netipsec.setkey_syntax import PROTOCOL_NAMES, AddCommand, Parser, PolicyCommand, TableCommand
from ._core import CommandContext, Exit, register

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
# pfkey_dump.c str_alg_enc / str_alg_auth by SADB id; chacha20-poly1305 as [S10.9] has it.
_ENC_NAMES = {0: "none", 11: "null", 12: "aes-cbc", 13: "aes-ctr", 15: "chacha20-poly1305", 20: "aes-gcm-16"}
_AUTH_NAMES = {0: "none", 3: "hmac-sha1", 251: "null", 252: "tcp-md5", 5: "hmac-sha2-256", 6: "hmac-sha2-384",
               7: "hmac-sha2-512", 9: "aes-xcbc-mac"}  # fmt: skip
_SATYPE_OF = {"esp": "esp", "esp-old": "esp", "ah": "ah", "ah-old": "ah", "ipcomp": "ipcomp", "tcp": "tcp"}
_PIDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def ctime4(t: int) -> str:
    """``str_time``: ``ctime(&t) + 4``, 20 characters (``Jan  1 00:00:00 2026``); 20 spaces for 0."""
    if t == 0:
        return " " * 20
    d = datetime.fromtimestamp(t, timezone.utc)
    return f"{_MONTHS[d.month - 1]} {d.day:2d} {d.hour:02d}:{d.minute:02d}:{d.second:02d} {d.year}"


# -- pfkey_sadump / pfkey_spdump ----------------------------------------------------------------


def format_sa(sa: SecurityAssociation, info, *, seq: int, pid: int, now: int) -> list[str]:
    """``pfkey_sadump``: one SA as ``setkey -D`` prints it, line by line. [S10.9]

    ``info`` is the key engine's :class:`~ipsecsim.netipsec.SaInfo`; ``now`` is
    setkey's ``time(0)``. Mode and reqid are the SA head's.
    """
    index = info.index
    lines = [f"{index.src} {index.dst}",
             f"\t{index.proto} mode={index.mode} spi={sa.spi}(0x{sa.spi:08x}) "
             f"reqid={index.reqid}(0x{index.reqid:08x})"]  # fmt: skip
    if index.proto == "esp":
        enc = _ENC_NAMES.get(sa.enc.sadb_id, str(sa.enc.sadb_id))
        lines += f"\tE: {enc} {ipsec_hexdump(sa.enc_key)}".split("\n")
    if sa.auth is not None and sa.auth_key:
        auth = _AUTH_NAMES.get(sa.auth.sadb_id, str(sa.auth.sadb_id))
        lines += f"\tA: {auth} {ipsec_hexdump(sa.auth_key)}".split("\n")
    lines.append(f"\tseq=0x{sa.replay.count & 0xFFFFFFFF:08x} replay={sa.replay.wsize} "
                 f"flags=0x{sa.flags:08x} state={info.state} ")  # fmt: skip
    hard, soft, cur = sa.lifetime_hard, sa.lifetime_soft, sa.current
    diff = 0 if info.created == 0 else now - info.created
    lines += [
        f"\tcreated: {ctime4(info.created)}\tcurrent: {ctime4(now)}",
        f"\tdiff: {diff}(s)\thard: {hard.addtime if hard else 0}(s)\tsoft: {soft.addtime if soft else 0}(s)",
        f"\tlast: {ctime4(info.firstused)}\thard: {hard.usetime if hard else 0}(s)\t"
        f"soft: {soft.usetime if soft else 0}(s)",
        f"\tcurrent: {cur.bytes}(bytes)\thard: {hard.bytes if hard else 0}(bytes)\t"
        f"soft: {soft.bytes if soft else 0}(bytes)",
        f"\tallocated: {cur.allocations}\thard: {hard.allocations if hard else 0}\t"
        f"soft: {soft.allocations if soft else 0}",
        f"\tsadb_seq={seq} pid={pid} refcnt=1",
    ]
    return lines


def _prefport(prefix: int, full: int, port: int, ul_proto: int) -> str:
    """``str_prefport``: ``/len`` unless full, then ``[port]``/``[any]`` (nothing for icmp6)."""
    text = "" if prefix == full else f"/{prefix}"
    if ul_proto != 58:
        text += f"[{port}]" if port else "[any]"
    return text


def _upperspec(ul_proto: int, sport: int, dport: int) -> str:
    """``str_upperspec``: any, icmp6 [type,code], ip4, a protocol name or number."""
    if ul_proto == IPSEC_ULPROTO_ANY:
        return "any"
    if ul_proto == 58:
        return "icmp6" + ("" if not sport and not dport else f" {sport},{dport}")
    if ul_proto == 4:
        return "ip4"
    return PROTOCOL_NAMES.get(ul_proto, str(ul_proto))


def _request(request) -> str:
    """``ipsec_dump_ipsecrequest``; the reqid field is 16 bits wide [S2.5] [S10.10]."""
    addrs = f"{request.src}-{request.dst}" if request.src is not None else ""
    text = f"{request.proto}/{request.mode}/{addrs}/{request.level}"
    reqid = request.reqid & 0xFFFF
    if reqid:
        text += f"{'#' if reqid > IPSEC_MANUAL_REQID_MAX else ':'}{reqid}"
    return text


def format_policy(sp, *, seq: int, pid: int) -> list[str]:
    """``pfkey_spdump``: one policy as ``setkey -DP`` prints it. [S10.10]"""
    src = f"{sp.src.network_address}{_prefport(sp.src.prefixlen, sp.src.max_prefixlen, sp.sport, sp.ul_proto)}"
    dst = f"{sp.dst.network_address}{_prefport(sp.dst.prefixlen, sp.dst.max_prefixlen, sp.dport, sp.ul_proto)}"
    lines = [f"{src} {dst} {_upperspec(sp.ul_proto, sp.sport, sp.dport)}", f"\t{sp.direction} {sp.policy}"]
    if sp.policy == "ipsec":
        lines += [f"\t{_request(r)}" for r in sp.requests]
    tail = f"ifname={sp.ifname}" if sp.scope == "ifnet" and sp.ifname else ""
    lines += [f"\tspid={sp.spid} seq={seq} pid={pid} scope={sp.scope} {tail}", "\trefcnt=1"]
    return lines


def format_short(sa: SecurityAssociation, info, now: int) -> str:
    """``shortdump``: ``MMSS p s spi age/hard src -> dst``. [S10.12]"""
    states = {"larval": "L", "mature": "M", "dying": "D", "dead": "d"}
    line = f"{(now % 3600) // 60:02d}{now % 60:02d} {info.index.proto:<3} {states[info.state]:<1} {sa.spi:08x}"
    if sa.lifetime_hard is not None:
        age = 0 if info.created == 0 else now - info.created
        hard = sa.lifetime_hard.addtime
        line += (" big/" if age >= 1000 else f" {age:3d}/") + ("big" if hard >= 1000 else f"{hard:<3d}")
    else:
        line += " ???/???"
    return f"{line} {info.index.src} -> {info.index.dst}"


def render_sad(keydb, *, pid: int, now: float, proto: str | None = None) -> str:
    """``setkey -D``'s whole output (``No SAD entries.`` when empty)."""
    try:
        sas = keydb.dump(proto, pid=pid)
    except PfkeyError as e:
        return _errmsg(e, "SADB_DUMP") + ".\n"
    t = keydb.time_second(now)
    lines = []
    for seq, sa in zip(range(len(sas) - 1, -1, -1), sas):
        lines += format_sa(sa, keydb.sa_info(sa), seq=seq, pid=pid, now=t)
    return "".join(line + "\n" for line in lines)


def render_spd(keydb, *, pid: int, scope: str = "any") -> str:
    """``setkey -DP``'s whole output (``No SPD entries.`` when empty)."""
    try:
        policies = keydb.spddump(scope, pid=pid)
    except PfkeyError as e:
        return _errmsg(e, "SADB_X_SPDDUMP") + ".\n"
    lines = []
    for seq, sp in zip(range(len(policies) - 1, -1, -1), policies):
        lines += format_policy(sp, seq=seq, pid=pid)
    return "".join(line + "\n" for line in lines)


def _errmsg(error: PfkeyError, msg_type: str) -> str:
    """postproc(): strerror, except ENOENT which names what was missing. [S10.3]"""
    if error.errno_name == "ENOENT":
        return {"SADB_DUMP": "No SAD entries", "SADB_X_SPDDUMP": "No SPD entries"}.get(msg_type, "No entry")
    return str(error)


# -- the command ---------------------------------------------------------------------------------


def _getopt(argv: list[str]) -> list[tuple[str, str]]:
    opts, i = [], 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        if argv[i] == "--":
            break
        word, j = argv[i], 1
        while j < len(word):
            ch = word[j]
            if ch not in _OPTSTRING.replace(":", ""):
                raise Exit(1, f"setkey: illegal option -- {ch}\n{USAGE}", diagnostic=f"setkey: illegal option -- {ch}")
            if _OPTSTRING[_OPTSTRING.index(ch) + 1 : _OPTSTRING.index(ch) + 2] == ":":
                value = word[j + 1 :]
                if not value:
                    i += 1
                    if i >= len(argv):
                        raise Exit(1, f"setkey: option requires an argument -- {ch}\n{USAGE}",
                                   diagnostic=f"setkey: option requires an argument -- {ch}")  # fmt: skip
                    value = argv[i]
                opts.append((ch, value))
                break
            opts.append((ch, ""))
            j += 1
        i += 1
    return opts


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
    for ch, value in _getopt(argv):
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
        _trace_request(ctx, flags, "SADB_X_SPDFLUSH" if "P" in flags else "SADB_FLUSH", pid)
        (keydb.spdflush if "P" in flags else keydb.flush)(pid=pid)
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
    text = render_spd(keydb, pid=pid, scope=scope) if policy else render_sad(keydb, pid=pid, now=now)
    ctx.out(text[:-1])
    return 0


def _dump_verbose(ctx: CommandContext, keydb, pid: int, policy: bool, scope: str, now: float) -> None:
    """-v -D: each reply's kdebug_sadb, a blank line, then the record (sendkeymsg's loop)."""
    from ..netipsec.pfkey import policy_fields

    t = keydb.time_second(now)
    try:
        items = keydb.spddump(scope, pid=pid) if policy else keydb.dump(pid=pid)
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
    """parse() with the actions run as each statement reduces. [S10.3]"""
    parser = Parser(text)
    status = 0
    while True:
        try:
            cmd = parser.next_command()
        except SetkeyError as e:
            ctx.out(e.output)
            ctx.diagnostic = next((line for line in e.output.split("\n") if not line.startswith("libipsec:")), e.output)
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
                status = 1
            else:  # the kernel refused what the SA would need (key_setsaval, esp_init)
                ctx.out(f"The result of line {cmd.lineno}: {e.message}.")
        except PfkeyError as e:
            ctx.out(f"The result of line {cmd.lineno}: {_errmsg(e, _MSG_OF.get(cmd.kind, ''))}.")


_MSG_OF = {"add": "SADB_ADD", "get": "SADB_GET", "delete": "SADB_DELETE", "deleteall": "SADB_DELETE",
           "dump": "SADB_DUMP", "flush": "SADB_FLUSH", "spdadd": "SADB_X_SPDADD", "spdupdate": "SADB_X_SPDUPDATE",
           "spddelete": "SADB_X_SPDDELETE", "spddump": "SADB_X_SPDDUMP", "spdflush": "SADB_X_SPDFLUSH"}  # fmt: skip


def _execute(ctx: CommandContext, keydb, pid: int, cmd) -> None:
    host = ctx.host
    now = host.clock.now
    if isinstance(cmd, TableCommand):
        if cmd.kind == "flush":
            keydb.flush(_SATYPE_OF.get(cmd.protocol) if cmd.protocol else None, pid=pid)
        elif cmd.kind == "spdflush":
            keydb.spdflush(pid=pid)
        elif cmd.kind == "dump":
            proto = _SATYPE_OF.get(cmd.protocol) if cmd.protocol else None
            text = render_sad(keydb, pid=pid, now=now, proto=proto)
            if text.startswith("No SAD entries"):
                raise PfkeyError("ENOENT")
            ctx.out(text[:-1])
        else:
            text = render_spd(keydb, pid=pid)
            if text.startswith("No SPD entries"):
                raise PfkeyError("ENOENT")
            ctx.out(text[:-1])
        return
    if isinstance(cmd, PolicyCommand):
        policy = cmd.to_policy()
        if cmd.kind == "spddelete":
            keydb.spddelete(policy, pid=pid)
        else:
            keydb.spdadd(policy, now=now, update=cmd.kind == "spdupdate", pid=pid)
        return
    assert isinstance(cmd, AddCommand)
    proto = _SATYPE_OF.get(cmd.protocol) if cmd.protocol else "unspec"
    if cmd.kind == "add":
        sa = SecurityAssociation(**cmd.sa_arguments(), created=now, rng=host.rng,
                                 outer=getattr(host, "ipsec_outer", None))  # fmt: skip
        keydb.add(sa, now=now, pid=pid)
    elif cmd.kind == "get":
        sa = keydb.get(cmd.src, cmd.dst, proto, cmd.spi)
        ctx.out("\n".join(format_sa(sa, keydb.sa_info(sa), seq=0, pid=pid, now=keydb.time_second(now))))
    elif cmd.kind == "delete":
        keydb.delete(cmd.src, cmd.dst, proto, cmd.spi, now=now, pid=pid)
    else:
        keydb.deleteall(cmd.src, cmd.dst, proto, now=now, pid=pid)


# -- programs that keep running: -x and -l --------------------------------------------------------


class Monitor:
    """``setkey -x``: a promiscuous PF_KEY socket printing each message on the console.

    Each message is ``printdate()`` (``HH:MM:SS.uuuuuu ``, UTC; ``-xx``:
    ``seconds.uuuuuu ``) on its own line, ``kdebug_sadb`` and a blank line.
    Broadcast messages arrive twice, as keysock.c sends them to promiscuous
    sockets. On start the socket sees its own SADB_X_PROMISC twice, the second
    time bare, which setkey prints as a timestamp alone.
    """

    def __init__(self, ctx: CommandContext, keydb, pid: int, *, raw_time: bool = False):
        self.host, self.console, self.keydb, self.pid, self.raw_time = ctx.host, ctx.console, keydb, pid, raw_time
        self.unsubscribe = None
        self.lines: list[str] = []

    def _print(self, lines: list[str]) -> None:
        self.lines += lines
        self.console.write("\n".join(lines) + "\n")

    def _date(self, now: float | None = None) -> str:
        """printdate(): the time the message was sent, UTC (thiszone 0)."""
        now = self.host.clock.now if now is None else now
        t = self.keydb.time_second(now)
        usec = int(round((now % 1) * 1e6)) % 1_000_000
        if self.raw_time:
            return f"{t}.{usec:06d} "
        s = t % 86400
        return f"{s // 3600:02d}:{(s % 3600) // 60:02d}:{s % 60:02d}.{usec:06d} "

    def _receive(self, msg: PfkeyMessage) -> None:
        self._print([self._date(msg.time), *kdebug_sadb(msg), ""])

    def start(self) -> "Monitor":
        promisc = PfkeyMessage("SADB_X_PROMISC", "unspec", 0, self.pid, self.host.clock.now)
        lines = kdebug_sadb(promisc)
        lines[0] = lines[0].replace("satype=0", "satype=1")
        self._print([self._date(), *lines, "", self._date()])
        self.unsubscribe = self.keydb.subscribe(self._receive, satypes=(), promiscuous=True)
        return self

    def stop(self) -> None:
        if self.unsubscribe is not None:
            self.unsubscribe()
            self.unsubscribe = None


class Looper:
    """``setkey -D -l``: the short dump header once, then the dump every simulated second."""

    def __init__(self, ctx: CommandContext, keydb, pid: int, policy: bool, scope: str):
        self.host, self.console, self.keydb, self.pid = ctx.host, ctx.console, keydb, pid
        self.policy, self.scope = policy, scope
        self.stopped = False

    def start(self) -> "Looper":
        self.console.write(f"{'time':<4} {'p':<3} {'s':<1} {'spi':<8} {'ltime':<7} src -> dst")
        self._round()
        return self

    def _round(self) -> None:
        if self.stopped:
            return
        if self.policy:
            text = render_spd(self.keydb, pid=self.pid, scope=self.scope)
        else:
            now = self.keydb.time_second(self.host.clock.now)
            try:
                sas = self.keydb.dump(pid=self.pid)
                text = "".join(format_short(sa, self.keydb.sa_info(sa), now) + "\n" for sa in sas)
            except PfkeyError as e:
                text = _errmsg(e, "SADB_DUMP") + ".\n"
        if text:
            self.console.write(text)
        self.host.clock.call_later(1.0, self._round)

    def stop(self) -> None:
        self.stopped = True


