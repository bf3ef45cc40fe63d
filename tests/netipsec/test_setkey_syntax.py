"""setkey's scanner and ``add`` grammar, with the messages setkey prints. [S10.3]-[S10.6]"""

from __future__ import annotations

import ipaddress

import pytest

from ipsecsim.netipsec import SADB_X_EXT_CYCSEQ, SADB_X_EXT_PRAND, SADB_X_EXT_PZERO, SetkeyError
from ipsecsim.netipsec.setkey_syntax import Lexer, Parser, parse_add

MAN_PAGE = 'add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!1";'


def kinds(text: str) -> list[tuple[str, str]]:
    lexer, out = Lexer(text), []
    while (tok := lexer.next()).kind != "EOF":
        out.append((tok.kind, tok.text))
    return out


def test_lexer_flex_rules():
    # token.l: keywords beat STRING on a tie, the longest match wins otherwise,
    # algorithm names are keywords only right after -E / -A (start states).
    assert kinds(MAN_PAGE) == [
        ("ADD", "add"), ("STRING", "192.168.0.3"), ("STRING", "192.168.0.5"), ("PR_ESP", "esp"),
        ("DECSTRING", "10000"), ("F_MODE", "-m"), ("MODE", "tunnel"), ("F_REQID", "-u"), ("DECSTRING", "100"),
        ("F_ENC", "-E"), ("ALG_ENC", "rijndael-cbc"), ("QUOTEDSTRING", "VerySecureKey!!1"), ("EOT", ";"),
    ]  # fmt: skip
    assert kinds("esp-old espx 0x1f 0x1g fe80::1%em0 -46 null") == [
        ("PR_ESP", "esp-old"), ("STRING", "espx"), ("HEXSTRING", "0x1f"), ("STRING", "0x1g"),
        ("STRING", "fe80::1%em0"), ("F_AIFLAGS", "-46"), ("STRING", "null"),
    ]  # fmt: skip
    assert kinds("-A null -E aes-gcm-16 -E chacha20-poly1305 -A hmac-sha2-256") == [
        ("F_AUTH", "-A"), ("ALG_AUTH_NOKEY", "null"), ("F_ENC", "-E"), ("ALG_ENC_SALT", "aes-gcm-16"),
        ("F_ENC", "-E"), ("ALG_ENC_SALT", "chacha20-poly1305"), ("F_AUTH", "-A"), ("ALG_AUTH", "hmac-sha2-256"),
    ]  # fmt: skip


def test_lexer_comments_lines_and_quoted_newlines():
    lexer = Lexer('# comment ; add\nadd\n"a\nb" x')
    toks = []
    while (t := lexer.next()).kind != "EOF":
        toks.append((t.kind, t.text, t.lineno))
    # only the {nl} rule counts lines: the newline inside quotes does not
    assert toks == [("ADD", "add", 2), ("QUOTEDSTRING", "a\nb", 3), ("STRING", "x", 3)]


def test_unknown_character_is_fatal_without_parse_failed():
    # yyfatal("Syntax error") exits at once: one line, no "parse failed". [S10.3]
    with pytest.raises(SetkeyError) as e:
        parse_add('add 1.1.1.1 2.2.2.2 esp 1000 -E null "" !;')
    assert e.value.output == "line 1: Syntax error at [!]"
    assert e.value.kind == "fatal"


def test_man_page_add():
    cmd = parse_add(MAN_PAGE)
    assert (cmd.src, cmd.dst) == (ipaddress.ip_address("192.168.0.3"), ipaddress.ip_address("192.168.0.5"))
    assert (cmd.protocol, cmd.spi, cmd.mode, cmd.reqid) == ("esp", 10000, "tunnel", 100)
    assert (cmd.enc, cmd.enc_key, cmd.auth, cmd.replay) == ("rijndael-cbc", b"VerySecureKey!!1", None, 0)
    assert cmd.ext == SADB_X_EXT_CYCSEQ  # parse_init's default [S10.5]


def test_extensions_and_defaults():
    cmd = parse_add("add -n 10.0.0.1 10.0.0.2 esp 0x2710 -m any -u 4294967297 -r 4 -f zero-pad -f nocyclic-seq "
                    "-lh 10 -ls 5 -E aes-gcm-16 0x000102030405060708090a0b0c0d0e0f10111213 ;")  # fmt: skip
    assert cmd.spi == 10000 and cmd.mode == "any" and cmd.reqid == 1  # reqid is u_int32_t
    assert cmd.replay == 4 and cmd.ext == SADB_X_EXT_PZERO
    assert (cmd.lifetime_hard, cmd.lifetime_soft) == (10, 5)
    assert cmd.enc_key == bytes(range(20))
    assert parse_add('add 10.0.0.1 10.0.0.2 esp 1000 -f random-pad -E null "";').ext == SADB_X_EXT_CYCSEQ | SADB_X_EXT_PRAND
    assert parse_add('add 10.0.0.1 10.0.0.2 esp 1000 -E null "";').mode == "any"


def test_hex_key_odd_digit_rule():
    # parse.y key_string: with an odd digit count the first digit is a byte of its own. [S10.6]
    cmd = parse_add("add 10.0.0.1 10.0.0.2 esp 1000 -E null 0xabc;")
    assert cmd.enc_key == b"\x0a\xbc"


def test_multiline_and_line_numbers():
    cmds = Parser('add 10.0.0.1 10.0.0.2 esp 1000\n  -E null ""\n;\nadd ::1 ::2 esp 1001 -E null "";').commands()
    assert [c.spi for c in cmds] == [1000, 1001]
    with pytest.raises(SetkeyError) as e:
        Parser('add 10.0.0.1 10.0.0.2 esp 1000 -E null "";\n\nadd 10.0.0.1 10.0.0.2 esp 1001 -E aes-cbc "short";').commands()
    assert e.value.output == "line 3: Invalid key length at [short]\nparse failed, line 3."


@pytest.mark.parametrize(
    "line,output",
    [
        # [S10.3]/[S10.6]: client-side key check, yytext being the key (quotes cut out)
        ('add 192.168.0.3 192.168.0.5 esp 10000 -E rijndael-cbc "VerySecureKey!!";',
         "line 1: Invalid key length at [VerySecureKey!!]\nparse failed, line 1."),
        ("add 192.168.0.3 192.168.0.5 esp 10000 -E aes-cbc 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00;",
         "line 1: Invalid key length at [0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00]\n"
         "parse failed, line 1."),
        # salted algorithms are checked on bytes - 4 [S10.6]
        ('add 1.1.1.1 2.2.2.2 esp 1000 -E aes-gcm-16 "0123456789abcdef";',
         "line 1: Invalid key length at [0123456789abcdef]\nparse failed, line 1."),
        ('add 1.1.1.1 2.2.2.2 esp 1000 -E chacha20-poly1305 "0123456789abcdef0123456789abcdef";',
         "line 1: Invalid key length at [0123456789abcdef0123456789abcdef]\nparse failed, line 1."),
        ('add 1.1.1.1 2.2.2.2 esp 1000 -E null "" -A hmac-sha2-256 "0123456789abcdef";',
         "line 1: Invalid key length at [0123456789abcdef]\nparse failed, line 1."),
        # aes-xcbc-mac is in token.l but not in the kernel's list: "Not supported" [S10.6]
        ('add 1.1.1.1 2.2.2.2 esp 1000 -E null "" -A aes-xcbc-mac 0x00112233445566778899aabbccddeeff;',
         "line 1: Not supported at [0x00112233445566778899aabbccddeeff]\nparse failed, line 1."),
        ('add 1.1.1.1 2.2.2.2 esp 1000 -E 3des-cbc "012345678901234567890123";',
         "line 1: Not supported at [012345678901234567890123]\nparse failed, line 1."),
        # FreeBSD 14 token.l: -E null needs a key [S10.6]
        ("add 1.1.1.1 2.2.2.2 esp 1000 -E null;", "line 1: syntax error at [;]\nparse failed, line 1."),
        # extensions come before the algorithms in parse.y [S10.4]
        ('add 1.1.1.1 2.2.2.2 esp 1000 -E null "" -m tunnel;', "line 1: syntax error at [-m]\nparse failed, line 1."),
        ('add 1.1.1.1 2.2.2.2 esp 1000 -m foo -E null "";', "line 1: syntax error at [foo]\nparse failed, line 1."),
        ('add 1.1.1.1 2.2.2.2 esp 1000 -E null ""', "line 1: syntax error at []\nparse failed, line 1."),
        ('add 1.1.1.1 2.2.2.2 esp 0x100000000 -E null "";', "line 1: SPI too big. at [0x100000000]\nparse failed, line 1."),
        ('add 1.1.1.1 1000 esp 1000 -E null "";', "line 1: syntax error at [1000]\nparse failed, line 1."),
        ('add gw.example 2.2.2.2 esp 1000 -E null "";',
         "line 1: hostname nor servname provided, or not known at [gw.example]\nparse failed, line 1."),
        ('add -6 1.1.1.1 2.2.2.2 esp 1000 -E null "";',
         "line 1: hostname nor servname provided, or not known at [1.1.1.1]\nparse failed, line 1."),
        # mixed families: setkeymsg_add sends nothing and returns -1 silently
        ('add 1.1.1.1 ::2 esp 1000 -E null "";', "parse failed, line 1."),
    ],
)  # fmt: skip
def test_setkey_parse_errors(line, output):
    with pytest.raises(SetkeyError) as e:
        parse_add(line)
    assert e.value.output == output == str(e.value)


def test_replay_too_large_is_a_warning_not_an_error():
    # parse.y prints "replay window is too large" and carries on. [S10.5]
    cmd = parse_add('add 1.1.1.1 2.2.2.2 esp 1000 -r 600000000 -E null "";')
    assert cmd.warnings == ["line 1: replay window is too large at [600000000]"]


def test_parse_add_wants_one_add_statement():
    with pytest.raises(SetkeyError) as e:
        parse_add("flush;")
    assert e.value.kind == "unsupported"


# -- the rest of the grammar [S10.4] [S10.7] ---------------------------------------------------

from pathlib import Path  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402

from ipsecsim.netipsec.setkey_syntax import (  # noqa: E402
    PolicyCommand,
    PolicyError,
    parse_policy,
    parse_script,
)

CORPUS = Path(__file__).parent / "corpus" / "setkey_lines.txt"


def test_statements_and_their_fields():
    cmds = parse_script(
        "flush esp; dump; spdflush; spddump;\n"
        "get -4 10.0.0.1 10.0.0.2 esp 0x1000; delete 10.0.0.1 10.0.0.2 esp 4096; deleteall ::1 ::2 esp;\n"
        "spdadd -n 10.0.0.0/24[any] 10.0.1.0/24[443] tcp -P out ipsec esp/tunnel/1.1.1.1-2.2.2.2/unique:7;\n"
        "spddelete 2001:db8::/32 2001:db8:1::/48 icmp6 1,3 -P in\n none;\n"
    )
    assert [type(c).__name__ for c in cmds[:4]] == ["TableCommand"] * 4
    assert (cmds[0].kind, cmds[0].protocol, cmds[1].protocol) == ("flush", "esp", None)
    assert [(c.kind, c.spi) for c in cmds[4:7]] == [("get", 4096), ("delete", 4096), ("deleteall", 0)]
    spd = cmds[7]
    assert isinstance(spd, PolicyCommand)
    assert (spd.src_prefix, spd.sport, spd.dport, spd.ul_proto) == (24, 0, 443, 6)
    assert spd.policy.requests[0].reqid == 7 and spd.lineno == 3
    delete = cmds[8]
    assert (delete.kind, delete.ul_proto, delete.sport, delete.dport, delete.policy.policy, delete.lineno) == (
        "spddelete", 58, 1, 3, "none", 5)


def test_policy_grammar_s10_7():
    p = parse_policy("out ipsec esp/transport//require ah/tunnel/::1-::2/use")
    assert [str(r) for r in p.requests] == ["esp/transport//require", "ah/tunnel/::1-::2/use"]
    assert parse_policy("in").policy == "discard"  # p_type 0: DISCARD
    assert parse_policy("out none esp/transport//require").requests == ()
    assert parse_policy("out ipsec esp/transport/me-any/use").requests[0].src is None
    for text, message in [
        ("out ipsec esp/tunnel//require", "Invalid address specification"),
        ("out ipsec esp/tunnel/1.1.1.1-::2/require", "Family mismatch"),
        ("in ipsec esp/transport/me-any", "Invalid direciton"),
        ("out ipsec esp/", "Too few arguments"),
        ("out ipsec esp/tunnel/gw-1.1.1.1/require", "hostname nor servname provided, or not known"),
        ("sideways ipsec", "Invalid argument"),
    ]:
        with pytest.raises(PolicyError) as e:
            parse_policy(text)
        assert e.value.message == message, text


def test_lexer_yymore_after_a_policy():
    # token.l calls yymore() for the policy: the ';' token's yytext carries the policy text.
    lexer = Lexer("spdadd a b any -P out none;")
    toks = [lexer.next() for _ in range(7)]
    assert [t.kind for t in toks] == ["SPDADD", "STRING", "STRING", "ANY", "F_POLICY", "PL_REQUESTS", "EOT"]
    assert toks[5].text == " out none" and toks[6].text == " out none;"


def test_spdupdate_is_an_extension():
    (cmd,) = parse_script("spdupdate 10.0.0.0/8 10.1.0.0/16 any -P out discard;")
    assert cmd.kind == "spdupdate"


def test_corpus_lines_parse_as_recorded():
    """Every corpus line (tests/netipsec/corpus/setkey_lines.txt) parses, or fails as recorded."""
    lines = [line for line in CORPUS.read_text().splitlines() if line and not line.startswith("#")]
    assert len(lines) >= 50
    for line in lines:
        expect, statement = line.split("\t", 1)
        if expect.startswith("parse:"):
            with pytest.raises(SetkeyError) as e:
                parse_script(statement)
            assert e.value.output.split("\n")[-2] == expect[6:], statement
        else:
            assert len(parse_script(statement)) == 1, statement


_WORDS = st.sampled_from([
    "add", "get", "delete", "deleteall", "flush", "dump", "spdadd", "spddelete", "spdflush", "spddump",
    "esp", "ah", "ipcomp", "tcp", "any", "icmp6", "10.0.0.1", "10.0.0.0/8", "::1", "[80]", "[any]", "-m",
    "tunnel", "transport", "-u", "7", "0x1000", "-E", "-A", "null", '""', "aes-gcm-16", "hmac-sha1", "-P",
    "out", "in", "ipsec", "none", "esp/tunnel/1.1.1.1-2.2.2.2/require", "esp/transport//unique:5", ";",
    "\n", "#", "-lh", "-ls", "-r", "-f", "zero-pad", "-4", "-6", "!", "/", "135,0", "'", "\\",
])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=14))
def test_fuzz_statements_only_raise_setkey_errors(words):
    try:
        parse_script(" ".join(words))
    except SetkeyError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_text_only_raises_setkey_errors(text):
    try:
        parse_script(text)
    except SetkeyError:
        pass
    try:
        parse_policy(text)
    except PolicyError:
        pass
