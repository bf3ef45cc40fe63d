"""The lab runner: answers go where the exercise's checking cell reads them; failures surface."""

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from tests.labs.runner import answered, run_notebook


def _notebook(*sources: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                  "language": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return notebook


EXERCISES = ("from ipsecsim.lab import check\nexpected = 6 * 7",
             "answer = None  # your answer: six times seven",
             'check("Exercise 1", answer, expected)',
             "answer = None  # your answer: the word",
             "check('Exercise 2', answer, 'ESP')")


def test_answers_replace_the_none_line_above_each_checking_cell():
    notebook = _notebook(*EXERCISES)
    filled = answered(notebook, {"Exercise 2": "'esp'", "Exercise 1": "42"})
    assert filled.cells[1].source == "answer = 42"
    assert filled.cells[3].source == "answer = 'esp'"
    assert notebook.cells[1].source.startswith("answer = None")  # the original is untouched


def test_an_answer_for_no_exercise_is_an_error():
    with pytest.raises(ValueError, match="Exercise 3"):
        answered(_notebook(*EXERCISES), {"Exercise 3": "1"})
    with pytest.raises(ValueError, match="no 'answer = None'"):
        answered(_notebook('check("Exercise 1", 1, 1)'), {"Exercise 1": "1"})


def test_run_notebook_returns_what_the_cells_printed(tmp_path):
    path = tmp_path / "lab.ipynb"
    nbformat.write(_notebook(*EXERCISES, "import os; print(os.getcwd())"), path)
    unanswered = run_notebook(path)
    assert unanswered[0].startswith("Exercise 1: not answered yet")
    assert unanswered[-1] == str(tmp_path)  # the kernel runs from the notebook's folder
    lines = run_notebook(path, {"Exercise 1": "42", "Exercise 2": "'esp'"})
    assert lines[:2] == ["Exercise 1: correct (42).", "Exercise 2: correct ('esp')."]
    assert run_notebook(path, {"Exercise 1": "41"})[0].startswith("Exercise 1: not quite.")


def test_run_notebook_fails_with_the_cells_traceback(tmp_path):
    path = tmp_path / "broken.ipynb"
    nbformat.write(_notebook("x = 1", "1 / 0"), path)
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        run_notebook(path)
