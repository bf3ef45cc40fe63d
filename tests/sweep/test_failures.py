"""A point that fails (a bad value, a run that raises) is reported; the others complete; resume."""

import json

import pytest

from click.testing import CliRunner

from ipsecsim import sweep as sweep_module
from ipsecsim.cli import main
from ipsecsim.sweep import run_sweep

from .conftest import write_sweep

BAD_VALUES = """\
name: bad values
base: base.yaml
grid:
  links[0].loss: [0%, 150%]
  seed: 1..2
metrics:
  loss: flows[name=bulk].loss
"""


def _count_runs(monkeypatch, fail_when: str | None = None) -> list[str]:
    """Record the scenario text of each run; a run whose text contains ``fail_when`` raises."""
    texts: list[str] = []
    real = sweep_module._simulate

    def spy(text, filename):
        texts.append(text)
        if fail_when is not None and fail_when in text:
            raise RuntimeError("boom")
        return real(text, filename)

    monkeypatch.setattr(sweep_module, "_simulate", spy)
    return texts


def test_a_bad_value_and_a_crashing_run_fail_alone(sweep_dir, monkeypatch):
    path = write_sweep(sweep_dir, BAD_VALUES)
    runs = _count_runs(monkeypatch, fail_when="seed: 2")
    outcome = run_sweep(path, workers=1, progress=False)
    statuses = [(p["links[0].loss"], p["seed"], p["status"]) for p in outcome.points]
    assert statuses == [("0%", 1, "ok"), ("0%", 2, "failed"), ("150%", 1, "failed"), ("150%", 2, "failed")]
    assert len(runs) == 2  # the bad value never reaches a run
    good, crashed, bad, _ = outcome.points
    assert good["loss"] == 0.0 and good["error"] is None and good["ok"] is True
    assert crashed["error"] == "the run failed: RuntimeError: boom" and crashed["loss"] is None
    # the scenario's own message, at the value in the sweep file (line 4, column 23)
    assert bad["error"].startswith(f"{path}:4:23: grid.links[0].loss: 150%: ")
    assert "100%" in bad["error"] and bad["ok"] is None
    table = (sweep_dir / "bad-values" / "points.csv").read_text().splitlines()
    assert len(table) == 5 and table[3].startswith("2,150%,1,,,failed,")
    saved = json.loads((sweep_dir / "bad-values" / "points.json").read_text())
    assert saved["points"] == outcome.points


def test_cli_reports_failed_points_on_stderr_and_exits_1(sweep_dir):
    path = write_sweep(sweep_dir, BAD_VALUES)
    result = CliRunner().invoke(main, ["sweep", str(path), "--workers", "1", "--quiet"])
    assert result.exit_code == 1, result.output
    assert f"{path}: point 2 (links[0].loss=150%, seed=1) failed: {path}:4:23:" in result.stderr
    assert "4 points, 2 ok, 2 failed" in result.stdout


def test_cli_exits_0_when_every_point_runs(sweep_dir):
    path = write_sweep(sweep_dir, BAD_VALUES.replace("150%", "1%"))
    result = CliRunner().invoke(main, ["sweep", str(path), "--workers", "1", "--out", str(sweep_dir / "o")])
    assert result.exit_code == 0, result.output
    assert (sweep_dir / "o" / "points.csv").is_file() and (sweep_dir / "o" / "loss.svg").is_file()


def test_resume_runs_only_what_is_new(sweep_dir, monkeypatch):
    path = write_sweep(sweep_dir, BAD_VALUES.replace("150%", "1%"))
    runs = _count_runs(monkeypatch)
    first = run_sweep(path, workers=1, progress=False)
    assert len(runs) == 4 and first.ran == 4
    files = {p.name: p.read_bytes() for p in first.files}

    again = run_sweep(path, workers=1, progress=False)
    assert len(runs) == 4 and again.ran == 0 and again.reused == 4
    assert again.points == first.points
    assert {p.name: p.read_bytes() for p in again.files} == files  # the same bytes, run or reused

    write_sweep(sweep_dir, BAD_VALUES.replace("150%", "1%").replace("1..2", "1..3"))
    more = run_sweep(path, workers=1, progress=False)
    assert len(runs) == 6 and more.ran == 2 and more.reused == 4  # only the new seed's points

    base = sweep_dir / "base.yaml"
    base.write_text(base.read_text().replace("rate: 2Mbit/s", "rate: 1Mbit/s"))
    changed = run_sweep(path, workers=1, progress=False)
    assert len(runs) == 12 and changed.ran == 6  # a changed base runs everything again


def test_a_run_cut_short_is_run_again(sweep_dir, monkeypatch):
    path = write_sweep(sweep_dir, BAD_VALUES.replace("150%", "1%"))
    runs = _count_runs(monkeypatch)
    first = run_sweep(path, workers=1, progress=False)
    victim = sweep_dir / "bad-values" / "runs" / f"{first.points[0]['key']}.json"
    victim.write_text(victim.read_text()[:100])  # as a sweep stopped while writing would leave it
    run_sweep(path, workers=1, progress=False)
    assert len(runs) == 5


def test_no_dask_says_how_to_install(sweep_dir, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "dask.distributed", None)
    path = write_sweep(sweep_dir, BAD_VALUES.replace("150%", "1%"))
    result = CliRunner().invoke(main, ["sweep", str(path), "--dask", "tcp://127.0.0.1:1", "--quiet"])
    assert result.exit_code == 2
    assert result.stderr == "--dask: Dask is not installed: pip install 'ipsecsim[dask]'\n"


def test_an_unreachable_scheduler_is_one_line(sweep_dir, monkeypatch):
    pytest.importorskip("distributed", reason="Dask is not installed (pip install 'ipsecsim[dask]')")
    monkeypatch.setattr(sweep_module, "CONNECT_TIMEOUT", 0.5)
    path = write_sweep(sweep_dir, BAD_VALUES.replace("150%", "1%"))
    result = CliRunner().invoke(main, ["sweep", str(path), "--dask", "tcp://127.0.0.1:9", "--quiet"])
    assert result.exit_code == 2
    assert result.stderr.startswith("--dask: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_metric_not_in_the_results_fails_its_points_and_fixing_it_reruns_nothing(sweep_dir, monkeypatch):
    text = BAD_VALUES.replace("150%", "1%").replace("flows[name=bulk].loss", "flows[name=bulkk].loss")
    path = write_sweep(sweep_dir, text)
    runs = _count_runs(monkeypatch)
    outcome = run_sweep(path, workers=1, progress=False)
    assert [p["status"] for p in outcome.points] == ["failed"] * 4
    assert outcome.points[0]["error"] == (f"{path}:7:9: metrics.loss: flows[name=bulkk].loss: flows has nothing "
                                          "named 'bulkk' (names there: bulk)")
    assert outcome.points[0]["ok"] is True  # the run itself went well
    write_sweep(sweep_dir, text.replace("bulkk", "bulk"))
    fixed = run_sweep(path, workers=1, progress=False)
    assert fixed.ok and len(runs) == 4


def test_the_progress_bar_counts_points_on_stderr_only_when_asked(sweep_dir, capsys):
    path = write_sweep(sweep_dir, BAD_VALUES.replace("150%", "1%"))
    run_sweep(path, out=sweep_dir / "quiet", workers=1, progress=False)
    assert capsys.readouterr() == ("", "")
    run_sweep(path, out=sweep_dir / "bar", workers=1, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "points" in err and "4/4" in err
