"""ping(8): ICMP/ICMPv6 echo on the host's clock, printing as FreeBSD's ping does.

The program keeps its own send-time table, so round-trip times are exact
simulated times; the payload still carries FreeBSD's layout (an 8-byte
timestamp, then bytes 8, 9, 10, ...).
"""

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
import math
import struct
from typing import Callable

from ..kernel import Host, SendError
from ..packet import ICMP6_ECHO_REPLY, ICMP_ECHOREPLY, Icmp, Icmp6

__all__ = ["Ping", "PingStats"]

_TV32 = struct.Struct("!ii")
_MAXWAIT = 10.0  # seconds ping waits after the last request when nothing came back


@dataclass(slots=True)
class PingStats:
    """What ``ping`` prints at the end, as numbers (RTTs in milliseconds)."""

    source: str
    destination: str
    transmitted: int = 0
    received: int = 0
    duplicates: int = 0
    errors: int = 0
    rtts: list[float] = field(default_factory=list)

    @property
    def loss(self) -> float:
        """Packet loss as a fraction (0.2 = 20%), FreeBSD's formula."""
        return (self.transmitted - self.received) / self.transmitted if self.transmitted else 0.0

    @property
    def rtt_min(self) -> float:
        return min(self.rtts) if self.rtts else math.nan

    @property
    def rtt_max(self) -> float:
        return max(self.rtts) if self.rtts else math.nan

    @property
    def rtt_avg(self) -> float:
        return sum(self.rtts) / len(self.rtts) if self.rtts else math.nan

    @property
    def rtt_stddev(self) -> float:
        if not self.rtts:
            return math.nan
        avg = self.rtt_avg
        variance = sum(r * r for r in self.rtts) / len(self.rtts) - avg * avg
        return math.sqrt(max(variance, 0.0))

    def as_dict(self) -> dict:
        return {
            "from": self.source, "to": self.destination, "transmitted": self.transmitted,
            "received": self.received, "duplicates": self.duplicates, "loss": self.loss,
            "rtt_min": self.rtt_min, "rtt_avg": self.rtt_avg, "rtt_max": self.rtt_max,
            "rtt_stddev": self.rtt_stddev, "errors": self.errors,
        }


class Ping:
    """One run of ``ping -c COUNT -i INTERVAL -s SIZE DST`` on ``host``.

    ``write`` receives each output line (without newline) as ping prints it.
    ``on_done`` callbacks run once the statistics are printed.
    """

    def __init__(self, host: Host, dst: IPv4Address | IPv6Address, *, count: int | None = 5,
                 interval: float = 1.0, size: int = 56, ttl: int | None = None,
                 source: IPv4Address | IPv6Address | None = None, tos: int = 0, df: bool = False,
                 quiet: bool = False, wait: float | None = None, name: str | None = None,
                 write: Callable[[str], None] | None = None, hostname: str | None = None):
        self.host = host
        self.dst = dst
        self.count = count
        self.interval = interval
        self.size = size
        self.ttl = ttl
        self.source = source
        self.tos = tos
        self.df = df
        self.quiet = quiet
        self.wait = wait
        self.name = name or f"{host.name}->{dst}"
        self.hostname = hostname or str(dst)  # the target as typed, for the PING and statistics lines
        self.write = write or (lambda line: None)
        self.lines: list[str] = []
        self.ident = host.allocate_pid() & 0xFFFF
        self.stats = PingStats(source=host.name, destination=str(dst))
        self.started = False
        self.done = False
        self.timeout: float | None = None  # ping -t: finish after this many seconds whatever the count
        self.on_done: list[Callable[["Ping"], None]] = []
        self._sent_at: dict[int, float] = {}
        self._seen: set[int] = set()
        self._finish_timer = None
        self._v6 = dst.version == 6

    @property
    def will_finish(self) -> bool:
        """False for a ping with neither -c nor -t, which runs until it is interrupted."""
        return self.count is not None or self.timeout is not None

    def _print(self, line: str) -> None:
        self.lines.append(line)
        self.write(line)

    def start(self) -> "Ping":
        self.started = True
        stack = self.host.inet6 if self._v6 else self.host.inet4
        stack.icmp_listeners.append(self._on_icmp)
        if self._v6:
            src = self.source or self._guess_source()
            self._print(f"PING({40 + 8 + self.size}=40+8+{self.size} bytes) {src} --> {self.dst}")
        else:
            self._print(f"PING {self.hostname} ({self.dst}): {self.size} data bytes")
        self._send()
        return self

    def _guess_source(self):
        route = self.host.fibs[0].lookup(self.dst.packed)
        return route.source if route and route.source else "::"

    def _payload(self, now: float) -> bytes:
        stamp = _TV32.pack(int(now) & 0x7FFFFFFF, int(round((now % 1) * 1e9)) % 1_000_000_000)
        pattern = bytes(i & 0xFF for i in range(8, self.size))
        return (stamp + pattern)[: self.size] if self.size >= 8 else bytes(range(self.size))

    def _send(self) -> None:
        if self.done:  # finished early (a -t timeout, or the end of the run)
            return
        host = self.host
        now = host.clock.now
        seq = self.stats.transmitted & 0xFFFF
        data = self._payload(now)
        self._sent_at[seq] = now
        self._seen.discard(seq)  # the 16-bit sequence wrapped: a reply to this send is no duplicate
        self.stats.transmitted += 1
        try:
            if self._v6:
                message = Icmp6.echo_request(self.ident, seq, data)
                host.send(self.dst, 58, lambda s, d: message.to_bytes(s, d), src=self.source,
                          ttl=self.ttl, tos=self.tos, df=self.df)
            else:
                host.send(self.dst, 1, Icmp.echo_request(self.ident, seq, data).to_bytes(),
                          src=self.source, ttl=self.ttl, tos=self.tos, df=self.df)
        except SendError as error:
            self.stats.errors += 1
            self._print(f"ping: sendto: {error}")
        if self.count is None or self.stats.transmitted < self.count:
            host.clock.call_later(self.interval, self._send)
        else:
            if self.wait is not None:
                linger = self.wait
            elif self.stats.received:
                linger = max(1, int(2 * self.stats.rtt_max / 1000))
            else:
                linger = _MAXWAIT
            self._finish_timer = host.clock.call_later(linger, self.finish)

    def _on_icmp(self, src, dst, ttl: int, icmp) -> None:
        if self.done or icmp.type != (ICMP6_ECHO_REPLY if self._v6 else ICMP_ECHOREPLY):
            return
        if icmp.ident != self.ident or src != self.dst:
            return
        seq = icmp.seq
        sent = self._sent_at.get(seq)
        if sent is None:
            return
        rtt = (self.host.clock.now - sent) * 1000.0
        duplicate = seq in self._seen
        if duplicate:
            self.stats.duplicates += 1
        else:
            self._seen.add(seq)
            self.stats.received += 1
            self.stats.rtts.append(rtt)
        if not self.quiet:
            length = 8 + len(icmp.payload)
            dup = " (DUP!)" if duplicate else ""
            time = f" time={rtt:.3f} ms" if self.size >= 8 else ""  # timing needs the 8-byte stamp
            if self._v6:
                self._print(f"{length} bytes from {src}, icmp_seq={seq} hlim={ttl}{time}{dup}")
            else:
                self._print(f"{length} bytes from {src}: icmp_seq={seq} ttl={ttl}{time}{dup}")
        if self.count is not None and self.stats.received >= self.count and self._finish_timer is not None:
            self._finish_timer.cancel()
            self.finish()

    def finish(self) -> None:
        """Print the statistics, as ping does at the end or on SIGINT."""
        if self.done:
            return
        self.done = True
        if self._finish_timer is not None:
            self._finish_timer.cancel()
        stack = self.host.inet6 if self._v6 else self.host.inet4
        if self._on_icmp in stack.icmp_listeners:
            stack.icmp_listeners.remove(self._on_icmp)
        for line in self.summary_lines():
            self._print(line)
        for callback in self.on_done:
            callback(self)

    def summary_lines(self) -> list[str]:
        st = self.stats
        lines = ["", f"--- {self.hostname} ping statistics ---"]
        text = f"{st.transmitted} packets transmitted, {st.received} packets received, "
        if st.duplicates:
            text += f"+{st.duplicates} duplicates, "
        if st.transmitted:
            text += f"{st.loss * 100:.1f}% packet loss"
        lines.append(text)
        if st.received and self.size >= 8:
            lines.append(
                "round-trip min/avg/max/stddev = "
                f"{st.rtt_min:.3f}/{st.rtt_avg:.3f}/{st.rtt_max:.3f}/{st.rtt_stddev:.3f} ms"
            )
        return lines
