"""The ipsecsim command end to end: run, check, report, exit codes, files, determinism."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from ipsecsim.cli import main

from tshark import require_tshark, tshark_expert_problems, tshark_fields

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_every_shipped_scenario_runs_and_its_expectations_hold(name):
    result = invoke("run", SCENARIOS / f"{name}.yaml", "--quiet")
    assert result.exit_code == 0, result.output
    assert "  FAIL  " not in result.output  # an expectation's line (AUTHENTICATION_FAILED is not one)


def test_run_writes_pcap_trace_and_json(tmp_path):
    result = invoke("run", SCENARIOS / "routed_three_hosts.yaml", "--pcap", tmp_path / "pcap",
                    "--trace", tmp_path / "trace.jsonl", "--json", tmp_path / "run.json")
    assert result.exit_code == 0, result.output
    assert "5 packets transmitted, 5 packets received, 0.0% packet loss" in result.output
    names = sorted(p.name for p in (tmp_path / "pcap").glob("*.pcap"))
    assert {"A-em0.pcap", "R-em0.pcap", "R-em1.pcap", "B-em0.pcap"} <= set(names)
    data = json.loads((tmp_path / "run.json").read_text())
    assert [p["received"] for p in data["pings"]] == [5, 5]
    assert data["flows"]["video"]["loss"] == 0
    events = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    assert {"tx", "rx", "forward", "deliver"} <= {e["event"] for e in events}
    report = invoke("report", tmp_path / "run.json")
    assert report.exit_code == 0 and "Pings" in report.output


def test_pcaps_read_cleanly_in_tshark_with_checksums_on(tmp_path):
    require_tshark()
    assert invoke("run", SCENARIOS / "routed_three_hosts.yaml", "--quiet", "--pcap", tmp_path).exit_code == 0
    for pcap in sorted(tmp_path.glob("*.pcap")):
        assert tshark_expert_problems(pcap) == [], pcap.name
    rows = tshark_fields(tmp_path / "R-em1.pcap", ["ip.src", "ip.dst", "icmp.type", "ip.ttl"],
                         display_filter="icmp")
    assert {(r["ip.src"], r["ip.dst"], r["icmp.type"], r["ip.ttl"]) for r in rows} == {
        ("10.0.1.1", "10.0.2.2", "8", "63"), ("10.0.2.2", "10.0.1.1", "0", "64")}


def test_same_seed_gives_identical_files_and_another_seed_changes_a_lossy_run(tmp_path):
    def files(seed, tag):
        out = tmp_path / tag
        invoke("run", SCENARIOS / "lossy_link.yaml", "--quiet", "--seed", seed, "--pcap", out,
               "--trace", out / "trace.jsonl")
        return {p.name: p.read_bytes() for p in sorted(out.iterdir())}

    first, again, other = files(1, "a"), files(1, "b"), files(2, "c")
    assert first == again
    assert first["B-em0.pcap"] != other["B-em0.pcap"]


def test_check_accepts_a_good_file():
    result = invoke("check", SCENARIOS / "routed_three_hosts.yaml")
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_bad_scenario_exits_2_with_file_line_col(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration: 10s\nlinks:\n  - {a: A:em0, b: B:em0, bandwidth: 10 Mbps}\n")
    for command in ("run", "check"):
        result = invoke(command, bad)
        assert result.exit_code == 2
        assert result.output.startswith(f"{bad}:4:")


def test_missing_file_exits_2():
    result = invoke("run", "no-such-file.yaml")
    assert result.exit_code == 2 and "no such scenario file" in result.output


def scenario_with(tmp_path, run_a, expect="") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: t\nduration: 3s\nlinks:\n  - {a: A:em0, b: B:em0}\nhosts:\n  A:\n    run: |\n"
        + "".join(f"      {line}\n" for line in run_a)
        + "  B:\n    run: ifconfig em0 inet 10.0.0.2/24\n"
        + "traffic:\n  - {ping: {from: A, to: 10.0.0.2, count: 2}}\n" + expect
    )
    return path


def test_failing_expectation_exits_1(tmp_path):
    path = scenario_with(tmp_path, ["ifconfig em0 inet 10.0.0.1/24"],
                         "expect:\n  - {ping: {from: A, to: 10.0.0.2}, received: 3}\n")
    result = invoke("run", path)
    assert result.exit_code == 1
    assert "FAIL" in result.output and "received == 3" in result.output


def test_command_errors_are_listed_with_their_line_and_the_run_goes_on(tmp_path):
    path = scenario_with(tmp_path, ["ifconfig em0 inet 10.0.0.1/24", "ifconfig em7 up", "frobnicate"])
    result = invoke("run", path)
    assert result.exit_code == 0, result.output
    assert f"{path}:9:7: ifconfig: interface em7 does not exist" in result.output
    assert f"{path}:10:7: frobnicate: not found" in result.output
    check = invoke("check", path)
    assert check.exit_code == 2
    assert check.output.count(str(path)) == 2
    strict = invoke("run", path, "--strict")
    assert strict.exit_code == 2
    assert f"{path}:9:7:" in strict.output


def test_plots_are_written(tmp_path):
    result = invoke("run", SCENARIOS / "routed_three_hosts.yaml", "--quiet", "--plot", tmp_path)
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert names >= {"topology.png", "topology.svg", "overhead.png", "overhead.svg"}


def test_flagship_pcap_decrypts_with_the_esp_sa_file_the_run_wrote(tmp_path):
    require_tshark()
    result = invoke("run", SCENARIOS / "if_ipsec_host_a_b.yaml", "--pcap", tmp_path, "--duration", "3s")
    assert result.exit_code == 1  # the flow's expectations need the full 10 s
    assert "WIRESHARK_CONFIG_DIR=" in result.output
    rows = tshark_fields(tmp_path / "A-em0.pcap", ["esp.spi", "icmp.type", "ip.src"], config_dir=tmp_path,
                         prefs={"esp.enable_encryption_decode": "TRUE"}, display_filter="icmp")
    assert {(r["esp.spi"], r["icmp.type"]) for r in rows} == {("0x00002710", "8"), ("0x00002711", "0")}


def test_shell_runs_commands_on_the_chosen_host():
    result = CliRunner().invoke(main, ["shell", str(SCENARIOS / "if_ipsec_host_a_b.yaml")],
                                input="ifconfig ipsec0\nuse B\nadvance 2s\nnetstat -I ipsec0\nuse Z\nexit\n")
    assert result.exit_code == 0, result.output
    assert "reqid: 100" in result.output          # A's ipsec0
    assert "time is now 2s" in result.output
    assert "ipsec0  1400 <Link#3>" in result.output  # B's, after two pings went through
    assert "no host Z; hosts: A, B" in result.output


def test_duplicate_address_across_hosts_is_bad_input(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: dup\nduration: 1s\nlinks:\n  - {a: A:em0, b: B:em0}\nhosts:\n"
                    "  A:\n    run: ifconfig em0 inet 10.0.0.1/24\n"
                    "  B:\n    run: |\n      ifconfig em0 inet 10.0.0.1/24\n")
    for command in ("check", "run"):
        result = invoke(command, path)
        assert result.exit_code == 2
        assert f"{path}:10:7: hosts.B.run: 10.0.0.1 is already an address of host A" in result.output


# --- outputs are checked before the run; a write that fails after it keeps the summary ------------


def _bad_output(tmp_path, option, case):
    """A path for ``option`` that cannot be written, and the reason the run should give."""
    a_file = tmp_path / "a-file"
    a_file.write_text("in the way\n")
    cases = {
        "missing parent": (tmp_path / "nowhere" / "x.out", f"the directory {tmp_path / 'nowhere'} does not exist"),
        "parent is a file": (a_file / "x.out", f"{a_file} is a file, not a directory"),
        "is a directory": (tmp_path, "it is a directory; name a file"),
        "is a file": (a_file, "it is a file, not a directory"),
        "ancestor is a file": (a_file / "sub" / "dir",
                               f"{a_file} is a file, not a directory, so the directory cannot be created"),
    }
    return cases[case]


@pytest.mark.parametrize(("option", "case"), [
    ("--json", "missing parent"), ("--json", "parent is a file"), ("--json", "is a directory"),
    ("--trace", "missing parent"), ("--trace", "parent is a file"), ("--trace", "is a directory"),
    ("--pcap", "is a file"), ("--pcap", "ancestor is a file"),
    ("--plot", "is a file"), ("--plot", "ancestor is a file"),
])
def test_an_output_that_cannot_be_written_exits_2_before_the_run(tmp_path, option, case):
    path, reason = _bad_output(tmp_path, option, case)
    result = invoke("run", SCENARIOS / "routed_three_hosts.yaml", option, path)
    assert result.exit_code == 2
    assert result.output == f"ipsecsim: {option} {path}: {reason}\n"  # nothing simulated, nothing printed


def test_an_unwritable_output_directory_exits_2(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only directory; the other cases put a file in the way instead")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = invoke("run", SCENARIOS / "routed_three_hosts.yaml", "--json", locked / "x.json")
    assert result.exit_code == 2
    assert result.output == f"ipsecsim: --json {locked / 'x.json'}: the directory {locked} is not writable (permission denied)\n"


def _full_device():
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here to fill a disk with")
    return Path("/dev/full")


def test_json_on_a_full_disk_still_prints_the_summary_and_exits_2():
    result = invoke("run", SCENARIOS / "routed_three_hosts.yaml", "--quiet", "--json", _full_device())
    assert result.exit_code == 2
    assert "5/5 expectations hold" in result.output  # the summary of the whole run
    assert result.output.endswith("ipsecsim: --json /dev/full: cannot write it: No space left on device\n")
    assert "internal error" not in result.output


def test_a_trace_that_fills_the_disk_stops_the_run_and_keeps_what_was_recorded(tmp_path):
    result = invoke("run", SCENARIOS / "routed_three_hosts.yaml", "--quiet", "--trace", _full_device(),
                    "--json", tmp_path / "run.json")
    assert result.exit_code == 2
    assert "Pings" in result.output and "internal error" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("ipsecsim:")]
    assert len(errors) == 1
    assert errors[0].startswith("ipsecsim: --trace /dev/full: cannot write it: No space left on device; "
                                "the run stopped at ")
    saved = json.loads((tmp_path / "run.json").read_text())  # the other outputs are still written
    assert 0 < saved["duration"] < 10


def test_a_plot_that_fails_after_the_run_names_the_file(tmp_path, monkeypatch):
    import errno

    from ipsecsim.report import plots

    def full(result, directory, network=None):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(directory) / "pings.png"))

    monkeypatch.setattr(plots, "write_plots", full)
    result = invoke("run", SCENARIOS / "routed_three_hosts.yaml", "--quiet", "--plot", tmp_path)
    assert result.exit_code == 2
    assert "5/5 expectations hold" in result.output
    assert result.output.endswith(f"ipsecsim: --plot {tmp_path}: cannot write {tmp_path / 'pings.png'}: "
                                  f"{os.strerror(errno.ENOSPC)}\n")


def test_a_file_may_go_into_a_directory_the_run_creates(tmp_path):
    out = tmp_path / "new" / "plots"
    result = invoke("run", SCENARIOS / "routed_three_hosts.yaml", "--quiet", "--plot", out, "--json", out / "run.json")
    assert result.exit_code == 0, result.output
    assert (out / "run.json").is_file() and (out / "topology.png").is_file()


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--seed", "-1", "Invalid value for '--seed': -1 is not in the range 0<=x<=18446744073709551615."),
    ("--seed", str(2**64), "is not in the range 0<=x<=18446744073709551615."),
    ("--duration", "0", "Invalid value for '--duration': '0' is zero; a run lasts more than 0, e.g. 30s"),
])
def test_run_options_outside_their_range_exit_2(option, value, message):
    result = invoke("run", SCENARIOS / "routed_three_hosts.yaml", option, value)
    assert result.exit_code == 2
    assert message in result.output and "Pings" not in result.output


def test_a_duration_too_long_to_simulate_exits_2_at_the_files_duration():
    path = SCENARIOS / "routed_three_hosts.yaml"
    result = invoke("run", path, "--duration", "1e9s")
    assert result.exit_code == 2
    assert result.output.startswith(f"{path}:4:11: duration: the run asked for lasts 1e+09s (this file says 10s): ")


def test_outputs_never_overwrite_the_scenario_or_each_other(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text((SCENARIOS / "routed_three_hosts.yaml").read_text())
    result = invoke("run", scenario, "--json", scenario)
    assert (result.exit_code, result.output) == (2, f"ipsecsim: --json {scenario}: that is the scenario file; "
                                                    "name another file\n")
    result = invoke("run", scenario, "--trace", tmp_path / "out", "--json", tmp_path / "out")
    assert (result.exit_code, result.output) == (2, f"ipsecsim: --json {tmp_path / 'out'}: --trace writes there "
                                                    "too; name another path\n")
