"""Interface state changes reach listeners (RTM_IFINFO), and IPv4 multicast reaches local input."""

from ipaddress import ip_address, ip_interface

from ipsecsim.world import LinkParams, Network


def pair():
    net = Network(seed=1)
    link = net.add_link("A:em0", "B:em0", LinkParams(delay=0.001))
    a, b = net.host("A"), net.host("B")
    a.add_address(a.interfaces["em0"], ip_interface("10.0.0.1/24"))
    b.add_address(b.interfaces["em0"], ip_interface("10.0.0.2/24"))
    return net, link, a, b


def test_carrier_loss_and_ifconfig_down_are_heard_once_each():
    net, link, a, b = pair()
    heard = []
    a.link_state_listeners.append(lambda ifp: heard.append((ifp.name, ifp.operational)))
    link.set_state(False)
    link.set_state(False)  # no change, nothing heard
    assert heard == [("em0", False)]
    a.interfaces["em0"].set_up(False)  # already not operational: no second message
    assert heard == [("em0", False)]
    link.set_state(True)  # carrier back, but ifconfig down
    assert heard == [("em0", False)]
    a.interfaces["em0"].set_up(True)
    assert heard == [("em0", False), ("em0", True)]


def test_if_ipsec_running_changes_are_heard():
    net, link, a, b = pair()
    heard = []
    a.link_state_listeners.append(lambda ifp: heard.append((ifp.name, ifp.operational)))
    net.sh("A", "ifconfig ipsec0 create reqid 100\nifconfig ipsec0 up")
    assert heard == []  # up but not RUNNING: no tunnel yet
    net.sh("A", "ifconfig ipsec0 inet tunnel 10.0.0.1 10.0.0.2")
    assert heard == [("ipsec0", True)]
    net.sh("A", "ifconfig ipsec0 -tunnel")
    assert heard == [("ipsec0", True), ("ipsec0", False)]


def test_multicast_sent_on_an_interface_is_delivered_to_the_protocol():
    net, link, a, b = pair()
    got = []
    b.inet4.protocols[89] = lambda ifp, pkt, hlen: got.append((ifp.name, pkt))
    a.inet4.output_on(a.interfaces["em0"], ip_address("224.0.0.5"), 89, b"hello", ttl=1, tos=0xC0)
    net.run(0.01)
    assert len(got) == 1
    ifname, pkt = got[0]
    assert ifname == "em0"
    assert pkt[1] == 0xC0 and pkt[8] == 1 and pkt[9] == 89  # TOS, TTL, protocol as sent
    assert pkt[12:16] == ip_address("10.0.0.1").packed and pkt[16:20] == ip_address("224.0.0.5").packed
    assert pkt[20:] == b"hello"
    assert b.ipstat.ips_delivered == 1 and b.ipstat.ips_forward == 0


def test_multicast_for_a_protocol_nobody_listens_to_is_no_protocol_without_icmp():
    net, link, a, b = pair()
    a.inet4.output_on(a.interfaces["em0"], ip_address("224.0.0.5"), 89, b"hello")
    net.run(0.01)
    assert b.drops["protocol unreachable"] == 1 and b.ipstat.ips_noproto == 1
    assert b.ipstat.icps_outhist[3] == 0  # never an ICMP error about a multicast datagram
