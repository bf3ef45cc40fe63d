"""Pydantic's validation errors, said in our words and placed in the file.

Each pydantic error has a location (``("links", 0, "bandwidth")``, sometimes with union tags
in between) and a type. :func:`locate` finds the place in the marked YAML; the type picks the
message. Our own validators raise ``bad_value`` whose message is already final; the rest
(missing and unknown keys, wrong container types, ``Literal`` choices) are phrased here.
Pydantic's own text is never shown.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError

from .errors import Diagnostic, PathPart, format_path
from .units import describe
from .yamlmarks import MarkedMap, locate

__all__ = ["diagnostics_from"]

# what to write for a required key, shown when it is missing
EXAMPLES = {
    "name": "name: my experiment", "duration": "duration: 10s", "a": "a: A:em0", "b": "b: B:em0",
    "from": "from: A", "to": "to: 10.0.0.2", "rate": "rate: 10Mbit/s", "at": "at: 5s", "host": "host: A",
    "run": "run: ifconfig em0 up", "link": "link: A:em0-B:em0", "state": "state: down",
    "set": "set: {loss: 5%}", "model": "model: gilbert-elliott", "p": "p: 1%", "r": "r: 10%",
    "count": "count: 0", "drops": "drops: queue full",
}  # fmt: skip

# the message for an entry that has none of the keys that say what it is
NO_KIND = {
    "timeline_action": "a timeline entry needs an action: {at: 5s, host: A, run: ...}, "
    "{at: 5s, link: NAME, state: down}, {at: 5s, link: NAME, set: {loss: 5%}}, "
    "{at: 5s, host: A, interface: em0, state: down} or {at: 5s, host: A, state: down}",
    "expect_subject": "an expectation needs a subject: ping: {from: A, to: ADDRESS}, flow: NAME, "
    "counter: HOST:IFNAME, drops: REASON, outage: NAME, route: {host: A, to: PREFIX} "
    "or ike: {host: A, connection: NAME}",
}

# keys that say what kind of entry a list item is; one entry has one kind
KIND_KEYS = {
    "timeline": ({"host", "run", "link", "state", "set", "interface"},
                 "a timeline entry does one thing (host + run, link + state, link + set, "
                 "host + interface + state, or host + state)"),
    "expect": ({"ping", "flow", "counter", "drops", "outage", "route", "ike"},
               "an expectation checks one subject (ping, flow, counter, drops, outage, route or ike)"),
}


def diagnostics_from(error: ValidationError, root: object, file: str, schema: type[BaseModel]) -> Iterator[Diagnostic]:
    """One :class:`Diagnostic` per pydantic error, for data ``root`` validated against ``schema``."""
    for err in error.errors(include_url=False):
        yield _diagnostic(dict(err), root, file, schema)


def _diagnostic(err: dict, root: object, file: str, schema: type[BaseModel]) -> Diagnostic:
    loc: tuple[PathPart, ...] = tuple(err["loc"])
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    found = locate(root, loc, file)
    span, path = found.span, found.path
    if kind == "missing":
        key = str(loc[-1])
        path = (*path, key)
        example = EXAMPLES.get(key, f"{key}: ...")
        message = f"required key is missing; add it, e.g. {example}"
    elif kind == "extra_forbidden":
        span = found.key_span or span
        message = _unknown_key(str(loc[-1]), loc, schema)
    elif loc and loc[-1] == "[key]":
        span = found.key_span or span
        message = _message(kind, ctx, value, err["msg"])
    elif kind == "bad_value" and "key" in ctx and isinstance(found.value, MarkedMap) and ctx["key"] in found.value:
        span = found.value.key_spans[ctx["key"]]
        path = (*path, ctx["key"])
        message = ctx["message"]
    else:
        message = _message(kind, ctx, value, err["msg"])
    return Diagnostic(file, span.line, span.col, format_path(path), message)


def _message(kind: str, ctx: dict, value: object, fallback: str) -> str:
    if kind == "bad_value":
        return str(ctx["message"])
    if kind in NO_KIND:
        return NO_KIND[kind]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{describe(value)} is not a mapping; write key: value pairs here"
    if kind in ("list_type", "tuple_type"):
        return f"{describe(value)} is not a list; write one entry per line, each starting with '- '"
    if kind == "literal_error":
        choices = str(ctx.get("expected", "")).replace("'", "")
        return f"{describe(value)} is not allowed here; write {choices}"
    if kind == "string_type":
        return f"{describe(value)} is not text; put it in quotes if you mean the text"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{describe(value)} is not a whole number"
    if kind in ("bool_type", "bool_parsing"):
        return f"{describe(value)} is not true or false; write true or false"
    # Not expected (every field type has our own validator); still keep pydantic's jargon out.
    text = fallback.removeprefix("Value error, ").replace("Input should be", "must be")
    return f"{describe(value)}: {text[:1].lower()}{text[1:]}"


def _unknown_key(key: str, loc: tuple[PathPart, ...], schema: type[BaseModel]) -> str:
    model = _model_at(schema, loc[:-1])
    allowed = _keys(model) if model else []
    if loc and loc[0] in KIND_KEYS:
        kind_keys, hint = KIND_KEYS[str(loc[0])]
        if key in kind_keys:
            return f"'{key}' does not go with the other keys here; {hint}"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    if allowed:
        return f"unknown key '{key}'; allowed here: {', '.join(allowed)}"
    return f"unknown key '{key}'"


def _keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


# --- walking the schema along an error location ----------------------------------------------


def _tag(tp: object) -> str | None:
    if get_origin(tp) is Annotated:
        for meta in get_args(tp)[1:]:
            if isinstance(meta, Tag):
                return meta.tag
    return None


def _plain(tp: object) -> object:
    """Strip ``Annotated`` and ``Optional``; a union of tagged members is kept."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1 or _tag(args[0]):
                return tp
            tp = args[0]
        else:
            return tp


def _step(tp: object, part: PathPart) -> object | None:
    tp = _plain(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, field in tp.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    origin = get_origin(tp)
    if origin is list and isinstance(part, int):
        return get_args(tp)[0]
    if origin is dict and isinstance(part, str):
        return get_args(tp)[1]
    if origin in (Union, UnionType):
        return next((a for a in get_args(tp) if _tag(a) == part), None)
    return None


def _model_at(schema: type[BaseModel], loc: tuple[PathPart, ...]) -> type[BaseModel] | None:
    tp: object = schema
    for part in loc:
        tp = _step(tp, part)
        if tp is None:
            return None
    tp = _plain(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None
