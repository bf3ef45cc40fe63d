"""What a run produced, as plain data: pings, flows, counters, drops, expectations.

A :class:`Result` holds only numbers, strings, lists and dicts, so it round-trips
through JSON (``--json``, ``ipsecsim report RUN.json``) without losing anything. Every
number is in SI units: seconds, bit/s, bytes, fractions (0.25 is 25%), or a count;
docs/results.md lists each field. The JSON names its layout in ``"format"``.
"""

from dataclasses import asdict, dataclass, field
import json
import math
from pathlib import Path
from typing import Any

__all__ = ["Result", "ExpectationResult", "ResultFormatError", "FORMAT"]

# The JSON layout. 2: every number in SI units. 3: adds the timeline, the ledger, flow
# statistics, time series, the topology and ``interrupted`` (later also route changes and
# outages, adjacency changes and ike, read as empty from a file written before them); a format 2 file reads with those
# empty. Files without "format" are older (1), with ping round-trip times in milliseconds:
# read as seconds they would be 1000 times too long.
FORMAT = 3
READABLE_FORMATS = (2, 3)


class ResultFormatError(ValueError):
    """A results file in a layout this version does not read (written by an older or newer ipsecsim)."""


@dataclass(slots=True)
class ExpectationResult:
    """One ``expect:`` line checked: its text, whether it held, what was measured."""

    text: str
    holds: bool
    actual: str
    where: str = ""  # file:line:col of the expectation


@dataclass
class Result:
    name: str
    duration: float
    seed: int
    pings: list[dict[str, Any]] = field(default_factory=list)
    flows: dict[str, dict[str, Any]] = field(default_factory=dict)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)  # "HOST:IF" -> if_data
    drops: dict[str, int] = field(default_factory=dict)  # reason -> count, all hosts
    drops_by_host: dict[str, dict[str, int]] = field(default_factory=dict)
    sas: list[dict[str, Any]] = field(default_factory=list)  # every SA that carried traffic, per host
    expectations: list[ExpectationResult] = field(default_factory=list)
    command_errors: list[str] = field(default_factory=list)
    console: dict[str, list[list]] = field(default_factory=dict)  # host -> [[time, line], ...]
    notes: list[str] = field(default_factory=list)
    scheduler_events: int = 0
    files: list[str] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)  # [{"time": s, "what": text}], as done
    ledger: dict[str, Any] = field(default_factory=dict)  # every datagram sent, and where it ended
    flow_stats: list[dict[str, Any]] = field(default_factory=list)  # FlowMonitor-style records
    timeseries: dict[str, Any] = field(default_factory=dict)  # per-bin figures of flows, interfaces, drops
    drops_by_place: list[dict[str, Any]] = field(default_factory=list)  # reason, host, interface, link, SA
    topology: dict[str, Any] = field(default_factory=dict)  # hosts, interfaces, links and tunnels at the end
    interrupted: bool = False  # stopped early (Ctrl-C): the figures cover up to `duration` only
    planned_duration: float | None = None  # where the run was to stop (set when interrupted)
    # Every routing table change after time 0: [{"time", "host", "change", "destination", "gateway",
    # "interface", "flags"}]; and each flow's or ping's outages: [{"flow", "start", "end", "duration", "lost"}].
    route_changes: list[dict[str, Any]] = field(default_factory=list)
    outages: list[dict[str, Any]] = field(default_factory=list)
    # OSPF neighbours reaching Full, leaving it or declared down: [{"time", "host", "neighbor",
    # "interface", "from", "to", "event"}].
    adjacency_changes: list[dict[str, Any]] = field(default_factory=list)
    # What each host's charon counted, per connection of its swanctl.conf: host -> connection ->
    # {"initiated", "times_to_establish", "established", "retransmissions", "rekeys", "expired",
    # "failures": [{"time", "reason"}]}; empty when no host runs charon.
    ike: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(e.holds for e in self.expectations)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON, the layout's ``"format"`` first."""
        return {"format": FORMAT, **_finite(asdict(self))}

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Result":
        """The inverse of :meth:`to_dict`; :class:`ResultFormatError` for another layout."""
        data = dict(data)
        layout = data.pop("format", None)
        if layout is None and {"name", "seed", "pings", "flows"} <= data.keys():
            raise ResultFormatError("written by an older ipsecsim, whose results give ping round-trip times in "
                                    f"milliseconds; run the scenario again to write it in SI units (format {FORMAT})")
        if layout is None:
            raise ValueError('no "format" field')
        if layout not in READABLE_FORMATS:
            raise ResultFormatError(f"written in results format {layout!r}; this ipsecsim reads formats "
                                    f"{', '.join(map(str, READABLE_FORMATS))}")
        data["expectations"] = [ExpectationResult(**e) for e in data.get("expectations", [])]
        return cls(**data)

    @classmethod
    def from_json(cls, path: str | Path) -> "Result":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def summary(self) -> str:
        from .text import render_summary

        return render_summary(self)

    # Figures (matplotlib.figure.Figure, shown by a notebook as it is), None when the run
    # has no data for them (a format 2 file has no time series); report/plots.py draws them.
    def plot_throughput(self):
        """Throughput of each flow over time, with its offered rate."""
        return _plot("throughput", self)

    def plot_delay(self):
        """Mean one-way delay of each flow over time."""
        return _plot("delay", self)

    def plot_delay_cdf(self):
        """Distribution of each flow's one-way delays."""
        return _plot("delay_cdf", self)

    def plot_rtt(self):
        """Round-trip time of each ping reply over time."""
        return _plot("rtt", self)

    def plot_drops(self):
        """Drops over time by reason (totals when the run has no time series)."""
        return _plot("drops", self)

    def plot_overhead(self):
        """ESP overhead against packet size for the algorithms of the run's SAs."""
        return _plot("overhead", self)

    def plot_topology(self):
        """Hosts, links coloured by utilisation, if_ipsec tunnels over them."""
        return _plot("topology", self)

    def write_plots(self, directory: str | Path) -> list[Path]:
        """Every plot as PNG and SVG into ``directory``; the paths written."""
        from .plots import write_plots

        return write_plots(self, directory)

    def write_csv(self, directory: str | Path) -> list[Path]:
        """flows.csv, timeseries.csv and events.csv into ``directory``; the paths written."""
        from .export import write_csv

        return write_csv(self, directory)

    def flows_frame(self):
        """A pandas DataFrame of flow_stats, one row per flow (needs the notebook extra)."""
        from .export import flows_frame

        return flows_frame(self)

    def timeseries_frame(self):
        """The time series in long form: time, kind, label, metric, value."""
        from .export import timeseries_frame

        return timeseries_frame(self)

    def events_frame(self, trace: str | Path | None = None):
        """The timeline (time, source, event, detail), plus a --trace file's events if given."""
        from .export import events_frame

        return events_frame(self, trace)

    def _repr_html_(self) -> str:
        from .text import render_html

        return render_html(self)

    def __str__(self) -> str:
        return self.summary()


def _plot(name: str, result: Result):
    from .plots import PLOTS

    return PLOTS[name](result)


def _finite(value):
    """JSON has no NaN: an RTT of a ping that got no reply is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
