"""The key engine of one host: SAD, SPD, ACQUIRE and lifetimes, as FreeBSD's ``key.c``.

:class:`KeyDB` is the façade the kernel and userland call (the requests a PF_KEY
message makes, and the kernel's lookups); it builds its parts and hands each what
it needs, so each can be built and tested alone:

* :class:`~.keyclock.KeyClock` and :class:`~.keyclock.KeyKnobs`: the time every part
  reads (``now`` comes in with each request, sans-IO) and the ``net.key.*`` sysctls;
* :class:`~.keysock.KeySocket`: the PF_KEY listeners and who gets which message;
* :class:`~.acquire.Acquire`: ACQUIRE entries, on the key socket;
* :class:`~.sad.Sad`: SA heads and SAs, on the key socket, asking ``Acquire`` when an
  outbound packet finds no SA; its SAs' states move by :mod:`.sastate`'s table;
* :class:`~.spd.Spd`: global and ifnet policies, on the key socket and the
  :class:`~.reqid.ReqidCounter` (``key_newreqid``); it does not know the SAD;
* :class:`~.keytimer.KeyTimer`: ``key_timehandler`` over the SAD and ACQUIRE.

The kernel calls :meth:`KeyDB.tick` once a simulated second [S7.6].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from ipaddress import IPv4Address, IPv6Address
import random
from typing import ClassVar

from .acquire import Acquire
from .enums import Level, SaState
from .keyclock import BOOT_EPOCH, KNOBS, KeyClock, KeyKnobs, SysctlTree
from .keysock import KeySocket
from .keytimer import KeyTimer
from .pfkey import PfkeyMessage
from .policy import IpsecRequest, SecurityPolicy
from .reqid import ReqidCounter
from .sa import SecurityAssociation
from .sad import Sad, SaInfo
from .spd import Spd

__all__ = ["KeyDB", "IpsecStat", "SaInfo", "BOOT_EPOCH"]

Address = IPv4Address | IPv6Address


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


class KeyDB:
    """One host's key engine (one VNET's worth of key.c state), composed of its parts.

    Each method is a request or lookup of key.c, answered by the part that owns the
    state (its docstring says more); the parts are attributes for callers that want
    one directly (``keydb.sad``, ``keydb.spd``, ``keydb.keysock``...).
    """

    KNOBS: ClassVar = KNOBS  # (name, default, description, minimum, maximum): the kernel registers these [S7.12]

    def __init__(self, *, sysctl: SysctlTree, rng: random.Random, epoch: int = BOOT_EPOCH):
        self.sysctl = sysctl
        self.rng = rng  # for key_getspi's random SPIs, which ipsecsim does not model yet
        self.epoch = epoch
        self.stats = IpsecStat()
        self.clock = KeyClock(epoch)
        self.knob = KeyKnobs(sysctl)
        self.keysock = KeySocket(self.clock)
        self.newreqid = ReqidCounter()  # key_newreqid(): call it
        self.acquire = Acquire(self.knob, self.keysock)
        self.sad = Sad(self.clock, self.knob, self.keysock, self.acquire)
        self.spd = Spd(self.clock, self.knob, sysctl, self.keysock, self.newreqid)
        self.timer = KeyTimer(self.clock, self.sad, self.acquire)

    def time_second(self, now: float) -> int:
        """The kernel's ``time_second`` at simulated time ``now``."""
        return self.clock.time_second(now)

    def subscribe(self, listener: Callable[[PfkeyMessage], None], *, satypes: tuple[str, ...] = ("esp",),
                  promiscuous: bool = False) -> Callable[[], None]:  # fmt: skip
        """Open a PF_KEY socket (:meth:`.keysock.KeySocket.subscribe`); returns its close function."""
        return self.keysock.subscribe(listener, satypes=satypes, promiscuous=promiscuous)

    # -- the SAD -----------------------------------------------------------------------------------

    def add(self, sa: SecurityAssociation, *, now: float, update: bool = False, pid: int = 0, seq: int = 0) -> None:
        """``key_add`` / ``key_update`` (:meth:`.sad.Sad.add`). [S7.3]"""
        self.sad.add(sa, now=now, update=update, pid=pid, seq=seq)

    def get(self, src: Address, dst: Address, proto: str, spi: int) -> SecurityAssociation:
        """``key_get`` (:meth:`.sad.Sad.get`). [S7.8]"""
        return self.sad.get(src, dst, proto, spi)

    def delete(self, src: Address, dst: Address, proto: str, spi: int, *, now: float, pid: int = 0) -> None:
        """``key_delete`` (:meth:`.sad.Sad.delete`). [S7.8]"""
        self.sad.delete(src, dst, proto, spi, now=now, pid=pid)

    def deleteall(self, src: Address, dst: Address, proto: str, *, now: float, pid: int = 0) -> None:
        """``key_delete_all`` (:meth:`.sad.Sad.deleteall`). [S7.8]"""
        self.sad.deleteall(src, dst, proto, now=now, pid=pid)

    def flush(self, proto: str | None = None, *, pid: int = 0) -> None:
        """``key_flush`` (:meth:`.sad.Sad.flush`). [S7.8]"""
        self.sad.flush(proto, pid=pid)

    def dump(self, proto: str | None = None, *, include_dead: bool = False, pid: int = 0,
             now: float | None = None) -> list[SecurityAssociation]:  # fmt: skip
        """``key_dump`` (:meth:`.sad.Sad.dump`): ENOENT when empty. [S7.9]"""
        return self.sad.dump(proto, include_dead=include_dead, pid=pid, now=now)

    def sas(self, proto: str | None = None) -> list[SecurityAssociation]:
        """Every SA in dump order, without messages or ENOENT (for counters and reports)."""
        return self.sad.sas(proto)

    def state_of(self, sa: SecurityAssociation) -> SaState:
        """The SA's state; DEAD when it is no longer in the SAD. [S7.7]"""
        return self.sad.state_of(sa)

    def sa_info(self, sa: SecurityAssociation) -> SaInfo:
        """The key engine's record of ``sa`` (:meth:`.sad.Sad.sa_info`); ESRCH when not in the SAD."""
        return self.sad.sa_info(sa)

    def allocsa_policy(self, policy: SecurityPolicy, request: IpsecRequest, *, now: float,
                       src: Address | None = None, dst: Address | None = None) -> SecurityAssociation | None:  # fmt: skip
        """``key_allocsa_policy`` (:meth:`.sad.Sad.allocsa_policy`): outbound SA or None (and ACQUIRE). [S7.1]"""
        return self.sad.allocsa_policy(policy, request, now=now, src=src, dst=dst)

    def allocsa(self, dst: Address, proto: str, spi: int) -> SecurityAssociation | None:
        """``key_allocsa`` (:meth:`.sad.Sad.allocsa`): the inbound SA or None. [S7.2]"""
        return self.sad.allocsa(dst, proto, spi)

    # -- the SPD -----------------------------------------------------------------------------------

    def spdadd(self, policy: SecurityPolicy, *, now: float, update: bool = False, pid: int = 0) -> SecurityPolicy:
        """``key_spdadd`` (:meth:`.spd.Spd.spdadd`); returns the stored policy. [S7.11]"""
        return self.spd.spdadd(policy, now=now, update=update, pid=pid)

    def spddelete(self, policy: SecurityPolicy, *, pid: int = 0) -> None:
        """``key_spddelete`` (:meth:`.spd.Spd.spddelete`). [S4.4]"""
        self.spd.spddelete(policy, pid=pid)

    def spddelete2(self, spid: int, *, pid: int = 0) -> None:
        """``key_spddelete2`` (:meth:`.spd.Spd.spddelete2`). [S4.4]"""
        self.spd.spddelete2(spid, pid=pid)

    def spdflush(self, *, pid: int = 0) -> None:
        """``key_spdflush`` (:meth:`.spd.Spd.spdflush`): global policies only. [S4.4]"""
        self.spd.spdflush(pid=pid)

    def spddump(self, scope: str = "any", *, pid: int = 0, now: float | None = None) -> list[SecurityPolicy]:
        """``key_spddump`` (:meth:`.spd.Spd.spddump`): ENOENT when empty. [S7.10]"""
        return self.spd.spddump(scope, pid=pid, now=now)

    def register_ifnet(self, policies: list[SecurityPolicy], *, now: float) -> None:
        """``key_register_ifnet`` (:meth:`.spd.Spd.register_ifnet`). [S4.2]"""
        self.spd.register_ifnet(policies, now=now)

    def unregister_ifnet(self, policies: list[SecurityPolicy]) -> None:
        """``key_unregister_ifnet`` (:meth:`.spd.Spd.unregister_ifnet`). [S4.2]"""
        self.spd.unregister_ifnet(policies)

    def allocsp(self, direction: str, src: Address, dst: Address, ul_proto: int, sport: int,
                dport: int) -> SecurityPolicy | None:  # fmt: skip
        """``key_allocsp`` (:meth:`.spd.Spd.allocsp`): the global policy a packet falls under. [S4.3]"""
        return self.spd.allocsp(direction, src, dst, ul_proto, sport, dport)

    def has_global_policies(self) -> bool:
        """Whether the SPD has any global policy (without one, ip_output skips IPsec)."""
        return self.spd.has_global_policies()

    def level_of(self, policy: SecurityPolicy, request: IpsecRequest) -> Level:
        """``ipsec_get_reqlevel`` (:meth:`.spd.Spd.level_of`). [S4.5]"""
        return self.spd.level_of(policy, request)

    # -- the timer ---------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """``key_timehandler`` (:meth:`.keytimer.KeyTimer.tick`), once a simulated second. [S7.6]"""
        self.timer.tick(now)

    def needs_ticks(self) -> bool:
        """Whether :meth:`tick` can change anything."""
        return self.timer.needs_ticks()
