"""The if_ipsec(4) teaching scenarios in scenarios/: each runs, its ``expect:`` block holds, and
what its comments promise a student can be seen in the results and captures.

* ``if_ipsec_ipv6_inner``: IPv6 (and IPv4) inside one IPv4 tunnel [S1.4];
* ``if_ipsec_ipv6_outer``: IPv4 inside an IPv6 tunnel, with authentication [S6.2];
* ``if_ipsec_two_interfaces``: two interfaces, same endpoints, reqids 100/101 [S3.2] [S9.4];
* ``if_ipsec_hub_spokes``: spokes reach each other through the hub's tunnels;
* ``if_ipsec_missing_reqid``: SAs without ``-u``, nothing passes [S7.1] [S5.5] [S8].
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from scapy.layers.inet import ICMP, IP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA
from scapy.utils import RawPcapReader

import ipsecsim

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
NAMES = ["if_ipsec_ipv6_inner", "if_ipsec_ipv6_outer", "if_ipsec_two_interfaces", "if_ipsec_hub_spokes",
         "if_ipsec_missing_reqid"]  # fmt: skip


def run(name: str, pcap: Path | None = None):
    sim = ipsecsim.load(SCENARIOS / f"{name}.yaml", pcap=pcap)
    sim.run()
    sim.close()
    return sim, sim.result()


def records(path: Path) -> list[bytes]:
    reader = RawPcapReader(str(path))
    try:
        return [bytes(data) for data, _meta in reader]
    finally:
        reader.close()


@pytest.mark.parametrize("name", NAMES)
def test_scenario_runs_and_its_expectations_hold(name):
    """Every scenario: no command errors, at least one expectation, all of them hold, and a
    comment block at the top for the student."""
    sim, result = run(name)
    assert result.command_errors == []
    assert result.expectations
    assert all(e.holds for e in result.expectations), result.summary()
    text = (SCENARIOS / f"{name}.yaml").read_text()
    assert text.startswith("# ") and text.count("\n#") >= 8
    assert sim.duration <= 6


def test_ipv6_inner_shares_the_ipv4_tunnel(tmp_path):
    """IPv6 pings go through ipsec0 (DLT_NULL family 28) and out of em0 as ESP over IPv4
    whose next header is 41; IPv4 pings use the same SA with next header 4. [S1.4] [S6.1]"""
    _, result = run("if_ipsec_ipv6_inner", tmp_path)
    families = {struct.unpack("<I", r[:4])[0] for r in records(tmp_path / "A-ipsec0.pcap")}
    assert families == {2, 28}
    sa = ScapySA(ESP, spi=10000, crypt_algo="AES-CBC", crypt_key=b"VerySecureKey!!1",
                 tunnel_header=IP(src="192.168.0.3", dst="192.168.0.5"))  # fmt: skip
    inner_versions = set()
    for pkt in records(tmp_path / "A-em0.pcap"):
        outer = IP(pkt)
        assert outer.proto == 50
        if outer[ESP].spi == 10000:
            inner_versions.add(bytes(sa.decrypt(outer))[0] >> 4)
    assert inner_versions == {4, 6}
    assert {sa["spi"] for sa in result.sas if sa["host"] == "A"} == {10000, 10001}


def test_ipv6_outer_carries_ipv4(tmp_path):
    """em0 carries IPv6 (next header 50, hop limit 64); an 84-byte ping is 176 bytes with
    AES-CBC and HMAC-SHA2-256 over IPv6; scapy decrypts it (checking the ICV) to IPv4.
    [S6.2] [S6.8] [S6.10]"""
    run("if_ipsec_ipv6_outer", tmp_path)
    sa = ScapySA(ESP, spi=10000, crypt_algo="AES-CBC", crypt_key=b"VerySecureKey!!1",
                 auth_algo="SHA2-256-128", auth_key=b"0123456789abcdef0123456789abcdef",
                 tunnel_header=IPv6(src="2001:db8::3", dst="2001:db8::5"))  # fmt: skip
    pings = []
    for pkt in records(tmp_path / "A-em0.pcap"):
        outer = IPv6(pkt)
        assert outer.nh == 50 and outer.hlim == 64 and outer.fl == 0
        if outer[ESP].spi == 10000:
            inner = sa.decrypt(outer)
            assert isinstance(inner, IP)
            pings.append((len(pkt), inner.src, inner.dst, inner[ICMP].type))
    assert pings == [(176, "172.16.0.3", "172.16.0.5", 8)] * 5


def test_two_interfaces_each_carry_their_own_sas():
    """reqid 100 traffic uses SPIs 10000/10001 only, reqid 101 traffic 10100/10101, and each
    interface counts exactly its own packets. [S3.2] [S7.1] [S9.4]"""
    _, result = run("if_ipsec_two_interfaces")
    used = {(sa["host"], sa["spi"]): (sa["reqid"], sa["packets"]) for sa in result.sas}
    assert used == {
        ("A", 10000): (100, 5), ("A", 10001): (100, 5), ("A", 10100): (101, 3), ("A", 10101): (101, 3),
        ("B", 10000): (200, 5), ("B", 10001): (200, 5), ("B", 10100): (201, 3), ("B", 10101): (201, 3),
    }  # fmt: skip
    console = [line for _t, line in result.console["A"]]
    assert sum("ifname=ipsec1" in line for line in console) == 4  # the setkey -DP at 5 s


def test_hub_spokes_traffic_crosses_the_hub():
    """Spoke-to-spoke echoes are decrypted on one hub tunnel and encrypted again on another;
    nothing is dropped anywhere and no spoke holds another spoke's SA."""
    sim, result = run("if_ipsec_hub_spokes")
    assert result.drops == {}
    spis = {host: {sa["spi"] for sa in result.sas if sa["host"] == host} for host in ("H", "S1", "S2", "S3")}
    assert spis == {"H": {11000, 11001, 12000, 12001, 13000, 13001}, "S1": {11000, 11001},
                    "S2": {12000, 12001}, "S3": {13000, 13001}}  # fmt: skip
    hub = sim.network.host("H")
    assert hub.sysctl.get("net.inet.ip.forwarding") == 1


def test_missing_reqid_summary_explains_why():
    """The run shows why nothing passes: 5 pings, 0 replies, drops ``ips_out_nosa`` on A,
    ipsec0 Opkts 5 / Oerrs 0, em0 silent; A's console has the SADB_ACQUIRE asking for
    reqid 100 (``setkey -x``) and ``setkey -D`` showing the SAs' ``reqid=0``. [S7.1] [S5.5]
    [S8.1] [S8.2]"""
    _, result = run("if_ipsec_missing_reqid")
    summary = result.summary()
    assert "A -> 172.16.0.5     5     0  100.0%" in summary
    assert "ips_out_nosa        5    A 5" in summary
    assert result.drops == {"ips_out_nosa": 5}
    assert {(sa["spi"], sa["reqid"], sa["packets"]) for sa in result.sas if sa["host"] == "A"} == {
        (10000, 0, 0), (10001, 0, 0)}  # in the SAD, never used
    assert result.notes == ['A: 5 packets dropped (ips_out_nosa) from 0.000 s to 4.000 s: the policy needs an ESP '
                            'SA 192.168.0.3 -> 192.168.0.5 with reqid 100, but the SAD had spi 10000 with reqid 0; '
                            'add it with "-u 100"']
    console = [line for _t, line in result.console["A"]]
    assert sum("type=6(ACQUIRE)" in line for line in console) == 1
    acquire = console.index(next(line for line in console if "type=6(ACQUIRE)" in line))
    assert "sadb_x_sa2{ mode=2 reqid=100" in console[acquire:acquire + 14]
    assert "sadb_x_policy{ type=2 dir=2 id=2 scope=0 priority=3 }" in console[acquire:acquire + 14]
    assert sum("reqid=0(0x00000000)" in line for line in console) == 2
    assert not any("sendto" in line for line in console)
