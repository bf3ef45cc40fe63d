"""YAML -> marked values: positions of keys and values, script line maps, YAML-level errors."""

import pytest

from ipsecsim.scenario import ScenarioError
from ipsecsim.scenario.yamlmarks import MarkedList, MarkedMap, load_marked, locate, script_positions

SOURCE = """\
name: x
links:
  - {a: A:em0, b: "B:em0", mtu: 0x5dc}
hosts:
  A:
    run: |   # a comment
      ifconfig em0 up

        route add default 10.0.0.1
  B: {run: 'echo hi'}
  C:
  D:
    run: plain words
"""


@pytest.fixture
def data():
    return load_marked(SOURCE, "f.yaml")


def test_plain_values(data):
    assert isinstance(data, MarkedMap) and isinstance(data["links"], MarkedList)
    assert data["links"][0] == {"a": "A:em0", "b": "B:em0", "mtu": 1500}
    assert data["hosts"]["C"] is None
    assert type(data["hosts"]["A"]["run"]) is str


def test_value_and_key_positions(data):
    link = data["links"][0]
    assert (link.span.line, link.span.col) == (3, 5)
    assert (link.key_spans["b"].line, link.key_spans["b"].col) == (3, 16)
    assert (link.value_spans["b"].line, link.value_spans["b"].col, link.value_spans["b"].style) == (3, 19, '"')
    assert data["links"].item_spans[0].text == '{a: A:em0, b: "B:em0", mtu: 0x5dc}'


def test_empty_value_points_at_its_key(data):
    span = data["hosts"].value_spans["C"]
    assert (span.line, span.col) == (11, 3)


def test_locate_skips_parts_not_in_the_file(data):
    found = locate(data, ("links", 0, "some-union-tag", "mtu"), "f.yaml")
    assert found.path == ("links", 0, "mtu")
    assert (found.span.line, found.span.col) == (3, 33)
    assert (found.key_span.line, found.key_span.col) == (3, 28)
    missing = locate(data, ("links", 0, "delay"), "f.yaml")
    assert missing.path == ("links", 0) and missing.span.line == 3


def test_block_script_lines_start_on_the_next_line(data):
    text = data["hosts"]["A"]["run"]
    lines = script_positions(text, data["hosts"]["A"].value_spans["run"])
    assert text.split("\n")[0] == "ifconfig em0 up"
    assert lines[0] == (7, 7)
    assert lines[2] == (9, 7)  # the relative indent stays in the text, the column is the block's
    assert text.split("\n")[2] == "  route add default 10.0.0.1"
    assert len(lines) == len(text.split("\n"))


def test_quoted_and_plain_script_positions(data):
    assert script_positions("echo hi", data["hosts"]["B"].value_spans["run"]) == ((10, 13),)
    assert script_positions("plain words", data["hosts"]["D"].value_spans["run"]) == ((13, 10),)


def test_merge_keys_and_anchors():
    data = load_marked("base: &b {delay: 1ms, mtu: 1500}\nlink: {<<: *b, mtu: 9000}\n", "m.yaml")
    assert data["link"] == {"mtu": 9000, "delay": "1ms"}
    assert data["link"].value_spans["delay"].line == 1


def test_yaml_1_2_booleans():
    data = load_marked("a: yes\nb: true\nc: off\nd: 1_000\ne: .inf\n", "b.yaml")
    assert data == {"a": "yes", "b": True, "c": "off", "d": 1000, "e": float("inf")}


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("a: 1\na: 2\n", "d.yaml:2:1: a: 'a' appears twice here (also on line 1); keep one"),
        ("a: !thing 5\n", "d.yaml:1:4: a: the YAML tag !thing is not used in scenarios; remove it"),
        ("a: &x [1, *x]\n", "d.yaml:1:4: a[1]: this alias refers to itself; a scenario cannot contain loops"),
        ("a: b: c\n", "d.yaml:1:5: YAML syntax error: unexpected ':'; put quotes around text that contains ': '"),
        ("a: [1, 2\n", "d.yaml:2:1: YAML syntax error: expected ',' or ']' in this [...] list; is the [ on line 1 closed?"),
        ("a: *nope\n", "d.yaml:1:4: YAML syntax error: this *alias names an &anchor that is not defined above it"),
        ("a: 1\n---\nb: 2\n", "d.yaml:2:1: YAML syntax error: a scenario is one YAML document; remove the second '---'"),
        ("a: 'open\n", "d.yaml:2:1: YAML syntax error: the file ends inside quotes; close the quote"),
        ("a: \x07\n", "d.yaml:1:4: YAML syntax error: the control character '\\x07' is not allowed in a YAML file"),
        ("? [1, 2]\n: x\n", "d.yaml:1:3: a key must be a plain word, not a list or mapping"),
    ],
)
def test_yaml_problems(text, first):
    with pytest.raises(ScenarioError) as exc:
        load_marked(text, "d.yaml")
    assert str(exc.value.diagnostics[0]) == first


def test_every_duplicate_is_reported():
    with pytest.raises(ScenarioError) as exc:
        load_marked("a: 1\nb: {c: 1, c: 2}\na: 3\n", "d.yaml")
    assert [d.line for d in exc.value.diagnostics] == [2, 3]


def _laughs(levels: int) -> str:
    """A "billion laughs" file: each level is a list of nine aliases of the level before."""
    lines = ["l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    lines += [f"l{n}: &l{n} [{','.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_without_being_expanded(monkeypatch):
    from ipsecsim.scenario import yamlmarks

    text = _laughs(8)  # 9**9 values from about 400 bytes
    assert len(text) < 450
    built = 0
    build = yamlmarks._Builder.build

    def counted(self, *args):  # expanding it would take minutes and gigabytes: fail fast instead
        nonlocal built
        built += 1
        assert built < 200_000, "the aliases are being expanded"
        return build(self, *args)

    monkeypatch.setattr(yamlmarks._Builder, "build", counted)
    with pytest.raises(ScenarioError) as exc:
        load_marked(text, "laughs.yaml")
    assert str(exc.value) == ('laughs.yaml:6:5: l5: the aliases here expand to more than 100,000 values; '
                              'a scenario this large is not supported (YAML "billion laughs")')
    assert built == 0


def test_a_map_shared_through_many_aliases_is_fine():
    text = "defaults: &link {bandwidth: 10Mbit/s, delay: 1ms, mtu: 1400, queue: 50}\nlinks:\n" + "".join(
        f"  - {{<<: *link, a: 'H{i}:em0', b: 'R:em{i}'}}\n" for i in range(20))
    data = load_marked(text, "many.yaml")
    assert len(data["links"]) == 20
    assert data["links"][19] == {"a": "H19:em0", "b": "R:em19", "bandwidth": "10Mbit/s", "delay": "1ms",
                                 "mtu": 1400, "queue": 50}
