"""ESP encapsulate + decapsulate per packet, next to the bare crypto floor and scapy, same run.

Run:  python benchmarks/esp.py [--quick]

For each algorithm and inner packet size (64, 512, 1400 bytes) it prints CPU
microseconds per packet for one ``encapsulate`` plus one ``decapsulate`` (tunnel
mode, IPv4), for the floor (the bare ``cryptography`` calls a minimal ESP must make
on the same bytes, key objects kept per SA: AEAD encrypt+decrypt, or cipher and
HMAC both ways with a fresh cipher context per packet, the plain API), and for
scapy's ``SecurityAssociation.encrypt``/``decrypt``. Ratios come from one run; the
machine is noisy (+-25%), so compare ratios, not absolute times across runs.
Targets (issue 3): 1400-byte AES-GCM within 2x of the floor, >= 200x faster than scapy.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
from pathlib import Path

# Measure this checkout, not whatever copy of ipsecsim is installed: run as a script,
# Python puts benchmarks/ on the path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA

from ipsecsim.buildinfo import build_name  # noqa: E402
from ipsecsim.netipsec import SecurityAssociation  # noqa: E402
from ipsecsim.netipsec.esp import decapsulate, esp_input, esp_output  # noqa: E402

# (label, enc, key, auth, auth key, scapy crypt, scapy auth)
CASES = [
    ("null+hmac-sha2-256", "null", b"", "hmac-sha2-256", b"a" * 32, "NULL", "SHA2-256-128"),
    ("aes-cbc-128+hmac-sha1", "aes-cbc", b"k" * 16, "hmac-sha1", b"a" * 20, "AES-CBC", "HMAC-SHA1-96"),
    ("aes-cbc-256+hmac-sha2-256", "aes-cbc", b"k" * 32, "hmac-sha2-256", b"a" * 32, "AES-CBC", "SHA2-256-128"),
    ("aes-ctr-128+hmac-sha2-256", "aes-ctr", b"k" * 20, "hmac-sha2-256", b"a" * 32, "AES-CTR", "SHA2-256-128"),
    ("aes-gcm-16-128", "aes-gcm-16", b"k" * 20, None, b"", "AES-GCM", None),
    ("aes-gcm-16-256", "aes-gcm-16", b"k" * 36, None, b"", "AES-GCM", None),
    ("chacha20-poly1305", "chacha20-poly1305", b"k" * 36, None, b"", "CHACHA20-POLY1305", None),
]
SIZES = (64, 512, 1400)
_HASH = {"hmac-sha1": hashes.SHA1, "hmac-sha2-256": hashes.SHA256}
_ICV = {"hmac-sha1": 12, "hmac-sha2-256": 16}


def inner_packet(size: int) -> bytes:
    payload = bytes(i & 0xFF for i in range(size - 28))
    udp = struct.pack("!HHHH", 1000, 2000, 8 + len(payload), 0) + payload
    return bytes(IP(src="172.16.0.3", dst="172.16.0.5", proto=17) / UDP(udp))[:20] + udp


def cpu_per_call(fn, n: int, repeats: int) -> float:
    """Best of ``repeats`` runs of ``n`` calls, CPU seconds per call."""
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - t) / n)
    return best


def sa_pair(case):
    """A sending and a receiving SA of one algorithm (tunnel mode, no replay window)."""
    _, enc, key, auth, akey, *_ = case
    kw = dict(src="192.168.0.3", dst="192.168.0.5", spi=10000, enc=enc, enc_key=key, auth=auth, auth_key=akey,
              mode="tunnel")  # fmt: skip
    return SecurityAssociation(**kw, rng=random.Random(1)), SecurityAssociation(**kw, rng=random.Random(2))


def ours(case, inner):
    tx, rx = sa_pair(case)
    # the functions the kernel calls (the SA's methods are wrappers around them)
    assert decapsulate(rx, esp_output(tx, inner)) == inner
    return lambda: decapsulate(rx, esp_output(tx, inner))


def kernel_path(case, inner):
    """What the kernel runs: esp_output, then esp_input at the offset IP input found (20)."""
    tx, rx = sa_pair(case)
    assert esp_input(rx, esp_output(tx, inner), 20, 9)[0] == inner
    return lambda: esp_input(rx, esp_output(tx, inner), 20, 9)


def floor(case, inner):
    """The bare cryptography calls on the same bytes (payload + 2-byte trailer, padded)."""
    _, enc, key, auth, akey, *_ = case
    blks = 16 if enc in ("aes-cbc", "aes-ctr") else 4
    pt = inner + bytes((-(len(inner) + 2)) % blks) + b"\x00\x04"
    aad, iv8, iv16 = b"\x00\x00\x27\x10\x00\x00\x00\x01", bytes(8), bytes(16)
    if enc in ("aes-gcm-16", "chacha20-poly1305"):
        aead = (AESGCM if enc == "aes-gcm-16" else ChaCha20Poly1305)(key[:-4])
        nonce = key[-4:] + iv8
        return lambda: aead.decrypt(nonce, aead.encrypt(nonce, pt, aad), aad)
    tmpl = hmac.HMAC(akey, _HASH[auth]())
    n = _ICV[auth]

    def mac(data):
        h = tmpl.copy()
        h.update(data)
        return h.finalize()[:n]

    if enc == "null":
        return lambda: (mac(aad + pt), mac(aad + pt))
    aes = algorithms.AES(key[:16] if enc == "aes-ctr" else key)
    mode = (lambda: modes.CTR(key[16:] + iv8 + b"\x00\x00\x00\x01")) if enc == "aes-ctr" else (lambda: modes.CBC(iv16))

    def both():
        ct = Cipher(aes, mode()).encryptor().update(pt)
        mac(aad + iv16 + ct)
        mac(aad + iv16 + ct)
        return Cipher(aes, mode()).decryptor().update(ct)

    return both


def scapy(case, inner):
    _, enc, key, auth, akey, crypt, sauth = case
    sa = ScapySA(ESP, spi=10000, crypt_algo=crypt, crypt_key=key or None, auth_algo=sauth, auth_key=akey or None,
                 tunnel_header=IP(src="192.168.0.3", dst="192.168.0.5"))  # fmt: skip
    pkt = IP(inner)
    assert bytes(sa.decrypt(sa.encrypt(pkt))) == inner
    return lambda: sa.decrypt(sa.encrypt(pkt))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = ap.parse_args()
    n, n_scapy, repeats = (2000, 20, 2) if args.quick else (20000, 200, 5)
    print(f"ipsecsim build: {build_name()}")
    print(f"{'algorithm':27} {'size':>5} {'ours us':>8} {'floor us':>9} {'ours/floor':>10} {'scapy us':>9}"
          f" {'scapy/ours':>10} {'pkts/CPU-s':>10}")  # fmt: skip
    verdicts = []
    for case in CASES:
        for size in SIZES:
            inner = inner_packet(size)
            t_ours = cpu_per_call(ours(case, inner), n, repeats)
            t_floor = cpu_per_call(floor(case, inner), n, repeats)
            t_scapy = cpu_per_call(scapy(case, inner), n_scapy, max(1, repeats // 2))
            print(f"{case[0]:27} {size:5} {t_ours * 1e6:8.2f} {t_floor * 1e6:9.2f} {t_ours / t_floor:10.2f}"
                  f" {t_scapy * 1e6:9.0f} {t_scapy / t_ours:10.0f} {1 / t_ours:10.0f}")  # fmt: skip
            if case[0] == "aes-gcm-16-128" and size == 1400:
                verdicts.append(("1400 B AES-GCM within 2x of the floor", t_ours / t_floor <= 2.0, t_ours / t_floor))
                verdicts.append((">= 200x faster than scapy", t_scapy / t_ours >= 200, t_scapy / t_ours))
    print("\n(pkts/CPU-s counts one encapsulate plus one decapsulate as a packet)")
    for what, ok, value in verdicts:
        print(f"target {what}: {'met' if ok else 'MISSED'} ({value:.2f})")


if __name__ == "__main__":
    main()
