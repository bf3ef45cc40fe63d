"""Every shipped scenario: what-if agrees with the simulated kernels' routing tables, without
failures and after each single-link failure (OSPF given its dead interval to notice)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipsecsim.scenario import load_scenario
from ipsecsim.scenario.build import build_network
from ipsecsim.scenario.models import UdpFlow
from ipsecsim.whatif import Failure, analyse, model_from_network

from .test_whatif import _failure_paths, assert_agrees

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


def _quiet(path: Path):
    """The scenario without its timeline: the failure is the test's."""
    return load_scenario(path).model_copy(update={"timeline": []})


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_agrees_with_simulation(path):
    scenario = _quiet(path)
    if any(h.swanctl is not None for h in scenario.hosts.values()) and \
            any(isinstance(t, UdpFlow) for t in scenario.traffic):
        # What-if reads the SAs the SAD holds; charon makes them on the first packet (ACQUIRE),
        # so a UDP burst gets through a tunnel what-if calls down. Not analysed, like spdadd.
        pytest.skip("tunnels keyed by IKE on demand are not analysed")
    model = model_from_network(build_network(scenario, traffic=False), scenario)
    policies = [note for note in model.notes if "spdadd" in note]
    if policies:
        pytest.skip("; ".join(policies))  # policy-based IPsec: not analysed
    base = analyse(model, []).base
    for link in [None, *sorted(model.links)]:
        net = build_network(scenario, traffic=False)
        net.run(15)  # OSPF adjacencies are Full and SPF has run
        if link is None:
            assert_agrees(net, model, base, "base")
            continue
        net.link(link).set_state(False)
        net.run(60)  # past the default dead interval (40 s) and SPF throttling
        assert_agrees(net, model, _failure_paths(model, Failure(links=(link,))), link)
