"""A constant-bit-rate UDP sender and a measuring sink (like ``iperf -u``).

Each datagram starts with a 16-byte stamp: the flow's id, a sequence number and the
send time in nanoseconds, so the sink measures loss, one-way delay, RFC 3550 jitter
and reordering from the packets themselves. The sink tells flows apart by the id,
not by the sender's address and port, so a flow is still counted whole when its
source changes mid-run (an interface re-addressed, a new route). ``rate`` counts
UDP payload bits.
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
import struct

from ..kernel import Host, SendError
from ..packet import Udp
from ._seqwindow import DUPLICATE, IN_ORDER, SeqWindow

__all__ = ["UdpSender", "UdpSink", "FlowSocket", "FlowStats", "MIN_PAYLOAD"]

# flow id, sequence number (both 32 bits: a flow wraps after 2**32 datagrams), send time (ns)
_STAMP = struct.Struct("!IIQ")
MIN_PAYLOAD = _STAMP.size
_SEQ_MASK = 0xFFFFFFFF


@dataclass(slots=True)
class FlowStats:
    name: str
    sent: int = 0
    send_errors: int = 0
    bytes_sent: int = 0
    received: int = 0
    bytes_received: int = 0
    duplicates: int = 0
    reordered: int = 0
    delay_sum: float = 0.0
    delay_max: float = 0.0
    jitter: float = 0.0  # RFC 3550 interarrival jitter estimate, seconds
    first_arrival: float | None = None
    last_arrival: float | None = None
    rate: float = 0.0  # offered, bit/s, as configured

    @property
    def loss(self) -> float:
        return (self.sent - self.received) / self.sent if self.sent else 0.0

    @property
    def delay_avg(self) -> float:
        return self.delay_sum / self.received if self.received else float("nan")

    @property
    def throughput(self) -> float:
        """Received payload bits per second between the first and last arrival."""
        if self.received < 2 or self.last_arrival is None or self.first_arrival is None \
                or self.last_arrival == self.first_arrival:
            return 0.0
        # n packets span n-1 inter-arrival gaps; count the bytes of the last n-1.
        per_packet = self.bytes_received / self.received
        return (self.received - 1) * per_packet * 8 / (self.last_arrival - self.first_arrival)

    def as_dict(self) -> dict:
        return {
            "name": self.name, "sent": self.sent, "received": self.received, "loss": self.loss,
            "bytes_sent": self.bytes_sent, "bytes_received": self.bytes_received,
            "throughput": self.throughput, "delay_avg": self.delay_avg, "delay_max": self.delay_max,
            "jitter": self.jitter, "reordered": self.reordered, "duplicates": self.duplicates,
            "send_errors": self.send_errors, "rate": self.rate,
        }


class UdpSink:
    """Measures one flow (``flow_id``) among the datagrams arriving on ``port`` of ``host``."""

    def __init__(self, host: Host, port: int, stats: FlowStats, flow_id: int):
        self.host = host
        self.port = port
        self.stats = stats
        self.flow_id = flow_id
        self.socket: FlowSocket | None = None
        # Runs of at least two missing sequence numbers, [first missing, next received], in
        # order: the flow's outages (world/outages.py). A single missing number is never one,
        # so it is not kept, and memory grows with the outages, not with the packets.
        self.gaps: list[list[int]] = []
        self._window = SeqWindow(self._skipped)  # fixed size: memory does not grow with the packets received
        self._last_transit: float | None = None

    def _skipped(self, first: int, stop: int) -> None:
        if stop - first >= 2:
            self.gaps.append([first, stop])

    def _filled(self, seq: int) -> None:
        """A datagram thought lost arrived late: the run it sat in is cut in two around it."""
        gaps = self.gaps
        for index in range(len(gaps) - 1, -1, -1):
            first, stop = gaps[index]
            if stop <= seq:
                return
            if first <= seq:
                parts = [part for part in ([first, seq], [seq + 1, stop]) if part[1] - part[0] >= 2]
                gaps[index:index + 1] = parts
                return

    @property
    def highest(self) -> int:
        """The highest sequence number received, -1 before the first."""
        return self._window.top

    def bind(self) -> "UdpSink":
        """Join the socket bound to this port (IPv4 and IPv6), binding it if needed."""
        self.socket = FlowSocket.bind(self.host, self.port)
        self.socket.sinks[self.flow_id] = self
        return self

    def receive(self, seq: int, sent_ns: int, size: int) -> None:
        """One datagram of this flow: its stamp's sequence number and send time, its payload size.

        A repeat of one of the last ``WINDOW`` sequence numbers is a duplicate; a new one below
        the highest seen is reordered. One older than the window is counted as a late original,
        received and reordered (see :mod:`._seqwindow`).
        """
        now = self.host.clock.now
        st = self.stats
        order = self._window.mark(seq)
        if order == DUPLICATE:
            st.duplicates += 1
            return
        st.received += 1
        st.bytes_received += size
        if order != IN_ORDER:
            st.reordered += 1
            if self.gaps:
                self._filled(seq)
        transit = now - sent_ns / 1e9
        st.delay_sum += transit
        if transit > st.delay_max:
            st.delay_max = transit
        if self._last_transit is not None:  # RFC 3550 section 6.4.1
            st.jitter += (abs(transit - self._last_transit) - st.jitter) / 16
        self._last_transit = transit
        if st.first_arrival is None:
            st.first_arrival = now
        st.last_arrival = now


class FlowSocket:
    """The UDP socket bound to a sink port: hands each datagram to its flow by the id in its stamp.

    Flows to one port share it, whatever their source. A datagram that carries no
    known flow id (shorter than a stamp, or another program's) is received, as
    FreeBSD's socket receives it (``udps_ipackets`` counts it), and then ignored by
    the sink program: it counts in ``ignored`` and in no flow.
    """

    __slots__ = ("host", "port", "sinks", "ignored")

    def __init__(self, host: Host, port: int):
        self.host = host
        self.port = port
        self.sinks: dict[int, UdpSink] = {}
        self.ignored = 0  # datagrams received on this port that belong to no flow

    @classmethod
    def bind(cls, host: Host, port: int) -> "FlowSocket":
        """The flow socket on ``host``:``port``, bound for IPv4 and IPv6 on first use."""
        bound = host.inet4.udp_ports.get(port)
        if bound is None:
            bound = cls(host, port)
        if not isinstance(bound, cls) or host.inet6.udp_ports.get(port, bound) is not bound:
            raise ValueError(f"{host.name}: UDP port {port} is already bound")
        host.inet4.udp_ports[port] = host.inet6.udp_ports[port] = bound
        return bound

    def __call__(self, src, sport: int, dst, dport: int, payload: bytes) -> None:
        # Runs for every datagram of every flow: one unpack and one lookup.
        if len(payload) >= MIN_PAYLOAD:
            flow_id, seq, sent_ns = _STAMP.unpack_from(payload)
            sink = self.sinks.get(flow_id)
            if sink is not None:
                sink.receive(seq, sent_ns, len(payload))
                return
        self.ignored += 1


class UdpSender:
    """Sends ``size``-byte datagrams at ``rate`` bit/s from ``start`` until ``stop`` (seconds).

    ``flow_id`` goes in every datagram's stamp: the sink measuring the flow knows it by that.
    """

    def __init__(self, host: Host, dst: IPv4Address | IPv6Address, *, rate: float, size: int,
                 start: float, stop: float, sport: int, dport: int, stats: FlowStats, flow_id: int,
                 source: IPv4Address | IPv6Address | None = None):
        if size < MIN_PAYLOAD:
            raise ValueError(f"UDP flow payload must be at least {MIN_PAYLOAD} bytes "
                             "(flow id, sequence number and timestamp)")
        self.host, self.dst, self.rate, self.size = host, dst, rate, size
        self.start_time, self.stop_time = start, stop
        self.sport, self.dport, self.stats, self.source = sport, dport, stats, source
        self.flow_id = flow_id
        self.interval = size * 8 / rate
        self._padding = bytes(size - MIN_PAYLOAD)

    def start(self) -> "UdpSender":
        self.host.clock.call_later(max(0.0, self.start_time - self.host.clock.now), self._send)
        return self

    def _send(self) -> None:
        host = self.host
        now = host.clock.now
        if now >= self.stop_time:
            return
        st = self.stats
        payload = _STAMP.pack(self.flow_id, st.sent & _SEQ_MASK, round(now * 1e9)) + self._padding
        datagram = Udp(self.sport, self.dport, payload)
        st.sent += 1
        st.bytes_sent += self.size
        try:
            host.send(self.dst, 17, datagram.to_bytes, src=self.source)
            host.ipstat.udps_opackets += 1
        except SendError:
            st.send_errors += 1
        # Schedule from the nominal start so rounding never drifts the rate.
        host.clock.call_later(self.start_time + st.sent * self.interval - now, self._send)
