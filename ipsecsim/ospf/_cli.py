"""FRR's command matching, small: templates of keywords and typed arguments, unique prefixes.

FRR's CLI (lib/command_graph.c, lib/command_match.c) matches a line word by word
against every command defined in the current node. A keyword matches any unique
prefix of itself (``sh ip ospf nei``); when several commands still match, the one
whose words matched more specifically wins (an exact keyword before a typed
argument before a partial keyword before a free word). A line that matches no
command is "% Unknown command", one that stops short "% Command incomplete",
one that matches two commands equally "% Ambiguous command". The config parser
and vtysh share this matcher.

Template syntax: ``ip ospf cost (1-65535)``; ``A.B.C.D``, ``A.B.C.D/M``, ``(lo-hi)``,
an upper-case word (``IFNAME``, ``WORD``) for any word, ``LINE...`` for the rest of
the line, ``<a|b>`` for one of several tokens and a trailing ``[x]`` for an
optional last token. A spec starting with ``=`` takes its keywords only in full (the
simulator's catch-alls for commands it does not model must not swallow abbreviations).
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any, Generic, TypeVar

__all__ = ["Word", "split_words", "Template", "expand", "CliError", "Matcher"]

H = TypeVar("H")

# How specifically a word matched its token, best first (cf. lib/command_match.c match_type).
_EXACT, _TYPED, _PARTIAL, _FREE = 4, 3, 2, 1


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    column: int  # 1-based


def split_words(line: str) -> list[Word]:
    """The whitespace-separated words of ``line`` with their 1-based columns."""
    words = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        while i < n and not line[i].isspace():
            i += 1
        words.append(Word(line[start:i], start + 1))
    return words


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes '²' and other scripts' digits."""
    return text.isascii() and text.isdigit()


def _ipv4(text: str) -> IPv4Address | None:
    parts = text.split(".")
    if len(parts) != 4 or not all(_digits(p) and len(p) <= 3 and int(p) <= 255 for p in parts):
        return None
    return IPv4Address(text)


def _prefix(text: str) -> IPv4Network | None:
    address, slash, length = text.partition("/")
    if not slash or not _digits(length) or int(length) > 32 or _ipv4(address) is None:
        return None
    return IPv4Network(text, strict=False)


class _Token:
    """One position of a template; ``match`` gives (specificity, value) or None."""

    __slots__ = ("kind", "text", "lo", "hi", "alternatives")

    def __init__(self, spec: str):
        self.text = spec
        self.lo = self.hi = 0
        self.alternatives: list[_Token] = []
        if spec.startswith("<") and spec.endswith(">"):
            self.kind = "alt"
            self.alternatives = [_Token(s) for s in spec[1:-1].split("|")]
        elif spec == "A.B.C.D":
            self.kind = "ipv4"
        elif spec == "A.B.C.D/M":
            self.kind = "prefix"
        elif spec.startswith("(") and spec.endswith(")"):
            self.kind = "range"
            lo, hi = spec[1:-1].split("-")
            self.lo, self.hi = int(lo), int(hi)
        elif spec.endswith("..."):
            self.kind = "line"
        elif spec.isupper():
            self.kind = "word"
        else:
            self.kind = "keyword"

    def match(self, word: str) -> tuple[int, Any] | None:
        kind = self.kind
        if kind == "keyword":
            if word == self.text:
                return _EXACT, word
            return (_PARTIAL, self.text) if self.text.startswith(word) else None
        if kind == "ipv4":
            address = _ipv4(word)
            return None if address is None else (_TYPED, address)
        if kind == "prefix":
            network = _prefix(word)
            return None if network is None else (_TYPED, network)
        if kind == "range":
            if _digits(word) and self.lo <= int(word) <= self.hi:
                return _TYPED, int(word)
            return None
        if kind == "alt":
            found = [m for m in (t.match(word) for t in self.alternatives) if m is not None]
            return max(found, key=lambda m: m[0]) if found else None
        return _FREE, word

    def describe(self) -> str:
        if self.kind == "range":
            return f"a number {self.lo}-{self.hi}"
        if self.kind == "alt":
            return " or ".join(t.describe() for t in self.alternatives)
        return self.text


class Template(Generic[H]):
    """A command: its tokens and what to do with it (``handler``, for the caller)."""

    def __init__(self, spec: str, handler: H):
        self.exact = spec.startswith("=")
        self.spec = spec.lstrip("=")
        self.tokens = [_Token(s) for s in self.spec.split()]
        self.handler = handler


def expand(spec: str) -> list[str]:
    """A spec with a trailing ``[x]`` as the two specs it stands for."""
    if spec.endswith("]") and " [" in spec:
        base, _, optional = spec.rpartition(" [")
        return [base, f"{base} {optional[:-1]}"]
    return [spec]


class CliError(Exception):
    """A line FRR would refuse: ``message`` in FRR's words, ``column`` of the offending word."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(slots=True)
class _Attempt(Generic[H]):
    template: Template[H]
    scores: list[int]
    values: list[Any]
    failed_at: int | None  # index of the first word that did not match
    complete: bool


class Matcher(Generic[H]):
    """The commands of one CLI node."""

    def __init__(self, commands: list[tuple[str, H]]):
        self.templates: list[Template[H]] = [Template(s, h) for spec, h in commands for s in expand(spec)]

    def _attempt(self, template: Template[H], words: list[Word], line: str) -> _Attempt[H]:
        scores: list[int] = []
        values: list[Any] = []
        tokens = template.tokens
        for i, word in enumerate(words):
            if i >= len(tokens):
                return _Attempt(template, scores, values, i, False)
            token = tokens[i]
            if token.kind == "line":
                values.append(line[word.column - 1:].rstrip())
                scores.append(_FREE)
                return _Attempt(template, scores, values, None, True)
            found = token.match(word.text)
            if found is None or template.exact and found[0] == _PARTIAL:
                return _Attempt(template, scores, values, i, False)
            scores.append(found[0])
            values.append(found[1])
        return _Attempt(template, scores, values, None, len(words) == len(tokens))

    def match(self, line: str, words: list[Word] | None = None, *, hint: bool = True) -> tuple[H, list[Any]]:
        """The handler and argument values of the one command ``line`` names, or CliError.

        ``hint`` adds what was expected to an unknown-command message (FRR's vtysh does not).
        """
        if words is None:
            words = split_words(line)
        shown = " ".join(w.text for w in words)
        attempts = [self._attempt(t, words, line) for t in self.templates]
        complete = [a for a in attempts if a.complete]
        if not complete:
            if any(a.failed_at is None for a in attempts):
                raise CliError(f"% Command incomplete: {shown}", words[-1].column if words else 1)
            furthest = max(a.failed_at or 0 for a in attempts)
            extra = ""
            if hint and furthest > 0:
                expected = sorted({a.template.tokens[furthest].describe() for a in attempts
                                   if a.failed_at == furthest and furthest < len(a.template.tokens)})
                if 0 < len(expected) <= 4:
                    extra = "; expected " + " or ".join(expected)
            raise CliError(f"% Unknown command: {shown}{extra}", words[furthest].column)
        # Keep, position by position, only the most specific matches (command_match.c disambiguate).
        for i in range(len(words)):
            best = max((a.scores[i] for a in complete if i < len(a.scores)), default=0)
            complete = [a for a in complete if i >= len(a.scores) or a.scores[i] == best]
        handlers = {id(a.template.handler) for a in complete}
        if len(handlers) > 1:
            raise CliError(f"% Ambiguous command: {shown}", words[0].column)
        chosen = complete[0]
        return chosen.template.handler, chosen.values

