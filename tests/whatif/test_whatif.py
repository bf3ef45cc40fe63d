"""What-if answers against the packet simulation of the same failure, once OSPF has converged.

The oracle walks the simulated hosts' own routing tables (filled by the real ospfd, from the
OSPF packets they exchanged) after the failure and the dead interval, hop by hop."""

from __future__ import annotations

from ipaddress import IPv4Address
import json
from pathlib import Path

from click.testing import CliRunner
import pytest

from ipsecsim.cli import main
from ipsecsim.scenario import load_scenario, parse_scenario
from ipsecsim.scenario.build import build_network
from ipsecsim.whatif import Failure, analyse, model_from_network
from ipsecsim.whatif.generate import generate, generated_model, scenario_yaml

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
VPN = SCENARIOS / "vpn_failover.yaml"


def simulated_path(net, start: str, dst: IPv4Address, fib: int = 0) -> tuple[bool, tuple[str, ...]]:
    """(delivered, host:interface hops) of a packet, from the simulated kernels' routing tables."""
    host, hops, origin = net.host(start), [], True
    for _ in range(64):
        if dst.packed in host.local4:
            return True, tuple(hops)
        if not origin and not host.inet4.forwarding:
            return False, tuple(hops)
        route = host.fibs[fib].lookup(dst.packed)
        if route is None:
            return False, tuple(hops)
        ifp = route.ifp
        hops.append(f"{host.name}:{ifp.name}")
        if ifp.kind == "ether":
            link = next(l for l in net.links.values() if ifp in (l.a, l.b))
            if not link.carrier:
                return False, tuple(hops)
            far = link.b if ifp is link.a else link.a
            host, fib = far.host, far.fib
        elif ifp.kind == "ipsec":
            ok, _ = simulated_path(net, host.name, ifp.dst, ifp.tunnel_fib)
            if not ok:
                return False, tuple(hops)
            owner = next(h for h in net.hosts.values() if ifp.dst.packed in h.local4)
            far = next(i for i in owner.interfaces.values() if i.kind == "ipsec" and i.dst == ifp.src)
            host, fib = owner, far.fib
        else:
            return False, tuple(hops)
        origin = False
    return False, tuple(hops)


def packets_arrive(net, items) -> list[bool]:
    """Send real packets now: one echo request per ping item (its reply must come back), a
    short UDP burst per flow item; which got through."""
    stats = []
    for item in items:
        tag = f"check-{item.name}-{len(net.flows) + len(net.pings)}"
        if item.kind == "ping":
            stats.append(net.start_ping(item.host, item.dst, start=net.now, count=1, name=tag,
                                        source=item.src).stats)
        else:
            stats.append(net.start_udp(tag, item.host, item.dst, rate=1e5, size=100, start=net.now,
                                       stop=net.now + 0.05, dport=20000 + len(net.flows), source=item.src))
    net.run(net.now + 2)
    return [s.received > 0 for s in stats]


def assert_agrees(net, model, answer_paths, when: str) -> int:
    """The paths equal the simulated kernels' route lookups, and real packets get through
    exactly when what-if says the item is reachable."""
    checked = 0
    traffic = [(item, path) for item, path in answer_paths
               if item.kind != "tunnel" and not (path.reason or "").startswith("not analysed")]
    for (item, path), arrived in zip(traffic, packets_arrive(net, [item for item, _ in traffic])):
        assert path.ok == arrived, f"{when}: {item.name}: what-if says {'ok' if path.ok else path.reason}"
    for item, path in answer_paths:  # the tunnels' outer packets: the route lookups only
        if item.kind == "tunnel" and not (path.reason or "").startswith("not analysed"):
            assert (path.reachable, path.hops) == simulated_path(net, item.host, item.dst, item.fib), when
    for item, path in traffic:
        delivered, hops = simulated_path(net, item.host, item.dst)
        assert path.hops == hops, f"{when}: {item.name}"
        if not path.tunnels:  # the walk above does not look at SAs; the packets did
            assert path.reachable == delivered, f"{when}: {item.name}"
        if item.kind == "ping" and path.reachable:
            route = net.host(item.host).fibs[0].lookup(item.dst.packed)
            source = route.source or route.ifp.first_address(4)
            end = next(h for h in net.hosts.values() if item.dst.packed in h.local4)
            assert path.reply is not None and (path.reply.reachable, path.reply.hops) == simulated_path(
                net, end.name, source), f"{when}: {item.name} reply"
        checked += 1
    return checked


def _failure_paths(model, failure):
    answer = analyse(model, [failure], shortcut=False)
    changed = {change.item.name: change.after for change in answer.results[0].changes}
    return [(item, changed.get(item.name, path)) for item, path in answer.base]


def test_vpn_failover_isp1_moves_lan_loses():
    scenario = load_scenario(VPN)
    model = model_from_network(build_network(scenario, traffic=False), scenario)
    answer = analyse(model, [Failure(links=(name,)) for name in sorted(model.links)])
    by_link = {r.failure.links[0]: {c.item.name: c for c in r.changes} for r in answer.results}
    for link in ("A:em0-isp1:em0", "isp1:em1-B:em0"):
        for name in ("sites", "pcB"):
            change = by_link[link][name]
            assert change.status == "moved"
            assert change.after.hops == ("pcA:em0", "A:ipsec1", "B:em2")
            assert (change.before.cost, change.after.cost) == (11, 101)
    for link in ("pcA:em0-A:em2", "pcB:em0-B:em2"):
        assert {by_link[link][n].status for n in ("sites", "pcB")} == {"lost"}
    for link in ("A:em1-isp2:em0", "isp2:em1-B:em1"):
        assert "sites" not in by_link[link] and "pcB" not in by_link[link]


@pytest.mark.parametrize("link", ["isp1:em1-B:em0", "A:em1-isp2:em0", "pcB:em0-B:em2"])
def test_vpn_failover_agrees_with_simulation(link):
    scenario = load_scenario(VPN)
    net = build_network(parse_scenario(VPN.read_text().split("\ntimeline:")[0] + "\n", str(VPN)), traffic=False)
    model = model_from_network(net, scenario)
    net.run(10)
    base = analyse(model, []).base
    assert assert_agrees(net, model, base, "base") == 2
    net.link(link).set_state(False)
    net.run(20)  # dead interval 4 s, SPF throttling: converged long before
    assert assert_agrees(net, model, _failure_paths(model, Failure(links=(link,))), link) == 2


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_networks_agree_with_simulation(seed):
    routers = 5 + 2 * seed  # 7 to 13, with 2 to 3 cables more than a tree; small costs make ties
    generated = generate(routers, 2, seed=seed, extra=0.3, max_cost=20 if seed % 2 else 2, pings=2)
    text = scenario_yaml(generated)
    model = generated_model(generated)
    answer = analyse(model, [])
    crossed = sorted({link for _, path in answer.base for link in path.links})
    statuses = set()
    for link in crossed[seed % 2::2]:  # half of the cables some flow crosses, a fresh network each
        scenario = parse_scenario(text, f"generated-{seed}.yaml")
        net = build_network(scenario, traffic=False)
        built = model_from_network(net, scenario)
        # The generator's own model gives the same answer as the built network's.
        assert [p for _, p in analyse(built, []).base] == [p for _, p in answer.base]
        net.run(30)
        assert assert_agrees(net, model, answer.base, "base") == 4
        net.link(link).set_state(False)
        net.run(30 + 40 + 20)  # the default dead interval is 40 s
        failed = analyse(model, [Failure(links=(link,))], shortcut=False)
        statuses.update(change.status for change in failed.results[0].changes)
        assert assert_agrees(net, model, _failure_paths(model, Failure(links=(link,))), link) == 4
    assert statuses  # each failure tried breaks or moves something


def test_random_networks_both_move_and_lose():
    generated = generate(12, 4, seed=3, extra=0.3)
    model = generated_model(generated)
    answer = analyse(model, [Failure(links=(name,)) for name in sorted(model.links)])
    assert {c.status for r in answer.results for c in r.changes} == {"moved", "lost"}


def test_shortcut_gives_the_full_answer():
    model = generated_model(generate(200, 30, seed=7))
    failures = [Failure(links=(name,)) for name in sorted(model.links)]
    fast = analyse(model, failures)
    full = analyse(model, failures, shortcut=False)
    assert [(r.failure, r.changes) for r in fast.results] == [(r.failure, r.changes) for r in full.results]
    assert any(r.changes for r in fast.results) and any(not r.changes for r in fast.results)


def test_cli_each_link_and_json(tmp_path):
    out = tmp_path / "w.json"
    result = CliRunner().invoke(main, ["whatif", str(VPN), "--each-link", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Failure: link isp1:em1-B:em0" in result.output
    assert "after:  3 hops, cost 101: pcA:em0 > A:ipsec1 > B:em2 > pcB" in result.output
    data = json.loads(out.read_text())
    assert data["format"] == 1 and len(data["failures"]) == 6
    lan = next(f for f in data["failures"] if f["links"] == ["pcA:em0-A:em2"])
    assert {a["name"]: a["status"] for a in lan["affected"]}["sites"] == "lost"


def test_cli_bad_failure_name():
    result = CliRunner().invoke(main, ["whatif", str(VPN), "--fail", "A:em9-B:em9"])
    assert result.exit_code == 2
    assert "--fail A:em9-B:em9: no link or host" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("host", ["isp1", "isp2"])
def test_vpn_failover_host_failure_agrees_with_simulation(host):
    scenario = load_scenario(VPN)
    net = build_network(parse_scenario(VPN.read_text().split("\ntimeline:")[0] + "\n", str(VPN)), traffic=False)
    model = model_from_network(net, scenario)
    net.run(10)
    net.host_down(host)
    net.run(20)
    assert assert_agrees(net, model, _failure_paths(model, Failure(hosts=(host,))), host) == 2


def test_shortcut_gives_the_full_answer_with_tunnels():
    scenario = load_scenario(VPN)
    model = model_from_network(build_network(scenario, traffic=False), scenario)
    failures = [Failure(links=(name,)) for name in sorted(model.links)]
    fast, full = analyse(model, failures), analyse(model, failures, shortcut=False)
    assert [r.changes for r in fast.results] == [r.changes for r in full.results]


def test_same_input_same_bytes(tmp_path):
    outputs = []
    for name in ("a.json", "b.json"):
        result = CliRunner().invoke(main, ["whatif", str(VPN), "--each-link", "--each-host", "--quiet",
                                           "--json", str(tmp_path / name)])
        assert result.exit_code == 0
        outputs.append((result.output, (tmp_path / name).read_bytes()))
    assert outputs[0] == outputs[1]
    assert "Failure: host isp1" in outputs[0][0]


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration: 1s\nlinks:\n  - {a: A:em0, b: B:em0, bandwith: 1}\n")
    for args, says in ((["whatif", str(bad)], "bad.yaml:4:26: links[0].bandwith"),
                       (["whatif", str(tmp_path / "none.yaml")], "no such scenario file"),
                       (["whatif", str(VPN), "--quiet", "--json", str(tmp_path / "no" / "w.json")],
                        f"--json {tmp_path / 'no' / 'w.json'}: No such file")):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and says in result.output, result.output
        assert "Traceback" not in result.output


def test_cli_fail_several_at_once():
    result = CliRunner().invoke(main, ["whatif", str(VPN), "--fail", "isp1", "--fail", "A:em1-isp2:em0", "--quiet"])
    assert result.exit_code == 0
    assert "Failure: link A:em1-isp2:em0, host isp1" in result.output
    assert "0 unaffected" in result.output
