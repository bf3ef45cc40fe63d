"""The ledger: every datagram sent is delivered, dropped, in flight or waiting in reassembly."""

from pathlib import Path

import pytest

import ipsecsim
from ipsecsim.world import Network
from ipsecsim.world.link import LinkParams

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def balanced(ledger: dict) -> bool:
    return ledger["unaccounted"] == 0 and ledger["sent"] == (
        ledger["delivered"] + sum(ledger["dropped"].values()) + ledger["in_flight"] + ledger["in_reassembly"])


def localout(sim) -> int:
    """ips_localout + ip6s_localout over all hosts: datagrams the kernels originated."""
    return sum(h.ipstat.ips_localout + h.ipstat.ip6s_localout for h in sim.network.hosts.values())


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_scenario_balances_and_its_drops_are_the_runs_drops(path):
    sim = ipsecsim.load(path, duration=3.0)
    result = sim.run()
    ledger = result.ledger
    assert balanced(ledger) and ledger["sent"] > 0
    assert ledger["fragment_drops"] == {}
    assert ledger["dropped"] == result.drops  # no fragments: one drop is one datagram
    assert ledger["sent"] == localout(sim) + sum(
        ledger["dropped"].get(r, 0) for r in ("no route",))  # a send refused at once makes no ips_localout
