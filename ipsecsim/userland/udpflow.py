"""A constant-bit-rate UDP sender and a measuring sink (like ``iperf -u``).

Each datagram carries a 16-byte header: a sequence number and the send time in
nanoseconds, so the sink measures loss, one-way delay, RFC 3550 jitter and
reordering from the packets themselves. ``rate`` counts UDP payload bits.
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
import struct

from ..kernel import Host, SendError
from ..packet import Udp

__all__ = ["UdpSender", "UdpSink", "FlowStats"]

_STAMP = struct.Struct("!QQ")
MIN_PAYLOAD = _STAMP.size


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

    @property
    def loss(self) -> float:
        return (self.sent - self.received) / self.sent if self.sent else 0.0

    @property
    def delay_avg(self) -> float:
        return self.delay_sum / self.received if self.received else float("nan")

    @property
    def throughput(self) -> float:
        """Received payload bits per second between the first and last arrival."""
        if self.received < 2 or self.last_arrival == self.first_arrival:
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
            "send_errors": self.send_errors,
        }


class UdpSink:
    """Binds ``port`` on ``host`` and measures what arrives."""

    def __init__(self, host: Host, port: int, stats: FlowStats):
        self.host = host
        self.port = port
        self.stats = stats
        self._seen: set[int] = set()
        self._highest = -1
        self._last_transit: float | None = None

    def bind(self, source, sport: int) -> "UdpSink":
        """Receive the flow from ``source``:``sport`` on this port; flows to one port share a socket."""
        for stack in (self.host.inet4, self.host.inet6):
            demux = stack.udp_ports.setdefault(self.port, _FlowDemux())
            if not isinstance(demux, _FlowDemux):
                raise ValueError(f"{self.host.name}: UDP port {self.port} is already bound")
            demux.sinks[(source, sport)] = self
        return self

    def receive(self, src, sport: int, dst, dport: int, payload: bytes) -> None:
        if len(payload) < MIN_PAYLOAD:
            return
        now = self.host.clock.now
        seq, sent_ns = _STAMP.unpack_from(payload)
        st = self.stats
        if seq in self._seen:
            st.duplicates += 1
            return
        self._seen.add(seq)
        st.received += 1
        st.bytes_received += len(payload)
        if seq < self._highest:
            st.reordered += 1
        else:
            self._highest = seq
        transit = now - sent_ns / 1e9
        st.delay_sum += transit
        st.delay_max = max(st.delay_max, transit)
        if self._last_transit is not None:  # RFC 3550 section 6.4.1
            st.jitter += (abs(transit - self._last_transit) - st.jitter) / 16
        self._last_transit = transit
        if st.first_arrival is None:
            st.first_arrival = now
        st.last_arrival = now


class _FlowDemux:
    """The socket bound to a sink port: hands each datagram to its flow by (source, port)."""

    __slots__ = ("sinks",)

    def __init__(self):
        self.sinks: dict[tuple, UdpSink] = {}

    def __call__(self, src, sport: int, dst, dport: int, payload: bytes) -> None:
        sink = self.sinks.get((src, sport))
        if sink is not None:
            sink.receive(src, sport, dst, dport, payload)


class UdpSender:
    """Sends ``size``-byte datagrams at ``rate`` bit/s from ``start`` until ``stop`` (seconds)."""

    def __init__(self, host: Host, dst: IPv4Address | IPv6Address, *, rate: float, size: int,
                 start: float, stop: float, sport: int, dport: int, stats: FlowStats,
                 source: IPv4Address | IPv6Address | None = None):
        if size < MIN_PAYLOAD:
            raise ValueError(f"UDP flow payload must be at least {MIN_PAYLOAD} bytes (sequence and timestamp)")
        self.host, self.dst, self.rate, self.size = host, dst, rate, size
        self.start_time, self.stop_time = start, stop
        self.sport, self.dport, self.stats, self.source = sport, dport, stats, source
        self.interval = size * 8 / rate
        self._padding = bytes(size - MIN_PAYLOAD)

    def source_address(self):
        """The address this flow's packets leave from, as the host will choose it."""
        return self.source or self.host.source_address(self.dst)

    def start(self) -> "UdpSender":
        self.host.clock.call_later(max(0.0, self.start_time - self.host.clock.now), self._send)
        return self

    def _send(self) -> None:
        host = self.host
        now = host.clock.now
        if now >= self.stop_time:
            return
        st = self.stats
        payload = _STAMP.pack(st.sent, round(now * 1e9)) + self._padding
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
