"""The package type-checks with mypy (its configuration is pyproject.toml's [tool.mypy]).

Contracts between the layers (what the kernel returns, what a command is handed) are only
kept if a checker reads them: this runs it as part of the suite, so CI fails on a new error.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_type_checks(tmp_path):
    from mypy import api

    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                      "--cache-dir", str(tmp_path / "mypy_cache"), str(ROOT / "ipsecsim")])
    assert status == 0, stdout + stderr


def test_no_module_is_excused():
    """Every module is checked: no ``ignore_errors`` override in pyproject.toml."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    excused = [override["module"] for override in config.get("overrides", []) if override.get("ignore_errors")]
    assert not excused, f"pyproject.toml excuses modules from type checking: {excused}"
