"""The structured event log behind ``--trace FILE``: one JSON object per line.

Every line has the same keys in the same order, then any extra fields in sorted key
order::

    {"time":1.234567000,"host":"A","interface":"em0","event":"tx","reason":null,"length":84,"summary":"IP 10.0.0.1 > 10.0.2.2: ICMP echo request, id 1, seq 0, length 64"}

``time`` is simulated seconds rounded to the nanosecond and written with exactly nine
decimal places; separators are compact and strings are ASCII-escaped, so the same run
gives a byte-identical file. Events in use: ``tx``, ``rx``, ``forward``, ``deliver``,
``drop`` (with ``reason``, the FreeBSD counter or errno name such as ``esps_badauth`` or
``ENETDOWN``), ``encap``, ``decap``; the log does not restrict the vocabulary.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _quote
from os import PathLike
from typing import Any, TextIO

from ._output import TraceOutput

__all__ = ["EventLog", "read_events", "FIELDS"]

FIELDS = ("time", "host", "interface", "event", "reason", "length", "summary")
_FIELD_SET = frozenset(FIELDS)
_NS_PER_S = 1_000_000_000
_BUFFER_SIZE = 1 << 20


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"event field of type {type(value).__name__} is not JSON serializable")


_encode_extra = json.JSONEncoder(
    ensure_ascii=True, separators=(",", ":"), sort_keys=True, allow_nan=False, default=_default
).encode


class EventLog(TraceOutput):
    """Append events to a JSON-lines file (a path, created) or an open text stream.

    Buffered; ``close()`` (or ``with``) flushes. A path is closed by ``close()``; a
    stream given by the caller is flushed but left open.
    """

    __slots__ = ("events",)

    def __init__(self, target: str | PathLike[str] | TextIO):
        super().__init__(target, "w", encoding="ascii", newline="\n", buffering=_BUFFER_SIZE)
        self.events = 0

    def log(
        self,
        time_s: float,
        host: str,
        interface: str | None,
        event: str,
        *,
        reason: str | None = None,
        length: int = 0,
        summary: str = "",
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Write one event. ``extra`` adds fields after the fixed ones (sorted by key)."""
        ns = round(time_s * 1e9)
        if ns < 0:
            raise ValueError(f"event time must not be negative: {time_s!r}")
        line = (
            f'{{"time":{ns // _NS_PER_S}.{ns % _NS_PER_S:09d},"host":{_quote(host)},'
            f'"interface":{"null" if interface is None else _quote(interface)},'
            f'"event":{_quote(event)},"reason":{"null" if reason is None else _quote(reason)},'
            f'"length":{int(length)},"summary":{_quote(summary)}'
        )
        if extra:
            clash = _FIELD_SET.intersection(extra)
            if clash:
                raise ValueError(f"extra fields may not redefine {sorted(clash)}")
            line += "," + _encode_extra(extra)[1:]
            self._write(line + "\n")
        else:
            self._write(line + "}\n")
        self.events += 1


def read_events(source: str | PathLike[str]) -> list[dict[str, Any]]:
    """Parse an event log back into dicts (``time`` becomes a float)."""
    with open(source, encoding="ascii") as f:
        return [json.loads(line) for line in f if line.strip()]
