"""Every benchmark still runs against this checkout (a smoke run, nothing timed).

Benchmarks are scripts that tests do not otherwise import, so an API change can break one
unnoticed until someone needs its figures.
"""

from pathlib import Path
import subprocess
import sys

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SMOKE_ARGS = {
    "builds.py": ["--packets", "200", "--rounds", "1", "--builds", "pure"],
    "esp.py": ["--quick"],
    "hub.py": ["--sizes", "20", "--spokes", "10"],
    "routed_hops.py": ["--packets", "200"],
    "tunnel.py": ["--packets", "200"],
    "hop_parts.py": [],
    "memory.py": ["--packets", "2000"],
    "accounting.py": ["--seconds", "2.5", "--rounds", "1"],
    "whatif.py": ["--routers", "300", "--flows", "20", "--build", "30"],
}


def test_every_benchmark_has_a_smoke_run():
    assert sorted(SMOKE_ARGS) == sorted(p.name for p in BENCHMARKS.glob("*.py"))


@pytest.mark.parametrize("name", sorted(SMOKE_ARGS))
def test_benchmark_runs(name):
    proc = subprocess.run([sys.executable, str(BENCHMARKS / name), *SMOKE_ARGS[name]],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
