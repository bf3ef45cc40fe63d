"""ipsecsim/trace/pcap.py: nanosecond pcap bytes, checked by scapy's reader and by tshark/capinfos."""

import io
import re
import shutil
import struct
import subprocess

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest
from scapy.packet import Raw
from scapy.utils import rdpcap

from ipsecsim.trace.pcap import (
    AF_INET,
    AF_INET6,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    PcapFormatError,
    PcapWriter,
    load_pcap,
    read_pcap,
    time_to_ns,
)

try:
    from tshark import require_tshark, tshark_expert_problems, tshark_fields
except ModuleNotFoundError:  # tests/ made a package
    from tests.tshark import require_tshark, tshark_expert_problems, tshark_fields

PING4 = bytes(IP(src="10.0.0.1", dst="10.0.2.2") / ICMP(id=1, seq=0) / Raw(b"x" * 56))
UDP4 = bytes(IP(src="10.0.0.1", dst="10.0.2.2") / UDP(sport=5000, dport=9) / Raw(b"u" * 1000))
PING6 = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6EchoRequest(id=1, seq=0, data=b"y" * 56))

# Times that exercise rounding: 0.1 + 0.2 is 0.30000000000000004, 1.0000000005 rounds
# half-way-ish, a large value still fits the 32-bit seconds field.
TIMES = [0.0, 0.000000001, 0.1 + 0.2, 1.0000000005, 1.999999999, 12.345678901, 86400.123456789]


def write_capture(path, linktype, packets):
    with PcapWriter(path, linktype) as w:
        for t, data in packets:
            w.write(t, data)
    return path


def test_global_header_bytes(tmp_path):
    path = write_capture(tmp_path / "a.pcap", LINKTYPE_RAW, [])
    assert path.read_bytes() == bytes.fromhex("4d3cb2a1" "0200" "0400" "00000000" "00000000" "00000400" "65000000")


def test_record_bytes_and_rounding(tmp_path):
    path = write_capture(tmp_path / "a.pcap", LINKTYPE_RAW, [(1.0000000015, b"\x45abc")])
    record = path.read_bytes()[24:]
    sec, nsec, incl, orig = struct.unpack("<IIII", record[:16])
    assert (sec, nsec, incl, orig) == (1, round(1.0000000015 * 1e9) - 10**9, 4, 4)
    assert record[16:] == b"\x45abc"


def test_time_to_ns_rounds_not_truncates():
    # 8.2 * 1e9 is 8199999999.999999 in binary floating point: truncating would lose a nanosecond.
    assert 8.2 * 1e9 < 8_200_000_000
    assert time_to_ns(8.2) == 8_200_000_000
    assert time_to_ns(1.005) == 1_005_000_000
    assert time_to_ns(0.1 + 0.2) == 300_000_000
    assert all(time_to_ns(t) == round(t * 1e9) for t in TIMES)
    with pytest.raises(ValueError):
        time_to_ns(-1e-3)
    with pytest.raises(ValueError):
        time_to_ns(2.0**32)


def test_writer_uses_the_same_rounding():
    buf = io.BytesIO()
    with PcapWriter(buf, LINKTYPE_RAW) as w:
        w.write(8.2, PING4)
        with pytest.raises(ValueError):
            w.write(-0.5, PING4)
    assert load_pcap(buf.getvalue()).packets == [(8_200_000_000, PING4)]


def test_round_trip_with_own_reader(tmp_path):
    packets = [(t, data) for t, data in zip(TIMES, [PING4, UDP4, PING6] * 3)]
    path = write_capture(tmp_path / "a.pcap", LINKTYPE_RAW, packets)
    capture = load_pcap(path)
    assert capture.linktype == LINKTYPE_RAW and capture.nanosecond and capture.snaplen == 262144
    assert capture.packets == [(round(t * 1e9), d) for t, d in packets]
    assert [d for _, d in read_pcap(path)] == [d for _, d in packets]


def test_scapy_reads_it(tmp_path):
    packets = list(zip(TIMES, [PING4, UDP4, PING6, PING4, UDP4, PING6, PING4]))
    path = write_capture(tmp_path / "a.pcap", LINKTYPE_RAW, packets)
    read = rdpcap(str(path))
    assert [bytes(p) for p in read] == [d for _, d in packets]
    # scapy keeps nanosecond pcap times as exact decimals
    assert [round(p.time * 10**9) for p in read] == [round(t * 1e9) for t, _ in packets]


def test_null_linktype_header(tmp_path):
    path = tmp_path / "ipsec0.pcap"
    with PcapWriter(path, LINKTYPE_NULL) as w:
        w.write(1.0, PING4)  # family from the version nibble
        w.write(2.0, PING6)
        w.write(3.0, PING6, family=AF_INET6)
        w.write(4.0, PING4, family=4)
    capture = load_pcap(path)
    assert capture.linktype == 0
    families = [int.from_bytes(d[:4], "little") for _, d in capture.packets]
    assert families == [AF_INET, AF_INET6, AF_INET6, AF_INET] == [2, 28, 28, 2]
    assert [d[4:] for _, d in capture.packets] == [PING4, PING6, PING6, PING4]
    assert struct.unpack("<II", path.read_bytes()[24 + 8 : 24 + 16]) == (len(PING4) + 4, len(PING4) + 4)


def test_family_errors(tmp_path):
    with PcapWriter(io.BytesIO(), LINKTYPE_NULL) as w, pytest.raises(ValueError):
        w.write(0.0, PING4, family=17)
    with PcapWriter(io.BytesIO(), LINKTYPE_RAW) as w, pytest.raises(ValueError):
        w.write(0.0, PING4, family=4)


def test_snaplen_truncates_but_keeps_original_length():
    buf = io.BytesIO()
    with PcapWriter(buf, LINKTYPE_RAW, snaplen=64) as w:
        w.write(0.5, UDP4)
    sec, nsec, incl, orig = struct.unpack_from("<IIII", buf.getvalue(), 24)
    assert (incl, orig) == (64, len(UDP4))
    assert load_pcap(buf.getvalue()).packets == [(500_000_000, UDP4[:64])]


def test_stream_target_is_flushed_not_closed():
    buf = io.BytesIO()
    w = PcapWriter(buf, LINKTYPE_RAW)
    w.write(0.0, PING4)
    w.close()
    w.close()  # idempotent
    assert not buf.closed and w.closed and w.packets == 1
    assert len(buf.getvalue()) == 24 + 16 + len(PING4)


def test_deterministic_bytes(tmp_path):
    packets = list(zip(TIMES, [PING4, UDP4, PING6] * 3))
    a = write_capture(tmp_path / "a.pcap", LINKTYPE_RAW, packets).read_bytes()
    b = write_capture(tmp_path / "b.pcap", LINKTYPE_RAW, packets).read_bytes()
    assert a == b


def test_reader_rejects_garbage_and_truncation(tmp_path):
    with pytest.raises(PcapFormatError):
        load_pcap(b"")
    with pytest.raises(PcapFormatError):
        load_pcap(b"\x00" * 24)
    good = write_capture(tmp_path / "a.pcap", LINKTYPE_RAW, [(0.0, PING4)]).read_bytes()
    with pytest.raises(PcapFormatError, match="record 1"):
        load_pcap(good[:-1])
    with pytest.raises(PcapFormatError, match="record 2"):
        load_pcap(good + b"\x00" * 8)


def test_reader_accepts_microsecond_and_big_endian():
    body = PING4
    big = struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101) + struct.pack(">IIII", 3, 250000, len(body), len(body)) + body
    capture = load_pcap(big)
    assert not capture.nanosecond and capture.packets == [(3_250_000_000, body)]


# tshark as the independent reader -------------------------------------------------------------


@pytest.mark.tshark
def test_tshark_reads_ns_timestamps(tmp_path):
    require_tshark()
    packets = list(zip(TIMES, [PING4, UDP4, PING6] * 3))
    path = write_capture(tmp_path / "a.pcap", LINKTYPE_RAW, packets)
    rows = tshark_fields(path, ["frame.time_epoch", "frame.len", "ip.src", "ipv6.src"])
    expected = [f"{round(t * 1e9) // 10**9}.{round(t * 1e9) % 10**9:09d}" for t, _ in packets]
    assert [r["frame.time_epoch"] for r in rows] == expected
    assert [int(r["frame.len"]) for r in rows] == [len(d) for _, d in packets]
    assert rows[0]["ip.src"] == "10.0.0.1" and rows[2]["ipv6.src"] == "2001:db8::1"
    assert tshark_expert_problems(path) == []


@pytest.mark.tshark
def test_capinfos_sees_nanosecond_raw_ip(tmp_path):
    require_tshark()
    capinfos = shutil.which("capinfos")
    assert capinfos, "capinfos comes with tshark (wireshark-common) but is missing"
    path = write_capture(tmp_path / "a.pcap", LINKTYPE_RAW, [(1.5, PING4), (1.750000001, PING4)])
    out = subprocess.run(
        [capinfos, "-t", "-E", "-c", "-a", "-e", str(path)], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert "nanosecond pcap" in out
    assert "Raw IP" in out
    assert re.search(r"Number of packets:\s+2\b", out)
    assert "00:00:01.500000000" in out and "00:00:01.750000001" in out


@pytest.mark.tshark
def test_tshark_reads_dlt_null_as_ipv4_and_ipv6(tmp_path):
    require_tshark()
    path = tmp_path / "A-ipsec0.pcap"
    with PcapWriter(path, LINKTYPE_NULL) as w:
        w.write(0.25, PING4)
        w.write(0.5, PING6)
    rows = tshark_fields(path, ["null.family", "frame.protocols", "ip.src", "ipv6.dst", "icmp.type", "icmpv6.type"])
    assert rows[0]["null.family"] == "2" and rows[0]["frame.protocols"].startswith("null:ip:icmp")
    assert rows[0]["ip.src"] == "10.0.0.1" and rows[0]["icmp.type"] == "8"
    assert rows[1]["null.family"] == "28" and rows[1]["frame.protocols"].startswith("null:ipv6:icmpv6")
    assert rows[1]["ipv6.dst"] == "2001:db8::2" and rows[1]["icmpv6.type"] == "128"
    assert tshark_expert_problems(path) == []


@pytest.mark.tshark
def test_expert_helper_reports_bad_checksums(tmp_path):
    """The helper the 'pcaps read cleanly' tests rely on does see broken packets."""
    require_tshark()
    bad_ip = bytearray(UDP4)
    bad_ip[10] ^= 0xFF  # IPv4 header checksum
    bad_udp = bytearray(UDP4)
    bad_udp[26] ^= 0xFF  # UDP checksum
    path = write_capture(tmp_path / "bad.pcap", LINKTYPE_RAW, [(0.0, UDP4), (1.0, bytes(bad_ip)), (2.0, bytes(bad_udp))])
    problems = tshark_expert_problems(path)
    assert len(problems) == 2, problems
    assert problems[0].startswith("frame 2: ") and "Bad checksum" in problems[0]
    assert problems[1].startswith("frame 3: ") and "Bad checksum" in problems[1]
    assert tshark_expert_problems(path, ignore=("Bad checksum",)) == []
