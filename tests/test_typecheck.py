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


def test_the_list_of_modules_with_known_errors_only_shrinks():
    """Each module excused in pyproject.toml still exists (a renamed module is no excuse)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    excused = [name for override in config if override.get("ignore_errors") for name in override["module"]]
    missing = [name for name in excused if not (ROOT / (name.replace(".", "/") + ".py")).exists()]
    assert not missing, f"pyproject.toml excuses modules that do not exist: {missing}"
