"""CHILD_SA lifetimes and rekeying (ike/rekey.py) on scenarios/if_ipsec_ike_rekey.yaml: the kernel's
soft expiry makes charon rekey with CREATE_CHILD_SA, SPIs change, the old SAs go, the UDP flow
loses nothing, both hosts hold the same keys (tshark decrypts every ESP packet with the esp_sa
file), collisions leave one CHILD_SA, a hard expiry removes the SAs and the next packet triggers
an ACQUIRE again."""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest
from scapy.all import UDP, rdpcap
from scapy.contrib import ikev2 as sc

from ipsecsim.ike.keys import decrypt_sk
from ipsecsim.ike.message import CREATE_CHILD_SA, parse_ike
from ipsecsim.scenario import parse_scenario
from ipsecsim.scenario.build import build_network
from ipsecsim.trace.wireshark import DECRYPT_PREFS
from ipsecsim.world import Network
from tests.tshark import require_tshark, tshark_fields

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "if_ipsec_ike_rekey.yaml"
LIFETIMES = "rekey_time = 5s\n              life_time = 8s\n              rand_time = 2s\n"
TRAFFIC = SCENARIO.read_text().split("traffic:\n", 1)[1]


def _text(a_child: str = LIFETIMES, b_child: str = LIFETIMES, traffic: str | None = None) -> str:
    text = SCENARIO.read_text()
    head, b_part = text.split("\n  B:\n", 1)
    assert LIFETIMES in head and LIFETIMES in b_part
    text = head.replace(LIFETIMES, a_child) + "\n  B:\n" + b_part.replace(LIFETIMES, b_child)
    return text if traffic is None else text.replace(TRAFFIC, traffic)


def _run(until: float, text: str | None = None, pcap_dir: Path | None = None, **charon: float) -> Network:
    net = build_network(parse_scenario(text or _text(), SCENARIO.name), pcap_dir=pcap_dir)
    for name in ("A", "B"):
        for key, value in charon.items():
            setattr(net.host(name).daemons["charon"], key, value)
    net.run(until)
    return net


def _charon(net: Network, host: str):
    return net.host(host).daemons["charon"]


def _log(net: Network, host: str) -> list[tuple[float, str]]:
    return _charon(net, host).log


def _spis(net: Network, host: str) -> set[int]:
    return {sa.spi for sa in net.host(host).keydb.sas("esp")}


def test_sas_carry_soft_and_hard_lifetimes():
    """kernel-pfkey: soft = rekey_time less a jitter in [0, rand_time), hard = life_time, per SA."""
    net = _run(1)
    for host in ("A", "B"):
        sas = net.host(host).keydb.sas("esp")
        assert len(sas) == 2
        for sa in sas:
            assert sa.lifetime_hard.addtime == 8
            assert 5 - 2 < sa.lifetime_soft.addtime <= 5
    ((child,),) = [s.children for s in _charon(net, "A").ike_sas()]
    assert child.expires_in == 7 and 2 <= child.rekeying_in <= 4


def test_without_jitter_only_the_inbound_sa_has_a_soft_lifetime():
    plain = "rekey_time = 5s\n              life_time = 8s\n              rand_time = 0s\n"
    net = _run(1, _text(plain, plain))
    a_in = next(iter(_charon(net, "A").ike_sas())).children[0].spi_in
    soft = {sa.spi == a_in: sa.lifetime_soft.addtime for sa in net.host("A").keydb.sas("esp")}
    assert soft == {True: 5, False: 0}


def test_spis_change_at_the_rekey_time_and_the_old_sas_go():
    net = _run(3)
    before_a, before_b = _spis(net, "A"), _spis(net, "B")
    installed = [t for t, line in _log(net, "A") if "established with SPIs" in line][0]
    net.run(6.5)
    # The key engine checks lifetimes once a second and fires when more than soft whole seconds passed.
    first = min(t for h in ("A", "B") for t, line in _log(net, h) if line.startswith("rekeying CHILD_SA"))
    assert installed + 5 - 2 < first <= installed + 5 + 2
    new_a = {c.spi_in for s in _charon(net, "A").ike_sas() for c in s.children} | \
            {c.spi_out for s in _charon(net, "A").ike_sas() for c in s.children}
    assert new_a.isdisjoint(before_a) and len(new_a) == 2
    net.run(12)  # past delete_rekeyed_delay (5 s) after the first rekeying
    # setkey -D shows neither host's old SAs any more.
    assert _spis(net, "A").isdisjoint(before_a) and _spis(net, "B").isdisjoint(before_b)
    for host in ("A", "B"):
        assert any(line.startswith("closing CHILD_SA ipsec0") for _, line in _log(net, host))


def test_udp_flow_across_several_rekeyings_loses_nothing():
    net = _run(30)
    flow = net.flows["stream"]
    assert flow.sent > 3000 and flow.received == flow.sent
    for host in ("A", "B"):
        stats = _charon(net, host).stats["host-a-b" if host == "A" else "host-b-a"]
        assert stats.rekeys >= 4 and stats.expired == 0
        (ike,) = _charon(net, host).ike_sas()
        assert len(ike.children) == 1
    # Without delete_rekeyed_delay the peer's inbound SA goes while ESP is still on its way: the
    # datagrams the sender put on the old SA in the last round trip before it deleted it are lost.
    net = _run(12, delete_rekeyed_delay=0)
    flow = net.flows["stream"]
    assert 0 < flow.sent - flow.received <= 5


def test_both_hosts_agree_on_keys_and_tshark_decrypts_every_esp_packet(tmp_path):
    require_tshark()
    net = _run(14, pcap_dir=tmp_path)
    assert _charon(net, "A").stats["host-a-b"].rekeys >= 2
    on_a = {(sa.src, sa.dst, sa.spi): (sa.enc_key, sa.auth_key) for sa in net.host("A").keydb.sas("esp")}
    on_b = {(sa.src, sa.dst, sa.spi): (sa.enc_key, sa.auth_key) for sa in net.host("B").keydb.sas("esp")}
    assert {k: v for k, v in on_a.items() if k in on_b} == {k: v for k, v in on_b.items() if k in on_a}
    net.close()
    prefs = dict(p.split(":", 1) for p in DECRYPT_PREFS)
    rows = tshark_fields(tmp_path / "A-em0.pcap", ["esp.spi", "udp.dstport", "icmp.type"], prefs=prefs,
                         display_filter="esp", config_dir=tmp_path)
    assert len(rows) > 1000
    assert all(r["udp.dstport"] or r["icmp.type"] for r in rows)  # each one decrypted
    assert len({r["esp.spi"] for r in rows if r["udp.dstport"]}) >= 3  # the flow crossed several SAs


def _drop_first(net: Network, host: str, exchange: int) -> list[float]:
    """Wrap ``host``'s UDP 500 socket so the first request of ``exchange`` is lost."""
    dropped: list[float] = []
    ports = net.host(host).inet4.udp_ports
    deliver = ports[500]

    def lossy(src, sport, dst, dport, payload):
        msg = parse_ike(payload)
        if msg.exchange == exchange and not msg.response and not dropped:
            dropped.append(net.host(host).clock.now)
            return
        deliver(src, sport, dst, dport, payload)

    ports[500] = lossy
    return dropped


def test_lost_create_child_sa_is_retransmitted():
    never = "rekey_time = 0s\n              life_time = 20s\n"
    longer = "rekey_time = 5s\n              life_time = 20s\n              rand_time = 2s\n"
    net = build_network(parse_scenario(_text(longer, never), SCENARIO.name))
    dropped = _drop_first(net, "B", CREATE_CHILD_SA)
    net.run(14)
    assert len(dropped) == 1
    a = _charon(net, "A")
    retransmits = [t for t, line in a.log if line == "retransmit 1 of request with message ID 2"]
    assert retransmits == pytest.approx([dropped[0] + 4.0], abs=0.01)
    assert a.stats["host-a-b"].retransmissions == 1
    assert a.stats["host-a-b"].rekeys == 1 and _charon(net, "B").stats["host-b-a"].rekeys == 1
    ((child_a,),), ((child_b,),) = ([s.children for s in _charon(net, h).ike_sas()] for h in "AB")
    assert (child_a.spi_in, child_a.spi_out) == (child_b.spi_out, child_b.spi_in)


def test_lost_create_child_sa_answer_is_sent_again_from_the_cache():
    """The answer is lost: the retransmitted request gets the stored answer (2.1), and the
    responder does not install a second CHILD_SA."""
    never = "rekey_time = 0s\n              life_time = 20s\n"
    longer = "rekey_time = 5s\n              life_time = 20s\n              rand_time = 2s\n"
    net = build_network(parse_scenario(_text(longer, never), SCENARIO.name))
    dropped: list[float] = []
    ports = net.host("A").inet4.udp_ports
    deliver = ports[500]

    def lossy(src, sport, dst, dport, payload):
        msg = parse_ike(payload)
        if msg.exchange == CREATE_CHILD_SA and msg.response and not dropped:
            dropped.append(net.now)
            return
        deliver(src, sport, dst, dport, payload)

    ports[500] = lossy
    net.run(14)
    assert len(dropped) == 1
    b = _charon(net, "B")
    assert len([line for _, line in b.log if "established with SPIs" in line]) == 2  # IKE_AUTH's and the rekey's
    assert _charon(net, "A").stats["host-a-b"].rekeys == b.stats["host-b-a"].rekeys == 1
    ((child_a,),), ((child_b,),) = ([s.children for s in _charon(net, h).ike_sas()] for h in "AB")
    assert (child_a.spi_in, child_a.spi_out) == (child_b.spi_out, child_b.spi_in)


def test_simultaneous_rekeying_leaves_one_child():
    same = "rekey_time = 5s\n              life_time = 8s\n              rand_time = 0s\n"
    net = _run(7.5, _text(same, same), delete_rekeyed_delay=0)
    outcomes = {h: [line for _, line in _log(net, h) if "rekey collision" in line] for h in "AB"}
    assert sorted(o[0].split(",")[0] for o in outcomes.values()) == \
        ["CHILD_SA rekey collision lost", "CHILD_SA rekey collision won"]
    net.run(9)
    (ike_a,), (ike_b,) = _charon(net, "A").ike_sas(), _charon(net, "B").ike_sas()
    (ca,), (cb,) = ike_a.children, ike_b.children
    assert (ca.spi_in, ca.spi_out) == (cb.spi_out, cb.spi_in) and ca.state == cb.state == "INSTALLED"
    assert _spis(net, "A") == _spis(net, "B") == {ca.spi_in, ca.spi_out}
    assert _charon(net, "A").stats["host-a-b"].rekeys == _charon(net, "B").stats["host-b-a"].rekeys == 1


_PINGS = "  - {ping: {from: A, to: 172.16.0.5, count: 12, interval: 1s}}\n"


def test_hard_expiry_without_rekeying_removes_the_sas_and_acquire_fires_again():
    hard_only = "rekey_time = 0s\n              life_time = 4s\n"
    net = _run(13, _text(hard_only, hard_only, traffic=_PINGS))
    for host in ("A", "B"):
        log = [line for _, line in _log(net, host)]
        assert any(line.startswith("closing expired CHILD_SA ipsec0") for line in log)
        name = "host-a-b" if host == "A" else "host-b-a"
        assert _charon(net, host).stats[name].expired >= 1 and _charon(net, host).stats[name].rekeys == 0
    acquires = [t for t, line in _log(net, "A") if line.startswith("acquire for reqid 100")]
    assert len(acquires) >= 2 and acquires[1] > 4
    # Each ACQUIRE cost the packet that triggered it; the second CHILD_SA came by CREATE_CHILD_SA.
    ping = net.pings[0].stats
    assert ping.transmitted - ping.received == len(acquires)
    (ike,) = _charon(net, "A").ike_sas()
    assert ike.children and ike.established is not None


def test_peer_that_never_answers_the_hard_expiry_removes_the_sas():
    net = _run(2, _text(traffic=_PINGS))
    _charon(net, "B").stop()
    net.run(12)
    a = _charon(net, "A")
    assert any(line.startswith("retransmit 1 of request") for _, line in a.log)
    expired = [t for t, line in a.log if line.startswith("closing expired CHILD_SA ipsec0")]
    assert len(expired) == 1 and 8 < expired[0] < 11
    assert a.stats["host-a-b"].expired == 1 and a.stats["host-a-b"].rekeys == 0
    assert _spis(net, "A") == set()
    assert any(t >= expired[0] and line.startswith("acquire for reqid 100") for t, line in a.log)


def test_scapy_and_tshark_read_a_captured_create_child_sa(tmp_path):
    net = _run(7, pcap_dir=tmp_path)
    records = _charon(net, "A").wireshark_records()
    (ike,) = _charon(net, "A")._sas.values()
    ike_keys, encr, integ = ike.keys, ike.proposal.first(1), ike.proposal.first(3)
    net.close()
    pcap = tmp_path / "A-em0.pcap"
    msgs = [sc.IKEv2(bytes(p[UDP].payload)) for p in rdpcap(str(pcap)) if p.haslayer(UDP) and p[UDP].dport == 500]
    rekeys = [m for m in msgs if m.exch_type == CREATE_CHILD_SA]
    assert rekeys and {m.init_SPI for m in msgs} == {msgs[0].init_SPI}
    for m in rekeys:
        assert m.next_payload == 46 and isinstance(m.payload, sc.IKEv2_Encrypted)
    # Opened with A's keys, the first request's inner chain as scapy reads it (RFC 7296 1.3.3).
    first = next(bytes(p[UDP].payload) for p in rdpcap(str(pcap)) if p.haslayer(UDP) and p[UDP].dport == 500
                 and parse_ike(bytes(p[UDP].payload)).exchange == CREATE_CHILD_SA
                 and not parse_ike(bytes(p[UDP].payload)).response)
    assert ike_keys is not None and encr is not None
    sender = ike_keys.initiator if sc.IKEv2(first).flags & 0x08 else ike_keys.responder
    inner_type, plain = decrypt_sk(sender, encr, None if integ is None else integ.id, first)
    assert inner_type == 41
    chain = sc.IKEv2_Notify(plain)
    assert chain.type == 16393 and chain.proto == 3 and len(chain.SPI) == 4
    assert [type(layer).__name__ for layer in chain.iterpayloads()] == [
        "IKEv2_Notify", "IKEv2_SA", "IKEv2_Nonce", "IKEv2_TSi", "IKEv2_TSr"]
    assert len(chain[sc.IKEv2_Nonce].nonce) == 32
    # Each request's ID has its answer's (2.2), counted per sender.
    requests = {(bool(m.flags & 0x08), m.id) for m in rekeys if not m.flags & 0x20}
    answers = {(bool(m.flags & 0x08), m.id) for m in rekeys if m.flags & 0x20}
    assert {mid for _, mid in requests} == {mid for _, mid in answers}
    require_tshark()
    rows = tshark_fields(pcap, ["isakmp.exchangetype", "isakmp.typepayload", "isakmp.notify.msgtype", "isakmp.flags"],
                         uat={"ikev2_decryption_table": records}, display_filter="isakmp.exchangetype == 36")
    requests_seen = [r for r in rows if not int(r["isakmp.flags"], 16) & 0x20]
    assert requests_seen
    # SK { N(REKEY_SA), SA (proposal, transforms), Ni, TSi, TSr } as RFC 7296 1.3.3 lists it.
    assert requests_seen[0]["isakmp.typepayload"].split(",") == ["46", "41", "33", "2", "3", "3", "40", "44", "45"]
    assert requests_seen[0]["isakmp.notify.msgtype"] == "16393"


# -- IKE_SA rekeying (RFC 7296 2.18) ---------------------------------------------------------------

_IKE_LINE = "proposals = aes128-sha256-x25519\n"


def _ike_text(a_conn: str, b_conn: str, child: str = LIFETIMES, traffic: str | None = None) -> str:
    text = _text(child, child, traffic)
    head, b_part = text.split("\n  B:\n", 1)
    return head.replace(_IKE_LINE, _IKE_LINE + a_conn) + "\n  B:\n" + b_part.replace(_IKE_LINE, _IKE_LINE + b_conn)


def _prf_plus(key: bytes, seed: bytes, length: int) -> bytes:
    out, block, n = b"", b"", 1
    while len(out) < length:
        block = hmac.new(key, block + seed + bytes([n]), "sha256").digest()
        out, n = out + block, n + 1
    return out[:length]


def test_rekeyed_ike_sa_keys_follow_2_18():
    """SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), then prf+ as in 2.14 with the new SPIs."""
    from ipsecsim.ike.ike_rekey import rekeyed_ike_sa_keys
    from ipsecsim.ike.message import Transform

    sk_d, shared, ni, nr, spi_i, spi_r = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, b"\x04" * 32, b"\x05" * 8, b"\x06" * 8
    keys = rekeyed_ike_sa_keys(5, sk_d, 5, 12, Transform(1, 12, 128), ni, nr, shared, spi_i, spi_r)
    skeyseed = hmac.new(sk_d, shared + ni + nr, "sha256").digest()
    stream = _prf_plus(skeyseed, ni + nr + spi_i + spi_r, 32 + 32 + 32 + 16 + 16 + 32 + 32)
    assert keys.skeyseed == skeyseed
    assert (keys.sk_d, keys.sk_ai, keys.sk_ar, keys.sk_ei, keys.sk_er, keys.sk_pi, keys.sk_pr) == (
        stream[:32], stream[32:64], stream[64:96], stream[96:112], stream[112:128], stream[128:160], stream[160:])


def test_ike_sa_rekeying_moves_the_child_and_the_new_keys_work(tmp_path):
    a_conn = "          rekey_time = 7s\n          over_time = 10s\n          rand_time = 0s\n"
    b_conn = "          rekey_time = 0s\n"
    child = "rekey_time = 10s\n              life_time = 14s\n              rand_time = 0s\n"
    net = _run(4, _ike_text(a_conn, b_conn, child), pcap_dir=tmp_path)
    (old_a,), (old_b,) = _charon(net, "A").ike_sas(), _charon(net, "B").ike_sas()
    assert old_a.rekeying_in == 3 and old_a.expires_in == 13 and old_b.rekeying_in is None
    net.run(8)
    (new_a,), (new_b,) = _charon(net, "A").ike_sas(), _charon(net, "B").ike_sas()
    assert (new_a.spi_i, new_a.spi_r) == (new_b.spi_i, new_b.spi_r)
    assert {new_a.spi_i, new_a.spi_r}.isdisjoint({old_a.spi_i, old_a.spi_r})
    assert new_a.initiator and not new_b.initiator and new_a.unique_id != old_a.unique_id
    assert [(c.spi_in, c.spi_out) for c in new_a.children] == [(c.spi_in, c.spi_out) for c in old_a.children]
    log = [line for _, line in _log(net, "A")]
    assert f"rekeying IKE_SA host-a-b[{old_a.unique_id}]" in log
    assert any(line.startswith(f"IKE_SA host-a-b[{new_a.unique_id}] rekeyed between") for line in log)
    # The CHILD_SA rekeyings at 11 s (both sides: they collide) go over the new IKE_SA, before
    # A rekeys it again at 14 s: each side read the other's requests with the new keys.
    net.run(12)
    assert _charon(net, "A").stats["host-a-b"].rekeys == _charon(net, "B").stats["host-b-a"].rekeys == 1
    assert net.flows["stream"].received == net.flows["stream"].sent
    records = _charon(net, "A").wireshark_records()
    net.close()
    require_tshark()
    rows = tshark_fields(tmp_path / "A-em0.pcap", ["isakmp.ispi", "isakmp.exchangetype", "isakmp.typepayload"],
                         uat={"ikev2_decryption_table": records}, display_filter="isakmp.exchangetype == 36")
    in_new = [r["isakmp.typepayload"].split(",") for r in rows if int(r["isakmp.ispi"], 16) == new_a.spi_i]
    assert len(in_new) == 4  # two crossing requests and their answers, all read with the new keys
    assert sorted(p[:2] for p in in_new) == [["46", "33"], ["46", "33"], ["46", "41"], ["46", "41"]]


def test_ike_sa_hard_lifetime_deletes_it_when_the_peer_is_gone():
    a_conn = "          rekey_time = 4s\n          over_time = 3s\n          rand_time = 0s\n"
    plain = "rekey_time = 0s\n              life_time = 0s\n"
    net = _run(2, _ike_text(a_conn, "          rekey_time = 0s\n", plain, traffic=_PINGS))
    _charon(net, "B").stop()
    net.run(9)
    a = _charon(net, "A")
    deleted = [t for t, line in a.log if line.endswith("reached its hard lifetime, deleting it")]
    assert deleted == pytest.approx([7.0], abs=0.01)
    # Its CHILD_SA went with it; the next ping's ACQUIRE starts another IKE_SA, unanswered.
    assert [(s.unique_id, s.state) for s in a.ike_sas()] == [(3, "CONNECTING")] and _spis(net, "A") == set()
