"""What a run reports when IKE fails: the two failure scenarios, a peer that never answers, and
malformed messages on UDP 500 that charon drops without disturbing an established IKE_SA."""

from __future__ import annotations

import functools
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ipsecsim
from ipsecsim.packet.udp import Udp
from ipsecsim.report import Result
from ipsecsim.scenario import parse_scenario
from ipsecsim.scenario.build import build_network
from ipsecsim.world import Network

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
A_ADDR, B_ADDR = IPv4Address("192.168.0.3"), IPv4Address("192.168.0.5")


def _run(path: Path, text: str | None = None, **options) -> Result:
    sim = ipsecsim.loads(text or path.read_text(), str(path), **options)
    try:
        return sim.run(progress=False)
    finally:
        sim.close()


def test_psk_mismatch_installs_nothing_and_both_sides_say_why():
    result = _run(SCENARIOS / "if_ipsec_ike_psk_mismatch.yaml")
    assert result.ok, result.summary()
    assert result.sas == []  # no SA in either SAD, none carried traffic
    assert result.drops_by_host == {"A": {"ips_out_nosa": 5}}
    a, b = result.ike["A"]["host-a-b"], result.ike["B"]["host-b-a"]
    assert (a["initiated"], a["established"], b["established"]) == (1, 0, 0)
    assert [f["reason"] for f in a["failures"]] == ["received AUTHENTICATION_FAILED notify error"]
    assert [f["reason"] for f in b["failures"]] == [
        "AUTHENTICATION_FAILED: verification of AUTH payload of 'a.example.org' with pre-shared key failed"]
    assert b["failures"][0]["time"] < a["failures"][0]["time"]  # B refused first, then told A
    summary = result.summary()
    assert "received AUTHENTICATION_FAILED notify error" in summary.split("IKE failures", 1)[1]


def test_lossy_negotiation_retransmits_and_comes_up_later():
    result = _run(SCENARIOS / "if_ipsec_ike_lossy.yaml")
    assert result.ok, result.summary()
    a = result.ike["A"]["host-a-b"]
    assert a["retransmissions"] >= 1 and a["established"] == 1 and a["failures"] == []
    # Each retransmission waits retransmit_timeout (4 s) at least; the exchange itself takes ms.
    assert a["times_to_establish"][0] >= 4.0 * a["retransmissions"]
    row = next(line.split() for line in result.summary().splitlines() if line.split()[:2] == ["A", "host-a-b"])
    assert row[4:6] == [f"{a['times_to_establish'][0]:.3f}", "s"] and row[8] == str(a["retransmissions"])
    assert result.drops.get("link loss", 0) >= a["retransmissions"]  # what was lost was lost on the link


def _without_b_charon() -> str:
    text = (SCENARIOS / "if_ipsec_host_a_b_ike.yaml").read_text()
    head, b_part = text.split("\n  B:\n", 1)
    b_part = b_part[:b_part.index("    swanctl: |")] + b_part[b_part.index("traffic:"):]
    return (head + "\n  B:\n" + b_part).replace("duration: 10s", "duration: 170s")


_GIVE_UP = sum(4.0 * 1.8 ** n for n in range(6))  # strongSwan's defaults: sends at 0, 4, 11.2, ... end 165.06 s


def test_peer_without_charon_gives_up_after_the_retransmissions():
    text = _without_b_charon() + ("  - {ike: {host: A, connection: host-a-b}, established: false, "
                                  "failure: giving up, retransmissions: 5}\n")
    result = _run(SCENARIOS / "x.yaml", text)
    assert [e.holds for e in result.expectations[1:]] == [True, True, True]
    a = result.ike["A"]["host-a-b"]
    assert a["failures"] == [{"time": pytest.approx(_GIVE_UP), "reason": "giving up after 5 retransmits"}]
    assert list(result.ike) == ["A"]


def test_peer_behind_a_down_link_gives_up_too():
    text = (SCENARIOS / "if_ipsec_host_a_b_ike.yaml").read_text().replace("duration: 10s", "duration: 170s")
    text = text.replace("timeline:\n", "timeline:\n  - {at: 0s, link: A:em0-B:em0, state: down}\n")
    result = _run(SCENARIOS / "x.yaml", text)
    a, b = result.ike["A"]["host-a-b"], result.ike["B"]["host-b-a"]
    assert a["retransmissions"] == 5 and a["established"] == 0
    assert [f["reason"] for f in a["failures"]] == ["giving up after 5 retransmits"]
    assert b == {"initiated": 0, "times_to_establish": [], "established": 0, "retransmissions": 0, "rekeys": 0,
                 "expired": 0, "failures": []}  # B never heard of it


# -- malformed messages on UDP 500 ----------------------------------------------------------


@functools.cache
def _established() -> tuple[Network, list[bytes]]:
    """A and B with their IKE_SA up; the IKE messages B's em0 saw (its own BPF tap) to mutate."""
    text = (SCENARIOS / "if_ipsec_host_a_b_ike.yaml").read_text().replace(
        "start_action = trap\n              reqid = 100", "start_action = start\n              reqid = 100")
    net = build_network(parse_scenario(text, "ike.yaml"), traffic=False)
    seen: list[bytes] = []

    def tap(pkt: bytes, outbound: bool) -> None:
        if pkt[9] == 17 and int.from_bytes(pkt[22:24], "big") == 500:  # IPv4, no options: UDP at 20
            seen.append(pkt[28:])

    net.host("B").interfaces["em0"].bpf = tap
    net.run(1)
    net.host("B").interfaces["em0"].bpf = None  # the fuzz's own datagrams are not real messages
    assert len(seen) == 4  # IKE_SA_INIT and IKE_AUTH, request and response
    return net, seen


def _state(net: Network) -> list:
    return [(h, [(s.spi_i, s.spi_r, s.state, [(c.spi_in, c.spi_out) for c in s.children])
                 for s in net.host(h).daemons["charon"].ike_sas() if s.state == "ESTABLISHED"],
             sorted((sa.src, sa.dst, sa.spi) for sa in net.host(h).keydb.sas("esp")))
            for h in "AB"]


def _inject(net: Network, data: bytes) -> None:
    net.host("A").send(B_ADDR, 17, lambda s, d: Udp(500, 500, data).to_bytes(s, d), src=A_ADDR)
    net.run(net.now + 0.01)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.integers(0, 3), st.integers(0, 3), st.integers(0, 2**16))
def test_malformed_messages_are_dropped_and_the_ike_sa_stands(data, how, which, where):
    net, real = _established()
    before = _state(net)
    assert before[0][1] and before[1][1]  # both sides have one ESTABLISHED IKE_SA
    log = net.host("B").daemons["charon"].log
    logged = len(log)
    message = real[which % len(real)]
    if how == 1:  # cut short
        data = message[:where % len(message)]
    elif how == 2:  # one byte changed
        i = where % len(message)
        data = message[:i] + bytes([message[i] ^ (data[0] | 1 if data else 0x55)]) + message[i + 1:]
    elif how == 3:  # bytes appended
        data = message + data
    _inject(net, data)
    assert _state(net) == before
    assert len(log) > logged, "charon dropped a datagram without saying why"
    # Independent of the parser: a datagram under the 28-byte header, or whose major version is
    # not 2, is no IKEv2 message; charon must say it dropped it and why.
    if len(data) < 28 or data[17] >> 4 != 2:
        assert len(log) > logged and log[-1][1].startswith("dropping malformed message from 192.168.0.3[500]: IKE ")


def test_after_the_fuzz_the_tunnel_still_carries_a_ping():
    net, _ = _established()
    for data in (b"", b"\x00" * 27, b"\xff" * 300):
        _inject(net, data)
    net.sh("A", "ping -c 2 172.16.0.5")
    net.run(net.now + 3)
    assert "2 packets transmitted, 2 packets received" in "\n".join(line for _, line in net.consoles["A"].entries)
