"""The right-hand side of an ``expect:`` measure: ``5``, ``">= 99%"``, ``"< 5ms"``.

A bare number means ``==``. The value carries the unit of its measure (a duration for
``rtt_avg``, a rate for ``throughput``, a percentage for ``loss``...) and is kept in SI
units, percentages as fractions, so it compares directly with what a run measured.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from .units import UnitError, describe, parse_duration, parse_percent, parse_rate, parse_size

__all__ = ["UNIT_KINDS", "Comparison", "parse_comparison"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_TYPOS = {"=>": ">=", "=<": "<=", "=": "==", "<>": "!=", "=!": "!="}
_SPLIT = re.compile(r"\s*(?P<op>[<>=!]+)?\s*(?P<rest>.*?)\s*", re.S)


def _count(value: object) -> float:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise UnitError(f"{describe(value)} is not a number; counts are plain numbers") from None
    else:
        number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise UnitError(f"{describe(value)} is not a number; counts are plain numbers")
    return number


# unit kind -> (parser of the value, an example a message can show)
UNIT_KINDS: dict[str, tuple[Callable[[object], float], str]] = {
    "count": (_count, ">= 4"),
    "bytes": (parse_size, "> 1MB"),
    "duration": (parse_duration, "< 5ms"),
    "rate": (parse_rate, ">= 9Mbit/s"),
    "percent": (parse_percent, "<= 1%"),
}


@dataclass(frozen=True, slots=True)
class Comparison:
    """``op value`` with ``value`` in SI units (seconds, bit/s, bytes, fraction 0..1).

    ``text`` is the comparison as the scenario wrote it, operator included (``"== 5"``),
    for reports such as ``received == 5: got 4``.
    """

    op: str
    value: float
    unit_kind: str
    text: str

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown comparison operator {self.op!r}")
        if self.unit_kind not in UNIT_KINDS:
            raise ValueError(f"unknown unit kind {self.unit_kind!r}")

    def holds(self, actual: float) -> bool:
        """Whether the measured ``actual`` satisfies the comparison; NaN (nothing measured) never does."""
        if isinstance(actual, float) and math.isnan(actual):
            return False
        if self.op in ("==", "!="):
            equal = math.isclose(actual, self.value, rel_tol=1e-9, abs_tol=1e-12)
            return equal if self.op == "==" else not equal
        return _OPS[self.op](actual, self.value)

    def __str__(self) -> str:
        return self.text


def parse_comparison(value: object, unit_kind: str) -> Comparison:
    """Read ``5`` or ``">= 99%"`` for a measure of ``unit_kind``; raise :class:`UnitError` if unreadable."""
    parse, example = UNIT_KINDS[unit_kind]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UnitError(f"{describe(value)} is not a comparison; write a number or a string like '{example}'")
    if not isinstance(value, str):
        return Comparison("==", float(parse(value)), unit_kind, f"== {describe(value)}")
    m = _SPLIT.fullmatch(value)
    assert m is not None  # the pattern matches any string
    op, rest = m["op"] or "==", m["rest"]
    if op not in _OPS:
        fix = f"; write {_TYPOS[op]}" if op in _TYPOS else ""
        raise UnitError(f"{describe(value)}: {op} is not a comparison operator (use ==, !=, <, <=, >, >=){fix}")
    if not rest:
        raise UnitError(f"{describe(value)} has nothing to compare with; write it like '{example}'")
    try:
        number = parse(rest)
    except UnitError as exc:
        if unit_kind == "count":
            raise UnitError(f"{describe(value)} is not a comparison; write it like '{example}'") from None
        raise UnitError(f"{describe(value)}: {exc}") from None
    return Comparison(op, float(number), unit_kind, f"{op} {rest}")
