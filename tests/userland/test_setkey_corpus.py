"""The setkey corpus (tests/netipsec/corpus/setkey_lines.txt) run through setkey(8) on a fresh host.

Each real statement gives what its EXPECT column says, and every SA or policy it
installs dumps in pfkey_dump.c's layout [S10.9] [S10.10], checked line by line
with the format strings turned into patterns.
"""

import re
from pathlib import Path

import pytest

from .test_setkey import Bench

CORPUS = Path(__file__).resolve().parent.parent / "netipsec" / "corpus" / "setkey_lines.txt"
ENTRIES = [line.split("\t", 1) for line in CORPUS.read_text().splitlines() if line and not line.startswith("#")]

_ADDR = r"[0-9a-f.:]+"
_TIME = r"(?:[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}| {20})"
SA_LINES = [
    rf"{_ADDR} {_ADDR}",
    r"\t(esp|ah|ipcomp) mode=(any|transport|tunnel) spi=\d+\(0x[0-9a-f]{8}\) reqid=\d+\(0x[0-9a-f]{8}\)",
    r"\tE: [a-z0-9-]+ (( [0-9a-f]{1,8})*)",
    r"( [0-9a-f]{1,8})+",  # continuation of a key longer than 32 bytes (no tab) [S10.9]
    r"\tA: [a-z0-9-]+ ( [0-9a-f]{1,8})+",
    r"\tseq=0x[0-9a-f]{8} replay=\d+ flags=0x[0-9a-f]{8} state=(larval|mature|dying|dead) ",
    rf"\tcreated: {_TIME}\tcurrent: {_TIME}",
    r"\tdiff: \d+\(s\)\thard: \d+\(s\)\tsoft: \d+\(s\)",
    rf"\tlast: {_TIME}\thard: \d+\(s\)\tsoft: \d+\(s\)",
    r"\tcurrent: \d+\(bytes\)\thard: \d+\(bytes\)\tsoft: \d+\(bytes\)",
    r"\tallocated: \d+\thard: \d+\tsoft: \d+",
    r"\tsadb_seq=\d+ pid=\d+ refcnt=\d+",
]
SP_LINES = [
    rf"{_ADDR}(/\d+)?(\[(\d+|any)\])? {_ADDR}(/\d+)?(\[(\d+|any)\])? [a-z0-9.-]+( \d+,\d+)?",
    r"\t(in|out) (discard|none|ipsec|entrust|bypass)",
    rf"\t(esp|ah|ipcomp)/(transport|tunnel)/({_ADDR}-{_ADDR})?/(default|use|require|unique)([:#]\d+)?",
    r"\tspid=\d+ seq=\d+ pid=\d+ scope=(global|ifnet|pcb) (ifname=\w+)?",
    r"\trefcnt=\d+",
]


def _conforms(text: str, patterns: list[str]) -> None:
    for line in text.rstrip("\n").split("\n"):
        assert any(re.fullmatch(p, line) for p in patterns), f"not in pfkey_dump.c's format: {line!r}"


def test_corpus_is_big_enough():
    assert len(ENTRIES) >= 50
    assert sum(expect in ("sa", "sp") for expect, _ in ENTRIES) >= 40


@pytest.mark.parametrize("expect, statement", ENTRIES, ids=[f"{i}" for i in range(len(ENTRIES))])
def test_corpus_statement(expect, statement):
    bench = Bench()
    result = bench.setkey_c(statement + "\n")
    if expect in ("sa", "sp", "ok"):
        assert (result.status, result.output) == (0, "")
        sad, spd = bench.out("setkey -D"), bench.out("setkey -DP")
        assert (sad != "No SAD entries.\n") == (expect == "sa")
        assert (spd != "No SPD entries.\n") == (expect == "sp")
        if expect == "sa":
            _conforms(sad, SA_LINES)
            assert sad.count("\tsadb_seq=") == 1
        if expect == "sp":
            _conforms(spd, SP_LINES)
    elif expect.startswith("kernel:"):
        assert (result.status, result.output) == (0, f"The result of line 1: {expect[7:]}.\n")
    elif expect.startswith("parse:"):
        assert result.status == 1
        assert result.output.endswith(f"{expect[6:]}\nparse failed, line 1.\n")
    else:
        assert expect == "unsupported"
        assert result.status == 1 and "not modelled" in result.output
