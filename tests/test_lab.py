"""ipsecsim.lab: the labs' answer checks and terminal-like shell output."""

import ipsecsim
from ipsecsim.lab import ShellOutput, check


def test_check_says_not_answered_for_none(capsys):
    assert check("Exercise 1", None, 42) is False
    assert "not answered yet" in capsys.readouterr().out


def test_check_accepts_the_expected_value_and_numbers_within_tolerance(capsys):
    assert check("Exercise 1", 42, 42)
    assert check("Exercise 2", 103, 100, tolerance=0.05)
    assert not check("Exercise 3", 110, 100, tolerance=0.05, hint="count the ESP trailer")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Exercise 1: correct (42)."
    assert out[2] == "Exercise 3: not quite. You answered 110. Hint: count the ESP trailer"


def test_check_compares_words_without_case_and_sets_without_order():
    assert check("q", " ENOBUFS ", "enobufs")
    assert check("q", ["b", "a"], {"a", "b"})
    assert not check("q", 5, {"a"})
    assert not check("q", True, 1)
    assert not check("q", float("nan"), 1.0)


def test_shell_output_shows_like_a_terminal():
    out = ShellOutput("line one\nline two\n")
    assert repr(out) == "line one\nline two"
    assert out == "line one\nline two\n"
    assert out._repr_html_() == '<pre style="margin:0">line one\nline two\n</pre>'


def test_host_sh_returns_shell_output():
    sim = ipsecsim.load("scenarios/if_ipsec_host_a_b.yaml", traffic=False)
    out = sim.host("A").sh("ifconfig ipsec0")
    assert isinstance(out, ShellOutput) and repr(out).startswith("ipsec0: flags=")
