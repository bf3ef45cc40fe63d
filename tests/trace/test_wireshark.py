"""ipsecsim/trace/wireshark.py: the esp_sa UAT file, proved by tshark decrypting scapy-made ESP.

scapy's SecurityAssociation makes the ESP packets (an implementation independent of
ours), PcapWriter writes them, write_esp_sa_uat writes the keys, and tshark must show
the inner packet and, where Wireshark can check it, a correct ICV.
"""

import os
import subprocess

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.packet import Raw

from ipsecsim.trace.pcap import LINKTYPE_RAW, PcapWriter
from ipsecsim.trace.wireshark import (
    EspSaRow,
    esp_sa_record,
    format_esp_sa_uat,
    tshark_decrypt_command,
    tshark_uat_options,
    write_esp_sa_uat,
)

try:
    from tshark import require_tshark, tshark_expert_problems, tshark_fields, tshark_run
except ModuleNotFoundError:  # tests/ made a package
    from tests.tshark import require_tshark, tshark_expert_problems, tshark_fields, tshark_run

DECRYPT = {"esp.enable_encryption_decode": "TRUE", "esp.enable_authentication_check": "TRUE"}

# The if_ipsec(4) man page's example keys.
KEY1 = b"VerySecureKey!!1"
KEY2 = b"VerySecureKey!!2"


# FreeBSD setkey name -> scapy name, key length in bytes (salt included)
SCAPY_CRYPT = {
    "null": ("NULL", 0),
    "rijndael-cbc": ("AES-CBC", 16),
    "aes-cbc": ("AES-CBC", 32),
    "aes-ctr": ("AES-CTR", 20),
    "aes-gcm-16": ("AES-GCM", 36),
    "chacha20-poly1305": ("CHACHA20-POLY1305", 36),
}
SCAPY_AUTH = {
    None: ("NULL", 0),
    "hmac-sha1": ("HMAC-SHA1-96", 20),
    "hmac-sha2-256": ("SHA2-256-128", 32),
    "hmac-sha2-384": ("SHA2-384-192", 48),
    "hmac-sha2-512": ("SHA2-512-256", 64),
}


def key(n: int, seed: int) -> bytes:
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(n))


def make_sa(family, src, dst, spi, encryption, authentication, enc_key=None):
    crypt, klen = SCAPY_CRYPT[encryption]
    auth, alen = SCAPY_AUTH[authentication]
    enc_key = enc_key if enc_key is not None else key(klen, spi)
    auth_key = key(alen, spi + 1)
    outer = IP(src=src, dst=dst) if family == 4 else IPv6(src=src, dst=dst)
    sa = SecurityAssociation(ESP, spi=spi, crypt_algo=crypt, crypt_key=enc_key or None,
                             auth_algo=auth, auth_key=auth_key or None, tunnel_header=outer)
    row = EspSaRow(family, src, dst, spi, encryption, enc_key, authentication, auth_key)
    return sa, row


def ping(inner_family, seq, reply=False):
    if inner_family == 4:
        src, dst = ("172.16.0.5", "172.16.0.3") if reply else ("172.16.0.3", "172.16.0.5")
        return IP(src=src, dst=dst) / ICMP(type=0 if reply else 8, id=1, seq=seq) / Raw(b"x" * 56)
    return IPv6(src="fd00::3", dst="fd00::5") / ICMPv6EchoRequest(id=1, seq=seq, data=b"x" * 56)


def capture(path, packets):
    with PcapWriter(path, LINKTYPE_RAW) as w:
        for i, pkt in enumerate(packets):
            w.write(1.0 + i, bytes(pkt))
    return path


# The file format ------------------------------------------------------------------------------


def test_record_format_is_wiresharks():
    row = EspSaRow(4, "192.168.0.3", "192.168.0.5", 10000, "rijndael-cbc", KEY1, "hmac-sha1", b"A" * 20)
    assert esp_sa_record(row) == (
        '"IPv4","192.168.0.3","192.168.0.5","0x00002710","AES-CBC [RFC3602]",'
        '"0x566572795365637572654b6579212131","HMAC-SHA-1-96 [RFC2404]",'
        '"0x4141414141414141414141414141414141414141"'
    )
    gcm = EspSaRow(6, "2001:db8:0::3", "2001:DB8::5", 0x10001, "aes-gcm-16", bytes(20))
    assert esp_sa_record(gcm) == (
        '"IPv6","2001:db8::3","2001:db8::5","0x00010001","AES-GCM with 16 octet ICV [RFC4106]",'
        '"0x0000000000000000000000000000000000000000","NULL",""'
    )


def test_file_text_and_deduplication(tmp_path):
    a = EspSaRow(4, "192.168.0.3", "192.168.0.5", 10000, "rijndael-cbc", KEY1)
    b = EspSaRow(4, "192.168.0.5", "192.168.0.3", 10001, "rijndael-cbc", KEY2)
    c = EspSaRow(4, "192.168.0.5", "192.168.0.3", 7, "chacha20-poly1305", bytes(36))
    path = write_esp_sa_uat(tmp_path, [c, a, b, a])
    assert path == tmp_path / "esp_sa"
    lines = path.read_text().splitlines()
    records = [line for line in lines if not line.startswith("#")]
    assert records == [esp_sa_record(a), esp_sa_record(b), esp_sa_record(c)]  # ChaCha20 last
    assert lines[-2].startswith("# ChaCha20-Poly1305 needs a Wireshark newer than 4.0")
    assert write_esp_sa_uat(tmp_path / "other", [a, b]).read_text() == format_esp_sa_uat([a, b])


@pytest.mark.parametrize("kwargs, message", [
    (dict(family=5), "family"),
    (dict(src="192.168.0.300"), "not an IP address"),
    (dict(dst="2001:db8::5"), "not an IPv4 address"),
    (dict(spi=2**32), "SPI"),
    (dict(encryption="des-cbc"), "unknown encryption"),
    (dict(authentication="hmac-sha3"), "unknown authentication"),
    (dict(enc_key=b"short"), "key must be 16 or 24 or 32 bytes"),
    (dict(encryption="aes-gcm-16", enc_key=bytes(20)), "authentication must be None"),
    (dict(authentication=None, auth_key=b"k"), "auth_key given"),
])
def test_row_validation(kwargs, message):
    fields = dict(family=4, src="192.168.0.3", dst="192.168.0.5", spi=1, encryption="aes-cbc",
                  enc_key=KEY1, authentication="hmac-sha1", auth_key=b"k" * 20)
    fields.update(kwargs)
    with pytest.raises(ValueError, match=message):
        EspSaRow(**fields)


def test_decrypt_command_text():
    assert tshark_decrypt_command("out", "A-em0.pcap") == (
        "WIRESHARK_CONFIG_DIR=out tshark -o esp.enable_encryption_decode:TRUE "
        "-o esp.enable_authentication_check:TRUE -r out/A-em0.pcap"
    )
    assert "'my runs/A-em0.pcap'" in tshark_decrypt_command("my runs", "A-em0.pcap")


# tshark decrypts what the file describes ----------------------------------------------------

ALGORITHMS = [
    ("rijndael-cbc", None),
    ("rijndael-cbc", "hmac-sha1"),
    ("aes-cbc", "hmac-sha2-256"),
    ("aes-cbc", "hmac-sha2-384"),
    ("aes-cbc", "hmac-sha2-512"),
    ("aes-ctr", "hmac-sha1"),
    ("aes-gcm-16", None),
    ("null", "hmac-sha2-256"),
]


@pytest.mark.tshark
@pytest.mark.parametrize("encryption, authentication", ALGORITHMS, ids=[f"{e}+{a}" for e, a in ALGORITHMS])
def test_tshark_decrypts_tunnel_mode_ipv4(tmp_path, encryption, authentication):
    require_tshark()
    out_sa, out_row = make_sa(4, "192.168.0.3", "192.168.0.5", 10000, encryption, authentication)
    in_sa, in_row = make_sa(4, "192.168.0.5", "192.168.0.3", 10001, encryption, authentication)
    pcap = capture(tmp_path / "A-em0.pcap", [
        out_sa.encrypt(ping(4, 0)), in_sa.encrypt(ping(4, 0, reply=True)),
        out_sa.encrypt(ping(4, 1)), in_sa.encrypt(ping(4, 1, reply=True)),
    ])
    write_esp_sa_uat(tmp_path, [out_row, in_row])
    rows = tshark_fields(pcap, ["esp.spi", "esp.sequence", "ip.src", "icmp.type", "icmp.seq", "esp.icv_good", "esp.icv_bad"],
                         prefs=DECRYPT, config_dir=tmp_path)
    assert [(r["esp.spi"], r["esp.sequence"], r["icmp.type"], r["icmp.seq"]) for r in rows] == [
        ("0x00002710", "1", "8", "0"), ("0x00002711", "1", "0", "0"),
        ("0x00002710", "2", "8", "1"), ("0x00002711", "2", "0", "1"),
    ]
    assert rows[0]["ip.src"] == "192.168.0.3,172.16.0.3"
    if authentication is not None or encryption == "aes-gcm-16":
        assert all(r["esp.icv_good"] == "1" and r["esp.icv_bad"] == "0" for r in rows), rows
    assert tshark_expert_problems(pcap, DECRYPT, config_dir=tmp_path) == []


@pytest.mark.tshark
def test_tshark_decrypts_ipv6_outer_and_inner(tmp_path):
    require_tshark()
    sa6, row6 = make_sa(6, "2001:db8::3", "2001:db8::5", 0x200, "aes-cbc", "hmac-sha2-256")
    sa4in6, row4in6 = make_sa(6, "2001:db8::5", "2001:db8::3", 0x201, "aes-gcm-16", None)
    pcap = capture(tmp_path / "A-em0.pcap", [sa6.encrypt(ping(6, 3)), sa4in6.encrypt(ping(4, 4, reply=True))])
    write_esp_sa_uat(tmp_path / "esp_sa", [row6, row4in6])
    rows = tshark_fields(pcap, ["ipv6.src", "ip.src", "icmpv6.type", "icmp.type", "esp.icv_good"],
                         prefs=DECRYPT, config_dir=tmp_path)
    assert rows[0]["ipv6.src"] == "2001:db8::3,fd00::3" and rows[0]["icmpv6.type"] == "128"
    assert rows[1]["ip.src"] == "172.16.0.5" and rows[1]["icmp.type"] == "0"
    assert [r["esp.icv_good"] for r in rows] == ["1", "1"]


@pytest.mark.tshark
def test_tshark_decrypts_with_command_line_uat_rows(tmp_path):
    """The same rows work as ``-o uat:esp_sa:...`` arguments, with no file at all."""
    require_tshark()
    sa, row = make_sa(4, "192.168.0.3", "192.168.0.5", 10000, "rijndael-cbc", None, enc_key=KEY1)
    pcap = capture(tmp_path / "A-em0.pcap", [sa.encrypt(ping(4, 0))])
    args = ["-n", "-r", str(pcap), "-o", "esp.enable_encryption_decode:TRUE", *tshark_uat_options([row]),
            "-T", "fields", "-e", "icmp.type"]
    assert tshark_run(args).stdout.split() == ["8"]


@pytest.mark.tshark
def test_printed_command_decrypts(tmp_path):
    """The command a run prints, pasted into a shell, decrypts the capture."""
    require_tshark()
    sa, row = make_sa(4, "192.168.0.3", "192.168.0.5", 10000, "rijndael-cbc", "hmac-sha1", enc_key=KEY1)
    out = tmp_path / "run out"
    out.mkdir()
    capture(out / "A-em0.pcap", [sa.encrypt(ping(4, 0))])
    write_esp_sa_uat(out, [row])
    command = tshark_decrypt_command(out, "A-em0.pcap") + " -T fields -e icmp.type -e esp.icv_good"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    proc = subprocess.run(["sh", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["8", "1"]


@pytest.mark.tshark
def test_without_the_keys_nothing_is_decrypted(tmp_path):
    require_tshark()
    sa, row = make_sa(4, "192.168.0.3", "192.168.0.5", 10000, "rijndael-cbc", "hmac-sha1", enc_key=KEY1)
    pcap = capture(tmp_path / "A-em0.pcap", [sa.encrypt(ping(4, 0))])
    wrong = EspSaRow(4, "192.168.0.3", "192.168.0.5", 10001, "rijndael-cbc", KEY1, "hmac-sha1", row.auth_key)
    write_esp_sa_uat(tmp_path, [wrong])  # another SPI
    rows = tshark_fields(pcap, ["icmp.type", "esp.spi"], prefs=DECRYPT, config_dir=tmp_path)
    assert rows == [{"icmp.type": "", "esp.spi": "0x00002710"}]


@pytest.mark.tshark
def test_chacha20_rows_do_not_spoil_the_others(tmp_path):
    """tshark 4.0 rejects a ChaCha20 row ("invalid value") but must still use the other rows;
    a tshark that knows ChaCha20-Poly1305 decrypts it too."""
    require_tshark()
    cbc, cbc_row = make_sa(4, "192.168.0.3", "192.168.0.5", 10000, "rijndael-cbc", "hmac-sha1", enc_key=KEY1)
    chacha, chacha_row = make_sa(4, "192.168.0.5", "192.168.0.3", 10001, "chacha20-poly1305", None)
    pcap = capture(tmp_path / "A-em0.pcap", [cbc.encrypt(ping(4, 0)), chacha.encrypt(ping(4, 0, reply=True))])
    write_esp_sa_uat(tmp_path, [chacha_row, cbc_row])
    proc = tshark_run(["-n", "-r", str(pcap), "-o", "esp.enable_encryption_decode:TRUE", "-T", "fields",
                       "-e", "icmp.type"], config_dir=tmp_path)
    types = proc.stdout.split("\n")[:2]
    assert types[0] == "8"
    if "invalid value: ChaCha20" in proc.stderr:
        pytest.skip("this tshark has no ChaCha20-Poly1305 ESP decryption (added after 4.0)")
    assert types[1] == "0"
