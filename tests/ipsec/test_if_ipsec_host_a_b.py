"""The flagship: scenarios/if_ipsec_host_a_b.yaml, the if_ipsec(4) man page's example verbatim.

Run once with ``--pcap`` (module fixture) and checked the way a user would check it: the
ping gets 5/5 through ipsec0; tshark decrypts ``A-em0.pcap`` with nothing but the
``esp_sa`` file the run wrote; ``A-ipsec0.pcap`` (DLT_NULL) holds the plaintext; the
same seed gives the same bytes; ESP sizes and sequence numbers are FreeBSD's; and
``ifconfig ipsec0`` / ``setkey -DP`` / ``setkey -D`` match golden files. [S12.3]
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from scapy.utils import RawPcapReader

import ipsecsim
from ipsecsim.trace.wireshark import DECRYPT_PREFS

from .helpers import A_IN, A_OUT, B_IN, B_OUT, MANPAGE_YAML, check_golden

PREFS = dict(p.split(":", 1) for p in DECRYPT_PREFS)  # what the printed tshark command passes


def raw_pcap(path: Path) -> tuple[int, list[bytes]]:
    """(linktype, [record bytes]) read with scapy's reader, not ours."""
    reader = RawPcapReader(str(path))
    try:
        return reader.linktype, [bytes(data) for data, _meta in reader]
    finally:
        reader.close()


@pytest.fixture(scope="module")
def flagship(tmp_path_factory):
    """The man-page scenario run to its end with --pcap; (sim, result, pcap dir)."""
    pcap = tmp_path_factory.mktemp("flagship")
    sim = ipsecsim.load(MANPAGE_YAML, pcap=pcap)
    configured = {host: (sim.host(host).sh("ifconfig ipsec0"), sim.host(host).sh("setkey -DP")) for host in "AB"}
    result = sim.run()
    after = sim.host("A").sh("setkey -D")
    sim.close()
    return {"sim": sim, "result": result, "pcap": pcap, "configured": configured, "setkey_D_after": after}


def test_ping_5_of_5_through_ipsec0(flagship):
    """The README's first command: 5 transmitted, 5 received through ipsec0; every expect holds."""
    result = flagship["result"]
    (ping,) = result.pings
    assert (ping["from"], ping["to"], ping["transmitted"], ping["received"]) == ("A", B_IN, 5, 5)
    assert all(e.holds for e in result.expectations), result.summary()
    assert result.counters["A:ipsec0"]["opackets"] == 5 + 15000  # 5 echoes and the UDP flow
    assert result.counters["A:ipsec0"]["ipackets"] == 5  # the echo replies, attributed [S9.4]
    assert result.counters["A:ipsec0"]["oerrors"] == 0
    assert result.drops == {}
    assert {(sa["host"], sa["spi"], sa["reqid"], sa["mode"]) for sa in result.sas} == {
        ("A", 10000, 100, "tunnel"), ("A", 10001, 100, "tunnel"),
        ("B", 10000, 200, "tunnel"), ("B", 10001, 200, "tunnel"),
    }  # fmt: skip
    summary = result.summary()
    assert "A -> 172.16.0.5     5     5  0.0%" in summary
    assert "Security associations" in summary


@pytest.mark.tshark
def test_tshark_decrypts_with_only_esp_sa(flagship):
    """``WIRESHARK_CONFIG_DIR=DIR tshark -o esp.enable_encryption_decode:TRUE ...``: the inner
    ICMP echo requests (SPI 10000) and replies (SPI 10001) appear, nothing else configured."""
    from tshark import require_tshark, tshark_fields

    require_tshark()
    pcap = flagship["pcap"]
    assert sorted(p.name for p in pcap.iterdir()) == [
        "A-em0.pcap", "A-ipsec0.pcap", "A-lo0.pcap", "B-em0.pcap", "B-ipsec0.pcap", "B-lo0.pcap", "esp_sa"]  # fmt: skip
    fields = ["esp.spi", "esp.sequence", "ip.src", "ip.dst", "icmp.type", "icmp.seq"]
    rows = tshark_fields(pcap / "A-em0.pcap", fields, prefs=PREFS, display_filter="icmp", config_dir=pcap)
    got = [(r["esp.spi"], r["ip.src"], r["ip.dst"], r["icmp.type"], r["icmp.seq"]) for r in rows]
    expected = []
    for n in range(5):
        expected.append(("0x00002710", f"{A_OUT},{A_IN}", f"{B_OUT},{B_IN}", "8", str(n)))
        expected.append(("0x00002711", f"{B_OUT},{B_IN}", f"{A_OUT},{A_IN}", "0", str(n)))
    assert got == expected
    # without the esp_sa file the same capture shows no ICMP: the keys come from it alone
    assert tshark_fields(pcap / "A-em0.pcap", ["frame.number"], prefs=PREFS, display_filter="icmp") == []


@pytest.mark.tshark
def test_tshark_reads_the_plaintext_on_ipsec0(flagship):
    """``A-ipsec0.pcap``: DLT_NULL with AF_INET headers, the cleartext echoes both ways."""
    from tshark import require_tshark, tshark_fields

    require_tshark()
    rows = tshark_fields(flagship["pcap"] / "A-ipsec0.pcap", ["null.family", "ip.src", "ip.dst", "icmp.type"],
                         display_filter="icmp")  # fmt: skip
    assert [tuple(r.values()) for r in rows] == [("2", A_IN, B_IN, "8"), ("2", B_IN, A_IN, "0")] * 5


def test_ipsec0_capture_is_dlt_null_plaintext(flagship):
    """scapy's reader: linktype 0, each record a 4-byte little-endian AF_INET then the inner
    IPv4 packet; no ESP inside. [S5.2] [S9.4] DESIGN.md --pcap"""
    linktype, records = raw_pcap(flagship["pcap"] / "A-ipsec0.pcap")
    assert linktype == 0
    assert len(records) == 5 + 15000 + 5
    assert all(r[:4] == struct.pack("<I", 2) and r[4] >> 4 == 4 and r[4 + 9] in (1, 17) for r in records)
    em0_type, em0 = raw_pcap(flagship["pcap"] / "A-em0.pcap")
    assert em0_type == 101 and all(r[9] == 50 for r in em0)


def test_same_seed_same_bytes(flagship, tmp_path):
    """The same scenario and seed give byte-identical pcaps and esp_sa; another seed changes
    the ESP bytes (IVs come from the seeded streams). DESIGN.md, Behaviour rules."""
    again = tmp_path / "again"
    sim = ipsecsim.load(MANPAGE_YAML, pcap=again)
    sim.run()
    sim.close()
    first = flagship["pcap"]
    names = sorted(p.name for p in first.iterdir())
    assert sorted(p.name for p in again.iterdir()) == names
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    other = tmp_path / "other"
    sim = ipsecsim.load(MANPAGE_YAML, pcap=other, seed=2)
    sim.run()
    sim.close()
    assert (other / "A-em0.pcap").read_bytes() != (first / "A-em0.pcap").read_bytes()


def _esp_len(inner: int) -> int:
    """AES-CBC without authentication over IPv4: outer 20 + SPI/seq 8 + IV 16 + padded payload. [S6.5] [S6.9]"""
    padding = ((16 - ((inner + 2) % 16)) % 16) + 2
    return 20 + 8 + 16 + inner + padding


def test_esp_sizes_on_the_wire(flagship):
    """Each ESP packet on A's em0 is as long as FreeBSD makes it from the inner packet the
    ipsec0 tap saw: 140 bytes for an 84-byte echo (padding 12, no ICV: the man page's SAs have
    no -A), 1084 for a 1028-byte UDP datagram. [S6.4]-[S6.10]"""
    _, inner = raw_pcap(flagship["pcap"] / "A-ipsec0.pcap")
    _, outer = raw_pcap(flagship["pcap"] / "A-em0.pcap")
    assert len(inner) == len(outer)
    sizes = {}
    for plain, esp in zip(inner, outer):
        ip = plain[4:]
        assert len(esp) == _esp_len(len(ip))
        sizes[ip[9]] = (len(ip), len(esp))
    assert sizes == {1: (84, 140), 17: (1028, 1084)}
    assert _esp_len(84) == 20 + 8 + 16 + 96  # [S6.10] without the 12-byte HMAC-SHA1 ICV


def test_sequence_numbers_count_from_1_per_sa(flagship):
    """SPI 10000 (A to B) carries seq 1, 2, ... 15005; SPI 10001 (B to A) 1 ... 5. [S6.6]"""
    _, outer = raw_pcap(flagship["pcap"] / "A-em0.pcap")
    by_spi: dict[int, list[int]] = {}
    for pkt in outer:
        spi, seq = struct.unpack_from("!II", pkt, 20)
        by_spi.setdefault(spi, []).append(seq)
    assert by_spi == {10000: list(range(1, 15006)), 10001: [1, 2, 3, 4, 5]}


@pytest.mark.parametrize("host", ["A", "B"])
def test_golden_ifconfig_ipsec0(flagship, request, host):
    """``ifconfig ipsec0`` after the man page's commands. [S11.4] [S12.3]"""
    check_golden(request, f"if_ipsec_{host}_ifconfig_ipsec0.txt", flagship["configured"][host][0])


@pytest.mark.parametrize("host", ["A", "B"])
def test_golden_setkey_DP(flagship, request, host):
    """``setkey -DP`` after the man page's commands: the four ifnet policies. [S10.10] [S10.11]"""
    check_golden(request, f"if_ipsec_{host}_setkey_DP.txt", flagship["configured"][host][1])


def test_golden_setkey_D_after_run(flagship, request):
    """``setkey -D`` on A at the end of the run: ``seq=`` and ``allocated:`` as FreeBSD counts
    them (outbound seq 15005; inbound bytes are inner lengths). [S5.6] [S9.3] [S10.9]"""
    check_golden(request, "if_ipsec_A_setkey_D_after_run.txt", flagship["setkey_D_after"])
