"""UDP flows: the sink knows a flow by the id in its stamp, and other datagrams on its port
are received by the socket but counted in no flow."""

from ipaddress import ip_address

import pytest

import ipsecsim
from ipsecsim.packet import Udp
from ipsecsim.scenario import ScenarioError
from ipsecsim.userland.udpflow import _STAMP, MIN_PAYLOAD, FlowSocket

YAML = """
name: two hosts
duration: 2s
links: [{a: A:em0, b: B:em0}]
hosts:
  A: {run: ifconfig em0 inet 10.0.0.1/24}
  B: {run: ifconfig em0 inet 10.0.0.2/24}
traffic:
  - {udp: {name: one, from: A, to: 10.0.0.2, rate: 80Kbit/s, size: 100, start: 0s, stop: 1s}}
  - {udp: {name: two, from: B, to: 10.0.0.2, rate: 80Kbit/s, size: 100, start: 0s, stop: 1s}}
"""


def send_udp(host, payload: bytes, sport: int = 5000) -> None:
    host.send(ip_address("10.0.0.2"), 17, Udp(sport, 9, payload).to_bytes)


def test_the_stamp_fits_the_smallest_flow_payload_a_scenario_accepts():
    assert MIN_PAYLOAD == _STAMP.size == 16  # flow id, sequence number, send time
    first = "size: 100, start: 0s, stop: 1s}}\n  - {udp: {name: two"
    ipsecsim.loads(YAML.replace(first, first.replace("100", str(MIN_PAYLOAD))))
    with pytest.raises(ScenarioError, match=f"from {MIN_PAYLOAD} to"):
        ipsecsim.loads(YAML.replace(first, first.replace("100", str(MIN_PAYLOAD - 1))))


def test_datagrams_of_no_flow_are_received_and_counted_in_none():
    """Someone else's UDP to the sink's port: too short for a stamp, an unknown flow id, or
    the id of a flow measured elsewhere. FreeBSD's socket receives each (udps_ipackets);
    the sink ignores them, and the summary says how many."""
    sim = ipsecsim.loads(YAML)
    net = sim.network
    a = net.host("A")
    foreign = [b"hello", bytes(100), _STAMP.pack(99, 0, 0) + bytes(84)]
    for n, payload in enumerate(foreign):
        net.at(0.5 + n * 0.01, send_udp, a, payload)
    result = sim.run()
    assert [(f["sent"], f["received"]) for f in result.flows.values()] == [(100, 100), (100, 100)]
    (socket,) = net.flow_sockets
    assert isinstance(socket, FlowSocket) and socket.ignored == 3
    assert net.host("B").ipstat.udps_ipackets == 100 + 100 + 3
    assert result.drops == {}
    assert result.notes == ["B: 3 datagrams to UDP port 9 carried no flow's stamp; the flow sink received "
                            "them and counted them in no flow"]


def test_a_port_bound_by_something_else_is_not_taken_over():
    sim = ipsecsim.loads(YAML)
    net = sim.network
    net.host("B").inet6.udp_ports[9] = lambda *datagram: None
    result = sim.run()
    assert result.flows["one"]["received"] == 0
    assert result.notes[0] == "udp flow one: B: UDP port 9 is already bound"
