"""The per-SA plan of the ESP transform: everything ``esp_output``/``esp_input`` need that
depends only on the SA, built once when the SA is made (FreeBSD's ``esp_init``).

FreeBSD's ``esp_init`` runs once per SA: it checks the keys, sets ``sav->ivlen`` and opens
the crypto session; per packet ``esp_output``/``esp_input`` only fill a request. Here the
plan also carries what Python would otherwise recompute per packet (docs/performance.md):
trailer tables per payload length, the outer header's constant checksum words, the
packed addresses, and the AEAD key object's bound method with its salt (as aioquic's
``CryptoContext`` keeps its AEAD). Per-SA state that changes per packet (sequence
counter, IV counter, statistics, lifetimes) stays on the SA.

A plan is immutable once built; a change of what it depends on
(``net.inet.esp.ctr_compatibility``) builds a new one around the same crypto transform,
and :meth:`EspPlan.zeroize` (``esp_cleanup``) makes every later packet an
``esps_notdb`` drop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from ..packet.ipversion import IPV4, IPV6, IpVersion
from .algorithms import SADB_X_EXT_PMASK, SADB_X_EXT_PRAND
from .errors import EspNotdb
from .xform import EspTransform

if TYPE_CHECKING:
    from random import Random

    from .sa import SecurityAssociation, Spi

__all__ = ["EspPlan", "SEQ_PAD", "IV_NONE", "IV_COUNTER", "IV_RANDOM", "trailer"]

IPPROTO_ESP: Final = 50
# The explicit IV: none (NULL), a per-SA counter (CTR, GCM, ChaCha20) [S6.7], random (CBC)
IV_NONE: Final = 0
IV_COUNTER: Final = 1
IV_RANDOM: Final = 2
SEQ_PAD = [bytes(range(1, n + 1)) for n in range(256)]  # self-describing padding 1, 2, 3, ... [S6.5]


def trailer(padlen: int, nh: int, pad_style: int, rng: Random) -> bytes:
    """Padding, pad length and next header: ``padlen`` bytes 1, 2, 3, ... (default), zeros or random. [S6.5]"""
    if pad_style == 0:
        return SEQ_PAD[padlen] + bytes((padlen, nh))
    if pad_style == SADB_X_EXT_PRAND:
        return rng.randbytes(padlen) + bytes((padlen, nh))
    # PZERO, and PRAND|PZERO for which esp_output writes nothing at all: zeros here
    # (FreeBSD leaves whatever m_pad's buffer held; UNCONFIRMED).
    return bytes(padlen) + bytes((padlen, nh))


def _dead(*_args: object) -> bytes:
    raise EspNotdb("SA deleted")


class EspPlan:
    """One SA's ESP constants and crypto, by name. Built once per SA; see the module doc.

    Layout [S6.4]: ``[outer IP][SPI 4][Seq 4][IV iv_len][payload][padding][pad length][next header][ICV icv_len]``.

    * ``xf``: the crypto transform (:func:`.xform.esp_init`); ``seal``/``open`` its
      per-packet calls; ``aead_encrypt``/``aead_decrypt`` and ``salt`` the AEAD key
      object's bound methods for the inlined AEAD path (``None`` for the others);
    * ``family`` (4 or 6), ``spi``, ``dst`` (packed), ``addrs`` (source || destination,
      packed, as the outer header holds them), ``csum_base`` (the IPv4 outer header's
      constant checksum words: version/IHL, protocol, addresses);
    * ``hlen`` (ESP header + IV), ``iv_len``, ``iv_kind`` (``IV_NONE``, ``IV_COUNTER``,
      ``IV_RANDOM``), ``icv_len``, ``overhead`` (tunnel outer header + ``hlen`` + ICV),
      ``blockmask`` (the input payload must be a multiple of the cipher block);
    * padding: ``pad_block`` (``esp_output``'s ``blks``), ``padlens`` (padding per payload
      length mod ``pad_block``), ``pad_style`` (PZERO/PRAND bits), ``trailers4``/``trailers41``
      (whole trailers per length mod ``pad_block`` for next header 4 and 41, ``None``
      with random padding), ``check_pad`` (input checks the 1, 2, 3 ... pattern);
    * input rules: ``early_replay`` (check the window before crypto: only with an ICV
      and a window [S7.5]), ``esn_aad`` (the ESN high half goes into an AEAD's AAD on
      input: only with a window, DERIVED from ``esp_input``), ``strip`` (strip the outer
      header for next header 4/41: unless the SA is transport mode [S9.3]);
    * ``encap_mode``: "tunnel", or "transport" for a transport-mode SA (mode "any" tunnels).
    """

    __slots__ = (
        "xf",
        "seal",
        "open",
        "aead_encrypt",
        "aead_decrypt",
        "salt",
        "esn",
        "alg_id",
        "family",
        "spi",
        "dst",
        "addrs",
        "csum_base",
        "hlen",
        "iv_len",
        "iv_kind",
        "icv_len",
        "overhead",
        "blockmask",
        "pad_block",
        "padlens",
        "pad_style",
        "trailers4",
        "trailers41",
        "check_pad",
        "early_replay",
        "esn_aad",
        "strip",
        "encap_mode",
    )

    xf: EspTransform
    seal: Callable[[bytes, int, bytes, bytes], bytes]
    open: Callable[[bytes, int, int, bool], bytes]
    aead_encrypt: Callable[[bytes, bytes, bytes], bytes] | None
    aead_decrypt: Callable[[bytes, bytes, bytes], bytes] | None
    salt: bytes
    esn: bool
    alg_id: int
    family: IpVersion
    spi: Spi
    dst: bytes
    addrs: bytes
    csum_base: int
    hlen: int
    iv_len: int
    iv_kind: int
    icv_len: int
    overhead: int
    blockmask: int
    pad_block: int
    padlens: list[int]
    pad_style: int
    trailers4: list[bytes] | None
    trailers41: list[bytes] | None
    check_pad: bool
    early_replay: bool
    esn_aad: bool
    strip: bool
    encap_mode: str

    def __init__(self, sa: SecurityAssociation, xf: EspTransform, *, ctr_compatibility: bool):
        """The plan of ``sa`` around its crypto transform ``xf``. [S6.4]-[S6.7] [S7.5] [S9.3]

        ``ctr_compatibility`` is ``net.inet.esp.ctr_compatibility``: pad AES-CTR payloads
        to 16 bytes rather than 4. [S6.5]
        """
        p = self
        enc = sa.enc
        p.xf = xf
        p.seal, p.open = xf.seal, xf.open
        p.aead_encrypt, p.aead_decrypt, p.salt = xf.aead_calls()
        p.esn = xf.esn
        p.alg_id = enc.sadb_id
        src, dst = sa.src.packed, sa.dst.packed
        p.family = IPV4 if len(dst) == 4 else IPV6
        p.spi = sa.spi
        p.dst = dst
        p.addrs = src + dst
        p.csum_base = 0x4500 + IPPROTO_ESP + sum(int.from_bytes(a[i : i + 2], "big") for a in (src, dst) for i in (0, 2))
        p.iv_len = enc.iv_len
        p.hlen = 8 + enc.iv_len  # struct newesp + IV [S6.4]
        p.iv_kind = IV_COUNTER if enc.counter_iv else IV_RANDOM if enc.iv_len else IV_NONE
        p.icv_len = xf.icv_len
        p.overhead = (20 if p.family == 4 else 40) + p.hlen + p.icv_len
        p.blockmask = enc.blocksize - 1
        blks = enc.pad_block if ctr_compatibility or enc.name != "aes-ctr" else max(4, enc.blocksize)
        p.pad_block = blks
        # padding = ((blks - ((rlen + 2) % blks)) % blks) + 2, less the two trailer bytes [S6.5]
        p.padlens = [(blks - (r + 2) % blks) % blks for r in range(blks)]
        p.pad_style = sa.flags & SADB_X_EXT_PMASK
        fixed = p.pad_style != SADB_X_EXT_PRAND
        p.check_pad = fixed
        p.trailers4 = [trailer(n, 4, p.pad_style, sa.rng) for n in p.padlens] if fixed else None
        p.trailers41 = [trailer(n, 41, p.pad_style, sa.rng) for n in p.padlens] if fixed else None
        wsize = sa.replay.wsize
        p.early_replay = bool(p.icv_len and wsize)
        p.esn_aad = p.esn and wsize != 0
        p.strip = sa.mode != "transport"
        p.encap_mode = "transport" if sa.mode == "transport" else "tunnel"

    def zeroize(self) -> None:
        """``esp_cleanup``: drop the key objects; every later packet is an ``esps_notdb`` drop.

        As ``esp_input_cb`` does for an SA that died during crypto.
        """
        self.xf.zeroize()
        self.seal = self.open = self.aead_encrypt = self.aead_decrypt = _dead
        self.salt = b""

    @property
    def zeroized(self) -> bool:
        return self.seal is _dead
