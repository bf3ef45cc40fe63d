"""Outages: the periods in which what a flow or a ping sent was lost.

An outage starts at the send time of the first lost packet and ends at the send time of the
first packet delivered after it; one that no delivered packet ends by the end of the run is
open (``end`` None). Only runs of at least two consecutive lost packets count: a packet lost
alone (random loss on a link) is loss, not an outage.

Nothing here runs per packet. A UDP flow's sink writes down each run of missing sequence
numbers as its sequence window jumps over it (``UdpSink.gaps``), and mends a run when a late
datagram fills part of it; a ping keeps the send time of every answered request anyway. Both
senders send on a fixed schedule (``start + k * interval``, failed sends included), so the
k-th packet's send time is known without keeping it.

At the end of a run, packets sent in the last moments may still be on their way: those sent
less than the largest delay the flow saw (the largest round-trip time, for a ping) before the
end are not judged lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["outages_of", "flow_outages", "ping_outages", "MIN_LOST"]

MIN_LOST = 2  # consecutive lost packets that make an outage


def outages_of(name: str, kind: str, runs: Iterable[tuple[int, int, bool]],
               send_time: Callable[[int], float]) -> list[dict[str, Any]]:
    """Outages from runs ``(first lost, next delivered, closed)`` of packet numbers; an open
    run's second number is one past its last lost packet. ``kind``: "udp" or "ping"."""
    found = []
    for first, stop, closed in runs:
        if stop - first < MIN_LOST:
            continue
        start = send_time(first)
        end = send_time(stop) if closed else None
        found.append({"flow": name, "kind": kind, "start": start, "end": end,
                      "duration": None if end is None else end - start, "lost": stop - first})
    return found


def _judged(sent: int, send_time: Callable[[int], float], horizon: float) -> int:
    """How many of the ``sent`` packets were sent at or before ``horizon`` (the others may be
    on their way still)."""
    count = sent
    while count and send_time(count - 1) > horizon:
        count -= 1
    return count


def flow_outages(name: str, sender, sink, now: float) -> list[dict[str, Any]]:
    """The outages of a UDP flow (``UdpSender``, its ``UdpSink``) at time ``now``."""
    start, interval = sender.start_time, sender.interval

    def send_time(k: int) -> float:
        return start + k * interval

    stats = sender.stats
    runs = [(first, stop, True) for first, stop in sink.gaps]
    judged = _judged(stats.sent, send_time, now - stats.delay_max)
    top = sink.highest
    if judged > top + 1:
        runs.append((top + 1, judged, False))
    return outages_of(name, "udp", runs, send_time)


def ping_outages(name: str, ping, start: float, now: float) -> list[dict[str, Any]]:
    """The outages of a ping started at ``start``, by its requests answered or not."""
    interval = ping.interval

    def send_time(k: int) -> float:
        return start + k * interval

    stats = ping.stats
    answered = sorted({round((t - start) / interval) for t in stats.sent_times})
    runs: list[tuple[int, int, bool]] = []
    previous = -1
    for k in answered:
        if k > previous + 1:
            runs.append((previous + 1, k, True))
        previous = k
    horizon = float("inf") if ping.done else now - (max(stats.rtts) if stats.rtts else 0.0)
    judged = _judged(stats.transmitted, send_time, horizon)
    if judged > previous + 1:
        runs.append((previous + 1, judged, False))
    return outages_of(name, "ping", runs, send_time)
