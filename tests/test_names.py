"""Pings and flows by name in ``expect:``; two pings between the same hosts are two rows."""

from pathlib import Path

import pytest

import ipsecsim
from ipsecsim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "scenarios" / "if_ipsec_host_a_b.yaml").read_text()
TWO = BASE.replace("  - {udp:", "  - {ping: {name: big, from: A, to: 172.16.0.5, count: 3, size: 1000}}\n  - {udp:")
FIRST = "{ping: {from: A, to: 172.16.0.5}, received: 5}"


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _problem(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        ipsecsim.loads(text, "s.yaml")
    return str(caught.value)


def test_a_ping_by_name_is_checked_and_each_ping_is_a_row():
    text = TWO.replace(FIRST, "{ping: big, received: 3}\n  - {ping: ping-1, received: '== 5'}")
    result = ipsecsim.loads(text, "s.yaml", duration=6).run()
    assert [(e.text, e.holds, e.actual) for e in result.expectations[:2]] == [
        ("ping big received == 3", True, "3"), ("ping ping-1 received == 5", True, "5")]
    rows = [line.split() for line in result.summary().splitlines() if "A -> 172.16.0.5" in line]
    assert [row[:6] for row in rows[:2]] == [["ping-1", "A", "->", "172.16.0.5", "5", "5"],
                                              ["big", "A", "->", "172.16.0.5", "3", "3"]]


def test_host_and_address_still_work_when_one_ping_goes_there():
    result = ipsecsim.loads(BASE, "s.yaml", duration=6).run()
    assert (result.expectations[0].text, result.expectations[0].holds) == ("ping A -> 172.16.0.5 received == 5", True)


def test_host_and_address_that_match_two_pings_are_refused_with_their_names():
    line = _line(TWO, FIRST)
    assert _problem(TWO) == (f"s.yaml:{line}:12: expect[0].ping: 2 pings go from A to 172.16.0.5: ping-1 (line "
                             f"{_line(TWO, 'count: 5, interval')}), big (line {_line(TWO, 'name: big')}); "
                             "name the one to check, e.g. ping: ping-1")


def test_an_unknown_ping_name_is_refused_with_the_names_there_are():
    text = TWO.replace(FIRST, "{ping: bgi, received: 3}")
    assert _problem(text).endswith("expect[0].ping: no ping named 'bgi'; did you mean 'big'?")
    text = TWO.replace(FIRST, "{ping: nothing-like-it, received: 3}")
    assert _problem(text).endswith("no ping named 'nothing-like-it'; pings are: ping-1, big")


def test_a_flow_name_for_a_ping_and_a_ping_name_for_a_flow_say_which_is_which():
    text = TWO.replace(FIRST, "{ping: bulk, received: 3}")
    assert _problem(text).endswith("expect[0].ping: 'bulk' is a udp flow, not a ping; check it with flow: bulk")
    text = BASE.replace("{flow: bulk,", "{flow: ping-1,")
    assert _problem(text).endswith("expect[1].flow: 'ping-1' is a ping, not a udp flow; check it with ping: ping-1")


def test_a_ping_mapping_with_a_missing_key_names_the_key():
    text = BASE.replace(FIRST, "{ping: {from: A}, received: 5}")
    assert _problem(text).endswith("expect[0].ping.to: required key is missing; add it, e.g. to: 10.0.0.2")


def test_host_and_address_prefer_the_file_s_ping_then_one_typed_at_the_prompt():
    sim = ipsecsim.loads(BASE.replace("- {flow: bulk", "- {ping: {from: A, to: 192.168.0.5}, received: 2}\n  - {flow: bulk"),
                         "s.yaml", duration=6)
    sim.host("A").sh("ping -c 2 -i 0.2 172.16.0.5")  # to where the file's ping goes: that one is checked
    sim.host("A").sh("ping -c 2 -i 0.2 192.168.0.5")
    checks = [(e.text, e.holds, e.actual) for e in sim.run().expectations[:2]]
    assert checks == [("ping A -> 172.16.0.5 received == 5", True, "5"), ("ping A -> 192.168.0.5 received == 2", True, "2")]
    sim.host("A").sh("ping -c 1 192.168.0.5")
    assert sim.result().expectations[1].actual == "2 pings, not one: A->192.168.0.5, A->192.168.0.5"
