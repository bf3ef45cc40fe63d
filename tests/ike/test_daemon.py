"""charon (ike/daemon.py) on the if_ipsec(4) example: the IKE_SA and CHILD_SA come up on an
ACQUIRE, the two hosts install matching ESP SAs (the ping's replies prove ESP decrypts both
ways), failures are named, and tshark's ISAKMP dissector reads and decrypts the exchange."""

from __future__ import annotations

import random
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.all import UDP, rdpcap
from scapy.contrib import ikev2 as sc

from ipsecsim.ike.config import parse_swanctl
from ipsecsim.ike.daemon import Charon
from ipsecsim.scenario import parse_scenario
from ipsecsim.scenario.build import build_network
from ipsecsim.world import Network
from tests.tshark import require_tshark, tshark_expert_problems, tshark_fields

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "if_ipsec_host_a_b_ike.yaml"
A_ADDR, B_ADDR = IPv4Address("192.168.0.3"), IPv4Address("192.168.0.5")


def _text(**changes: str) -> str:
    """The scenario with ``old=>new`` edits: a key starting ``b_`` edits host B's part, any other
    key the part before it (A's, or else the traffic after B)."""
    text = SCENARIO.read_text()
    head, b_part = text.split("\n  B:\n", 1)
    for key, value in changes.items():
        old, new = value.split("=>")
        if key.startswith("b_"):
            assert old in b_part, old
            b_part = b_part.replace(old, new)
        else:
            where = "head" if old in head else "tail"
            assert old in head or old in b_part, old
            if where == "head":
                head = head.replace(old, new)
            else:
                b_part = b_part.replace(old, new)
    return head + "\n  B:\n" + b_part


def _run(until: float = 6.0, pcap_dir: Path | None = None, **changes: str) -> Network:
    net = build_network(parse_scenario(_text(**changes), SCENARIO.name), pcap_dir=pcap_dir)
    net.run(until)
    return net


def _log(net: Network, host: str) -> str:
    return "\n".join(text for _, text in net.host(host).daemons["charon"].log)


def _esp(net: Network, host: str) -> dict:
    return {(sa.src, sa.dst, sa.spi): sa for sa in net.host(host).keydb.sas("esp")}


def test_ike_sa_comes_up_on_acquire_and_the_ping_passes():
    net = _run()
    assert net.pings[0].stats.received == 4  # the first echo request triggered the ACQUIRE and was dropped
    a, b = net.host("A").daemons["charon"], net.host("B").daemons["charon"]
    assert a.running and b.running
    (sa_a,), (sa_b,) = a.ike_sas(), b.ike_sas()
    assert (sa_a.state, sa_b.state) == ("ESTABLISHED", "ESTABLISHED")
    assert sa_a.initiator and not sa_b.initiator
    assert (sa_a.spi_i, sa_a.spi_r) == (sa_b.spi_i, sa_b.spi_r) and sa_a.spi_r != 0
    assert (sa_a.local_id, sa_a.remote_id) == ("a.example.org", "b.example.org")
    assert (sa_b.local_id, sa_b.remote_id) == ("b.example.org", "a.example.org")
    assert sa_a.proposal == sa_b.proposal == "AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519"
    (ca,), (cb,) = sa_a.children, sa_b.children
    assert (ca.spi_in, ca.spi_out) == (cb.spi_out, cb.spi_in)
    assert (ca.reqid, cb.reqid) == (100, 200)
    assert ca.proposal == cb.proposal == "AES_GCM_16-128"
    # Four echo requests out of A and four replies in, as the kernel counted them.
    assert (ca.packets_out, ca.packets_in, cb.packets_in, cb.packets_out) == (4, 4, 4, 4)
    # Requests and replies are the same size, so each host counted what the other did.
    assert (ca.bytes_out, ca.bytes_in) == (cb.bytes_out, cb.bytes_in) and ca.bytes_in > 0


def test_installed_sas_match_on_both_hosts():
    net = _run()
    on_a, on_b = _esp(net, "A"), _esp(net, "B")
    assert set(on_a) == set(on_b) and len(on_a) == 2
    assert {(s, d) for s, d, _ in on_a} == {(A_ADDR, B_ADDR), (B_ADDR, A_ADDR)}
    for key, sa in on_a.items():
        other = on_b[key]
        assert (sa.enc, sa.enc_key, sa.auth, sa.auth_key, sa.mode) == \
            (other.enc, other.enc_key, other.auth, other.auth_key, other.mode)
        assert sa.enc.name == "aes-gcm-16" and len(sa.enc_key) == 20  # 16 key bytes and the 4-byte salt
        assert (sa.reqid, other.reqid) == (100, 200)
    keys = [sa.enc_key for sa in on_a.values()]
    assert keys[0] != keys[1]  # each direction has its own KEYMAT slice (RFC 7296 2.17)


def test_swanctl_list_sas_shows_the_daemon():
    net = _run(10)
    out = "\n".join(line for _, line in net.consoles["A"].entries)
    assert "host-a-b: #1, ESTABLISHED, IKEv2" in out
    assert "ipsec0: #2, reqid 100, INSTALLED, TUNNEL, ESP:AES_GCM_16-128" in out


def test_psk_mismatch_installs_nothing():
    net = _run(b_secret='secret = "if_ipsec example key"=>secret = "another key"')
    assert _esp(net, "A") == {} and _esp(net, "B") == {}
    assert net.pings[0].stats.received == 0
    assert "AUTHENTICATION_FAILED" in _log(net, "A")
    assert "AUTHENTICATION_FAILED" in _log(net, "B")
    assert net.host("A").daemons["charon"].failures["host-a-b"].startswith("received AUTHENTICATION_FAILED")
    assert net.host("A").daemons["charon"].ike_sas() == []


def test_no_common_ike_proposal():
    net = _run(b_prop="proposals = aes128-sha256-x25519=>proposals = aes256-sha384-ecp384")
    assert _esp(net, "A") == {} and _esp(net, "B") == {}
    assert net.host("A").daemons["charon"].failures["host-a-b"] == "received NO_PROPOSAL_CHOSEN notify error"
    assert "NO_PROPOSAL_CHOSEN" in _log(net, "B")


def test_no_common_esp_proposal():
    net = _run(b_esp="esp_proposals = aes128gcm16=>esp_proposals = aes256-sha256")
    assert _esp(net, "A") == {} and _esp(net, "B") == {}
    assert net.host("A").daemons["charon"].failures["host-a-b"] == "received NO_PROPOSAL_CHOSEN notify error"


def test_invalid_ke_payload_then_the_requested_group():
    """A sends ECP-256 first; B prefers Curve25519, asks for it (RFC 7296 1.3), A starts over with it."""
    net = _run(a_prop="proposals = aes128-sha256-x25519=>proposals = aes128-sha256-ecp256-x25519")
    assert "it requested 31" in _log(net, "A") and "DH group 19 unacceptable" in _log(net, "B")
    (sa,) = net.host("A").daemons["charon"].ike_sas()
    assert sa.state == "ESTABLISHED" and sa.proposal.endswith("/CURVE_25519")
    assert net.pings[0].stats.received == 4


def test_start_action_start_negotiates_at_time_zero():
    ping = "count: 5, interval: 1s}}=>count: 5, interval: 1s, start: 500ms}}"
    net = _run(a_start="start_action = trap=>start_action = start", ping=ping)
    assert net.pings[0].stats.received == 5  # the SAs were in before the first echo request
    assert "acquire" not in _log(net, "A")
    assert _run(ping=ping).pings[0].stats.received == 4  # with trap the first one still goes


def test_retransmits_then_gives_up():
    """strongSwan's defaults: 4 s, then x1.8 each time, 5 retransmits, then the last wait."""
    text = _text()
    head, b_part = text.split("\n  B:\n", 1)
    b_part = b_part[:b_part.index("    swanctl: |")] + b_part[b_part.index("traffic:"):]
    net = build_network(parse_scenario(head + "\n  B:\n" + b_part, SCENARIO.name))
    net.run(200)
    charon = net.host("A").daemons["charon"]
    times = [t for t, line in charon.log if line.startswith("retransmit")]
    expected, t = [], 0.0
    for n in range(5):
        t += 4.0 * 1.8 ** n
        expected.append(t)
    assert times == pytest.approx(expected)
    gave_up = [t for t, line in charon.log if "giving up after 5 retransmits" in line]
    assert gave_up == pytest.approx([expected[-1] + 4.0 * 1.8 ** 5])
    assert charon.failures["host-a-b"] == "giving up after 5 retransmits"
    assert charon.ike_sas() == []


def test_initiate_and_terminate():
    net = _run(2, a_start="start_action = trap=>start_action = none")
    a = net.host("A").daemons["charon"]
    assert a.ike_sas() == []
    assert a.initiate("nope") == "CHILD_SA config 'nope' not found"
    assert a.initiate("ipsec0") is True
    net.run(3)
    assert [s.state for s in a.ike_sas()] == ["ESTABLISHED"]
    assert a.terminate("host-a-b") is True
    assert a.terminate("host-a-b") == "no matching IKE_SA 'host-a-b' found"
    net.run(4)
    assert _esp(net, "A") == {} and _esp(net, "B") == {}
    assert net.host("B").daemons["charon"].ike_sas() == []


def test_stop_unbinds():
    net = _run(1)
    a = net.host("A").daemons["charon"]
    a.stop()
    assert not a.running and "charon" not in net.host("A").daemons and 500 not in net.host("A").inet4.udp_ports


def _udp500(pcap: Path) -> list[dict[str, str]]:
    return tshark_fields(pcap, ["isakmp.exchangetype", "isakmp.typepayload", "isakmp.ispi", "isakmp.flags"],
                         display_filter="udp.port == 500")


def test_tshark_reads_and_decrypts_the_exchange(tmp_path):
    require_tshark()
    net = _run(3, pcap_dir=tmp_path)
    records = net.host("A").daemons["charon"].wireshark_records()
    net.close()
    pcap = next(p for p in sorted(tmp_path.glob("*.pcap")) if "A" in p.name and "em0" in p.name)
    rows = _udp500(pcap)
    assert [r["isakmp.exchangetype"] for r in rows] == ["34", "34", "35", "35"]
    assert rows[0]["isakmp.typepayload"].split(",")[-2:] == ["34", "40"]  # ... SA, KE, Nonce
    assert rows[2]["isakmp.typepayload"] == "46"  # only the SK payload can be read without keys
    uat = {"ikev2_decryption_table": records}
    rows = tshark_fields(pcap, ["isakmp.typepayload", "isakmp.id.type", "isakmp.auth.method"],
                         uat=uat, display_filter="udp.port == 500")
    # IKE_AUTH request and response: SK, then IDi/IDr, AUTH, SA (proposal, transforms), TSi, TSr.
    assert rows[2]["isakmp.typepayload"].split(",") == ["46", "35", "39", "33", "2", "3", "3", "44", "45"]
    assert rows[3]["isakmp.typepayload"].split(",") == ["46", "36", "39", "33", "2", "3", "3", "44", "45"]
    assert rows[2]["isakmp.id.type"] == "2" and rows[2]["isakmp.auth.method"] == "2"
    assert tshark_expert_problems(pcap, uat=uat) == []


def test_scapy_reads_the_captured_exchange(tmp_path):
    net = _run(3, pcap_dir=tmp_path)
    net.close()
    pcap = next(p for p in sorted(tmp_path.glob("*.pcap")) if "A" in p.name and "em0" in p.name)
    msgs = [sc.IKEv2(bytes(p[UDP].payload)) for p in rdpcap(str(pcap)) if p.haslayer(UDP) and p[UDP].dport == 500]
    assert [(m.exch_type, m.flags, m.id) for m in msgs] == [(34, 0x08, 0), (34, 0x20, 0), (35, 0x08, 1), (35, 0x20, 1)]
    assert len({m.init_SPI for m in msgs}) == 1 and msgs[0].resp_SPI == b"\0" * 8
    assert len({m.resp_SPI for m in msgs[1:]}) == 1 and msgs[1].resp_SPI != b"\0" * 8
    assert msgs[0][sc.IKEv2_KE].group == msgs[1][sc.IKEv2_KE].group == 31
    assert len(msgs[1][sc.IKEv2_Nonce].nonce) == 32
    prop = msgs[1][sc.IKEv2_SA].prop
    assert prop.proposal == 1 and prop.trans_nb == 4 and not isinstance(prop.payload, sc.IKEv2_Proposal)
    a_sa = net.host("A").daemons["charon"].ike_sas()[0]
    assert int.from_bytes(msgs[1].resp_SPI, "big") == a_sa.spi_r


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 3))
def test_fuzz_the_port_never_raises(data, where):
    """Whatever reaches UDP 500 (garbage, or a real message cut or flipped), charon logs and goes on."""
    net = _fuzz_net()
    charon = net.host("B").daemons["charon"]
    real = _first_init(net)
    if where == 1:
        data = real[:len(data)]
    elif where == 2 and data:
        i = data[0] % len(real)
        data = real[:i] + bytes([real[i] ^ (data[-1] | 1)]) + real[i + 1:]
    charon._receive(A_ADDR, 500, B_ADDR, 500, data)
    assert charon.running


_CACHE: dict = {}


def _fuzz_net() -> Network:
    return build_network(parse_scenario(_text(), SCENARIO.name), traffic=False)


def _first_init(net: Network) -> bytes:
    if "init" not in _CACHE:
        config = parse_swanctl(parse_scenario(_text(), SCENARIO.name).hosts["A"].swanctl.text)  # type: ignore[union-attr]
        sent: list[bytes] = []

        class _Host:
            name, clock, rng = "A", net.host("A").clock, random.Random(1)

            def send(self, dst, proto, payload, src=None):
                sent.append(payload(src, dst)[8:])

        charon = Charon(_Host(), config)
        conn = config.connections["host-a-b"]
        charon._start(conn, conn.children["ipsec0"], 0)
        _CACHE["init"] = sent[0]
    return _CACHE["init"]


def _global_policies(level_a: str, level_b: str) -> dict[str, str]:
    """Both hosts without ipsec0: setkey's global tunnel-mode policies protect ICMP between the
    outer addresses (UDP 500 stays clear), at the levels given; charon's children keep or lose
    their ``reqid`` lines to match."""
    def policies(me: str, peer: str, level: str) -> str:
        return (f"      setkey -c <<EOF\n"
                f"      spdadd {me} {peer} icmp -P out ipsec esp/tunnel/{me}-{peer}/{level};\n"
                f"      spdadd {peer} {me} icmp -P in ipsec esp/tunnel/{peer}-{me}/{level};\n"
                f"      EOF\n")
    def ifconfig(me: str, peer: str, reqid: int, inner: str, inner_peer: str) -> str:
        return (f"      ifconfig ipsec0 create reqid {reqid}\n"
                f"      ifconfig ipsec0 inet tunnel {me} {peer}\n"
                f"      ifconfig ipsec0 inet {inner}/16 {inner_peer}\n")
    a, b = "192.168.0.3", "192.168.0.5"
    changes = {"a_tunnel": ifconfig(a, b, 100, "172.16.0.3", "172.16.0.5") + "=>" + policies(a, b, level_a),
               "b_tunnel": ifconfig(b, a, 200, "172.16.0.5", "172.16.0.3") + "=>" + policies(b, a, level_b),
               "ping": "to: 172.16.0.5, count: 5=>to: 192.168.0.5, count: 5",
               "expect": "{ping: {from: A, to: 172.16.0.5}, received: 4}=>{ping: {from: A, to: 192.168.0.5}, received: 4}"}
    for side, level in (("a", level_a), ("b", level_b)):
        old = f"              reqid = {100 if side == 'a' else 200}\n"
        new = f"              reqid = {level.split(':')[1]}\n" if ":" in level else ""
        changes[f"{'b_' if side == 'b' else ''}reqid"] = f"{old}=>{new}"
    return changes


@pytest.mark.parametrize("levels", [("require", "require"), ("unique:7", "unique:9")])
def test_global_policies_acquire_their_child(levels):
    # The "from global require/unique policies": setkey's require policies have no
    # reqid and go to a child without one; unique:N policies go to the child with reqid N.
    net = _run(**_global_policies(*levels))
    assert net.pings[0].stats.received == 4, _log(net, "A")
    want = [0 if level == "require" else int(level.split(":")[1]) for level in levels]
    assert {sa.reqid for sa in _esp(net, "A").values()} == {want[0]}
    assert {sa.reqid for sa in _esp(net, "B").values()} == {want[1]}
    assert "acquire for reqid" in _log(net, "A")
