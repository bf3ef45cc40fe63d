"""One ESP security association: its identity, keys, counters and lifetimes (``struct secasvar``).

The key engine owns lookup, states and expiry; this object holds what it needs
[S7.3] [S7.6] and does the per-packet work via :mod:`.esp` with the per-SA plan
that :mod:`._plan` builds when the SA is made (FreeBSD's ``esp_init``).
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from typing import Final, NewType

from . import esp
from ._plan import EspPlan
from .algorithms import (
    SADB_X_EXT_CYCSEQ,
    SADB_X_SAFLAGS_ESN,
    AuthAlgorithm,
    EncAlgorithm,
    auth_algorithm,
    check_kernel_keys,
    enc_algorithm,
)
from .enums import Mode
from .errors import SetkeyError
from .outer import ip_id_counter, OuterHeaderConfig
from .replay import ReplayWindow
from .stats import EspStat
from .xform import EspTransform, esp_init

__all__ = ["SecurityAssociation", "Lifetime", "LifetimeCurrent", "MODES", "Spi", "ReqId"]

# The SA's identity numbers, told apart by the type checker (both are plain ints at run
# time): an SPI is the 32-bit index in the ESP header [S7.3], a reqid ties an SA to the
# policies that ask for it (if_ipsec allocates one per interface).
Spi = NewType("Spi", int)
ReqId = NewType("ReqId", int)

MODES = tuple(Mode)  # IPSEC_MODE_ANY 0, TRANSPORT 1, TUNNEL 2 [S10.5]
_MAX_REPLAY_BITS: Final = 0xFFFFFFFF - 32  # key_setsaval: larger windows are EINVAL [S7.4]


@dataclass(frozen=True, slots=True)
class Lifetime:
    """A HARD or SOFT lifetime limit (``sadb_lifetime``); 0 means no limit. [S7.6]

    setkey's ``-lh``/``-ls`` set ``addtime`` only. [S10.5]
    """

    allocations: int = 0
    bytes: int = 0
    addtime: int = 0
    usetime: int = 0


@dataclass(slots=True)
class LifetimeCurrent:
    """The CURRENT lifetime (``lft_c``): what ``key_sa_recordxfer`` counts, and times. [S7.3] [S7.6]

    ``firstused`` is ``None`` until the first packet (FreeBSD stores 0).
    """

    allocations: int = 0
    bytes: int = 0
    created: float = 0.0
    firstused: float | None = None

    def record(self, nbytes: int, now: float) -> None:
        self.bytes += nbytes
        self.allocations += 1
        if self.firstused is None:
            self.firstused = now


class SecurityAssociation:
    """An ESP SA as FreeBSD's kernel holds it, usable alone like scapy's.

    Keyword-only; names follow setkey's ``add`` [S10.4]-[S10.6]:

    * ``src``/``dst``: outer addresses (str or ``ipaddress`` objects, one family);
    * ``spi``: > 255 [S7.3]; ``mode``: "any" (setkey's default), "tunnel", "transport";
    * ``enc``/``enc_key``: setkey name and key (salt included for aes-ctr,
      aes-gcm-16, chacha20-poly1305); ``auth``/``auth_key``: name or ``None``;
    * ``reqid``, ``replay_window`` (bytes, setkey ``-r``; 0 = no anti-replay),
      ``flags`` (``sadb_sa_flags``: CYCSEQ by default, PZERO/PRAND padding, ESN);
    * ``lifetime_hard``/``lifetime_soft``: both or neither [S7.3];
    * ``created``: simulated time of creation; ``rng``: where CBC IVs, random
      padding and the IP ID seed come from (default ``random.SystemRandom()``);
    * ``outer``: the host's :class:`OuterHeaderConfig` (default: a private one).

    The kernel's refusals raise :class:`SetkeyError` (kind "kernel", "Invalid argument").

    State for the key engine: ``stats`` (this SA's ``espstat`` counters),
    ``current`` (bytes, allocations, created and first-use times, for lifetimes),
    ``replay.count`` (what ``setkey -D`` prints as ``seq=``), ``cntr`` (the next
    counter IV). CBC IVs are drawn from ``rng`` as they go on the wire.

    ``plan`` is the ESP transform's per-SA plan (:class:`~._plan.EspPlan`, built once
    here as ``esp_init`` does): what the per-packet code reads by name.
    """

    __slots__ = (
        "src",
        "dst",
        "spi",
        "proto",
        "mode",
        "reqid",
        "flags",
        "enc",
        "auth",
        "replay",
        "stats",
        "current",
        "lifetime_hard",
        "lifetime_soft",
        "outer",
        "rng",
        "cntr",
        "_enc_key",
        "_auth_key",
        "_esn",
        "_ctr_compat",
        # The ESP transform's per-SA plan (esp_init): constants and crypto, by name; see _plan.py.
        "plan",
    )

    def __init__(
        self,
        *,
        src: str | ipaddress.IPv4Address | ipaddress.IPv6Address,
        dst: str | ipaddress.IPv4Address | ipaddress.IPv6Address,
        spi: int,
        enc: str | EncAlgorithm = "null",
        enc_key: bytes = b"",
        auth: str | AuthAlgorithm | None = None,
        auth_key: bytes = b"",
        mode: Mode | str = Mode.ANY,
        reqid: int = 0,
        replay_window: int = 0,
        flags: int = SADB_X_EXT_CYCSEQ,
        lifetime_hard: Lifetime | None = None,
        lifetime_soft: Lifetime | None = None,
        created: float = 0.0,
        rng: random.Random | None = None,
        outer: OuterHeaderConfig | None = None,
        ctr_compatibility: bool = True,
    ):
        def einval(detail: str) -> SetkeyError:
            return SetkeyError("Invalid argument", kind="kernel", errno="EINVAL", detail=detail)

        try:
            self.src = ipaddress.ip_address(src)
            self.dst = ipaddress.ip_address(dst)
        except ValueError as e:
            raise einval(str(e)) from None
        if self.src.version != self.dst.version:
            raise einval("source and destination address families differ")
        if not 255 < spi <= 0xFFFFFFFF:
            raise einval("SPI must be 256..4294967295 for ESP")  # key_add [S7.3]
        if mode not in MODES:
            raise einval(f"mode must be one of {', '.join(MODES)}")
        if (lifetime_hard is None) != (lifetime_soft is None):
            raise einval("HARD and SOFT lifetimes go together")  # key_add [S7.3]
        if replay_window < 0 or replay_window * 8 > _MAX_REPLAY_BITS:
            raise einval("replay window too large")
        try:
            self.enc = enc if isinstance(enc, EncAlgorithm) else enc_algorithm(enc)
            self.auth = auth if auth is None or isinstance(auth, AuthAlgorithm) else auth_algorithm(auth)
        except KeyError as e:
            raise einval(f"algorithm {e.args[0]} is not supported") from None
        check_kernel_keys(self.enc, enc_key, self.auth, auth_key)
        self.spi = Spi(spi)
        self.proto = "esp"
        self.mode = Mode(mode)
        self.reqid = ReqId(reqid)
        self.flags = flags
        self._esn = bool(flags & SADB_X_SAFLAGS_ESN)
        self.replay = ReplayWindow(replay_window, esn=self._esn, cyclic=bool(flags & SADB_X_EXT_CYCSEQ))
        self.stats = EspStat()
        self.current = LifetimeCurrent(created=created)
        self.lifetime_hard = lifetime_hard
        self.lifetime_soft = lifetime_soft
        self.rng = rng if rng is not None else random.SystemRandom()
        self.outer = outer if outer is not None else OuterHeaderConfig(next_ip_id=ip_id_counter(self.rng.getrandbits(16)))
        self.cntr = 0  # sav->cntr: explicit IV of CTR/GCM/ChaCha20, from 0 [S6.7]
        self._enc_key = bytearray(enc_key)
        self._auth_key = bytearray(auth_key)
        self.stats.esps_hist[self.enc.sadb_id] = 0
        self._ctr_compat = ctr_compatibility
        xf = esp_init(self.enc, bytes(enc_key), self.auth, bytes(auth_key), self._esn)
        self.plan = EspPlan(self, xf, ctr_compatibility=ctr_compatibility)

    @classmethod
    def from_setkey(
        cls, line: str, rng: random.Random | None = None, *, now: float = 0.0, outer: OuterHeaderConfig | None = None
    ) -> SecurityAssociation:
        """Build the SA one setkey ``add`` statement describes, or raise what setkey prints.

        ``'add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!1";'``
        """
        from .setkey_syntax import parse_add

        cmd = parse_add(line)
        try:
            return cls(**cmd.sa_arguments(), created=now, rng=rng, outer=outer)
        except SetkeyError as e:
            raise SetkeyError(e.message, kind=e.kind, lineno=cmd.lineno, errno=e.errno, detail=e.detail) from None

    @property
    def ctr_compatibility(self) -> bool:
        """``net.inet.esp.ctr_compatibility``: pad AES-CTR payloads to 16 bytes (default on). [S6.5]"""
        return self._ctr_compat

    @ctr_compatibility.setter
    def ctr_compatibility(self, on: bool) -> None:
        # FreeBSD's esp_output reads the sysctl per packet; the padding tables it decides
        # are part of the plan, so a change builds a new plan around the same crypto.
        self._ctr_compat = on
        if not self.plan.zeroized:
            self.plan = EspPlan(self, self.plan.xf, ctr_compatibility=on)

    @property
    def created(self) -> float:
        """Simulated time the SA was added (``sav->created``). [S7.3]"""
        return self.current.created

    @property
    def esn(self) -> bool:
        """Extended sequence numbers: 64-bit counter, high half only in the ICV/AAD."""
        return self._esn

    @property
    def enc_key(self) -> bytes:
        """The encryption key as given (salt included), for ``setkey -D`` and Wireshark export."""
        return bytes(self._enc_key)

    @property
    def auth_key(self) -> bytes:
        return bytes(self._auth_key)

    @property
    def icv_len(self) -> int:
        return self.plan.icv_len

    @property
    def _xf(self) -> EspTransform:
        """The crypto transform (``esp_init``'s session), for tests against RFC vectors."""
        return self.plan.xf

    def encapsulate(self, inner: bytes, *, now: float = 0.0, outer: OuterHeaderConfig | None = None,
                    mode: str | None = None) -> bytes:
        """Protect one IP packet: see :func:`esp.esp_output` (the kernel calls that directly)."""
        return esp.esp_output(self, inner, now=now, outer=outer, mode=mode)

    def decapsulate(self, packet: bytes, *, now: float = 0.0) -> bytes:
        """Check, decrypt and strip one ESP packet: see :func:`esp.decapsulate`."""
        return esp.decapsulate(self, packet, now=now)

    def zeroize(self) -> None:
        """Wipe the keys and drop the crypto objects (``esp_cleanup`` on SA delete).

        Packets still handed to a deleted SA are dropped as ``esps_notdb``, as
        ``esp_input_cb`` does for an SA that died during crypto.
        """
        for key in (self._enc_key, self._auth_key):
            key[:] = bytes(len(key))
        self.plan.zeroize()

    def __repr__(self) -> str:
        # Keys never appear here nor in any log line. [issue 3]
        auth = self.auth.name if self.auth else "none"
        return (
            f"<SecurityAssociation esp {self.src}->{self.dst} spi={self.spi}(0x{self.spi:08x}) "
            f"mode={self.mode} reqid={self.reqid} enc={self.enc.name} auth={auth} "
            f"replay={self.replay.wsize} seq={self.replay.count}>"
        )
