"""A run's tables as CSV files and pandas DataFrames: flows, time series, events.

CSV needs nothing beyond Python; the DataFrames need pandas, which comes with the
``notebook`` extra (``pip install 'ipsecsim[notebook]'``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterator

from .result import Result

__all__ = ["FLOW_COLUMNS", "TIMESERIES_COLUMNS", "EVENT_COLUMNS", "write_csv", "flow_rows", "timeseries_rows",
           "event_rows", "flows_frame", "timeseries_frame", "events_frame"]

FLOW_COLUMNS = ("id", "label", "name", "kind", "src", "dst", "protocol", "sport", "dport", "spi", "tunnel",
                "tx_packets", "tx_bytes", "rx_packets", "rx_bytes", "lost_packets", "lost_by_reason",
                "delay_min", "delay_mean", "delay_max", "delay_p50", "delay_p90", "delay_p99", "jitter_mean",
                "times_forwarded", "first_tx", "last_tx", "first_rx", "last_rx", "inner_bytes", "overhead")
TIMESERIES_COLUMNS = ("time", "kind", "label", "metric", "value")
EVENT_COLUMNS = ("time", "source", "event", "detail")


def flow_rows(result: Result) -> list[dict[str, Any]]:
    """One row per flow_stats record; lists and dicts (lost_by_reason, tunnel) as JSON text."""
    return [{column: _cell(stats.get(column)) for column in FLOW_COLUMNS} for stats in result.flow_stats]


def timeseries_rows(result: Result) -> Iterator[dict[str, Any]]:
    """Long form: one row per (bin, flow or interface or drop reason, metric)."""
    ts = result.timeseries or {}
    times = ts.get("times") or []
    for kind, key in (("flow", "flows"), ("interface", "interfaces")):
        for label, metrics in (ts.get(key) or {}).items():
            for metric, values in metrics.items():
                for time, value in zip(times, values or []):
                    yield {"time": time, "kind": kind, "label": label, "metric": metric, "value": value}
    for reason, counts in (ts.get("drops") or {}).items():
        for time, value in zip(times, counts):
            yield {"time": time, "kind": "drops", "label": reason, "metric": "packets", "value": value}


def event_rows(result: Result, trace: str | Path | None = None) -> list[dict[str, Any]]:
    """The timeline's events, charon's failures (``result.ike``), and those of a ``--trace``
    JSON-lines file if given, by time."""
    rows = [{"time": e["time"], "source": "timeline", "event": "timeline", "detail": e["what"]}
            for e in result.timeline]
    ike = [{"time": f["time"], "source": "ike", "event": "failure", "detail": f"{host} {name}: {f['reason']}"}
           for host, connections in result.ike.items() for name, stats in connections.items()
           for f in stats["failures"]]
    if ike:
        rows = sorted(rows + ike, key=lambda row: row["time"])  # stable: timeline first at a tie
    if trace is not None:
        with open(trace) as lines:
            for line in lines:
                if not line.strip():
                    continue
                record = json.loads(line)
                time = record.pop("time", record.pop("t", None))
                event = record.pop("event", record.pop("type", ""))
                rows.append({"time": time, "source": "trace", "event": event,
                             "detail": json.dumps(record, sort_keys=True)})
        rows.sort(key=lambda row: (row["time"] is None, row["time"] or 0.0))  # stable: timeline first at a tie
    return rows


def write_csv(result: Result, directory: str | Path) -> list[Path]:
    """flows.csv, timeseries.csv and events.csv into ``directory`` (created if missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tables = (("flows.csv", FLOW_COLUMNS, flow_rows(result)),
              ("timeseries.csv", TIMESERIES_COLUMNS, timeseries_rows(result)),
              ("events.csv", EVENT_COLUMNS, event_rows(result)))
    written = []
    for name, columns, rows in tables:
        path = directory / name
        with open(path, "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
        written.append(path)
    return written


def _cell(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def _pandas():
    try:
        import pandas  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError("DataFrames need pandas: pip install 'ipsecsim[notebook]'") from None
    return pandas


def flows_frame(result: Result):
    """flow_stats as a DataFrame, one row per flow; ``delay_cdf`` is left out (a list per row)."""
    pandas = _pandas()
    rows = [{column: stats.get(column) for column in FLOW_COLUMNS} for stats in result.flow_stats]
    return pandas.DataFrame(rows, columns=list(FLOW_COLUMNS))


def timeseries_frame(result: Result):
    """The time series in long form: time, kind, label, metric, value."""
    return _pandas().DataFrame(list(timeseries_rows(result)), columns=list(TIMESERIES_COLUMNS))


def events_frame(result: Result, trace: str | Path | None = None):
    """The timeline (and a trace file's events): time, source, event, detail."""
    return _pandas().DataFrame(event_rows(result, trace), columns=list(EVENT_COLUMNS))
