"""Packet tags travel with the packet: IN_DONE/M_DECRYPTED into IP input, OUT_DONE to if_ipsec.

FreeBSD: ipsec_common_input_cb adds PACKET_TAG_IPSEC_IN_DONE and esp_input_cb sets
M_DECRYPTED; ipsec_if_input clears M_DECRYPTED (m_clrprotoflags); ipsec_process_done adds
PACKET_TAG_IPSEC_OUT_DONE, which ipsec_transmit refuses to encapsulate again.
"""

from __future__ import annotations

import pytest

from ipsecsim.kernel.drops import DropReason
from ipsecsim.kernel.tags import IN_DONE, IN_DONE_DECRYPTED, OUT_DONE
from ipsecsim.packet.ipversion import IPV4

from .helpers import A_IN, B_IN, B_OUT, Bench, manpage_host, scenario_yaml


def manpage(a_extra: str = "") -> Bench:
    return Bench(scenario_yaml({"A": manpage_host("A", extra=a_extra), "B": manpage_host("B")}))


def record_inputs(host):
    """Wrap IPv4 input: (interface name, IP protocol number, tags) of each packet."""
    seen = []
    original = host.inet4.input

    def spy(ifp, pkt, tags=None):
        seen.append((ifp.name, pkt[9], tags))
        original(ifp, pkt, tags)

    host.inet4.input = spy
    return seen


@pytest.mark.replaces_kernel_methods
def test_a_decrypted_packet_reenters_ip_input_with_in_done():
    bench = manpage()
    seen = record_inputs(bench.kernel("B"))
    bench.ping("A", f"-c 1 {B_IN}")
    # The ESP packet arrives untagged on em0; its inner packet re-enters on ipsec0 with
    # IN_DONE and without M_DECRYPTED, which if_ipsec cleared.
    assert seen[0] == ("em0", 50, None)
    assert seen[1] == ("ipsec0", 1, IN_DONE)
    assert seen[1][2].in_done and not seen[1][2].decrypted


@pytest.mark.replaces_kernel_methods
def test_without_if_ipsec_attribution_the_packet_keeps_m_decrypted():
    bench = manpage()
    b = bench.kernel("B")
    b.ipsec.if_input = None  # no interface claims the SA: delivered on em0 as decrypted
    seen = record_inputs(b)
    bench.ping("A", f"-c 1 {B_IN}")
    assert seen[1] == ("em0", 1, IN_DONE_DECRYPTED)


@pytest.mark.replaces_kernel_methods
def test_an_esp_packet_routed_back_into_ipsec0_carries_out_done_and_is_not_esp_twice():
    bench = manpage(a_extra=f"route add -host {B_OUT} -iface ipsec0")
    a = bench.kernel("A")
    ipsec0 = a.interface("ipsec0")
    tags_seen = []
    original = ipsec0.output

    def spy(pkt, family, tags=None):
        tags_seen.append((pkt[9], tags))
        return original(pkt, family, tags)

    ipsec0.output = spy
    bench.ping("A", f"-c 2 {B_IN}")
    # each echo request enters untagged; its ESP packet comes back tagged and is refused
    assert tags_seen == [(1, None), (50, OUT_DONE)] * 2
    assert bench.drops("A") == {DropReason.IPSEC_LOOP.value: 2}
    assert bench.sa("A", 10000).current.allocations == 2  # encapsulated once each


def test_the_tag_belongs_to_one_packet_not_to_the_host():
    """A decrypted packet forwarded into a tunnel is encapsulated: IN_DONE is no OUT_DONE,
    and no tag of another packet in flight leaks onto it."""
    bench = manpage()
    a = bench.kernel("A")
    ipsec0 = a.interface("ipsec0")
    inner = bytes.fromhex("4500001c00004000400100000000000000000000") + bytes(8)
    pkt = bytearray(inner)
    pkt[12:16] = bytes(map(int, A_IN.split(".")))
    pkt[16:20] = bytes(map(int, B_IN.split(".")))
    assert ipsec0.output(bytes(pkt), IPV4, OUT_DONE) == "ENETDOWN"
    assert ipsec0.output(bytes(pkt), IPV4, IN_DONE_DECRYPTED) is None
    assert bench.espstat("A").esps_output == 1
