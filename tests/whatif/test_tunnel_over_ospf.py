"""A tunnel whose outer packets follow OSPF routes, and which carries OSPF itself (at a cost
that keeps the outer packets out of it): the adjacency over the tunnel depends on the routes,
which depend on the adjacencies. What-if settles it as the simulated network does."""

from __future__ import annotations

import pytest

from ipsecsim.scenario import parse_scenario
from ipsecsim.scenario.build import build_network
from ipsecsim.whatif import Failure, analyse, model_from_network

from .test_whatif import _failure_paths, assert_agrees

SCENARIO = """
name: a tunnel over OSPF-routed paths
duration: 60s
links:
  - {a: A:em0, b: R1:em0}
  - {a: R1:em1, b: B:em0}
  - {a: A:em1, b: R2:em0}
  - {a: R2:em1, b: B:em1}
  - {a: pcA:em0, b: A:em2}
  - {a: pcB:em0, b: B:em2}
tunnels:
  - a: {host: A, outer: 10.0.1.1, inner: 172.16.0.1/32, reqid: 100}
    b: {host: B, outer: 10.0.2.2, inner: 172.16.0.2/32, reqid: 200}
    key_seed: 7
hosts:
  pcA:
    run: |
      ifconfig em0 inet 192.168.1.10/24
      route add default 192.168.1.1
  pcB:
    run: |
      ifconfig em0 inet 192.168.2.10/24
      route add default 192.168.2.1
  R1:
    run: |
      ifconfig em0 inet 10.0.1.2/30
      ifconfig em1 inet 10.0.2.1/30
      sysctl net.inet.ip.forwarding=1
    frr: |
      interface em0
       ip ospf network point-to-point
      interface em1
       ip ospf network point-to-point
      router ospf
       ospf router-id 1.1.1.1
       network 10.0.0.0/8 area 0
  R2:
    run: |
      ifconfig em0 inet 10.0.3.2/30
      ifconfig em1 inet 10.0.4.1/30
      sysctl net.inet.ip.forwarding=1
    frr: |
      interface em0
       ip ospf network point-to-point
       ip ospf cost 10
      interface em1
       ip ospf network point-to-point
       ip ospf cost 10
      router ospf
       ospf router-id 2.2.2.2
       network 10.0.0.0/8 area 0
  A:
    run: |
      ifconfig em0 inet 10.0.1.1/30
      ifconfig em1 inet 10.0.3.1/30
      ifconfig em2 inet 192.168.1.1/24
      sysctl net.inet.ip.forwarding=1
      route add 192.168.2.0/24 172.16.0.2
    frr: |
      interface em0
       ip ospf network point-to-point
      interface em1
       ip ospf network point-to-point
       ip ospf cost 10
      interface ipsec0
       ip ospf network point-to-point
       ip ospf cost 100
      router ospf
       ospf router-id 10.0.1.1
       network 10.0.0.0/8 area 0
       network 172.16.0.0/16 area 0
  B:
    run: |
      ifconfig em0 inet 10.0.2.2/30
      ifconfig em1 inet 10.0.4.2/30
      ifconfig em2 inet 192.168.2.1/24
      sysctl net.inet.ip.forwarding=1
      route add 192.168.1.0/24 172.16.0.1
    frr: |
      interface em0
       ip ospf network point-to-point
      interface em1
       ip ospf network point-to-point
       ip ospf cost 10
      interface ipsec0
       ip ospf network point-to-point
       ip ospf cost 100
      router ospf
       ospf router-id 10.0.2.2
       network 10.0.0.0/8 area 0
       network 172.16.0.0/16 area 0
traffic:
  - {ping: {name: lan, from: pcA, to: 192.168.2.10, count: 1}}
"""


def _scenario():
    return parse_scenario(SCENARIO, "tunnel_over_ospf.yaml")


def test_the_tunnel_moves_with_the_underlay():
    scenario = _scenario()
    model = model_from_network(build_network(scenario, traffic=False), scenario)
    answer = analyse(model, [Failure(links=("R1:em1-B:em0",)), Failure(links=("A:em1-R2:em0",))])
    base = {item.name: path for item, path in answer.base}
    assert base["A:ipsec0"].hops == ("A:em0", "R1:em1") and base["lan"].ok
    moved = {c.item.name: c for c in answer.results[0].changes}
    assert moved["B:ipsec0"].status == "moved" and moved["B:ipsec0"].after.hops == ("B:em1", "R2:em0")
    assert answer.results[1].changes == []


@pytest.mark.parametrize("link", [None, "A:em0-R1:em0", "R1:em1-B:em0", "A:em1-R2:em0"])
def test_agrees_with_simulation(link):
    scenario = _scenario()
    net = build_network(scenario, traffic=False)
    model = model_from_network(net, scenario)
    net.run(60)  # the default dead interval is 40 s
    if link is None:
        assert assert_agrees(net, model, analyse(model, []).base, "base") == 1
        return
    net.link(link).set_state(False)
    net.run(130)
    assert assert_agrees(net, model, _failure_paths(model, Failure(links=(link,))), link) == 1
