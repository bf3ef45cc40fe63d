"""Quantities as people write them: ``10ms``, ``100Mbit/s``, ``64KB``, ``5%``.

Each parser takes what YAML produced (a ``str``, or an ``int``/``float`` for a bare number)
and returns SI units: seconds, bits per second, whole bytes, or a fraction 0..1. A value it
cannot read raises :class:`UnitError` whose message quotes the value and shows how to write
it, e.g. ``'10 Mbps' is not a rate; write it like 10Mbit/s``. Only a bare ``0`` may go
without a unit (except for sizes, where a bare whole number is bytes).

No pydantic here: the CLI (``--duration 5s``) and the shell use the same parsers.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "UnitError",
    "describe",
    "format_duration",
    "format_rate",
    "format_size",
    "parse_duration",
    "parse_percent",
    "parse_rate",
    "parse_size",
]


class UnitError(ValueError):
    """A quantity with a missing, unknown or out-of-range unit. ``str()`` is for a student."""


_NUMBER = re.compile(r"\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>.*?)\s*")

# unit -> (multiply, divide): dividing by 1000 keeps 100us exactly 1e-4 where * 1e-6 would not
DURATION_UNITS = {
    "ns": (1, 10**9), "us": (1, 10**6), "µs": (1, 10**6), "μs": (1, 10**6), "ms": (1, 1000),
    "s": (1, 1), "min": (60, 1), "h": (3600, 1),
}  # fmt: skip
RATE_UNITS = {"bit/s": 1.0, "Kbit/s": 1e3, "kbit/s": 1e3, "Mbit/s": 1e6, "Gbit/s": 1e9}
SIZE_UNITS = {"B": 1, "KB": 1000, "kB": 1000, "MB": 1000**2, "GB": 1000**3, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}

# Spellings people reach for, and the unit we want instead (matched case-insensitively).
_DURATION_HINTS = {
    "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "msec": "ms", "msecs": "ms", "millisecond": "ms", "milliseconds": "ms",
    "usec": "us", "usecs": "us", "microsecond": "us", "microseconds": "us",
    "nsec": "ns", "nsecs": "ns", "nanosecond": "ns", "nanoseconds": "ns",
    "mins": "min", "minute": "min", "minutes": "min", "hr": "h", "hour": "h", "hours": "h",
}  # fmt: skip
_RATE_HINTS = {
    "bps": "bit/s", "b/s": "bit/s", "bit": "bit/s", "bits/s": "bit/s", "bit/sec": "bit/s",
    "kbps": "Kbit/s", "kbit": "Kbit/s", "kbits/s": "Kbit/s", "kb/s": "Kbit/s",
    "mbps": "Mbit/s", "mbit": "Mbit/s", "mbits/s": "Mbit/s", "mb/s": "Mbit/s",
    "gbps": "Gbit/s", "gbit": "Gbit/s", "gbits/s": "Gbit/s", "gb/s": "Gbit/s",
}  # fmt: skip
_BYTE_RATES = {"B/s": 8.0, "KB/s": 8e3, "kB/s": 8e3, "MB/s": 8e6, "GB/s": 8e9}
_SIZE_HINTS = {"byte": "B", "bytes": "B", "k": "KB", "kbyte": "KB", "kbytes": "KB", "m": "MB", "mbyte": "MB", "mbytes": "MB"}


def describe(value: object) -> str:
    """How a YAML value reads in a message: strings quoted, numbers bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value"
    if isinstance(value, str):  # invisible characters (a newline, a tab) shown as escapes
        shown = value if value.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)
        return "'" + shown + "'"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _split(value: object) -> tuple[float, str] | None:
    """``"1.5 Mbit/s"`` -> ``(1.5, "Mbit/s")``; bare numbers give unit ``""``; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return (float(value), "") if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    m = _NUMBER.fullmatch(value)
    if m is None or not math.isfinite(float(m["num"])):
        return None
    return float(m["num"]), m["unit"]


def _finite(value: object, result: float) -> float:
    if not math.isfinite(result):
        raise UnitError(f"{describe(value)} is too large")
    return result


def _hint(unit: str, units: dict, hints: dict) -> str | None:
    """The canonical unit a misspelling means, or ``None``."""
    low = unit.lower()
    for canonical in units:
        if canonical.lower() == low:
            return canonical
    return hints.get(low)


def _num(number: float) -> str:
    return f"{number:.12g}"


def parse_duration(value: object) -> float:
    """``"10ms"`` -> ``0.01`` seconds. Units: ns, us (µs), ms, s, min, h. A bare ``0`` is 0."""
    split = _split(value)
    if split is None:
        raise UnitError(f"{describe(value)} is not a duration; write it like 10ms or 1.5s")
    number, unit = split
    if not unit:
        if number == 0:
            return 0.0
        raise UnitError(f"{describe(value)} has no unit; write a unit, e.g. {_num(number)}ms or {_num(number)}s")
    scale = DURATION_UNITS.get(unit)
    if scale is None:
        if unit.lower() == "m":
            raise UnitError(f"{describe(value)} is ambiguous; write {_num(number)}min or {_num(number)}ms")
        good = _hint(unit, DURATION_UNITS, _DURATION_HINTS)
        if good:
            raise UnitError(f"{describe(value)} is not a duration; write it like {_num(number)}{good}")
        raise UnitError(f"{describe(value)} is not a duration; use ns, us, ms, s or min, e.g. 10ms")
    if number < 0:
        raise UnitError(f"{describe(value)} is negative; a duration is 0 or more")
    multiply, divide = scale
    return _finite(value, number * multiply / divide)


def parse_rate(value: object) -> float:
    """``"10Mbit/s"`` -> ``1e7`` bit/s. Units: bit/s, Kbit/s (kbit/s), Mbit/s, Gbit/s (x1000)."""
    split = _split(value)
    if split is None:
        raise UnitError(f"{describe(value)} is not a rate; write it like 10Mbit/s")
    number, unit = split
    if not unit:
        if number == 0:
            return 0.0
        raise UnitError(f"{describe(value)} has no unit; write a unit, e.g. {format_rate(number)}")
    scale = RATE_UNITS.get(unit)
    if scale is None:
        if unit in _BYTE_RATES:
            bits = _num(number * _BYTE_RATES[unit] / 1e6)
            raise UnitError(f"{describe(value)} is bytes per second; rates are in bits, write {bits}Mbit/s")
        good = _hint(unit, RATE_UNITS, _RATE_HINTS)
        if good:
            raise UnitError(f"{describe(value)} is not a rate; write it like {_num(number)}{good}")
        raise UnitError(f"{describe(value)} is not a rate; use bit/s, Kbit/s, Mbit/s or Gbit/s, e.g. 10Mbit/s")
    if number < 0:
        raise UnitError(f"{describe(value)} is negative; a rate is 0 or more")
    return _finite(value, number * scale)


def parse_size(value: object) -> int:
    """``"64KB"`` -> ``64000`` bytes. Units: B, KB (1000), MB, GB, KiB (1024), MiB, GiB; a bare integer is bytes."""
    split = _split(value)
    if split is None:
        raise UnitError(f"{describe(value)} is not a size; write it like 1500B or 64KB")
    number, unit = split
    scale = SIZE_UNITS.get(unit) if unit else 1
    if scale is None:
        good = _hint(unit, SIZE_UNITS, _SIZE_HINTS)
        if good:
            raise UnitError(f"{describe(value)} is not a size; write it like {_num(number)}{good}")
        raise UnitError(f"{describe(value)} is not a size; use B, KB, MB, KiB or MiB, e.g. 64KB")
    if number < 0:
        raise UnitError(f"{describe(value)} is negative; a size is 0 or more")
    size = _finite(value, number * scale)
    if size != int(size):
        raise UnitError(f"{describe(value)} is not a whole number of bytes")
    return int(size)


def parse_percent(value: object) -> float:
    """``"5%"`` -> ``0.05``. Between 0% and 100%; a bare ``0`` is 0."""
    split = _split(value)
    if split is None:
        raise UnitError(f"{describe(value)} is not a percentage; write it like 5% or 0.5%")
    number, unit = split
    if not unit:
        if number == 0:
            return 0.0
        raise UnitError(f"{describe(value)} has no % sign; write it like {_num(number)}%")
    if unit != "%":
        raise UnitError(f"{describe(value)} is not a percentage; write it like 5% or 0.5%")
    if number < 0:
        raise UnitError(f"{describe(value)} is negative; a percentage is between 0% and 100%")
    if number > 100:
        raise UnitError(f"{describe(value)} is more than 100%; a percentage is between 0% and 100%")
    return number / 100.0


def format_duration(seconds: float) -> str:
    """``0.01`` -> ``"10ms"``: the largest unit that keeps the number at 1 or more."""
    if seconds == 0:
        return "0s"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.6g}{unit}"
    return f"{seconds / 1e-9:.6g}ns"


def format_rate(bps: float) -> str:
    """``1e7`` -> ``"10Mbit/s"``."""
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("Kbit/s", 1e3)):
        if abs(bps) >= scale:
            return f"{bps / scale:.6g}{unit}"
    return f"{bps:.6g}bit/s"


def format_size(nbytes: float) -> str:
    """``64000`` -> ``"64KB"``; sizes that are not round thousands stay in bytes."""
    for unit, scale in (("GB", 1000**3), ("MB", 1000**2), ("KB", 1000)):
        if nbytes >= scale and nbytes % scale == 0:
            return f"{int(nbytes // scale)}{unit}"
    return f"{nbytes:g}B"
