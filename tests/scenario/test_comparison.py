"""``expect:`` comparisons: parsing per unit kind, ``holds``, and messages."""

import math

import pytest

from ipsecsim.scenario import Comparison, UnitError, parse_comparison

GOOD = [
    (5, "count", "==", 5.0, "== 5"),
    ("5", "count", "==", 5.0, "== 5"),
    (">= 4", "count", ">=", 4.0, ">= 4"),
    ("!=0", "count", "!=", 0.0, "!= 0"),
    ("< 5ms", "duration", "<", 0.005, "< 5ms"),
    (">= 99%", "percent", ">=", 0.99, ">= 99%"),
    (0, "percent", "==", 0.0, "== 0"),
    ("> 9Mbit/s", "rate", ">", 9e6, "> 9Mbit/s"),
    ("> 1MB", "bytes", ">", 1e6, "> 1MB"),
    ("<= 1500", "bytes", "<=", 1500.0, "<= 1500"),
]


@pytest.mark.parametrize(("value", "kind", "op", "number", "text"), GOOD)
def test_parse(value, kind, op, number, text):
    cmp = parse_comparison(value, kind)
    assert (cmp.op, cmp.unit_kind, cmp.text) == (op, kind, text)
    assert cmp.value == pytest.approx(number)
    assert isinstance(cmp.value, float)
    assert str(cmp) == text


BAD = [
    ("=> 5", "count", "'=> 5': => is not a comparison operator (use ==, !=, <, <=, >, >=); write >="),
    ("= 5", "count", "'= 5': = is not a comparison operator (use ==, !=, <, <=, >, >=); write =="),
    (">=", "count", "'>=' has nothing to compare with; write it like '>= 4'"),
    ("lots", "count", "'lots' is not a comparison; write it like '>= 4'"),
    ("< 5", "duration", "'< 5': '5' has no unit; write a unit, e.g. 5ms or 5s"),
    ("< 5", "percent", "'< 5': '5' has no % sign; write it like 5%"),
    (">= 10 Mbps", "rate", "'>= 10 Mbps': '10 Mbps' is not a rate; write it like 10Mbit/s"),
    (True, "count", "true is not a comparison; write a number or a string like '>= 4'"),
    ([5], "count", "a list is not a comparison; write a number or a string like '>= 4'"),
]


@pytest.mark.parametrize(("value", "kind", "message"), BAD)
def test_bad(value, kind, message):
    with pytest.raises(UnitError) as exc:
        parse_comparison(value, kind)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("op", "actual", "expected"),
    [("==", 5, True), ("==", 4, False), ("!=", 4, True), ("<", 4, True), ("<=", 5, True), (">", 5, False), (">=", 5, True)],
)
def test_holds(op, actual, expected):
    assert Comparison(op, 5.0, "count", f"{op} 5").holds(actual) is expected


def test_equality_tolerates_float_rounding():
    loss = parse_comparison("== 30%", "percent")
    assert loss.holds(3 / 10) and loss.holds(0.1 + 0.2)


def test_nothing_measured_never_holds():
    assert not parse_comparison("!= 0", "duration").holds(math.nan)
    assert not parse_comparison("< 5ms", "duration").holds(math.nan)


def test_comparison_is_frozen_and_checked():
    cmp = parse_comparison(">= 4", "count")
    with pytest.raises(AttributeError):
        cmp.value = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        Comparison("~", 1.0, "count", "~ 1")
