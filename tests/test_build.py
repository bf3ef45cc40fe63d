"""The optional compiled build: setup.py's module list, and which build this run tests.

CI runs the suite twice, pure Python and then compiled (.ci/run); IPSECSIM_EXPECT_BUILD tells
this test which, so that a build step that silently did nothing cannot pass for the other.
"""

import ast
import os
from pathlib import Path

from click.testing import CliRunner

from ipsecsim.buildinfo import build_name, compiled_modules
from ipsecsim.cli import main

ROOT = Path(__file__).resolve().parent.parent


def setup_modules() -> list[str]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED_MODULES":
            return list(ast.literal_eval(node.value))
    raise AssertionError("setup.py has no COMPILED_MODULES list")


def test_setup_compiles_modules_that_exist_and_never_the_package_inits():
    listed = setup_modules()
    assert listed == sorted(set(listed), key=listed.index)  # no duplicates
    for path in listed:
        assert (ROOT / path).is_file(), path
        assert not path.endswith("__init__.py"), path


def test_the_build_under_test_is_all_or_nothing_and_the_one_expected():
    listed = sorted(path.removesuffix(".py").replace("/", ".") for path in setup_modules())
    compiled = compiled_modules()
    expected = os.environ.get("IPSECSIM_EXPECT_BUILD")
    if expected == "compiled":
        assert compiled == listed
    elif expected == "pure":
        assert compiled == []
    else:  # a partial build would test a mixture nobody ships
        assert compiled in ([], listed)


def test_version_names_the_build():
    result = CliRunner().invoke(main, ["--version"], prog_name="ipsecsim")
    assert result.exit_code == 0
    assert result.output.startswith("ipsecsim 0.")
    assert f"({build_name()})" in result.output
