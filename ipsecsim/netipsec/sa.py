"""One ESP security association: its identity, keys, counters and lifetimes (``struct secasvar``).

The key engine (a later issue) owns lookup, states and expiry; this object holds
what it needs [S7.3] [S7.6] and does the per-packet work via :mod:`.esp`.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from . import esp
from .algorithms import (
    SADB_X_EXT_CYCSEQ,
    SADB_X_EXT_PMASK,
    SADB_X_EXT_PRAND,
    SADB_X_SAFLAGS_ESN,
    AuthAlgorithm,
    EncAlgorithm,
    auth_algorithm,
    check_kernel_keys,
    enc_algorithm,
)
from .enums import Mode
from .errors import EspNotdb, SetkeyError
from .esp import trailer
from .outer import IPPROTO_ESP, ip_id_counter, OuterHeaderConfig
from .replay import ReplayWindow
from .stats import EspStat
from .xform import esp_init

__all__ = ["SecurityAssociation", "Lifetime", "LifetimeCurrent", "MODES"]

MODES = tuple(Mode)  # IPSEC_MODE_ANY 0, TRANSPORT 1, TUNNEL 2 [S10.5]
_MAX_REPLAY_BITS = 0xFFFFFFFF - 32  # key_setsaval: larger windows are EINVAL [S7.4]


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


def _dead_sa(*_args: object) -> bytes:
    raise EspNotdb("SA deleted")


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
        "_xf",
        "_family",
        "_hlen",
        "_alen",
        "_pad_block",
        "_ctr_compat",
        "_encap_mode",
        "_esn",
        # Per-packet constants, computed once here (esp_init's spirit): see esp.py.
        "_seal",
        "_open",
        "_alg_id",
        "_iv_kind",
        "_pad_style",
        "_padlens",
        "_tx",
        "_rx",
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
        self.spi = spi
        self.proto = "esp"
        self.mode = Mode(mode)
        self.reqid = reqid
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
        self._xf = esp_init(self.enc, bytes(enc_key), self.auth, bytes(auth_key), self._esn)
        self._family = self.src.version
        self._hlen = 8 + self.enc.iv_len  # struct newesp + IV [S6.4]
        self._alen = self._xf.icv_len
        self._encap_mode = "transport" if mode == "transport" else "tunnel"
        self._seal = self._xf.seal
        self._open = self._xf.open
        self._alg_id = self.enc.sadb_id
        self.stats.esps_hist[self._alg_id] = 0
        self._iv_kind = 1 if self.enc.counter_iv else 2 if self.enc.iv_len else 0
        self._pad_style = flags & SADB_X_EXT_PMASK
        self.ctr_compatibility = ctr_compatibility  # sets the padding tables and _freeze()s

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
        self._ctr_compat = on
        blks = self.enc.pad_block if on or self.enc.name != "aes-ctr" else max(4, self.enc.blocksize)
        self._pad_block = blks
        # padding = ((blks - ((rlen + 2) % blks)) % blks) + 2, less the two trailer bytes [S6.5]
        self._padlens = [(blks - (r + 2) % blks) % blks for r in range(blks)]
        self._freeze()

    def _freeze(self) -> None:
        """Gather what the per-packet code reads into two tuples, one read each (esp.py).

        Trailer tables per payload length mod ``blks`` for next header 4 and 41
        (``None`` with random padding), the outer header's constant checksum words,
        and the input path's conditions: early replay check only with an ICV and a
        window [S7.5], ESN high half in the AEAD AAD only with a window (DERIVED from
        esp_input), outer header stripped unless the mode is transport [S9.3].
        """
        blks, src, dst = self._pad_block, self.src.packed, self.dst.packed
        fixed = self._pad_style != SADB_X_EXT_PRAND
        csum_base = 0x4500 + IPPROTO_ESP + sum(int.from_bytes(a[i : i + 2], "big") for a in (src, dst) for i in (0, 2))
        wsize = self.replay.wsize
        self._tx = (
            blks,
            [trailer(self, r, 4) for r in range(blks)] if fixed else None,
            [trailer(self, r, 41) for r in range(blks)] if fixed else None,
            (20 if self._family == 4 else 40) + self._hlen + self._alen,
            self._family,
            csum_base,
            src + dst,
            self.spi,
            self._iv_kind,
            self._seal,
            self._alg_id,
        )
        self._rx = (
            self.spi,
            dst,
            self._hlen,
            self._alen,
            self.enc.blocksize - 1,
            bool(self._alen and wsize),
            self._open,
            self._esn and wsize != 0,
            self._alg_id,
            fixed,
            self.mode != "transport",
        )

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
        return self._alen

    encapsulate = esp.encapsulate
    decapsulate = esp.decapsulate

    def zeroize(self) -> None:
        """Wipe the keys and drop the crypto objects (``esp_cleanup`` on SA delete).

        Packets still handed to a deleted SA are dropped as ``esps_notdb``, as
        ``esp_input_cb`` does for an SA that died during crypto.
        """
        for key in (self._enc_key, self._auth_key):
            key[:] = bytes(len(key))
        self._xf.zeroize()
        self._seal = self._open = _dead_sa
        self._freeze()


    def __repr__(self) -> str:
        # Keys never appear here nor in any log line. [issue 3]
        auth = self.auth.name if self.auth else "none"
        return (
            f"<SecurityAssociation esp {self.src}->{self.dst} spi={self.spi}(0x{self.spi:08x}) "
            f"mode={self.mode} reqid={self.reqid} enc={self.enc.name} auth={auth} "
            f"replay={self.replay.wsize} seq={self.replay.count}>"
        )
