"""ospfd on two routers: the adjacency, what it sends, what it refuses, and vtysh's view."""

from dataclasses import replace
from ipaddress import ip_address

import networkx as nx
import pytest

from ipsecsim.ospf.config import parse_frr_config
from ipsecsim.ospf.daemon import Ospfd
from ipsecsim.packet.ospf import OPTION_E, OSPF_PROTO, Hello, OspfPacket

from tshark import require_tshark, tshark_expert_problems, tshark_fields
from .ospfnets import OspfNet


def pair(**options) -> OspfNet:
    graph = nx.Graph()
    graph.add_edge(0, 1, cost=7)
    return OspfNet(graph, **options)


def test_the_adjacency_goes_through_every_state_to_full_within_a_hello_interval():
    ospf = pair(hello=2, dead=8)
    ospf.net.run(3.0)
    for n in (0, 1):
        states = [text.split(": ", 1)[1] for _, text in ospf.daemons[n].log if text.startswith("neighbor")]
        assert states[0] == "Down -> Init (HelloReceived)"
        assert [s.split(" (")[0].split(" -> ")[1] for s in states] == ["Init", "2-Way", "ExStart", "Exchange", "Full"] or \
            [s.split(" (")[0].split(" -> ")[1] for s in states] == ["Init", "2-Way", "ExStart", "Exchange", "Loading", "Full"]
        full_at = max(t for t, text in ospf.daemons[n].log if "-> Full" in text)
        assert full_at < 2.0 + 0.1  # the second Hello (the first that lists the neighbour)
    text = ospf.net.sh("R0", 'vtysh -c "show ip ospf neighbor"').output
    assert "1.1.0.1" in text and "Full/-" in text and "em0:10.0.0.1" in text


def test_routes_come_through_the_routing_socket_with_the_proto1_flag():
    graph = nx.path_graph(3)
    nx.set_edge_attributes(graph, 5, "cost")
    ospf = OspfNet(graph)
    ospf.net.run(12.0)
    netstat = ospf.net.sh("R0", "netstat -rn -f inet").output
    line = next(line for line in netstat.splitlines() if line.startswith("10.0.0.4/30"))
    assert line.split()[1:4] == ["10.0.0.2", "UG1", "em0"]


def test_our_ospf_packets_decode_in_tshark_without_problems(tmp_path):
    require_tshark()
    ospf = pair()
    ospf.net.enable_capture(tmp_path)
    ospf.net.run(8.0)
    ospf.net.close()
    pcap = tmp_path / "R0-em0.pcap"
    rows = tshark_fields(pcap, ["ip.dst", "ip.ttl", "ip.dsfield", "ospf.msg", "ospf.srcrouter",
                                "ospf.hello.hello_interval", "ospf.hello.router_dead_interval", "ospf.lsa"])
    kinds = {row["ospf.msg"] for row in rows}
    assert {"1", "2", "4", "5"} <= kinds  # Hello, DB Description, LS Update, LS Ack
    assert all(row["ip.dst"] == "224.0.0.5" and row["ip.ttl"] == "1" for row in rows)
    hellos = [row for row in rows if row["ospf.msg"] == "1"]
    assert {row["ospf.hello.hello_interval"] for row in hellos} == {"1"}
    assert {row["ospf.hello.router_dead_interval"] for row in hellos} == {"4"}
    assert any(row["ospf.lsa"] == "1" for row in rows if row["ospf.msg"] == "4")  # router-LSAs
    assert tshark_expert_problems(pcap) == []


def hello_from_r1(ospf: OspfNet, **changes) -> bytes:
    """The Hello R1 sends on em0 once it has heard R0, with fields changed."""
    body = Hello(network_mask=ip_address("255.255.255.252"), hello_interval=1, options=OPTION_E, priority=1,
                 dead_interval=4, designated_router=ip_address("0.0.0.0"), backup_router=ip_address("0.0.0.0"),
                 neighbors=(ospf.daemons[0].router_id,))
    fields = {k: v for k, v in changes.items() if k in Hello.__dataclass_fields__}
    header = {"router_id": ospf.daemons[1].router_id, "area_id": ip_address("0.0.0.0")}
    header.update({k: v for k, v in changes.items() if k in header})
    return OspfPacket(body=replace(body, **fields), **header).to_bytes()


@pytest.mark.parametrize("payload,reason", [
    (lambda o: b"\x02\x01\x00", "OSPF packet too short"),
    (lambda o: b"\x03" + hello_from_r1(o)[1:], "OSPF bad version"),
    (lambda o: hello_from_r1(o, area_id=ip_address("0.0.0.1")), "OSPF area mismatch"),
    (lambda o: hello_from_r1(o, hello_interval=10), "OSPF hello mismatch"),
    (lambda o: hello_from_r1(o, dead_interval=40), "OSPF hello mismatch"),
    (lambda o: hello_from_r1(o, router_id=ip_address("1.1.0.0")), "OSPF own packet"),
])
def test_what_ospfd_refuses_is_dropped_with_a_named_reason(payload, reason):
    ospf = pair()
    ospf.net.run(0.5)
    r1 = ospf.net.host("R1")
    r1.inet4.output_on(r1.interfaces["em0"], ip_address("224.0.0.5"), OSPF_PROTO, payload(ospf), ttl=1)
    ospf.net.run(0.6)
    assert ospf.net.host("R0").drops[reason] == 1


def test_a_malformed_hello_does_not_disturb_the_adjacency():
    ospf = pair()
    ospf.net.run(5.0)
    r1 = ospf.net.host("R1")
    good = hello_from_r1(ospf)
    for cut in range(1, len(good)):
        r1.inet4.output_on(r1.interfaces["em0"], ip_address("224.0.0.5"), OSPF_PROTO, good[:cut], ttl=1)
    ospf.net.run(6.0)
    r0 = ospf.net.host("R0")
    assert sum(count for reason, count in r0.drops.items() if reason.startswith("OSPF")) == len(good) - 1
    assert [v.state for v in ospf.daemons[0].neighbors()] == ["Full"]


def test_an_ethernet_interface_left_as_a_broadcast_network_is_refused():
    ospf = pair()
    host = ospf.net.host("R0")
    config = parse_frr_config("router ospf\n network 10.0.0.0/8 area 0\n")
    problems = Ospfd(host, config).unsupported_interfaces()
    assert len(problems) == 1 and "ip ospf network point-to-point" in problems[0] and "em0" in problems[0]


def test_an_interface_numbered_later_joins_ospf():
    from ipsecsim.world import LinkParams, Network
    from .ospfnets import frr_text

    net = Network(seed=1)
    net.add_link("R0:em0", "R1:em0", LinkParams(delay=0.001))
    net.add_link("R1:em1", "R2:em0", LinkParams(delay=0.001))
    net.sh("R0", "ifconfig em0 inet 10.0.0.1/30")
    net.sh("R1", "ifconfig em0 inet 10.0.0.2/30\nsysctl net.inet.ip.forwarding=1")
    costs = {"R0": {"em0": 1}, "R1": {"em0": 1, "em1": 1}, "R2": {"em0": 1}}
    for index, name in enumerate(("R0", "R1", "R2")):
        Ospfd(net.host(name), parse_frr_config(frr_text(f"1.1.1.{index}", costs[name]))).start()
    net.run(8.0)
    assert net.host("R0").fibs[0].lookup(ip_address("10.0.1.1").packed) is None
    net.sh("R1", "ifconfig em1 inet 10.0.1.1/30")
    net.sh("R2", "ifconfig em0 inet 10.0.1.2/30")
    net.run(20.0)
    route = net.host("R0").fibs[0].lookup(ip_address("10.0.1.2").packed)
    assert route is not None and str(route.gateway) == "10.0.0.2"


def test_damaged_packets_from_a_neighbour_never_break_the_daemon():
    """Every packet of a real conversation, with one byte changed and the OSPF checksum made
    right again (so most get past the parser), sent to R0: nothing raises, and the adjacency
    comes back to Full once the damage stops."""
    import random as _random
    import struct

    from ipsecsim.packet import internet_checksum

    graph = nx.path_graph(3)
    nx.set_edge_attributes(graph, 3, "cost")
    ospf = OspfNet(graph)
    conversation = []
    r1 = ospf.net.host("R1")

    def record(pkt, outbound):  # R1's BPF taps: what it sends
        if outbound and pkt[9] == OSPF_PROTO:
            conversation.append(pkt[20:])

    for ifp in r1.interfaces.values():
        ifp.bpf = record
    ospf.net.run(3.0)
    for ifp in r1.interfaces.values():
        ifp.bpf = None
    assert len(conversation) > 10
    rng = _random.Random(7)
    for round_ in range(400):
        packet = bytearray(rng.choice(conversation))
        packet[rng.randrange(len(packet))] = rng.randrange(256)
        if len(packet) >= 24 and rng.random() < 0.8:
            packet[12:14] = b"\0\0"
            checksum = internet_checksum(bytes(packet[:16]) + bytes(packet[24:]))
            struct.pack_into("!H", packet, 12, checksum)
        r1.inet4.output_on(r1.interfaces["em0"], ip_address("224.0.0.5"), OSPF_PROTO, bytes(packet), ttl=1)
        ospf.net.run(3.0 + (round_ + 1) * 0.01)
    ospf.net.run(30.0)
    assert [v.state for v in ospf.daemons[0].neighbors()] == ["Full"]
    assert ospf.check_routes() == 2  # R0 reaches R1-R2's link, and R2 reaches R0-R1's
    assert sum(n for reason, n in ospf.net.host("R0").drops.items() if reason.startswith("OSPF")) > 50
