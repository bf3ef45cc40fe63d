"""``ipsec_set_policy``: libipsec's policy_token.l and policy_parse.y. [S10.7]"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from .enums import Direction, Level, Mode
from .policy import IpsecRequest

__all__ = ["ParsedPolicy", "PolicyError", "parse_policy"]


@dataclass(frozen=True, slots=True)
class ParsedPolicy:
    """What ``ipsec_set_policy`` builds from ``in|out discard|none|ipsec requests...``. [S10.7]"""

    direction: Direction
    policy: str
    requests: tuple[IpsecRequest, ...] = ()


class PolicyError(Exception):
    """``ipsec_set_policy`` failed: ``message`` is ``ipsec_strerror()``, ``stderr`` what
    libipsec's own yyerror printed first (``libipsec: ... while parsing "..."``)."""

    def __init__(self, message: str, stderr: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.stderr = stderr


_PL_KEYWORDS = {
    "in": ("DIR", Direction.IN), "out": ("DIR", Direction.OUT), "discard": ("ACTION", "discard"), "none": ("ACTION", "none"),
    "ipsec": ("ACTION", "ipsec"), "bypass": ("ACTION", "bypass"), "entrust": ("ACTION", "entrust"),
    "esp": ("PROTOCOL", "esp"), "ah": ("PROTOCOL", "ah"), "ipcomp": ("PROTOCOL", "ipcomp"),
    "tcp": ("PROTOCOL", "tcp"), "transport": ("MODE", Mode.TRANSPORT), "tunnel": ("MODE", Mode.TUNNEL),
    "me": ("ME", None), "any": ("ANY", None), "default": ("LEVEL", Level.DEFAULT), "use": ("LEVEL", Level.USE),
    "require": ("LEVEL", Level.REQUIRE), "unique": ("LEVEL", Level.UNIQUE),
}  # fmt: skip
_PL_TOKEN = re.compile(
    r"(?P<spec>unique:[0-9]+)|(?P<word>[a-zA-Z0-9:._][a-zA-Z0-9:._]*(?:%[a-zA-Z0-9]+)?)|(?P<slash>/)|(?P<hyphen>-)"
    r"|(?P<ws>[ \t\n]+)"
)


def _policy_tokens(text: str) -> list[tuple[str, object, str]]:
    """policy_token.l: (kind, value, yytext). A keyword beats an equally long address;
    ``unique:N`` beats the address rule (earlier rule on a tie); other characters are
    echoed by flex's default rule and skipped (ipsecsim does not echo them)."""
    out: list[tuple[str, object, str]] = []
    pos = 0
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
        level, reqid = Level.DEFAULT, 0
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
                if direction != (Direction.OUT if first == "ME" else Direction.IN):
                    raise PolicyError("Invalid direciton")  # [sic] ipsec_strerror.c
            elif peek() == "SLASH" and toks[pos + 1][0] not in ("LEVEL", "LEVEL_SPECIFY"):
                take()
                syntax_error()
            if peek() == "SLASH":
                take()
                if peek() == "LEVEL":
                    level = take()[1]
                elif peek() == "LEVEL_SPECIFY":
                    level, reqid = Level.UNIQUE, min(int(take()[1]), 2**63 - 1) & 0xFFFF
        if kind == "ipsec":  # rule_check()
            if src is None and mode is not Mode.TRANSPORT:
                raise PolicyError("Invalid address specification")
            if src is not None and dst is not None and src.version != dst.version:
                raise PolicyError("Family mismatch")
        requests.append(IpsecRequest(proto, mode, src, dst, level, reqid))
    return ParsedPolicy(direction, kind, tuple(requests) if kind == "ipsec" else ())
