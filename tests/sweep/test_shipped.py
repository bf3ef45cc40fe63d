"""The sweep shipped in scenarios/sweeps/ is valid and does what its comment says."""

from pathlib import Path

from ipsecsim import loads
from ipsecsim.scenario import parse_scenario
from ipsecsim.sweep import load_sweep

SWEEP = Path(__file__).resolve().parents[2] / "scenarios" / "sweeps" / "loss_vs_throughput.yaml"


def test_loss_vs_throughput_is_25_valid_points_of_short_runs():
    sweep = load_sweep(SWEEP)
    assert sweep.count() == 25 and sweep.x == "links[0].loss"
    assert [m.name for m in sweep.metrics] == ["throughput", "loss"]
    seen = set()
    for _index, values, text in sweep.points():
        scenario = parse_scenario(text, str(sweep.base))
        assert scenario.seed == values["seed"] and scenario.duration <= 2.0
        seen.add((scenario.links[0].loss, scenario.seed))
    assert len(seen) == 25


def test_its_flow_goes_through_the_tunnel():
    _index, _values, text = next(load_sweep(SWEEP).points())
    result = loads(text.replace("duration: 2s", "duration: 0.5s").replace("stop: 1.8s", "stop: 0.4s")).run(progress=False)
    assert result.flows["bulk"]["received"] > 0
    assert result.counters["B:ipsec0"]["ipackets"] >= result.flows["bulk"]["received"]
