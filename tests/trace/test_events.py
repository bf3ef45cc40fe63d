"""ipsecsim/trace/events.py: the JSON-lines event log is exact, parseable and deterministic."""

import io
import json

import pytest

from ipsecsim.trace.events import FIELDS, EventLog, read_events


def test_exact_line():
    out = io.StringIO()
    with EventLog(out) as log:
        log.log(1.234567, "A", "em0", "tx", length=84, summary="IP 10.0.0.1 > 10.0.2.2: ICMP echo request, id 1, seq 0, length 64")
    assert out.getvalue() == (
        '{"time":1.234567000,"host":"A","interface":"em0","event":"tx","reason":null,"length":84,'
        '"summary":"IP 10.0.0.1 > 10.0.2.2: ICMP echo request, id 1, seq 0, length 64"}\n'
    )
    assert not out.closed


def test_drop_with_reason_and_extras_sorted():
    out = io.StringIO()
    log = EventLog(out)
    log.log(0.000000001, "B", None, "drop", reason="esps_badauth", length=152, summary="s",
            extra={"spi": 10000, "flow": "ping", "iv": b"\x01\x02"})
    log.close()
    assert out.getvalue() == (
        '{"time":0.000000001,"host":"B","interface":null,"event":"drop","reason":"esps_badauth",'
        '"length":152,"summary":"s","flow":"ping","iv":"0102","spi":10000}\n'
    )


def test_time_is_rounded_to_ns_with_nine_places():
    out = io.StringIO()
    log = EventLog(out)
    for t in (0.0, 8.2, 0.1 + 0.2, 123456.0000000004):
        log.log(t, "A", "em0", "rx")
    times = [line.split(",")[0] for line in out.getvalue().splitlines()]
    assert times == ['{"time":0.000000000', '{"time":8.200000000', '{"time":0.300000000', '{"time":123456.000000000']
    with pytest.raises(ValueError):
        log.log(-1.0, "A", "em0", "rx")


def test_strings_are_escaped_ascii():
    out = io.StringIO()
    EventLog(out).log(1, 'h"x', "em\n0", "rx", summary="caf\u00e9 \\")
    line = out.getvalue()
    assert line.isascii() and line.count("\n") == 1
    assert json.loads(line)["summary"] == "caf\u00e9 \\" and json.loads(line)["host"] == 'h"x'


def test_extra_may_not_redefine_fixed_fields():
    log = EventLog(io.StringIO())
    with pytest.raises(ValueError, match="reason"):
        log.log(0, "A", "em0", "drop", extra={"reason": "x"})
    with pytest.raises(TypeError):
        log.log(0, "A", "em0", "drop", extra={"obj": object()})


def test_file_round_trip_and_determinism(tmp_path):
    def run(path):
        with EventLog(path) as log:
            for i in range(100):
                log.log(i * 0.001, "A", "em0", "tx" if i % 2 else "rx", length=i, summary=f"packet {i}",
                        extra={"seq": i} if i % 3 == 0 else None)
        return path.read_bytes()

    a = run(tmp_path / "a.jsonl")
    b = run(tmp_path / "b.jsonl")
    assert a == b
    events = read_events(tmp_path / "a.jsonl")
    assert len(events) == 100
    assert list(events[0])[: len(FIELDS)] == list(FIELDS)
    assert events[3] == {"time": 0.003, "host": "A", "interface": "em0", "event": "tx", "reason": None,
                         "length": 3, "summary": "packet 3", "seq": 3}


def test_close_is_idempotent(tmp_path):
    log = EventLog(tmp_path / "t.jsonl")
    log.log(0, "A", "em0", "tx")
    log.close()
    log.close()
    assert log.closed and log.events == 1
    assert (tmp_path / "t.jsonl").read_text().endswith("}\n")
