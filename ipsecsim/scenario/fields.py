"""Field types of the scenario models: what a value may be and the message when it is not.

Each type is ``Annotated[T, PlainValidator(...)]``: our function reads the raw YAML value and
either returns a plain typed value (SI units, :class:`Endpoint`, :class:`Script`...) or
raises a ``bad_value`` error whose text is already the student-facing message. Pydantic's
own wording ("Input should be ...") never reaches a user from here.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import PlainSerializer, PlainValidator
from pydantic_core import PydanticCustomError

from .comparison import Comparison, parse_comparison
from .units import UnitError, describe, parse_duration, parse_percent, parse_rate, parse_size
from .yamlmarks import MarkedMap, script_positions

__all__ = [
    "Address", "BytesCmp", "CountCmp", "Duration", "DurationCmp", "Endpoint", "Flag", "HostName",
    "Int", "InterfaceRef", "IPAddress", "LinkEnd", "Mtu", "Percent", "PercentCmp", "PositiveDuration",
    "PositiveRate", "Queue", "QueueLimit", "Rate", "RateCmp", "Script", "ScriptText", "Text",
    "bad", "attach_scripts",
]  # fmt: skip

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
HOST_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
IF_NAME = re.compile(r"[a-z]+[0-9]+")


def bad(message: str, *, key: str | None = None) -> PydanticCustomError:
    """The one error type our validators raise; ``message`` is shown as is.

    With ``key``, the diagnostic points at that key of the mapping being validated
    (an unknown traffic kind) instead of at the mapping.
    """
    ctx = {"message": message} if key is None else {"message": message, "key": key}
    return PydanticCustomError("bad_value", "{message}", ctx)


def _checked(parse: Callable[[object], object]) -> PlainValidator:
    def validate(value: object) -> object:
        try:
            return parse(value)
        except UnitError as exc:
            raise bad(str(exc)) from None

    return PlainValidator(validate)


# --- value types -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    """``HOST:IFNAME``, e.g. ``A:em0``."""

    host: str
    ifname: str

    def __str__(self) -> str:
        return f"{self.host}:{self.ifname}"


@dataclass(frozen=True, slots=True)
class QueueLimit:
    """A drop-tail queue limit, counted in packets or in bytes."""

    limit: int
    unit: Literal["packets", "bytes"] = "packets"

    def __str__(self) -> str:
        return f"{self.limit} {self.unit}"


@dataclass(frozen=True, slots=True)
class Script:
    """A ``run:`` script and where each of its lines sits in the scenario file.

    ``lines[i]`` is the 1-based ``(line, col)`` of ``text.split("\\n")[i]``, so a shell error
    on script line ``i`` can say ``file:line:col``. A script built from a plain string (not
    from a file) has no positions.
    """

    text: str
    file: str = "<string>"
    lines: tuple[tuple[int, int], ...] = ()

    def position(self, index: int) -> tuple[int, int]:
        """(line, col) of script line ``index`` (0-based); the last known place if out of range."""
        if not self.lines:
            return (0, 0)
        return self.lines[min(max(index, 0), len(self.lines) - 1)]

    def where(self, index: int) -> str:
        """``"file:line:col"`` of script line ``index``, for messages."""
        line, col = self.position(index)
        return f"{self.file}:{line}:{col}"


# --- parsers ---------------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, str):
        if not value.strip():
            raise UnitError("is empty; write some text here")
        return value
    if value is None:
        raise UnitError("is empty; write some text here")
    raise UnitError(f"{describe(value)} is not text; put it in quotes if you mean the text")


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise UnitError(f"{describe(value)} is not true or false; write true or false")


def Int(lo: int, hi: int) -> PlainValidator:  # noqa: N802 (reads as a type in annotations)
    """A whole number in ``lo..hi``."""

    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise UnitError(f"{describe(value)} is not a whole number; write it like {max(lo, 1)}")
        if isinstance(value, str):
            hint = f"; write {value.strip()} without quotes" if value.strip().isdigit() else ""
            raise UnitError(f"{describe(value)} is text, not a whole number{hint}")
        if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
            raise UnitError(f"{describe(value)} is not a whole number")
        if not lo <= value <= hi:
            span = f"{lo} or more" if hi >= 2**32 else f"from {lo} to {hi}"
            raise UnitError(f"{describe(value)} is out of range; write a whole number {span}")
        return int(value)

    return _checked(parse)


def _positive(parse: Callable[[object], float], example: str) -> Callable[[object], float]:
    def check(value: object) -> float:
        number = parse(value)
        if number <= 0:
            raise UnitError(f"{describe(value)} is zero; write more than 0, e.g. {example}")
        return number

    return check


def _mtu(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UnitError(f"{describe(value)} is not an MTU; write bytes, e.g. 1500")
    mtu = parse_size(value)
    if mtu < 68:
        raise UnitError(f"{describe(value)} is too small; an MTU is at least 68 bytes (RFC 791)")
    if mtu > 65535:
        raise UnitError(f"{describe(value)} is too big; an MTU is at most 65535 bytes")
    return mtu


_PACKETS = re.compile(r"\s*(\d+)\s*(?:packets?|pkts?)?\s*")


def _queue(value: object) -> QueueLimit:
    example = "write a number of packets (1000) or a size (64KB)"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UnitError(f"{describe(value)} is not a queue limit; {example}")
    if isinstance(value, int) or _PACKETS.fullmatch(value):
        packets = value if isinstance(value, int) else int(_PACKETS.fullmatch(value)[1])  # type: ignore[index]
        if packets < 1:
            raise UnitError(f"{describe(value)} is too small; a queue holds at least 1 packet")
        return QueueLimit(packets, "packets")
    try:
        size = parse_size(value)
    except UnitError:
        raise UnitError(f"{describe(value)} is not a queue limit; {example}") from None
    if size < 1:
        raise UnitError(f"{describe(value)} is too small; a queue holds at least 1 byte")
    return QueueLimit(size, "bytes")


def _host_name(value: object) -> str:
    if not isinstance(value, str) or not HOST_NAME.fullmatch(value):
        raise UnitError(f"{describe(value)} is not a host name; start with a letter, then letters, digits, _ or -")
    return value


def _interface(value: object, *, physical: bool) -> Endpoint:
    if not isinstance(value, str) or value.count(":") != 1:
        raise UnitError(f"{describe(value)} is not HOST:IFNAME; write it like A:em0")
    host, ifname = value.split(":")
    _host_name(host)
    if not IF_NAME.fullmatch(ifname):
        raise UnitError(f"'{ifname}' is not an interface name; FreeBSD names are a driver and a unit number, e.g. em0")
    if physical and ifname.startswith("lo"):
        raise UnitError(f"'{ifname}' is the loopback; a link joins physical interfaces such as em0")
    if physical and ifname.startswith("ipsec"):
        raise UnitError(f"'{ifname}' is a tunnel that 'ifconfig {ifname} create' makes; a link joins physical interfaces such as em0")
    return Endpoint(host, ifname)


def _address(value: object) -> IPAddress:
    if isinstance(value, str):
        try:
            return ipaddress.ip_address(value.strip())
        except ValueError:
            if "/" in value:
                raise UnitError(f"{describe(value)} has a prefix length; write only the address, e.g. {value.split('/')[0]}") from None
    raise UnitError(f"{describe(value)} is not an IPv4 or IPv6 address; write it like 10.0.0.2 or 2001:db8::2")


def _script(value: object) -> Script:
    if isinstance(value, Script):
        return value
    return Script(_text(value))


def attach_scripts(data: object, *keys: str) -> object:
    """Turn the string at each of ``keys`` into a :class:`Script` that knows its file positions."""
    if not isinstance(data, MarkedMap):
        return data
    for key in keys:
        text = data.get(key)
        if isinstance(text, str) and key in data.value_spans:
            span = data.value_spans[key]
            data = data.replaced(key, Script(text, span.file, script_positions(text, span)))
    return data


def _comparison(kind: str) -> Callable[[object], Comparison]:
    return lambda value: parse_comparison(value, kind)


# --- the annotated types the models use ------------------------------------------------------
# (value types dump as they are written: ``model_dump()`` gives "A:em0", "> 1MB", the script text)

_AS_TEXT = PlainSerializer(str)

Text = Annotated[str, _checked(_text)]
Flag = Annotated[bool, _checked(_flag)]
Duration = Annotated[float, _checked(parse_duration)]
PositiveDuration = Annotated[float, _checked(_positive(parse_duration, "1s"))]
Rate = Annotated[float, _checked(parse_rate)]
PositiveRate = Annotated[float, _checked(_positive(parse_rate, "10Mbit/s"))]
Percent = Annotated[float, _checked(parse_percent)]
Mtu = Annotated[int, _checked(_mtu)]
Queue = Annotated[QueueLimit, _checked(_queue), PlainSerializer(lambda q: q.limit if q.unit == "packets" else f"{q.limit}B")]
HostName = Annotated[str, _checked(_host_name)]
LinkEnd = Annotated[Endpoint, _checked(lambda v: _interface(v, physical=True)), PlainSerializer(str)]
InterfaceRef = Annotated[Endpoint, _checked(lambda v: _interface(v, physical=False)), PlainSerializer(str)]
Address = Annotated[IPAddress, _checked(_address)]
ScriptText = Annotated[Script, _checked(_script), PlainSerializer(lambda s: s.text)]
CountCmp = Annotated[Comparison, _checked(_comparison("count")), _AS_TEXT]
BytesCmp = Annotated[Comparison, _checked(_comparison("bytes")), _AS_TEXT]
DurationCmp = Annotated[Comparison, _checked(_comparison("duration")), _AS_TEXT]
RateCmp = Annotated[Comparison, _checked(_comparison("rate")), _AS_TEXT]
PercentCmp = Annotated[Comparison, _checked(_comparison("percent")), _AS_TEXT]
