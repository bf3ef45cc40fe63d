"""Links: serialisation, loss statistics, drop-tail queues, jitter ordering, up/down."""

from ipaddress import ip_address, ip_interface
import math

import pytest

from ipsecsim.world import Bernoulli, GilbertElliott, LinkParams, Network


def pair(params: LinkParams, seed: int = 1):
    net = Network(seed=seed)
    link = net.add_link("A:em0", "B:em0", params)
    a, b = net.host("A"), net.host("B")
    a.add_address(a.interfaces["em0"], ip_interface("10.0.0.1/24"))
    b.add_address(b.interfaces["em0"], ip_interface("10.0.0.2/24"))
    return net, link, a, b


def flow(net, rate, size=1000, stop=1.0, start=0.0):
    return net.start_udp("f", "A", ip_address("10.0.0.2"), rate=rate, size=size, start=start, stop=stop)


def test_saturated_link_delivers_its_bandwidth_in_ip_bytes():
    net, link, a, b = pair(LinkParams(bandwidth=10e6, delay=0.002, queue_packets=100_000))
    arrivals = []
    b.interfaces["em0"].bpf = lambda pkt, outbound: arrivals.append((net.now, len(pkt)))
    flow(net, rate=20e6, stop=1.0)
    net.run(5.0)
    first, last = arrivals[0][0], arrivals[-1][0]
    ip_bits = sum(size for _, size in arrivals[1:]) * 8
    assert ip_bits / (last - first) == pytest.approx(10e6, rel=0.01)


def test_serialisation_plus_propagation_delay_is_exact():
    net, link, a, b = pair(LinkParams(bandwidth=1e6, delay=0.005))
    arrivals = []
    b.interfaces["em0"].bpf = lambda pkt, outbound: arrivals.append((net.now, len(pkt)))
    flow(net, rate=1e3, size=100, stop=0.5)  # one 128-byte IP packet, link idle
    net.run(1.0)
    assert arrivals[0] == (pytest.approx(128 * 8 / 1e6 + 0.005), 128)


@pytest.mark.parametrize("p", [0.01, 0.1, 0.3])
def test_bernoulli_loss_is_within_binomial_bounds(p):
    net, link, a, b = pair(LinkParams(bandwidth=1e9, loss=Bernoulli(p)), seed=11)
    stats = flow(net, rate=8e6, size=100, stop=1.0)  # 10,000 packets
    net.run(2.0)
    n = stats.sent
    lost = n - stats.received
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(lost - n * p) < 4 * sigma
    assert a.drops["link loss"] == lost


def test_gilbert_elliott_loss_comes_in_bursts_at_its_long_run_rate():
    model = GilbertElliott(p=0.02, r=0.25, loss_good=0.0, loss_bad=1.0)
    net, link, a, b = pair(LinkParams(bandwidth=1e9, loss=model), seed=5)
    arrived = []
    # The UDP payload starts with the flow's id, then its sequence number (IPv4 20 + UDP 8 + 4 bytes in).
    b.interfaces["em0"].bpf = lambda pkt, outbound: arrived.append(int.from_bytes(pkt[32:36], "big"))
    stats = flow(net, rate=16e6, size=100, stop=1.0)  # 20,000 packets
    net.run(2.0)
    assert stats.loss == pytest.approx(model.mean_loss, rel=0.25)  # (r*0 + p*1)/(p+r) = 7.4%
    received = set(arrived)
    bursts, run = [], 0
    for seq in range(stats.sent):
        if seq in received:
            if run:
                bursts.append(run)
            run = 0
        else:
            run += 1
    # In the bad state each packet is lost and the state ends with probability r: bursts of
    # 1/r = 4 packets on average, where independent loss at 7.4% gives about 1.08.
    assert sum(bursts) / len(bursts) == pytest.approx(1 / model.r, rel=0.2)


def test_drop_tail_queue_overflows_with_reason_queue_full():
    net, link, a, b = pair(LinkParams(bandwidth=1e6, queue_packets=10))
    stats = flow(net, rate=2e6, size=1000, stop=1.0)
    net.run(3.0)
    assert a.drops["queue full"] > 0
    assert a.interfaces["em0"].data.oqdrops == a.drops["queue full"]
    assert stats.received + a.drops["queue full"] == stats.sent


def test_byte_limited_queue():
    net, link, a, b = pair(LinkParams(bandwidth=1e6, queue_packets=None, queue_bytes=5000))
    flow(net, rate=2e6, size=972, stop=0.5)  # 1000-byte IP packets: 5 fit
    net.run(2.0)
    assert a.drops["queue full"] > 0


def test_jitter_never_reorders_unless_asked():
    for reorder, expect_reordering in ((False, False), (True, True)):
        net, link, a, b = pair(LinkParams(bandwidth=1e9, delay=0.010, jitter=0.005, reorder=reorder), seed=3)
        stats = flow(net, rate=8e6, size=100, stop=0.2)
        net.run(1.0)
        assert (stats.reordered > 0) == expect_reordering
        assert stats.received == stats.sent


def test_link_down_loses_packets_in_flight_and_refuses_new_ones():
    net, link, a, b = pair(LinkParams(bandwidth=1e6, delay=0.050))
    stats = flow(net, rate=0.5e6, size=500, stop=2.0)
    net.at(0.5, link.set_state, False)
    net.at(1.0, link.set_state, True)
    net.run(3.0)
    assert a.drops["link down"] > 0
    assert 0 < stats.received < stats.sent
    assert a.interfaces["em0"].data.oerrors > 0


def test_link_attributes_change_mid_run():
    net, link, a, b = pair(LinkParams(bandwidth=1e9))
    stats = flow(net, rate=1e6, size=100, stop=2.0)
    net.at(1.0, link.set, loss=Bernoulli(1.0))
    net.run(3.0)
    assert stats.received == pytest.approx(stats.sent / 2, abs=2)


def test_same_seed_same_losses_different_seed_different_losses():
    def lost(seed):
        net, link, a, b = pair(LinkParams(loss=Bernoulli(0.2)), seed=seed)
        stats = flow(net, rate=1e6, size=100, stop=0.5)
        net.run(1.0)
        return stats.received

    assert lost(1) == lost(1)
    assert lost(1) != lost(2)


def test_topology_is_a_networkx_graph_with_link_attributes():
    net, link, a, b = pair(LinkParams(bandwidth=10e6, delay=0.001))
    graph = net.topology
    assert set(graph.nodes) == {"A", "B"}
    (_, _, data), = graph.edges(data=True)
    assert data["bandwidth"] == 10e6 and data["delay"] == 0.001 and data["name"] == "A:em0-B:em0"


def test_two_flows_to_the_same_port_are_measured_apart():
    net, link, a, b = pair(LinkParams(bandwidth=1e9))
    first = net.start_udp("one", "A", ip_address("10.0.0.2"), rate=1e6, size=100, start=0.0, stop=1.0)
    second = net.start_udp("two", "A", ip_address("10.0.0.2"), rate=2e6, size=100, start=0.0, stop=1.0)
    net.run(2.0)
    assert (first.sent, first.received) == (1250, 1250)
    assert (second.sent, second.received) == (2500, 2500)
    assert net.notes == []
