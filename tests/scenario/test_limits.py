"""Runs too large to simulate are refused before they start, at the value that makes them so."""

import pytest

import ipsecsim
from ipsecsim.scenario import ScenarioError
from ipsecsim.scenario.limits import MAX_HOST_SECONDS, MAX_PACKETS

HEAD = """\
name: limits
duration: 100s
links:
  - {a: A:em0, b: B:em0}
hosts:
  A: {run: ifconfig em0 inet 10.0.0.1/24}
  B: {run: ifconfig em0 inet 10.0.0.2/24}
"""


def refused(text, **options) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        ipsecsim.loads(text, "l.yaml", **options)
    return [str(d) for d in exc.value.diagnostics]


def test_the_budgets_are_the_documented_ones():
    assert MAX_PACKETS == MAX_HOST_SECONDS == 10**8


def test_a_udp_flow_past_the_budget_is_refused_at_its_rate_with_the_count_and_a_way_down():
    text = HEAD + "traffic:\n  - {udp: {from: A, to: 10.0.0.2, rate: 10Gbit/s, size: 100, stop: 50s}}\n"
    assert refused(text) == [
        "l.yaml:9:41: traffic[0].udp.rate: 10Gbit/s in 100-byte datagrams from 0s to 50s is 625,000,000 packets, "
        "more than the 100,000,000 a run can simulate; lower the rate (at most 1.6Gbit/s at this size), "
        "send larger datagrams (size) or stop sooner"]


def test_items_under_the_budget_that_add_up_past_it_are_refused_at_the_largest():
    text = HEAD + ("traffic:\n"
                   "  - {ping: {from: A, to: 10.0.0.2, count: 10000000, interval: 1us}}\n"
                   "  - {udp: {from: A, to: 10.0.0.2, rate: 500Mbit/s, size: 100}}\n"
                   "  - {udp: {from: A, to: 10.0.0.2, rate: 400Mbit/s, size: 100, start: 1s, stop: 99s}}\n")
    assert refused(text) == [
        "l.yaml:10:41: traffic[1].udp.rate: the traffic sends 121,500,000 packets in all, more than the "
        "100,000,000 a run can simulate; this one, 500Mbit/s in 100-byte datagrams from 0s to 100s, sends the "
        "most (62,500,000); lower the rate, send larger datagrams (size) or stop sooner"]


def test_the_count_uses_the_duration_the_run_really_has():
    text = HEAD + "traffic:\n  - {udp: {from: A, to: 10.0.0.2, rate: 10Gbit/s, size: 100}}\n"
    refused(text)
    sim = ipsecsim.loads(text, "l.yaml", duration=5.0)  # 62,500,000 packets: allowed, and not run here
    assert sim.duration == 5.0


def test_a_duration_no_run_reaches_is_refused_at_duration():
    text = HEAD.replace("100s", "1e300s") + "traffic:\n  - {ping: {from: A, to: 10.0.0.2, count: 3}}\n"
    assert refused(text) == [
        "l.yaml:2:11: duration: 1e+300s of simulated time: each host's key engine wakes once a simulated second, "
        "so 2 hosts make 2e+300 wake-ups, more than the 100,000,000 a run can simulate; make the run at most "
        "5e+07s long"]


def test_a_longer_duration_asked_for_is_checked_too():
    assert refused(HEAD, duration=1e9) == [
        "l.yaml:2:11: duration: the run asked for lasts 1e+09s (this file says 100s): each host's key engine "
        "wakes once a simulated second, so 2 hosts make 2,000,000,000 wake-ups, more than the 100,000,000 a run "
        "can simulate; make the run at most 5e+07s long"]


def test_a_ping_without_count_in_a_run_block_counts_until_the_end_of_the_run():
    text = HEAD.replace("100s", "1000000s").replace(
        "  A: {run: ifconfig em0 inet 10.0.0.1/24}\n",
        "  A:\n    run: |\n      ifconfig em0 inet 10.0.0.1/24\n      ping -i 0.001 10.0.0.2\n")
    assert refused(text) == [
        "l.yaml:9:7: hosts.A.run: ping 10.0.0.2 every 1ms until the run ends is 1,000,000,001 packets, more than "
        "the 100,000,000 a run can simulate; add -c COUNT, or a longer -i interval"]
    ipsecsim.loads(text.replace("ping -i", "ping -c 5 -i"), "l.yaml")  # with a count it is fine
