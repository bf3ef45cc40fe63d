"""Execute a lab notebook headless, as a student would, optionally with the exercises answered.

    lines = run_notebook(NOTEBOOKS / "01_first_tunnel.ipynb", {"Exercise 1": "140"})
    assert "Exercise 1: correct (140)." in lines

The notebook runs in a real Jupyter kernel (nbclient, ipykernel) from the notebooks folder,
so relative paths such as ``../scenarios/...`` resolve as they do for a student. The kernel
imports the ipsecsim of this checkout: the repository root goes first on its PYTHONPATH.

An exercise is a markdown question, a cell holding ``answer = None  # your answer: ...``
and a checking cell calling ``check("Exercise N", answer, ...)``. ``answers`` maps
``"Exercise N"`` to a Python expression; the ``answer = None`` line of the nearest code cell
above that checking cell becomes ``answer = <expression>``. A label that matches no checking
cell, or a checking cell with no ``answer = None`` line above it, is an error (a renamed
exercise must not turn its test into one that cannot fail).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

__all__ = ["CELL_TIMEOUT", "NOTEBOOKS", "REPO", "answered", "run_notebook"]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
CELL_TIMEOUT = 60  # seconds: a lab runs top to bottom in under 60 s, so any one cell does too

_ANSWER_LINE = re.compile(r"^answer\s*=\s*None\b.*$", re.MULTILINE)


def _check_call(label: str) -> re.Pattern[str]:
    return re.compile(r"check\(\s*['\"]" + re.escape(label) + r"['\"]")


def answered(notebook: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose exercises' ``answer = None`` lines hold ``answers``."""
    notebook = nbformat.from_dict(notebook)  # a deep copy: the caller's stays as read
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for label, expression in answers.items():
        checking = [i for i, cell in enumerate(code) if _check_call(label).search(cell.source)]
        if len(checking) != 1:
            raise ValueError(f"{label!r}: {len(checking)} cells call check({label!r}, ...); expected exactly one")
        above = next((cell for cell in reversed(code[:checking[0] + 1]) if _ANSWER_LINE.search(cell.source)), None)
        if above is None:
            raise ValueError(f"{label!r}: no 'answer = None' line above its checking cell")
        above.source = _ANSWER_LINE.sub(lambda _: f"answer = {expression}", above.source, count=1)
    return notebook


def run_notebook(path: str | Path, answers: dict[str, str] | None = None, *,
                 timeout: int = CELL_TIMEOUT) -> list[str]:
    """Run every cell of the notebook at ``path`` in order; return the lines its cells printed.

    Raises nbclient's ``CellExecutionError`` (the cell's source and traceback in its message)
    at the first cell that fails, and ``TimeoutError`` past ``timeout`` seconds in one cell.
    Only stdout streams are returned: print(), ``check`` lines, shell output printed.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    if answers:
        notebook = answered(notebook, answers)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env, cwd=str(path.parent))
    lines: list[str] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                lines.extend(output.get("text", "").splitlines())
    return lines
