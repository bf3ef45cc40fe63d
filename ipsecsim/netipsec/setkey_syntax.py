"""setkey(8)'s scanner and the ``add`` statement of its grammar (token.l, parse.y). [S10.4]-[S10.6]

:class:`Lexer` reproduces the flex scanner: longest match, earlier rule on a tie,
and the start states that make algorithm names keywords only right after ``-E``
or ``-A``. :class:`Parser` is a recursive-descent transcription of parse.y's
productions; a later issue adds the other statements to ``Parser.COMMANDS``.
Errors are :class:`SetkeyError` with setkey's own words and the token flex's
``yytext`` holds when parse.y reports them (the last token read; a quoted key
without its quotes, since the scanner strips them in place).
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
from .sa import Lifetime

__all__ = ["Token", "Lexer", "Parser", "AddCommand", "parse_add"]

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
    "spdflush": "SPDFLUSH", "tagged": "TAGGED", "ah": "PR_AH", "esp": "PR_ESP", "ah-old": "PR_AH",
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
            word = best.group()
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
            if kind == "QUOTEDSTRING":
                word = word[1:-1]  # the scanner cuts the quotes out of yytext in place
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


class Parser:
    """parse.y's productions, one method per nonterminal, over a :class:`Lexer`."""

    COMMANDS = ("ADD",)  # the statements this issue implements

    def __init__(self, text: str):
        self.lexer = Lexer(text)
        self.tok = self.lexer.next()
        self.last = self.tok  # yytext: the token most recently read
        self.warnings: list[str] = []
        self.family: int | None = None

    # -- plumbing -----------------------------------------------------------
    def _advance(self) -> Token:
        tok = self.tok
        self.tok = self.lexer.next()
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

    # -- statements ---------------------------------------------------------
    def commands(self) -> list[AddCommand]:
        """``commands: | commands command`` until the end of the input."""
        out = []
        while self.tok.kind != "EOF":
            if self.tok.kind not in self.COMMANDS:
                if self.tok.kind in ("DELETE", "DELETEALL", "GET", "FLUSH", "DUMP", "SPDADD", "SPDDELETE", "SPDDUMP", "SPDFLUSH"):
                    raise SetkeyError(f"setkey {self.tok.text} is not implemented yet", kind="unsupported")
                self._error("syntax error", at=self.tok)
            out.append(self.add_command())
        return out

    def add_command(self) -> AddCommand:
        """``ADD ipaddropts ipaddr ipaddr protocol_spec spi extension_spec algorithm_spec EOT``."""
        self._expect("ADD")
        self.warnings = []
        self.family = None
        while self.tok.kind == "F_AIFLAGS":
            for c in self._advance().text[1:]:
                self.family = {"4": 4, "6": 6}.get(c, self.family)  # 'n' is always true here
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
            raise SetkeyError("tcp-md5 (TCP-MD5 signatures) is not modelled", kind="unsupported")
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
    if len(commands) != 1:
        raise SetkeyError(f"expected one add statement, got {len(commands)}", kind="unsupported")
    return commands[0]
