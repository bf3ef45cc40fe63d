"""A UDP flow through the man page's tunnel keeps being measured when its source changes.

At 5 s A gives ipsec0 another inner address (``ifconfig ipsec0 inet 172.16.0.4/16
172.16.0.5`` replaces 172.16.0.3, as on FreeBSD): from then on the flow's datagrams leave
from 172.16.0.4. The sink knows the flow by the id in each datagram's stamp, so every
datagram counts; the loss the flow shows is the loss the drops explain. [S12.3]
"""

from __future__ import annotations

import pytest

from .helpers import A_IN, B_IN, Bench, manpage_host, scenario_yaml

READDRESS = "{at: 5s, host: A, run: ifconfig ipsec0 inet 172.16.0.4/16 172.16.0.5}"
FLOW = f"{{udp: {{name: bulk, from: A, to: {B_IN}, rate: 8Mbit/s, size: 1000, start: 2s, stop: 8s}}}}"


def bench(*timeline: str) -> Bench:
    hosts = {"A": manpage_host("A"), "B": manpage_host("B")}
    return Bench(scenario_yaml(hosts, duration="9s", traffic=(FLOW,), timeline=(READDRESS, *timeline)))


def udp_sources(tapped) -> set[str]:
    """The source addresses of the UDP datagrams ipsec0 received (its tap sees the inner IP packets)."""
    return {".".join(map(str, t.pkt[12:16])) for t in tapped if not t.outbound and t.pkt[9] == 17}


def test_a_flow_is_counted_whole_across_a_source_change():
    b = bench()
    delivered = b.tap("B", "ipsec0")
    result = b.run(9.0)
    assert udp_sources(delivered) == {A_IN, "172.16.0.4"}  # the source did change mid-flow
    flow = result.flows["bulk"]
    assert (flow["sent"], flow["received"], flow["loss"]) == (6000, 6000, 0.0)
    assert result.drops == {}
    assert result.notes == []


def test_a_lossy_flow_shows_exactly_the_loss_its_drops_explain():
    """With 2% link loss from 4 s, every datagram the flow misses is a ``link loss`` drop."""
    b = bench("{at: 4s, link: A:em0-B:em0, set: {loss: 2%}}")
    result = b.run(9.0)
    flow = result.flows["bulk"]
    lost = flow["sent"] - flow["received"]
    assert lost > 0
    assert result.drops == {"link loss": lost}
    assert flow["loss"] == pytest.approx(lost / 6000)
