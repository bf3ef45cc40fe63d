"""Per-flow statistics and time series (world/flowmon.py) against figures known another way:
the traffic's own arithmetic, the links' and hosts' drop counters, RFC 4303's ESP sizes."""

from pathlib import Path

from click.testing import CliRunner
import pytest

import ipsecsim
from ipsecsim.cli import main
from ipsecsim.report import Result
from ipsecsim.scenario.units import UnitError

SCENARIOS = Path(__file__).resolve().parent.parent.parent / "scenarios"

TWO_HOSTS = """
name: two hosts
duration: {duration}
seed: 3
links:
  - {{name: wire, a: A:em0, b: B:em0, bandwidth: 100Mbit/s, delay: 1ms}}
hosts:
  A:
    run: ifconfig em0 inet 10.0.0.1/24
  B:
    run: ifconfig em0 inet 10.0.0.2/24
traffic:
{traffic}
timeline:
{timeline}
"""

# 1000-byte payloads at 800 kbit/s: one every 10 ms, 10 per 100 ms bin; starting at 5 ms, no
# packet leaves or arrives on a bin boundary.
def cbr(stop: str = "5s") -> str:
    return f"  - {{udp: {{name: cbr, from: A, to: 10.0.0.2, rate: 800kbit/s, size: 1000, start: 5ms, stop: {stop}}}}}"


CBR = cbr()
IP_BYTES = 1000 + 8 + 20  # payload, UDP header, IPv4 header


def run(traffic: str, timeline: str = "  []", duration: str = "6s", **options):
    text = TWO_HOSTS.format(duration=duration, traffic=traffic, timeline=timeline)
    if timeline.strip() == "[]":
        text = text.replace("timeline:\n  []\n", "")
    sim = ipsecsim.loads(text, **options)
    result = sim.run()
    sim.close()
    return sim, result


def by_label(result, label):
    return next(f for f in result.flow_stats if f["label"] == label)


def test_a_cbr_flow_over_a_lossless_link_arrives_whole_at_its_offered_rate_in_every_bin():
    _, result = run(CBR)
    flow = by_label(result, "cbr")
    assert (flow["kind"], flow["protocol"], flow["src"], flow["dst"], flow["dport"]) == ("ip", "udp", "10.0.0.1",
                                                                                         "10.0.0.2", 9)
    assert flow["tx_packets"] == flow["rx_packets"] == 500 == result.flows["cbr"]["received"]
    assert flow["tx_bytes"] == flow["rx_bytes"] == 500 * IP_BYTES
    assert flow["lost_packets"] == 0 and flow["tunnel"] is None and flow["spi"] is None
    # One-way delay: 1 ms of wire plus the time to clock the datagram out at 100 Mbit/s.
    assert flow["delay_min"] == pytest.approx(0.001 + IP_BYTES * 8 / 100e6, rel=1e-9)
    assert flow["delay_p50"] == pytest.approx(flow["delay_mean"], rel=0.005)
    assert result.flows["cbr"]["rate"] == 800e3
    series = result.timeseries
    assert series["bin"] == 0.1 and series["end"] == 6.0 and len(series["times"]) == 60
    assert series["times"][:3] == [0.0, 0.1, 0.2]
    cbr = series["flows"]["cbr"]
    offered = 10 * IP_BYTES * 8 / 0.1
    assert cbr["offered"][:50] == [pytest.approx(offered)] * 50 and cbr["throughput"][:50] == [pytest.approx(offered)] * 50
    assert cbr["tx_packets"][50:] == [0] * 10 and sum(cbr["rx_packets"]) == 500
    wire = series["interfaces"]["A:em0"]
    assert wire["out_packets"][:50] == [10] * 50
    assert wire["out_rate"][3] == pytest.approx(10 * IP_BYTES * 8 / 0.1)


def test_a_link_flap_shows_as_zero_throughput_in_the_bins_it_covers():
    timeline = "  - {at: 2s, link: wire, state: down}\n  - {at: 3s, link: wire, state: up}"
    _, result = run(CBR, timeline)
    cbr = result.timeseries["flows"]["cbr"]
    assert cbr["throughput"][20:30] == [0.0] * 10
    assert cbr["rx_packets"][19] == 10 and cbr["rx_packets"][30] == 10
    assert cbr["offered"][20:30] == [pytest.approx(10 * IP_BYTES * 8 / 0.1)] * 10
    flow = by_label(result, "cbr")
    assert flow["lost_packets"] == flow["tx_packets"] - flow["rx_packets"] == 100
    assert flow["lost_by_reason"] == {reason: 100 for reason in result.drops}
    assert sum(result.timeseries["drops"][next(iter(result.drops))][20:30]) == 100


def test_lossy_links_lost_packets_are_their_drop_counters():
    sim = ipsecsim.load(SCENARIOS / "lossy_link.yaml")
    result = sim.run()
    sim.close()
    for reason, count in result.drops.items():
        assert sum(f["lost_by_reason"].get(reason, 0) for f in result.flow_stats) == count
    stream = by_label(result, "stream")
    assert stream["lost_packets"] == result.flows["stream"]["sent"] - result.flows["stream"]["received"] > 0
    assert {f["label"] for f in result.flow_stats} == {"stream", "ping-1", "ping-1 reply"}
    assert sum(row["packets"] for row in result.drops_by_place) == sum(result.drops.values())
    for row in result.drops_by_place:
        assert set(row) == {"reason", "host", "interface", "link", "sa", "packets"}
        if row["reason"] in ("link loss", "link down"):
            assert row["link"] == "last-hop"
    assert result.drops_by_place == sorted(result.drops_by_place,
                                           key=lambda r: (r["reason"], r["host"], r["interface"] or "", r["sa"] or ""))
    delays = [d for d, _ in stream["delay_cdf"]]
    assert delays == sorted(delays) and stream["delay_cdf"][-1][1] == 1.0 and len(delays) <= 201
    assert stream["delay_min"] <= stream["delay_p50"] <= stream["delay_p90"] <= stream["delay_p99"] <= stream["delay_max"]


def esp_size(inner: int, iv: int = 16, block: int = 16, icv: int = 0) -> int:
    """RFC 4303 tunnel mode: outer IPv4, SPI and sequence, IV, payload padded with its 2 trailer bytes, ICV."""
    padded = -(-(inner + 2) // block) * block
    return 20 + 8 + iv + padded + icv


def test_the_inner_and_outer_flows_of_the_host_a_b_tunnel_agree():
    sim = ipsecsim.load(SCENARIOS / "if_ipsec_host_a_b.yaml")
    result = sim.run()
    sim.close()
    bulk, ping, reply = (by_label(result, name) for name in ("bulk", "ping-1", "ping-1 reply"))
    assert bulk["tunnel"] == ping["tunnel"] == "A:ipsec0" and reply["tunnel"] == "B:ipsec0"
    out = next(f for f in result.flow_stats if f["kind"] == "esp" and f["spi"] == 10000)
    back = next(f for f in result.flow_stats if f["kind"] == "esp" and f["spi"] == 10001)
    assert (out["src"], out["dst"], out["protocol"], out["label"]) == ("192.168.0.3", "192.168.0.5", "esp", "esp spi 10000 to 192.168.0.5")
    assert out["tx_packets"] == out["rx_packets"] == bulk["tx_packets"] + ping["tx_packets"] == 15005
    assert back["tx_packets"] == reply["rx_packets"] == 5
    assert out["inner_bytes"] == bulk["tx_bytes"] + ping["tx_bytes"]
    assert out["tx_bytes"] == 15000 * esp_size(IP_BYTES) + 5 * esp_size(84)
    assert out["overhead"] == out["tx_bytes"] / out["inner_bytes"]
    assert bulk["overhead"] is None and bulk["inner_bytes"] is None
    assert result.pings[0]["rtts"] == [[float(t), pytest.approx(0.0020224)] for t in range(5)]
    # Every packet arrived: nothing is left in the tables that wait for packets (memory stays flat).
    monitor = sim.network.flowmon
    assert not (monitor.sent or monitor.sent_before or monitor.carried or monitor.carried_before)


def test_two_pings_between_the_same_hosts_are_two_flows_and_replies_their_own():
    traffic = ("  - {ping: {from: A, to: 10.0.0.2, count: 3, interval: 1s}}\n"
               "  - {ping: {from: A, to: 10.0.0.2, count: 2, interval: 1s}}")
    _, result = run(traffic, duration="4s")
    rows = {f["label"]: f for f in result.flow_stats}
    assert set(rows) == {"ping-1", "ping-2", "ping-1 reply", "ping-2 reply"}
    assert rows["ping-1"]["sport"] != rows["ping-2"]["sport"]
    assert [rows[n]["tx_packets"] for n in ("ping-1", "ping-2", "ping-1 reply", "ping-2 reply")] == [3, 2, 3, 2]
    assert rows["ping-1 reply"]["src"] == "10.0.0.2" and rows["ping-1 reply"]["protocol"] == "icmp"
    assert [r["id"] for r in result.flow_stats] == list(range(1, 5))


def test_the_same_seed_writes_the_same_json():
    first = run(cbr("2s"), duration="2s", seed=5)[1].to_json()
    assert first == run(cbr("2s"), duration="2s", seed=5)[1].to_json()


def test_send_times_older_than_the_max_packet_age_are_forgotten():
    timeline = "  - {at: 1s, link: wire, state: down}"
    text = TWO_HOSTS.format(duration="5s", traffic=CBR, timeline=timeline)
    sim = ipsecsim.loads(text)
    sim.network.flowmon.max_age = 0.5
    sim.run()
    assert sim.network.flowmon.pending() <= 101  # two half seconds of packets, never the 500 sent
    sim.close()


def test_bins_of_another_width_and_a_partly_covered_last_bin():
    _, result = run(cbr("1.025s"), duration="1.025s", bin="50ms")
    series = result.timeseries
    assert series["bin"] == 0.05 and series["end"] == 1.025 and len(series["times"]) == 21
    assert series["flows"]["cbr"]["tx_packets"][:20] == [5] * 20
    # The last bin, from 1 s, covers 25 ms: the packets sent at 1.005 and 1.015 s, over 25 ms.
    assert series["flows"]["cbr"]["offered"][20] == pytest.approx(2 * IP_BYTES * 8 / 0.025)


def test_the_bin_option(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(TWO_HOSTS.format(duration="1s", traffic=cbr("1s"), timeline="  []").replace("timeline:\n  []\n", ""))
    out = tmp_path / "r.json"
    runner = CliRunner()
    done = runner.invoke(main, ["run", str(path), "--bin", "20ms", "--json", str(out), "--quiet"])
    assert done.exit_code == 0, done.output
    assert Result.from_json(out).timeseries["bin"] == 0.02
    bad = runner.invoke(main, ["run", str(path), "--bin", "0s"])
    assert bad.exit_code == 2 and "bin" in bad.output and "Traceback" not in bad.output
    with pytest.raises(UnitError, match="bin"):
        ipsecsim.load(path, bin="fast")


def test_an_esp_packet_dropped_counts_for_its_sa_and_for_the_flow_it_carried():
    text = (SCENARIOS / "if_ipsec_host_a_b.yaml").read_text()
    text = text.replace('"VerySecureKey!!1";', '"VerySecureKey!!1" -A hmac-sha2-256 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";')
    at_b = text.index("  B:")  # B checks SPI 10000 with another key: every packet fails authentication
    text = text[:at_b] + text[at_b:].replace("AAAAAAAA", "BBBBBBBB").split("expect:")[0]
    sim = ipsecsim.loads(text)
    result = sim.run()
    sim.close()
    assert result.drops == {"esps_badauth": 15005}
    assert result.drops_by_place == [{"reason": "esps_badauth", "host": "B", "interface": "em0",
                                      "link": "A:em0-B:em0", "sa": "spi 10000 192.168.0.3 -> 192.168.0.5",
                                      "packets": 15005}]
    bulk, ping = by_label(result, "bulk"), by_label(result, "ping-1")
    assert (bulk["rx_packets"], bulk["lost_by_reason"]) == (0, {"esps_badauth": 15000})
    assert ping["lost_by_reason"] == {"esps_badauth": 5}
    esp = next(f for f in result.flow_stats if f["spi"] == 10000)
    assert esp["lost_by_reason"] == {"esps_badauth": 15005}
