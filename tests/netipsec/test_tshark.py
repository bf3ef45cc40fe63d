"""Wireshark as an outside verifier: tshark decrypts the ESP this core produces.

One capture holds packets of every algorithm pair Wireshark 4.0 can decrypt, each
on its own SPI, IPv4-in-IPv4 and IPv6-in-IPv6; tshark must find a good ICV
(``esp.icv_good``) and the inner ping's fields. Not covered: ChaCha20-Poly1305
(Wireshark 4.0 has no decryptor for it) and FreeBSD's NULL authentication, whose
12 zero bytes Wireshark's "NULL" (no ICV) does not describe.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6

from ipsecsim.netipsec import SecurityAssociation
from ipsecsim.trace.pcap import LINKTYPE_RAW, PcapWriter
from ipsecsim.trace.wireshark import EspSaRow, esp_sa_record

from .helpers import ping

try:
    from tshark import require_tshark, tshark_expert_problems, tshark_fields, tshark_version
except ModuleNotFoundError:  # tests/ made a package
    from tests.tshark import require_tshark, tshark_expert_problems, tshark_fields, tshark_version

DECRYPT = {"esp.enable_encryption_decode": "TRUE", "esp.enable_authentication_check": "TRUE"}
PAIRS = [
    ("null", b"", "hmac-sha1", b"\x11" * 20),
    ("null", b"", "hmac-sha2-256", b"\x12" * 32),
    ("aes-cbc", b"\x21" * 16, None, b""),
    ("aes-cbc", b"\x22" * 16, "hmac-sha1", b"\x13" * 20),
    ("aes-cbc", b"\x23" * 24, "hmac-sha2-256", b"\x14" * 32),
    ("aes-cbc", b"\x24" * 32, "hmac-sha2-384", b"\x15" * 48),
    ("aes-cbc", b"\x25" * 32, "hmac-sha2-512", b"\x16" * 64),
    ("aes-ctr", b"\x26" * 20, "hmac-sha2-256", b"\x17" * 32),
    ("aes-ctr", b"\x27" * 36, None, b""),
    ("aes-gcm-16", b"\x28" * 20, None, b""),
    ("aes-gcm-16", b"\x29" * 28, None, b""),
    ("aes-gcm-16", b"\x2a" * 36, None, b""),
    ("chacha20-poly1305", b"\x2b" * 36, None, b""),
]
ENDPOINTS = {4: ("192.168.0.3", "192.168.0.5"), 6: ("2001:db8::3", "2001:db8::5")}


def inner_ping(family: int, seq: int) -> bytes:
    if family == 4:
        return ping(84, src="172.16.0.3", dst="172.16.0.5", ident=seq)
    return bytes(IPv6(src="fd00::3", dst="fd00::5") / ICMPv6EchoRequest(id=7, seq=seq, data=b"x" * 56))


@pytest.mark.tshark
@pytest.mark.parametrize("family", [4, 6])
def test_tshark_decrypts_every_algorithm(tmp_path, family):
    require_tshark()
    pairs = [p for p in PAIRS if p[0] != "chacha20-poly1305" or tshark_version() >= (4, 2, 0)]
    src, dst = ENDPOINTS[family]
    pcap, rows, expect = tmp_path / f"esp{family}.pcap", [], []
    with PcapWriter(pcap, LINKTYPE_RAW) as w:
        for i, (enc, key, auth, akey) in enumerate(pairs):
            spi = 0x1000 + i
            sa = SecurityAssociation(src=src, dst=dst, spi=spi, enc=enc, enc_key=key, auth=auth, auth_key=akey,
                                     mode="tunnel")  # fmt: skip
            rows.append(esp_sa_record(EspSaRow(family, src, dst, spi, enc, key, auth, akey)))
            for seq in (1, 2):
                w.write(i + seq / 10, sa.encapsulate(inner_ping(family, seq)))
                expect.append((f"{enc}+{auth}", f"0x{spi:08x}", str(seq), auth is not None or sa.enc.aead))
    proto = "icmp" if family == 4 else "icmpv6"
    fields = ["esp.spi", "esp.sequence", "esp.icv_good", "esp.icv_bad", f"{proto}.type", "ip.src", "ipv6.src"]
    got = tshark_fields(pcap, fields, prefs=DECRYPT, uat={"esp_sa": rows})
    assert len(got) == len(expect)
    for (name, spi, seq, has_icv), row in zip(expect, got):
        assert (row["esp.spi"], row["esp.sequence"]) == (spi, seq), name
        if has_icv:
            assert (row["esp.icv_good"], row["esp.icv_bad"]) == ("1", "0"), (name, row)
        assert row[f"{proto}.type"] == "8" if family == 4 else "128", (name, row)
        if family == 4:
            assert row["ip.src"] == "192.168.0.3,172.16.0.3", (name, row)
        else:
            assert row["ipv6.src"] == "2001:db8::3,fd00::3", (name, row)
    assert tshark_expert_problems(pcap, DECRYPT, uat={"esp_sa": rows}) == []


@pytest.mark.tshark
def test_tshark_sees_a_wrong_key(tmp_path):
    """The negative control: with the wrong HMAC key in the table tshark reports a bad ICV."""
    require_tshark()
    src, dst = ENDPOINTS[4]
    sa = SecurityAssociation(src=src, dst=dst, spi=0x2000, enc="aes-cbc", enc_key=b"k" * 16, auth="hmac-sha1",
                             auth_key=b"a" * 20, mode="tunnel")  # fmt: skip
    pcap = tmp_path / "bad.pcap"
    with PcapWriter(pcap, LINKTYPE_RAW) as w:
        w.write(0.0, sa.encapsulate(inner_ping(4, 1)))
    row = esp_sa_record(EspSaRow(4, src, dst, 0x2000, "aes-cbc", b"k" * 16, "hmac-sha1", b"b" * 20))
    got = tshark_fields(pcap, ["esp.icv_good", "esp.icv_bad"], prefs=DECRYPT, uat={"esp_sa": [row]})
    assert (got[0]["esp.icv_good"], got[0]["esp.icv_bad"]) == ("0", "1")
