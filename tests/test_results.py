"""A run's results: one documented unit per number (SI), the JSON layout, ``ipsecsim report``.

docs/results.md is the contract: every field it lists is in the results and every field of
the results is in it; times are seconds, rates bit/s, shares fractions, in Python and JSON
alike, while the printed summary keeps milliseconds and percent.
"""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import ipsecsim
from ipsecsim.cli import main
from ipsecsim.report import FORMAT, Result, ResultFormatError

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="module")
def routed():
    """routed_three_hosts.yaml run to its end: (simulation, result)."""
    sim = ipsecsim.load(SCENARIOS / "routed_three_hosts.yaml")
    result = sim.run()
    sim.close()
    return sim, result


def test_ping_round_trip_times_are_seconds_while_ping_prints_milliseconds(routed):
    sim, result = routed
    ping = sim.network.pings[0]
    printed = [float(m) for line in ping.lines for m in re.findall(r"time=([0-9.]+) ms", line)]
    assert len(printed) == 5
    entry = result.pings[0]
    assert entry["rtt_min"] == pytest.approx(min(printed) / 1000, abs=5e-7)
    assert entry["rtt_max"] == pytest.approx(max(printed) / 1000, abs=5e-7)
    assert ping.stats.rtt_avg == entry["rtt_avg"] and 0 < entry["rtt_avg"] < 0.1
    stats_line = ping.lines[-1]
    low, avg, high, _ = (float(v) for v in stats_line.split(" = ")[1].removesuffix(" ms").split("/"))
    assert (low, avg, high) == (min(printed), pytest.approx(entry["rtt_avg"] * 1000, abs=5e-4), max(printed))


def test_flows_count_seconds_bits_per_second_and_fractions(routed):
    _, result = routed
    video = result.flows["video"]
    assert video["throughput"] == pytest.approx(5e6, rel=0.01)  # rate: 5Mbit/s
    assert 0 < video["delay_avg"] <= video["delay_max"] < 0.1
    assert video["loss"] == 0 and result.pings[0]["loss"] == 0
    assert result.duration == 10


def test_the_summary_prints_milliseconds_and_percent(routed):
    _, result = routed
    ping, flow = result.pings[0], result.flows["video"]
    summary = result.summary()
    rtts = "/".join(f"{ping[k] * 1000:.3f}" for k in ("rtt_min", "rtt_avg", "rtt_max", "rtt_stddev"))
    row = next(line for line in summary.splitlines() if line.startswith("  ping-1  A -> 10.0.2.2 "))
    assert row.split()[-2:] == ["0.0%", rtts] and rtts.startswith("6.148/")
    row = next(line for line in summary.splitlines() if line.startswith("  video "))
    delays = f"{flow['delay_avg'] * 1000:.3f}/{flow['delay_max'] * 1000:.3f}"
    assert row.split()[3:7] == ["0.00%", "5.00", "Mbit/s", delays]


def test_the_readme_example_is_what_the_flagship_prints():
    """README's summary of scenarios/if_ipsec_host_a_b.yaml, character for character."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("`ipsecsim run scenarios/if_ipsec_host_a_b.yaml` prints")[1].split("```\n")[1]
    sim = ipsecsim.load(SCENARIOS / "if_ipsec_host_a_b.yaml")
    result = sim.run()
    sim.close()
    assert result.summary() == block


def documented_fields() -> dict[str, set[str]]:
    """docs/results.md's field tables: section (``Top level``, ``pings``, ...) -> field names."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in (ROOT / "docs" / "results.md").read_text().splitlines():
        if line.startswith("### "):
            current = sections.setdefault(line[4:].strip(), set())
        elif current is not None and line.startswith("| `"):
            current.update(re.findall(r"`([a-z_0-9]+)`", line.split("|")[1]))
    return sections


def test_docs_results_lists_every_field_and_no_other(routed):
    _, result = routed
    data = result.to_dict()
    documented = documented_fields()
    assert documented["Top level"] == set(data) - {"format"}
    assert documented["pings"] == set(data["pings"][0])
    assert documented["flows"] == set(data["flows"]["video"])
    assert documented["counters"] == set(data["counters"]["R:em1"])
    assert documented["expectations"] == set(data["expectations"][0])
    tunnel = ipsecsim.load(SCENARIOS / "if_ipsec_two_interfaces.yaml").run().to_dict()
    assert documented["sas"] == set(tunnel["sas"][0])
    topology = tunnel["topology"]
    interface = next(iter(topology["hosts"]["A"]["interfaces"].values()))
    assert documented["topology"] == (set(topology) | set(interface) | set(topology["links"][0])
                                      | set(topology["tunnels"][0]))
    assert documented["flow_stats"] == set(data["flow_stats"][0])
    assert documented["timeseries"] == set(data["timeseries"])
    lossy = ipsecsim.load(SCENARIOS / "lossy_link.yaml").run().to_dict()
    assert documented["drops_by_place"] == set(lossy["drops_by_place"][0])


def test_json_names_its_layout_first_and_report_prints_the_same_summary(routed, tmp_path):
    _, result = routed
    path = tmp_path / "run.json"
    result.to_json(path)
    data = json.loads(path.read_text())
    assert next(iter(data)) == "format" and data["format"] == FORMAT == 3
    assert data["pings"][0]["rtt_avg"] == result.pings[0]["rtt_avg"]
    assert Result.from_json(path).summary() == result.summary()
    report = CliRunner().invoke(main, ["report", str(path), "--quiet"])
    assert report.exit_code == 0 and report.output == result.summary()


def test_an_older_results_file_is_refused_rather_than_misread(routed, tmp_path):
    """A file without "format" has ping RTTs in milliseconds: read as seconds they would be
    a thousand times too long, so ``report`` says what it is instead."""
    _, result = routed
    old = result.to_dict()
    del old["format"]
    for ping in old["pings"]:
        for key in ("rtt_min", "rtt_avg", "rtt_max", "rtt_stddev"):
            ping[key] *= 1000
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    with pytest.raises(ResultFormatError, match="older ipsecsim"):
        Result.from_json(path)
    report = CliRunner().invoke(main, ["report", str(path)])
    assert report.exit_code == 2
    assert report.output == (f"{path}: written by an older ipsecsim, whose results give ping round-trip times in "
                             "milliseconds; run the scenario again to write it in SI units (format 3)\n")
    path.write_text(json.dumps({"format": 4, "name": "from the future"}))
    assert "this ipsecsim reads formats 2, 3" in CliRunner().invoke(main, ["report", str(path)]).output
    path.write_text(json.dumps({"hello": "world"}))
    assert "not a results file" in CliRunner().invoke(main, ["report", str(path)]).output
