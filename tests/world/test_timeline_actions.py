"""Timeline actions that take interfaces and hosts down and up, and what a run measures of them:
outages, route changes, "host down" drops. Every scenario is deterministic: exact numbers."""

import pytest

import ipsecsim
from ipsecsim.kernel.route import format_route_flags
from ipsecsim.report import Result
from ipsecsim.scenario import ScenarioError, parse_scenario
from ipsecsim.scenario.build import describe_timeline_event
from ipsecsim.scenario.models import HostState, InterfaceState

# A -- R -- B, R forwards; a 100 datagram/s CBR flow A -> B from 1 s and a ping every 100 ms.
ROUTED = """\
name: routed
duration: {duration}
links:
  - {{a: A:em0, b: R:em0, bandwidth: 10Mbit/s, delay: 1ms}}
  - {{a: R:em1, b: B:em0, bandwidth: 10Mbit/s, delay: 1ms}}
hosts:
  A:
    run: |
      ifconfig em0 inet 10.0.1.1/24
      route add default 10.0.1.2
  R:
    run: |
      ifconfig em0 inet 10.0.1.2/24
      ifconfig em1 inet 10.0.2.2/24
      sysctl net.inet.ip.forwarding=1
  B:
    run: |
      ifconfig em0 inet 10.0.2.1/24
      route add default 10.0.2.2
traffic:
  - {{udp: {{name: main, from: A, to: 10.0.2.1, rate: 800kbit/s, size: 1000, start: 1s}}}}
  - {{ping: {{name: probe, from: A, to: 10.0.2.1, count: 60, interval: 100ms, start: 50ms}}}}
timeline:
{timeline}
{expect}
"""


def run(timeline: str, duration: str = "8s", expect: str = ""):
    sim = ipsecsim.loads(ROUTED.format(duration=duration, timeline=timeline, expect=expect), "routed.yaml")
    result = sim.run()
    return sim, result


def outages(result: Result, name: str) -> list[tuple]:
    return [(round(o["start"], 6), None if o["end"] is None else round(o["end"], 6), o["lost"])
            for o in result.outages if o["flow"] == name]


# --- the scenario file ----------------------------------------------------------------------


def test_interface_and_host_entries_parse():
    scn = parse_scenario(ROUTED.format(duration="8s", expect="", timeline=(
        "  - {at: 2s, host: R, interface: em1, state: down}\n  - {at: 3s, host: R, state: down}\n"
        "  - {at: 4s, host: R, state: up}\n  - {at: 5s, host: R, run: netstat -rn}")), "t.yaml")
    iface, down, up, _ = scn.timeline
    assert isinstance(iface, InterfaceState) and (iface.host, iface.interface, iface.up) == ("R", "em1", False)
    assert isinstance(down, HostState) and not down.up and isinstance(up, HostState) and up.up
    assert [describe_timeline_event(e) for e in scn.timeline[:3]] == [
        "R: interface em1 down", "host R powered off", "host R boots"]


@pytest.mark.parametrize("entry, message", [
    ("{at: 2s, host: R, interface: em1, state: down, delay: 1ms}",
     "t.yaml:24:52: timeline[0].delay: unknown key 'delay'; allowed here: at, host, interface, state"),
    ("{at: 2s, host: R, state: off}",
     "t.yaml:24:30: timeline[0].state: 'off' is not allowed here; write up or down"),
    ("{at: 2s, host: Q, state: down}",
     "t.yaml:24:20: timeline[0].host: no host 'Q'; hosts are: A, R, B"),
    ("{at: 2s, host: R, interface: em7, state: down}",
     "t.yaml:24:34: timeline[0].interface: host R has no interface 'em7'; did you mean 'em1'?"),
])
def test_bad_entries_are_placed(entry, message):
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(ROUTED.format(duration="8s", expect="", timeline=f"  - {entry}"), "t.yaml")
    assert str(exc.value.diagnostics[0]) == message


def test_link_set_jitter_shows_in_the_timeline():
    sim, result = run("  - {at: 2s, link: A:em0-R:em0, set: {jitter: 2ms, delay: 5ms}}")
    assert result.timeline == [{"time": 2.0, "what": "link A:em0-R:em0 set delay 5ms, jitter 2ms"}]
    assert sim.network.link("A:em0-R:em0").params.jitter == pytest.approx(0.002)
    assert "link A:em0-R:em0 set delay 5ms, jitter 2ms" in result.summary()


# --- outages --------------------------------------------------------------------------------


def test_link_down_and_up_is_one_outage_per_flow():
    _, result = run("  - {at: 2s, link: A:em0-R:em0, state: down}\n  - {at: 4s, link: A:em0-R:em0, state: up}")
    # Datagrams leave every 10 ms from 1 s: those of 2.00 .. 3.99 s find the link down.
    assert outages(result, "main") == [(2.0, 4.0, 200)]
    # Echo requests every 100 ms from 50 ms: 2.05 .. 3.95 s are lost, 4.05 s is answered.
    assert outages(result, "probe") == [(2.05, 4.05, 20)]
    main = next(o for o in result.outages if o["flow"] == "main")
    assert main["duration"] == pytest.approx(2.0) and main["kind"] == "udp"
    assert "  main: 2.000s -> 4.000s, 2.000s, 200 datagrams lost" in result.summary().splitlines()
    assert "  probe: 2.050s -> 4.050s, 2.000s, 20 echo requests lost" in result.summary().splitlines()


def test_interface_down_on_a_router_is_an_outage_with_its_drop_reason():
    _, result = run("  - {at: 5s, host: R, interface: em1, state: down}\n"
                    "  - {at: 6s, host: R, interface: em1, state: up}")
    assert outages(result, "main") == [(5.0, 6.0, 100)]
    assert result.drops_by_host["R"] == {"ENETDOWN": 110}  # 100 datagrams and 10 echo requests
    assert result.timeline[0] == {"time": 5.0, "what": "R: interface em1 down"}


def test_an_outage_still_going_at_the_end_is_open():
    _, result = run("  - {at: 6s, link: R:em1-B:em0, state: down}")
    # The flow sends until 8 s: 6.00 .. 7.99 s lost, the last ones counted though sent near the end
    # (nothing is on its way: the link refuses them at once).
    (outage,) = [o for o in result.outages if o["flow"] == "main"]
    assert (outage["start"], outage["end"], outage["duration"]) == (pytest.approx(6.0), None, None)
    assert 195 <= outage["lost"] <= 200
    assert "  main: 6.000s -> still out at the end," in result.summary()


def test_single_losses_are_not_outages():
    _, result = run("  - {at: 1s, link: A:em0-R:em0, set: {loss: 2%}}")
    lost = result.flows["main"]["sent"] - result.flows["main"]["received"]
    in_outages = sum(o["lost"] for o in result.outages if o["flow"] == "main")
    # Lost alone, a datagram is loss, not an outage: most of 2% random losses are alone.
    assert lost > 0 and in_outages < lost
    assert all(o["lost"] >= 2 for o in result.outages)


def test_sink_gaps_mend_when_late_datagrams_arrive():
    from ipsecsim.kernel import Host
    from ipsecsim.kernel.clock import ManualClock
    from ipsecsim.userland.udpflow import FlowStats, UdpSink
    import random

    sink = UdpSink(Host("B", clock=ManualClock(), rng=random.Random(1)), 9, FlowStats("f"), 1)
    for seq in (0, 2, 3, 7, 20, 5, 12, 13):  # 1 alone is no gap; 4..6, 8..19 are
        sink.receive(seq, 0, 100)
    # 5 arrived late: 4..6 became 4 alone and 6 alone; 12 and 13 cut 8..19 in two runs.
    assert sink.gaps == [[8, 12], [14, 20]]
    assert sink.highest == 20


# --- expectations -----------------------------------------------------------------------------


def test_outage_expectations_pass_and_fail():
    expect = ("expect:\n"
              "  - {outage: main, count: 1, duration: '<= 2s', lost: 200}\n"
              "  - {outage: main, duration: '< 1s'}\n"
              "  - {outage: probe, count: '>= 1', duration: '>= 1.9s'}\n")
    _, result = run("  - {at: 2s, link: A:em0-R:em0, state: down}\n  - {at: 4s, link: A:em0-R:em0, state: up}",
                    expect=expect)
    assert [(e.text, e.holds, e.actual) for e in result.expectations] == [
        ("outages of main count == 1", True, "1"),
        ("outages of main duration <= 2s", True, "2s"),
        ("outages of main lost == 200", True, "200"),
        ("outages of main duration < 1s", False, "2s"),
        ("outages of probe count >= 1", True, "1"),
        ("outages of probe duration >= 1.9s", True, "2s"),
    ]


def test_outage_expectation_without_outage_holds_and_says_so():
    _, result = run("", expect="expect:\n  - {outage: main, duration: '<= 1s'}\n  - {outage: main, count: 0}\n")
    assert [(e.holds, e.actual) for e in result.expectations] == [(True, "no outage"), (True, "0")]


def test_outage_expectation_names_an_existing_flow():
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(ROUTED.format(duration="8s", timeline="", expect="expect:\n  - {outage: mian, count: 0}"),
                       "t.yaml")
    assert str(exc.value.diagnostics[0]) == (
        "t.yaml:26:14: expect[0].outage: no udp flow or ping named 'mian'; did you mean 'main'?")


# --- route changes ---------------------------------------------------------------------------


def test_route_changes_are_listed_with_their_times():
    _, result = run("  - {at: 1s, host: A, run: route add 10.9.0.0/16 10.0.1.2}\n"
                    "  - {at: 3s, host: A, run: route delete 10.9.0.0/16}")
    assert result.route_changes == [
        {"time": 1.0, "host": "A", "change": "add", "destination": "10.9.0.0/16", "gateway": "10.0.1.2",
         "interface": "em0", "flags": "UGS"},
        {"time": 3.0, "host": "A", "change": "delete", "destination": "10.9.0.0/16", "gateway": "10.0.1.2",
         "interface": "em0", "flags": "UGS"},
    ]
    lines = result.summary().splitlines()
    start = lines.index("Route changes")
    assert lines[start + 1:start + 4] == [
        "     time  host  change  destination  gateway   interface  flags",
        "  1.000 s  A     add     10.9.0.0/16  10.0.1.2  em0        UGS",
        "  3.000 s  A     delete  10.9.0.0/16  10.0.1.2  em0        UGS",
    ]


def test_the_summary_shows_twenty_route_changes_then_counts_the_rest():
    script = "\n".join(f"      route add 10.{i}.0.0/16 10.0.1.2" for i in range(25))
    _, result = run(f"  - at: 1s\n    host: A\n    run: |\n{script}")
    assert len(result.route_changes) == 25
    lines = result.summary().splitlines()
    start = lines.index("Route changes")
    assert lines[start + 22] == "  ... and 5 more"
    assert result.route_changes[24]["destination"] == "10.24.0.0/16"


def test_route_flags_as_netstat_prints_them():
    assert format_route_flags(0x1 | 0x2 | 0x8000) == "UG1"


# --- a host down and up ----------------------------------------------------------------------


class Daemon:
    def __init__(self):
        self.stopped = 0

    def stop(self):
        self.stopped += 1


def test_host_down_drops_what_reaches_it_and_boots_with_its_lines():
    sim, result = run("  - {at: 1.5s, host: R, run: route add 10.9.0.0/16 10.0.2.1}\n"
                      "  - {at: 2s, host: R, state: down}\n  - {at: 4s, host: R, state: up}", duration="6s")
    net = sim.network
    # What A sent towards R while R was off: 200 datagrams and 20 echo requests, all on R.
    assert result.drops_by_host == {"R": {"host down": 220}}
    assert outages(result, "main") == [(2.0, 4.0, 200)]
    r = net.host("R")
    assert r.powered and r.sysctl["net.inet.ip.forwarding"] == 1
    routes = [(str(rt.dest), rt.ifp.name) for rt in r.fibs[0].routes(4)]
    # The run: block's addresses and connected routes are back; the timeline's route add is not.
    assert routes == [("10.0.1.0/24", "em0"), ("10.0.1.2/32", "lo0"), ("10.0.2.0/24", "em1"),
                      ("10.0.2.2/32", "lo0"), ("127.0.0.1/32", "lo0")]
    deleted = [(c["time"], c["destination"]) for c in result.route_changes if c["change"] == "delete"]
    assert (2.0, "10.9.0.0/16") in deleted and all(t == 2.0 for t, _ in deleted)
    assert {c["time"] for c in result.route_changes if c["change"] == "add" and c["time"] > 1.5} == {4.0}
    assert result.timeline[1:] == [{"time": 2.0, "what": "host R powered off"}, {"time": 4.0, "what": "host R boots"}]


def test_host_down_stops_its_daemons_and_boot_hooks_run():
    sim = ipsecsim.loads(ROUTED.format(duration="6s", expect="", timeline=(
        "  - {at: 2s, host: R, state: down}\n  - {at: 4s, host: R, state: up}")), "routed.yaml")
    daemon, booted = Daemon(), []
    sim.network.host("R").daemons["ospfd"] = daemon
    sim.network.boot_hooks.append(lambda name: booted.append((name, sim.network.now, sim.network.host(name).powered)))
    sim.run()
    assert daemon.stopped == 1 and sim.network.host("R").daemons == {}
    assert booted == [("R", 4.0, True)]


def test_a_host_down_sends_nothing_and_counts_failed_sends():
    sim, result = run("  - {at: 2s, host: A, state: down}\n  - {at: 4s, host: A, state: up}", duration="6s")
    main = result.flows["main"]
    assert (main["sent"], main["send_errors"], main["received"]) == (500, 200, 300)
    probe = next(p for p in result.pings if p["name"] == "probe")
    assert probe["errors"] == 20
    assert outages(result, "main") == [(2.0, 4.0, 200)]
    assert "ping: sendto: Network is down" in [line for _, line in result.console["A"]]


def test_a_rebooted_host_loses_its_sas_unless_its_lines_add_them():
    text = """\
name: sas
duration: 4s
links:
  - {a: A:em0, b: B:em0}
hosts:
  A:
    run: |
      ifconfig em0 inet 10.0.0.1/24
      setkey -c <<EOF
      add 10.0.0.1 10.0.0.2 esp 1000 -E rijndael-cbc "0123456789abcdef";
      EOF
  B:
    run: ifconfig em0 inet 10.0.0.2/24
timeline:
  - at: 1s
    host: B
    run: |
      setkey -c <<EOF
      add 10.0.0.2 10.0.0.1 esp 2000 -E rijndael-cbc "0123456789abcdef";
      EOF
  - {at: 2s, host: A, state: down}
  - {at: 2s, host: B, state: down}
  - {at: 3s, host: A, state: up}
  - {at: 3s, host: B, state: up}
"""
    sim = ipsecsim.loads(text, "sas.yaml")
    sim.run()
    a, b = sim.network.host("A"), sim.network.host("B")
    assert [sa.spi for sa in a.keydb.sas()] == [1000]
    assert b.keydb.sas() == []
    assert [str(x.interface) for x in b.interface("em0").addrs4] == ["10.0.0.2/24"]


def test_a_rebooted_host_loses_cloned_interfaces_and_sysctls():
    text = """\
name: clones
duration: 3s
links:
  - {a: A:em0, b: B:em0}
hosts:
  A:
    run: ifconfig em0 inet 10.0.0.1/24
  B:
timeline:
  - at: 0.5s
    host: A
    run: |
      ifconfig ipsec0 create reqid 100
      sysctl net.inet.ip.forwarding=1
      ifconfig em0 mtu 1400
  - {at: 1s, host: A, state: down}
  - {at: 2s, host: A, state: up}
"""
    sim = ipsecsim.loads(text, "clones.yaml")
    sim.run()
    a = sim.network.host("A")
    assert sorted(a.interfaces) == ["em0", "lo0"]
    assert a.sysctl["net.inet.ip.forwarding"] == 0
    assert a.interface("em0").mtu == 1500 and a.interface("em0").is_up
    assert a.ipsec_softcs is None


def test_timeline_run_on_a_host_that_is_down_is_a_note():
    _, result = run("  - {at: 2s, host: R, state: down}\n  - {at: 3s, host: R, run: ifconfig em0}", duration="4s")
    assert any("host R is down at 3s; the commands did not run" in n for n in result.notes)


def test_results_without_the_new_fields_still_read():
    _, result = run("  - {at: 2s, link: A:em0-R:em0, state: down}", duration="3s")
    data = result.to_dict()
    assert data["outages"] and "route_changes" in data
    del data["outages"], data["route_changes"]
    old = Result.from_dict(data)
    assert old.outages == [] and old.route_changes == []
    assert Result.from_dict(result.to_dict()).outages == result.outages


def test_route_expectations_are_checked_at_the_end():
    expect = ("expect:\n"
              "  - {route: {host: A, to: 10.0.2.1}, via: em0, gateway: 10.0.1.2}\n"
              "  - {route: {host: A, to: 10.9.0.0/16}, via: em0}\n"
              "  - {route: {host: A, to: 10.0.1.0/24}, gateway: 10.0.1.2}\n"
              "  - {route: {host: B, to: 10.7.0.0/16}, via: em0}\n")
    _, result = run("  - {at: 1s, host: A, run: route add 10.9.0.0/16 10.0.1.2}\n"
                    "  - {at: 2s, host: A, run: route delete 10.9.0.0/16}", duration="3s", expect=expect)
    assert [(e.text, e.holds, e.actual) for e in result.expectations] == [
        ("route A to 10.0.2.1 via em0", True, "em0"),
        ("route A to 10.0.2.1 gateway 10.0.1.2", True, "10.0.1.2"),
        ("route A to 10.9.0.0/16 via em0", False, "no route"),
        ("route A to 10.0.1.0/24 gateway 10.0.1.2", False, "link#2"),
        ("route B to 10.7.0.0/16 via em0", False, "no route"),
    ]


@pytest.mark.parametrize("entry, message", [
    ("{route: {host: A, to: 10.0.300.0/24}, via: em0}",
     "t.yaml:26:27: expect[0].route.to: '10.0.300.0/24' is not an address or a prefix; write it like 10.2.0.0/24 or 10.2.0.1"),
    ("{route: {host: Q, to: 10.0.0.0/24}, via: em0}",
     "t.yaml:26:20: expect[0].route.host: no host 'Q'; hosts are: A, R, B"),
    ("{route: {host: A, to: 10.0.0.0/24}}",
     "t.yaml:26:5: expect[0]: nothing to check; add a measure, e.g. via: ipsec0"),
])
def test_bad_route_expectations_are_placed(entry, message):
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(ROUTED.format(duration="8s", timeline="", expect=f"expect:\n  - {entry}"), "t.yaml")
    assert str(exc.value.diagnostics[0]) == message


def test_a_host_powered_off_loses_the_fragments_it_held_and_the_books_balance():
    text = """\
name: fragments
duration: 3s
links:
  - {a: A:em0, b: B:em0, bandwidth: 1Mbit/s, delay: 1ms}
hosts:
  A:
    run: ifconfig em0 inet 10.0.0.1/24
  B:
    run: ifconfig em0 inet 10.0.0.2/24
traffic:
  - {udp: {name: big, from: A, to: 10.0.0.2, rate: 400kbit/s, size: 4000}}
timeline:
  - {at: 0.98s, host: B, state: down}
  - {at: 2s, host: B, state: up}
"""
    sim = ipsecsim.loads(text, "fragments.yaml")
    held = []
    sim.network.at(0.9799, lambda: held.append(len(sim.network.host("B").inet4.reassembler)))
    result = sim.run()
    # The datagram sent at 0.96 s (three fragments, 12 ms each at 1 Mbit/s) was half there at 0.98 s.
    assert held == [1]
    assert result.ledger["unaccounted"] == 0 and result.ledger["in_reassembly"] == 0
    assert result.ledger["dropped"] == {"host down": 13}
    assert outages(result, "big") == [(0.96, 2.0, 13)]


def test_a_ping_started_while_its_host_is_down_counts_each_reply_once():
    sim = ipsecsim.loads(ROUTED.format(duration="4s", expect="", timeline=(
        "  - {at: 0.01s, host: A, state: down}\n  - {at: 1s, host: A, state: up}")), "routed.yaml")
    result = sim.run()
    probe = next(p for p in result.pings if p["name"] == "probe")
    # Requests every 100 ms from 50 ms: 0.05 .. 0.95 s fail; the rest are answered, once each.
    assert (probe["transmitted"], probe["errors"], probe["received"], probe["duplicates"]) == (40, 10, 30, 0)
    assert outages(result, "probe") == [(0.05, 1.05, 10)]


def test_traffic_to_a_host_that_is_down_is_dropped_there():
    _, result = run("  - {at: 2s, host: B, state: down}\n  - {at: 3s, host: B, state: up}", duration="4s")
    # R forwards A's datagrams and echo requests into the cable; B, off, drops them.
    assert result.drops_by_host == {"B": {"host down": 110}}
    assert outages(result, "main") == [(2.0, 3.0, 100)]


def test_packets_still_on_their_way_at_the_end_are_no_outage():
    text = ROUTED.format(duration="3s", expect="", timeline="").replace("delay: 1ms}", "delay: 50ms}")
    result = ipsecsim.loads(text, "slow.yaml").run()
    # 100 ms of path delay at 100 datagrams a second: ten are in flight when the run ends.
    assert result.flows["main"]["sent"] - result.flows["main"]["received"] == 10
    assert result.outages == []


def test_programs_a_script_started_die_with_the_host_and_start_again_at_boot():
    text = ROUTED.format(duration="4s", expect="", timeline=(
        "  - {at: 1s, host: A, state: down}\n  - {at: 2s, host: A, state: up}"))
    text = text.replace("      route add default 10.0.1.2\n", "      route add default 10.0.1.2\n"
                        "      ping -c 100 -i 0.5 10.0.2.1\n", 1)
    sim = ipsecsim.loads(text, "typed.yaml")
    result = sim.run()
    typed = [p for p in result.pings if p["name"] != "probe"]
    # The first ping sent at 0, 0.5 s and died at 1 s, printing nothing; the boot started another.
    assert [(p["transmitted"], p["received"]) for p in typed] == [(2, 2), (4, 4)]
    lines = [line for _, line in result.console["A"]]
    assert lines.count("PING 10.0.2.1 (10.0.2.1): 56 data bytes") == 3  # with the traffic ping, probe
    sim.close()  # pings still running print their statistics; the one that died does not
    first, second = sim.network.shells["A"].programs
    assert first.done and not any("ping statistics" in line for line in first.lines)
    assert any("ping statistics" in line for line in second.lines)
