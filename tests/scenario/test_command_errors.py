"""A command the kernel refuses is a command error at the line that failed, even when
FreeBSD's program goes on and exits 0 (setkey's "The result of line N", ifconfig's warn()).

These are what ``ipsecsim check`` and ``--strict`` rely on: a scenario whose SAs never
made it into the kernel must not pass ``check`` and then lose every packet.
"""

from click.testing import CliRunner

from ipsecsim.cli import main
import ipsecsim

KEY_35 = "0x" + "ab" * 35  # aes-gcm-16 takes 20, 28 or 36 bytes: setkey accepts 35, esp_init does not


def scenario(setkey_lines: list[str], *, heredoc: str = "<<EOF", extra_run: list[str] = ()) -> str:
    """A two-host file; A's run: block has setkey with ``setkey_lines`` as its heredoc (line 10 on)."""
    run = ["ifconfig em0 inet 192.168.0.3/24", f"setkey -c {heredoc}", *setkey_lines, "EOF", *extra_run]
    return (
        "name: refusals\nduration: 2s\nlinks:\n  - {a: A:em0, b: B:em0}\nhosts:\n  A:\n    run: |\n"
        + "".join(f"      {line}\n" for line in run)
        + "  B:\n    run: ifconfig em0 inet 192.168.0.5/24\n"
    )


def errors_of(text: str) -> list[str]:
    return [str(e) for e in ipsecsim.loads(text, "s.yaml").network.command_errors]


def test_a_key_the_kernel_refuses_is_an_error_at_its_statement_line():
    # The parser accepts 35 bytes (the salt is subtracted: 31 bytes are within 16..32) and the
    # kernel's esp_init answers EINVAL (sys/netipsec/xform_esp.c esp_init: 16, 24 or 32 key bytes).
    errors = errors_of(scenario([
        'add 192.168.0.5 192.168.0.3 esp 10001 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!2";',
        f"add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u 100 -E aes-gcm-16 {KEY_35};",
    ]))
    assert errors == ["s.yaml:11:7: setkey: The result of line 2: Invalid argument. "
                      "(aes-gcm-16 needs a key of 20, 28 or 36 bytes: the key, then a 4-byte salt)"]


def test_every_refused_statement_is_listed_and_the_script_goes_on():
    errors = errors_of(scenario([
        'add 192.168.0.5 192.168.0.3 esp 10001 -E rijndael-cbc "VerySecureKey!!2";',
        'add 192.168.0.5 192.168.0.3 esp 10001 -E rijndael-cbc "VerySecureKey!!2";',  # same SPI
        "delete 192.168.0.5 192.168.0.3 esp 20000;",  # no such SA
        'add 192.168.0.3 192.168.0.5 esp 10000 -E rijndael-cbc "VerySecureKey!!1";',
    ]))
    assert errors == ["s.yaml:11:7: setkey: The result of line 2: File exists.",
                      "s.yaml:12:7: setkey: The result of line 3: No such process."]


def test_a_refusal_leaves_setkeys_exit_status_0_as_on_freebsd():
    # sbin/setkey/setkey.c sendkeymsg() returns 0 whatever the kernel answered, and only a
    # parse error makes parse() fail: the shell sees 0, the scenario still sees the error.
    sim = ipsecsim.loads(scenario(
        ['add 192.168.0.5 192.168.0.3 esp 10001 -E rijndael-cbc "VerySecureKey!!2";'] * 2,
        extra_run=["setkey -c </dev/null && hostname"]), "s.yaml")
    assert [e.line for e in sim.network.command_errors] == [11]
    assert sim.network.consoles["A"].entries[-1][1] == "A"  # && ran: the status was 0


def test_a_statement_on_several_lines_is_named_by_its_first_line():
    errors = errors_of(scenario([
        "add 192.168.0.3 192.168.0.5 esp 10000",
        f"    -m tunnel -E aes-gcm-16 {KEY_35};",
    ]))
    assert [e.split(": setkey")[0] for e in errors] == ["s.yaml:10:7"]


def test_a_syntax_error_points_at_the_heredoc_line_and_the_token():
    errors = errors_of(scenario([
        'add 192.168.0.3 192.168.0.5 esp 10000 -E rijndael-cbc "VerySecureKey!!1";',
        'add 192.168.0.5 192.168.0.3 esp 10001 -E rijndael-cbc "VerySecureKey!!";',  # 15 bytes
    ]))
    column = 7 + len('add 192.168.0.5 192.168.0.3 esp 10001 -E rijndael-cbc ')
    assert errors == [f"s.yaml:11:{column}: setkey: line 2: Invalid key length at [VerySecureKey!!] "
                      "(aes-cbc needs a key of 16, 24 or 32 bytes)"]


def test_an_unknown_word_points_at_itself():
    errors = errors_of(scenario(["flush;", "spdflush;", "add 192.168.0.3 192.168.0.5 esp 10000 -m tunel;"]))
    column = 7 + len("add 192.168.0.3 192.168.0.5 esp 10000 -m ")
    assert errors == [f"s.yaml:12:{column}: setkey: line 3: syntax error at [tunel]"]


def test_tab_stripping_heredocs_keep_their_columns():
    # <<- strips leading tabs from each body line; the column still counts them.
    text = scenario(["\tdelete 192.168.0.5 192.168.0.3 esp 20000;"], heredoc="<<-EOF")
    assert errors_of(text) == ["s.yaml:10:8: setkey: The result of line 1: No such process."]


def test_a_dump_of_an_empty_table_is_not_an_error():
    # postproc() prints "No SAD entries." (ENOENT): an answer, not a refusal.
    assert errors_of(scenario(["dump;", "spddump;"])) == []


def test_ifconfig_warnings_are_errors_though_ifconfig_exits_0():
    # sbin/ifconfig/ifipsec.c setreqid(): a refused IPSECSREQID is warn(), not err().
    sim = ipsecsim.loads(scenario([], extra_run=[
        "ifconfig ipsec0 create reqid 100", "ifconfig ipsec1 create", "ifconfig ipsec1 reqid 100 && hostname"]),
        "s.yaml")
    assert [str(e) for e in sim.network.command_errors] == [
        "s.yaml:13:7: ifconfig: ioctl(IPSECSREQID): File exists"]
    assert sim.network.consoles["A"].entries[-1][1] == "A"


def test_check_exits_2_and_strict_stops_on_a_refusal(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(scenario([f"add 192.168.0.3 192.168.0.5 esp 10000 -E aes-gcm-16 {KEY_35};"]))
    check = CliRunner().invoke(main, ["check", str(path)])
    assert check.exit_code == 2
    assert f"{path}:10:7: setkey: The result of line 1: Invalid argument." in check.output
    strict = CliRunner().invoke(main, ["run", "--strict", "--quiet", str(path)])
    assert strict.exit_code == 2
    assert f"{path}:10:7:" in strict.output


def test_each_sysctl_that_fails_is_its_own_error():
    sim = ipsecsim.loads(scenario([], extra_run=["sysctl net.nosuch=1 net.inet.ip.forwarding=1 kern=1"]), "s.yaml")
    assert [e.message for e in sim.network.command_errors] == [
        "sysctl: unknown oid 'net.nosuch'", "sysctl: oid 'kern' isn't a leaf node"]
    assert sim.network.host("A").sysctl.get("net.inet.ip.forwarding") == 1
