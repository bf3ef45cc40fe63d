"""The base of every scenario model: strict, frozen, unknown keys refused, place remembered.

A model validated from :mod:`yamlmarks` data keeps the span of the mapping it came from and of
each of its values, so later code (the builder, the shell, a report) can say
``file:line:col`` about anything the scenario wrote.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, PrivateAttr, model_validator

from .fields import attach_scripts
from .yamlmarks import MarkedMap, Span

__all__ = ["Node", "none_is_empty"]


class Node(BaseModel):
    """A mapping from the scenario file: strict, frozen, unknown keys refused, place remembered."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    _span: Span | None = PrivateAttr(default=None)
    _value_spans: dict[str, Span] = PrivateAttr(default_factory=dict)
    _wrapper: ClassVar[str | None] = None  # written as {<_wrapper>: {...}}, e.g. {ping: {...}}
    _scripts: ClassVar[tuple[str, ...]] = ()  # keys whose text is a shell script

    @model_validator(mode="wrap")
    @classmethod
    def _from_yaml(cls, data: object, handler: ModelWrapValidatorHandler) -> Node:
        if cls._wrapper and isinstance(data, dict) and list(data) == [cls._wrapper]:
            inner = data[cls._wrapper]
            if isinstance(inner, MarkedMap) and isinstance(data, MarkedMap):  # it starts at its kind, `ping:`
                inner = MarkedMap(inner, span=data.span, key_spans=inner.key_spans, value_spans=inner.value_spans)
            data = inner
        data = attach_scripts(data, *cls._scripts)
        node = handler(data)
        if isinstance(data, MarkedMap):
            node._span, node._value_spans = data.span, data.value_spans
        return node

    @property
    def file(self) -> str:
        return self._span.file if self._span else "<string>"

    @property
    def line(self) -> int:
        """1-based line where this mapping starts in the file (0 when not loaded from a file)."""
        return self._span.line if self._span else 0

    @property
    def col(self) -> int:
        return self._span.col if self._span else 0

    @property
    def pos(self) -> tuple[int, int]:
        return (self.line, self.col)

    def pos_of(self, key: str) -> tuple[int, int]:
        """(line, col) of the value written for ``key`` (its YAML name); this mapping's own if absent."""
        span = self._value_spans.get(key)
        return (span.line, span.col) if span else self.pos

    def where(self, key: str | None = None) -> str:
        """``"file:line:col"`` of this mapping, or of the value of ``key``."""
        line, col = self.pos_of(key) if key else self.pos
        return f"{self.file}:{line}:{col}"

    @property
    def yaml_text(self) -> str:
        """The mapping as written in the file (for reports), or ``""``."""
        return self._span.text if self._span else ""


def none_is_empty(value: object) -> object:
    """``links:`` with nothing after it is an empty list, not an error."""
    return [] if value is None else value
