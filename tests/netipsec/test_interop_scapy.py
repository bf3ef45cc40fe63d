"""Interoperability with an independent ESP implementation: scapy's SecurityAssociation.

Both ways (scapy decrypts ours, we decrypt scapy's), tunnel and transport, IPv4 and
IPv6, for every algorithm pair scapy and FreeBSD share. FreeBSD's NULL *auth*
(a 12-byte zero ICV [S6.8]) has no scapy counterpart and is left out.
"""

from __future__ import annotations

import pytest

pytest.importorskip("scapy")
from scapy.layers.inet import ICMP, IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.ipsec import ESP  # noqa: E402
from scapy.layers.ipsec import SecurityAssociation as ScapySA  # noqa: E402

from ipsecsim.netipsec import SecurityAssociation  # noqa: E402

SCAPY_ENC = {"null": "NULL", "aes-cbc": "AES-CBC", "aes-ctr": "AES-CTR", "aes-gcm-16": "AES-GCM",
             "chacha20-poly1305": "CHACHA20-POLY1305"}  # fmt: skip
SCAPY_AUTH = {None: None, "hmac-sha1": "HMAC-SHA1-96", "hmac-sha2-256": "SHA2-256-128",
              "hmac-sha2-384": "SHA2-384-192", "hmac-sha2-512": "SHA2-512-256"}  # fmt: skip
AUTH_KEYS = {None: b"", "hmac-sha1": b"a" * 20, "hmac-sha2-256": b"b" * 32, "hmac-sha2-384": b"c" * 48,
             "hmac-sha2-512": b"d" * 64}  # fmt: skip
ENC_KEYS = {"null": b"", "aes-cbc": b"0123456789abcdef0123456789abcdef", "aes-ctr": b"0123456789abcdef" + b"ctr!",
            "aes-gcm-16": b"0123456789abcdef01234567" + b"salt", "chacha20-poly1305": b"c" * 32 + b"salt"}  # fmt: skip
PAIRS = [(e, a) for e in ("null", "aes-cbc", "aes-ctr") for a in SCAPY_AUTH] + [
    ("aes-gcm-16", None),
    ("chacha20-poly1305", None),
]
ENDPOINTS = {4: ("192.0.2.1", "192.0.2.2", "10.1.0.1", "10.2.0.1"), 6: ("2001:db8::1", "2001:db8::2", "fd00:1::1", "fd00:2::1")}


def build(enc, auth, family, mode):
    src, dst, isrc, idst = ENDPOINTS[family]
    ip = IP if family == 4 else IPv6
    scapy_sa = ScapySA(
        ESP, spi=0x1001, crypt_algo=SCAPY_ENC[enc], crypt_key=ENC_KEYS[enc] or None, auth_algo=SCAPY_AUTH[auth],
        auth_key=AUTH_KEYS[auth] or None, tunnel_header=ip(src=src, dst=dst) if mode == "tunnel" else None,
    )  # fmt: skip
    ours = SecurityAssociation(src=src, dst=dst, spi=0x1001, enc=enc, enc_key=ENC_KEYS[enc], auth=auth,
                               auth_key=AUTH_KEYS[auth], mode=mode)  # fmt: skip
    if mode == "tunnel":
        inner = ip(src=isrc, dst=idst) / ICMP() / (b"ping payload " * 5) if family == 4 else (
            ip(src=isrc, dst=idst) / UDP(sport=1, dport=2) / (b"v6 payload " * 5))  # fmt: skip
    else:
        inner = ip(src=src, dst=dst) / UDP(sport=1000, dport=2000) / (b"transport " * 7)
    return scapy_sa, ours, bytes(inner)


@pytest.mark.parametrize("mode", ["tunnel", "transport"])
@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("enc,auth", PAIRS, ids=[f"{e}+{a or 'none'}" for e, a in PAIRS])
def test_scapy_decrypts_ours(enc, auth, family, mode):
    scapy_sa, ours, inner = build(enc, auth, family, mode)
    ip = IP if family == 4 else IPv6
    for _ in range(2):
        wire = ours.encapsulate(inner)
        assert bytes(scapy_sa.decrypt(ip(wire))) == inner


@pytest.mark.parametrize("mode", ["tunnel", "transport"])
@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("enc,auth", PAIRS, ids=[f"{e}+{a or 'none'}" for e, a in PAIRS])
def test_we_decrypt_scapys(enc, auth, family, mode):
    scapy_sa, ours, inner = build(enc, auth, family, mode)
    ip = IP if family == 4 else IPv6
    for _ in range(2):
        wire = bytes(scapy_sa.encrypt(ip(inner)))
        # transport: both rebuild the same header (protocol, length, checksum)
        assert ours.decapsulate(wire) == inner
