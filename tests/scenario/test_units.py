"""Units as people write them -> SI values; and the messages for what people get wrong."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipsecsim.scenario.units import (
    UnitError, format_duration, format_rate, format_size, parse_duration, parse_percent, parse_rate, parse_size,
)  # fmt: skip

DURATIONS = [
    ("10ms", 0.01), ("1.5s", 1.5), ("100us", 1e-4), ("250ns", 2.5e-7), ("2min", 120.0), ("1h", 3600.0),
    ("0.5ms", 5e-4), (".5s", 0.5), ("10 ms", 0.01), ("1e3ms", 1.0), ("5µs", 5e-6), (0, 0.0), ("0", 0.0),
    ("0s", 0.0),
]  # fmt: skip


@pytest.mark.parametrize(("text", "seconds"), DURATIONS)
def test_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)


def test_duration_sub_units_are_exact():
    # 100 * 1e-6 is 9.999999999999999e-05; dividing keeps what the student wrote
    assert parse_duration("100us") == 1e-4
    assert parse_duration("1.5ms") == 0.0015


BAD_DURATIONS = [
    (10, "10 has no unit; write a unit, e.g. 10ms or 10s"),
    (1.5, "1.5 has no unit; write a unit, e.g. 1.5ms or 1.5s"),
    ("10", "'10' has no unit; write a unit, e.g. 10ms or 10s"),
    ("10msec", "'10msec' is not a duration; write it like 10ms"),
    ("2 seconds", "'2 seconds' is not a duration; write it like 2s"),
    ("10MS", "'10MS' is not a duration; write it like 10ms"),
    ("5m", "'5m' is ambiguous; write 5min or 5ms"),
    ("10 parsecs", "'10 parsecs' is not a duration; use ns, us, ms, s or min, e.g. 10ms"),
    ("-5ms", "'-5ms' is negative; a duration is 0 or more"),
    ("fast", "'fast' is not a duration; write it like 10ms or 1.5s"),
    (True, "true is not a duration; write it like 10ms or 1.5s"),
    (None, "an empty value is not a duration; write it like 10ms or 1.5s"),
    ([1], "a list is not a duration; write it like 10ms or 1.5s"),
    (float("nan"), "nan is not a duration; write it like 10ms or 1.5s"),
]


@pytest.mark.parametrize(("value", "message"), BAD_DURATIONS)
def test_bad_duration(value, message):
    with pytest.raises(UnitError) as exc:
        parse_duration(value)
    assert str(exc.value) == message


RATES = [
    ("10Mbit/s", 1e7), ("1Gbit/s", 1e9), ("64Kbit/s", 64e3), ("64kbit/s", 64e3), ("9600bit/s", 9600.0),
    ("2.5Gbit/s", 2.5e9), ("100 Mbit/s", 1e8), (0, 0.0),
]  # fmt: skip


@pytest.mark.parametrize(("text", "bps"), RATES)
def test_rate(text, bps):
    assert parse_rate(text) == bps


BAD_RATES = [
    ("10 Mbps", "'10 Mbps' is not a rate; write it like 10Mbit/s"),
    ("10Mbps", "'10Mbps' is not a rate; write it like 10Mbit/s"),
    ("1gbps", "'1gbps' is not a rate; write it like 1Gbit/s"),
    ("56kbps", "'56kbps' is not a rate; write it like 56Kbit/s"),
    ("10mbit/s", "'10mbit/s' is not a rate; write it like 10Mbit/s"),
    ("10MB/s", "'10MB/s' is bytes per second; rates are in bits, write 80Mbit/s"),
    ("10Mbit", "'10Mbit' is not a rate; write it like 10Mbit/s"),
    (10000000, "10000000 has no unit; write a unit, e.g. 10Mbit/s"),
    ("10 furlongs/s", "'10 furlongs/s' is not a rate; use bit/s, Kbit/s, Mbit/s or Gbit/s, e.g. 10Mbit/s"),
    ("-1Mbit/s", "'-1Mbit/s' is negative; a rate is 0 or more"),
]


@pytest.mark.parametrize(("value", "message"), BAD_RATES)
def test_bad_rate(value, message):
    with pytest.raises(UnitError) as exc:
        parse_rate(value)
    assert str(exc.value) == message


SIZES = [
    ("1500B", 1500), (1500, 1500), ("1500", 1500), ("64KB", 64000), ("64kB", 64000), ("1MB", 10**6),
    ("1GB", 10**9), ("64KiB", 65536), ("1MiB", 1048576), ("1.5KB", 1500), ("0", 0),
]  # fmt: skip


@pytest.mark.parametrize(("text", "nbytes"), SIZES)
def test_size(text, nbytes):
    assert parse_size(text) == nbytes
    assert isinstance(parse_size(text), int)


BAD_SIZES = [
    ("64 bytes", "'64 bytes' is not a size; write it like 64B"),
    ("64kb", "'64kb' is not a size; write it like 64KB"),
    ("1.5B", "'1.5B' is not a whole number of bytes"),
    (1.5, "1.5 is not a whole number of bytes"),
    ("3 cups", "'3 cups' is not a size; use B, KB, MB, KiB or MiB, e.g. 64KB"),
    ("-1KB", "'-1KB' is negative; a size is 0 or more"),
]


@pytest.mark.parametrize(("value", "message"), BAD_SIZES)
def test_bad_size(value, message):
    with pytest.raises(UnitError) as exc:
        parse_size(value)
    assert str(exc.value) == message


PERCENTS = [("5%", 0.05), ("0.5%", 0.005), ("100%", 1.0), ("0%", 0.0), (0, 0.0), ("12.5 %", 0.125)]


@pytest.mark.parametrize(("text", "fraction"), PERCENTS)
def test_percent(text, fraction):
    assert parse_percent(text) == pytest.approx(fraction, rel=1e-12)


BAD_PERCENTS = [
    ("150%", "'150%' is more than 100%; a percentage is between 0% and 100%"),
    ("-1%", "'-1%' is negative; a percentage is between 0% and 100%"),
    (5, "5 has no % sign; write it like 5%"),
    (0.05, "0.05 has no % sign; write it like 0.05%"),
    ("5 percent", "'5 percent' is not a percentage; write it like 5% or 0.5%"),
]


@pytest.mark.parametrize(("value", "message"), BAD_PERCENTS)
def test_bad_percent(value, message):
    with pytest.raises(UnitError) as exc:
        parse_percent(value)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.01, "10ms"), (1.5, "1.5s"), (1e-4, "100us"), (2.5e-7, "250ns"), (0, "0s")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_format_rate_and_size():
    assert format_rate(1e7) == "10Mbit/s"
    assert format_rate(64e3) == "64Kbit/s"
    assert format_rate(300) == "300bit/s"
    assert format_size(64000) == "64KB"
    assert format_size(1500) == "1500B"


@given(st.floats(min_value=1e-9, max_value=1e5, allow_nan=False))
def test_formatted_duration_reads_back(seconds):
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, rel=1e-5)


@given(st.floats(min_value=1, max_value=1e12, allow_nan=False))
def test_formatted_rate_reads_back(bps):
    assert parse_rate(format_rate(bps)) == pytest.approx(bps, rel=1e-5)


@given(st.one_of(st.text(max_size=12), st.integers(), st.floats(), st.booleans(), st.none()))
def test_parsers_raise_only_unit_error(value):
    for parse in (parse_duration, parse_rate, parse_size, parse_percent):
        try:
            result = parse(value)
        except UnitError as exc:
            assert str(exc) and "\n" not in str(exc)
        else:
            assert math.isfinite(result)
