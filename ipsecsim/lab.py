"""What the teaching labs need: answers checked with clear feedback, and terminal-like output.

A lab's exercise ends with a checking cell::

    answer = None  # your answer: the length of the ESP packet on em0, in bytes
    check("Exercise 1", answer, expected=esp_length, hint="20 (outer IP) + 8 (SPI, seq) + IV + ...")

The expected value is computed from the simulation in the cell before, never typed in, so
the check holds for whatever seed or scenario the student runs. :func:`check` prints one
line (and returns whether the answer holds); it never raises, so a notebook runs top to
bottom before anyone has answered.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["ShellOutput", "check"]


class ShellOutput(str):
    """What ``sim.host("A").sh(...)`` returns: a ``str`` that Jupyter and the Python prompt
    show as the terminal would, without quotes or ``\\n``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self).rstrip("\n")

    def _repr_html_(self) -> str:
        from html import escape

        return f'<pre style="margin:0">{escape(str(self))}</pre>'


def _matches(given: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(expected, bool) or isinstance(given, bool):
        return isinstance(given, bool) and isinstance(expected, bool) and given == expected
    if isinstance(expected, (int, float)) and isinstance(given, (int, float)):
        if math.isnan(float(given)):
            return False
        return abs(float(given) - float(expected)) <= tolerance * max(1.0, abs(float(expected)))
    if isinstance(expected, str) and isinstance(given, str):
        return given.strip().lower() == expected.strip().lower()
    if isinstance(expected, (set, frozenset)):
        try:
            return set(given) == set(expected)
        except TypeError:
            return False
    return bool(given == expected)


def check(label: str, given: Any, expected: Any, *, hint: str = "", tolerance: float = 0.0) -> bool:
    """Compare a student's answer with the value the simulation gives, and say so in one line.

    ``tolerance`` is relative (0.05: within 5%) for numbers; strings compare without case
    or surrounding spaces; sets compare without order. ``None`` means "not answered yet".
    """
    if given is None or given is ...:
        print(f"{label}: not answered yet. Put your answer in the cell above and run both cells again.")
        return False
    if _matches(given, expected, tolerance):
        print(f"{label}: correct ({given!r}).")
        return True
    line = f"{label}: not quite. You answered {given!r}."
    if hint:
        line += f" Hint: {hint}"
    print(line)
    return False
