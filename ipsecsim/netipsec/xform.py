"""Per-SA crypto state, built once when the SA is installed (FreeBSD's ``esp_init``).

Per packet only ``seal``/``open`` run (see :class:`EspTransform`): ``seal`` appends
IV || ciphertext || ICV to the headers it is given, ``open`` checks and decrypts
from the ESP header on. Key objects are made here and never per packet
(PERFORMANCE-NOTES: object churn costs more than AES).

What is authenticated [RFC4303 2.8] [RFC4106 5] [RFC7634 2.1]:

* HMAC: ESP header || IV || ciphertext, then the ESN high half appended (4 bytes)
  when the SA uses ESN; truncated to the ICV length [RFC4868 2.3].
* AEAD: AAD is SPI || seq (8 bytes), or SPI || seq high || seq low with ESN; the
  nonce is the 4-byte salt (last key bytes) || the 8-byte explicit IV. [S6.7]
"""

from __future__ import annotations

import hmac as _stdlib_hmac
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from .algorithms import AuthAlgorithm, EncAlgorithm
from .errors import EspBadauth

__all__ = ["EspTransform", "esp_init", "hmac_icv"]

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_ZERO16 = bytes(16)


def hmac_icv(hash_name: str, key: bytes, data: bytes, icv_len: int) -> bytes:
    """HMAC truncated to ``icv_len`` bytes (RFC 2404 / RFC 4868 2.3); the slow path for tests."""
    h = _hmac.HMAC(key, _HASHES[hash_name]())
    h.update(data)
    return h.finalize()[:icv_len]


class EspTransform:
    """Encryption plus authentication of one SA: ``seal`` and ``open``.

    ``seal(head, seqh, iv, plaintext) -> head + iv + ciphertext + icv``, where
    ``head`` is everything in front of the IV and ends with the 8-byte ESP header.
    ``open(packet, skip, seqh, esn_aad) -> plaintext``: ``packet[skip:]`` is the ESP
    header onwards and its length is already checked; raises :class:`EspBadauth`
    when the ICV does not verify, before any plaintext is produced (FreeBSD verifies
    then decrypts). ``esn_aad`` says whether the ESN high half goes into an AEAD's
    AAD on input (see ``decapsulate``).
    """

    __slots__ = ("enc", "auth", "iv_len", "icv_len", "esn", "seal", "open")

    seal: Callable[[bytes, int, bytes, bytes], bytes]
    open: Callable[[bytes, int, int, bool], bytes]

    def __init__(self, enc: EncAlgorithm, auth: AuthAlgorithm | None, esn: bool):
        self.enc = enc
        self.auth = auth
        self.iv_len = enc.iv_len
        self.icv_len = enc.aead_icv or (auth.icv_len if auth else 0)
        self.esn = esn

    def aead_calls(self) -> tuple[Callable[..., bytes] | None, Callable[..., bytes] | None, bytes]:
        """``(encrypt, decrypt, salt)`` of an AEAD key object, for callers that build the
        nonce and AAD themselves (the ESP fast path); ``(None, None, b"")`` otherwise."""
        return None, None, b""

    def zeroize(self) -> None:
        """Drop the key objects (``esp_cleanup``); the transform is unusable afterwards."""
        self.seal = self.open = _zeroized


def _zeroized(*_args: object) -> bytes:
    raise RuntimeError("the SA's keys were zeroized")


class _AeadTransform(EspTransform):
    """AES-GCM-16 (RFC 4106) and ChaCha20-Poly1305 (RFC 7634): one AEAD call per packet.

    ``seal``/``open`` are closures over the key object's bound methods and the salt:
    the per-packet path reads no attributes (PERFORMANCE-NOTES, hot path).
    """

    __slots__ = ("_calls",)

    def __init__(self, enc: EncAlgorithm, key: bytes, esn: bool):
        super().__init__(enc, None, esn)
        aead = (ChaCha20Poly1305 if enc.name == "chacha20-poly1305" else AESGCM)(key[: -enc.salt])
        encrypt, decrypt, salt = aead.encrypt, aead.decrypt, key[-enc.salt :]
        self._calls: tuple[Callable[..., bytes] | None, Callable[..., bytes] | None, bytes] = (encrypt, decrypt, salt)

        def seal(head: bytes, seqh: int, iv: bytes, plaintext: bytes) -> bytes:
            hdr8 = head[-8:]
            aad = hdr8[:4] + seqh.to_bytes(4, "big") + hdr8[4:] if esn else hdr8
            return head + iv + encrypt(salt + iv, plaintext, aad)

        def open(packet: bytes, skip: int, seqh: int, esn_aad: bool) -> bytes:
            hdr8 = packet[skip : skip + 8]
            aad = hdr8[:4] + seqh.to_bytes(4, "big") + hdr8[4:] if esn_aad else hdr8
            try:
                return decrypt(salt + packet[skip + 8 : skip + 16], packet[skip + 16 :], aad)
            except InvalidTag:
                raise EspBadauth("AEAD tag mismatch") from None

        self.seal, self.open = seal, open

    def aead_calls(self) -> tuple[Callable[..., bytes] | None, Callable[..., bytes] | None, bytes]:
        return self._calls

    def zeroize(self) -> None:
        super().zeroize()
        self._calls = (None, None, b"")


class _EtaTransform(EspTransform):
    """Encrypt-then-MAC: NULL, AES-CBC (RFC 3602) or AES-CTR (RFC 3686), with an HMAC or none.

    AES-CBC keeps one encryptor and one decryptor per SA (PERFORMANCE-NOTES: a new
    context per packet costs ~7 us). A CBC context chains from the last ciphertext
    block it produced (encrypt) or consumed (decrypt), so the packet's IV is brought
    in by XOR-ing ``IV ^ previous block`` into the first plaintext block (encrypt)
    or the first output block (decrypt): the result is exactly AES-CBC with that
    IV. Only whole blocks are ever fed (``decapsulate`` checks the length first),
    and a context that raised is rebuilt.
    """

    __slots__ = ("_mode", "_aes", "_salt", "_enc_ctx", "_dec_ctx", "_enc_prev", "_dec_prev", "_mac", "_null_icv")

    _aes: algorithms.AES | None  # None for NULL encryption and once zeroized
    _enc_ctx: CipherContext | None  # AES-CBC only
    _dec_ctx: CipherContext | None
    _mac: _hmac.HMAC | None  # the keyed template, copied per packet

    def __init__(self, enc: EncAlgorithm, key: bytes, auth: AuthAlgorithm | None, auth_key: bytes, esn: bool):
        super().__init__(enc, auth, esn)
        self._mode = enc.name
        self._salt = key[-enc.salt :] if enc.salt else b""
        self._aes = algorithms.AES(key[: len(key) - enc.salt]) if enc.name != "null" else None
        self._enc_ctx = self._dec_ctx = None
        self._enc_prev = self._dec_prev = 0
        if enc.name == "aes-cbc":
            self._new_cbc()
        self._mac = None
        self._null_icv = b""
        if auth is not None:
            if auth.hash_name is None:
                self._null_icv = bytes(auth.icv_len)
            else:
                self._mac = _hmac.HMAC(auth_key, _HASHES[auth.hash_name]())
        self.seal, self.open = self._seal, self._open

    def zeroize(self) -> None:
        super().zeroize()
        self._aes = self._enc_ctx = self._dec_ctx = self._mac = None

    def _new_cbc(self) -> None:
        aes = self._aes
        assert aes is not None, "CBC contexts need the key"
        self._enc_ctx = Cipher(aes, modes.CBC(_ZERO16)).encryptor()
        self._dec_ctx = Cipher(aes, modes.CBC(_ZERO16)).decryptor()
        self._enc_prev = self._dec_prev = 0

    def _icv(self, data: bytes, seqh: int, esn: bool, head: bytes = b"") -> bytes:
        """HMAC over ``head + data`` (+ the ESN high half), truncated. [RFC4303 2.2.1]"""
        if self._mac is None:
            return self._null_icv
        h = self._mac.copy()
        if head:
            h.update(head)
        h.update(data)
        if esn:
            h.update(seqh.to_bytes(4, "big"))  # the high half after the trailer, not sent
        return h.finalize()[: self.icv_len]

    def _encrypt(self, iv: bytes, pt: bytes) -> bytes:
        mode = self._mode
        if mode == "null":
            return pt
        if mode == "aes-ctr":
            # RFC 3686 counter block: nonce || IV || block counter from 1; a packet never
            # reaches 2^32 blocks, so the 128-bit increment of CTR mode is exact.
            assert self._aes is not None, "zeroized"
            return Cipher(self._aes, modes.CTR(self._salt + iv + b"\x00\x00\x00\x01")).encryptor().update(pt)
        assert self._enc_ctx is not None
        first = int.from_bytes(pt[:16], "big") ^ int.from_bytes(iv, "big") ^ self._enc_prev
        try:
            ct = self._enc_ctx.update(first.to_bytes(16, "big") + pt[16:])
        except Exception:
            self._new_cbc()
            raise
        self._enc_prev = int.from_bytes(ct[-16:], "big")
        return ct

    def _decrypt(self, iv: bytes, ct: bytes) -> bytes:
        mode = self._mode
        if mode == "null":
            return ct
        if mode == "aes-ctr":
            assert self._aes is not None, "zeroized"
            return Cipher(self._aes, modes.CTR(self._salt + iv + b"\x00\x00\x00\x01")).decryptor().update(ct)
        assert self._dec_ctx is not None, "zeroized"
        try:
            out = self._dec_ctx.update(ct)
        except Exception:
            self._new_cbc()
            raise
        fix = int.from_bytes(iv, "big") ^ self._dec_prev
        self._dec_prev = int.from_bytes(ct[-16:], "big")
        return (int.from_bytes(out[:16], "big") ^ fix).to_bytes(16, "big") + out[16:]

    def _seal(self, head: bytes, seqh: int, iv: bytes, plaintext: bytes) -> bytes:
        body = iv + self._encrypt(iv, plaintext)
        if self.auth is None:
            return head + body
        return head + body + self._icv(body, seqh, self.esn, head[-8:])

    def _open(self, packet: bytes, skip: int, seqh: int, esn_aad: bool) -> bytes:
        end = len(packet) - self.icv_len
        if self.auth is not None:
            if not _stdlib_hmac.compare_digest(self._icv(packet[skip:end], seqh, self.esn), packet[end:]):
                raise EspBadauth("ICV mismatch")
        iv_end = skip + 8 + self.iv_len
        return self._decrypt(packet[skip + 8 : iv_end], packet[iv_end:end])


def esp_init(enc: EncAlgorithm, enc_key: bytes, auth: AuthAlgorithm | None, auth_key: bytes, esn: bool) -> EspTransform:
    """Build the SA's transform, as ``esp_init`` does once per SA. Keys must already be checked."""
    if enc.aead:
        return _AeadTransform(enc, enc_key, esn)
    return _EtaTransform(enc, enc_key, auth, auth_key, esn)
