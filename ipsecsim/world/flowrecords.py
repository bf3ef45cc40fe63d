"""What the flow monitor (flowmon.py) keeps per flow, and how it becomes results: the
``flow_stats`` records, their delay percentiles and CDF, and the time series' per-bin values."""

from __future__ import annotations

from ipaddress import ip_address
import math
from typing import Any

__all__ = ["Flow", "label", "record", "time_series"]

_LOG_STEP = math.log(1.01)
_CDF_POINTS = 200
_PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 50: "esp", 58: "icmp6"}


class Flow:
    """One flow's counters; ``key`` holds raw address bytes until the result is made."""

    __slots__ = ("index", "kind", "key", "name", "tunnel", "tx_packets", "tx_bytes", "rx_packets", "rx_bytes",
                 "lost", "lost_by_reason", "delay_sum", "delay_min", "delay_max", "delays", "jitter_sum",
                 "last_delay", "timed", "forwarded", "first_tx", "last_tx", "first_rx", "last_rx", "inner_bytes")

    def __init__(self, index: int, kind: str, key: tuple, name: str | None):
        self.index = index
        self.kind = kind
        self.key = key
        self.name = name
        self.tunnel: str | None = None
        self.tx_packets = self.tx_bytes = self.rx_packets = self.rx_bytes = self.lost = 0
        self.lost_by_reason: dict[str, int] = {}
        self.delay_sum = 0.0
        self.delay_min = math.inf
        self.delay_max = 0.0
        self.delays: dict[int, int] = {}  # log bucket -> count
        self.jitter_sum = 0.0
        self.last_delay: float | None = None
        self.timed = 0  # packets received whose send time was known
        self.forwarded = 0
        self.first_tx = self.last_tx = self.first_rx = self.last_rx = math.nan
        self.inner_bytes = 0

    def received(self, size: int, now: float, sent: float | None) -> None:
        self.rx_packets += 1
        self.rx_bytes += size
        if self.rx_packets == 1:
            self.first_rx = now
        self.last_rx = now
        if sent is None:
            return
        delay = now - sent
        self.timed += 1
        self.delay_sum += delay
        if delay < self.delay_min:
            self.delay_min = delay
        if delay > self.delay_max:
            self.delay_max = delay
        bucket = math.floor(math.log(delay) / _LOG_STEP) if delay > 0 else -100000
        self.delays[bucket] = self.delays.get(bucket, 0) + 1
        if self.last_delay is not None:
            self.jitter_sum += abs(delay - self.last_delay)
        self.last_delay = delay


def time_series(samples: list, order: list[Flow], bin: float, now: float) -> dict[str, Any]:
    """Per-bin values from the counters sampled at each bin boundary and at the end (``now``)."""
    starts = [k * bin for k in range(len(samples) - 1)]
    if starts and now <= starts[-1]:  # the run ended on a bin boundary: no empty last bin
        samples.pop()
        starts.pop()
    widths = [min(bin, now - start) for start in starts]
    flows: dict[str, dict[str, list]] = {}
    for flow in order:
        i = flow.index - 1
        series: dict[str, list] = {k: [] for k in ("tx_packets", "tx_bytes", "rx_packets", "rx_bytes",
                                                    "throughput", "offered", "delay_mean", "lost")}
        zero = (0, 0, 0, 0, 0, 0.0, 0)
        for n, width in enumerate(widths):
            a = samples[n][0][i] if i < len(samples[n][0]) else zero
            b = samples[n + 1][0][i] if i < len(samples[n + 1][0]) else zero
            d = [y - x for x, y in zip(a, b)]
            series["tx_packets"].append(d[0])
            series["tx_bytes"].append(d[1])
            series["rx_packets"].append(d[2])
            series["rx_bytes"].append(d[3])
            series["throughput"].append(d[3] * 8 / width if width > 0 else 0.0)
            series["offered"].append(d[1] * 8 / width if width > 0 else 0.0)
            series["delay_mean"].append(d[5] / d[6] if d[6] else None)
            series["lost"].append(d[4])
        flows[label(flow)] = series
    interfaces: dict[str, dict[str, list]] = {}
    for name in samples[-1][1]:
        series = {k: [] for k in ("in_rate", "out_rate", "in_packets", "out_packets")}
        for n, width in enumerate(widths):
            a = samples[n][1].get(name, (0, 0, 0, 0))
            b = samples[n + 1][1][name] if name in samples[n + 1][1] else a
            series["in_rate"].append((b[0] - a[0]) * 8 / width if width > 0 else 0.0)
            series["out_rate"].append((b[1] - a[1]) * 8 / width if width > 0 else 0.0)
            series["in_packets"].append(b[2] - a[2])
            series["out_packets"].append(b[3] - a[3])
        interfaces[name] = series
    drops = {reason: [samples[n + 1][2].get(reason, 0) - samples[n][2].get(reason, 0)
                      for n in range(len(widths))] for reason in sorted(samples[-1][2])}
    return {"bin": bin, "end": now, "times": starts, "flows": flows, "interfaces": interfaces,
            "drops": drops}


def label(flow: Flow) -> str:
    """The flow's name; an SA's flow by its SPI and destination, which FreeBSD's SAD looks it up by."""
    if flow.name:
        return flow.name
    if flow.kind == "esp":
        _, dst, spi = flow.key
        return f"esp spi {spi} to {ip_address(dst)}"
    return f"flow {flow.index}"


def _percentiles(flow: Flow) -> tuple[list[float | None], list[list[float]]]:
    total = flow.timed
    if not total:
        return [None, None, None], []
    buckets = sorted(flow.delays.items())
    values = []
    cumulative = []
    running = 0
    for bucket, count in buckets:
        running += count
        middle = 0.0 if bucket == -100000 else math.exp((bucket + 0.5) * _LOG_STEP)
        values.append(min(max(middle, flow.delay_min), flow.delay_max))
        cumulative.append(running / total)
    result: list[float | None] = []
    for q in (0.5, 0.9, 0.99):
        result.append(next(v for v, c in zip(values, cumulative) if c >= q - 1e-12))
    step = max(1, math.ceil(len(values) / _CDF_POINTS))
    cdf = [[values[i], cumulative[i]] for i in range(0, len(values), step)]
    if cdf[-1][0] != values[-1]:
        cdf.append([values[-1], cumulative[-1]])
    return result, cdf


def record(flow: Flow) -> dict[str, Any]:
    if flow.kind == "esp":
        src, dst, spi = flow.key
        proto, sport, dport = 50, None, None
    else:
        src, dst, proto, sport, dport = flow.key
        spi = None
        if sport == -1:
            sport = dport = None
    (p50, p90, p99), cdf = _percentiles(flow)
    timed = flow.timed
    return {
        "id": flow.index, "label": label(flow), "name": flow.name, "kind": flow.kind,
        "src": str(ip_address(src)), "dst": str(ip_address(dst)), "protocol": _PROTOCOLS.get(proto, str(proto)),
        "sport": sport, "dport": dport, "spi": spi, "tunnel": flow.tunnel,
        "tx_packets": flow.tx_packets, "tx_bytes": flow.tx_bytes, "rx_packets": flow.rx_packets,
        "rx_bytes": flow.rx_bytes, "lost_packets": flow.lost, "lost_by_reason": dict(sorted(flow.lost_by_reason.items())),
        "delay_min": flow.delay_min if timed else None, "delay_mean": flow.delay_sum / timed if timed else None,
        "delay_max": flow.delay_max if timed else None, "delay_p50": p50, "delay_p90": p90, "delay_p99": p99,
        "jitter_mean": flow.jitter_sum / (timed - 1) if timed > 1 else (0.0 if timed else None),
        "delay_cdf": cdf, "times_forwarded": flow.forwarded,
        "first_tx": flow.first_tx, "last_tx": flow.last_tx, "first_rx": flow.first_rx, "last_rx": flow.last_rx,
        "inner_bytes": flow.inner_bytes if flow.kind == "esp" else None,
        "overhead": (flow.tx_bytes / flow.inner_bytes if flow.inner_bytes else None) if flow.kind == "esp" else None,
    }
