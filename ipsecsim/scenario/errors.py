"""What a bad scenario file produces: diagnostics that point into the file.

A :class:`Diagnostic` is one problem at one place; :class:`ScenarioError` carries every
problem the loader found, so a student fixes them all in one round. ``str(error)`` is one
line per diagnostic, ``FILE:LINE:COL: path.to.field: what is wrong``, the form compilers
use and editors jump to. Lines and columns are 1-based.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Diagnostic", "ScenarioError", "format_path"]

PathPart = str | int


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a scenario file, at the value (or key) that causes it."""

    file: str
    line: int
    col: int
    path: str  # e.g. "links[0].bandwidth"; "" when the problem has no field (YAML syntax)
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        if self.path:
            return f"{where}: {_one_line(self.path)}: {_one_line(self.message)}"
        return f"{where}: {_one_line(self.message)}"


def _one_line(text: str) -> str:
    """Show invisible characters from the file (a newline in a key, a tab) as escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``diagnostics`` lists every problem found.

    The diagnostics are sorted by position in the file. ``str()`` gives one line each.
    """

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        diags = tuple(sorted(diagnostics, key=lambda d: (d.file, d.line, d.col, d.path)))
        if not diags:
            raise ValueError("ScenarioError needs at least one diagnostic")
        self.diagnostics: tuple[Diagnostic, ...] = diags
        super().__init__("\n".join(str(d) for d in diags))

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


def format_path(parts: Sequence[PathPart]) -> str:
    """``("links", 0, "bandwidth")`` -> ``"links[0].bandwidth"``.

    Keys that are not plain words (``hosts."my host"``) are quoted so the path stays readable.
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = str(part)
        if not text or not all(ch.isalnum() or ch in "_-" for ch in text):
            text = '"' + text.replace('"', '\\"') + '"'
        out += f".{text}" if out else text
    return out
