"""Read a scenario file: YAML with line marks -> schema -> whole-scenario checks.

Each stage reports every problem it finds; a later stage runs only when the earlier ones
found nothing (a cross-reference check on a value that did not parse would only add noise).
"""

from __future__ import annotations

import os

from pydantic import ValidationError

from .checks import complete
from .diagnose import diagnostics_from
from .errors import Diagnostic, ScenarioError
from .models import Scenario
from .yamlmarks import MarkedMap, load_marked

__all__ = ["load_scenario", "parse_scenario"]


def parse_scenario(text: str, filename: str = "<string>") -> Scenario:
    """Validate scenario ``text``; ``filename`` is only used in messages and positions.

    Raises :class:`ScenarioError` with every problem found.
    """
    data = load_marked(text, filename)
    if not isinstance(data, MarkedMap):
        line = getattr(getattr(data, "span", None), "line", 1)
        what = "empty" if data is None else "not a mapping"
        raise ScenarioError([Diagnostic(filename, line, 1, "", f"the file is {what}; a scenario starts with keys such as name: and duration:")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(diagnostics_from(exc, data, filename, Scenario)) from None
    scenario, problems = complete(scenario)
    if problems:
        raise ScenarioError(problems)
    return scenario


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate the scenario file at ``path``. Raises :class:`ScenarioError`.

    A file that cannot be read (missing, not UTF-8) is reported the same way, at line 1.
    """
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ScenarioError([Diagnostic(name, 1, 1, "", f"cannot read the file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([Diagnostic(name, 1, 1, "", f"the file is not UTF-8 text (byte {exc.start})")]) from None
    return parse_scenario(text, name)
