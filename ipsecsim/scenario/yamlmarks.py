"""YAML in, plain Python values out, with every key and value's place in the file.

We compose the document with ruamel.yaml (the round-trip loader's composer, YAML 1.2) and
build the values ourselves: mappings become :class:`MarkedMap`, sequences :class:`MarkedList`
(``dict``/``list`` subclasses that remember where each key and item sits), scalars plain
``str``/``int``/``float``/``bool``/``None``. Node start and end marks give exact spans, which
``.lc`` alone does not (the end is needed to quote an expectation as it was written).

Anything YAML-level that is wrong (syntax, duplicate keys, unknown tags, alias loops) becomes a
:class:`Diagnostic`; :func:`load_marked` raises :class:`ScenarioError` with all of them.

An alias is the anchored node reached again, so building it copies the anchor's value, and
nested aliases multiply: a 400-byte "billion laughs" file expands to 10^9 values. Composing
keeps each anchor once, so the expansion is measured on the node graph before anything is
built, and a file whose aliases copy more than :data:`MAX_ALIAS_VALUES` values is refused.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from .errors import Diagnostic, PathPart, ScenarioError, format_path

__all__ = [
    "MAX_ALIAS_VALUES", "Located", "MarkedList", "MarkedMap", "Span", "load_marked", "locate", "script_positions",
]  # fmt: skip

_CORE = "tag:yaml.org,2002:"

MAX_ALIAS_VALUES = 100_000  # values a file may copy by expanding aliases (docs/scenario.md, "Limits")


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node sits: 1-based ``line``/``col`` of its start, and its character range."""

    file: str
    line: int
    col: int
    start: int = 0
    end: int = 0
    style: str | None = None  # scalar style: None (plain), "'", '"', "|" or ">"
    source: str = field(default="", repr=False, compare=False)

    @property
    def text(self) -> str:
        """The node's text as written in the file, without the blank or comment lines after it."""
        lines = self.source[self.start : self.end].rstrip().split("\n")
        while len(lines) > 1 and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
            lines.pop()
        return "\n".join(lines).rstrip()


class MarkedMap(dict):
    """A YAML mapping: a ``dict`` that also knows where it, each key and each value start."""

    __slots__ = ("key_spans", "span", "value_spans")

    def __init__(self, items=(), *, span: Span, key_spans=None, value_spans=None):
        super().__init__(items)
        self.span = span
        self.key_spans: dict[str, Span] = dict(key_spans or {})
        self.value_spans: dict[str, Span] = dict(value_spans or {})

    def replaced(self, key: str, value: object) -> MarkedMap:
        """A copy with ``key`` set to ``value``; every mark is kept."""
        out = MarkedMap(self, span=self.span, key_spans=self.key_spans, value_spans=self.value_spans)
        out[key] = value
        return out


class MarkedList(list):
    """A YAML sequence: a ``list`` that also knows where it and each item start."""

    __slots__ = ("item_spans", "span")

    def __init__(self, items=(), *, span: Span, item_spans=()):
        super().__init__(items)
        self.span = span
        self.item_spans: list[Span] = list(item_spans)


@dataclass(frozen=True, slots=True)
class Located:
    """The outcome of :func:`locate`: the path that exists in the file and its marks."""

    path: tuple[PathPart, ...]
    value: object  # the raw value found there
    span: Span  # where the value starts
    key_span: Span | None  # where its key starts, if it is a mapping value


def locate(root: object, loc: Sequence[PathPart], file: str) -> Located:
    """Follow ``loc`` (a pydantic error location) through the marked data as far as it exists.

    Elements that are not in the data (union tags, a missing key) are skipped, so the
    result is the deepest real node on the way: the offending value, or the mapping that
    lacks a key.
    """
    node, path, key_span = root, [], None
    span = getattr(root, "span", None) or Span(file, 1, 1)
    for part in loc:
        if isinstance(node, MarkedMap) and isinstance(part, str) and part in node:
            key_span, span, node = node.key_spans[part], node.value_spans[part], node[part]
        elif isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            key_span, span, node = None, node.item_spans[part], node[part]
        else:
            continue
        path.append(part)
    return Located(tuple(path), node, span, key_span)


def script_positions(text: str, span: Span) -> tuple[tuple[int, int], ...]:
    """(line, col) in the file of each element of ``text.split("\\n")``, for a scalar at ``span``.

    Block scalars (``|``, ``|-``, ``>``) start on the line after the indicator, at the
    indentation of their first non-blank line. Single-line plain or quoted scalars map every
    script line to where the text starts (after the opening quote).
    """
    count = len(text.split("\n"))
    if span.style in ("|", ">"):
        lines = span.source[span.start :].split("\n")[1:]
        content = next((ln for ln in lines if ln.strip()), "")
        col = len(content) - len(content.lstrip(" ")) + 1
        return tuple((span.line + 1 + i, col) for i in range(count))
    col = span.col + (1 if span.style in ("'", '"') else 0)
    return tuple((span.line, col) for _ in range(count))


_SYNTAX_HINTS = [
    (re.compile(r"found character '\\t'"), "a tab character; indent with spaces, not tabs"),
    (re.compile(r"mapping values are not allowed here"), "unexpected ':'; put quotes around text that contains ': '"),
    (re.compile(r"could not find expected ':'"), "expected 'key: value' here; is a ':' missing, or the indentation off?"),
    (re.compile(r"expected <block end>"), "this line's indentation does not match the lines above it"),
    (re.compile(r"found unexpected end of stream"), "the file ends inside quotes; close the quote"),
    (re.compile(r"expected ',' or '\}'"), "expected ',' or '}' in this {...} mapping"),
    (re.compile(r"expected ',' or '\]'"), "expected ',' or ']' in this [...] list"),
    (re.compile(r"found undefined alias"), "this *alias names an &anchor that is not defined above it"),
    (re.compile(r"found another document"), "a scenario is one YAML document; remove the second '---'"),
]


def _syntax_diagnostic(exc: Exception, text: str, file: str) -> Diagnostic:
    """A ruamel error as ``file:line:col: YAML syntax error: ...``."""
    line = col = 1
    problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            line, col = mark.line + 1, mark.column + 1
        problem = exc.problem or exc.context or problem
    elif isinstance(exc, ReaderError):
        before = text[: exc.position]
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        problem = f"the control character {char!r} is not allowed in a YAML file"
    for pattern, message in _SYNTAX_HINTS:
        if pattern.search(problem):
            problem = message
            break
    if isinstance(exc, MarkedYAMLError) and exc.context_mark and exc.problem_mark and "flow" in (exc.context or ""):
        opened = exc.context_mark.line + 1
        if opened != line:  # the usual cause: a bracket left open further up
            bracket = "{" if "mapping" in exc.context else "["
            problem += f"; is the {bracket} on line {opened} closed?"
    return Diagnostic(file, line, col, "", f"YAML syntax error: {problem}")


class _Builder:
    """Turns composed nodes into marked plain values, collecting YAML-level diagnostics."""

    def __init__(self, text: str, file: str):
        self.text, self.file = text, file
        self.diagnostics: list[Diagnostic] = []
        self._active: set[int] = set()

    def span(self, node: Node) -> Span:
        start, end = node.start_mark, node.end_mark
        style = node.style if isinstance(node, ScalarNode) else None
        return Span(self.file, start.line + 1, start.column + 1, start.index, end.index, style, self.text)

    def problem(self, span: Span, path: Sequence[PathPart], message: str) -> None:
        self.diagnostics.append(Diagnostic(self.file, span.line, span.col, format_path(path), message))

    def build(self, node: Node, path: tuple[PathPart, ...]) -> object:
        if id(node) in self._active:
            self.problem(self.span(node), path, "this alias refers to itself; a scenario cannot contain loops")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, ScalarNode):
                return self.scalar(node, path)
            if isinstance(node, SequenceNode):
                items = [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
                return MarkedList(items, span=self.span(node), item_spans=[self.span(n) for n in node.value])
            assert isinstance(node, MappingNode)  # the composer makes only these three kinds
            return self.mapping(node, path)
        finally:
            self._active.discard(id(node))

    def mapping(self, node: MappingNode, path: tuple[PathPart, ...]) -> MarkedMap:
        out = MarkedMap(span=self.span(node))
        merges = []
        for key_node, value_node in node.value:
            if str(key_node.tag) == _CORE + "merge":
                merges.append(value_node)
                continue
            key_span = self.span(key_node)
            if not isinstance(key_node, ScalarNode):
                self.problem(key_span, path, "a key must be a plain word, not a list or mapping")
                continue
            key = str(key_node.value)
            if key in out:
                first = out.key_spans[key]
                self.problem(key_span, (*path, key), f"'{key}' appears twice here (also on line {first.line}); keep one")
                continue
            out[key] = self.build(value_node, (*path, key))
            out.key_spans[key], out.value_spans[key] = key_span, self._value_span(key_span, key_node, value_node)
        for merge in merges:  # YAML merge keys (<<: *defaults): explicit keys win
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self.problem(self.span(source), path, "'<<' merges a mapping (an &anchor of a mapping)")
                    continue
                merged = self.build(source, path)
                if not isinstance(merged, MarkedMap):  # an alias loop, reported by build()
                    continue
                for key, value in merged.items():
                    if key not in out:
                        out[key] = value
                        out.key_spans[key], out.value_spans[key] = merged.key_spans[key], merged.value_spans[key]
        return out

    def _value_span(self, key_span: Span, key_node: Node, value_node: Node) -> Span:
        """An empty value (``key:`` and nothing) has no place of its own: point at its key."""
        if isinstance(value_node, ScalarNode) and value_node.value == "" and value_node.style is None:
            return key_span
        return self.span(value_node)

    def scalar(self, node: ScalarNode, path: tuple[PathPart, ...]) -> object:
        tag, value = str(node.tag), node.value
        kind = tag[len(_CORE) :] if tag.startswith(_CORE) else None
        try:
            if kind == "null":
                return None
            if kind == "bool":
                return value.lower() == "true"
            if kind == "int":
                return _int(value)
            if kind == "float":
                return _float(value)
        except ValueError:
            return value  # an explicit !!int on text: keep the text, validation will say why
        if kind in ("str", "timestamp"):
            return value
        self.problem(self.span(node), path, f"the YAML tag {tag.replace(_CORE, '!!')} is not used in scenarios; remove it")
        return value


class _AliasCount:
    """Walks the node graph in file order without building anything: each node is entered
    once, and reaching it again (an alias) adds the size of the copy the builder would make."""

    def __init__(self) -> None:
        self.copies = 0
        self._entered: set[int] = set()
        self._sizes: dict[int, int] = {}

    def size(self, node: Node) -> int:
        """How many values building ``node`` makes, aliases expanded (a loop adds nothing)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        self._sizes[id(node)] = 0  # while counting: a loop back here adds nothing
        total = 1 + sum(self.size(child) for child in _children(node))
        self._sizes[id(node)] = total
        return total

    def first_excess(self, node: Node, path: tuple[PathPart, ...], holder: tuple[Node, tuple[PathPart, ...]]):
        """The mapping or list (and its path) whose alias takes the copies past the limit, or None."""
        if id(node) in self._entered:
            self.copies += self.size(node)
            return holder if self.copies > MAX_ALIAS_VALUES else None
        self._entered.add(id(node))
        for child, child_path in _children_with_paths(node, path):
            found = self.first_excess(child, child_path, (node, path))
            if found is not None:
                return found
        return None


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [value for _key, value in node.value]
    return []


def _children_with_paths(node: Node, path: tuple[PathPart, ...]):
    """Each child node and its path, as :meth:`_Builder.build` names them (merged mappings keep the path)."""
    if isinstance(node, SequenceNode):
        yield from ((item, (*path, i)) for i, item in enumerate(node.value))
    elif isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            merge = str(key_node.tag) == _CORE + "merge"
            yield value_node, path if merge else (*path, str(key_node.value))


def _int(text: str) -> int:
    t = text.replace("_", "")
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if t.lower().startswith(prefix):
            return sign * int(t[2:], base)
    return sign * int(t, 10)


def _float(text: str) -> float:
    t = text.replace("_", "").lower()
    if t.lstrip("+-") == ".inf":
        return float("-inf") if t.startswith("-") else float("inf")
    if t == ".nan":
        return float("nan")
    return float(t)


def _start(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_TOO_DEEP = "the file is nested too deeply to be a scenario"


def load_marked(text: str, file: str) -> object:
    """Parse one YAML document into marked plain values; raise :class:`ScenarioError` on any YAML problem."""
    yaml = YAML()  # round-trip loader: YAML 1.2, no implicit yes/no booleans
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            node = yaml.compose(text)
    except YAMLError as exc:
        raise ScenarioError([_syntax_diagnostic(exc, text, file)]) from None
    except RecursionError:
        raise ScenarioError([Diagnostic(file, 1, 1, "", _TOO_DEEP)]) from None
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        # ruamel itself tripping over odd input: still a problem with the file, not a crash
        raise ScenarioError([Diagnostic(file, 1, 1, "", f"YAML syntax error: the file cannot be read ({exc})")]) from None
    if node is None:
        return None
    builder = _Builder(text, file)
    try:
        excess = _AliasCount().first_excess(node, (), (node, ()))
        if excess is not None:
            holder, path = excess
            message = (f"the aliases here expand to more than {MAX_ALIAS_VALUES:,} values; "
                       'a scenario this large is not supported (YAML "billion laughs")')
            raise ScenarioError([Diagnostic(file, *_start(holder), format_path(path), message)])
        data = builder.build(node, ())
    except RecursionError:
        raise ScenarioError([Diagnostic(file, 1, 1, "", _TOO_DEEP)]) from None
    if builder.diagnostics:
        raise ScenarioError(builder.diagnostics)
    return data
