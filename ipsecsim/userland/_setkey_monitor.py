"""setkey's programs that keep running: ``-x`` (:class:`Monitor`) and ``-D -l`` (:class:`Looper`). [S10]"""

from __future__ import annotations

from ..netipsec import PfkeyError
from ..netipsec.pfkey import PfkeyMessage, kdebug_sadb
from ._core import CommandContext
from ._setkey_dump import _errmsg, format_short, render_spd

__all__ = ["Monitor", "Looper"]


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
            text = render_spd(self.keydb, pid=self.pid, scope=self.scope, now=self.host.clock.now)
        else:
            now = self.keydb.time_second(self.host.clock.now)
            try:
                sas = self.keydb.dump(pid=self.pid, now=self.host.clock.now)
                text = "".join(format_short(sa, self.keydb.sa_info(sa), now) + "\n" for sa in sas)
            except PfkeyError as e:
                text = _errmsg(e, "SADB_DUMP") + ".\n"
        if text:
            self.console.write(text)
        self.host.clock.call_later(1.0, self._round)

    def stop(self) -> None:
        self.stopped = True
