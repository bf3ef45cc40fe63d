"""setkey(8)'s grammar (parse.y) as :class:`Parser`; see :mod:`.setkey_syntax`. [S10.4]-[S10.7]

A recursive-descent transcription, one method per nonterminal, over a
:class:`~._setkey_lexer.Lexer`; errors are :class:`SetkeyError` quoting ``yytext``.
"""

from __future__ import annotations

import ipaddress
from typing import NoReturn

from ._policy_parser import ParsedPolicy, PolicyError, parse_policy
from ._protocols import IPPROTO_ICMPV6, PROTOCOL_NUMBERS
from ._setkey_commands import AddCommand, PolicyCommand, TableCommand
from ._setkey_lexer import Lexer, Token
from .algorithms import (
    SADB_X_EXT_CYCSEQ,
    SADB_X_EXT_PRAND,
    SADB_X_EXT_PSEQ,
    SADB_X_EXT_PZERO,
    auth_algorithm,
    check_setkey_keylen,
    enc_algorithm,
)
from .enums import Mode
from .errors import SetkeyError
from .policy import IPSEC_ULPROTO_ANY

__all__ = ["Parser", "parse_add", "parse_script"]

# Supported by FreeBSD's kernel (so setkey checks the key) but not modelled here:
# key size range in bytes. camellia-cbc's presence in FreeBSD 14 is UNCONFIRMED.
_UNMODELLED_ENC_KEYS = {"camellia-cbc": (16, 32)}
_EXTENSIONS = {"random-pad": SADB_X_EXT_PRAND, "seq-pad": SADB_X_EXT_PSEQ, "zero-pad": SADB_X_EXT_PZERO}


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

    def _error(self, message: str | None, at: Token | None = None, detail: str = "") -> NoReturn:
        at = at or self.last
        raise SetkeyError(message, lineno=at.lineno, at=at.text, warnings=tuple(self.warnings),
                          offset=at.offset if at.offset >= 0 else None, detail=detail)

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
        offset = self.tok.offset
        cmd = self._statement(kind)
        cmd.offset = offset
        return cmd

    def _statement(self, kind: str) -> AddCommand | TableCommand | PolicyCommand:
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
        if kind != "deleteall" and cmd.mode is not Mode.ANY:
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
                cmd.mode = Mode(tok.text)
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
            self._error(e.message, detail=e.detail)

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
