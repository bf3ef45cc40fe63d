"""Each file under bad/ and the exact first diagnostic it gives: ``file:line:col: path: message``.

The column is where the offending value starts (the key, for an unknown key; the mapping
that lacks it, for a missing key). Messages are for a student: no pydantic wording.
"""

from pathlib import Path

import pytest

from ipsecsim.scenario import ScenarioError, load_scenario

BAD = Path(__file__).parent / "bad"

FIRST_DIAGNOSTIC = {
    "unknown_top_key.yaml": "unknown_top_key.yaml:3:1: linkz: unknown key 'linkz'; did you mean 'links'?",
    "unknown_link_key.yaml": "unknown_link_key.yaml:4:26: links[0].bandwith: unknown key 'bandwith'; did you mean 'bandwidth'?",
    "misspelled_unit.yaml": "misspelled_unit.yaml:6:12: links[0].delay: '10msec' is not a duration; write it like 10ms",
    "mbps.yaml": "mbps.yaml:7:16: links[0].bandwidth: '10 Mbps' is not a rate; write it like 10Mbit/s",
    "rate_without_unit.yaml": "rate_without_unit.yaml:4:37: links[0].bandwidth: 100000000 has no unit; write a unit, e.g. 100Mbit/s",
    "negative_delay.yaml": "negative_delay.yaml:4:33: links[0].delay: '-5ms' is negative; a duration is 0 or more",
    "loss_over_100.yaml": "loss_over_100.yaml:4:32: links[0].loss: '150%' is more than 100%; a percentage is between 0% and 100%",
    "bad_endpoint.yaml": "bad_endpoint.yaml:4:9: links[0].a: 'A-em0' is not HOST:IFNAME; write it like A:em0",
    "tunnel_as_link_end.yaml": "tunnel_as_link_end.yaml:4:19: links[0].b: 'ipsec0' is a tunnel that 'ifconfig ipsec0 create' makes; a link joins physical interfaces such as em0",
    "interface_twice.yaml": "interface_twice.yaml:5:9: links[1].a: A:em0 is already on links[0] (line 4); an interface joins one link",
    "link_to_itself.yaml": "link_to_itself.yaml:4:19: links[0].b: both ends are on host A; a link joins two different hosts",
    "missing_link_end.yaml": "missing_link_end.yaml:4:5: links[0].b: required key is missing; add it, e.g. b: B:em0",
    "bool_as_yes.yaml": "bool_as_yes.yaml:4:30: links[0].up: 'yes' is not true or false; write true or false",
    "duplicate_key.yaml": "duplicate_key.yaml:7:5: links[0].delay: 'delay' appears twice here (also on line 6); keep one",
    "dangling_traffic_host.yaml": "dangling_traffic_host.yaml:6:19: traffic[0].ping.from: no host 'C'; hosts are: A, B",
    "unknown_traffic_kind.yaml": "unknown_traffic_kind.yaml:6:5: traffic[0].tcp: unknown traffic kind 'tcp'; write ping: or udp:",
    "count_is_text.yaml": "count_is_text.yaml:9:14: traffic[0].ping.count: '5' is text, not a whole number; write 5 without quotes",
    "bad_ping_address.yaml": "bad_ping_address.yaml:6:26: traffic[0].ping.to: '10.0.0.256' is not an IPv4 or IPv6 address; write it like 10.0.0.2 or 2001:db8::2",
    "duplicate_flow.yaml": "duplicate_flow.yaml:7:56: traffic[1].udp.name: flow name 'bulk' is already used by traffic[0]; names must be unique",
    "stop_before_start.yaml": "stop_before_start.yaml:11:13: traffic[0].udp.stop: the flow stops before it starts; stop must be later than start (5s)",
    "dangling_timeline_link.yaml": "dangling_timeline_link.yaml:6:20: timeline[0].link: no link named 'A:em0-B:em1'; did you mean 'A:em0-B:em0'?",
    "at_after_end.yaml": "at_after_end.yaml:6:10: timeline[0].at: 12s is after the end of the scenario (duration: 10s)",
    "missing_duration.yaml": "missing_duration.yaml:1:1: duration: required key is missing; add it, e.g. duration: 10s",
    "bad_comparison.yaml": "bad_comparison.yaml:8:47: expect[0].received: '=> 4': => is not a comparison operator (use ==, !=, <, <=, >, >=); write >=",
    "dangling_flow_expect.yaml": "dangling_flow_expect.yaml:8:12: expect[0].flow: no udp flow named 'blk'; did you mean 'bulk'?",
    "yaml_syntax.yaml": "yaml_syntax.yaml:5:6: YAML syntax error: expected ',' or '}' in this {...} mapping; is the { on line 4 closed?",
    "tab_indent.yaml": "tab_indent.yaml:4:1: YAML syntax error: a tab character; indent with spaces, not tabs",
}


def test_every_bad_file_is_in_the_table():
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(FIRST_DIAGNOSTIC)


@pytest.mark.parametrize("name", sorted(FIRST_DIAGNOSTIC))
def test_first_diagnostic(name, monkeypatch):
    monkeypatch.chdir(BAD)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(name)
    assert str(exc.value.diagnostics[0]) == FIRST_DIAGNOSTIC[name]
    assert str(exc.value).splitlines()[0] == FIRST_DIAGNOSTIC[name]


@pytest.mark.parametrize("name", sorted(FIRST_DIAGNOSTIC))
def test_messages_speak_plainly(name):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(BAD / name)
    for diag in exc.value.diagnostics:
        text = str(diag)
        assert "\n" not in text and "Traceback" not in text
        assert not any(jargon in text for jargon in ("Input should", "Value error", "pydantic", "validation error"))
        assert diag.line >= 1 and diag.col >= 1


def test_path_objects_and_missing_files(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path / "nope.yaml")
    assert str(exc.value) == f"{tmp_path / 'nope.yaml'}:1:1: cannot read the file: No such file or directory"
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ScenarioError, match=r"bin.yaml:1:1: the file is not UTF-8 text"):
        load_scenario(binary)
