"""result.ike: what each host's charon counted, in the JSON, the summary and the drop notes.

The time to establish is checked against the capture (scapy reads A's em0 pcap: from the
IKE_SA_INIT request A sent to the IKE_AUTH response it received), not against the daemon."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from scapy.all import UDP, rdpcap
from scapy.contrib import ikev2 as sc

import ipsecsim
from ipsecsim.report import Result
from ipsecsim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "if_ipsec_host_a_b_ike.yaml"
KEYS = {"initiated", "times_to_establish", "established", "retransmissions", "rekeys", "expired", "failures"}


def _run(text: str | None = None, **options) -> Result:
    sim = ipsecsim.loads(text or SCENARIO.read_text(), str(SCENARIO), **options)
    try:
        return sim.run(progress=False)
    finally:
        sim.close()


def test_ike_counts_each_host_and_connection_and_the_capture_agrees(tmp_path):
    result = _run(pcap=tmp_path)
    assert list(result.ike) == ["A", "B"]
    a, b = result.ike["A"]["host-a-b"], result.ike["B"]["host-b-a"]
    assert set(a) == set(b) == KEYS
    assert (a["initiated"], a["established"], a["failures"]) == (1, 1, [])
    assert (b["initiated"], b["established"], b["times_to_establish"]) == (0, 1, [])  # B only answered
    packets = [p for p in rdpcap(str(tmp_path / "A-em0.pcap")) if p.haslayer(UDP) and 500 in (p[UDP].sport, p[UDP].dport)]
    msgs = [(float(p.time), sc.IKEv2(bytes(p[UDP].payload))) for p in packets]
    sent = next(t for t, m in msgs if m.exch_type == 34 and not m.flags & 0x20)
    answered = next(t for t, m in msgs if m.exch_type == 35 and m.flags & 0x20)
    assert a["times_to_establish"] == [pytest.approx(answered - sent, abs=1e-9)]
    assert a["times_to_establish"][0] > 0


def test_ike_round_trips_through_json_and_old_files_read_empty(tmp_path):
    result = _run()
    again = Result.from_json(_write(result, tmp_path))
    assert again.ike == result.ike and again.ike
    data = json.loads(result.to_json())
    assert list(data).index("ike") == list(data).index("adjacency_changes") + 1
    del data["ike"]  # a format 3 file written before result.ike
    assert Result.from_dict(data).ike == {}


def _write(result: Result, tmp_path: Path) -> Path:
    path = tmp_path / "run.json"
    result.to_json(path)
    return path


def test_summary_has_an_ike_section_only_with_charon():
    summary = _run().summary()
    lines = summary.splitlines()
    head = lines.index("IKE")
    table = lines[head + 1:head + 4]
    assert table[0].split()[:4] == ["host", "connection", "initiated", "established"]
    assert table[1].split()[:4] == ["A", "host-a-b", "1", "1"] and table[1].split()[4].endswith("0.004")
    assert table[2].split()[:5] == ["B", "host-b-a", "0", "1", "-"]
    assert "IKE failures" not in lines
    plain = _run((ROOT / "scenarios" / "if_ipsec_host_a_b.yaml").read_text())
    assert plain.ike == {} and "IKE" not in plain.summary().splitlines()


def test_a_connection_nothing_happened_on_has_zeros():
    text = SCENARIO.read_text().replace("traffic:\n  - {ping: {from: A, to: 172.16.0.5, count: 5, interval: 1s}}\n",
                                        "")
    result = _run(text)
    assert result.ike["A"]["host-a-b"] == {"initiated": 0, "times_to_establish": [], "established": 0,
                                           "retransmissions": 0, "rekeys": 0, "expired": 0, "failures": []}


def test_a_restarted_charon_keeps_what_the_old_one_counted():
    """A initiates at start; powered off at 2 s and booted at 3 s, its new charon initiates again."""
    text = SCENARIO.read_text().replace("start_action = trap\n              reqid = 100",
                                        "start_action = start\n              reqid = 100")
    text = text.replace("timeline:\n", "timeline:\n  - {at: 2s, host: A, state: down}\n  - {at: 3s, host: A, state: up}\n")
    result = _run(text)
    a, b = result.ike["A"]["host-a-b"], result.ike["B"]["host-b-a"]
    assert a["initiated"] == 2 and a["established"] == 2 and len(a["times_to_establish"]) == 2
    assert b["established"] == 2


def test_nosa_note_tells_of_the_acquire_when_charon_runs():
    notes = [n for n in _run().notes if "ips_out_nosa" in n]
    assert len(notes) == 1
    assert "SADB_ACQUIRE" in notes[0] and "while charon negotiated the SAs" in notes[0]
    assert "setkey" not in notes[0]
    text = SCENARIO.read_text()
    head, b_part = text.split("\n  B:\n", 1)
    head = head[:head.index("    swanctl: |")]  # A runs no charon: nobody answers the ACQUIRE
    notes = [n for n in _run(head + "\n  B:\n" + b_part).notes if "ips_out_nosa" in n]
    assert len(notes) == 1 and "the SAD had none; add it with setkey" in notes[0] and "charon" not in notes[0]


def test_nosa_note_names_the_failure_when_the_negotiation_failed():
    text = SCENARIO.read_text()
    head, b_part = text.split("\n  B:\n", 1)
    text = head + "\n  B:\n" + b_part.replace('secret = "if_ipsec example key"', 'secret = "another key"')
    result = _run(text)
    notes = [n for n in result.notes if "ips_out_nosa" in n]
    assert len(notes) == 1 and "negotiation (host-a-b) failed: received AUTHENTICATION_FAILED notify error" in notes[0]
    assert "IKE failures" in result.summary().splitlines()


def _with_expect(lines: str, text: str | None = None) -> str:
    text = text or SCENARIO.read_text()
    return text + "".join(f"  - {line}\n" for line in lines.strip().splitlines())


def test_ike_expectations_hold_and_fail_as_the_result_says():
    result = _run(_with_expect("""
{ike: {host: A, connection: host-a-b, established: true}}
{ike: {host: B, connection: host-b-a}, established: true, retransmissions: 0, rekeys: 0}
{ike: {host: A, connection: host-a-b}, time_to_establish: '< 10ms'}
{ike: {host: A, connection: host-a-b}, established: false, failure: AUTHENTICATION_FAILED}
{ike: {host: B, connection: host-b-a}, time_to_establish: '< 1s'}
"""))
    got = {(e.text, e.holds): e.actual for e in result.expectations[1:]}
    t = result.ike["A"]["host-a-b"]["times_to_establish"][0]
    assert got == {
        ("ike A host-a-b established true", True): "established 1 time",
        ("ike B host-b-a established true", True): "established 1 time",
        ("ike B host-b-a retransmissions == 0", True): "0",
        ("ike B host-b-a rekeys == 0", True): "0",
        ("ike A host-a-b time_to_establish < 10ms", True): f"{t * 1000:g}ms",
        ("ike A host-a-b established false", False): "established 1 time",
        ("ike A host-a-b failure 'AUTHENTICATION_FAILED'", False): "no failure",
        ("ike B host-b-a time_to_establish < 1s", False): "no IKE_SA initiated and established",  # B answered
    }
    assert result.expectations[1].where.endswith(f":{len(SCENARIO.read_text().splitlines()) + 1}:56")


@pytest.mark.parametrize("line, message", [
    ("{ike: {host: C, connection: host-a-b, established: true}}", ".ike.host: no host 'C'"),
    ("{ike: {host: A, connection: host-ab, established: true}}",
     ".ike.connection: host A's swanctl.conf has no connection 'host-ab'; did you mean 'host-a-b'?"),
    ("{ike: {host: A, connection: host-a-b}}", ": nothing to check; add a measure, e.g. established: true"),
    ("{ike: {host: A, connection: host-a-b, established: true}, established: true}",
     ": established is written twice"),
    ("{ike: {host: A, connection: host-a-b, established: yes}}", ".ike.established: 'yes' is not true or false"),
])
def test_bad_ike_expectations_are_refused_with_their_place(line, message):
    text = _with_expect(line)
    n = len(text.splitlines())
    with pytest.raises(ScenarioError) as info:
        ipsecsim.loads(text, "x.yaml")
    assert f"x.yaml:{n}:" in str(info.value) and f"expect[1]{message}" in str(info.value)


def test_an_ike_expectation_of_a_host_without_charon_is_refused():
    text = SCENARIO.read_text()
    head, b_part = text.split("\n  B:\n", 1)
    b_part = b_part[:b_part.index("    swanctl: |")] + b_part[b_part.index("traffic:"):]
    text = _with_expect("{ike: {host: B, connection: host-b-a, established: true}}", head + "\n  B:\n" + b_part)
    with pytest.raises(ScenarioError, match=r"expect\[1\]\.ike\.host: host B has no swanctl: block, so no "
                                                     r"charon; hosts running charon: A"):
        ipsecsim.loads(text, "x.yaml")


def test_events_csv_lists_the_ike_failures_in_time_order(tmp_path):
    text = SCENARIO.read_text()
    head, b_part = text.split("\n  B:\n", 1)
    result = _run(head + "\n  B:\n" + b_part.replace('secret = "if_ipsec example key"', 'secret = "another key"'))
    with open(result.write_csv(tmp_path)[2]) as f:
        rows = list(csv.DictReader(f))
    ike = [(r["source"], r["event"], r["detail"]) for r in rows if r["source"] == "ike"]
    assert ike == [("ike", "failure", f"B host-b-a: {result.ike['B']['host-b-a']['failures'][0]['reason']}"),
                   ("ike", "failure", "A host-a-b: received AUTHENTICATION_FAILED notify error")]
    times = [float(r["time"]) for r in rows]
    assert times == sorted(times) and any(r["source"] == "timeline" for r in rows)
