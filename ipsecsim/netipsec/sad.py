"""The SAD: SA heads, SAs, their lookups and lifetimes. [S7.1]-[S7.3] [S7.6]-[S7.9]

SAs hang under SA heads (``secashead``) grouped by :class:`~.policy.SaIndex`; new heads
go first, new SAs go first in their head; outbound selection takes the first
matching head and its oldest SA with ``net.key.preferred_oldsa`` (newest without)
[S7.1]; inbound lookup is by SPI, then protocol and destination [S7.2]. Every
change of an SA's state is an event of :mod:`.sastate`'s table.

Depends on the clock and knobs, the key socket it announces changes to, and the
ACQUIRE machinery it asks when an outbound packet finds no SA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from .acquire import Acquire
from .enums import SaState
from .keyclock import KeyClock, KeyKnobs
from .keysock import KeySocket, SendTo
from .pfkey import PfkeyError, address_fields, dump_fields, expire_fields, sa_fields
from .policy import IpsecRequest, SaIndex, SecurityPolicy
from .sa import Lifetime, SecurityAssociation
from .sastate import SaEvent, next_state

__all__ = ["Sad", "SaInfo"]

Address = IPv4Address | IPv6Address
_UINT32_80PCT = 0xCCCCCCCC  # 80 % of 2^32: soft expiry of non-ESN SAs [S7.6]


@dataclass(frozen=True, slots=True)
class SaInfo:
    """What the key engine keeps about one SA besides the SA itself (``secasvar``). [S10.9]

    ``index`` is the SA head's: dumps print its mode and reqid. ``created`` and
    ``firstused`` are ``time_second`` values (0: never used).
    """

    state: SaState
    index: SaIndex
    created: int
    firstused: int
    seq: int
    pid: int


@dataclass(slots=True)
class _Sav:
    sa: SecurityAssociation
    sah: _Sah
    state: SaState
    seq: int
    pid: int
    created: int


@dataclass(slots=True)
class _Sah:
    index: SaIndex
    larval: list[_Sav] = field(default_factory=list)
    alive: list[_Sav] = field(default_factory=list)  # newest first (TAILQ_INSERT_HEAD)


class Sad:
    """``key.c``'s SAD requests (add, update, get, delete, flush, dump), SA allocation, lifetimes."""

    def __init__(self, clock: KeyClock, knobs: KeyKnobs, keysock: KeySocket, acquire: Acquire):
        self._clock = clock
        self._knob = knobs
        self._keysock = keysock
        self._acquire = acquire
        self._sahs: list[_Sah] = []  # V_sahtree, newest head first
        self._sahs_by_addr: dict[tuple, list[_Sah]] = {}  # the same heads by (proto, src, dst), newest first
        self._byspi: dict[int, _Sav] = {}  # one SPI namespace for every protocol [S7.2]

    # -- state changes: the only places an SA's state is written -----------------------------

    @staticmethod
    def _move(sav: _Sav, event: SaEvent) -> None:
        sav.state = next_state(sav.state, event)

    def _unlink(self, sav: _Sav, event: SaEvent) -> None:
        (sav.sah.larval if sav.state is SaState.LARVAL else sav.sah.alive).remove(sav)
        del self._byspi[sav.sa.spi]
        self._move(sav, event)

    # -- requests ------------------------------------------------------------------------------

    def _getsah(self, index: SaIndex) -> _Sah | None:
        """The first head matching ``index`` in V_sahtree order; only heads with its protocol and
        addresses can match, so only those are compared (a hub's thousands of heads are not)."""
        for sah in self._sahs_by_addr.get((index.proto, index.src, index.dst), ()):
            if sah.index.matches_request(index):
                return sah
        return None

    def _index_sahs(self) -> None:
        """Rebuild ``_sahs_by_addr`` from ``_sahs`` after heads were removed."""
        by_addr: dict[tuple, list[_Sah]] = {}
        for sah in self._sahs:
            by_addr.setdefault((sah.index.proto, sah.index.src, sah.index.dst), []).append(sah)
        self._sahs_by_addr = by_addr

    def add(self, sa: SecurityAssociation, *, now: float, update: bool = False, pid: int = 0, seq: int = 0) -> None:
        """``key_add`` (``update``: ``key_update``) of an SA built from an SADB_ADD. [S7.3]

        SPI <= 255 is EINVAL; an SPI already in use anywhere on the host is EEXIST;
        HARD and SOFT lifetimes come together or not at all (EINVAL). The SA is
        MATURE at once, first in its SA head. ``seq`` is the ``sadb_msg_seq`` of
        the request: an IKE daemon answering an ACQUIRE passes its seq, which
        retires the ACQUIRE entry (``key_acqdone``) [S8.1].
        """
        t = self._clock.at(now)
        if update:
            return self._update(sa, t, pid)
        if sa.spi <= 255:
            raise PfkeyError("EINVAL", f"illegal range of SPI {sa.spi}")
        if (sa.lifetime_hard is None) != (sa.lifetime_soft is None):
            raise PfkeyError("EINVAL", "HARD and SOFT lifetimes must both be present or both absent")
        if sa.spi in self._byspi:
            raise PfkeyError("EEXIST", f"SA with SPI {sa.spi} already exists")
        index = SaIndex(sa.proto, sa.mode, sa.reqid, sa.src, sa.dst)
        sah = self._getsah(index)
        if sah is None:
            sah = _Sah(index)
            self._sahs.insert(0, sah)
            self._sahs_by_addr.setdefault((index.proto, index.src, index.dst), []).insert(0, sah)
        sav = _Sav(sa, sah, next_state(None, SaEvent.ADD), seq, pid, t)
        sa.current.created = float(now)
        sah.alive.insert(0, sav)
        self._byspi[sa.spi] = sav
        if seq:
            self._acquire.done(index, seq)
        self._keysock.send("SADB_ADD", sa.proto, sa_fields(sav), to=SendTo.ALL, seq=seq, pid=pid)

    def _update(self, sa: SecurityAssociation, t: int, pid: int) -> None:
        """``key_update``: a LARVAL SA gets its values; a MATURE/DYING one new lifetimes only."""
        sav = self._byspi.get(sa.spi)
        if sav is None:
            raise PfkeyError("EINVAL", f"no SA found for SPI {sa.spi}")
        if sav.pid != pid:
            raise PfkeyError("EINVAL", f"pid mismatched (SPI {sa.spi}, pid {sav.pid} vs. {pid})")
        if not sav.sah.index.matches_request(SaIndex(sa.proto, sa.mode, sa.reqid, sa.src, sa.dst)):
            raise PfkeyError("ESRCH", f"saidx mismatched for SPI {sa.spi}")
        if (sa.lifetime_hard is None) != (sa.lifetime_soft is None):
            raise PfkeyError("EINVAL", "HARD and SOFT lifetimes must both be present or both absent")
        if sav.state is SaState.LARVAL:
            sav.sah.larval.remove(sav)
            sav.sa, sav.created = sa, t
            sav.sah.alive.insert(0, sav)
        else:
            sav.sa.lifetime_hard, sav.sa.lifetime_soft = sa.lifetime_hard, sa.lifetime_soft
        self._move(sav, SaEvent.UPDATE)
        self._keysock.send("SADB_UPDATE", sa.proto, sa_fields(sav), to=SendTo.ALL, pid=pid)

    def _lookup(self, src: Address, dst: Address, proto: str, spi: int) -> _Sav:
        sav = self._byspi.get(spi)
        if sav is None:
            raise PfkeyError("ESRCH", f"no SA found for SPI {spi}")
        if not sav.sah.index.matches_head(proto, src, dst):
            raise PfkeyError("ESRCH", f"saidx mismatched for SPI {spi}")
        return sav

    def get(self, src: Address, dst: Address, proto: str, spi: int) -> SecurityAssociation:
        """``key_get``: the SA with this SPI, protocol and addresses, else ESRCH. [S7.8]"""
        return self._lookup(src, dst, proto, spi).sa

    def delete(self, src: Address, dst: Address, proto: str, spi: int, *, now: float, pid: int = 0) -> None:
        """``key_delete``: remove one SA; ESRCH when the SPI or its addresses do not match. [S7.8]"""
        self._clock.at(now)
        sav = self._lookup(src, dst, proto, spi)
        self._unlink(sav, SaEvent.DELETE)
        fields_ = {"sa": sa_fields(sav)["sa"]} | address_fields(sav.sah.index.src, sav.sah.index.dst)
        self._keysock.send("SADB_DELETE", proto, fields_, to=SendTo.ALL, pid=pid)

    def deleteall(self, src: Address, dst: Address, proto: str, *, now: float, pid: int = 0) -> None:
        """``key_delete_all``: every alive SA with these addresses, any mode or reqid. [S7.8]"""
        self._clock.at(now)
        for sah in self._sahs:
            if sah.index.matches_head(proto, src, dst):
                for sav in list(sah.alive):
                    self._unlink(sav, SaEvent.DELETE)
        self._keysock.send("SADB_DELETE", proto, address_fields(src, dst), to=SendTo.ALL, pid=pid)

    def flush(self, proto: str | None = None, *, pid: int = 0) -> None:
        """``key_flush``: every SA, or those of one protocol. [S7.8]"""
        keep = []
        for sah in self._sahs:
            if proto is None or sah.index.proto == proto:
                for sav in sah.larval + sah.alive:
                    del self._byspi[sav.sa.spi]
                    self._move(sav, SaEvent.DELETE)
            else:
                keep.append(sah)
        self._sahs = keep
        self._index_sahs()
        self._keysock.send("SADB_FLUSH", proto or "unspec", {}, to=SendTo.ALL, pid=pid)

    def _records(self, proto: str | None) -> list[_Sav]:
        return [
            sav
            for sah in self._sahs
            if proto is None or sah.index.proto == proto
            for sav in sah.larval + sah.alive
        ]

    def dump(self, proto: str | None = None, *, include_dead: bool = False, pid: int = 0,
             now: float | None = None) -> list[SecurityAssociation]:
        """``key_dump``: newest SA head first, larval then alive SAs, newest first. [S7.9]

        ENOENT when there is nothing to dump. ``include_dead`` is setkey's ``-a``;
        FreeBSD's current key.c unlinks SAs as they die, so it adds nothing.
        Promiscuous listeners see one SADB_DUMP message per SA, seq counting down,
        sent at ``now`` (the time of the request; default: the key engine's last time).
        """
        self._clock.at(now)
        records = self._records(proto)
        if not records:
            raise PfkeyError("ENOENT", "no SAD entries")
        if self._keysock.promiscuous():
            time_second = self._clock.time_second
            for seq, sav in zip(range(len(records) - 1, -1, -1), records):
                self._keysock.send("SADB_DUMP", sav.sah.index.proto, dump_fields(sav, time_second), to=SendTo.ONE,
                                   seq=seq, pid=pid, reserved=1)  # fmt: skip
        return [sav.sa for sav in records]

    def sas(self, proto: str | None = None) -> list[SecurityAssociation]:
        """Every SA in dump order, without messages or ENOENT (for counters and reports)."""
        return [sav.sa for sav in self._records(proto)]

    def state_of(self, sa: SecurityAssociation) -> SaState:
        """LARVAL, MATURE, DYING or DEAD (no longer in the SAD). [S7.7]"""
        sav = self._byspi.get(sa.spi)
        return sav.state if sav is not None and sav.sa is sa else SaState.DEAD

    def sa_info(self, sa: SecurityAssociation) -> SaInfo:
        """The key engine's record of ``sa``, for dumps; ESRCH when it is not in the SAD."""
        sav = self._byspi.get(sa.spi)
        if sav is None or sav.sa is not sa:
            raise PfkeyError("ESRCH", f"SA with SPI {sa.spi} is not in the SAD")
        first = sa.current.firstused
        return SaInfo(sav.state, sav.sah.index, sav.created,
                      0 if first is None else self._clock.time_second(first), sav.seq, sav.pid)  # fmt: skip

    # -- SA allocation (per packet) ------------------------------------------------------------

    def allocsa_policy(self, policy: SecurityPolicy, request: IpsecRequest, *, now: float,
                       src: Address | None = None, dst: Address | None = None) -> SecurityAssociation | None:  # fmt: skip
        """``key_allocsa_policy``: the SA an outbound packet under ``request`` uses, or None. [S7.1]

        The first SA head matching (proto, addresses, mode any or equal, reqid when
        the request has one); in it the oldest alive SA with
        ``net.key.preferred_oldsa`` (MATURE or DYING), else the newest. With no SA,
        an ACQUIRE goes out, rate-limited [S8.1]. Transport-mode requests without
        addresses take the packet's: pass them as ``src``/``dst``.
        """
        t = self._clock.at(now)
        if request.src is not None:
            src = request.src
        if request.dst is not None:
            dst = request.dst
        if src is None or dst is None:
            return None  # a transport request needs the packet's addresses: pass src/dst
        index = SaIndex(request.proto, request.mode, request.reqid, src, dst)
        sah = self._getsah(index)
        if sah is not None and sah.alive:
            return (sah.alive[-1] if self._knob("net.key.preferred_oldsa") else sah.alive[0]).sa
        self._acquire.request(index, policy, t)
        return None

    def allocsa(self, dst: Address, proto: str, spi: int) -> SecurityAssociation | None:
        """``key_allocsa``: inbound lookup by SPI, then not larval, same protocol and destination. [S7.2]"""
        sav = self._byspi.get(spi)
        if sav is None or sav.state is SaState.LARVAL:
            return None
        index = sav.sah.index
        return sav.sa if index.proto == proto and index.dst == dst else None

    # -- lifetimes (key_timehandler's part) ----------------------------------------------------

    def expire(self, t: int) -> None:
        """``key_flush_sad``: one pass, decisions first, then unlink, DYING, messages. [S7.6]"""
        empty, stale, hard, soft = [], [], [], []
        larval_lifetime = self._knob("net.key.larval_lifetime")
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
                elif sav.state is SaState.MATURE and (self._expired(sav, sa.lifetime_soft, t)
                                                      or self._nearly_wrapped(sa)):  # fmt: skip
                    soft.append(sav)
        for sav in stale:
            self._unlink(sav, SaEvent.LARVAL_EXPIRE)
        for sav in hard:
            self._unlink(sav, SaEvent.HARD_EXPIRE)
        for sav in soft:
            self._move(sav, SaEvent.SOFT_EXPIRE)  # keeps its place in the list [S7.6]
        for sah in empty:
            self._sahs.remove(sah)
        if empty:
            self._index_sahs()
        # The drain lists are LIST_INSERT_HEAD-built: messages go out in reverse scan order.
        for sav in reversed(hard):
            self._expire_msg(sav, "hard", t)
        for sav in reversed(soft):
            self._expire_msg(sav, "soft", t)

    def _expired(self, sav: _Sav, limit: Lifetime | None, t: int) -> bool:
        if limit is None:
            return False
        current = sav.sa.current
        first = current.firstused
        return bool(
            (limit.addtime and t - sav.created > limit.addtime)
            or (limit.usetime and first is not None and t - self._clock.time_second(first) > limit.usetime)
            or (limit.bytes and current.bytes > limit.bytes)
        )

    @staticmethod
    def _nearly_wrapped(sa: SecurityAssociation) -> bool:
        """Non-ESN SA whose counter or highest sequence seen passed 80 % of 2^32. [S7.6]"""
        replay = sa.replay
        return not sa.esn and (replay.count > _UINT32_80PCT or replay.last > _UINT32_80PCT)

    def _expire_msg(self, sav: _Sav, which: str, t: int) -> None:
        fields_ = expire_fields(sav, which, self._clock.time_second)
        self._keysock.send("SADB_EXPIRE", sav.sah.index.proto, fields_, to=SendTo.REGISTERED, seq=sav.seq, reserved=2)

    def needs_ticks(self) -> bool:
        """Whether :meth:`expire` can change anything: lifetimes, larval SAs, empty heads."""
        for sah in self._sahs:
            if sah.larval or not sah.alive or any(sav.sa.lifetime_hard is not None for sav in sah.alive):
                return True
        return False
