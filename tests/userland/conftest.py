"""The ``golden`` fixture: compare output with tests/golden/NAME exactly, or rewrite it
when pytest runs with ``--update-golden``."""

from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


@pytest.fixture
def golden(request):
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            return
        assert path.exists(), f"no golden file {path}; run pytest --update-golden to create it"
        assert text == path.read_text(), f"output differs from {path} (pytest --update-golden rewrites it)"

    return check
