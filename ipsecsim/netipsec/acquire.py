"""ACQUIRE: asking the IKE daemons for an SA, rate-limited, as ``key_acquire`` does. [S8.1] [S8.2]

The SAD asks (:meth:`Acquire.request`) when an outbound packet finds no SA; an
SA added with the ACQUIRE's seq answers it (:meth:`Acquire.done`); the timer
retires entries (:meth:`Acquire.expire`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .keyclock import KeyKnobs
from .keysock import KeySocket, SendTo
from .pfkey import acquire_fields, supported_combs
from .policy import SaIndex, SecurityPolicy

__all__ = ["Acquire"]


@dataclass(slots=True)
class _Acq:
    index: SaIndex
    seq: int
    created: int
    count: int = 0


class Acquire:
    """``key_acquire``, ``key_getacq``, ``key_acqdone`` and ``key_flush_acq`` over the ACQ entries."""

    def __init__(self, knobs: KeyKnobs, keysock: KeySocket):
        self._knob = knobs
        self._keysock = keysock
        self._acqs: dict[SaIndex, _Acq] = {}
        self._seq = 0

    def __bool__(self) -> bool:
        """Whether any ACQ entry is pending (the timer has something to retire)."""
        return bool(self._acqs)

    def request(self, index: SaIndex, policy: SecurityPolicy | None, t: int) -> None:
        """``key_acquire`` + ``key_getacq``: one message per blockacq_count + 2 packets. [S8.1] [S8.2]"""
        acq = self._acqs.get(index)
        if acq is None:
            self._seq = 1 if self._seq == 0xFFFFFFFF else self._seq + 1
            acq = self._acqs[index] = _Acq(index, self._seq, t)
        elif acq.count > self._knob("net.key.blockacq_count"):
            acq.created, acq.count = t, 0
        else:
            acq.count += 1
            return
        knob = self._knob
        combs = supported_combs(knob("net.key.esp_keymin"), knob("net.key.esp_auth"), knob("net.key.ah_keymin"))
        self._keysock.send("SADB_ACQUIRE", index.proto, acquire_fields(index, policy, combs), to=SendTo.REGISTERED,
                           seq=acq.seq)  # fmt: skip

    def done(self, index: SaIndex, seq: int) -> None:
        """``key_acqdone``: an SA answered ACQUIRE ``seq``; the entry goes at the next tick."""
        for acq in self._acqs.values():
            if acq.seq == seq:
                if acq.index == index:
                    acq.created = 0
                return

    def expire(self, t: int) -> None:
        """``key_flush_acq``: entries older than ``net.key.blockacq_lifetime`` go."""
        lifetime = self._knob("net.key.blockacq_lifetime")
        for index, acq in list(self._acqs.items()):
            if t - acq.created > lifetime:
                del self._acqs[index]
