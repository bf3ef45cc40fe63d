"""Run a lab notebook with its exercises answered, and collect what the cells printed.

A stand-in until the shared runner (``tests/labs/runner.py``) lands: the code cells run in
order in one namespace, from the notebooks folder, as ``tests/test_notebooks.py`` runs them,
with the i-th ``answer = None`` cell replaced by ``answer = <answers[i]>``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

_ANSWER = re.compile(r"^answer = None\b")


def run_notebook(path: Path, answers: list[str]) -> str:
    """Everything the notebook's cells printed, with ``answers`` filled in, in order."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    slots = [i for i, c in enumerate(cells) if _ANSWER.match("".join(c["source"]))]
    assert len(slots) == len(answers), f"{path.name} has {len(slots)} answer cells, {len(answers)} answers given"
    sources = ["".join(c["source"]) for c in cells]
    for slot, expression in zip(slots, answers):
        sources[slot] = f"answer = {expression}\n"
    out = io.StringIO()
    namespace: dict = {}
    here = os.getcwd()
    os.chdir(path.parent)
    try:
        with contextlib.redirect_stdout(out):
            for number, source in enumerate(sources):
                exec(compile(source, f"{path.name} cell {number}", "exec"), namespace)
    finally:
        os.chdir(here)
        import matplotlib.pyplot as plt

        plt.close("all")
    return out.getvalue()
