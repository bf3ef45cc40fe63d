"""One plot per metric: a title with the sweep's name, axis labels, one line per series, and a
95% Student t interval around the mean over the seeds."""

import math
import statistics

import pytest

from ipsecsim.sweep import _interval, load_sweep, metric_figure, run_sweep

from .conftest import write_sweep

TWO_SIZES = """\
name: Loss and packet size
base: base.yaml
grid:
  links[0].loss: [0%, 10%]
  traffic[0].udp.size: [200, 1000]
  seed: 1..3
metrics:
  loss: flows[name=bulk].loss
  sent: flows.bulk.sent
"""


def test_one_line_per_combination_of_the_other_keys(sweep_dir):
    path = write_sweep(sweep_dir, TWO_SIZES)
    outcome = run_sweep(path, workers=1, progress=False)
    assert outcome.ok and len(outcome.points) == 12
    for metric in ("loss", "sent"):
        assert (sweep_dir / "loss-and-packet-size" / f"{metric}.png").stat().st_size > 0
        assert (sweep_dir / "loss-and-packet-size" / f"{metric}.svg").stat().st_size > 0
    sweep = load_sweep(path)
    fig = metric_figure(sweep, outcome.points, sweep.metrics[0])
    [ax] = fig.axes
    assert ax.get_title().startswith("Loss and packet size: loss against links[0].loss")
    assert "95% confidence interval" in ax.get_title()
    assert ax.get_xlabel() == "links[0].loss (%)" and ax.get_ylabel() == "loss (flows[name=bulk].loss)"
    assert [line.get_label() for line in ax.lines] == ["traffic[0].udp.size=200", "traffic[0].udp.size=1000"]
    for line, size in zip(ax.lines, (200, 1000)):
        xs, ys = line.get_data()
        assert list(xs) == [0.0, 10.0]
        samples = [p["loss"] for p in outcome.points if p["links[0].loss"] == "10%" and p["traffic[0].udp.size"] == size]
        assert ys[1] == pytest.approx(statistics.fmean(samples))
    assert ax.get_legend() is not None and len(ax.collections) >= 1  # the band (seed 0% has no spread)


def test_a_single_seed_has_no_interval(sweep_dir):
    path = write_sweep(sweep_dir, TWO_SIZES.replace("1..3", "1"))
    outcome = run_sweep(path, workers=1, progress=False)
    sweep = load_sweep(path)
    [ax] = metric_figure(sweep, outcome.points, sweep.metrics[0]).axes
    assert len(ax.lines) == 2 and not ax.collections
    assert "confidence" not in ax.get_title()


def test_categories_keep_their_order(sweep_dir):
    path = write_sweep(sweep_dir, TWO_SIZES.replace("links[0].loss: [0%, 10%]", "hosts.A.run: [a, b]")
                       .replace("1..3", "1"))
    sweep = load_sweep(path)
    rows = [{"hosts.A.run": v, "traffic[0].udp.size": s, "seed": 1, "loss": 0.1 * i, "status": "ok"}
            for i, (v, s) in enumerate([("a", 200), ("a", 1000), ("b", 200), ("b", 1000)])]
    [ax] = metric_figure(sweep, rows, sweep.metrics[0]).axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert list(ax.lines[1].get_data()[1]) == pytest.approx([0.1, 0.3])


def test_interval_is_student_t():
    samples = [1.0, 2.0, 3.0, 4.0, 5.0]
    mean, half = _interval(samples)
    # t(0.975, 4) = 2.776445105 (tables of the Student t distribution)
    assert mean == 3.0 and half == pytest.approx(2.776445105 * statistics.stdev(samples) / math.sqrt(5))
    assert _interval([7.0]) == (7.0, 0.0)
