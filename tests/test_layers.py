"""The dependency direction of DESIGN.md: packet <- netipsec <- kernel <- ospf <- userland <- world <- scenario/report/cli.

ospf/ (the routing daemon) sits on the kernel it talks to; userland's vtysh talks to it.

Only world/ and above may import simpy; lower layers never import upper ones.
Checked by reading import statements, so a lazy import inside a function counts too.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ipsecsim"
ORDER = ["packet", "netipsec", "kernel", "ospf", "ike", "userland", "world"]
FORBIDDEN_BELOW_WORLD = {"simpy", "time", "os", "secrets"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
                names.add(".".join(base + ((node.module,) if node.module else ())))
            else:
                names.add(node.module or "")
    return names


@pytest.mark.parametrize("layer", ORDER)
def test_layer_imports_only_lower_layers(layer):
    above = {f"ipsecsim.{name}" for name in ORDER[ORDER.index(layer) + 1 :]}
    above |= {"ipsecsim.scenario", "ipsecsim.report", "ipsecsim.cli", "ipsecsim.trace"}
    if layer == "world":
        above -= {"ipsecsim.trace"}  # world writes traces
    for path in (PACKAGE / layer).rglob("*.py"):
        for name in imported_modules(path):
            assert not any(name == a or name.startswith(a + ".") for a in above), f"{path}: imports {name}"
            if layer != "world":
                top = name.split(".")[0]
                assert top not in FORBIDDEN_BELOW_WORLD, f"{path}: imports {name} (no clock, OS randomness or simpy below world/)"
