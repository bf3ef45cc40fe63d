"""IKEv2 keys and the SK payload (RFC 7296 2.13-2.17, 3.14; RFC 5282; RFC 4868; RFC 5903; RFC 8031).

All randomness (DH private values, IVs) comes from the ``random.Random`` passed in, so a
seeded run is reproducible. Cryptographic primitives are ``cryptography``'s; ``hmac`` from
the standard library computes the HMAC PRFs.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import hmac
import random
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .message import HEADER_LEN, PT_SK, EncryptedPayload, MalformedIke, Transform, parse_ike
from .proposals import (
    AUTH_HMAC_SHA1_96, AUTH_HMAC_SHA2_256_128, AUTH_HMAC_SHA2_384_192, AUTH_HMAC_SHA2_512_256,
    CURVE_25519, ECP_256, ECP_384, ENCR_AES_CBC, ENCR_AES_GCM_16, MODP_2048,
    PRF_HMAC_SHA1, PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384, PRF_HMAC_SHA2_512,
)

__all__ = [
    "prf", "prf_plus", "SkKeys", "IkeSaKeys", "ike_sa_keys", "DirectionKeys", "child_sa_keys",
    "signed_octets", "psk_auth", "DiffieHellman", "encrypt_sk", "decrypt_sk",
    "integ_key_length", "icv_length", "encr_key_length", "wireshark_ikev2_record",
]

_PRF_HASH: Final = {PRF_HMAC_SHA1: "sha1", PRF_HMAC_SHA2_256: "sha256",
                    PRF_HMAC_SHA2_384: "sha384", PRF_HMAC_SHA2_512: "sha512"}
# RFC 4868 2.1 / RFC 2404: the key is the hash's output size, the ICV half of it (96 bits for SHA-1).
_INTEG: Final = {AUTH_HMAC_SHA1_96: ("sha1", 20, 12), AUTH_HMAC_SHA2_256_128: ("sha256", 32, 16),
                 AUTH_HMAC_SHA2_384_192: ("sha384", 48, 24), AUTH_HMAC_SHA2_512_256: ("sha512", 64, 32)}
_GCM_SALT: Final = 4  # RFC 5282 7.1: the last 4 bytes of each SK_e are the salt
_GCM_IV: Final = 8  # RFC 5282 3.1
_GCM_ICV: Final = 16
_KEY_PAD: Final = b"Key Pad for IKEv2"  # 2.15


def _hash(alg: int) -> str:
    try:
        return _PRF_HASH[alg]
    except KeyError:
        raise ValueError(f"unsupported PRF transform {alg}") from None


def prf(alg: int, key: bytes, data: bytes) -> bytes:
    """The negotiated PRF (an HMAC, RFC 2104 / RFC 4868 2.1.2) of ``data`` under ``key``."""
    return hmac.new(key, data, _hash(alg)).digest()


def prf_plus(alg: int, key: bytes, seed: bytes, length: int) -> bytes:
    """prf+ (2.13): T1 | T2 | ... with Tn = prf(K, Tn-1 | S | n), cut to ``length`` bytes.

    The counter is one byte, so at most 255 blocks can be made.
    """
    size = hashlib.new(_hash(alg)).digest_size
    if length > 255 * size:
        raise ValueError(f"prf+ cannot make {length} bytes (at most 255 blocks, 2.13)")
    out = bytearray()
    block = b""
    n = 1
    while len(out) < length:
        block = prf(alg, key, block + seed + bytes([n]))
        out += block
        n += 1
    return bytes(out[:length])


def integ_key_length(integ: int | None) -> int:
    return 0 if integ is None else _INTEG[integ][1]


def icv_length(integ: int | None, encr: Transform) -> int:
    """Bytes of the SK payload's Integrity Checksum Data."""
    if encr.id == ENCR_AES_GCM_16:
        return _GCM_ICV
    if integ is None:
        raise ValueError("AES-CBC needs an integrity algorithm")
    return _INTEG[integ][2]


def encr_key_length(encr: Transform) -> int:
    """Bytes of SK_e: the AES key, plus the 4-byte salt for AES-GCM (RFC 5282 7.1)."""
    if encr.id not in (ENCR_AES_CBC, ENCR_AES_GCM_16) or encr.key_length not in (128, 192, 256):
        raise ValueError(f"unsupported encryption transform {encr}")
    return encr.key_length // 8 + (_GCM_SALT if encr.id == ENCR_AES_GCM_16 else 0)


@dataclass(frozen=True, slots=True)
class SkKeys:
    """One direction's SK payload keys: SK_ei and SK_ai (initiator's sends) or SK_er and SK_ar."""

    encr: bytes
    integ: bytes


@dataclass(frozen=True, slots=True)
class IkeSaKeys:
    """SKEYSEED and the seven keys of 2.14, in the order prf+ makes them."""

    skeyseed: bytes
    sk_d: bytes
    sk_ai: bytes
    sk_ar: bytes
    sk_ei: bytes
    sk_er: bytes
    sk_pi: bytes
    sk_pr: bytes

    @property
    def initiator(self) -> SkKeys:
        """Protects what the original initiator sends."""
        return SkKeys(self.sk_ei, self.sk_ai)

    @property
    def responder(self) -> SkKeys:
        """Protects what the original responder sends."""
        return SkKeys(self.sk_er, self.sk_ar)


def ike_sa_keys(prf_alg: int, integ: int | None, encr: Transform, ni: bytes, nr: bytes,
                shared_secret: bytes, spii: bytes, spir: bytes) -> IkeSaKeys:
    """2.14: SKEYSEED = prf(Ni | Nr, g^ir); {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
    = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr). ``integ`` is None with AES-GCM (no SK_a keys)."""
    skeyseed = prf(prf_alg, ni + nr, shared_secret)
    prf_len = hashlib.new(_hash(prf_alg)).digest_size
    a_len, e_len = integ_key_length(integ), encr_key_length(encr)
    sizes = (prf_len, a_len, a_len, e_len, e_len, prf_len, prf_len)
    stream = prf_plus(prf_alg, skeyseed, ni + nr + spii + spir, sum(sizes))
    keys = []
    offset = 0
    for size in sizes:
        keys.append(stream[offset:offset + size])
        offset += size
    return IkeSaKeys(skeyseed, *keys)


@dataclass(frozen=True, slots=True)
class DirectionKeys:
    """One ESP SA's keys: the encryption key (AES-GCM: with its salt) and the integrity key."""

    encr: bytes
    integ: bytes


def child_sa_keys(prf_alg: int, sk_d: bytes, ni: bytes, nr: bytes, enc_len: int, integ_len: int,
                  shared: bytes | None = None) -> tuple[DirectionKeys, DirectionKeys]:
    """2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), taken as initiator-to-responder
    encryption then integrity key, then responder-to-initiator. Returns (i->r, r->i)."""
    seed = (shared or b"") + ni + nr
    km = prf_plus(prf_alg, sk_d, seed, 2 * (enc_len + integ_len))
    half = enc_len + integ_len
    i_to_r = DirectionKeys(km[:enc_len], km[enc_len:half])
    r_to_i = DirectionKeys(km[half:half + enc_len], km[half + enc_len:])
    return i_to_r, r_to_i


def signed_octets(prf_alg: int, message: bytes, nonce: bytes, sk_p: bytes, id_body: bytes) -> bytes:
    """2.15: InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
    (for the responder: RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)).

    ``message`` is the whole IKE_SA_INIT message this side sent, as sent; ``nonce`` the
    peer's nonce data; ``id_body`` this side's ID payload without its generic header
    (``IdPayload.body()``).
    """
    return message + nonce + prf(prf_alg, sk_p, id_body)


def psk_auth(prf_alg: int, psk: bytes, octets: bytes) -> bytes:
    """2.15: AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)."""
    return prf(prf_alg, prf(prf_alg, psk, _KEY_PAD), octets)


# --- Diffie-Hellman --------------------------------------------------------------------------

# RFC 3526 section 3: the 2048-bit MODP group, generator 2.
_MODP2048_P: Final = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)
_CURVES: Final = {ECP_256: (ec.SECP256R1(), 32), ECP_384: (ec.SECP384R1(), 48)}
_BADKE: Final = "IKE bad KE data"


class DiffieHellman:
    """One side's ephemeral Diffie-Hellman for ``group`` (14, 19, 20 or 31).

    ``public_bytes()`` is the KE payload's data: for ECP the x and y coordinates, each
    padded to the field size, without a point-format byte (RFC 5903 7); for Curve25519 the
    32-byte u-coordinate (RFC 8031 2); for MODP g^x padded to the prime's size (3.4).
    ``shared(peer)`` is g^ir as 2.14 uses it: the x coordinate alone for ECP (RFC 5903 7),
    zero-padded to the prime's size for MODP; MalformedIke("IKE bad KE data") when the
    peer's value has the wrong size or is not a valid point.
    """

    def __init__(self, group: int, rng: random.Random):
        self.group = group
        if group == CURVE_25519:
            self._x = x25519.X25519PrivateKey.from_private_bytes(rng.randbytes(32))
            self._public = self._x.public_key().public_bytes_raw()
        elif group in _CURVES:
            curve, size = _CURVES[group]
            self._ec = ec.derive_private_key(rng.randrange(1, _ORDERS[group]), curve)
            nums = self._ec.public_key().public_numbers()
            self._public = nums.x.to_bytes(size, "big") + nums.y.to_bytes(size, "big")
        elif group == MODP_2048:
            # A 512-bit exponent keeps well above the group's 112-bit strength (RFC 3526 8).
            self._secret = rng.getrandbits(512) | (1 << 511)
            self._public = pow(2, self._secret, _MODP2048_P).to_bytes(256, "big")
        else:
            raise ValueError(f"unsupported Diffie-Hellman group {group}")

    def public_bytes(self) -> bytes:
        return self._public

    def shared(self, peer: bytes) -> bytes:
        if self.group == CURVE_25519:
            if len(peer) != 32:
                raise MalformedIke(_BADKE)
            try:
                return self._x.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
            except ValueError:  # an all-zero result: a small-order point (RFC 8031 2.3)
                raise MalformedIke(_BADKE) from None
        if self.group in _CURVES:
            curve, size = _CURVES[self.group]
            if len(peer) != 2 * size:
                raise MalformedIke(_BADKE)
            try:
                point = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + peer)
            except ValueError:
                raise MalformedIke(_BADKE) from None
            return self._ec.exchange(ec.ECDH(), point)
        y = int.from_bytes(peer, "big")
        # RFC 7296 and SP 800-56A: 1 < y < p-1, or the secret is trivially known.
        if len(peer) != 256 or not 1 < y < _MODP2048_P - 1:
            raise MalformedIke(_BADKE)
        return pow(y, self._secret, _MODP2048_P).to_bytes(256, "big")


# The group orders of P-256 and P-384 (SEC 2 2.4.2, 2.5.1).
_ORDERS: Final = {
    ECP_256: int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16),
    ECP_384: int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16),
}


# --- the SK payload --------------------------------------------------------------------------

def _sk_header(next_payload: int, length: int) -> bytes:
    return bytes([next_payload, 0]) + length.to_bytes(2, "big")


def encrypt_sk(keys: SkKeys, encr: Transform, integ: int | None, next_payload: int,
               plaintext: bytes, header: bytes, rng: random.Random) -> bytes:
    """The whole message: ``header`` (the 28-byte IKE header, e.g. ``IkeMessage.header(0)``)
    with its Next Payload set to SK and its length set, then the SK payload (3.14) protecting ``plaintext``, the inner payload chain
    whose first payload is of type ``next_payload``. ``keys`` is the sender's side.

    AES-CBC: random IV, padding to the block with a Pad Length byte, then an HMAC over
    everything from the IKE header to the ciphertext, truncated (RFC 4868). AES-GCM-16
    (RFC 5282): 8-byte IV, nonce = salt | IV, AAD = the IKE header and the SK generic header.
    """
    if len(header) != HEADER_LEN:
        raise ValueError("header must be the 28-byte IKE header")
    if encr.id == ENCR_AES_GCM_16:
        iv = rng.randbytes(_GCM_IV)
        inner = plaintext + b"\x00"  # no padding needed: GCM is a stream mode (RFC 5282 3.2)
        length = 4 + _GCM_IV + len(inner) + _GCM_ICV
        aad = _with_length(header, HEADER_LEN + length) + _sk_header(next_payload, length)
        sealed = AESGCM(keys.encr[:-_GCM_SALT]).encrypt(keys.encr[-_GCM_SALT:] + iv, inner, aad)
        return aad + iv + sealed
    encr_key_length(encr)
    icv_len = icv_length(integ, encr)
    if integ is None:
        raise ValueError("AES-CBC needs an integrity algorithm")
    pad = (-(len(plaintext) + 1)) % 16
    inner = plaintext + bytes(pad) + bytes([pad])
    iv = rng.randbytes(16)
    length = 4 + 16 + len(inner) + icv_len
    enc = Cipher(algorithms.AES(keys.encr), modes.CBC(iv)).encryptor()
    signed = (_with_length(header, HEADER_LEN + length) + _sk_header(next_payload, length) + iv
              + enc.update(inner) + enc.finalize())
    return signed + hmac.new(keys.integ, signed, _INTEG[integ][0]).digest()[:icv_len]


def _with_length(header: bytes, length: int) -> bytes:
    # The SK payload is the message's only payload here, so the header's Next Payload is SK.
    return header[:16] + bytes([PT_SK]) + header[17:24] + length.to_bytes(4, "big")


def decrypt_sk(keys: SkKeys, encr: Transform, integ: int | None, message: bytes) -> tuple[int, bytes]:
    """Open the SK payload ending ``message`` (the whole datagram): its first inner payload
    type and the plaintext chain, for ``parse_payloads``. ``keys`` is the sender's side.

    The ICV is checked before anything is decrypted; MalformedIke("IKE SK integrity check
    failed") if it does not verify, MalformedIke("IKE bad SK payload") if the payload is too
    short or its padding does not fit, and parse_ike's reasons if the message does not parse.
    """
    parsed = parse_ike(message)
    sk = parsed.payloads[-1] if parsed.payloads else None
    if not isinstance(sk, EncryptedPayload):
        raise MalformedIke("IKE bad SK payload")
    next_payload = sk.first_payload
    body = message[len(message) - len(sk.data):]
    signed_len = len(message) - len(body)
    if encr.id == ENCR_AES_GCM_16:
        if len(body) < _GCM_IV + _GCM_ICV + 1:
            raise MalformedIke("IKE bad SK payload")
        iv, sealed = body[:_GCM_IV], body[_GCM_IV:]
        try:
            inner = AESGCM(keys.encr[:-_GCM_SALT]).decrypt(
                keys.encr[-_GCM_SALT:] + iv, sealed, message[:signed_len])
        except InvalidTag:
            raise MalformedIke("IKE SK integrity check failed") from None
    else:
        icv_len = icv_length(integ, encr)
        if integ is None:
            raise ValueError("AES-CBC needs an integrity algorithm")
        if len(body) < 16 + 16 + icv_len or (len(body) - 16 - icv_len) % 16:
            raise MalformedIke("IKE bad SK payload")
        mac = hmac.new(keys.integ, message[:-icv_len], _INTEG[integ][0]).digest()[:icv_len]
        if not hmac.compare_digest(mac, message[-icv_len:]):
            raise MalformedIke("IKE SK integrity check failed")
        dec = Cipher(algorithms.AES(keys.encr), modes.CBC(body[:16])).decryptor()
        inner = dec.update(body[16:-icv_len]) + dec.finalize()
    pad = inner[-1]
    if pad + 1 > len(inner):
        raise MalformedIke("IKE bad SK payload")
    return next_payload, inner[:-pad - 1]


# --- Wireshark's IKEv2 decryption table ------------------------------------------------------

# The dissector's names for the algorithms (its UAT stores the label, not a number).
_WS_ENCR: Final = {ENCR_AES_CBC: "AES-CBC-{bits} [RFC3602]",
                   ENCR_AES_GCM_16: "AES-GCM-{bits} with 16 octet ICV [RFC5282]"}
_WS_INTEG: Final = {None: "NONE [RFC4306]", AUTH_HMAC_SHA1_96: "HMAC_SHA1_96 [RFC2404]",
                    AUTH_HMAC_SHA2_256_128: "HMAC_SHA2_256_128 [RFC4868]",
                    AUTH_HMAC_SHA2_384_192: "HMAC_SHA2_384_192 [RFC4868]",
                    AUTH_HMAC_SHA2_512_256: "HMAC_SHA2_512_256 [RFC4868]"}


def wireshark_ikev2_record(spi_i: bytes, spi_r: bytes, keys: IkeSaKeys, encr: Transform,
                           integ: int | None) -> str:
    """One line of Wireshark's ``ikev2_decryption_table`` (its personal configuration file, or
    ``tshark -o uat:ikev2_decryption_table:LINE``): SPIi, SPIr, SK_ei, SK_er, encryption,
    SK_ai, SK_ar, integrity; the same line strongSwan's save-keys plugin writes."""
    enc_name = _WS_ENCR[encr.id].format(bits=encr.key_length)
    return ",".join((spi_i.hex(), spi_r.hex(), keys.sk_ei.hex(), keys.sk_er.hex(), f'"{enc_name}"',
                     keys.sk_ai.hex(), keys.sk_ar.hex(), f'"{_WS_INTEG[integ]}"'))
