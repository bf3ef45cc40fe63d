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

Layout: :class:`KeyDB` below holds the state, the knobs and the clock; its parts
are mixins in private modules beside this one: ``_keysock`` (listeners),
``_sad``, ``_acquire``, ``_timer`` (``key_timehandler``) and ``_spd``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from ipaddress import IPv4Address, IPv6Address

from ._acquire import AcquireMixin, _Acq
from ._keysock import KeysockMixin, _Listener
from ._sad import SadMixin, SaInfo, _Sah, _Sav
from ._spd import SpdMixin
from ._timer import TimerMixin
from .policy import IPSEC_MANUAL_REQID_MAX, SaIndex, SecurityPolicy

__all__ = ["KeyDB", "IpsecStat", "SaInfo", "BOOT_EPOCH"]

Address = IPv4Address | IPv6Address
BOOT_EPOCH = 1767225600  # 2026-01-01 00:00:00 UTC: the simulated clock's time_second at now == 0


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


class KeyDB(KeysockMixin, SadMixin, AcquireMixin, TimerMixin, SpdMixin):
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
        self._sahs_by_addr: dict[tuple, list[_Sah]] = {}  # the same heads by (proto, src, dst), newest first
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
