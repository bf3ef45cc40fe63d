"""The key engine of one host: SAD, SPD, ACQUIRE and lifetimes, as FreeBSD's ``key.c``.

Sans-IO like the rest of netipsec: time comes in as ``now`` (simulated seconds);
the kernel calls :meth:`KeyDB.tick` once a simulated second (``key_timehandler``)
[S7.6]. Times the kernel would keep in ``time_second`` are whole seconds of a
simulated epoch, ``epoch + int(now)`` (default 2026-01-01 00:00:00 UTC at boot),
so lifetime tests compare whole seconds with ``>`` as FreeBSD does.

SAD: SAs hang under SA heads (``secashead``) grouped by :class:`SaIndex`; new heads
go first, new SAs go first in their head; outbound selection takes the first
matching head and its oldest SA with ``net.key.preferred_oldsa`` (newest without)
[S7.1]; inbound lookup is by SPI, then protocol and destination [S7.2].
SPD: global policies sorted by priority, ifnet policies (if_ipsec) in a list of
their own that normal lookups and user deletes never touch [S4.2]-[S4.4].
Listeners (IKE daemons, ``setkey -x``) get :class:`~.pfkey.PfkeyMessage` as
``keysock.c`` would send them: broadcasts, registered-only (ACQUIRE, EXPIRE),
and every message twice to promiscuous ones when broadcast [S8.2].
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from ipaddress import IPv4Address, IPv6Address

from .pfkey import (
    PfkeyError,
    PfkeyMessage,
    acquire_fields,
    address_fields,
    dump_fields,
    expire_fields,
    policy_fields,
    sa_fields,
    supported_combs,
)
from .policy import IPSEC_MANUAL_REQID_MAX, IPSEC_MAXREQ, IpsecRequest, SaIndex, SecurityPolicy
from .sa import SecurityAssociation

__all__ = ["KeyDB", "IpsecStat", "SaInfo", "BOOT_EPOCH"]

Address = IPv4Address | IPv6Address
BOOT_EPOCH = 1767225600  # 2026-01-01 00:00:00 UTC: the simulated clock's time_second at now == 0
_UINT32_80PCT = 0xCCCCCCCC  # 80 % of 2^32: soft expiry of non-ESN SAs [S7.6]


@dataclass(slots=True)
class IpsecStat:
    """``struct ipsecstat`` (netipsec/ipsec.h): what ``netstat -s -p ipsec`` prints."""

    ips_in_polvio: int = 0  # inbound packets violating policy
    ips_in_nomem: int = 0
    ips_in_inval: int = 0
    ips_out_polvio: int = 0  # outbound packets violating policy
    ips_out_nosa: int = 0  # outbound packets with no SA available
    ips_out_nomem: int = 0
    ips_out_noroute: int = 0
    ips_out_inval: int = 0  # invalid outbound packets (dropped for lack of SA)
    ips_out_bundlesa: int = 0
    ips_mbcoalesced: int = 0
    ips_clcoalesced: int = 0
    ips_clcopied: int = 0
    ips_mbinserted: int = 0
    ips_input_front: int = 0
    ips_input_middle: int = 0
    ips_input_end: int = 0
    ips_spdcache_hits: int = 0
    ips_spdcache_misses: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name))}


@dataclass(frozen=True, slots=True)
class SaInfo:
    """What the key engine keeps about one SA besides the SA itself (``secasvar``). [S10.9]

    ``index`` is the SA head's: dumps print its mode and reqid. ``created`` and
    ``firstused`` are ``time_second`` values (0: never used).
    """

    state: str
    index: SaIndex
    created: int
    firstused: int
    seq: int
    pid: int


@dataclass(slots=True)
class _Sav:
    sa: SecurityAssociation
    sah: _Sah
    state: str
    seq: int
    pid: int
    created: int


@dataclass(slots=True)
class _Sah:
    index: SaIndex
    larval: list[_Sav] = field(default_factory=list)
    alive: list[_Sav] = field(default_factory=list)  # newest first (TAILQ_INSERT_HEAD)


@dataclass(slots=True)
class _Acq:
    index: SaIndex
    seq: int
    created: int
    count: int = 0


@dataclass(slots=True)
class _Listener:
    deliver: Callable[[PfkeyMessage], None]
    registered: bool
    promiscuous: bool


class KeyDB:
    """One host's key engine (one VNET's worth of key.c state)."""

    # (name, default, description, minimum, maximum): the kernel registers these. [S7.12]
    KNOBS: tuple[tuple[str, int, str, int | None, int | None], ...] = (
        ("net.key.debug", 0, "", None, None),
        ("net.key.spi_trycnt", 1000, "", 0, None),
        ("net.key.spi_minval", 0x100, "", 0, 0xFFFFFFFF),
        ("net.key.spi_maxval", 0x0FFFFFFF, "", 0, 0xFFFFFFFF),
        ("net.key.int_random", 60, "", None, None),
        ("net.key.larval_lifetime", 30, "", 0, None),
        ("net.key.blockacq_count", 10, "", None, None),
        ("net.key.blockacq_lifetime", 20, "", None, None),
        ("net.key.esp_auth", 0, "", None, None),
        ("net.key.esp_keymin", 256, "", None, None),
        ("net.key.ah_keymin", 128, "", None, None),
        ("net.key.preferred_oldsa", 1, "", None, None),
        ("net.key.spdcache.maxentries", 0, "Maximum number of entries in the SPD cache (power of 2, 0 to disable)", 0, None),
        ("net.key.spdcache.threshold", 32, "Number of SPs that make the SPD cache active", 0, None),
    )  # fmt: skip
    _DEFAULTS = {name: default for name, default, *_ in KNOBS}

    def __init__(self, *, sysctl, rng: random.Random, epoch: int = BOOT_EPOCH):
        self.sysctl = sysctl
        self.rng = rng
        self.epoch = epoch
        self.stats = IpsecStat()
        self._sahs: list[_Sah] = []  # V_sahtree, newest head first
        self._byspi: dict[int, _Sav] = {}  # one SPI namespace for every protocol [S7.2]
        self._acqs: dict[SaIndex, _Acq] = {}
        self._acq_seq = 0
        self._sptree: dict[str, list[SecurityPolicy]] = {"in": [], "out": []}
        self._sptree_ifnet: dict[str, list[SecurityPolicy]] = {"in": [], "out": []}
        self._byspid: dict[int, SecurityPolicy] = {}
        self._policy_id = 0
        self._auto_reqid = IPSEC_MANUAL_REQID_MAX + 1
        self._listeners: list[_Listener] = []
        self._now = 0.0

    # -- small helpers -------------------------------------------------------------------

    def knob(self, name: str) -> int:
        value = self.sysctl.get(name)
        return self._DEFAULTS.get(name, 0) if value is None else value

    def time_second(self, now: float) -> int:
        """The kernel's ``time_second`` at simulated time ``now``."""
        return self.epoch + int(now)

    def _clock(self, now: float | None) -> int:
        if now is not None:
            self._now = now
        return self.time_second(self._now)

    def _msg(self, type_: str, satype: str, fields_: dict, *, seq: int = 0, pid: int = 0, reserved: int = 0):
        return PfkeyMessage(type_, satype, seq, pid, self._now, fields_, reserved)

    def _sendup(self, msg: PfkeyMessage, target: str) -> None:
        """``key_sendup_mbuf``: target "one" (the requester), "all" or "registered". [S8.2]

        A promiscuous listener gets a copy of everything, and a second one of what
        is broadcast to it anyway, as keysock.c does.
        """
        for listener in list(self._listeners):
            if listener.promiscuous:
                listener.deliver(msg)
            if target == "all" or (target == "registered" and listener.registered):
                listener.deliver(msg)

    def _promiscuous(self) -> bool:
        return any(listener.promiscuous for listener in self._listeners)

    def subscribe(
        self,
        listener: Callable[[PfkeyMessage], None],
        *,
        satypes: tuple[str, ...] = ("esp",),
        promiscuous: bool = False,
    ) -> Callable[[], None]:
        """Open a PF_KEY socket: ``SADB_REGISTER`` for ``satypes`` (none: not registered),
        ``SADB_X_PROMISC`` with ``promiscuous``. Returns the function that closes it.

        FreeBSD sends registered-only messages (ACQUIRE, EXPIRE) to every
        registered socket whatever satype it registered for (``kp_registered``).
        """
        entry = _Listener(listener, bool(satypes), promiscuous)
        self._listeners.append(entry)

        def unsubscribe() -> None:
            if entry in self._listeners:
                self._listeners.remove(entry)

        return unsubscribe

    # -- SAD -----------------------------------------------------------------------------

    def _getsah(self, index: SaIndex) -> _Sah | None:
        for sah in self._sahs:
            if sah.index.matches_request(index):
                return sah
        return None

    def add(self, sa: SecurityAssociation, *, now: float, update: bool = False, pid: int = 0, seq: int = 0) -> None:
        """``key_add`` (``update``: ``key_update``) of an SA built from an SADB_ADD. [S7.3]

        SPI <= 255 is EINVAL; an SPI already in use anywhere on the host is EEXIST;
        HARD and SOFT lifetimes come together or not at all (EINVAL). The SA is
        MATURE at once, first in its SA head. ``seq`` is the ``sadb_msg_seq`` of
        the request: an IKE daemon answering an ACQUIRE passes its seq, which
        retires the ACQUIRE entry (``key_acqdone``) [S8.1].
        """
        t = self._clock(now)
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
        sav = _Sav(sa, sah, "mature", seq, pid, t)
        sa.current.created = float(now)
        sah.alive.insert(0, sav)
        self._byspi[sa.spi] = sav
        if seq:
            self._acqdone(index, seq)
        self._sendup(self._msg("SADB_ADD", sa.proto, sa_fields(sav), seq=seq, pid=pid), "all")

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
        if sav.state == "larval":
            sav.sah.larval.remove(sav)
            sav.sa, sav.created, sav.state = sa, t, "mature"
            sav.sah.alive.insert(0, sav)
        else:
            sav.sa.lifetime_hard, sav.sa.lifetime_soft = sa.lifetime_hard, sa.lifetime_soft
            sav.state = "mature"
        self._sendup(self._msg("SADB_UPDATE", sa.proto, sa_fields(sav), pid=pid), "all")

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

    def _unlink(self, sav: _Sav) -> None:
        (sav.sah.larval if sav.state == "larval" else sav.sah.alive).remove(sav)
        del self._byspi[sav.sa.spi]
        sav.state = "dead"

    def delete(self, src: Address, dst: Address, proto: str, spi: int, *, now: float, pid: int = 0) -> None:
        """``key_delete``: remove one SA; ESRCH when the SPI or its addresses do not match. [S7.8]"""
        self._clock(now)
        sav = self._lookup(src, dst, proto, spi)
        self._unlink(sav)
        fields_ = {"sa": sa_fields(sav)["sa"]} | address_fields(sav.sah.index.src, sav.sah.index.dst)
        self._sendup(self._msg("SADB_DELETE", proto, fields_, pid=pid), "all")

    def deleteall(self, src: Address, dst: Address, proto: str, *, now: float, pid: int = 0) -> None:
        """``key_delete_all``: every alive SA with these addresses, any mode or reqid. [S7.8]"""
        self._clock(now)
        for sah in self._sahs:
            if sah.index.matches_head(proto, src, dst):
                for sav in list(sah.alive):
                    self._unlink(sav)
        self._sendup(self._msg("SADB_DELETE", proto, address_fields(src, dst), pid=pid), "all")

    def flush(self, proto: str | None = None, *, pid: int = 0) -> None:
        """``key_flush``: every SA, or those of one protocol. [S7.8]"""
        keep = []
        for sah in self._sahs:
            if proto is None or sah.index.proto == proto:
                for sav in sah.larval + sah.alive:
                    del self._byspi[sav.sa.spi]
                    sav.state = "dead"
            else:
                keep.append(sah)
        self._sahs = keep
        self._sendup(self._msg("SADB_FLUSH", proto or "unspec", {}, pid=pid), "all")

    def _records(self, proto: str | None) -> list[_Sav]:
        return [
            sav
            for sah in self._sahs
            if proto is None or sah.index.proto == proto
            for sav in sah.larval + sah.alive
        ]

    def dump(self, proto: str | None = None, *, include_dead: bool = False, pid: int = 0) -> list[SecurityAssociation]:
        """``key_dump``: newest SA head first, larval then alive SAs, newest first. [S7.9]

        ENOENT when there is nothing to dump. ``include_dead`` is setkey's ``-a``;
        FreeBSD's current key.c unlinks SAs as they die, so it adds nothing.
        Promiscuous listeners see one SADB_DUMP message per SA, seq counting down.
        """
        records = self._records(proto)
        if not records:
            raise PfkeyError("ENOENT", "no SAD entries")
        if self._promiscuous():
            for seq, sav in zip(range(len(records) - 1, -1, -1), records):
                fields_ = dump_fields(sav, self.time_second)
                msg = self._msg("SADB_DUMP", sav.sah.index.proto, fields_, seq=seq, pid=pid, reserved=1)
                self._sendup(msg, "one")
        return [sav.sa for sav in records]

    def sas(self, proto: str | None = None) -> list[SecurityAssociation]:
        """Every SA in dump order, without messages or ENOENT (for counters and reports)."""
        return [sav.sa for sav in self._records(proto)]

    def state_of(self, sa: SecurityAssociation) -> str:
        """"larval", "mature", "dying" or "dead" (no longer in the SAD). [S7.7]"""
        sav = self._byspi.get(sa.spi)
        return sav.state if sav is not None and sav.sa is sa else "dead"

    def sa_info(self, sa: SecurityAssociation) -> SaInfo:
        """The key engine's record of ``sa``, for dumps; ESRCH when it is not in the SAD."""
        sav = self._byspi.get(sa.spi)
        if sav is None or sav.sa is not sa:
            raise PfkeyError("ESRCH", f"SA with SPI {sa.spi} is not in the SAD")
        first = sa.current.firstused
        return SaInfo(sav.state, sav.sah.index, sav.created, 0 if first is None else self.time_second(first),
                      sav.seq, sav.pid)  # fmt: skip

    def allocsa_policy(
        self,
        policy: SecurityPolicy,
        request: IpsecRequest,
        *,
        now: float,
        src: Address | None = None,
        dst: Address | None = None,
    ) -> SecurityAssociation | None:
        """``key_allocsa_policy``: the SA an outbound packet under ``request`` uses, or None. [S7.1]

        The first SA head matching (proto, addresses, mode any or equal, reqid when
        the request has one); in it the oldest alive SA with
        ``net.key.preferred_oldsa`` (MATURE or DYING), else the newest. With no SA,
        an ACQUIRE goes out, rate-limited [S8.1]. Transport-mode requests without
        addresses take the packet's: pass them as ``src``/``dst``.
        """
        t = self._clock(now)
        index = SaIndex(request.proto, request.mode, request.reqid,
                        request.src if request.src is not None else src,
                        request.dst if request.dst is not None else dst)  # fmt: skip
        if index.src is None or index.dst is None:
            return None  # a transport request needs the packet's addresses: pass src/dst
        for sah in self._sahs:
            if sah.index.matches_request(index):
                if sah.alive:
                    return (sah.alive[-1] if self.knob("net.key.preferred_oldsa") else sah.alive[0]).sa
                break
        self._acquire(index, policy, t)
        return None

    def allocsa(self, dst: Address, proto: str, spi: int) -> SecurityAssociation | None:
        """``key_allocsa``: inbound lookup by SPI, then not larval, same protocol and destination. [S7.2]"""
        sav = self._byspi.get(spi)
        if sav is None or sav.state == "larval":
            return None
        index = sav.sah.index
        return sav.sa if index.proto == proto and index.dst == dst else None

    # -- ACQUIRE -------------------------------------------------------------------------

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

    # -- time ----------------------------------------------------------------------------

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

    # -- SPD -----------------------------------------------------------------------------

    def _getnewspid(self) -> int:
        """``key_getnewspid``: ++policy_id (wrapping to 1), skipping ids in use. [S4.2]"""
        for _ in range(max(self.knob("net.key.spi_trycnt"), 1)):
            self._policy_id = 1 if self._policy_id == 0xFFFFFFFF else self._policy_id + 1
            if self._policy_id not in self._byspid:
                return self._policy_id
        return 0

    def newreqid(self) -> int:
        """``key_newreqid``: 16385, 16386, ... (no uniqueness check). [S2.1]"""
        if self._auto_reqid == 0xFFFFFFFF:
            self._auto_reqid = IPSEC_MANUAL_REQID_MAX + 1
        else:
            self._auto_reqid += 1
        return self._auto_reqid

    def _msg2sp(self, policy: SecurityPolicy) -> tuple[IpsecRequest, ...]:
        """``key_msg2sp``'s checks on the requests; ``unique`` gets a reqid. [S2.6] [S10.7]"""
        if policy.policy != "ipsec":
            return ()
        if not policy.requests:
            raise PfkeyError("EINVAL", "policy requests required")
        if len(policy.requests) > IPSEC_MAXREQ:
            raise PfkeyError("EINVAL", "too many ipsecrequests")
        out = []
        for request in policy.requests:
            if request.proto not in ("esp", "ah", "ipcomp"):
                raise PfkeyError("EPROTONOSUPPORT", f"invalid proto type={request.proto}")
            if request.mode not in ("transport", "tunnel"):
                raise PfkeyError("EINVAL", f"invalid mode={request.mode}")
            if request.level not in ("default", "use", "require", "unique"):
                raise PfkeyError("EINVAL", f"invalid level={request.level}")
            if (request.src is None) != (request.dst is None):
                raise PfkeyError("EINVAL", "invalid request address length")
            if request.src is None and request.mode == "tunnel":
                raise PfkeyError("EINVAL", "missing request addresses")
            if request.src is not None and request.src.version != request.dst.version:
                raise PfkeyError("EINVAL", "address family doesn't match")
            reqid = 0
            if request.level == "unique":
                reqid = request.reqid if 0 < request.reqid <= IPSEC_MANUAL_REQID_MAX else self.newreqid()
            out.append(IpsecRequest(request.proto, request.mode, request.src, request.dst, request.level, reqid))
        return tuple(out)

    def spdadd(self, policy: SecurityPolicy, *, now: float, update: bool = False, pid: int = 0) -> SecurityPolicy:
        """``key_spdadd``: a global policy, inserted by priority with a new spid. [S7.11]

        Direction in/out and type discard/none/ipsec only (EINVAL); an identical
        selector is EEXIST unless ``update`` (SPDUPDATE replaces it). Returns the
        stored policy (``policy`` itself, its spid and reqids filled in).
        """
        self._clock(now)
        if policy.direction not in ("in", "out"):
            raise PfkeyError("EINVAL", "invalid SP direction")
        if policy.policy not in ("discard", "none", "ipsec"):
            raise PfkeyError("EINVAL", "invalid policy type")
        if policy.policy == "ipsec" and not policy.requests:
            raise PfkeyError("EINVAL", "policy requests required")
        if policy.src.version != policy.dst.version:
            raise PfkeyError("EINVAL", "invalid sockaddr")
        tree = self._sptree[policy.direction]
        old = next((sp for sp in tree if sp.same_selector(policy)), None)
        if old is not None and not update:
            raise PfkeyError("EEXIST", "a SP entry exists already")
        requests = self._msg2sp(policy)
        if old is not None:
            tree.remove(old)
            del self._byspid[old.spid]
        spid = self._getnewspid()
        if spid == 0:
            raise PfkeyError("ENOBUFS", "failed to allocate policy id")
        policy.requests, policy.spid, policy.scope, policy.ifname = requests, spid, "global", None
        policy.created = policy.lastused = float(now)
        position = next((i for i, sp in enumerate(tree) if policy.priority < sp.priority), len(tree))
        tree.insert(position, policy)
        self._byspid[spid] = policy
        kind = "SADB_X_SPDUPDATE" if update else "SADB_X_SPDADD"
        self._sendup(self._msg(kind, "unspec", policy_fields(policy, request=True), pid=pid), "all")
        return policy

    def spddelete(self, policy: SecurityPolicy, *, pid: int = 0) -> None:
        """``key_spddelete``: by selector and direction, global policies only; EINVAL if none. [S4.4]"""
        if policy.direction not in ("in", "out") or policy.policy not in ("discard", "none", "ipsec"):
            raise PfkeyError("EINVAL", "invalid SP direction or type")
        if policy.src.version != policy.dst.version:
            raise PfkeyError("EINVAL", "invalid sockaddr")
        tree = self._sptree[policy.direction]
        found = next((sp for sp in tree if sp.same_selector(policy)), None)
        if found is None:
            raise PfkeyError("EINVAL", "no SP found")
        tree.remove(found)
        del self._byspid[found.spid]
        echo = SecurityPolicy(policy.src, policy.dst, policy.sport, policy.dport, policy.ul_proto,
                              policy.direction, policy.policy, policy.requests, policy.priority, spid=found.spid)  # fmt: skip
        self._sendup(self._msg("SADB_X_SPDDELETE", "unspec", policy_fields(echo, request=True), pid=pid), "all")

    def spddelete2(self, spid: int, *, pid: int = 0) -> None:
        """``key_spddelete2``: by spid; EINVAL if unknown, EACCES for an ifnet policy. [S4.4]"""
        found = self._byspid.get(spid)
        if found is None:
            raise PfkeyError("EINVAL", f"no SP found for id {spid}")
        if found.scope == "ifnet":
            raise PfkeyError("EACCES", f"failed to delete SP with id {spid}")
        self._sptree[found.direction].remove(found)
        del self._byspid[spid]
        fields_ = {"policy": {"type": "discard", "dir": "any", "id": spid, "scope": "any", "priority": 0}}
        self._sendup(self._msg("SADB_X_SPDDELETE2", "unspec", fields_, pid=pid), "all")

    def spdflush(self, *, pid: int = 0) -> None:
        """``key_spdflush``: every global policy; ifnet ones stay. [S4.4]"""
        for tree in self._sptree.values():
            for sp in tree:
                del self._byspid[sp.spid]
            tree.clear()
        self._sendup(self._msg("SADB_X_SPDFLUSH", "unspec", {}, pid=pid), "all")

    def spddump(self, scope: str = "any", *, pid: int = 0) -> list[SecurityPolicy]:
        """``key_spddump``: per direction (in, out) global then ifnet, each in list order. [S7.10]

        ``scope`` "global" is setkey ``-g``, "ifnet" ``-t``. ENOENT when empty.
        """
        out: list[SecurityPolicy] = []
        for direction in ("in", "out"):
            if scope in ("any", "global"):
                out += self._sptree[direction]
            if scope in ("any", "ifnet"):
                out += self._sptree_ifnet[direction]
        if not out:
            raise PfkeyError("ENOENT", "no SPD entries")
        if self._promiscuous():
            for seq, sp in zip(range(len(out) - 1, -1, -1), out):
                self._sendup(self._msg("SADB_X_SPDDUMP", "unspec", policy_fields(sp), seq=seq, pid=pid, reserved=1), "one")
        return out

    def register_ifnet(self, policies: list[SecurityPolicy], *, now: float) -> None:
        """``key_register_ifnet``: spids for every policy first (EAGAIN if none), then the ifnet
        lists and one SADB_X_SPDADD broadcast each. [S4.2]"""
        self._clock(now)
        spids: list[int] = []
        for _ in policies:
            spid = self._getnewspid()
            if spid == 0:
                for taken in spids:
                    del self._byspid[taken]
                raise PfkeyError("EAGAIN", "failed to allocate policy id")
            spids.append(spid)
            self._byspid[spid] = None  # type: ignore[assignment]  # reserved while allocating
        for policy, spid in zip(policies, spids):
            policy.spid, policy.scope, policy.created = spid, "ifnet", float(now)
            self._sptree_ifnet[policy.direction].append(policy)
            self._byspid[spid] = policy
        for policy in policies:
            self._sendup(self._msg("SADB_X_SPDADD", "unspec", policy_fields(policy), reserved=1), "all")

    def unregister_ifnet(self, policies: list[SecurityPolicy]) -> None:
        """``key_unregister_ifnet``: remove them and broadcast SADB_X_SPDDELETE each. [S4.2]"""
        for policy in policies:
            tree = self._sptree_ifnet[policy.direction]
            if any(sp is policy for sp in tree):
                tree.remove(policy)
                self._byspid.pop(policy.spid, None)
        for policy in policies:
            self._sendup(self._msg("SADB_X_SPDDELETE", "unspec", policy_fields(policy), reserved=1), "all")

    def allocsp(self, direction: str, src: Address, dst: Address, ul_proto: int, sport: int, dport: int):
        """``key_allocsp``: the first global policy of ``direction`` matching, in priority order. [S4.3]"""
        for sp in self._sptree[direction]:
            if sp.matches(src, dst, ul_proto, sport, dport):
                sp.lastused = self._now
                return sp
        return None

    def has_global_policies(self) -> bool:
        return bool(self._sptree["in"] or self._sptree["out"])

    def level_of(self, policy: SecurityPolicy, request: IpsecRequest) -> str:
        """``ipsec_get_reqlevel``: "use", "require" or "unique". [S4.5] [S10.8]

        ifnet policies are always "require"; "default" follows
        ``net.inet.ipsec.{esp,ah}_{trans,net}_deflev`` (1 use, 2 require, 3 unique).
        """
        if policy.scope == "ifnet":
            return "require"
        if request.level != "default":
            return request.level
        if request.proto == "ipcomp":
            return "use"
        family = "net.inet6.ipsec6" if policy.src.version == 6 else "net.inet.ipsec"
        name = f"{'ah' if request.proto == 'ah' else 'esp'}_{'net' if request.mode == 'tunnel' else 'trans'}_deflev"
        value = self.sysctl.get(f"{family}.{name}")
        if value is None:
            value = self.sysctl.get(f"net.inet.ipsec.{name}", 1)
        return {2: "require", 3: "unique"}.get(value, "use")
