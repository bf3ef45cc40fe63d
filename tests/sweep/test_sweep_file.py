"""Problems in a sweep file are reported at its line and column, never as a traceback."""

import pytest
from click.testing import CliRunner

from ipsecsim.cli import main
from ipsecsim.sweep import PathSyntaxError, SweepError, load_sweep, parse_path, resolve
from ipsecsim.scenario import ScenarioError, parse_scenario

from .conftest import write_sweep

GOOD_METRICS = "metrics:\n  loss: flows[name=bulk].loss\n"


@pytest.mark.parametrize("text, where, words", [
    ("base: base.yaml\ngrid:\n  links[0].los: [0%]\n" + GOOD_METRICS, "3:3", "links[0] has no key 'los'"),
    ("base: base.yaml\ngrid:\n  links[2].loss: [0%]\n" + GOOD_METRICS, "3:3", "[2] is not one"),
    ("base: base.yaml\ngrid:\n  links..loss: [0%]\n" + GOOD_METRICS, "3:9", "a key is missing before this '.'"),
    ("base: base.yaml\ngrid:\n  traffic[name=nope].udp.rate: [1Mbit/s]\n" + GOOD_METRICS, "3:3",
     "nothing named 'nope' (names there: bulk)"),
    ("base: base.yaml\ngrid:\n  links[0].loss: [0%]\nmetrics:\n  loss: flows[name=bulk]].loss\n", "5:25",
     "unexpected ']'"),
    ("base: base.yaml\ngrid:\n  links[0].loss: [0%]\nmetrics:\n  ok: flows.bulk.loss\n", "5:3", "'ok' is a column"),
    ("base: base.yaml\ngrid:\n  links[0].loss: [0%]\n" + GOOD_METRICS + "x: seed\n", "6:4", "not a grid key"),
    ("base: base.yaml\ngrid:\n  seed: 5..1\n" + GOOD_METRICS, "3:9", "the range ends before it starts"),
    ("base: base.yaml\ngrid:\n  seed: []\n" + GOOD_METRICS, "3:9", "no values"),
    ("base: base.yaml\ngrid:\n  links[0]: [{}]\n  links[0].loss: [1%]\n" + GOOD_METRICS, "4:3", "overlaps"),
    ("base: nothere.yaml\ngrid:\n  seed: 1..2\n" + GOOD_METRICS, "1:7", "cannot read"),
    ("base: base.yaml\ngrid: {seed: 1..2}\n" + GOOD_METRICS + "colour: red\n", "5:1", "unknown key 'colour'"),
    ("base: base.yaml\ngrid:\n  seed: [1, 2\n" + GOOD_METRICS, "4:8", "YAML syntax error"),
    ("base: base.yaml\n" + GOOD_METRICS, "1:1", "'grid:' is missing"),
])
def test_problems_point_at_the_sweep_file(sweep_dir, text, where, words):
    path = write_sweep(sweep_dir, text)
    with pytest.raises(SweepError) as caught:
        load_sweep(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{where}: "), message
    assert words in message
    result = CliRunner().invoke(main, ["sweep", str(path)])
    assert result.exit_code == 2 and result.stderr.strip() == message


def test_a_bad_base_scenario_gives_its_own_messages(sweep_dir):
    (sweep_dir / "base.yaml").write_text((sweep_dir / "base.yaml").read_text().replace("10Mbit/s", "10 parsecs"))
    path = write_sweep(sweep_dir, "base: base.yaml\ngrid:\n  seed: 1..2\n" + GOOD_METRICS)
    with pytest.raises(ScenarioError) as caught:
        load_sweep(path)
    assert str(caught.value).startswith(f"{sweep_dir / 'base.yaml'}:5:")


def test_a_top_level_key_the_base_lacks_is_added(sweep_dir):
    base = sweep_dir / "base.yaml"
    base.write_text(base.read_text().replace("seed: 1\n", ""))
    sweep = load_sweep(write_sweep(sweep_dir, "base: base.yaml\ngrid:\n  seed: 3..4\n" + GOOD_METRICS))
    texts = [text for _, _, text in sweep.points()]
    assert texts[0].endswith("\nseed: 3\n") and texts[1].endswith("\nseed: 4\n")


def test_values_replace_the_base_text_in_place(sweep_dir):
    grid = ("grid:\n  hosts.B.run: [\"ifconfig em0 inet 10.0.0.2/24\\nifconfig em0 mtu 1400\\n\"]\n"
            "  traffic[name=bulk].udp.rate: [1Mbit/s]\n")
    sweep = load_sweep(write_sweep(sweep_dir, "base: base.yaml\n" + grid + GOOD_METRICS))
    [(_, values, text)] = list(sweep.points())
    assert values["traffic[name=bulk].udp.rate"] == "1Mbit/s"
    assert 'rate: "1Mbit/s"' in text
    assert '    run: "ifconfig em0 inet 10.0.0.2/24\\nifconfig em0 mtu 1400\\n"\ntraffic:' in text
    assert text.count("\n") == (sweep_dir / "base.yaml").read_text().count("\n") - 1  # the block became one line


@pytest.mark.parametrize("path, value", [
    ("flows[name=bulk].loss", 0.5),
    ("flows.bulk.loss", 0.5),
    ("pings[name=p1].received", 3),
    ("pings[1].received", 4),
    ("counters[name=A:em0].ipackets", 7),
])
def test_result_paths(path, value):
    result = {"flows": {"bulk": {"loss": 0.5}}, "counters": {"A:em0": {"ipackets": 7}},
              "pings": [{"name": "p1", "received": 3}, {"name": "p2", "received": 4}]}
    assert resolve(result, parse_path(path))[1] == value


@pytest.mark.parametrize("path, offset", [("", 0), ("a.", 1), ("[0]", 0), ("a b", 1), ("a[x]", 1), (".a", 0)])
def test_path_syntax_errors_say_where(path, offset):
    with pytest.raises(PathSyntaxError) as caught:
        parse_path(path)
    assert caught.value.offset == offset


def test_a_whole_block_mapping_or_list_is_replaced_and_the_next_key_kept(sweep_dir):
    grid = ('grid:\n  hosts.A: [{run: "ifconfig em0 inet 10.0.0.1/24\\n"}]\n'
            "  links: [[{a: A:em0, b: B:em0, loss: 3%}]]\n")
    sweep = load_sweep(write_sweep(sweep_dir, "base: base.yaml\n" + grid + GOOD_METRICS))
    [(_, _, text)] = list(sweep.points())
    scenario = parse_scenario(text, "base.yaml")
    assert list(scenario.hosts) == ["A", "B"] and scenario.links[0].loss == 0.03
    assert '  A:\n    {"run": "ifconfig em0 inet 10.0.0.1/24\\n"}\n  B:\n' in text


def test_a_value_from_an_anchor_changes_where_the_anchor_is(sweep_dir):
    base = sweep_dir / "base.yaml"
    base.write_text(base.read_text().replace("bandwidth: 10Mbit/s", "bandwidth: &bw 10Mbit/s")
                    .replace("rate: 2Mbit/s", "rate: *bw"))
    for key in ("traffic[0].udp.rate", "links[0].bandwidth"):
        sweep = load_sweep(write_sweep(sweep_dir, f"base: base.yaml\ngrid:\n  {key}: [1Mbit/s]\n" + GOOD_METRICS))
        [(_, _, text)] = list(sweep.points())
        scenario = parse_scenario(text, "base.yaml")
        assert 'bandwidth: &bw "1Mbit/s"' in text
        assert scenario.links[0].bandwidth == scenario.traffic[0].rate == 1e6
