"""ping(8): ICMP/ICMPv6 echo on the host's clock, printing as FreeBSD's ping does.

The program keeps its own send-time table, so round-trip times are exact
simulated times; the payload still carries FreeBSD's layout (an 8-byte
timestamp, then bytes 8, 9, 10, ...).

ICMP errors print as FreeBSD 14's ping prints them (sbin/ping/ping.c ``pr_pack``,
``pr_icmph``, ``pr_iph``; ping6.c ``pr_pack``, ``pr_icmph``, ``pr_retip``, ``pr_iph``)
and count nowhere in the statistics. IPv4: an error quoting one of our echo
requests (quoted destination, protocol ICMP, type echo, our ident), or with
``-v`` any ICMP message but an echo reply (the shell is root), prints
``92 bytes from 10.0.1.2: Time to live exceeded``, the quoted IP header and a
blank line; ping.c needs 48 quoted bytes (an IP header and a ``struct icmp``), so
an error quoting only the IP header + 8 bytes (``net.inet.icmp.quotelen`` = 8)
prints nothing, or with ``-v`` ``ping: quoted data too short (28 bytes) from
...``. IPv6: ping6.c's ICMP6_FILTER passes only echo replies unless ``-v``; with
``-v`` every other ICMPv6 message prints, ours or not, followed by
``pr_retip``'s dump of the quoted packet.
"""

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
import math
import struct
from typing import Callable

from ..kernel import Host, SendError
from ..kernel.clock import Timer
from ..packet import ICMP6_ECHO_REPLY, ICMP_ECHO, ICMP_ECHOREPLY, Icmp, Icmp6

__all__ = ["Ping", "PingStats"]

_TV32 = struct.Struct("!ii")
_MAXWAIT = 10.0  # seconds ping waits after the last request when nothing came back
_QUOTE_MIN = 20 + 28  # ping.c: sizeof(struct ip) + sizeof(struct icmp) of quoted data, or no error line

# ping.c pr_icmph's texts by ICMP type and code (errors are followed by pr_iph's dump).
_UNREACH4 = {0: "Destination Net Unreachable", 1: "Destination Host Unreachable",
             2: "Destination Protocol Unreachable", 3: "Destination Port Unreachable",
             5: "Source Route Failed", 13: "Communication prohibited by filter"}  # 4: needfrag, below
_REDIRECT4 = {0: "Redirect Network", 1: "Redirect Host", 2: "Redirect Type of Service and Network",
              3: "Redirect Type of Service and Host"}
_TIMXCEED = {0: "Time to live exceeded", 1: "Frag reassembly time exceeded"}  # ping.c and ping6.c alike
_PLAIN4 = {0: "Echo Reply", 8: "Echo Request", 9: "Router Advertisement", 10: "Router Solicitation",
           13: "Timestamp", 14: "Timestamp Reply", 15: "Information Request", 16: "Information Reply",
           17: "Address Mask Request", 18: "Address Mask Reply"}
# ping6.c pr_icmph.
_UNREACH6 = {0: "No Route to Destination", 1: "Destination Administratively Unreachable",
             2: "Destination Unreachable Beyond Scope", 3: "Destination Host Unreachable",
             4: "Destination Port Unreachable"}
_PARAMPROB6 = {0: "Erroneous Header ", 1: "Unknown Nextheader ", 2: "Unrecognized Option "}
_PLAIN6 = {128: "Echo Request", 129: "Echo Reply", 130: "Listener Query", 131: "Listener Report",
           132: "Listener Done", 133: "Router Solicitation", 134: "Router Advertisement",
           135: "Neighbor Solicitation", 136: "Neighbor Advertisement"}


def _min_avg_max_stddev(values: list[float]) -> tuple[float, float, float, float]:
    """ping.c's round-trip statistics (stddev from the sums of values and squares); NaNs for none."""
    if not values:
        return math.nan, math.nan, math.nan, math.nan
    avg = sum(values) / len(values)
    variance = sum(v * v for v in values) / len(values) - avg * avg
    return min(values), avg, max(values), math.sqrt(max(variance, 0.0))


@dataclass(slots=True)
class PingStats:
    """What ``ping`` prints at the end, as numbers in SI units: RTTs in seconds, loss a fraction.

    ping itself prints milliseconds, computed as ping.c does from each RTT in milliseconds.
    """

    source: str
    destination: str
    transmitted: int = 0
    received: int = 0
    duplicates: int = 0
    errors: int = 0
    rtts: list[float] = field(default_factory=list)
    sent_times: list[float] = field(default_factory=list)  # when each reply's request left, as rtts

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
        return _min_avg_max_stddev(self.rtts)[1]

    @property
    def rtt_stddev(self) -> float:
        return _min_avg_max_stddev(self.rtts)[3]

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
                 write: Callable[[str], None] | None = None, hostname: str | None = None,
                 verbose: bool = False):
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
        self.verbose = verbose  # ping -v
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
        self._finish_timer: Timer | None = None
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
                linger = max(1, int(2 * self.stats.rtt_max))  # ping.c: 2 * tmax / 1000, tmax in ms
            else:
                linger = _MAXWAIT
            self._finish_timer = host.clock.call_later(linger, self.finish)

    def _on_icmp(self, src, dst, ttl: int, icmp) -> None:
        if self.done:
            return
        if icmp.type == (ICMP6_ECHO_REPLY if self._v6 else ICMP_ECHOREPLY):
            if icmp.ident == self.ident and src == self.dst:
                self._on_reply(src, dst, ttl, icmp)
            elif self._v6 and self.verbose and icmp.ident != self.ident:  # another ping's reply
                self._print_text(f"{8 + len(icmp.payload)} bytes from {src}: Echo Reply\n")
        elif self._v6:
            if self.verbose:  # ping6.c: without -v its ICMP6_FILTER passes echo replies only
                self._print_text(f"{8 + len(icmp.payload)} bytes from {src}: {_icmph6(icmp)}\n")
        else:
            self._on_error4(src, icmp)

    def _on_reply(self, src, dst, ttl: int, icmp) -> None:
        seq = icmp.seq
        sent = self._sent_at.get(seq)
        if sent is None:
            return
        rtt = self.host.clock.now - sent  # seconds; ping prints milliseconds
        duplicate = seq in self._seen
        if duplicate:
            self.stats.duplicates += 1
        else:
            self._seen.add(seq)
            self.stats.received += 1
            self.stats.rtts.append(rtt)
            self.stats.sent_times.append(sent)
        if not self.quiet:
            length = 8 + len(icmp.payload)
            time = f" time={rtt * 1000.0:.3f} ms" if self.size >= 8 else ""  # timing needs the 8-byte stamp
            if self._v6:  # ping6.c prints "(DUP!)" without a space, and dst= with -v
                where = f" dst={dst}" if self.verbose else ""
                dup = "(DUP!)" if duplicate else ""
                self._print(f"{length} bytes from {src}, icmp_seq={seq} hlim={ttl}{where}{time}{dup}")
            else:
                dup = " (DUP!)" if duplicate else ""
                self._print(f"{length} bytes from {src}: icmp_seq={seq} ttl={ttl}{time}{dup}")
        if self.count is not None and self.stats.received >= self.count and self._finish_timer is not None:
            self._finish_timer.cancel()
            self.finish()

    def _on_error4(self, src, icmp) -> None:
        """ping.c pr_pack for anything but an echo reply: the quoted-length checks, then
        the error line if it quotes one of our requests (or with -v, as root, any)."""
        data = icmp.payload
        if len(data) < _QUOTE_MIN:
            self._warn(f"quoted data too short ({len(data)} bytes) from {src}")
            return
        inner = (data[0] & 0x0F) << 2
        if inner < 20:
            self._warn(f"inner IHL too short ({inner} bytes) from {src}")
            return
        if len(data) < inner + 28:
            self._warn(f"inner packet too short ({len(data)} bytes) from {src}")
            return
        ours = (data[16:20] == self.dst.packed and data[9] == 1 and data[inner] == ICMP_ECHO
                and int.from_bytes(data[inner + 4 : inner + 6], "big") == self.ident)
        if ours or self.verbose:
            self._print_text(f"{8 + len(data)} bytes from {src}: {_icmph4(icmp)}\n")

    def _warn(self, message: str) -> None:
        """warnx(3) under -v, as ping.c's length checks do."""
        if self.verbose:
            self._print(f"ping: {message}")

    def _print_text(self, text: str) -> None:
        """printf output ending in a newline, one line at a time."""
        for line in text.split("\n")[:-1]:
            self._print(line)

    def kill(self) -> None:
        """Stop at once and print nothing, as SIGKILL (or the host losing power) stops ping."""
        if self.done:
            return
        self.done = True
        if self._finish_timer is not None:
            self._finish_timer.cancel()
        stack = self.host.inet6 if self._v6 else self.host.inet4
        if self._on_icmp in stack.icmp_listeners:
            stack.icmp_listeners.remove(self._on_icmp)

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
            low, avg, high, stddev = _min_avg_max_stddev([rtt * 1000.0 for rtt in st.rtts])
            lines.append(f"round-trip min/avg/max/stddev = {low:.3f}/{avg:.3f}/{high:.3f}/{stddev:.3f} ms")
        return lines


# -- ICMP error texts (ping.c pr_icmph / pr_iph, ping6.c pr_icmph / pr_retip / pr_iph) ----------------


def _icmph4(icmp: Icmp) -> str:
    """pr_icmph: what the message is, then for errors the quoted IP header."""
    kind, code = icmp.type, icmp.code
    if kind == 3:
        text = f"frag needed and DF set (MTU {icmp.rest & 0xFFFF})" if code == 4 else \
            _UNREACH4.get(code, f"Dest Unreachable, Bad Code: {code}")
    elif kind == 4:
        text = "Source Quench"
    elif kind == 5:
        text = _REDIRECT4.get(code, f"Redirect, Bad Code: {code}") + f"(New addr: {IPv4Address(icmp.rest)})"
    elif kind == 11:
        text = _TIMXCEED.get(code, f"Time exceeded, Bad Code: {code}")
    elif kind == 12:
        text = f"Parameter problem: pointer = 0x{icmp.rest >> 24:02x}"
    else:
        return _PLAIN4.get(kind, f"Bad ICMP type: {kind}") + "\n"
    return text + "\n" + _iph4(icmp.payload)


def _iph4(quote: bytes) -> str:
    """pr_iph: the quoted header under Src/Dst headings as wide as the addresses, options in hex."""
    hlen = (quote[0] & 0x0F) << 2
    src, dst = str(IPv4Address(quote[12:16])), str(IPv4Address(quote[16:20]))
    length, ident, off, cks = struct.unpack_from("!HHH2xH", quote, 2)
    head = f"Vr HL TOS  Len   ID Flg  off TTL Pro  cks {'Src':>{len(src)}} {'Dst':>{len(dst)}}"
    row = (f" {quote[0] >> 4:1x}  {quote[0] & 0x0F:1x}  {quote[1]:02x} {length:04x} {ident:04x}"
           f"   {(off & 0xE000) >> 13:1x} {off & 0x1FFF:04x}  {quote[8]:02x}  {quote[9]:02x} {cks:04x} {src} {dst}")
    if hlen > 20:
        head += " Opts"
        row += " " + quote[20:hlen].hex()
    return f"{head}\n{row}\n"


def _icmph6(icmp: Icmp6) -> str:
    """ping6.c pr_icmph; errors end with pr_retip's newline, the rest with none."""
    kind, code, quote = icmp.type, icmp.code, icmp.payload
    if kind == 1:
        return _UNREACH6.get(code, f"Destination Unreachable, Bad Code: {code}") + "\n" + _retip6(quote)
    if kind == 2:
        mtu = icmp.rest - (1 << 32) if icmp.rest >= 1 << 31 else icmp.rest  # (int)ntohl()
        return f"Packet too big mtu = {mtu}\n" + _retip6(quote)
    if kind == 3:
        return _TIMXCEED.get(code, f"Time exceeded, Bad Code: {code}") + "\n" + _retip6(quote)
    if kind == 4:
        text = "Parameter problem: " + _PARAMPROB6.get(code, f"Bad code({code}) ")
        return text + f"pointer = 0x{icmp.rest:02x}\n" + _retip6(quote)
    if kind == 137 and len(quote) >= 32:  # nd_redirect: target, then destination
        return f"Redirect\nDestination: {IPv6Address(quote[16:32])} New Target: {IPv6Address(quote[0:16])}"
    return _PLAIN6.get(kind, f"Bad ICMP type: {kind}")


def _retip6(quote: bytes) -> str:
    """pr_retip: the quoted IPv6 header, then its headers' names up to the upper layer."""
    if len(quote) < 40:
        return "IP6...\n"
    vfc, tc_low = quote[0], quote[1]
    flow = int.from_bytes(quote[0:4], "big") & 0xFFFFF
    plen = int.from_bytes(quote[4:6], "big")
    text = (f"Vr TC  Flow Plen Nxt Hlim\n {vfc >> 4:1x} {((vfc << 4) & 0xFF) | (tc_low >> 4):02x} {flow:05x}"
            f" {plen:04x}  {quote[6]:02x}   {quote[7]:02x}\n{IPv6Address(quote[8:24])}->{IPv6Address(quote[24:40])}\n")
    nh, cp, end = quote[6], 40, len(quote)
    while end - cp >= 8:
        if nh in (0, 60, 43):  # hop-by-hop, destination options, routing
            text += {0: "HBH ", 60: "DSTOPT ", 43: "RTHDR "}[nh]
            nh, hlen = quote[cp], (quote[cp + 1] + 1) << 3
        elif nh == 44:
            text += "FRAG "
            nh, hlen = quote[cp], 8
        elif nh == 51:
            text += "AH "
            nh, hlen = quote[cp], (quote[cp + 1] + 2) << 2
        elif nh == 58:
            return text + f"ICMP6: type = {quote[cp]}, code = {quote[cp + 1]}\n"
        elif nh == 50:
            return text + "ESP\n"
        elif nh in (6, 17):
            ports = struct.unpack_from("!HH", quote, cp)
            return text + f"{'TCP' if nh == 6 else 'UDP'}: from port {ports[0]}, to port {ports[1]} (decimal)\n"
        else:
            return text + f"Unknown Header({nh})\n"
        cp += hlen
        if cp >= end:
            break
    return text + "...\n"
