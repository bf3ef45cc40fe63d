"""``key_timehandler``: what the key engine does once a simulated second. [S7.6] [S8.1]

The kernel calls :meth:`KeyTimer.tick`; the timer moves the clock and has the SAD
expire lifetimes and larval SAs (``key_flush_sad``) and the ACQUIRE entries age
(``key_flush_acq``), in that order, as FreeBSD's handler does.
"""

from __future__ import annotations

from .acquire import Acquire
from .keyclock import KeyClock
from .sad import Sad

__all__ = ["KeyTimer"]


class KeyTimer:
    """The periodic part of the key engine, over the SAD and the ACQ entries."""

    def __init__(self, clock: KeyClock, sad: Sad, acquire: Acquire):
        self._clock = clock
        self._sad = sad
        self._acquire = acquire

    def tick(self, now: float) -> None:
        """``key_timehandler``: SA lifetimes, larval SAs, ACQ entries. [S7.6] [S8.1]"""
        t = self._clock.at(now)
        self._sad.expire(t)
        self._acquire.expire(t)

    def needs_ticks(self) -> bool:
        """Whether :meth:`tick` can change anything: lifetimes, larval SAs, ACQ entries, empty heads."""
        return bool(self._acquire) or self._sad.needs_ticks()
