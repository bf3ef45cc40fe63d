"""A tiny scenario (two hosts, a lossy link, a UDP flow of a fifth of a second) and sweeps of it."""

from pathlib import Path

import pytest

BASE = """\
name: tiny lossy link
duration: 0.25s
seed: 1
links:
  - {a: A:em0, b: B:em0, bandwidth: 10Mbit/s, delay: 1ms, loss: 0%}
hosts:
  A:
    run: |
      ifconfig em0 inet 10.0.0.1/24
  B:
    run: |
      ifconfig em0 inet 10.0.0.2/24
traffic:
  - {udp: {name: bulk, from: A, to: 10.0.0.2, rate: 2Mbit/s, size: 500, start: 0s, stop: 0.2s}}
expect:
  - {flow: bulk, loss: "<= 6%"}
"""

SWEEP = """\
name: Tiny loss sweep
base: base.yaml
grid:
  links[0].loss: [0%, 2%, 5%, 10%]
  seed: 1..5
metrics:
  throughput: flows[name=bulk].throughput
  loss: flows.bulk.loss
"""


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    return tmp_path


def write_sweep(directory: Path, text: str) -> Path:
    path = directory / "sweep.yaml"
    path.write_text(text)
    return path
