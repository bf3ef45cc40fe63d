"""``ipsecsim check`` runs the timeline too (without traffic), and a timeline event the run
never reaches is a warning, not a silent no-op."""

from click.testing import CliRunner

from ipsecsim.cli import main
import ipsecsim

BASE = """\
name: timeline
duration: 10s
links:
  - {a: A:em0, b: B:em0}
hosts:
  A:
    run: ifconfig em0 inet 10.0.0.1/24
  B:
    run: ifconfig em0 inet 10.0.0.2/24
traffic:
  - {ping: {from: A, to: 10.0.0.2, count: 3}}
  - {udp: {name: bulk, from: A, to: 10.0.0.2, rate: 50Mbit/s, size: 1000, start: 1s, stop: 9s}}
timeline:
"""


def write(tmp_path, timeline: str):
    path = tmp_path / "t.yaml"
    path.write_text(BASE + timeline)
    return path


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_check_finds_a_mistyped_timeline_command_at_its_line(tmp_path):
    path = write(tmp_path, "  - {at: 2s, host: A, run: ifconfig em0 mtu 1400}\n"
                           "  - {at: 3s, host: A, run: ifconfg em0 down}\n")
    result = invoke("check", path)
    assert result.exit_code == 2
    assert f"{path}:15:28: ifconfg: not found" in result.output
    strict = invoke("check", "--strict", path)
    assert strict.exit_code == 2
    assert f"{path}:15:28: timeline[1].run: ifconfg: not found" in strict.output


def test_check_runs_the_timeline_in_order_on_the_configured_hosts(tmp_path):
    # The second command needs what the first made: parsing alone could not tell.
    path = write(tmp_path, "  - {at: 2s, host: A, run: ifconfig ipsec0 create reqid 100}\n"
                           "  - {at: 3s, host: A, run: ifconfig ipsec0 inet tunnel 10.0.0.1 10.0.0.2}\n"
                           "  - {at: 4s, host: A, run: ifconfig ipsec1 inet tunnel 10.0.0.1 10.0.0.2}\n")
    result = invoke("check", path)
    assert result.exit_code == 2
    assert result.output.count(str(path)) == 1
    assert f"{path}:16:28: ifconfig: interface ipsec1 does not exist" in result.output


def test_check_sends_no_traffic():
    sim = ipsecsim.loads(BASE + "  - {at: 5s, host: A, run: netstat -rn}\n", "t.yaml", traffic=False)
    sim.check_timeline()
    assert sim.network.flows == {} and sim.network.pings == []
    assert sim.network.host("A").interface("em0").data.opackets == 0
    assert any("Routing tables" in line for _, line in sim.network.consoles["A"].entries)


def test_an_event_at_the_very_end_is_a_warning(tmp_path):
    # simpy's run(until) stops before anything scheduled for that instant runs.
    path = write(tmp_path, "  - {at: 10s, host: A, run: setkey -D}\n")
    result = invoke("check", path)
    assert result.exit_code == 0, result.output
    assert (f"{path}:14:10: warning: timeline[0].at: 10s is not before the end of the run (10s), "
            "so this event never happens") in result.output


def test_an_event_after_a_shorter_duration_is_a_warning_and_a_note(tmp_path):
    path = write(tmp_path, "  - {at: 5s, host: A, run: setkey -D}\n")
    result = invoke("run", path, "--quiet", "--duration", "2s")
    assert result.exit_code == 0, result.output
    assert f"{path}:14:10: warning: timeline[0].at: 5s is not before the end of the run (2s)" in result.output
    sim = ipsecsim.load(path, duration=2.0)
    assert sim.run().notes[0].startswith("timeline[0].at: 5s is not before the end of the run (2s)")
