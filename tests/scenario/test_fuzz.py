"""The h11 invariant for scenario files: any input loads or raises ScenarioError, nothing else.

Random edits of a good file, at the text level (mostly YAML syntax) and at the data level
(values of the wrong type, unknown keys, deleted keys), must never escape as another
exception, and every diagnostic must be one well-formed, jargon-free line.
"""

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ipsecsim.scenario import Scenario, ScenarioError, parse_scenario

GOOD_TEXT = (Path(__file__).parent / "good" / "three_hosts.yaml").read_text()
GOOD_DATA = YAML(typ="safe", pure=True).load(GOOD_TEXT)
JARGON = ("Input should", "Value error", "pydantic", "validation error", "Traceback", "errors.pydantic.dev")

KEYS = sorted({
    "name", "description", "duration", "seed", "links", "hosts", "traffic", "timeline", "expect", "a", "b",
    "bandwidth", "delay", "jitter", "reorder", "loss", "queue", "mtu", "up", "model", "p", "r", "loss_good",
    "loss_bad", "run", "ping", "udp", "from", "to", "count", "interval", "size", "start", "stop", "ttl", "source",
    "rate", "sport", "dport", "at", "host", "link", "state", "set", "flow", "counter", "drops", "received",
    "transmitted", "rtt_avg", "throughput", "ipackets", "obytes",
})  # fmt: skip
WORDS = [
    "10ms", "-1s", "0", "5%", "150%", "A:em0", "B:ipsec0", "A", "Z", "10.0.0.1", "::1", "10.0.2.2", "1Mbit/s",
    "10 Mbps", "64KB", "up", "down", "gilbert-elliott", ">= 5", "=> 5", "< 5ms", "bulk", "bottleneck", "|", "",
]  # fmt: skip
SCALARS = (
    st.none() | st.booleans() | st.integers(-(10**6), 10**20) | st.floats() | st.text(max_size=8)
    | st.sampled_from(WORDS) | st.sampled_from(KEYS)
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def check_invariant(text: str) -> None:
    lines = text.count("\n") + 2
    try:
        result = parse_scenario(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert exc.diagnostics
        for diag in exc.diagnostics:
            line = str(diag)
            assert line.startswith("fuzz.yaml:") and "\n" not in line, line
            assert not any(j in line for j in JARGON), line
            assert 1 <= diag.line <= lines and diag.col >= 1, line
    else:
        assert isinstance(result, Scenario)
        for item in result.traffic:
            assert item.from_host in result.hosts


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))


ALL_PATHS = list(paths(GOOD_DATA))


def mutate(data, path, op, value, key):
    import copy

    root = copy.deepcopy(data)
    if not path:
        return value if op == "replace" else root
    parent = root
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "replace":
        parent[last] = value
    elif op == "delete":
        del parent[last]
    elif op == "add_key" and isinstance(parent[last], dict):
        parent[last][key] = value
    elif op == "wrap":
        parent[last] = [parent[last]]
    return root


def dump(data) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    yaml.dump(data, out)
    return out.getvalue()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(ALL_PATHS),
    op=st.sampled_from(["replace", "delete", "add_key", "wrap"]),
    value=VALUES,
    key=st.sampled_from(KEYS) | st.text(min_size=1, max_size=6),
)
def test_data_mutations_load_or_raise_scenario_error(path, op, value, key):
    check_invariant(dump(mutate(GOOD_DATA, path, op, value, key)))


TEXT_ALPHABET = st.sampled_from(list(":-{}[],#&*!|>'\"%@`? \n\t\\") + ["a", "0", "é", "\x00", "\x85", "\ufeff"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(GOOD_TEXT)), st.integers(0, 3), st.text(TEXT_ALPHABET, max_size=3)), max_size=4))
def test_text_mutations_load_or_raise_scenario_error(edits):
    text = GOOD_TEXT
    for pos, cut, insert in edits:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + cut :]
    check_invariant(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_loads_or_raises_scenario_error(text):
    check_invariant(text)
