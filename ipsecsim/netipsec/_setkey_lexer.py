"""setkey(8)'s flex scanner (token.l) as :class:`Lexer`; see :mod:`.setkey_syntax`. [S10.4] [S10.6]

Longest match, earlier rule on a tie, the start states that make algorithm names
keywords only after ``-E``/``-A`` and swallow a policy after ``-P``, and ``yymore()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SetkeyError

__all__ = ["Token", "Lexer"]

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


@dataclass(frozen=True, slots=True)
class Token:
    """One scanner token: ``kind`` is parse.y's token name, ``text`` flex's yytext."""

    kind: str
    text: str
    lineno: int
    offset: int = -1  # where yytext starts in the input (for messages that point at it)


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
        self._more_offset = 0

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
            offset = self._more_offset if self._more else best.start()
            self._more = ""
            if kind == "NL":
                self.lineno += 1
                continue
            if kind == "WS":
                continue
            if kind == "FATAL":
                raise SetkeyError("Syntax error", kind="fatal", lineno=self.lineno, at=word, offset=offset)
            if kind in _BEGIN:
                self.state = _BEGIN[kind]
            elif kind.startswith("ALG_"):
                self.state = _INITIAL
            if kind == "PL_REQUESTS":
                self.lineno += word.count("\n")
                self._more, self._more_offset = word, offset  # token.l calls yymore() for a policy
            if kind == "QUOTEDSTRING":
                word = word[word.index('"') + 1 : -1]  # the scanner cuts the quotes out of yytext
            return Token({"EOT_PL": "EOT"}.get(kind, kind), word, self.lineno, offset)
        return Token("EOF", "", self.lineno, len(text))
