"""Runs too large to simulate, refused before they start, at the value that makes them so.

A scenario can be valid value by value and still describe a run no machine finishes: a UDP flow
of 16-byte datagrams at 100Gbit/s sends 8e8 packets a second, and a ``duration`` of 1e300s keeps
every host's key engine ticking forever. :func:`limit_problems` works out what the run implies,
with the duration it will really have (``--duration`` may change it), and reports each item
past a budget with the number it implies and how to lower it:

- packets: :data:`MAX_PACKETS` in all, counting the scenario's ``traffic:`` and the pings
  ``run:`` blocks start at time 0 (a ping without ``-c`` sends until the run ends);
- host-seconds: each host's key engine wakes once a simulated second (FreeBSD's
  ``key_timehandler``), so hosts x duration may be at most :data:`MAX_HOST_SECONDS`.

The budgets are in ``docs/scenario.md`` ("Limits"); they bound what is impossible, not what is
merely slow (10^8 packets take hours).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ..userland.ping import Ping
from .errors import Diagnostic
from .models import PingTraffic, Scenario, UdpFlow
from .tunnels import host_scripts
from .units import format_duration, format_rate

__all__ = ["MAX_HOST_SECONDS", "MAX_PACKETS", "limit_problems"]

MAX_PACKETS = 10**8  # packets a run may send, all traffic together
MAX_HOST_SECONDS = 10**8  # hosts x simulated seconds: each host's key engine wakes once a second

_BEYOND = f"more than the {MAX_PACKETS:,} a run can simulate"


@dataclass(frozen=True, slots=True)
class _Load:
    """What one traffic item sends, where it is written, and how to send less."""

    file: str
    line: int
    col: int
    path: str
    what: str  # "10Gbit/s in 16-byte datagrams from 0s to 10s"
    packets: float
    fix: str  # how to send less: "lower the rate, ..."
    fix_alone: str = ""  # the same with the number that fits when this item alone is too much


def limit_problems(scn: Scenario, duration: float | None = None,
                   running: Iterable[tuple[str, Ping]] = ()) -> list[Diagnostic]:
    """Why a run of ``scn`` lasting ``duration`` (default: its own) cannot be simulated; empty if it can.

    ``running`` are the (host, ping) started by the hosts' ``run:`` blocks, if they have run.
    """
    end = scn.duration if duration is None else duration
    problems = _host_seconds(scn, end, overridden=duration is not None and duration != scn.duration)
    loads = [_traffic_load(i, item, end) for i, item in enumerate(scn.traffic)]
    loads += [_ping_load(scn, host, ping, end) for host, ping in running]
    loads = [load for load in loads if load.packets > 0]
    too_many = [load for load in loads if load.packets > MAX_PACKETS]
    for load in too_many:
        problems.append(Diagnostic(load.file, load.line, load.col, load.path,
                                   f"{load.what} is {_count(load.packets)} packets, {_BEYOND}; "
                                   f"{load.fix_alone or load.fix}"))
    total = sum(load.packets for load in loads)
    if not too_many and total > MAX_PACKETS:
        load = max(loads, key=lambda item: item.packets)
        problems.append(Diagnostic(load.file, load.line, load.col, load.path,
                                   f"the traffic sends {_count(total)} packets in all, {_BEYOND}; this one, "
                                   f"{load.what}, sends the most ({_count(load.packets)}); {load.fix}"))
    return problems


def _host_seconds(scn: Scenario, end: float, *, overridden: bool) -> list[Diagnostic]:
    hosts = len(scn.hosts)
    if hosts * end <= MAX_HOST_SECONDS:
        return []
    line, col = scn.pos_of("duration")
    lasting = (f"the run asked for lasts {format_duration(end)} (this file says {format_duration(scn.duration)})"
               if overridden else f"{format_duration(end)} of simulated time")
    message = (f"{lasting}: each host's key engine wakes once a simulated second, so {hosts} "
               f"host{'s' if hosts > 1 else ''} make {_count(hosts * end)} wake-ups, more than the "
               f"{MAX_HOST_SECONDS:,} a run can simulate; make the run at most "
               f"{format_duration(MAX_HOST_SECONDS / hosts)} long")
    return [Diagnostic(scn.file, line, col, "duration", message)]


def _traffic_load(index: int, item: PingTraffic | UdpFlow, end: float) -> _Load:
    if isinstance(item, UdpFlow):
        stop = min(item.stop, end)
        seconds = max(0.0, stop - item.start)
        packets = seconds * item.rate / (item.size * 8)
        packets = math.ceil(packets) if math.isfinite(packets) else math.inf
        what = (f"{format_rate(item.rate)} in {item.size}-byte datagrams from {format_duration(item.start)} "
                f"to {format_duration(stop)}")
        fastest = MAX_PACKETS * item.size * 8 / seconds if seconds else math.inf
        fix = "lower the rate, send larger datagrams (size) or stop sooner"
        alone = f"lower the rate (at most {format_rate(fastest)} at this size), send larger datagrams (size) or stop sooner"
        line, col = item.pos_of("rate")
        return _Load(item.file, line, col, f"traffic[{index}].udp.rate", what, packets, fix, alone)
    packets = _ping_packets(item.count, item.interval, end - item.start)
    what = f"a ping of {item.count} requests every {format_duration(item.interval)}"
    line, col = item.pos_of("count")
    return _Load(item.file, line, col, f"traffic[{index}].ping.count", what, packets,
                 "send fewer requests (count) or space them out (interval)")


def _ping_packets(count: int | None, interval: float, seconds: float) -> float:
    """Requests a ping sends in ``seconds``: one at once, then one per ``interval``, up to ``count``."""
    if seconds < 0:
        return 0
    by_time = math.floor(seconds / interval) + 1 if seconds / interval < 1e18 else math.inf
    return by_time if count is None else min(count, by_time)


def _ping_load(scn: Scenario, host: str, ping: Ping, end: float) -> _Load:
    """A ping a ``run:`` block started at time 0 (``ping -i 0.001 ...``), placed at its line."""
    seconds = end if ping.timeout is None else min(end, ping.timeout)
    until = "until the run ends" if ping.count is None and ping.timeout is None else "as asked"
    what = f"ping {ping.hostname} every {format_duration(ping.interval)} {until}"
    file, (line, col), path = scn.file, scn.pos, f"hosts.{host}.run"
    typed = ((part, index) for part in host_scripts(scn).get(host, [])
             for index, text in enumerate(part.script.text.split("\n")) if "ping" in text and ping.hostname in text)
    found = next(typed, None)
    if found is not None:
        part, index = found
        file, (line, col), path = part.script.file, part.script.position(index), part.path
    return _Load(file, line, col, path, what, _ping_packets(ping.count, ping.interval, seconds),
                 "add -c COUNT, or a longer -i interval")


def _count(packets: float) -> str:
    """``120,000,000``; very large numbers as ``1.6e+10``."""
    return f"{packets:,.0f}" if packets < 1e12 else f"{packets:.3g}"
