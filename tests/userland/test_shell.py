"""ipsecsim/userland/shell.py and _parse.py: sh syntax, positions, strict mode, the command table."""

import random

import pytest

from ipsecsim.kernel import Host, ManualClock
from ipsecsim.userland import COMMANDS, CommandError, Console, Shell, ShellResult, register


@pytest.fixture
def shell():
    host = Host("A", clock=ManualClock(), rng=random.Random(1))
    return Shell(host, Console(host))


@pytest.fixture(autouse=True)
def argv_command():
    """A test command that prints its argv, one word per line, and its stdin."""

    @register("args")
    def args(ctx, argv):
        for word in argv[1:]:
            ctx.out(f"<{word}>")
        if ctx.stdin:
            ctx.out(f"stdin={ctx.stdin!r}")
        return 0

    yield
    del COMMANDS["args"]


def test_words_and_quotes(shell):
    result = shell.run("""args plain 'single $x \\n' "double \\"q\\" \\\\ \\$ \\n" back\\ slash a'b'"c" ''""")
    assert result.output == ("<plain>\n<single $x \\n>\n<double \"q\" \\ $ \\n>\n<back slash>\n<abc>\n<>\n")
    assert result.status == 0 and result.errors == []


def test_semicolons_comments_blank_lines_and_continuations(shell):
    script = "args a; args b # not c\n\n   # a whole comment line\nargs one \\\n  two#three\n"
    assert shell.run(script).output == "<a>\n<b>\n<one>\n<two#three>\n"


def test_quoted_newline_stays_in_the_word(shell):
    assert shell.run("args 'two\nlines' \"and\nmore\"").output == "<two\nlines>\n<and\nmore>\n"


def test_and_or_lists(shell):
    result = shell.run("false && args no; args yes\ntrue || args no\nfalse || args rescued")
    assert result.output == "<yes>\n<rescued>\n"
    assert result.errors == []  # failures handled by && or || are not reported


@pytest.mark.parametrize("script, stdin", [
    ("args x <<EOF\nline 1\n  line 2\nEOF\n", "line 1\n  line 2\n"),
    ("args x <<'EOF'\n$not expanded\nEOF", "$not expanded\n"),
    ("args x << \"END\"\nbody\nEND\n", "body\n"),
    ("args x <<-EOF\n\tindented\n\t\tdeeper\n\tEOF\n", "indented\ndeeper\n"),
])
def test_heredocs_are_stdin(shell, script, stdin):
    assert shell.run(script).output == f"<x>\nstdin={stdin!r}\n"


def test_empty_heredoc(shell):
    assert shell.run("args x <<EOF\nEOF\nargs y").output == "<x>\n<y>\n"


def test_heredoc_then_more_commands_on_the_line(shell):
    result = shell.run("args a <<EOF; args b\nbody\nEOF\nargs c")
    assert result.output == "<a>\nstdin='body\\n'\n<b>\n<c>\n"


def test_unknown_command_is_sh_not_found(shell):
    result = shell.run("ifconfig lo0 mtu 1500\nfoo bar\necho after", file="lab.yaml")
    assert result.output == "foo: not found\nafter\n"
    assert result.status == 0
    assert [str(e) for e in result.errors] == ["lab.yaml:2:1: foo: not found"]
    assert result.errors[0].command == "foo bar"
    assert shell.run("foo").status == 127


def test_positions_map_script_lines_to_the_scenario(shell):
    script = "echo ok\n  ifconfig em7 up\necho fine; route add 10.0.0.0/8 10.9.9.9\n"
    result = shell.run(script, file="scn.yaml", positions=[(12, 7), (13, 7), (14, 7)])
    assert [str(e) for e in result.errors] == [
        "scn.yaml:13:9: ifconfig: interface em7 does not exist",
        "scn.yaml:14:18: add net 10.0.0.0/8: gateway 10.9.9.9 fib 0: Network is unreachable",
    ]
    assert result.errors[1] == CommandError("scn.yaml", 14, 18, "route add 10.0.0.0/8 10.9.9.9",
                                            "add net 10.0.0.0/8: gateway 10.9.9.9 fib 0: Network is unreachable")


def test_without_positions_lines_and_columns_count_from_one(shell):
    result = shell.run("\n   foo")
    assert [str(e) for e in result.errors] == ["<stdin>:2:4: foo: not found"]


def test_script_continues_after_a_failure_unless_strict(shell):
    script = "echo 1\nifconfig em7 up\necho 2\nfalse\necho 3"
    relaxed = shell.run(script)
    assert relaxed.output.splitlines() == ["1", "ifconfig: interface em7 does not exist", "2", "3"]
    assert relaxed.status == 0 and len(relaxed.errors) == 2
    strict = shell.run(script, strict=True)
    assert strict.output.splitlines() == ["1", "ifconfig: interface em7 does not exist"]
    assert strict.status == 1 and len(strict.errors) == 1


def test_strict_ignores_failures_handled_by_and_or(shell):
    result = shell.run("ifconfig em7 up || echo handled\necho next", strict=True)
    assert result.output.splitlines()[-2:] == ["handled", "next"]


def test_failure_without_a_message_still_reports(shell):
    result = shell.run("false")
    assert result.status == 1
    assert [str(e) for e in result.errors] == ["<stdin>:1:1: false: exit status 1"]


@pytest.mark.parametrize("script, message, position", [
    ("echo 'open", "Syntax error: Unterminated quoted string", "1:6"),
    ('echo ok\necho "open\n', "Syntax error: Unterminated quoted string", "2:6"),
    ("echo a;; echo b", 'Syntax error: ";;" unexpected', "1:7"),
    ("; echo b", 'Syntax error: ";" unexpected', "1:1"),
    ("echo a &&", "Syntax error: end of file unexpected", "1:10"),
    ("echo a | wc -l", "Syntax error: pipelines (|) are not supported", "1:8"),
    ("sleep 5 &", "Syntax error: background jobs (&) are not supported; ping already runs in the background",
     "1:9"),
    ("(echo a)", 'Syntax error: "(" unexpected (subshells are not supported)', "1:1"),
    ("echo ok\nsetkey -c <<EOF\nadd ...\n", 'Syntax error: here-document not terminated (no line "EOF" before the end)',
     "2:11"),
])
def test_syntax_errors_stop_the_script(shell, script, message, position):
    result = shell.run(script, file="f")
    assert result.status == 2
    assert [str(e) for e in result.errors] == [f"f:{position}: {message}"]
    assert result.output.endswith(f"sh: {message}\n")


def test_lines_before_a_syntax_error_run(shell):
    result = shell.run("echo first\necho 'never\n")
    assert result.output.splitlines() == ["first", "sh: Syntax error: Unterminated quoted string"]


def test_and_continues_over_a_newline(shell):
    assert shell.run("true &&\n  echo joined").output == "joined\n"


def test_redirections_to_dev_null(shell):
    result = shell.run("echo hidden >/dev/null\nfoo 2> /dev/null\nifconfig em7 >/dev/null 2>&1\n"
                       "echo shown 2>/dev/null\nargs </dev/null")
    assert result.output == "shown\n"
    assert len(result.errors) == 2  # still failures, just silent


def test_redirection_to_a_file_fails(shell):
    result = shell.run("echo x > /tmp/out; echo y")
    assert result.output == "cannot create /tmp/out: Read-only file system\ny\n"
    assert [e.message for e in result.errors] == ["cannot create /tmp/out: Read-only file system"]


def test_output_reaches_the_console_with_time(shell):
    shell.host.clock.advance(2.5)
    shell.run("echo one; foo")
    assert shell.console.entries == [(2.5, "one"), (2.5, "foo: not found")]
    assert shell.console.stderr == [False, True]
    assert shell.console.text(times=True) == "[   2.500000] one\n[   2.500000] foo: not found\n"


def test_a_crashing_command_is_reported_not_raised(shell):
    @register("crash")
    def crash(ctx, argv):
        raise RuntimeError("boom")

    try:
        result = shell.run("crash; echo after")
    finally:
        del COMMANDS["crash"]
    assert result.output == "crash: internal error: RuntimeError: boom\nafter\n"
    assert result.errors[0].message == "crash: internal error: RuntimeError: boom"


def test_echo_true_false_hostname(shell):
    result = shell.run("echo -e 'a\\tb'; echo -n x y; hostname; hostname b.example.org; hostname -s; "
                       "hostname -d; hostname; true; :")
    assert result.output == "a\tb\nx y\nA\nb\nexample.org\nb.example.org\n"
    assert shell.host.sysctl["kern.hostname"] == "b.example.org"


def test_sleep_refuses_to_block(shell):
    assert shell.run("sleep 0").errors == []
    result = shell.run("sleep 1.5")
    assert result.status == 1
    assert result.errors[0].message == ("sleep: a run block cannot wait (1.5); schedule later commands "
                                        "with the scenario's timeline (at: TIME)")
    assert shell.run("sleep soon").errors[0].message == "usage: sleep number[unit] [...]"


def test_result_type(shell):
    assert shell.run("") == ShellResult(0, "", [])
