"""ipsecsim/ike/config.py: swanctl.conf as strongSwan reads it, its defaults, and its errors.

The defaults checked here are those swanctl.conf(5) documents for strongSwan 5.9
(rekey_time 4h for IKE and 1h for CHILD_SAs, life_time = rekey_time + 10 %,
rand_time = life_time - rekey_time, over_time = 10 % of rekey_time).
"""

import base64
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipsecsim.ike.config import (
    AuthRound, Child, Connection, Secret, SwanctlConfig, SwanctlConfigError, parse_swanctl, parse_time,
)
from ipsecsim.scenario import ScenarioError, load_scenario

# The two-site configuration of a strongSwan tutorial whose `swanctl --list-conns` output
# tests/ike/test_swanctl_show.py compares against.
OFFICES = """\
connections {
    offices {
        version = 2
        local_addrs = 203.0.113.2
        remote_addrs = 198.51.100.2
        proposals = aes256gcm16-prfsha384-ecp384
        local {
            auth = psk
            id = hq.example.com
        }
        remote {
            auth = psk
            id = branch.example.com
        }
        children {
            lans {
                local_ts = 192.168.10.0/24
                remote_ts = 192.168.20.0/24
                esp_proposals = aes256gcm16
                start_action = trap
            }
        }
    }
}

secrets {
    ike-offices {
        id-hq = hq.example.com
        id-branch = branch.example.com
        secret = "a long pre-shared key"
    }
}
"""


def error_of(text: str) -> SwanctlConfigError:
    with pytest.raises(SwanctlConfigError) as info:
        parse_swanctl(text)
    return info.value


def test_offices_and_strongswan_defaults():
    config = parse_swanctl(OFFICES)
    conn = config.connections["offices"]
    assert conn.local_addrs == ["203.0.113.2"] and conn.remote_addrs == ["198.51.100.2"]
    assert conn.proposals == ["aes256gcm16-prfsha384-ecp384"]
    assert conn.local == AuthRound("psk", "hq.example.com")
    assert conn.remote == AuthRound("psk", "branch.example.com")
    assert (conn.rekey_time, conn.reauth_time, conn.over_time, conn.rand_time) == (14400, 0, 1440, 1440)
    assert (conn.dpd_delay, conn.keyingtries, conn.version) == (0, 1, 2)
    child = conn.children["lans"]
    assert child == Child("lans", ["192.168.10.0/24"], ["192.168.20.0/24"], "tunnel", ["aes256gcm16"],
                          3600, 3960, 360, "trap", "none", "clear", 0)
    assert config.secrets == [Secret("ike", ["hq.example.com", "branch.example.com"], b"a long pre-shared key",
                                     "ike-offices")]


def test_an_empty_connection_takes_every_default():
    conn = parse_swanctl("connections {\n c {\n local { auth = psk }\n remote { auth = psk }\n}\n}\n").connections["c"]
    assert conn.local_addrs == ["%any"] and conn.remote_addrs == ["%any"] and conn.proposals == ["default"]
    assert conn.local.id is None and conn.children == {} and conn.version == 0


def test_lifetimes_follow_rekey_time_unless_written():
    text = textwrap.dedent("""\
        connections { c {
          rekey_time = 1h
          reauth_time = 2h
          local { auth = psk }
          remote { auth = psk }
          children {
            a { rekey_time = 10m }
            b { rekey_time = 100s
                life_time = 2m
                rand_time = 5 }
          }
        } }
        """)
    conn = parse_swanctl(text).connections["c"]
    assert (conn.rekey_time, conn.reauth_time, conn.over_time, conn.rand_time) == (3600, 7200, 720, 720)
    assert (conn.children["a"].rekey_time, conn.children["a"].life_time, conn.children["a"].rand_time) == (600, 660, 60)
    assert (conn.children["b"].rekey_time, conn.children["b"].life_time, conn.children["b"].rand_time) == (100, 120, 5)


@pytest.mark.parametrize("text, seconds", [("1h", 3600), ("30m", 1800), ("10s", 10), ("45", 45), ("2d", 172800),
                                           (" 5 m ", 300), ("0", 0)])
def test_time_syntax(text, seconds):
    assert parse_time(text) == seconds


@pytest.mark.parametrize("text", ["1x", "-1", "1.5h", "h", "", "1 h 2"])
def test_bad_times(text):
    assert parse_time(text) is None


def test_syntax_details_sections_merge_last_key_wins_quotes_and_comments():
    text = textwrap.dedent("""\
        # a comment
        connections {
          c { local_addrs = 10.0.0.1   # trailing comment
              local { auth = psk } remote { auth = psk } }
        }
        connections {
          c { local_addrs = 10.0.0.2, 10.0.0.3
              children { x { local_ts = "10.1.0.0/16" } } }
        }
        secrets { ike { secret = "with # hash \\"and quotes\\"" } }
        """)
    config = parse_swanctl(text)
    conn = config.connections["c"]
    assert conn.local_addrs == ["10.0.0.2", "10.0.0.3"]
    assert conn.local.auth == "psk" and conn.children["x"].local_ts == ["10.1.0.0/16"]
    assert config.secrets[0].secret == b'with # hash "and quotes"'


def test_secret_encodings():
    text = ("secrets {\n ike-a { secret = 0x0102ff }\n ike-b { secret = 0s"
            + base64.b64encode(b"\x00key").decode() + " }\n ike-c { secret = plain }\n}\n")
    assert [s.secret for s in parse_swanctl(text).secrets] == [b"\x01\x02\xff", b"\x00key", b"plain"]


def test_actions_take_strongswans_aliases():
    text = ("connections { c { local { auth = psk }\n remote { auth = psk }\n children { x {\n"
            " start_action = route\n close_action = restart\n dpd_action = hold\n mode = transport } } } }")
    child = parse_swanctl(text).connections["c"].children["x"]
    assert (child.start_action, child.close_action, child.dpd_action, child.mode) == ("trap", "start", "trap", "transport")


@pytest.mark.parametrize("text, line, column, message", [
    ("connections {\n  c {\n    rekey_tim = 1h\n  }\n}\n", 3, 5,
     "loading connection 'c' failed: unknown option: rekey_tim, config discarded"),
    ("connections {\n  c {\n    rekey_time = 1x\n  }\n}\n", 3, 5,
     "loading connection 'c' failed: invalid value for: rekey_time, config discarded"),
    ("connections { c {\n local { auth = psk }\n remote { auth = psk }\n children { x {\n  mode = beet } } } }", 5, 3,
     "loading connection 'c' failed: invalid value for: mode, config discarded (one of: tunnel, transport)"),
    ("connections { c {\n local { auth = psk }\n remote { auth = psk }\n children { x {\n  updown = /bin/true } } } }",
     5, 3, "loading connection 'c' failed: updown scripts are not run by the simulator; remove 'updown'"),
    ("connections { c {\n local { auth = pubkey } } }", 2, 10,
     "loading connection 'c' failed: auth = pubkey is not modelled; use auth = psk"),
    ("connections { c {\n local { id = a } } }", 2, 2,
     "loading connection 'c' failed: local has no 'auth = psk' (strongSwan's default is pubkey, which is not modelled)"),
    ("connections { c {\n version = 1 } }", 2, 2, "loading connection 'c' failed: IKEv1 is not modelled; use version = 2"),
    ("connections { c {\n proposals = aes128-sha256-x25519, aes128-shaa256 } }", 2, 2,
     "loading connection 'c' failed: invalid value for: proposals, config discarded "
     "('aes128-shaa256' is not a proposal the simulator knows)"),
    ("include /etc/swanctl/conf.d/*.conf\n", 1, 1,
     "include is not supported: write the whole configuration in the scenario's swanctl: block"),
    ("connections {\n  c {\n", 2, 3, "section 'c' is not closed with '}'"),
    ("}\n", 1, 1, "'}' closes no section"),
    ("connections {\n c : base {\n} }", 2, 4, "section references ('c : other') are not supported; write the section out"),
    ("connections {\n c\n}", 2, 2, "expected '=' or '{' after 'c'"),
    ("secrets {\n ike-x { id = a }\n}", 2, 2, "missing secret in 'ike-x', ignored"),
    ("secrets {\n foo { secret = a }\n}", 2, 2, "ignoring unsupported secret 'foo'"),
    ("secrets {\n eap-x { secret = a }\n}", 2, 2,
     "secret 'eap-x': only ike secrets (ike<suffix> { id, secret }) are modelled"),
    ("secrets {\n ike-x { secret = 0xzz }\n}", 2, 10, "loading shared key 'ike-x' failed: invalid 0x encoded secret"),
    ("pools {\n}", 1, 1, "'pools' is swanctl configuration the simulator does not model"),
    ("connection {\n}", 1, 1, "unknown section 'connection'; swanctl.conf has connections { } and secrets { }"),
    ("a = b\n", 1, 1, "'a' outside a section; swanctl.conf has connections { } and secrets { }"),
    ('secrets { ike { secret = "open\n} }', 1, 26, "unterminated quoted string"),
])
def test_errors_name_line_column_and_reason(text, line, column, message):
    error = error_of(text)
    assert (error.line, error.column, error.message) == (line, column, message)
    assert str(error) == f"line {line}:{column}: {message}"


def test_child_rekeying_after_its_lifetime_is_refused():
    error = error_of("connections { c { local { auth = psk }\n remote { auth = psk }\n children { x {\n"
                     " rekey_time = 2h\n life_time = 1h } } } }")
    assert (error.line, error.column) == (5, 2)
    assert "rekey_time 7200s is after its life_time 3600s" in error.message


# -- psk_for: strongSwan's shared-key lookup ------------------------------------------------------


def config_with(*secrets: tuple[list[str], bytes]) -> SwanctlConfig:
    return SwanctlConfig({}, [Secret("ike", ids, key) for ids, key in secrets])


def test_psk_for_prefers_the_secret_naming_both_ends():
    config = config_with(([], b"catch-all"), (["b"], b"b only"), (["a", "b"], b"both"))
    assert config.psk_for("a", "b") == b"both"
    assert config.psk_for("b", "z") == b"b only"
    assert config.psk_for("x", "y") == b"catch-all"


def test_psk_for_wildcards_and_misses():
    config = config_with((["%any"], b"any"), (["a"], b"one"))
    assert config.psk_for("a", "q") == b"one"  # one exact end outweighs %any on both
    assert config_with((["a"], b"one")).psk_for("x", "y") is None
    assert config_with((["a", "%any"], b"k")).psk_for("x", "y") == b"k"
    assert SwanctlConfig().psk_for("a", "b") is None


def test_psk_for_ties_go_to_the_first_written():
    assert config_with((["a"], b"first"), (["a"], b"second")).psk_for("a", "b") == b"first"


# -- fuzzing: anything either parses or names its line ---------------------------------------------

_PIECES = st.sampled_from(["connections", "secrets", "children", "local", "remote", "c", "x", "ike-a", "{", "}",
                           "=", "#", '"', "\n", " ", ",", "auth", "psk", "id", "secret", "0x0g", "0s==", "1h",
                           "rekey_time", "mode", "tunnel", "local_ts", "include", ":", "version", "2", "1"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_structured_garbage_parses_or_raises_the_config_error(text):
    try:
        parse_swanctl(text)
    except SwanctlConfigError as error:
        assert error.line >= 1 and error.column >= 1
        assert str(error).startswith(f"line {error.line}:{error.column}: ")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_raises_the_config_error(text):
    try:
        parse_swanctl(text)
    except SwanctlConfigError:
        pass


_WORD = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
_TIME = st.integers(1, 10**6)


@st.composite
def connections(draw):
    out = {}
    for name in draw(st.lists(_WORD, min_size=1, max_size=3, unique=True)):
        conn = Connection(name, version=draw(st.sampled_from([0, 2])), local_addrs=[f"10.0.0.{draw(st.integers(1, 254))}"],
                          remote_addrs=[f"10.0.1.{draw(st.integers(1, 254))}"],
                          proposals=draw(st.lists(st.sampled_from(["aes128-sha256-x25519", "aes256gcm16-prfsha384-ecp384",
                                                                   "default"]), min_size=1, max_size=2)),
                          rekey_time=draw(_TIME), local=AuthRound("psk", draw(st.none() | _WORD)),
                          remote=AuthRound("psk", draw(st.none() | _WORD)))
        conn.over_time = conn.rand_time = conn.rekey_time // 10
        for cname in draw(st.lists(_WORD, max_size=2, unique=True)):
            rekey = draw(_TIME)
            conn.children[cname] = Child(cname, ["10.1.0.0/16"], ["10.2.0.0/16"],
                                         draw(st.sampled_from(["tunnel", "transport"])),
                                         ["aes128gcm16"], rekey, rekey * 110 // 100, rekey * 110 // 100 - rekey,
                                         draw(st.sampled_from(["none", "trap", "start"])), "none", "clear",
                                         draw(st.integers(0, 2**32 - 1)))
        out[name] = conn
    return out


def render(conns: dict[str, Connection]) -> str:
    lines = ["connections {"]
    for c in conns.values():
        lines += [f"  {c.name} {{", f"    version = {c.version}", f"    local_addrs = {', '.join(c.local_addrs)}",
                  f"    remote_addrs = {', '.join(c.remote_addrs)}", f"    proposals = {', '.join(c.proposals)}",
                  f"    rekey_time = {c.rekey_time}s"]
        for side, auth in (("local", c.local), ("remote", c.remote)):
            lines += [f"    {side} {{", "      auth = psk"] + ([f"      id = {auth.id}"] if auth.id else []) + ["    }"]
        lines.append("    children {")
        for ch in c.children.values():
            lines += [f"      {ch.name} {{", f"        local_ts = {ch.local_ts[0]}", f"        remote_ts = {ch.remote_ts[0]}",
                      f"        mode = {ch.mode}", f"        esp_proposals = {ch.esp_proposals[0]}",
                      f"        rekey_time = {ch.rekey_time}", f"        start_action = {ch.start_action}",
                      f"        reqid = {ch.reqid}", "      }"]
        lines += ["    }", "  }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None)
@given(connections())
def test_written_connections_read_back_the_same(conns):
    assert parse_swanctl(render(conns)).connections == conns


# -- the scenario's swanctl: block ---------------------------------------------------------------


def scenario(tmp_path, swanctl: str):
    body = textwrap.indent(swanctl, " " * 6)
    path = tmp_path / "s.yaml"
    path.write_text("name: swanctl\nduration: 10s\nlinks:\n  - {a: A:em0, b: B:em0}\nhosts:\n  A:\n"
                    f"    swanctl: |\n{body}")
    return path


def test_scenario_points_at_the_swanctl_line_and_column(tmp_path):
    path = scenario(tmp_path, "connections {\n  gw {\n    rekey_time = 1x\n  }\n}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).splitlines()[0] == (f"{path}:10:11: hosts.A.swanctl: loading connection 'gw' failed: "
                                               "invalid value for: rekey_time, config discarded")


def test_scenario_with_a_good_swanctl_block_loads(tmp_path):
    scn = load_scenario(scenario(tmp_path, OFFICES))
    assert parse_swanctl(scn.hosts["A"].swanctl.text).connections["offices"].remote.id == "branch.example.com"


def test_a_round_may_carry_a_suffix_but_only_one_round_per_side_is_modelled():
    config = parse_swanctl("connections { c {\n local-1 { auth = psk\n id = me }\n remote_psk { auth = psk } } }")
    assert config.connections["c"].local == AuthRound("psk", "me")
    error = error_of("connections { c {\n local-1 { auth = psk }\n local-2 { auth = psk } } }")
    assert (error.line, error.column, error.message) == (
        3, 2, "loading connection 'c' failed: a second local authentication round ('local-2' after 'local-1') "
              "is not modelled")
