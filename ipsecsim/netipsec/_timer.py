"""``key_timehandler``: SA lifetimes, larval SAs, ACQUIRE entries, every simulated second. [S7.6] [S8.1]

Mixed into :class:`~.keydb.KeyDB`; the kernel calls :meth:`~.keydb.KeyDB.tick`.
"""

from __future__ import annotations

from ._sad import _Sav
from .pfkey import PfkeyMessage, expire_fields
from .sa import SecurityAssociation

__all__ = ["TimerMixin"]

_UINT32_80PCT = 0xCCCCCCCC  # 80 % of 2^32: soft expiry of non-ESN SAs [S7.6]


class TimerMixin:
    """What the key engine does as time passes: expiry, soft lifetimes, stale entries."""

    def tick(self, now: float) -> None:
        """``key_timehandler``: policy lifetimes, SA lifetimes, larval SAs, ACQ entries. [S7.6] [S8.1]"""
        t = self._clock(now)
        self._flush_sad(t)
        lifetime = self.knob("net.key.blockacq_lifetime")
        for index, acq in list(self._acqs.items()):
            if t - acq.created > lifetime:
                del self._acqs[index]

    def _flush_sad(self, t: int) -> None:
        """``key_flush_sad``: one pass, decisions first, then unlink, DYING, messages. [S7.6]"""
        empty, stale, hard, soft = [], [], [], []
        larval_lifetime = self.knob("net.key.larval_lifetime")
        for sah in self._sahs:
            if not sah.larval and not sah.alive:
                empty.append(sah)
                continue
            stale += [sav for sav in sah.larval if t - sav.created >= larval_lifetime]
            for sav in sah.alive:
                sa = sav.sa
                if sa.lifetime_hard is None:
                    continue
                if self._expired(sav, sa.lifetime_hard, t):
                    hard.append(sav)
                elif sav.state == "mature" and (self._expired(sav, sa.lifetime_soft, t) or self._nearly_wrapped(sa)):
                    soft.append(sav)
        for sav in stale + hard:
            self._unlink(sav)
        for sav in soft:
            sav.state = "dying"  # keeps its place in the list [S7.6]
        for sah in empty:
            self._sahs.remove(sah)
        if empty:
            self._index_sahs()
        # The drain lists are LIST_INSERT_HEAD-built: messages go out in reverse scan order.
        for sav in reversed(hard):
            self._sendup(self._expire_msg(sav, "hard", t), "registered")
        for sav in reversed(soft):
            self._sendup(self._expire_msg(sav, "soft", t), "registered")

    def _expired(self, sav: _Sav, limit, t: int) -> bool:
        current = sav.sa.current
        first = current.firstused
        return bool(
            (limit.addtime and t - sav.created > limit.addtime)
            or (limit.usetime and first is not None and t - self.time_second(first) > limit.usetime)
            or (limit.bytes and current.bytes > limit.bytes)
        )

    @staticmethod
    def _nearly_wrapped(sa: SecurityAssociation) -> bool:
        """Non-ESN SA whose counter or highest sequence seen passed 80 % of 2^32. [S7.6]"""
        replay = sa.replay
        return not sa.esn and (replay.count > _UINT32_80PCT or replay.last > _UINT32_80PCT)

    def _expire_msg(self, sav: _Sav, which: str, t: int) -> PfkeyMessage:
        fields_ = expire_fields(sav, which, self.time_second)
        return self._msg("SADB_EXPIRE", sav.sah.index.proto, fields_, seq=sav.seq, reserved=2)

    def needs_ticks(self) -> bool:
        """Whether :meth:`tick` can change anything: lifetimes, larval SAs, ACQ entries, empty heads."""
        if self._acqs:
            return True
        for sah in self._sahs:
            if sah.larval or not sah.alive or any(sav.sa.lifetime_hard is not None for sav in sah.alive):
                return True
        return False
