"""Parameter sweeps: one scenario run at every point of a grid of values, then a table and plots.

A sweep file names a base scenario, a ``grid:`` of scenario fields and the values each takes,
and ``metrics:`` to read from each run's result (``Result.to_dict()``)::

    name: Throughput through the tunnel against link loss
    base: ../if_ipsec_lossy.yaml
    grid:
      links[0].loss: [0%, 1%, 2%, 5%, 10%]
      seed: 1..5
    metrics:
      throughput: flows[name=bulk].throughput

Each point's scenario is the base file's text with the grid's values written in place of the
base's own, so the point is validated exactly as a scenario file is, and a bad value gets the
scenario's own message. The point's text (its seed included) is hashed: a run whose hash
already has a result file in ``DIR/runs/`` is not run again, and a changed base re-runs.

Runs go to local processes (``concurrent.futures``) or to a Dask cluster; results are
collected by point, so the table and the plots are the same bytes however they ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
import concurrent.futures
import csv
from dataclasses import dataclass, field
import hashlib
import itertools
import json
import math
import multiprocessing
import os
from pathlib import Path
import re
import statistics
import sys
import textwrap
from typing import Any

from . import __version__
from .scenario.errors import Diagnostic, PathPart, ScenarioError, format_path
from .scenario.yamlmarks import MarkedList, MarkedMap, Span, load_marked

__all__ = ["SweepError", "SweepFile", "SweepOptionError", "SweepResult", "load_sweep", "parse_path", "resolve", "run_sweep"]

FORMAT = 1  # the layout of points.json
MAX_POINTS = 100_000
CONNECT_TIMEOUT = 10.0  # seconds to reach a Dask scheduler before giving up
RESERVED = ("point", "ok", "status", "error", "key")  # columns of the table besides grid keys and metrics
_ANCHOR = re.compile(r"&[^\s,\[\]{}]+\s*")
_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")
_TOKEN = re.compile(r"(?P<key>[A-Za-z_][\w-]*)|\[(?P<index>\d+)\]|\[name=(?P<name>[^\]]+)\]|(?P<dot>\.)")


class SweepError(ScenarioError):
    """A sweep file that cannot be used: ``file:line:col: what is wrong``, one line each."""


class SweepOptionError(ValueError):
    """An option of the sweep that cannot be used (``--dask``, ``--workers``, ``--out``): one line
    naming the option."""


# --- paths --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Step:
    """One step of a path: a mapping key, a list index, or ``[name=X]``."""

    kind: str  # "key", "index" or "name"
    value: str | int

    def __str__(self) -> str:
        if self.kind == "key":
            return str(self.value)
        return f"[{self.value}]" if self.kind == "index" else f"[name={self.value}]"


class PathSyntaxError(ValueError):
    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset = offset  # 0-based character of the path text where it goes wrong


def parse_path(text: str) -> tuple[Step, ...]:
    """``"flows[name=bulk].throughput"`` -> its steps; :class:`PathSyntaxError` says where it is wrong."""
    steps: list[Step] = []
    pos, after_dot = 0, True
    if not text:
        raise PathSyntaxError(0, "an empty path; write e.g. links[0].loss")
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise PathSyntaxError(pos, f"unexpected {text[pos]!r}; a path is keys joined by '.', with [N] "
                                       "or [name=X] after a key, e.g. flows[name=bulk].throughput")
        if match["dot"]:
            if after_dot:
                raise PathSyntaxError(pos, "a key is missing before this '.'")
            after_dot = True
        elif match["key"]:
            if not after_dot:
                raise PathSyntaxError(pos, "a '.' is missing before this key")
            steps.append(Step("key", match["key"]))
            after_dot = False
        else:
            if after_dot:
                raise PathSyntaxError(pos, "[...] follows a key, as in links[0]")
            steps.append(Step("index", int(match["index"])) if match["index"] is not None
                         else Step("name", match["name"]))
        pos = match.end()
    if after_dot:
        raise PathSyntaxError(len(text) - 1, "the path ends with '.'; a key is missing")
    return tuple(steps)


def _named(item: object, name: str) -> bool:
    """An item called ``name``: its own ``name:``, or that of its only value (``{udp: {name: bulk}}``)."""
    if not isinstance(item, dict):
        return False
    if item.get("name") == name:
        return True
    inner = list(item.values())
    return len(inner) == 1 and isinstance(inner[0], dict) and inner[0].get("name") == name


def _names(node: object) -> list[str]:
    items = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    found = []
    for item in items:
        if isinstance(item, dict):
            inner = list(item.values())
            own = item.get("name", inner[0].get("name") if len(inner) == 1 and isinstance(inner[0], dict) else None)
            if own is not None:
                found.append(str(own))
    return found


def _step(node: object, step: Step, done: str) -> tuple[PathPart, object]:
    """Take one step from ``node`` (reached by ``done``); the part of the concrete path and the node."""
    here = done or "the top level"
    if step.kind == "key":
        if not isinstance(node, dict):
            raise LookupError(f"{here} is {_kind(node)}, not a mapping with the key '{step.value}'")
        if step.value not in node:
            keys = ", ".join(map(str, node)) or "nothing"
            raise LookupError(f"{here} has no key '{step.value}' (it has {keys})")
        return str(step.value), node[str(step.value)]
    if step.kind == "index":
        if not isinstance(node, list):
            raise LookupError(f"{here} is {_kind(node)}, not a list to index with [{step.value}]")
        index = int(step.value)
        if index >= len(node):
            raise LookupError(f"{here} has {len(node)} item{'s' if len(node) != 1 else ''}; [{index}] is not one")
        return index, node[index]
    name = str(step.value)
    if isinstance(node, dict):
        if name in node:
            return name, node[name]
        matches = [key for key, value in node.items() if _named(value, name)]
    elif isinstance(node, list):
        matches = [i for i, item in enumerate(node) if _named(item, name)]
    else:
        raise LookupError(f"{here} is {_kind(node)}, not a list or mapping to select [name={name}] in")
    if not matches:
        names = ", ".join(_names(node)) or "none"
        raise LookupError(f"{here} has nothing named '{name}' (names there: {names})")
    if len(matches) > 1:
        raise LookupError(f"{here} has {len(matches)} items named '{name}'; use an index")
    part = matches[0]
    return part, node[part]


def _kind(node: object) -> str:
    if isinstance(node, dict):
        return "a mapping"
    if isinstance(node, list):
        return "a list"
    return "null" if node is None else f"the value {node!r}"


def resolve(data: object, steps: Sequence[Step]) -> tuple[tuple[PathPart, ...], object]:
    """Follow ``steps`` through plain data (a result or a scenario); LookupError says where it stops."""
    node: object = data
    parts: list[PathPart] = []
    for step in steps:
        part, node = _step(node, step, format_path(parts))
        parts.append(part)
    return tuple(parts), node


# --- the sweep file -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GridKey:
    """A grid key: its text, where the base holds its value, and the values it takes."""

    text: str
    parts: tuple[PathPart, ...]  # the concrete path in the base scenario
    values: tuple[object, ...]
    shown: tuple[str, ...]  # each value as written in the sweep file
    spans: tuple[Span, ...]  # where each value is written
    edit: tuple[int, int, str] | None  # base text [start:end] to replace (suffix kept), None: add a top-level key


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    text: str
    steps: tuple[Step, ...]
    span: Span


@dataclass
class SweepFile:
    """A sweep file, checked: the base scenario's text, the grid, the metrics, the x axis."""

    path: Path
    name: str
    base: Path
    base_text: str
    grid: list[GridKey]
    metrics: list[Metric]
    x: str | None
    directory_name: str

    def points(self) -> Iterator[tuple[int, dict[str, object], str]]:
        """Each point in grid order (the last key varies fastest): index, values, scenario text."""
        for index, combo in enumerate(itertools.product(*(range(len(key.values)) for key in self.grid))):
            values = {key.text: key.values[i] for key, i in zip(self.grid, combo)}
            yield index, values, self._text([(key, key.values[i]) for key, i in zip(self.grid, combo)])

    def count(self) -> int:
        return math.prod(len(key.values) for key in self.grid)

    def _text(self, settings: list[tuple[GridKey, object]]) -> str:
        """The base text with each value written in place, as one line of YAML (JSON is YAML)."""
        text, added = self.base_text, []
        for key, value in sorted(settings, key=lambda s: -(s[0].edit or (-1,))[0]):
            rendered = json.dumps(value, ensure_ascii=False)
            if key.edit is None:
                added.append(f"{key.text}: {rendered}\n")
                continue
            start, end, suffix = key.edit
            text = text[:start] + rendered + suffix + text[end:]
        if added:
            text = text + ("" if text.endswith("\n") else "\n") + "".join(reversed(added))
        return text


def _diag(span: Span | None, file: str, path: str, message: str, offset: int = 0) -> Diagnostic:
    if span is None:
        return Diagnostic(file, 1, 1, path, message)
    quote = 1 if span.style in ("'", '"') else 0
    return Diagnostic(file, span.line, span.col + quote + offset, path, message)


_KEYS = ("name", "base", "grid", "metrics", "x")


def load_sweep(path: str | os.PathLike[str]) -> SweepFile:
    """Read and check a sweep file and its base scenario; :class:`SweepError` (or the base's
    :class:`ScenarioError`) lists every problem, at its line and column."""
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise SweepError([Diagnostic(file, 1, 1, "", f"cannot read the file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise SweepError([Diagnostic(file, 1, 1, "", f"the file is not UTF-8 text (byte {exc.start})")]) from None
    try:
        data = load_marked(text, file)
    except ScenarioError as error:
        raise SweepError(error.diagnostics) from None
    if not isinstance(data, MarkedMap):
        raise SweepError([Diagnostic(file, 1, 1, "", "a sweep file is a mapping with base:, grid: and metrics:")])
    problems: list[Diagnostic] = []
    for key in data:
        if key not in _KEYS:
            problems.append(_diag(data.key_spans[key], file, "",
                                  f"unknown key '{key}'; a sweep file has {', '.join(_KEYS)}"))
    for key in ("base", "grid", "metrics"):
        if key not in data:
            problems.append(Diagnostic(file, data.span.line, data.span.col, "", f"'{key}:' is missing"))
    if problems:
        raise SweepError(problems)

    name = data.get("name", Path(file).stem)
    if not isinstance(name, str) or not name.strip():
        raise SweepError([_diag(data.value_spans["name"], file, "name", "the name is a line of text")])
    base_value = data["base"]
    if not isinstance(base_value, str) or not base_value:
        raise SweepError([_diag(data.value_spans["base"], file, "base", "the path of the base scenario file")])
    base = Path(file).parent / base_value
    try:
        base_text = base.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or ("not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc)
        raise SweepError([_diag(data.value_spans["base"], file, "base", f"cannot read {base}: {why}")]) from None
    from .scenario.loader import parse_scenario

    parse_scenario(base_text, str(base))  # a base that is wrong on its own: its own messages, exit 2
    base_data = load_marked(base_text, str(base))
    grid = _grid(data, file, base_data, problems)
    metrics = _metrics(data, file, {key.text for key in grid}, problems)
    x = _x(data, file, grid, problems)
    if problems:
        raise SweepError(problems)
    sweep = SweepFile(Path(file), name.strip(), base, base_text, grid, metrics, x, _slug(name) or Path(file).stem)
    if sweep.count() > MAX_POINTS:
        raise SweepError([_diag(data.key_spans["grid"], file, "grid",
                                f"{sweep.count():,} points; a sweep runs at most {MAX_POINTS:,}")])
    return sweep


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80]


def _grid(data: MarkedMap, file: str, base: object, problems: list[Diagnostic]) -> list[GridKey]:
    grid = data["grid"]
    if not isinstance(grid, MarkedMap) or not grid:
        problems.append(_diag(data.value_spans["grid"], file, "grid",
                              "a mapping of scenario fields to their values, e.g. links[0].loss: [0%, 5%]"))
        return []
    keys: list[GridKey] = []
    for text, raw in grid.items():
        where = grid.key_spans[text]
        try:
            steps = parse_path(text)
            parts, node = resolve(base, steps)
        except PathSyntaxError as exc:
            problems.append(_diag(where, file, "grid", f"{text}: {exc}", exc.offset))
            continue
        except LookupError as exc:
            if not _top_level_missing(base, steps):
                problems.append(_diag(where, file, "grid", f"{text}: not in the base scenario: {exc}"))
                continue
            parts, edit = (str(steps[0].value),), None  # added at the end of the base, as seed: 3
        else:
            edit = _edit(base, parts)
            if edit is None:
                problems.append(_diag(where, file, "grid", f"{text}: the base scenario has no value there to "
                                                            "change; write one there first"))
                continue
        overlap = next((k for k in keys if k.parts[: len(parts)] == parts or parts[: len(k.parts)] == k.parts), None)
        if overlap is not None:
            problems.append(_diag(where, file, "grid", f"{text}: overlaps the grid key {overlap.text}; keep one"))
            continue
        values = _values(raw, grid.value_spans[text], file, text, problems)
        if values:
            keys.append(GridKey(text, parts, values[0], values[1], values[2], edit))
    return keys


def _top_level_missing(base: object, steps: tuple[Step, ...]) -> bool:
    """A top-level key the base lacks (``seed``), which a line at the end of a block mapping adds."""
    return (len(steps) == 1 and steps[0].kind == "key" and isinstance(base, MarkedMap)
            and steps[0].value not in base and not base.span.source[base.span.start:].startswith("{"))


def _values(raw: object, span: Span, file: str, key: str,
            problems: list[Diagnostic]) -> tuple[tuple[object, ...], tuple[str, ...], tuple[Span, ...]] | None:
    """The values of a grid key: a list, ``A..B`` (whole numbers, inclusive) or one value."""
    if isinstance(raw, MarkedList):
        if not raw:
            problems.append(_diag(span, file, f"grid.{key}", "no values; write at least one"))
            return None
        shown = tuple(s.text if not isinstance(v, dict | list) else json.dumps(v) for v, s in zip(raw, raw.item_spans))
        return tuple(raw), shown, tuple(raw.item_spans)
    if isinstance(raw, str) and (match := _RANGE.match(raw)):
        low, high = int(match[1]), int(match[2])
        if high < low:
            problems.append(_diag(span, file, f"grid.{key}", f"{raw}: the range ends before it starts"))
            return None
        if high - low >= MAX_POINTS:
            problems.append(_diag(span, file, f"grid.{key}", f"{raw}: more than {MAX_POINTS:,} values"))
            return None
        values = tuple(range(low, high + 1))
        return values, tuple(map(str, values)), (span,) * len(values)
    return (raw,), (span.text if not isinstance(raw, dict | list) else json.dumps(raw),), (span,)


def _edit(base: object, parts: tuple[PathPart, ...]) -> tuple[int, int, str] | None:
    """Where the base text holds the value at ``parts``: [start:end] and what to keep after it.

    A block scalar, mapping or list ends after its last line (up to the next key's indentation),
    which the one-line value replacing it keeps. A key with no value (``key:``) has no place of its own: None, as for a missing key.
    """
    node: object = base
    span: Span | None = None
    for part in parts:
        if isinstance(node, MarkedMap):
            if node.value_spans[str(part)] is node.key_spans[str(part)]:
                return None
            span, node = node.value_spans[str(part)], node[str(part)]
        else:
            assert isinstance(node, MarkedList)
            span, node = node.item_spans[int(part)], node[int(part)]
    assert span is not None
    old = span.source[span.start : span.end]
    content = span.text  # without the line breaks, blank and comment lines a block node ends with
    suffix = old[len(content):] if old.startswith(content) else ""
    anchor = _ANCHOR.match(old)  # kept, so that its aliases see the new value
    return span.start + (anchor.end() if anchor else 0), span.end, suffix


def _metrics(data: MarkedMap, file: str, grid: set[str], problems: list[Diagnostic]) -> list[Metric]:
    metrics = data["metrics"]
    if not isinstance(metrics, MarkedMap) or not metrics:
        problems.append(_diag(data.value_spans["metrics"], file, "metrics",
                              "a mapping of names to result paths, e.g. throughput: flows[name=bulk].throughput"))
        return []
    out = []
    for name, raw in metrics.items():
        span = metrics.value_spans[name]
        if name in RESERVED or name in grid:
            what = "a grid key" if name in grid else "a column of the table"
            problems.append(_diag(metrics.key_spans[name], file, f"metrics.{name}", f"'{name}' is {what}; rename it"))
            continue
        if not isinstance(raw, str):
            problems.append(_diag(span, file, f"metrics.{name}", "a path into the run's results, e.g. flows[name=bulk].loss"))
            continue
        try:
            out.append(Metric(name, raw, parse_path(raw), span))
        except PathSyntaxError as exc:
            problems.append(_diag(span, file, f"metrics.{name}", f"{raw}: {exc}", exc.offset))
    return out


def _x(data: MarkedMap, file: str, grid: list[GridKey], problems: list[Diagnostic]) -> str | None:
    keys = [key.text for key in grid]
    if "x" in data:
        if data["x"] not in keys:
            problems.append(_diag(data.value_spans["x"], file, "x",
                                  f"{data['x']!r} is not a grid key; one of: {', '.join(keys)}"))
        return str(data["x"])
    return next((k for k in keys if k != "seed"), keys[0] if keys else None)


# --- running ------------------------------------------------------------------------------

def _simulate(text: str, filename: str) -> dict[str, Any]:
    """Run one point's scenario to its end; its result as plain data."""
    from .simulation import loads

    sim = loads(text, filename)
    try:
        sim.run(progress=False)
    finally:
        sim.close()
    return sim.result().to_dict()


def run_point(text: str, filename: str) -> dict[str, Any]:
    """What a worker does with a point: ``{"result": ...}`` or ``{"error": "..."}``; never raises,
    so one crashing run is a failed point and not a stopped sweep."""
    try:
        return {"result": _simulate(text, filename)}
    except ScenarioError as error:
        return {"error": str(error).replace("\n", "; ")}
    except Exception as error:  # noqa: BLE001 - a crash in one run is reported with that point
        return {"error": f"the run failed: {type(error).__name__}: {error}"}


@dataclass
class SweepResult:
    """The outcome of a sweep: ``points`` (one dict a point, as in points.json) and the files written."""

    name: str
    points: list[dict[str, Any]]
    grid: list[str] = field(default_factory=list)  # the grid keys, in the file's order
    files: list[Path] = field(default_factory=list)
    ran: int = 0  # points run this time (the others came from earlier runs or failed before running)
    reused: int = 0

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [p for p in self.points if p["status"] != "ok"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def frame(self):
        """The points as a pandas DataFrame (``pip install 'ipsecsim[notebook]'``)."""
        try:
            import pandas as pd  # type: ignore[import-untyped]
        except ImportError:
            raise ImportError("frame() needs pandas: pip install 'ipsecsim[notebook]'") from None
        return pd.DataFrame(self.points)


def _point_error(error: ScenarioError, sweep: SweepFile, values: dict[str, object], index: int) -> str:
    """The scenario's messages for a point; a problem with a grid value points at the sweep file."""
    lines = []
    for diag in error.diagnostics:
        key = next((k for k in sweep.grid if diag.path == format_path(k.parts)
                    or diag.path.startswith(format_path(k.parts) + ".")
                    or diag.path.startswith(format_path(k.parts) + "[")), None)
        if key is None:
            lines.append(str(diag))
            continue
        span = key.spans[key.values.index(values[key.text])] if values[key.text] in key.values else key.spans[0]
        where = _diag(span, str(sweep.path), "", "")
        lines.append(f"{where.file}:{where.line}:{where.col}: grid.{key.text}: {values[key.text]}: {diag.message}")
    return "; ".join(lines)


def _key(text: str) -> str:
    return hashlib.sha256(f"ipsecsim {__version__}\n{text}".encode()).hexdigest()[:24]


def _metric_values(result: dict[str, Any], sweep: SweepFile) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems = []
    for metric in sweep.metrics:
        try:
            _, value = resolve(result, metric.steps)
        except LookupError as exc:
            values[metric.name] = None
            d = _diag(metric.span, str(sweep.path), "", "")
            problems.append(f"{d.file}:{d.line}:{d.col}: metrics.{metric.name}: {metric.text}: {exc}")
            continue
        if isinstance(value, dict | list):
            values[metric.name] = None
            d = _diag(metric.span, str(sweep.path), "", "")
            problems.append(f"{d.file}:{d.line}:{d.col}: metrics.{metric.name}: {metric.text} is {_kind(value)}, "
                            "not a number; add a key or index")
            continue
        values[metric.name] = value
    return values, problems


def _executor(workers: int, dask: str | None):
    """``submit(fn, *args) -> future`` and ``done(futures) -> iterator`` for processes or Dask."""
    if dask is not None:
        try:
            from dask.distributed import Client, as_completed
        except ImportError:
            raise SweepOptionError("--dask: Dask is not installed: pip install 'ipsecsim[dask]'") from None
        try:
            client = Client(dask, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise SweepOptionError(f"--dask: cannot reach the Dask scheduler at {dask}: {exc}") from None
        return (lambda fn, *args: client.submit(fn, *args, pure=False)), as_completed, client.close
    # forkserver: no fork of a process that may run threads (tqdm's, a notebook's)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context)
    # Ctrl-C: stop at once; the runs already finished are saved and a new sweep goes on from them
    return pool.submit, concurrent.futures.as_completed, lambda: pool.shutdown(cancel_futures=True)


def run_sweep(path: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None, dask: str | None = None,
              workers: int | None = None, progress: bool | None = None) -> SweepResult:
    """Run every point of the sweep file at ``path`` not already done, write the table and plots.

    ``out``: the directory (default: beside the sweep file, named after the sweep). ``dask``: a
    scheduler address (``tcp://host:8786``) to run on a Dask cluster; else ``workers`` local
    processes (default: one per core; 1 runs the points in this process, one after the other).
    ``progress``: a bar on stderr; None shows it on a terminal or in a notebook.
    """
    sweep = load_sweep(path)
    directory = Path(out) if out is not None else sweep.path.parent / sweep.directory_name
    if workers is not None and workers < 1:
        raise SweepOptionError(f"--workers: {workers}: at least 1")
    runs = directory / "runs"
    try:
        runs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepOptionError(f"--out: cannot create {directory}: {exc.strerror or exc}") from None

    from .scenario.limits import limit_problems
    from .scenario.loader import parse_scenario

    rows: list[dict[str, Any]] = []
    todo: list[tuple[int, str, str]] = []  # row, key, text
    results: dict[str, dict[str, Any]] = {}
    queued: set[str] = set()
    base = str(sweep.base)
    for index, values, text in sweep.points():
        row: dict[str, Any] = {"point": index, **values}
        rows.append(row)
        try:
            scenario = parse_scenario(text, base)
            problems = limit_problems(scenario)
            if problems:
                raise ScenarioError(problems)
        except ScenarioError as error:
            row["error"] = _point_error(error, sweep, values, index)
            continue
        key = row["key"] = _key(text)
        if key not in results:
            saved = _load_run(runs / f"{key}.json")
            if saved is not None:
                results[key] = saved
            elif key not in queued:
                queued.add(key)
                todo.append((index, key, text))
    reused = len(results)
    if todo:
        _run_all(todo, base, runs, results, workers, dask, progress)
    for row in rows:
        _finish(row, results, sweep)
    outcome = SweepResult(sweep.name, rows, [k.text for k in sweep.grid], ran=len(todo), reused=reused)
    outcome.files = _write(sweep, rows, directory)
    return outcome


def _load_run(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())["result"]
    except (OSError, ValueError, KeyError, TypeError):  # absent, or cut short by a stopped sweep: run again
        return None


def _run_all(todo: list[tuple[int, str, str]], base: str, runs: Path, results: dict[str, dict[str, Any]],
             workers: int | None, dask: str | None, progress: bool | None) -> None:
    from .progress import _widgets, in_notebook, progress_wanted

    show = progress_wanted() if progress is None else progress
    if in_notebook() and _widgets():
        from tqdm.auto import tqdm  # type: ignore[import-untyped]
    else:
        from tqdm import tqdm  # type: ignore[import-untyped]

    bar = tqdm(total=len(todo), desc="points", unit="point", file=sys.stderr, disable=not show, leave=False,
               mininterval=0)  # a redraw a point: a point takes far longer than a redraw

    def keep(key: str, text: str, outcome: dict[str, Any]) -> None:
        if "result" in outcome:
            results[key] = outcome["result"]
            record = json.dumps({"key": key, "scenario": text, "result": outcome["result"]})
            partial = runs / f"{key}.json.part"
            partial.write_text(record)
            partial.replace(runs / f"{key}.json")  # whole or absent, even if the sweep is stopped
        else:
            results[key] = {"error": outcome["error"]}
        bar.update(1)

    try:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if dask is None and count == 1:
            for _, key, text in todo:
                keep(key, text, run_point(text, base))
            return
        submit, completed, close = _executor(min(count, len(todo)), dask)
        try:
            futures = {submit(run_point, text, base): (key, text) for _, key, text in todo}
            for future in completed(list(futures)):
                key, text = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # noqa: BLE001 - a worker that died: that point failed
                    outcome = {"error": f"the worker failed: {type(exc).__name__}: {exc}"}
                keep(key, text, outcome)
        finally:
            close()
    finally:
        bar.close()


def _finish(row: dict[str, Any], results: dict[str, dict[str, Any]], sweep: SweepFile) -> None:
    """Fill a row's metrics, ok, status and error, in the table's column order."""
    result = results.get(row.get("key", ""), {})
    error = row.pop("error", None) or result.get("error")
    key = row.pop("key", None)
    values: dict[str, Any] = {m.name: None for m in sweep.metrics}
    if error is None:
        values, problems = _metric_values(result, sweep)
        if problems:
            error = "; ".join(problems)
    row.update(values)
    row["ok"] = None if "expectations" not in result else all(e["holds"] for e in result["expectations"])
    row["status"] = "failed" if error else "ok"
    row["error"] = error
    row["key"] = key


# --- output -------------------------------------------------------------------------------

def _write(sweep: SweepFile, rows: list[dict[str, Any]], directory: Path) -> list[Path]:
    columns = ["point", *(k.text for k in sweep.grid), *(m.name for m in sweep.metrics), *RESERVED[1:]]
    table = directory / "points.csv"
    with open(table, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else json.dumps(row[c]) if isinstance(row[c], dict | list)
                             else row[c] for c in columns])
    document = {
        "format": FORMAT, "name": sweep.name, "base": sweep.base.name,
        "grid": {k.text: list(k.values) for k in sweep.grid}, "metrics": {m.name: m.text for m in sweep.metrics},
        "x": sweep.x, "points": rows,
    }
    points = directory / "points.json"
    points.write_text(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n")
    return [table, points, *write_plots(sweep, rows, directory)]


def _numbers(values: Sequence[object]) -> tuple[list[float], str] | None:
    """The x values as numbers and the axis unit, when they all read as one kind of quantity."""
    from .scenario.units import UnitError, parse_duration, parse_percent, parse_rate, parse_size

    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], ""  # type: ignore[arg-type]
    if not all(isinstance(v, str) for v in values):
        return None
    parsers: list[tuple[Callable[[object], float], float, str]] = [
        (parse_percent, 100.0, "%"), (parse_duration, 1.0, "s"), (parse_rate, 1.0, "bit/s"), (parse_size, 1.0, "bytes")]
    for parse, scale, unit in parsers:
        try:
            return [parse(v) * scale for v in values], unit
        except (UnitError, ValueError, TypeError):
            continue
    return None


def _interval(samples: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% confidence interval (Student t); 0 for one sample."""
    mean = statistics.fmean(samples)
    if len(samples) < 2:
        return mean, 0.0
    from scipy.stats import t

    return mean, float(t.ppf(0.975, len(samples) - 1)) * statistics.stdev(samples) / math.sqrt(len(samples))


def metric_figure(sweep: SweepFile, rows: list[dict[str, Any]], metric: Metric):
    """The metric against the x parameter: the mean over the other points of each series (seeds),
    its 95% interval as a band, one line per combination of the other grid keys."""
    from .report.plots import _figure, _legend

    assert sweep.x is not None
    xkey = next(k for k in sweep.grid if k.text == sweep.x)
    others = [k for k in sweep.grid if k.text not in (sweep.x, "seed")]
    axis = _numbers(xkey.values)
    positions = axis[0] if axis else [float(i) for i in range(len(xkey.values))]
    fig = _figure()
    ax = fig.add_subplot()
    several = False
    for combo in itertools.product(*(range(len(k.values)) for k in others)):
        chosen = {k.text: k.values[i] for k, i in zip(others, combo)}
        xs, means, lows, highs = [], [], [], []
        for position, value in zip(positions, xkey.values):
            samples = [float(r[metric.name]) for r in rows
                       if r["status"] == "ok" and r[xkey.text] == value and all(r[k] == v for k, v in chosen.items())
                       and isinstance(r[metric.name], int | float) and math.isfinite(r[metric.name])]
            if not samples:
                continue
            mean, half = _interval(samples)
            several = several or len(samples) > 1
            xs.append(position)
            means.append(mean)
            lows.append(mean - half)
            highs.append(mean + half)
        label = ", ".join(f"{k}={v}" for k, v in chosen.items()) or "mean"
        (line,) = ax.plot(xs, means, marker="o", label=label)
        if any(h > lo for lo, h in zip(lows, highs)):
            ax.fill_between(xs, lows, highs, color=line.get_color(), alpha=0.2, linewidth=0)
    if not axis:
        ax.set_xticks(positions, [str(s) for s in xkey.shown])
    unit = f" ({axis[1]})" if axis and axis[1] else ""
    ax.set_xlabel(f"{xkey.text}{unit}")
    ax.set_ylabel(f"{metric.name} ({metric.text})")
    title = textwrap.wrap(f"{sweep.name}: {metric.name} against {xkey.text}", 90)
    if several:
        title.append("mean over the seeds, band: its 95% confidence interval (Student t)")
    ax.set_title("\n".join(title), fontsize=10)
    ax.grid(True, alpha=0.3)
    _legend(ax)
    return fig


def write_plots(sweep: SweepFile, rows: list[dict[str, Any]], directory: Path) -> list[Path]:
    """``<metric>.png`` and ``.svg`` for each metric, with no date in them (same points, same bytes)."""
    import matplotlib

    written = []
    with matplotlib.rc_context({"svg.hashsalt": "ipsecsim", "svg.fonttype": "path"}):
        for metric in sweep.metrics:
            fig = metric_figure(sweep, rows, metric)
            stem = re.sub(r"[^\w.-]+", "_", metric.name)
            png, svg = directory / f"{stem}.png", directory / f"{stem}.svg"
            fig.savefig(png, dpi=100, metadata={"Software": None})
            fig.savefig(svg, metadata={"Date": None, "Creator": None})
            written += [png, svg]
    return written
