"""Good scenario files load into typed values in SI units, with every place remembered."""

import ipaddress
from pathlib import Path

import pytest
from pydantic import ValidationError

from ipsecsim.scenario import (
    CounterExpect, DropsExpect, Endpoint, FlowExpect, GilbertElliott, LinkSet, LinkState, PingExpect, PingTraffic,
    QueueLimit, RunCommand, Scenario, ScenarioError, Script, UdpFlow, load_scenario, parse_scenario,
)  # fmt: skip

GOOD = Path(__file__).parent / "good"
SCENARIOS = Path(__file__).parents[2] / "scenarios"
THREE = GOOD / "three_hosts.yaml"


@pytest.fixture(scope="module")
def scn() -> Scenario:
    return load_scenario(THREE)


def test_top_level(scn):
    assert scn.name == "A - R - B, routed, IPv4 and IPv6"
    assert scn.description.startswith("Host A and host B talk through router R.")
    assert (scn.duration, scn.seed) == (10.0, 7)
    assert scn.file == str(THREE) and scn.pos == (1, 1)


def test_links(scn):
    first, bottleneck = scn.links
    assert (first.a, first.b) == (Endpoint("A", "em0"), Endpoint("R", "em0"))
    assert first.name == "A:em0-R:em0"  # the default name
    assert (first.bandwidth, first.delay, first.jitter, first.loss) == (100e6, 0.001, 0.0, 0.0)
    assert (first.queue, first.mtu, first.up, first.reorder) == (QueueLimit(1000, "packets"), 1500, True, False)
    assert bottleneck.name == "bottleneck"
    assert (bottleneck.bandwidth, bottleneck.delay, bottleneck.jitter) == (10e6, 0.005, 1e-4)
    assert bottleneck.loss == pytest.approx(0.005)
    assert bottleneck.queue == QueueLimit(64000, "bytes") and str(bottleneck.queue) == "64000 bytes"
    assert bottleneck.mtu == 1500
    assert scn.link("bottleneck") is bottleneck
    assert first.pos == (8, 5) and bottleneck.pos == (9, 5) and bottleneck.pos_of("delay") == (13, 12)


def test_hosts_and_their_scripts(scn):
    assert list(scn.hosts) == ["A", "R", "B"]
    a = scn.hosts["A"].run
    assert isinstance(a, Script) and a.file == str(THREE)
    assert a.text.split("\n")[0] == "ifconfig em0 inet 10.0.1.2/24"
    assert a.lines[:4] == ((21, 7), (22, 7), (23, 7), (24, 7))
    assert a.where(2) == f"{THREE}:23:7"
    r = scn.hosts["R"].run  # |- : no final newline
    assert not r.text.endswith("\n") and len(r.lines) == 4 and r.lines[3] == (30, 7)
    b = scn.hosts["B"].run  # a double-quoted one-liner: column after the quote
    assert b.text == "ifconfig em0 inet 10.0.2.2/24; route add default 10.0.2.1" and b.lines == ((32, 11),)


def test_traffic(scn):
    ping4, ping6, bulk, voice = scn.traffic
    assert scn.pings == [ping4, ping6] and scn.udp_flows == [bulk, voice]
    assert isinstance(ping4, PingTraffic)
    assert (ping4.from_host, ping4.to, ping4.count, ping4.interval, ping4.size) == (
        "A", ipaddress.ip_address("10.0.2.2"), 5, 1.0, 56)
    assert (ping4.name, ping4.ttl, ping4.source, ping4.start) == ("ping-1", None, None, 0.0)
    assert (ping6.to.version, ping6.size, ping6.start, ping6.name) == (6, 1000, 0.5, "ping6")
    assert ping6.pos == (35, 5) and ping6.pos_of("size") == (38, 13)  # block style: at `ping:`
    assert isinstance(bulk, UdpFlow)
    assert (bulk.rate, bulk.size, bulk.start, bulk.stop, bulk.sport, bulk.dport) == (8e6, 1000, 2.0, 8.0, 0, 9)
    assert (voice.name, voice.stop, voice.dport, voice.rate) == ("udp-2", 10.0, 5004, 64e3)  # stop: the end


def test_timeline(scn):
    run, change, down, up = scn.timeline
    assert isinstance(run, RunCommand) and (run.at, run.host, run.run.text) == (5.0, "R", "netstat -rn")
    assert run.run.lines == ((44, 28),)
    assert isinstance(change, LinkSet) and change.link == "bottleneck"
    assert change.changes.changed() == {"loss": 0.05, "delay": 0.01} or change.changes.changed() == {
        "delay": 0.01, "loss": 0.05}
    assert change.changes.bandwidth is None
    assert isinstance(down, LinkState) and (down.at, down.state, down.up) == (7.0, "down", False)
    assert isinstance(up, LinkState) and (up.at, up.up) == (7.5, True) and up.pos == (47, 5)


def test_expectations(scn):
    ping, flow, counter, drops = scn.expect
    assert isinstance(ping, PingExpect) and ping.subject == "ping A -> 10.0.2.2"
    assert [(m, c.text, c.value) for m, c in ping.checks()] == [("received", "== 5", 5.0), ("rtt_max", "< 50ms", 0.05)]
    assert ping.describe("received") == "ping A -> 10.0.2.2 received == 5"
    assert ping.yaml_text == '{ping: {from: A, to: 10.0.2.2}, received: 5, rtt_max: "< 50ms"}'
    assert ping.where("rtt_max") == f"{THREE}:51:59"
    assert isinstance(flow, FlowExpect) and flow.subject == "flow bulk"
    assert flow.loss.holds(0.05) and not flow.loss.holds(0.2) and flow.throughput.value == 7e6
    assert isinstance(counter, CounterExpect) and counter.subject == "counter R:em1"
    assert counter.obytes.value == 1e6 and counter.obytes.unit_kind == "bytes"
    assert isinstance(drops, DropsExpect) and drops.subject == "drops 'queue full' on R"
    assert drops.count.holds(0)


def test_models_are_frozen(scn):
    with pytest.raises(ValidationError):
        scn.links[0].delay = 1.0


def test_design_example_loads():
    scn = load_scenario(GOOD / "if_ipsec.yaml")
    assert list(scn.hosts) == ["A", "B"]
    assert scn.hosts["A"].run.text.count("\n") == 8 and scn.hosts["A"].run.lines[4] == (13, 7)
    assert scn.traffic[1].stop == 8.0 and scn.timeline[1].changes.loss == pytest.approx(0.05)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    assert load_scenario(path).name


def test_loading_is_deterministic():
    assert load_scenario(THREE) == load_scenario(THREE)
    assert parse_scenario(THREE.read_text(), str(THREE)) == load_scenario(THREE)


def test_minimal_scenario_and_hosts_without_links():
    scn = parse_scenario("name: empty\nduration: 1s\nhosts:\n  solo:\n", "m.yaml")
    assert list(scn.hosts) == ["solo"] and scn.hosts["solo"].run is None and scn.hosts["solo"].pos == (4, 3)
    assert (scn.links, scn.traffic, scn.timeline, scn.expect, scn.seed) == ([], [], [], [], 1)


def test_gilbert_elliott_loss():
    scn = parse_scenario(
        "name: ge\nduration: 1s\nlinks:\n  - a: A:em0\n    b: B:em0\n"
        "    loss: {model: gilbert-elliott, p: 1%, r: 25%, loss_bad: 50%}\n",
        "ge.yaml",
    )
    loss = scn.links[0].loss
    assert isinstance(loss, GilbertElliott)
    assert (loss.p, loss.r, loss.loss_good, loss.loss_bad) == (0.01, 0.25, 0.0, 0.5)


def test_queue_and_mtu_spellings():
    scn = parse_scenario(
        "name: q\nduration: 1s\nlinks:\n"
        "  - {a: A:em0, b: B:em0, queue: 50, mtu: 9000}\n"
        "  - {a: A:em1, b: B:em1, queue: 20 packets, mtu: 1280B}\n"
        "  - {a: A:em2, b: B:em2, queue: 64KiB}\n",
        "q.yaml",
    )
    assert [link.queue for link in scn.links] == [QueueLimit(50), QueueLimit(20), QueueLimit(65536, "bytes")]
    assert [link.mtu for link in scn.links] == [9000, 1280, 1500]


def test_every_problem_is_reported_in_file_order():
    text = (
        "name: many\nduration: 10s\nlinks:\n"
        "  - {a: A:em0, b: B:em0, delay: 5, bandwidth: 1 Mbps, colour: red}\n"
        "traffic:\n  - {ping: {from: A, to: nowhere, count: many}}\n"
        "timeline:\n  - {at: 1s, link: x, state: sideways}\n"
    )
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(text, "many.yaml")
    assert [str(d).split(": ")[1] for d in exc.value.diagnostics] == [
        "links[0].delay", "links[0].bandwidth", "links[0].colour", "traffic[0].ping.to", "traffic[0].ping.count",
        "timeline[0].state",
    ]
    assert str(exc.value).count("\n") == 5


def test_cross_references_are_all_reported():
    text = (
        "name: refs\nduration: 10s\nlinks:\n  - {a: A:em0, b: B:em0}\n"
        "traffic:\n  - {udp: {from: C, to: 10.0.0.2, rate: 1Mbit/s}}\n"
        "timeline:\n  - {at: 1s, host: D, run: ifconfig}\n  - {at: 11s, link: A:em0-B:em0, state: down}\n"
        "expect:\n  - {flow: udp-2, sent: 5}\n  - {counter: 'E:ipsec0', opackets: 1}\n"
    )
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(text, "refs.yaml")
    assert [d.message for d in exc.value.diagnostics] == [
        "no host 'C'; hosts are: A, B",
        "no host 'D'; hosts are: A, B",
        "11s is after the end of the scenario (duration: 10s)",
        "no udp flow named 'udp-2'; did you mean 'udp-1'?",
        "no host 'E'; hosts are: A, B",
    ]


def test_counter_may_name_interfaces_a_script_creates():
    scn = parse_scenario(
        "name: c\nduration: 1s\nlinks:\n  - {a: A:em0, b: B:em0}\n"
        "expect:\n  - {counter: 'A:ipsec0', opackets: '>= 1'}\n  - {counter: 'B:lo0', ipackets: 0}\n",
        "c.yaml",
    )
    assert [str(e.counter) for e in scn.expect] == ["A:ipsec0", "B:lo0"]


def test_scenario_error_lists_all_lines():
    with pytest.raises(ScenarioError) as exc:
        parse_scenario("duration: 0s\nseed: x\n", "e.yaml")
    assert str(exc.value).splitlines() == [
        "e.yaml:1:1: name: required key is missing; add it, e.g. name: my experiment",
        "e.yaml:1:11: duration: '0s' is zero; write more than 0, e.g. 1s",
        "e.yaml:2:7: seed: 'x' is text, not a whole number",
    ]


def test_block_style_entries_keep_their_text_and_place():
    scn = parse_scenario(
        "name: t\nduration: 10s\nlinks:\n  - {a: A:em0, b: B:em0}\n"
        "timeline:\n  - at: 1s\n    host: A\n    run: |\n      ifconfig em0 down\n      ifconfig em0 up\n"
        "expect:\n  - drops: queue full\n    count: 0   # none at all\n\n  # the end\n",
        "b.yaml",
    )
    run = scn.timeline[0]
    assert run.pos == (6, 5) and run.run.lines == ((9, 7), (10, 7), (11, 7))
    assert scn.expect[0].yaml_text == "drops: queue full\n    count: 0   # none at all"


def test_dump_is_plain_json_without_warnings(scn, recwarn):
    data = scn.model_dump(mode="json", by_alias=True)
    assert not recwarn.list
    assert data["links"][1]["a"] == "R:em1" and data["links"][1]["queue"] == "64000B"
    assert data["expect"][0]["rtt_max"] == "< 50ms" and data["hosts"]["B"]["run"].startswith("ifconfig")
