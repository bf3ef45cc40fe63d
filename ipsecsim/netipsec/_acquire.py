"""ACQUIRE: asking the IKE daemons for an SA, rate-limited, as ``key_acquire`` does. [S8.1] [S8.2]

Mixed into :class:`~.keydb.KeyDB`, whose ``__init__`` makes ``_acqs`` and ``_acq_seq``;
:meth:`~.keydb.KeyDB.tick` retires the entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from .pfkey import acquire_fields, supported_combs
from .policy import SaIndex, SecurityPolicy

__all__ = ["AcquireMixin"]


@dataclass(slots=True)
class _Acq:
    index: SaIndex
    seq: int
    created: int
    count: int = 0


class AcquireMixin:
    """``key_acquire``, ``key_getacq`` and ``key_acqdone``."""

    def _acquire(self, index: SaIndex, policy: SecurityPolicy | None, t: int) -> None:
        """``key_acquire`` + ``key_getacq``: one message per blockacq_count + 2 packets. [S8.1] [S8.2]"""
        acq = self._acqs.get(index)
        if acq is None:
            self._acq_seq = 1 if self._acq_seq == 0xFFFFFFFF else self._acq_seq + 1
            acq = self._acqs[index] = _Acq(index, self._acq_seq, t)
        elif acq.count > self.knob("net.key.blockacq_count"):
            acq.created, acq.count = t, 0
        else:
            acq.count += 1
            return
        combs = supported_combs(self.knob("net.key.esp_keymin"), self.knob("net.key.esp_auth"),
                                self.knob("net.key.ah_keymin"))  # fmt: skip
        fields_ = acquire_fields(index, policy, combs)
        self._sendup(self._msg("SADB_ACQUIRE", index.proto, fields_, seq=acq.seq), "registered")

    def _acqdone(self, index: SaIndex, seq: int) -> None:
        """``key_acqdone``: an SA answered ACQUIRE ``seq``; the entry goes at the next tick."""
        for acq in self._acqs.values():
            if acq.seq == seq:
                if acq.index == index:
                    acq.created = 0
                return
