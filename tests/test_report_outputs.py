"""What is made from a result after the run: report's text, plots, CSV, DataFrames, HTML, topology."""

import csv
import dataclasses
import json
from pathlib import Path
import xml.etree.ElementTree as ET

from click.testing import CliRunner
import pytest

import ipsecsim
from ipsecsim.cli import main
from ipsecsim.report import Result
from ipsecsim.report.export import EVENT_COLUMNS, FLOW_COLUMNS, TIMESERIES_COLUMNS
from ipsecsim.report.plots import esp_overhead

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
PNG = b"\x89PNG\r\n\x1a\n"


def made_result(name="made <up> & run") -> Result:
    """A result with every reporting field filled by hand, as the measuring code will fill them."""
    times = [0.0, 1.0, 2.0, 3.0]
    flow = {"tx_packets": [10, 10, 10, 10], "tx_bytes": [1e4] * 4, "rx_packets": [10, 9, 10, 10],
            "rx_bytes": [1e4, 9e3, 1e4, 1e4], "throughput": [8e4, 7.2e4, 8e4, 8e4], "offered": [8e4] * 4,
            "delay_mean": [0.002, None, 0.003, 0.002], "lost": [0, 1, 0, 0]}
    stats = {column: None for column in FLOW_COLUMNS}
    return Result(
        name=name, duration=4.0, seed=7,
        pings=[{"from": "A", "to": "10.0.0.2", "name": "p1", "transmitted": 3, "received": 3, "loss": 0.0,
                "rtt_min": 0.001, "rtt_avg": 0.001, "rtt_max": 0.001, "rtt_stddev": 0.0,
                "rtts": [[0.0, 0.001], [1.0, 0.0012], [2.0, 0.0011]]}],
        sas=[{"host": "A", "src": "10.0.0.1", "dst": "10.0.0.2", "spi": 1000, "mode": "tunnel", "reqid": 1,
              "enc": "aes-cbc", "auth": "hmac-sha1", "seq": 3, "packets": 3, "bytes": 300, "state": "mature"}],
        timeline=[{"time": 1.5, "what": "link AB down"}],
        ledger={"sent": 40, "delivered": 39, "dropped": {"link loss": 1}, "in_flight": 0, "in_reassembly": 0,
                "fragment_drops": 0, "unaccounted": 0},
        flow_stats=[{**stats, "id": 1, "label": "bulk", "name": "bulk", "kind": "ip", "tx_packets": 40,
                     "lost_by_reason": {"link loss": 1}, "delay_cdf": [[0.002, 0.5], [0.003, 1.0]]},
                    {**stats, "id": 2, "label": "esp 0x3e8", "kind": "esp", "tx_packets": 40,
                     "delay_cdf": [[0.001, 1.0]]}],
        timeseries={"bin": 1.0, "end": 4.0, "times": times, "flows": {"bulk": flow, "esp 0x3e8": flow},
                    "interfaces": {"A:em0": {"in_rate": [0, 0, 0, 0], "out_rate": [1, 2, 3, 4],
                                             "in_packets": [0] * 4, "out_packets": [1] * 4}},
                    "drops": {"link loss": [0, 1, 0, 0]}},
        drops={"link loss": 1}, drops_by_host={"A": {"link loss": 1}},
        topology={"hosts": {"A": {"interfaces": {"em0": {"kind": "ether", "addresses": ["10.0.0.1/24"], "up": True,
                                                          "mtu": 1500, "tunnel": None}}},
                            "B": {"interfaces": {"em0": {"kind": "ether", "addresses": ["10.0.0.2/24"], "up": True,
                                                          "mtu": 1500, "tunnel": None}}}},
                  "links": [{"name": "AB", "a": "A:em0", "b": "B:em0", "bandwidth": 1e6, "delay": 0.001, "up": True,
                             "utilisation": 0.08}],
                  "tunnels": []},
    )


def data_lines(ax):
    """The plotted series, not the timeline's vertical marks (their labels start with _)."""
    return [line for line in ax.lines if not line.get_label().startswith("_")]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize(("scenario", "extra"), [("if_ipsec_host_a_b.yaml", ()), ("if_ipsec_hub_spokes.yaml", ()),
                                                 ("lossy_link.yaml", ("--quiet",))])
def test_report_prints_what_run_printed_byte_for_byte(tmp_path, scenario, extra):
    saved = tmp_path / "run.json"
    ran = run("run", SCENARIOS / scenario, "--json", saved, "--pcap", tmp_path / "pcap", *extra)
    reported = run("report", saved, *extra)
    assert ran.exit_code == reported.exit_code == 0
    assert reported.output == ran.output
    if not extra:
        assert "Console of " in ran.output and f"\nCaptures: {tmp_path / 'pcap'}/<host>-<interface>.pcap" in ran.output
    else:
        assert "Console of " not in ran.output and "Captures" not in ran.output


def test_topology_of_the_flagship():
    result = ipsecsim.load(SCENARIOS / "if_ipsec_host_a_b.yaml").run()
    topology = result.topology
    assert topology["hosts"]["A"]["interfaces"]["ipsec0"] == {
        "kind": "ipsec", "addresses": ["172.16.0.3/16"], "up": True, "mtu": 1400,
        "tunnel": ["192.168.0.3", "192.168.0.5"]}
    assert topology["hosts"]["B"]["interfaces"]["em0"]["kind"] == "ether"
    assert topology["tunnels"] == [{"a": "A:ipsec0", "b": "B:ipsec0", "src": "192.168.0.3", "dst": "192.168.0.5"},
                                   {"a": "B:ipsec0", "b": "A:ipsec0", "src": "192.168.0.5", "dst": "192.168.0.3"}]
    [link] = topology["links"]
    busiest = max(result.counters["A:em0"]["obytes"], result.counters["B:em0"]["obytes"])
    assert (link["a"], link["b"], link["bandwidth"], link["delay"]) == ("A:em0", "B:em0", 100e6, 0.001)
    assert link["utilisation"] == pytest.approx(busiest * 8 / result.duration / 100e6)
    assert 0 < link["utilisation"] < 1


def test_a_tunnel_without_a_mirror_has_no_peer():
    sim = ipsecsim.load(SCENARIOS / "if_ipsec_host_a_b.yaml", duration=1.0)
    sim.host("B").sh("ifconfig ipsec0 tunnel 192.168.0.5 192.168.0.9")
    result = sim.run()
    assert {t["a"]: t["b"] for t in result.topology["tunnels"]} == {"A:ipsec0": None, "B:ipsec0": None}


def test_figures_carry_the_scenario_name_axis_labels_and_one_line_per_flow():
    result = made_result()
    for figure in (result.plot_throughput(), result.plot_delay(), result.plot_rtt(), result.plot_drops(),
                   result.plot_delay_cdf(), result.plot_overhead()):
        ax = figure.axes[0]
        assert ax.get_title().startswith("made <up> & run: ")
        assert ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_legend() is not None
    throughput = result.plot_throughput().axes[0]
    assert [line.get_label() for line in data_lines(throughput)] == ["bulk offered", "bulk received",
                                                                    "esp 0x3e8 offered", "esp 0x3e8 received"]
    assert list(data_lines(throughput)[1].get_ydata()) == [0.08, 0.072, 0.08, 0.08, 0.08]  # Mbit/s, held to the end
    assert list(data_lines(throughput)[1].get_xdata()) == [0.0, 1.0, 2.0, 3.0, 4.0]
    delay = result.plot_delay().axes[0]
    assert len(data_lines(delay)) == 2 and list(data_lines(delay)[0].get_xdata()) == [0.0, 2.0, 3.0]  # the empty bin skipped
    assert [line.get_label() for line in result.plot_delay_cdf().axes[0].lines] == ["bulk", "esp 0x3e8"]
    rtt = result.plot_rtt().axes[0]
    assert len(data_lines(rtt)) == 1 and len(rtt.lines) == 2  # and the timeline's mark
    # The timeline event is a vertical line with its label on every time axis.
    for figure in (result.plot_throughput(), result.plot_rtt(), result.plot_drops()):
        assert "link AB down" in [t.get_text().strip() for t in figure.axes[0].texts]
    overhead = result.plot_overhead().axes[0]
    assert [line.get_label().split(" (")[0] for line in overhead.lines] == ["aes-cbc + hmac-sha1"]
    topology = result.plot_topology()
    assert "made <up> & run" in topology.axes[0].get_title() and len(topology.axes) == 2  # and its colour bar


def test_esp_overhead_is_what_esp_output_adds():
    # Outer IPv4 20 + ESP header 8 + IV + padding to the block (2-byte trailer) + ICV.
    assert esp_overhead("aes-gcm-16", None, [64, 65, 66]) == [20 + 8 + 8 + 4 + 16, 20 + 8 + 8 + 3 + 16,
                                                           20 + 8 + 8 + 2 + 16]
    assert esp_overhead("aes-cbc", "hmac-sha2-256", [62, 63, 64]) == [20 + 8 + 16 + 2 + 16, 20 + 8 + 16 + 17 + 16,
                                                                       20 + 8 + 16 + 16 + 16]


def test_plot_files_are_valid_and_the_same_bytes_twice(tmp_path):
    result = made_result()
    first = result.write_plots(tmp_path / "one")
    second = result.write_plots(tmp_path / "two")
    names = {p.name for p in first}
    assert names == {f"{n}.{e}" for n in ("topology", "throughput", "delay", "delay_cdf", "rtt", "drops", "overhead")
                     for e in ("png", "svg")}
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
        if a.suffix == ".png":
            assert a.read_bytes().startswith(PNG)
        else:
            assert ET.parse(a).getroot().tag.endswith("svg")


def test_run_plot_and_csv_of_a_real_run(tmp_path):
    ran = run("run", SCENARIOS / "lossy_link.yaml", "--quiet", "--plot", tmp_path / "plots", "--csv", tmp_path / "csv")
    assert ran.exit_code == 0, ran.output
    assert {"topology.png", "topology.svg", "drops.png", "overhead.svg"} <= {p.name for p in (tmp_path / "plots").iterdir()}
    with open(tmp_path / "csv" / "events.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == EVENT_COLUMNS and len(rows) == 3 and {r["source"] for r in rows} == {"timeline"}


def test_a_format_2_file_reports_and_plots(tmp_path):
    result = ipsecsim.load(SCENARIOS / "lossy_link.yaml").run()
    data = result.to_dict()
    data["format"] = 2
    for field in ("timeline", "ledger", "flow_stats", "timeseries", "topology", "interrupted", "planned_duration",
                  "drops_by_place"):
        del data[field]
    for ping in data["pings"]:
        del ping["rtts"]
    for flow in data["flows"].values():
        del flow["rate"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    reported = run("report", old, "--quiet", "--plot", tmp_path / "plots", "--csv", tmp_path / "csv")
    assert reported.exit_code == 0, reported.output
    assert reported.output == dataclasses.replace(result, ledger={}, timeline=[], flow_stats=[]).summary()  # format 2: neither
    assert {p.name for p in (tmp_path / "plots").iterdir()} == {"drops.png", "drops.svg", "overhead.png",
                                                                 "overhead.svg"}
    assert (tmp_path / "csv" / "flows.csv").read_text() == ",".join(FLOW_COLUMNS) + "\n"
    loaded = Result.from_json(old)
    assert loaded.plot_throughput() is None and loaded.plot_topology() is None
    assert "<table>" in loaded._repr_html_()


def test_csv_and_frames(tmp_path):
    pandas = pytest.importorskip("pandas")
    result = made_result()
    paths = result.write_csv(tmp_path)
    assert [p.name for p in paths] == ["flows.csv", "timeseries.csv", "events.csv"]
    with open(tmp_path / "flows.csv", newline="") as f:
        flows = list(csv.DictReader(f))
    assert [r["label"] for r in flows] == ["bulk", "esp 0x3e8"]
    assert json.loads(flows[0]["lost_by_reason"]) == {"link loss": 1} and flows[1]["name"] == ""
    series = pandas.read_csv(tmp_path / "timeseries.csv")
    assert tuple(series.columns) == TIMESERIES_COLUMNS
    # 2 flows x 8 metrics x 4 bins + 1 interface x 4 metrics x 4 bins + 1 reason x 4 bins
    assert len(series) == 2 * 8 * 4 + 4 * 4 + 4
    row = series[(series.label == "link loss") & (series.time == 1.0)]
    assert list(row.value) == [1] and list(row.kind) == ["drops"]
    assert result.flows_frame().shape == (2, len(FLOW_COLUMNS))
    assert result.timeseries_frame().shape == (len(series), 5)
    assert result.events_frame().to_dict("records") == [
        {"time": 1.5, "source": "timeline", "event": "timeline", "detail": "link AB down"}]


def test_events_frame_merges_the_trace(tmp_path):
    pytest.importorskip("pandas")
    trace = tmp_path / "t.jsonl"
    sim = ipsecsim.load(SCENARIOS / "lossy_link.yaml", trace=trace, duration=2.0)
    result = sim.run()
    sim.close()
    frame = result.events_frame(trace)
    lines = trace.read_text().splitlines()
    assert len(frame) == len(lines) + len(result.timeline)
    assert list(frame.time) == sorted(frame.time)
    assert set(frame.source) == ({"trace", "timeline"} if result.timeline else {"trace"})


def test_frames_name_the_extra_without_pandas(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match=r"pip install 'ipsecsim\[notebook\]'"):
        made_result().flows_frame()


def test_html_is_tables_with_the_ledger_and_escapes_everything():
    page = made_result()._repr_html_()
    assert page.startswith("<h4>made &lt;up&gt; &amp; run: 4 s simulated, seed 7</h4>")
    assert "<p>datagrams: sent 40, delivered 39, dropped 1, in flight 0, in reassembly 0, unaccounted 0</p>" in page
    assert "<th>ping</th>" in page and "<td style=\"text-align:left\">A -&gt; 10.0.0.2</td>" in page
    assert "<pre>" not in page and "<up>" not in page


def test_report_will_not_write_over_the_results_file(tmp_path):
    saved = tmp_path / "run.json"
    made_result().to_json(saved)
    reported = run("report", saved, "--csv", saved)
    assert reported.exit_code == 2
    assert reported.output == f"ipsecsim: --csv {saved}: that is the results file; name another file\n"


def test_topology_draws_each_tunnel_once_and_a_peerless_one_to_its_destination():
    result = made_result()
    interfaces = {"kind": "ipsec", "addresses": [], "up": True, "mtu": 1400}
    result.topology["hosts"]["A"]["interfaces"]["ipsec0"] = {**interfaces, "tunnel": ["10.0.0.1", "10.0.0.2"]}
    result.topology["hosts"]["B"]["interfaces"]["ipsec0"] = {**interfaces, "tunnel": ["10.0.0.2", "10.0.0.1"]}
    result.topology["tunnels"] = [{"a": "A:ipsec0", "b": "B:ipsec0", "src": "10.0.0.1", "dst": "10.0.0.2"},
                                  {"a": "B:ipsec0", "b": "A:ipsec0", "src": "10.0.0.2", "dst": "10.0.0.1"}]
    ax = result.plot_topology().axes[0]
    assert [t.get_text() for t in ax.texts if "⇄" in t.get_text()] == ["ipsec0 ⇄ ipsec0"]
    result.topology["tunnels"] = [{"a": "A:ipsec0", "b": None, "src": "10.0.0.1", "dst": "10.0.0.2"}]
    ax = result.plot_topology().axes[0]
    assert [t.get_text() for t in ax.texts if "⇄" in t.get_text()] == ["ipsec0 ⇄ 10.0.0.2 (no if_ipsec peer)"]


def test_a_figure_shows_itself_in_a_notebook_without_pyplot():
    assert made_result().plot_rtt()._repr_png_().startswith(PNG)
