"""FreeBSD's ESP algorithms: setkey names, SADB ids, key rules, IV, padding and ICV sizes.

The tables are the data of [S6.5]-[S6.9] and [S10.6]: ``enc_xform``/``auth_hash``
sizes from opencrypto, ``esp_init``'s IV lengths and salt rule, and the key-length
ranges the kernel advertises to setkey in SADB_REGISTER (``sadb_alg_minbits`` /
``maxbits``), which setkey checks before sending anything. The crypto objects built
from them live in :mod:`ipsecsim.netipsec.xform`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SetkeyError

__all__ = [
    "EncAlgorithm",
    "AuthAlgorithm",
    "ENC_ALGORITHMS",
    "AUTH_ALGORITHMS",
    "enc_algorithm",
    "auth_algorithm",
    "check_setkey_keylen",
    "check_kernel_keys",
    "SADB_X_EXT_CYCSEQ",
    "SADB_X_EXT_PSEQ",
    "SADB_X_EXT_PRAND",
    "SADB_X_EXT_PZERO",
    "SADB_X_EXT_PMASK",
    "SADB_X_SAFLAGS_ESN",
]

# sadb_sa_flags bits (sys/net/pfkeyv2.h). setkey's p_ext starts as CYCSEQ. [S10.5]
SADB_X_EXT_CYCSEQ = 0x0040
SADB_X_EXT_PSEQ = 0x0000
SADB_X_EXT_PRAND = 0x0100
SADB_X_EXT_PZERO = 0x0200
SADB_X_EXT_PMASK = 0x0300
# Extended sequence numbers; set by IKE daemons, never by setkey. The value is
# UNCONFIRMED (FreeBSD's pfkeyv2.h with ESN was not read); it only has to stay
# clear of the bits above.
SADB_X_SAFLAGS_ESN = 0x0400


@dataclass(frozen=True, slots=True)
class EncAlgorithm:
    """One ESP encryption algorithm as FreeBSD sees it. Sizes in bytes. [S6.9]

    ``key_min``/``key_max`` are the cipher key sizes the kernel advertises (the salt
    excluded), which setkey checks; ``kernel_keys`` are the sizes the crypto layer
    then really accepts (``None``: anything in range). ``blocksize`` is the
    ``enc_xform`` block size ``esp_input`` checks the payload against;
    ``pad_block`` is ``esp_output``'s ``blks``, the padding modulus. [S6.5] [S9.2]
    """

    name: str  # as pfkey_dump prints it (setkey -D "E:" line) [S10.9]
    sadb_id: int
    key_min: int
    key_max: int
    salt: int
    blocksize: int
    pad_block: int
    iv_len: int
    aead_icv: int  # 16 for the AEAD ciphers (GMAC / Poly1305 chosen by esp_init), else 0
    kernel_keys: tuple[int, ...] | None

    @property
    def aead(self) -> bool:
        return self.aead_icv != 0

    @property
    def counter_iv(self) -> bool:
        """CTR, GCM and ChaCha20 carry an 8-byte per-SA counter as explicit IV. [S6.7]"""
        return self.salt != 0


@dataclass(frozen=True, slots=True)
class AuthAlgorithm:
    """One ESP authentication algorithm; ICV lengths from ``xform_ah_authsize``. [S6.8]"""

    name: str
    sadb_id: int
    key_len: int  # exact: the kernel advertises min == max
    icv_len: int
    hash_name: str | None  # None for the NULL algorithm


_AES = (16, 24, 32)

ENC_ALGORITHMS: dict[str, EncAlgorithm] = {
    a.name: a
    for a in (
        # enc_xform_null: blocksize 4 keeps headers aligned, esp_init forces ivlen 0.
        EncAlgorithm("null", 11, 0, 256, 0, 4, 4, 0, 0, None),
        EncAlgorithm("aes-cbc", 12, 16, 32, 0, 16, 16, 16, 0, _AES),
        # aes_icm: blocksize 1, native 16; net.inet.esp.ctr_compatibility=1 pads to 16.
        EncAlgorithm("aes-ctr", 13, 16, 32, 4, 1, 16, 8, 0, _AES),
        EncAlgorithm("aes-gcm-16", 20, 16, 32, 4, 1, 4, 8, 16, _AES),
        EncAlgorithm("chacha20-poly1305", 15, 32, 32, 4, 1, 4, 8, 16, (32,)),
    )
}

AUTH_ALGORITHMS: dict[str, AuthAlgorithm] = {
    a.name: a
    for a in (
        AuthAlgorithm("hmac-sha1", 3, 20, 12, "sha1"),
        AuthAlgorithm("hmac-sha2-256", 5, 32, 16, "sha256"),
        AuthAlgorithm("hmac-sha2-384", 6, 48, 24, "sha384"),
        AuthAlgorithm("hmac-sha2-512", 7, 64, 32, "sha512"),
        # NULL auth: AH_HMAC_HASHLEN = 12 bytes [S6.8]. auth_hash_null's Final writes
        # zeros, so the ICV is 12 zero bytes and any other value fails verification
        # (DERIVED from xform_auth.c/cryptosoft.c; nothing here was run on FreeBSD).
        AuthAlgorithm("null", 251, 0, 12, None),
    )
}

# setkey token -> table name: rijndael-cbc and aes-cbc are one algorithm (id 12). [S10.6]
_ENC_ALIASES = {"rijndael-cbc": "aes-cbc"}


def enc_algorithm(name: str) -> EncAlgorithm:
    """The encryption algorithm a setkey name denotes; ``KeyError`` if FreeBSD's kernel lacks it."""
    return ENC_ALGORITHMS[_ENC_ALIASES.get(name, name)]


def auth_algorithm(name: str) -> AuthAlgorithm:
    """The authentication algorithm a setkey name denotes; ``KeyError`` if the kernel lacks it."""
    return AUTH_ALGORITHMS[name]


def check_setkey_keylen(alg: EncAlgorithm | AuthAlgorithm, key_len: int) -> None:
    """setkey's client-side check, ``ipsec_check_keylen``: bits within the kernel's range. [S10.6]

    For the salted algorithms setkey subtracts the 4-byte salt first (``ALG_ENC_SALT``).
    Raises ``SetkeyError("Invalid key length")``; the parser adds line and token.
    """
    if isinstance(alg, EncAlgorithm):
        bits = (key_len - alg.salt) * 8
        ok = alg.key_min * 8 <= bits <= alg.key_max * 8
    else:
        ok = key_len == alg.key_len
    if not ok:
        raise SetkeyError("Invalid key length", detail=_key_rule(alg))


def check_kernel_keys(enc: EncAlgorithm, enc_key: bytes, auth: AuthAlgorithm | None, auth_key: bytes) -> None:
    """The kernel's own checks when the SA is added (``esp_init``, ``ah_init0``). [S6.9]

    Failures are ``EINVAL``, which setkey prints as "Invalid argument". Cipher key
    sizes the crypto layer refuses (a 17-byte AES key) are EINVAL too; for AES-CBC
    this is UNCONFIRMED in [S6.9], for AES-GCM it is ``esp_init``'s explicit switch.
    """
    n = len(enc_key) - enc.salt
    if not (enc.key_min <= n <= enc.key_max) or (enc.kernel_keys is not None and n not in enc.kernel_keys):
        raise SetkeyError("Invalid argument", kind="kernel", errno="EINVAL", detail=_key_rule(enc))
    if enc.aead and auth is not None:
        # esp_init picks GMAC/Poly1305 itself; an explicit -A is refused here (UNCONFIRMED).
        raise SetkeyError(
            "Invalid argument", kind="kernel", errno="EINVAL", detail=f"{enc.name} authenticates itself; give no -A"
        )
    if auth is not None and len(auth_key) != auth.key_len:
        raise SetkeyError("Invalid argument", kind="kernel", errno="EINVAL", detail=_key_rule(auth))


def _key_rule(alg: EncAlgorithm | AuthAlgorithm) -> str:
    if isinstance(alg, AuthAlgorithm):
        return f"{alg.name} needs a {alg.key_len}-byte key" if alg.key_len else f"{alg.name} takes no key"
    sizes = alg.kernel_keys or (alg.key_min, alg.key_max)
    if alg.salt:
        return f"{alg.name} needs a key of {_either(s + alg.salt for s in sizes)} bytes: the key, then a 4-byte salt"
    if alg.kernel_keys is None:
        return f"{alg.name} takes a key of {alg.key_min} to {alg.key_max} bytes"
    return f"{alg.name} needs a key of {_either(sizes)} bytes"


def _either(sizes) -> str:
    """``16, 24 or 32``."""
    words = [str(s) for s in sizes]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
