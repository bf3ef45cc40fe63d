"""Diagnostics: one line each, ``FILE:LINE:COL: path: message``, sorted, invisible characters escaped."""

import pytest

from ipsecsim.scenario import Diagnostic, ScenarioError
from ipsecsim.scenario.errors import format_path


def test_diagnostic_line():
    d = Diagnostic("bad.yaml", 7, 18, "links[0].bandwidth", "'10 Mbps' is not a rate; write it like 10Mbit/s")
    assert str(d) == "bad.yaml:7:18: links[0].bandwidth: '10 Mbps' is not a rate; write it like 10Mbit/s"
    assert str(Diagnostic("bad.yaml", 2, 1, "", "YAML syntax error: x")) == "bad.yaml:2:1: YAML syntax error: x"


def test_error_sorts_and_joins():
    late, early = Diagnostic("f", 9, 1, "b", "late"), Diagnostic("f", 2, 5, "a", "early")
    err = ScenarioError([late, early])
    assert err.diagnostics == (early, late)
    assert str(err) == "f:2:5: a: early\nf:9:1: b: late"
    assert isinstance(err, ValueError)
    with pytest.raises(ValueError):
        ScenarioError([])


def test_invisible_characters_stay_on_one_line():
    d = Diagnostic("f", 1, 1, 'hosts."a\nb"', "unknown key 'a\nb'")
    assert str(d) == "f:1:1: hosts.\"a\\nb\": unknown key 'a\\nb'"


@pytest.mark.parametrize(
    ("parts", "text"),
    [(("links", 0, "bandwidth"), "links[0].bandwidth"), (("traffic", 1, "udp", "from"), "traffic[1].udp.from"),
     (("hosts", "my host"), 'hosts."my host"'), (("hosts", "R-1", "run"), "hosts.R-1.run"), ((), "")],
)  # fmt: skip
def test_format_path(parts, text):
    assert format_path(parts) == text
