"""The progress bar, running in steps, and Ctrl-C: results so far, marked interrupted."""

import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import pytest

import ipsecsim

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "scenarios" / "if_ipsec_host_a_b.yaml"
RUN = [sys.executable, "-c", "from ipsecsim.cli import main; main()", "run"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def _run_files(tmp: Path, progress: bool) -> tuple[dict, dict[str, bytes], bytes]:
    sim = ipsecsim.load(FLAGSHIP, duration=4, pcap=tmp / "pcap", trace=tmp / "trace.jsonl")
    result = sim.run(progress=progress)
    sim.close()
    data = result.to_dict()
    data.pop("files")
    pcaps = {p.name: p.read_bytes() for p in sorted((tmp / "pcap").iterdir())}
    return data, pcaps, (tmp / "trace.jsonl").read_bytes()


def test_running_in_steps_with_the_bar_gives_the_same_bytes(tmp_path, capsys):
    stepped = _run_files(tmp_path / "bar", progress=True)
    assert "simulated" in capsys.readouterr().err  # the bar was drawn
    once = _run_files(tmp_path / "once", progress=False)
    assert capsys.readouterr().err == ""
    assert stepped[0] == once[0] and stepped[0]["flows"]["bulk"]["received"] == 4998  # two in flight at 4 s
    assert stepped[1] == once[1] and len(once[1]) >= 4
    assert stepped[2] == once[2] and once[2]


def _pty_run(*args: str, until_bar: bool = False, interrupt: bool = False):
    """Run ``ipsecsim run ARGS`` with stderr on a new pty; what it wrote there, its stdout, its status."""
    master, slave = os.openpty()
    proc = subprocess.Popen([*RUN, *args], stdout=subprocess.PIPE, stderr=slave, env=ENV, cwd=ROOT)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while until_bar and b"events/s" not in seen and time.monotonic() < deadline:
        try:
            seen += os.read(master, 4096)
        except OSError:  # the child exited and closed the pty
            break
    if interrupt:
        proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return seen.decode(errors="replace"), out.decode(), proc.returncode


def test_the_bar_is_drawn_on_a_terminal_but_not_with_quiet_or_in_a_pipe():
    err, out, status = _pty_run(str(FLAGSHIP), "--duration", "3s")
    assert status == 1 and "simulated 0.0/3.0 s" in err and "events/s" in err and "ping-1" in out
    err, out, status = _pty_run(str(FLAGSHIP), "--duration", "3s", "--quiet")
    assert status == 1 and "warning: timeline[0].at" in err and "simulated" not in err and "ping-1" in out
    piped = subprocess.run([*RUN, str(FLAGSHIP), "--duration", "3s"], capture_output=True, env=ENV, cwd=ROOT)
    assert piped.returncode == 1 and b"warning" in piped.stderr and b"simulated" not in piped.stderr
    assert b"ping-1" in piped.stdout


def test_ctrl_c_prints_and_saves_the_results_so_far(tmp_path):
    long = tmp_path / "long.yaml"  # a flow for the whole 60 s: minutes of work, stopped after a second
    long.write_text(FLAGSHIP.read_text().replace(", start: 2s, stop: 8s", "").replace("duration: 10s", "duration: 60s"))
    err, out, status = _pty_run(str(long), "--json", str(tmp_path / "run.json"), "--pcap", str(tmp_path / "pcap"),
                                "--trace", str(tmp_path / "trace.jsonl"), until_bar=True, interrupt=True)
    assert status == 130, err + out
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["interrupted"] is True and 0 < data["duration"] < 60
    lines = out.splitlines()
    assert lines[2] == f"interrupted at {data['duration']:g} s of 60 s"
    assert "interrupted (Ctrl-C)" in out and "Traceback" not in err
    trace = (tmp_path / "trace.jsonl").read_text()
    assert trace.endswith("\n") and all(json.loads(line) for line in trace.splitlines()[-3:])
    for pcap in (tmp_path / "pcap").glob("*.pcap"):
        assert pcap.stat().st_size >= 24  # at least the file header: written and closed


def test_python_gets_the_interrupt_and_then_the_results_so_far():
    sim = ipsecsim.load(FLAGSHIP, duration=4)

    def ctrl_c():
        raise KeyboardInterrupt

    sim.network.engine.call_at(2.5, ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        sim.run(progress=False)
    result = sim.result()
    assert result.interrupted and result.duration == 2.5
    assert result.summary().splitlines()[2] == "interrupted at 2.5 s of 4 s"
    assert result.flows["bulk"]["sent"] == 1250  # 2,500 datagrams a second (20 Mbit/s of 1000 bytes) from 2 s to 2.5 s
    again = ipsecsim.load(FLAGSHIP, duration=4).run(progress=False)
    assert not again.interrupted and "interrupted" not in again.summary()
