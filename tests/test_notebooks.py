"""Every notebook runs top to bottom in a real Jupyter kernel, and none is committed with outputs.

Each notebook runs headless with nbclient from the notebooks folder (as a student opens it),
``CELL_TIMEOUT`` seconds at most per cell; a failing cell fails the test with its source and
traceback. The labs' answers are checked in tests/labs/test_lab_NN.py.
"""

import json

import pytest

from tests.labs.runner import NOTEBOOKS, run_notebook

PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_there_are_notebooks():
    assert PATHS, f"no notebooks in {NOTEBOOKS}"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_top_to_bottom(path):
    lines = run_notebook(path)
    # Committed notebooks leave every exercise unanswered; the checks say so rather than fail.
    assert not any(": not quite." in line for line in lines), "\n".join(lines)


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    assert notebook.get("nbformat") == 4
    assert notebook.get("metadata", {}).get("kernelspec", {}).get("name") == "python3"
    dirty = [i for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: code cells {dirty} carry outputs or execution counts; clear them "
                       "(jupyter nbconvert --clear-output --inplace) before committing")
