"""The same sweep gives the same points and files whether it runs in this process, on local
processes or on a Dask cluster; each point equals a run of the same scenario made by hand."""

from pathlib import Path

import pytest

import ipsecsim
from ipsecsim.sweep import run_sweep

from .conftest import BASE

FILES = ("points.csv", "points.json", "throughput.svg", "loss.svg", "throughput.png", "loss.png")


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    directory = tmp_path_factory.mktemp("serial")
    from .conftest import SWEEP

    (directory / "base.yaml").write_text(BASE)
    (directory / "sweep.yaml").write_text(SWEEP)
    return directory, run_sweep(directory / "sweep.yaml", out=directory / "out", workers=1, progress=False)


def _same_files(a: Path, b: Path) -> None:
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_serial_points_are_the_runs_made_by_hand(serial):
    _directory, outcome = serial
    assert len(outcome.points) == 20 and outcome.ok and outcome.ran == 20
    losses = {}
    for point in outcome.points[::3]:  # the oracle: the scenario edited by hand and run with ipsecsim.loads
        text = BASE.replace("loss: 0%", f"loss: {point['links[0].loss']}").replace("seed: 1", f"seed: {point['seed']}")
        result = ipsecsim.loads(text, "base.yaml").run(progress=False)
        assert point["throughput"] == result.flows["bulk"]["throughput"]
        assert point["loss"] == result.flows["bulk"]["loss"]
        assert point["ok"] == result.ok
        losses.setdefault(point["links[0].loss"], []).append(point["loss"])
    assert losses["0%"] == [0.0] * len(losses["0%"]) and max(losses["10%"]) > 0
    seeds = {p["seed"]: p["loss"] for p in outcome.points if p["links[0].loss"] == "10%"}
    assert len(set(seeds.values())) > 1  # the seed reaches the run


def test_processes_give_the_serial_results(serial, tmp_path):
    directory, expected = serial
    outcome = run_sweep(directory / "sweep.yaml", out=tmp_path, workers=2, progress=False)
    assert outcome.ran == 20
    assert outcome.points == expected.points
    _same_files(directory / "out", tmp_path)


@pytest.mark.parametrize("processes", [False, True])
def test_dask_gives_the_serial_results(serial, tmp_path, processes):
    distributed = pytest.importorskip("distributed", reason="Dask is not installed (pip install 'ipsecsim[dask]')")
    directory, expected = serial
    with distributed.LocalCluster(n_workers=2, processes=processes, dashboard_address=None) as cluster:
        outcome = run_sweep(directory / "sweep.yaml", out=tmp_path, dask=cluster.scheduler_address, progress=False)
    assert outcome.ran == 20
    assert outcome.points == expected.points
    _same_files(directory / "out", tmp_path)


def test_frame(serial):
    pd = pytest.importorskip("pandas")
    frame = serial[1].frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["point", "links[0].loss", "seed", "throughput", "loss", "ok", "status", "error", "key"]
    assert len(frame) == 20
