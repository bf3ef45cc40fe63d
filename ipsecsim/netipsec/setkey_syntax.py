"""setkey(8)'s scanner and grammar (token.l, parse.y) and libipsec's policy parser. [S10.4]-[S10.7]

:class:`Lexer` reproduces the flex scanner: longest match, earlier rule on a tie,
and the start states that make algorithm names keywords only right after ``-E``
or ``-A`` and swallow a whole policy after ``-P`` (with flex's ``yymore()``: the
token after a policy carries the policy's text in ``yytext``). :class:`Parser`
is a recursive-descent transcription of parse.y's productions: ``add``, ``get``,
``delete``, ``deleteall``, ``flush``, ``dump``, ``spdadd``, ``spddelete``,
``spdflush``, ``spddump`` (and ``spdupdate``, an ipsecsim extension: FreeBSD's
token.l lacks it, ipsec-tools has it). :func:`parse_policy` is
``ipsec_set_policy`` (policy_token.l, policy_parse.y).

Errors are :class:`SetkeyError` with setkey's own words and the token flex's
``yytext`` holds when parse.y reports them (the last token read; a quoted key
without its quotes, since the scanner strips them in place). :meth:`Parser.next_command`
parses one statement at a time, so a caller runs each before a later one fails to
parse, as setkey's actions do.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from .algorithms import (
    SADB_X_EXT_CYCSEQ,
    SADB_X_EXT_PRAND,
    SADB_X_EXT_PSEQ,
    SADB_X_EXT_PZERO,
    auth_algorithm,
    check_setkey_keylen,
    enc_algorithm,
)
from .errors import SetkeyError
from .policy import IPSEC_ULPROTO_ANY, IpsecRequest, SecurityPolicy
from .sa import Lifetime

__all__ = [
    "Token", "Lexer", "Parser", "AddCommand", "TableCommand", "PolicyCommand", "ParsedPolicy",
    "parse_add", "parse_policy", "parse_script", "PolicyError",
]

_INITIAL, _S_PL, _S_AUTHALG, _S_ENCALG = "INITIAL", "S_PL", "S_AUTHALG", "S_ENCALG"

# Encryption names in FreeBSD 14 token.l plus main's chacha20-poly1305 and the
# aes-cbc alias [S10.6]: name -> token. Salted algorithms are ALG_ENC_SALT.
_ENC_TOKENS = {
    "des-cbc": "ALG_ENC", "3des-cbc": "ALG_ENC", "null": "ALG_ENC", "simple": "ALG_ENC_OLD",
    "blowfish-cbc": "ALG_ENC", "cast128-cbc": "ALG_ENC", "des-deriv": "ALG_ENC_DESDERIV",
    "des-32iv": "ALG_ENC_DES32IV", "rijndael-cbc": "ALG_ENC", "aes-cbc": "ALG_ENC",
    "aes-ctr": "ALG_ENC_SALT", "camellia-cbc": "ALG_ENC", "aes-gcm-16": "ALG_ENC_SALT",
    "chacha20-poly1305": "ALG_ENC_SALT",
}  # fmt: skip
_AUTH_TOKENS = {
    n: "ALG_AUTH"
    for n in ("hmac-md5", "hmac-sha1", "keyed-md5", "keyed-sha1", "hmac-sha2-256", "hmac-sha2-384",
              "hmac-sha2-512", "hmac-ripemd160", "aes-xcbc-mac", "tcp-md5")
} | {"null": "ALG_AUTH_NOKEY"}  # fmt: skip
_KEYWORDS = {
    "add": "ADD", "delete": "DELETE", "deleteall": "DELETEALL", "get": "GET", "flush": "FLUSH",
    "dump": "DUMP", "spdadd": "SPDADD", "spddelete": "SPDDELETE", "spddump": "SPDDUMP",
    "spdflush": "SPDFLUSH", "spdupdate": "SPDUPDATE", "tagged": "TAGGED", "ah": "PR_AH", "esp": "PR_ESP", "ah-old": "PR_AH",
    "esp-old": "PR_ESP", "ipcomp": "PR_IPCOMP", "tcp": "PR_TCP", "-A": "F_AUTH", "-E": "F_ENC",
    "-C": "F_COMP", "oui": "ALG_COMP", "deflate": "ALG_COMP", "lzs": "ALG_COMP", "-R": "F_RAWCPI",
    "-m": "F_MODE", "transport": "MODE", "tunnel": "MODE", "-u": "F_REQID", "-f": "F_EXT",
    "random-pad": "EXTENSION", "seq-pad": "EXTENSION", "zero-pad": "EXTENSION",
    "nocyclic-seq": "NOCYCLICSEQ", "-r": "F_REPLAY", "-lh": "F_LIFETIME_HARD",
    "-ls": "F_LIFETIME_SOFT", "any": "ANY", ";": "EOT", "/": "SLASH", "[": "BLCL", "]": "ELCL",
}  # fmt: skip
# Supported by FreeBSD's kernel (so setkey checks the key) but not modelled here:
# key size range in bytes. camellia-cbc's presence in FreeBSD 14 is UNCONFIRMED.
_UNMODELLED_ENC_KEYS = {"camellia-cbc": (16, 32)}
_EXTENSIONS = {"random-pad": SADB_X_EXT_PRAND, "seq-pad": SADB_X_EXT_PSEQ, "zero-pad": SADB_X_EXT_PZERO}


@dataclass(frozen=True, slots=True)
class Token:
    """One scanner token: ``kind`` is parse.y's token name, ``text`` flex's yytext."""

    kind: str
    text: str
    lineno: int


# (start states or None for every inclusive state, pattern, kind or action name).
# Order is token.l's: on equal length the earlier rule wins.
_RULES: list[tuple[frozenset[str] | None, re.Pattern[str], str]] = [
    *[(None, re.compile(re.escape(w)), k) for w, k in _KEYWORDS.items() if k not in ("EOT", "SLASH", "BLCL", "ELCL")],
    (frozenset({_S_PL}), re.compile(r"[a-zA-Z0-9:.\-_/ \n\t][a-zA-Z0-9:.%\-_/ \n\t]*"), "PL_REQUESTS"),
    (frozenset({_S_PL}), re.compile(";"), "EOT_PL"),
    (None, re.compile(r"-P"), "F_POLICY"),
    (None, re.compile(r"-[n46][n46]*"), "F_AIFLAGS"),
    *[(frozenset({_S_AUTHALG}), re.compile(re.escape(n)), k) for n, k in _AUTH_TOKENS.items()],
    *[(frozenset({_S_ENCALG}), re.compile(re.escape(n)), k) for n, k in _ENC_TOKENS.items()],
    (None, re.compile(r"[ \t]+"), "WS"),
    (None, re.compile(r"\n"), "NL"),
    (None, re.compile(r"#.*"), "WS"),
    (None, re.compile(";"), "EOT"),
    (None, re.compile("/"), "SLASH"),
    (None, re.compile(r"\["), "BLCL"),
    (None, re.compile(r"\]"), "ELCL"),
    (None, re.compile(r"[0-9]+"), "DECSTRING"),
    (None, re.compile(r"0[xX][0-9A-Fa-f]+"), "HEXSTRING"),
    (None, re.compile(r'"[^"]*"'), "QUOTEDSTRING"),
    (None, re.compile(r"[A-Za-z0-9:][A-Za-z0-9:%.\-]*"), "STRING"),
    (None, re.compile(r"[0-9,]+"), "STRING"),
    (None, re.compile(r".|\n", re.S), "FATAL"),
]
_BEGIN = {"F_POLICY": _S_PL, "F_AUTH": _S_AUTHALG, "F_ENC": _S_ENCALG, "EOT_PL": _INITIAL}


class Lexer:
    """setkey's flex scanner over one script (a line or a whole ``-c`` input)."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.lineno = 1
        self.state = _INITIAL
        self._more = ""  # yymore(): text the next token's yytext starts with

    def next(self) -> Token:
        """The next token; ``EOF`` at the end. Unknown characters are fatal ("Syntax error")."""
        text = self.text
        while self.pos < len(text):
            best, kind = None, ""
            for states, pattern, k in _RULES:
                if states is not None and self.state not in states:
                    continue
                m = pattern.match(text, self.pos)
                if m and m.end() > self.pos and (best is None or m.end() > best.end()):
                    best, kind = m, k
            assert best is not None  # the last rule matches any character
            self.pos = best.end()
            word = self._more + best.group()
            self._more = ""
            if kind == "NL":
                self.lineno += 1
                continue
            if kind == "WS":
                continue
            if kind == "FATAL":
                raise SetkeyError("Syntax error", kind="fatal", lineno=self.lineno, at=word)
            if kind in _BEGIN:
                self.state = _BEGIN[kind]
            elif kind.startswith("ALG_"):
                self.state = _INITIAL
            if kind == "PL_REQUESTS":
                self.lineno += word.count("\n")
                self._more = word  # token.l calls yymore() for a policy
            if kind == "QUOTEDSTRING":
                word = word[word.index('"') + 1 : -1]  # the scanner cuts the quotes out of yytext
            return Token({"EOT_PL": "EOT"}.get(kind, kind), word, self.lineno)
        return Token("EOF", "", self.lineno)


@dataclass(slots=True)
class AddCommand:
    """What one ``add`` statement asks for, as setkey's parser variables hold it. [S10.5]"""

    src: ipaddress.IPv4Address | ipaddress.IPv6Address
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address
    protocol: str | None  # "esp", "esp-old", "ah", "ah-old", "ipcomp", "tcp"; None if left out
    spi: int
    lineno: int
    mode: str = "any"
    reqid: int = 0
    replay: int = 0  # bytes, as typed (p_replay)
    ext: int = SADB_X_EXT_CYCSEQ  # p_ext: sadb_sa_flags
    enc: str | None = None
    enc_key: bytes | None = None
    auth: str | None = None
    auth_key: bytes | None = None
    comp: str | None = None
    lifetime_hard: int = 0
    lifetime_soft: int = 0
    warnings: list[str] = field(default_factory=list)
    kind: str = "add"  # also "get", "delete", "deleteall" (spi 0): the same parser variables

    def sa_arguments(self) -> dict[str, Any]:
        """Keyword arguments for :class:`SecurityAssociation`; the kernel's refusals raise.

        Mirrors what ``key_add`` does with the message setkey sends: the SA
        extension carries the replay size (bytes up to 255, else the
        SADB_X_EXT_SA_REPLAY bit count), lifetimes are sent only when non-zero.
        """

        def einval(detail: str) -> SetkeyError:
            return SetkeyError("Invalid argument", kind="kernel", errno="EINVAL", detail=detail)

        if self.protocol in ("ah", "ah-old", "ipcomp", "tcp", "esp-old"):
            raise SetkeyError(f"{self.protocol} SAs are not modelled, only esp", kind="unsupported")
        if self.protocol is None:
            raise einval("no security protocol given")
        if self.enc is None or self.enc_key is None:
            raise einval("ESP needs -E and an encryption key")
        if self.enc == "camellia-cbc":
            raise SetkeyError("camellia-cbc is not modelled", kind="unsupported")
        replay = self.replay
        if replay > 255:
            bits = (replay << 3) & 0xFFFFFFFF  # sadb_x_sa_replay_replay is 32 bits
            if bits > 0xFFFFFFFF - 32:
                raise einval("replay window too large")
            replay = (bits + 7) >> 3
        return {
            "src": self.src,
            "dst": self.dst,
            "spi": self.spi,
            "mode": self.mode,
            "reqid": self.reqid,
            "replay_window": replay,
            "flags": self.ext,
            "enc": self.enc,
            "enc_key": self.enc_key,
            "auth": self.auth,
            "auth_key": self.auth_key or b"",
            "lifetime_hard": Lifetime(addtime=self.lifetime_hard) if self.lifetime_hard else None,
            "lifetime_soft": Lifetime(addtime=self.lifetime_soft) if self.lifetime_soft else None,
        }


@dataclass(slots=True)
class TableCommand:
    """``flush [proto]``, ``dump [proto]``, ``spdflush``, ``spddump``."""

    kind: str
    protocol: str | None
    lineno: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ParsedPolicy:
    """What ``ipsec_set_policy`` builds from ``in|out discard|none|ipsec requests...``. [S10.7]"""

    direction: str
    policy: str
    requests: tuple[IpsecRequest, ...] = ()


@dataclass(slots=True)
class PolicyCommand:
    """``spdadd``/``spdupdate``/``spddelete``: selector and policy, as setkey sends them. [S10.4]

    ``src_prefix``/``dst_prefix`` None mean the full length; ports 0 mean any.
    """

    kind: str
    src: ipaddress.IPv4Address | ipaddress.IPv6Address
    src_prefix: int | None
    sport: int
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address
    dst_prefix: int | None
    dport: int
    ul_proto: int
    policy: ParsedPolicy
    lineno: int
    warnings: list[str] = field(default_factory=list)

    def to_policy(self) -> SecurityPolicy:
        """The :class:`SecurityPolicy` the kernel makes of it; a prefix too long is EINVAL.

        FreeBSD does not check the prefix length; ipsecsim cannot represent a
        /33, so the kernel side refuses it (``Invalid argument``).
        """
        try:
            src = ipaddress.ip_network((self.src, self.src.max_prefixlen if self.src_prefix is None else self.src_prefix), strict=False)
            dst = ipaddress.ip_network((self.dst, self.dst.max_prefixlen if self.dst_prefix is None else self.dst_prefix), strict=False)
        except ValueError as e:
            raise SetkeyError("Invalid argument", kind="kernel", errno="EINVAL", lineno=self.lineno, detail=str(e)) from None
        return SecurityPolicy(src, dst, self.sport, self.dport, self.ul_proto & 0xFF, self.policy.direction,
                              self.policy.policy, self.policy.requests)  # fmt: skip


class Parser:
    """parse.y's productions, one method per nonterminal, over a :class:`Lexer`."""

    _STATEMENTS = ("ADD", "GET", "DELETE", "DELETEALL", "FLUSH", "DUMP", "SPDADD", "SPDUPDATE",
                   "SPDDELETE", "SPDDUMP", "SPDFLUSH")  # fmt: skip

    def __init__(self, text: str):
        self.lexer = Lexer(text)
        self._tok: Token | None = None
        self.last = Token("EOF", "", 1)  # yytext: the token most recently read
        self.warnings: list[str] = []
        self.family: int | None = None

    # -- plumbing -----------------------------------------------------------
    @property
    def tok(self) -> Token:
        """The lookahead token, read only when a production needs it, as yacc does: a
        statement's action runs before the scanner looks past its ``;``."""
        if self._tok is None:
            self._tok = self.lexer.next()
            self.last = self._tok
        return self._tok

    def _advance(self) -> Token:
        tok = self.tok
        self._tok = None
        self.last = tok
        return tok

    def _expect(self, *kinds: str) -> Token:
        if self.tok.kind not in kinds:
            self._error("syntax error", at=self.tok)
        return self._advance()

    def _error(self, message: str | None, at: Token | None = None) -> None:
        at = at or self.last
        raise SetkeyError(message, lineno=at.lineno, at=at.text, warnings=tuple(self.warnings))

    def _warn(self, message: str) -> None:
        """A yyerror that does not stop parsing (its line is printed all the same)."""
        self.warnings.append(f"line {self.last.lineno}: {message} at [{self.last.text}]")

    @property
    def lineno(self) -> int:
        """The scanner's ``lineno`` now (what ``parse failed, line N.`` would print)."""
        return self.lexer.lineno

    # -- statements ---------------------------------------------------------
    def commands(self) -> list[AddCommand | TableCommand | PolicyCommand]:
        """``commands: | commands command`` until the end of the input."""
        out = []
        while (cmd := self.next_command()) is not None:
            out.append(cmd)
        return out

    def next_command(self) -> AddCommand | TableCommand | PolicyCommand | None:
        """The next statement, or None at the end; parse errors raise :class:`SetkeyError`."""
        kind = self.tok.kind
        if kind == "EOF":
            return None
        if kind not in self._STATEMENTS:
            self._error("syntax error", at=self.tok)
        self.warnings = []
        self.family = None
        if kind == "ADD":
            return self.add_command()
        if kind in ("GET", "DELETE", "DELETEALL"):
            return self.sa_command()
        if kind in ("FLUSH", "DUMP"):
            self._advance()
            protocol = self.protocol_spec()
            end = self._expect("EOT")
            return TableCommand(kind.lower(), protocol, end.lineno)
        if kind in ("SPDFLUSH", "SPDDUMP"):
            self._advance()
            end = self._expect("EOT")
            return TableCommand(kind.lower(), None, end.lineno)
        return self.spd_command()

    def _ipaddropts(self) -> None:
        while self.tok.kind == "F_AIFLAGS":
            for c in self._advance().text[1:]:
                self.family = {"4": 4, "6": 6}.get(c, self.family)  # 'n' is always true here

    def add_command(self) -> AddCommand:
        """``ADD ipaddropts ipaddr ipaddr protocol_spec spi extension_spec algorithm_spec EOT``."""
        self._expect("ADD")
        self._ipaddropts()
        src = self.ipaddr()
        dst = self.ipaddr()
        protocol = self.protocol_spec()
        spi = self.spi()
        cmd = AddCommand(src=src, dst=dst, protocol=protocol, spi=spi, lineno=self.tok.lineno)
        self.extension_spec(cmd)
        self.algorithm_spec(cmd)
        end = self._expect("EOT")
        cmd.lineno = end.lineno
        if src.version != dst.version:
            # setkeymsg_add sends nothing for mismatched pairs and returns -1 without
            # a message: setkey prints only "parse failed". (DERIVED from parse.y)
            self._error(None, at=end)
        cmd.warnings = self.warnings
        return cmd

    def sa_command(self) -> AddCommand:
        """``GET|DELETE ipaddropts ipaddr ipaddr protocol_spec spi extension_spec EOT`` and
        ``DELETEALL ipaddropts ipaddr ipaddr protocol_spec EOT``. [S10.4]"""
        kind = self._advance().kind.lower()
        self._ipaddropts()
        src = self.ipaddr()
        dst = self.ipaddr()
        protocol = self.protocol_spec()
        cmd = AddCommand(src=src, dst=dst, protocol=protocol, spi=0, lineno=self.tok.lineno, kind=kind)
        if kind != "deleteall":
            cmd.spi = self.spi()
            self.extension_spec(cmd)
        end = self._expect("EOT")
        cmd.lineno = end.lineno
        if kind != "deleteall" and cmd.mode != "any":
            self._warn("WARNING: mode is obsolete")
        if src.version != dst.version:
            self._error(None, at=end)  # setkeymsg_addr: no pair of one family, -1 silently
        cmd.warnings = self.warnings
        return cmd

    def spd_command(self) -> PolicyCommand:
        """``SPDADD|SPDDELETE ipaddropts STRING prefix portstr STRING prefix portstr upper_spec
        upper_misc_spec policy_spec EOT``. [S10.4] [S10.7]

        The policy is parsed when its token is read (``policy_spec``'s action); the
        addresses are resolved only once the ``;`` is read, so their errors quote the
        policy text that ``yymore()`` kept in ``yytext``.
        """
        kind = self._advance().kind.lower()
        self._ipaddropts()
        src_tok, src_plen, src_port = self._range()
        dst_tok, dst_plen, dst_port = self._range()
        ul_proto = self.upper_spec()
        misc = self._advance().text if self.tok.kind == "STRING" else None
        policy = self.policy_spec()
        end = self._expect("EOT")
        if misc is not None:
            if ul_proto != IPPROTO_ICMPV6:
                self._error(None, at=end)  # return -1 without a message
            type_, comma, code = misc.partition(",")
            if comma and not code:
                self._error("invalid an upper layer protocol spec", at=end)
            src_port, dst_port = type_, code if comma else "0"
        src = self._resolve(src_tok, src_port, end)
        dst = self._resolve(dst_tok, dst_port, end)
        if src[0].version != dst[0].version:
            self._error(None, at=end)  # setkeymsg_spdaddr: no pair of one family
        cmd = PolicyCommand(kind, src[0], src_plen, src[1], dst[0], dst_plen, dst[1], ul_proto, policy, end.lineno)
        cmd.warnings = self.warnings
        return cmd

    def _range(self) -> tuple[Token, int | None, str]:
        """``STRING prefix portstr``: ``address[/prefixlen][[port]]``; no prefix is -1 (full)."""
        addr = self._expect("STRING")
        plen = None
        if self.tok.kind == "SLASH":
            self._advance()
            plen = _strtoul(self._expect("DECSTRING").text, 10)
        port = "0"
        if self.tok.kind == "BLCL":
            self._advance()
            tok = self._expect("ANY", "DECSTRING", "STRING")
            port = "0" if tok.kind == "ANY" else str(_strtoul(tok.text, 10)) if tok.kind == "DECSTRING" else tok.text
            self._expect("ELCL")
        return addr, plen, port

    def _resolve(self, host: Token, port: str, at: Token):
        """parse_addr(): getaddrinfo with a numeric service; ipsecsim resolves numeric hosts only."""
        try:
            addr = ipaddress.ip_address(host.text)
        except ValueError:
            addr = None
        if addr is None or (self.family is not None and addr.version != self.family):
            self._error("hostname nor servname provided, or not known", at=at)  # EAI_NONAME
        if not port.isdigit():
            self._error("servname not supported for ai_socktype", at=at)  # EAI_SERVICE
        value = int(port)
        if value > 65535:
            self._error("servname not supported for ai_socktype", at=at)
        return addr, value

    def upper_spec(self) -> int:
        """``DECSTRING | ANY | PR_TCP | PR_ESP | STRING`` (getprotobyname, icmp6, ip4). [S10.4]"""
        tok = self._expect("DECSTRING", "ANY", "PR_TCP", "PR_ESP", "STRING")
        if tok.kind == "DECSTRING":
            return _strtoul(tok.text, 10) & 0xFFFF  # stored in sadb_address_proto (u_int8_t) later
        if tok.kind == "ANY":
            return IPSEC_ULPROTO_ANY
        if tok.kind in ("PR_TCP", "PR_ESP"):
            return 6 if tok.kind == "PR_TCP" else 50
        number = PROTOCOL_NUMBERS.get(tok.text)
        if number is None:
            number = {"icmp6": IPPROTO_ICMPV6, "ip4": 4}.get(tok.text)
        if number is None:
            self._error("invalid upper layer protocol")
        return number

    def policy_spec(self) -> ParsedPolicy:
        """``F_POLICY PL_REQUESTS``: ipsec_set_policy(), its error text through yyerror."""
        self._expect("F_POLICY")
        tok = self._expect("PL_REQUESTS")
        try:
            return parse_policy(tok.text)
        except PolicyError as e:
            self.warnings.extend(e.stderr)
            self._error(e.message, at=tok)
        raise AssertionError("unreachable")

    def ipaddr(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """``ipaddr: STRING`` resolved by getaddrinfo; ipsecsim resolves numeric addresses only."""
        tok = self._expect("STRING")
        try:
            addr = ipaddress.ip_address(tok.text)
        except ValueError:
            addr = None
        if addr is None or (self.family is not None and addr.version != self.family):
            self._error("hostname nor servname provided, or not known")  # gai_strerror(EAI_NONAME)
        return addr

    def protocol_spec(self) -> str | None:
        if self.tok.kind in ("PR_ESP", "PR_AH", "PR_IPCOMP", "PR_TCP"):
            return self._advance().text
        return None

    def spi(self) -> int:
        tok = self._expect("DECSTRING", "HEXSTRING")
        if tok.kind == "DECSTRING":
            return _strtoul(tok.text, 10) & 0xFFFFFFFF  # p_spi is u_int32_t
        value = _strtoul(tok.text[2:], 16)
        if value > 0xFFFFFFFF:
            self._error("SPI too big.")
        return value

    def extension_spec(self, cmd: AddCommand) -> None:
        while True:
            kind = self.tok.kind
            if kind == "F_EXT":
                self._advance()
                tok = self._expect("EXTENSION", "NOCYCLICSEQ")
                if tok.kind == "EXTENSION":
                    cmd.ext |= _EXTENSIONS[tok.text]
                else:
                    cmd.ext &= ~SADB_X_EXT_CYCSEQ
            elif kind == "F_MODE":
                self._advance()
                tok = self._expect("MODE", "ANY")
                cmd.mode = tok.text
            elif kind == "F_REQID":
                self._advance()
                cmd.reqid = _strtoul(self._expect("DECSTRING").text, 10) & 0xFFFFFFFF
            elif kind == "F_REPLAY":
                self._advance()
                tok = self._expect("DECSTRING")
                if cmd.protocol in ("esp-old", "ah-old"):
                    self._error("replay prevention cannot be used with ah/esp-old")
                cmd.replay = _strtoul(tok.text, 10) & 0xFFFFFFFF  # p_replay is u_int
                if cmd.replay > (0xFFFFFFFF - 32) >> 3:
                    self._warn("replay window is too large")
            elif kind in ("F_LIFETIME_HARD", "F_LIFETIME_SOFT"):
                self._advance()
                value = _strtoul(self._expect("DECSTRING").text, 10)
                if kind == "F_LIFETIME_HARD":
                    cmd.lifetime_hard = value
                else:
                    cmd.lifetime_soft = value
            else:
                return

    def algorithm_spec(self, cmd: AddCommand) -> None:
        """``esp_spec | ah_spec | ipcomp_spec``; key lengths checked as each key is read."""
        if self.tok.kind == "F_ENC":
            self._advance()
            self.enc_alg(cmd)
            if self.tok.kind == "F_AUTH":
                self._advance()
                self.auth_alg(cmd)
        elif self.tok.kind == "F_AUTH":
            self._advance()
            self.auth_alg(cmd)
        elif self.tok.kind == "F_COMP":
            self._advance()
            cmd.comp = self._expect("ALG_COMP").text
            if self.tok.kind == "F_RAWCPI":
                self._advance()
        else:
            self._error("syntax error", at=self.tok)

    def enc_alg(self, cmd: AddCommand) -> None:
        tok = self._expect("ALG_ENC", "ALG_ENC_SALT", "ALG_ENC_OLD", "ALG_ENC_DESDERIV", "ALG_ENC_DES32IV")
        name = tok.text
        if tok.kind == "ALG_ENC_OLD":
            self._warn("WARNING: obsolete algorithm")
            cmd.enc, cmd.enc_key = "null", None  # no key at all: the kernel refuses it
            return
        key = self.key_string()
        if tok.kind in ("ALG_ENC_DESDERIV", "ALG_ENC_DES32IV"):
            old = cmd.protocol in ("esp-old", "ah-old")
            if old == (tok.kind == "ALG_ENC_DESDERIV"):
                self._error("algorithm mismatched")
        self._check_keylen(name, len(key), enc=True)
        cmd.enc, cmd.enc_key = name, key

    def auth_alg(self, cmd: AddCommand) -> None:
        tok = self._expect("ALG_AUTH", "ALG_AUTH_NOKEY")
        name = tok.text
        if tok.kind == "ALG_AUTH_NOKEY":
            cmd.auth, cmd.auth_key = name, b""
            return
        key = self.key_string()
        if name == "tcp-md5":
            if not 1 <= len(key) <= 80:
                self._error(None)  # returns -1 without a message
            cmd.auth, cmd.auth_key = name, key  # parses; the SA is not modelled (sa_arguments says so)
            return
        self._check_keylen(name, len(key), enc=False)
        cmd.auth, cmd.auth_key = name, key

    def _check_keylen(self, name: str, key_len: int, *, enc: bool) -> None:
        """``ipsec_check_keylen``: "Not supported" if the kernel lacks it, else the bit range. [S10.6]"""
        try:
            alg = enc_algorithm(name) if enc else auth_algorithm(name)
        except KeyError:
            if enc and name in _UNMODELLED_ENC_KEYS:
                low, high = _UNMODELLED_ENC_KEYS[name]
                if not low <= key_len <= high:
                    self._error("Invalid key length")
                return
            self._error("Not supported")  # e.g. aes-xcbc-mac, des-cbc: not in key.c's tables
        try:
            check_setkey_keylen(alg, key_len)
        except SetkeyError as e:
            self._error(e.message)

    def key_string(self) -> bytes:
        """``QUOTEDSTRING`` (raw bytes) or ``HEXSTRING`` (odd digit count: first digit alone). [S10.6]"""
        tok = self._expect("QUOTEDSTRING", "HEXSTRING")
        if tok.kind == "QUOTEDSTRING":
            return tok.text.encode("utf-8", "surrogateescape")
        digits = tok.text[2:]
        if len(digits) % 2:
            digits = "0" + digits
        return bytes.fromhex(digits)


def _strtoul(text: str, base: int) -> int:
    """strtoul: saturates at ULONG_MAX (64-bit) instead of overflowing."""
    return min(int(text, base), 0xFFFFFFFFFFFFFFFF)


def parse_add(text: str) -> AddCommand:
    """Parse exactly one setkey ``add`` statement (the ``;`` included)."""
    commands = Parser(text).commands()
    if len(commands) != 1 or not isinstance(commands[0], AddCommand) or commands[0].kind != "add":
        raise SetkeyError(f"expected one add statement, got {text.strip()!r}", kind="unsupported")
    return commands[0]


def parse_script(text: str) -> list[AddCommand | TableCommand | PolicyCommand]:
    """Every statement of a setkey script (``-c``/``-f`` input), or the first parse error."""
    return Parser(text).commands()


# -- /etc/protocols (getprotobyname for upper_spec) ----------------------------------------

IPPROTO_ICMPV6 = 58
# FreeBSD's /etc/protocols: names and aliases getprotobyname() finds (icmp6 and ip4 are
# setkey's own fallbacks), and the name getprotobynumber() gives back for setkey -DP.
PROTOCOL_NAMES = {
    0: "ip", 1: "icmp", 2: "igmp", 3: "ggp", 4: "ipencap", 5: "st2", 6: "tcp", 8: "egp", 9: "igp",
    12: "pup", 17: "udp", 20: "hmp", 22: "xns-idp", 27: "rdp", 29: "iso-tp4", 33: "dccp", 36: "xtp",
    37: "ddp", 38: "idpr-cmtp", 41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag", 45: "idrp", 46: "rsvp",
    47: "gre", 50: "esp", 51: "ah", 57: "skip", 58: "ipv6-icmp", 59: "ipv6-nonxt", 60: "ipv6-opts",
    73: "rspf", 81: "vmtp", 88: "eigrp", 89: "ospf", 93: "ax.25", 94: "ipip", 97: "etherip",
    98: "encap", 103: "pim", 108: "ipcomp", 112: "vrrp", 115: "l2tp", 124: "isis", 132: "sctp",
    133: "fc", 135: "mobility-header", 136: "udplite", 137: "mpls-in-ip", 139: "hip", 140: "shim6",
    141: "wesp", 142: "rohc", 240: "pfsync", 258: "divert",
}  # fmt: skip
PROTOCOL_NUMBERS = {name: number for number, name in PROTOCOL_NAMES.items()} | {
    "IP": 0, "ICMP": 1, "IGMP": 2, "GGP": 3, "IP-ENCAP": 4, "ST2": 5, "TCP": 6, "EGP": 8, "UDP": 17,
    "IPv6": 41, "IPv6-Route": 43, "IPv6-Frag": 44, "RSVP": 46, "GRE": 47, "ESP": 50, "AH": 51,
    "IPv6-ICMP": 58, "IPv6-NoNxt": 59, "IPv6-Opts": 60, "OSPFIGP": 89, "IPIP": 94, "ETHERIP": 97,
    "PIM": 103, "IPComp": 108, "VRRP": 112, "SCTP": 132, "UDPLite": 136, "PFSYNC": 240, "DIVERT": 258,
}  # fmt: skip


# -- ipsec_set_policy: libipsec's policy_token.l and policy_parse.y -----------------------


class PolicyError(Exception):
    """``ipsec_set_policy`` failed: ``message`` is ``ipsec_strerror()``, ``stderr`` what
    libipsec's own yyerror printed first (``libipsec: ... while parsing "..."``)."""

    def __init__(self, message: str, stderr: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.stderr = stderr


_PL_KEYWORDS = {
    "in": ("DIR", "in"), "out": ("DIR", "out"), "discard": ("ACTION", "discard"), "none": ("ACTION", "none"),
    "ipsec": ("ACTION", "ipsec"), "bypass": ("ACTION", "bypass"), "entrust": ("ACTION", "entrust"),
    "esp": ("PROTOCOL", "esp"), "ah": ("PROTOCOL", "ah"), "ipcomp": ("PROTOCOL", "ipcomp"),
    "tcp": ("PROTOCOL", "tcp"), "transport": ("MODE", "transport"), "tunnel": ("MODE", "tunnel"),
    "me": ("ME", None), "any": ("ANY", None), "default": ("LEVEL", "default"), "use": ("LEVEL", "use"),
    "require": ("LEVEL", "require"), "unique": ("LEVEL", "unique"),
}  # fmt: skip
_PL_TOKEN = re.compile(
    r"(?P<spec>unique:[0-9]+)|(?P<word>[a-zA-Z0-9:._][a-zA-Z0-9:._]*(?:%[a-zA-Z0-9]+)?)|(?P<slash>/)|(?P<hyphen>-)"
    r"|(?P<ws>[ \t\n]+)"
)


def _policy_tokens(text: str) -> list[tuple[str, object, str]]:
    """policy_token.l: (kind, value, yytext). A keyword beats an equally long address;
    ``unique:N`` beats the address rule (earlier rule on a tie); other characters are
    echoed by flex's default rule and skipped (ipsecsim does not echo them)."""
    out, pos = [], 0
    while pos < len(text):
        m = _PL_TOKEN.match(text, pos)
        if m is None:
            pos += 1
            continue
        word = m.group()
        pos = m.end()
        if m.lastgroup == "spec":
            out.append(("LEVEL_SPECIFY", word[7:], word))
        elif m.lastgroup == "word":
            out.append(_PL_KEYWORDS.get(word, ("IPADDRESS", word)) + (word,))
        elif m.lastgroup == "slash":
            out.append(("SLASH", None, word))
        elif m.lastgroup == "hyphen":
            out.append(("HYPHEN", None, word))
    out.append(("EOF", None, ""))
    return out


def parse_policy(text: str) -> ParsedPolicy:
    """``ipsec_set_policy(text)``: raises :class:`PolicyError` with libipsec's message. [S10.7]

    ``in|out [discard|none|ipsec|entrust|bypass] [proto/mode/src-dst/level ...]``;
    ``out`` alone is a discard policy (type 0). Tunnel requests need numeric
    addresses of one family; a level ``unique:N`` keeps N's low 16 bits, as the
    request's reqid field does.
    """
    toks = _policy_tokens(text)
    pos = 0

    def peek() -> str:
        return toks[pos][0]

    def take():
        nonlocal pos
        pos += 1
        return toks[pos - 1]

    def syntax_error():
        raise PolicyError("Invalid argument", (f'libipsec: syntax error while parsing "{toks[pos][2]}"',))

    def address(tok) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        try:
            return ipaddress.ip_address(tok[1])
        except ValueError:
            raise PolicyError("hostname nor servname provided, or not known",
                              (f'libipsec: invalid IP address while parsing "{tok[2]}"',)) from None  # fmt: skip

    if peek() != "DIR":
        syntax_error()
    direction = take()[1]
    if peek() == "EOF":
        return ParsedPolicy(direction, "discard")  # p_type = 0, "ignored by kernel"
    if peek() != "ACTION":
        syntax_error()
    kind = take()[1]
    requests = []
    while peek() != "EOF":
        if peek() != "PROTOCOL":
            syntax_error()
        proto = take()[1]
        src = dst = None
        level, reqid = "default", 0
        if peek() != "SLASH":
            raise PolicyError("Too few arguments")
        take()
        if peek() != "MODE":
            raise PolicyError("Too few arguments")
        mode = take()[1]
        if peek() == "SLASH":
            take()
            if peek() == "IPADDRESS":
                src = address(take())
                if peek() != "HYPHEN":
                    syntax_error()
                take()
                if peek() != "IPADDRESS":
                    syntax_error()
                dst = address(take())
            elif peek() in ("ME", "ANY"):
                first = take()[0]
                if peek() != "HYPHEN":
                    syntax_error()
                take()
                if peek() != ("ANY" if first == "ME" else "ME"):
                    syntax_error()
                take()
                if direction != ("out" if first == "ME" else "in"):
                    raise PolicyError("Invalid direciton")  # [sic] ipsec_strerror.c
            elif peek() == "SLASH" and toks[pos + 1][0] not in ("LEVEL", "LEVEL_SPECIFY"):
                take()
                syntax_error()
            if peek() == "SLASH":
                take()
                if peek() == "LEVEL":
                    level = take()[1]
                elif peek() == "LEVEL_SPECIFY":
                    level, reqid = "unique", min(int(take()[1]), 2**63 - 1) & 0xFFFF
        if kind == "ipsec":  # rule_check()
            if src is None and mode != "transport":
                raise PolicyError("Invalid address specification")
            if src is not None and src.version != dst.version:
                raise PolicyError("Family mismatch")
        requests.append(IpsecRequest(proto, mode, src, dst, level, reqid))
    return ParsedPolicy(direction, kind, tuple(requests) if kind == "ipsec" else ())
