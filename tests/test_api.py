"""The Python API of DESIGN.md: load, sh, run, summary, and the result's fields."""

from pathlib import Path

import pytest

import ipsecsim

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_load_sh_run_summary():
    sim = ipsecsim.load(SCENARIOS / "routed_three_hosts.yaml")
    assert sim.now == 0
    assert "inet 10.0.1.2 netmask 0xffffff00 broadcast 10.0.1.255" in sim.host("R").sh("ifconfig em0")
    typed = sim.host("A").sh("ping -c 2 -i 0.5 10.0.2.2")
    assert typed.startswith("PING 10.0.2.2 (10.0.2.2): 56 data bytes\n")
    assert "2 packets transmitted, 2 packets received, 0.0% packet loss" in typed
    assert 1.0 <= sim.now < 2.0  # the prompt waited for ping, as a shell would
    result = sim.run()
    sim.close()
    assert result.duration == 10
    assert [p["received"] for p in result.pings] == [5, 5, 2]  # the typed ping is in the results too
    assert result.counters["R:em1"]["opackets"] > 3000
    assert result.flows["video"]["loss"] == 0
    assert all(e.holds for e in result.expectations)
    text = result.summary()
    assert "Pings" in text and "UDP flows" in text and "Expectations" in text
    assert "<table>" in result._repr_html_() and "<pre>" not in result._repr_html_()


def test_result_round_trips_through_json(tmp_path):
    sim = ipsecsim.load(SCENARIOS / "lossy_link.yaml")
    result = sim.run()
    sim.close()
    path = tmp_path / "run.json"
    result.to_json(path)
    again = ipsecsim.report.Result.from_json(path)
    assert again.summary() == result.summary()


def test_topology_is_networkx_and_draws():
    import matplotlib

    matplotlib.use("Agg")
    sim = ipsecsim.load(SCENARIOS / "routed_three_hosts.yaml")
    assert sorted(sim.topology.nodes) == ["A", "B", "R"]
    assert sim.network.draw() is not None


def test_a_ping_without_count_keeps_running_instead_of_blocking_the_prompt():
    sim = ipsecsim.load(SCENARIOS / "routed_three_hosts.yaml")
    first = sim.host("A").sh("ping 10.0.2.2")
    assert first.startswith("PING 10.0.2.2") and sim.now == 0
    assert "2 packets transmitted" in sim.host("A").sh("ping -t 2 10.0.2.2")


TWO_HOSTS = "name: t\nduration: 1s\nlinks:\n  - {a: A:em0, b: B:em0}\n"


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "1", True])
def test_a_seed_outside_the_documented_range_is_refused(seed):
    with pytest.raises(ValueError, match=r"is not a seed; write a whole number from 0 to 2\*\*64-1"):
        ipsecsim.loads(TWO_HOSTS, seed=seed)


def test_the_largest_seed_is_fine():
    assert ipsecsim.loads(TWO_HOSTS, seed=2**64 - 1).network.engine.seed == 2**64 - 1


@pytest.mark.parametrize("duration", [0, -1.0, float("nan")])
def test_a_duration_that_is_no_time_is_refused(duration):
    with pytest.raises(ValueError, match="is not a duration; write a number of seconds greater than 0"):
        ipsecsim.loads(TWO_HOSTS, duration=duration)


def test_run_until_a_time_no_run_reaches_is_refused():
    import math

    from ipsecsim.scenario import UnitError
    from ipsecsim.scenario.limits import MAX_HOST_SECONDS

    sim = ipsecsim.load(SCENARIOS / "if_ipsec_host_a_b.yaml")
    for until in (1e300, math.inf, MAX_HOST_SECONDS):
        with pytest.raises(UnitError, match="host-seconds a run can simulate"):
            sim.run(until)
    assert sim.now == 0
