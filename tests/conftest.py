"""Options shared by the whole suite."""

import pytest

from ipsecsim.buildinfo import build_name, compiled_modules

COMPILED = bool(compiled_modules())


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.txt from the current output instead of comparing")


def pytest_report_header(config):
    return f"ipsecsim build: {build_name()}"


def pytest_collection_modifyitems(config, items):
    if not COMPILED:
        return
    skip = pytest.mark.skip(reason="replaces methods or attributes of kernel objects to spy on them; "
                                   "compiled classes do not allow that (the pure-Python run covers it)")
    for item in items:
        if item.get_closest_marker("replaces_kernel_methods"):
            item.add_marker(skip)
