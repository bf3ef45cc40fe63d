"""Shared test helpers for the ESP core: packet builders, SA pairs, a fixed-IV RNG, pcap."""

from __future__ import annotations

import random
import struct

from ipsecsim.netipsec import SecurityAssociation
from ipsecsim.packet import internet_checksum

# One entry per (enc, enc_key, auth, auth_key) FreeBSD supports [S6.9].
ALGORITHMS = [
    ("null", b"", None, b""),
    ("null", b"", "hmac-sha1", b"A" * 20),
    ("null", b"", "null", b""),
    ("aes-cbc", b"K" * 16, None, b""),
    ("aes-cbc", b"K" * 16, "hmac-sha1", b"A" * 20),
    ("aes-cbc", b"K" * 24, "hmac-sha2-256", b"A" * 32),
    ("aes-cbc", b"K" * 32, "hmac-sha2-384", b"A" * 48),
    ("aes-cbc", b"K" * 32, "hmac-sha2-512", b"A" * 64),
    ("aes-ctr", b"K" * 20, "hmac-sha2-256", b"A" * 32),
    ("aes-ctr", b"K" * 36, None, b""),
    ("aes-gcm-16", b"K" * 20, None, b""),
    ("aes-gcm-16", b"K" * 28, None, b""),
    ("aes-gcm-16", b"K" * 36, None, b""),
    ("chacha20-poly1305", b"K" * 36, None, b""),
]


def alg_id(alg: tuple) -> str:
    enc, key, auth, _ = alg
    return f"{enc}{len(key) * 8 if key else ''}+{auth or 'none'}"


def hx(text: str) -> bytes:
    """Hex as RFCs print it: whitespace ignored."""
    return bytes.fromhex("".join(text.split()))


class FixedRng(random.Random):
    """An RNG whose 128-bit draws are given in order (RFC vectors fix the CBC IV)."""

    def __init__(self, *ivs: bytes):
        super().__init__(0)
        self.ivs = list(ivs)

    def getrandbits(self, k: int) -> int:
        if k == 128 and self.ivs:
            return int.from_bytes(self.ivs.pop(0), "big")
        return super().getrandbits(k)


def ipv4(payload: bytes, *, proto: int = 1, src: str = "172.16.0.3", dst: str = "172.16.0.5",
         tos: int = 0, df: bool = False, ttl: int = 64, ident: int = 0x1234) -> bytes:  # fmt: skip
    import ipaddress

    hdr = struct.pack(
        "!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), ident, 0x4000 if df else 0, ttl, proto, 0,
        ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed,
    )  # fmt: skip
    return hdr[:10] + internet_checksum(hdr).to_bytes(2, "big") + hdr[12:] + payload


def ipv6(payload: bytes, *, nxt: int = 58, src: str = "fd00::3", dst: str = "fd00::5", tclass: int = 0,
         hlim: int = 64) -> bytes:  # fmt: skip
    import ipaddress

    return struct.pack(
        "!IHBB16s16s", 0x60000000 | tclass << 20, len(payload), nxt, hlim,
        ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed,
    ) + payload  # fmt: skip


def ping(size: int = 84, **kw) -> bytes:
    """An IPv4 ICMP echo request of ``size`` bytes in all (84: ping's default). [S6.10]"""
    body = bytes(i & 0xFF for i in range(size - 28))
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x3A08, 1) + body
    icmp = icmp[:2] + internet_checksum(icmp).to_bytes(2, "big") + icmp[4:]
    return ipv4(icmp, proto=1, **kw)


def sa_pair(enc="aes-gcm-16", enc_key=b"K" * 20, auth=None, auth_key=b"", *, src="192.168.0.3",
            dst="192.168.0.5", spi=10000, seed=1, **kw) -> tuple[SecurityAssociation, SecurityAssociation]:  # fmt: skip
    """Sender and receiver of one SA (two hosts each hold a copy, as with setkey on both)."""
    common = dict(src=src, dst=dst, spi=spi, enc=enc, enc_key=enc_key, auth=auth, auth_key=auth_key, **kw)
    return (
        SecurityAssociation(**common, rng=random.Random(seed)),
        SecurityAssociation(**common, rng=random.Random(seed + 1000)),
    )


class Pcap:
    """A minimal pcap writer (linktype 101, raw IP), in case trace.pcap is not there yet."""

    def __init__(self, path, linktype: int = 101):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))

    def write(self, t: float, data: bytes) -> None:
        sec = int(t)
        self.f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(data), len(data)) + data)

    def close(self) -> None:
        self.f.close()
