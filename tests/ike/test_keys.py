"""ike/keys.py against published vectors and independent re-derivations.

Oracles: RFC 4868 2.7.1 (PRF-HMAC-SHA2 test case PRF-1), the NIST CAVS IKEv2 KDF sample
vector (SP 800-135 10.1; the run quoted in libreswan's programs/cavp sources), RFC 7748 6.1
(X25519), RFC 5903 8.1 (ECP-256), and `cryptography` / `hmac` for everything else.
"""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest
from hypothesis import given, settings, strategies as st
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ipsecsim.ike import (
    AUTH_HMAC_SHA1_96, AUTH_HMAC_SHA2_256_128, AUTH_HMAC_SHA2_512_256, CURVE_25519, ECP_256, ECP_384,
    ENCR_AES_CBC, ENCR_AES_GCM_16, HEADER_LEN, IKE_AUTH, MODP_2048, PRF_HMAC_SHA1, PRF_HMAC_SHA2_256,
    PRF_HMAC_SHA2_384, PRF_HMAC_SHA2_512, PT_IDI, PT_SK, TRANSFORM_ENCR, AuthPayload, DiffieHellman,
    IdPayload, IkeMessage, MalformedIke, Transform, child_sa_keys, decrypt_sk, encrypt_sk, ike_sa_keys,
    parse_ike, parse_payloads, prf, prf_plus, psk_auth, signed_octets,
)
from ipsecsim.ike.message import ID_FQDN, _payload_chain
from ipsecsim.kernel.drops import DropReason

h = bytes.fromhex


# RFC 4868 2.7.1, test case PRF-1: key 0x0b repeated to the PRF's key size, data "Hi There".
@pytest.mark.parametrize("alg, size, expected", [
    (PRF_HMAC_SHA2_256, 32, "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"),
    (PRF_HMAC_SHA2_384, 48, "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc"
                            "4c5df61d5b3297b4fb68dab9f1b582c2"),
    (PRF_HMAC_SHA2_512, 64, "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"
                            "ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b"),
])
def test_prf_rfc4868_vectors(alg, size, expected):
    assert prf(alg, b"\x0b" * size, b"Hi There").hex() == expected


# NIST CAVS IKEv2 KDF (SP 800-135 section 10.1), SHA-1, DKM length 1056 bits.
CAVS = dict(
    gir=h("4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52"),
    gir_new=h("863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330"),
    ni=h("32b50d5f4a3763f3"), nr=h("9206a04b26564cb1"),
    spii=h("34c9e7c188868785"), spir=h("3ff77d760d2b2199"),
    skeyseed="a9a7b222b59f8f48645f28a1db5b5f5d7479cba7",
    dkm="a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e514a062768b7660"
        "6f9fa5e992204fc5a670bde3f10d6b027113936a5c55b648a194ae587b0088d52204b702c979fa280870d2ed41"
        "efa9c549fd11198af1670b143d384bd275c5f594cf266b05ebadca855e4249520a441a81157435a7a56cc4",
    child="8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7b5d1cdabd9560b2d5e0"
          "92d1f24e2d4b85eccdf0ad0dc9abd94b51ee71814ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe2075"
          "4a2d883ba0c2cf285f524aea6545b33106bc03e614296d319d41d4b50b3f510b1c0a22f3e664994d234cb4",
    child_dh="bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d37301628190e38c66232eab4b3ab"
             "14c400a5197dd3730ed4820a8a10394d51e1c0400052f63ebd36b0e7ef53aaed31eba4a5080d7d4b566602"
             "3a8bbb5ffb7857240f9a05884d1b7d2f933708450b7b3288f1fc863ab49fa901227cffc06e27899c7054d56fd74c",
)


def test_ike_sa_keys_cavs_vector():
    # PRF-HMAC-SHA1 + HMAC-SHA1-96 + AES-CBC-128: 3*20 + 2*20 + 2*16 = 132 bytes, the vector's DKM.
    k = ike_sa_keys(PRF_HMAC_SHA1, AUTH_HMAC_SHA1_96, Transform(TRANSFORM_ENCR, ENCR_AES_CBC, 128),
                    CAVS["ni"], CAVS["nr"], CAVS["gir"], CAVS["spii"], CAVS["spir"])
    assert k.skeyseed.hex() == CAVS["skeyseed"]
    dkm = k.sk_d + k.sk_ai + k.sk_ar + k.sk_ei + k.sk_er + k.sk_pi + k.sk_pr
    assert dkm.hex() == CAVS["dkm"]
    assert [len(x) for x in (k.sk_d, k.sk_ai, k.sk_ar, k.sk_ei, k.sk_er, k.sk_pi, k.sk_pr)] == [20, 20, 20, 16, 16, 20, 20]
    assert k.initiator.encr == k.sk_ei and k.responder.integ == k.sk_ar


@pytest.mark.parametrize("shared, expected", [(None, "child"), ("gir_new", "child_dh")])
def test_child_sa_keys_cavs_vector(shared, expected):
    sk_d = h(CAVS["dkm"])[:20]
    i2r, r2i = child_sa_keys(PRF_HMAC_SHA1, sk_d, CAVS["ni"], CAVS["nr"], 46, 20,
                             CAVS[shared] if shared else None)
    assert (i2r.encr + i2r.integ + r2i.encr + r2i.integ).hex() == CAVS[expected]
    assert (len(i2r.encr), len(i2r.integ)) == (46, 20)


def test_prf_plus_matches_an_independent_rederivation():
    key, seed = b"k" * 32, b"seed" * 10

    def ref(n):
        out, t, i = b"", b"", 1
        while len(out) < n:
            t = hmac.new(key, t + seed + bytes([i]), hashlib.sha256).digest()
            out, i = out + t, i + 1
        return out[:n]
    for n in (1, 32, 33, 100, 255 * 32):
        assert prf_plus(PRF_HMAC_SHA2_256, key, seed, n) == ref(n)
    with pytest.raises(ValueError):
        prf_plus(PRF_HMAC_SHA2_256, key, seed, 255 * 32 + 1)


def test_gcm_keys_carry_the_salt():
    k = ike_sa_keys(PRF_HMAC_SHA2_384, None, Transform(TRANSFORM_ENCR, ENCR_AES_GCM_16, 256),
                    b"i" * 32, b"r" * 32, b"s" * 48, b"a" * 8, b"b" * 8)
    assert (len(k.sk_ei), len(k.sk_ai), len(k.sk_d)) == (36, 0, 48)


def test_psk_auth_is_rfc7296_2_15():
    msg, nonce, sk_pi = b"IKE_SA_INIT bytes", b"N" * 32, b"P" * 32
    ident = IdPayload(ID_FQDN, b"moon.strongswan.org")
    octets = signed_octets(PRF_HMAC_SHA2_256, msg, nonce, sk_pi, ident.body())
    rest = bytes([ID_FQDN, 0, 0, 0]) + b"moon.strongswan.org"
    assert octets == msg + nonce + hmac.new(sk_pi, rest, hashlib.sha256).digest()
    pad = hmac.new(b"secret", b"Key Pad for IKEv2", hashlib.sha256).digest()
    assert psk_auth(PRF_HMAC_SHA2_256, b"secret", octets) == hmac.new(pad, octets, hashlib.sha256).digest()
    assert psk_auth(PRF_HMAC_SHA2_256, b"secreT", octets) != psk_auth(PRF_HMAC_SHA2_256, b"secret", octets)


class _Fixed(random.Random):
    """Hands out a chosen private value, so a published DH vector can be replayed."""

    def __init__(self, value: bytes | int):
        super().__init__(0)
        self.value = value

    def randbytes(self, n):
        assert isinstance(self.value, bytes) and len(self.value) == n
        return self.value

    def randrange(self, *args):
        assert isinstance(self.value, int)
        return self.value


def test_x25519_rfc7748_vector():
    a = DiffieHellman(CURVE_25519, _Fixed(h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")))
    b = DiffieHellman(CURVE_25519, _Fixed(h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")))
    assert a.public_bytes().hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert b.public_bytes().hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    assert a.shared(b.public_bytes()).hex() == b.shared(a.public_bytes()).hex() == shared


def test_ecp256_rfc5903_vector():
    i = DiffieHellman(ECP_256, _Fixed(int("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433", 16)))
    r = DiffieHellman(ECP_256, _Fixed(int("C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53", 16)))
    assert i.public_bytes().hex().upper() == (
        "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
        "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3")
    assert r.public_bytes().hex().upper().startswith("D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63")
    girx = "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"
    assert i.shared(r.public_bytes()).hex().upper() == r.shared(i.public_bytes()).hex().upper() == girx


@pytest.mark.parametrize("group, pub_len, shared_len", [(MODP_2048, 256, 256), (ECP_384, 96, 48), (CURVE_25519, 32, 32)])
def test_dh_groups_agree_and_are_seeded(group, pub_len, shared_len):
    a, b = DiffieHellman(group, random.Random(1)), DiffieHellman(group, random.Random(2))
    assert len(a.public_bytes()) == pub_len
    assert a.shared(b.public_bytes()) == b.shared(a.public_bytes())
    assert len(a.shared(b.public_bytes())) == shared_len
    assert DiffieHellman(group, random.Random(1)).public_bytes() == a.public_bytes()


@pytest.mark.parametrize("group, bad", [
    (CURVE_25519, b"\x01" * 31), (CURVE_25519, bytes(32)),  # all-zero: a small-order point
    (ECP_256, b"\x01" * 64), (ECP_256, b"\x01" * 63), (MODP_2048, b"\x01" * 255),
    (MODP_2048, (1).to_bytes(256, "big")),
])
def test_bad_peer_public_values(group, bad):
    with pytest.raises(MalformedIke) as e:
        DiffieHellman(group, random.Random(1)).shared(bad)
    assert DropReason(e.value.reason) is DropReason.IKE_BADKE


def test_unsupported_group():
    with pytest.raises(ValueError):
        DiffieHellman(15, random.Random(1))


# --- the SK payload ------------------------------------------------------------------------------

CBC = Transform(TRANSFORM_ENCR, ENCR_AES_CBC, 128)
GCM = Transform(TRANSFORM_ENCR, ENCR_AES_GCM_16, 256)
INNER = (IdPayload(ID_FQDN, b"sun.strongswan.org"), AuthPayload(2, b"a" * 32))


def _setup(encr, integ):
    keys = ike_sa_keys(PRF_HMAC_SHA2_256, integ, encr, b"i" * 32, b"r" * 32, b"g" * 32, b"A" * 8, b"B" * 8)
    header = IkeMessage(b"A" * 8, b"B" * 8, IKE_AUTH, 1, initiator=True).header(0)
    return keys, header


@pytest.mark.parametrize("encr, integ", [(CBC, AUTH_HMAC_SHA2_256_128), (CBC, AUTH_HMAC_SHA1_96),
                                         (CBC, AUTH_HMAC_SHA2_512_256), (GCM, None)])
def test_sk_round_trip(encr, integ):
    keys, header = _setup(encr, integ)
    plain = _payload_chain(INNER)
    msg = encrypt_sk(keys.initiator, encr, integ, PT_IDI, plain, header, random.Random(5))
    parsed = parse_ike(msg)
    assert parsed.payloads[-1].payload_type == PT_SK and parsed.payloads[-1].first_payload == PT_IDI
    first, out = decrypt_sk(keys.initiator, encr, integ, msg)
    assert (first, out) == (PT_IDI, plain)
    assert parse_payloads(first, out) == INNER
    # The other direction's keys do not open it.
    with pytest.raises(MalformedIke, match="IKE SK integrity check failed"):
        decrypt_sk(keys.responder, encr, integ, msg)


def test_sk_cbc_bytes_independently():
    """Open our CBC SK payload with `cryptography` and `hmac` directly (RFC 7296 3.14, RFC 4868)."""
    keys, header = _setup(CBC, AUTH_HMAC_SHA2_256_128)
    plain = _payload_chain(INNER)
    msg = encrypt_sk(keys.initiator, CBC, AUTH_HMAC_SHA2_256_128, PT_IDI, plain, header, random.Random(5))
    assert int.from_bytes(msg[24:28], "big") == len(msg) and msg[16] == PT_SK
    assert hmac.new(keys.sk_ai, msg[:-16], hashlib.sha256).digest()[:16] == msg[-16:]
    iv, ct = msg[HEADER_LEN + 4:HEADER_LEN + 20], msg[HEADER_LEN + 20:-16]
    dec = Cipher(algorithms.AES(keys.sk_ei), modes.CBC(iv)).decryptor()
    padded = dec.update(ct) + dec.finalize()
    assert padded[:len(plain)] == plain and padded[-1] == len(padded) - len(plain) - 1


def test_sk_gcm_bytes_independently():
    """RFC 5282: nonce = 4-byte salt (end of SK_e) | 8-byte IV; AAD = IKE header + SK generic header."""
    keys, header = _setup(GCM, None)
    plain = _payload_chain(INNER)
    msg = encrypt_sk(keys.initiator, GCM, None, PT_IDI, plain, header, random.Random(5))
    aad, iv, sealed = msg[:HEADER_LEN + 4], msg[HEADER_LEN + 4:HEADER_LEN + 12], msg[HEADER_LEN + 12:]
    inner = AESGCM(keys.sk_ei[:32]).decrypt(keys.sk_ei[32:] + iv, sealed, aad)
    assert inner[:len(plain)] == plain and inner[-1] == len(inner) - len(plain) - 1


@pytest.mark.parametrize("encr, integ", [(CBC, AUTH_HMAC_SHA2_256_128), (GCM, None)])
def test_sk_tamper_anywhere_is_detected(encr, integ):
    keys, header = _setup(encr, integ)
    msg = encrypt_sk(keys.initiator, encr, integ, PT_IDI, _payload_chain(INNER), header, random.Random(5))
    for at in [0, 8, 19, 20, HEADER_LEN + 1, HEADER_LEN + 4, len(msg) // 2, len(msg) - 1]:
        bad = bytearray(msg)
        bad[at] ^= 0x01
        with pytest.raises(MalformedIke) as e:
            decrypt_sk(keys.initiator, encr, integ, bytes(bad))
        assert DropReason(e.value.reason)  # a known reason, integrity or a header check
    with pytest.raises(MalformedIke, match="IKE SK integrity check failed"):
        bad = bytearray(msg)
        bad[-1] ^= 0x80
        decrypt_sk(keys.initiator, encr, integ, bytes(bad))


def test_sk_short_payload():
    keys, header = _setup(CBC, AUTH_HMAC_SHA2_256_128)
    msg = IkeMessage(b"A" * 8, b"B" * 8, IKE_AUTH, 1).header(HEADER_LEN + 4 + 20)
    msg = msg[:16] + bytes([PT_SK]) + msg[17:] + bytes([PT_IDI, 0, 0, 24]) + bytes(20)
    with pytest.raises(MalformedIke, match="IKE bad SK payload"):
        decrypt_sk(keys.initiator, CBC, AUTH_HMAC_SHA2_256_128, msg)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.sampled_from([(CBC, AUTH_HMAC_SHA2_256_128), (GCM, None)]), st.booleans())
def test_fuzz_decrypt_sk(tail, suite, as_sk):
    """Any datagram either opens or raises MalformedIke with an IKE drop reason."""
    encr, integ = suite
    keys, header = _setup(encr, integ)
    body = bytes([PT_IDI, 0]) + (4 + len(tail)).to_bytes(2, "big") + tail if as_sk else tail
    data = header[:16] + bytes([PT_SK if as_sk else 0]) + header[17:24] + (HEADER_LEN + len(body)).to_bytes(4, "big") + body
    try:
        decrypt_sk(keys.initiator, encr, integ, data)
    except MalformedIke as e:
        assert DropReason(e.reason).name.startswith("IKE_")
