"""ipsecsim/userland/netstat.py: -i/-I (with -b, -d, -n, -f), -s -p ip|icmp|udp, and option errors."""

import pytest

from .netkit import routed_lab


@pytest.fixture
def lab():
    lab = routed_lab()
    result = lab.sh("A", "ping -c 3 10.0.2.2; ping6 -c 2 2001:db8:2::2; ping -c 1 10.0.9.9")
    assert result.errors == []
    lab.clock.advance(30)
    return lab


def test_golden_netstat_i(lab, golden):
    text = ""
    for name, cmd in (("A", "netstat -i"), ("A", "netstat -in"), ("R", "netstat -i -b -d"), ("R", "netstat -I em1"),
                      ("R", "netstat -I em1 -f inet6"), ("B", "netstat -ibn -f link")):
        text += f"{name}# {cmd}\n{lab.out(name, cmd)}"
    golden("userland_netstat_i.txt", text)


def test_golden_netstat_s(lab, golden):
    text = ""
    for name, cmd in (("A", "netstat -s -p ip"), ("R", "netstat -s -p icmp"), ("R", "netstat -ss -p ip"),
                      ("B", "netstat -s -p udp"), ("B", "netstat -s -p icmp"), ("A", "netstat -ss -p icmp")):
        text += f"{name}# {cmd}\n{lab.out(name, cmd)}"
    golden("userland_netstat_s.txt", text)


def test_interface_rows_count_the_interface(lab):
    lines = lab.out("R", "netstat -I em0 -n").splitlines()
    assert lines[0].split() == ["Name", "Mtu", "Network", "Address", "Ipkts", "Ierrs", "Idrop", "Opkts", "Oerrs",
                                "Coll"]
    em0 = lab.hosts["R"].interface("em0")
    assert lines[1].split()[:3] == ["em0", "1500", "<Link#2>"]
    assert lines[1].split()[4:] == [str(em0.data.ipackets), "0", "0", str(em0.data.opackets), "0", "0"]
    assert lines[2].split() == ["em0", "-", "10.0.1.0/24", "10.0.1.2", "0", "-", "-", "0", "-", "-"]


def test_down_interface_is_starred(lab):
    lab.out("B", "ifconfig em0 down")
    assert lab.out("B", "netstat -i").splitlines()[-3].startswith("em0*   1500 <Link#2>")


def test_unknown_interface_prints_only_the_header(lab):
    assert len(lab.out("A", "netstat -I em9").splitlines()) == 1


def test_counters_in_netstat_s(lab):
    text = lab.out("R", "netstat -s -p ip")
    # R has no security policy, so ip_input hands every packet to ip_tryforward, which
    # counts ips_forward and ips_fastforward for each one sent, and ips_noroute with
    # ips_cantforward for the one without a route (sys/netinet/ip_fastfwd.c ip_tryforward,
    # ip_findroute); usr.bin/netstat/inet.c ip_stats prints the pair on one line.
    assert "\t6 packets forwarded (6 packets fast forwarded)\n\t1 packet not forwardable\n" in text
    assert lab.out("A", "netstat -ss -p icmp") == ("icmp:\n\tInput histogram:\n\t\techo reply: 3\n"
                                                 "\t\tdestination unreachable: 1\n"
                                                 "\tICMP address mask responses are disabled\n")
    assert lab.out("B", "netstat -ss -p icmp -p udp") == lab.out("B", "netstat -ss -p udp")  # the last -p


@pytest.mark.parametrize("command, message, status", [
    ("netstat -s -p tcp", "netstat: tcp: unknown or uninstrumented protocol", 1),
    ("netstat -s -p ip -p tcp", "netstat: tcp: unknown or uninstrumented protocol", 1),
    ("netstat -rn -F 1", "netstat: 1: invalid fib", 64),
    ("netstat -rn -F x", "netstat: x: invalid fib", 1),
    ("netstat -r -f appletalk", "netstat: appletalk: unknown address family", 1),
    ("netstat -Z", "netstat: illegal option -- Z", 64),
    ("netstat -I", "netstat: option requires an argument -- I", 64),
    ("netstat", "netstat: listing sockets is not supported by the simulator; use -r, -i or -s", 64),
])
def test_errors(lab, command, message, status):
    result = lab.sh("A", command)
    assert result.status == status
    assert result.errors[0].message == message


def test_golden_netstat_s_every_protocol(lab, golden):
    """Without -p, netstat -s walks main.c's protox[]: udp, ip, icmp, then ipsec and esp."""
    text = ""
    for name, cmd in (("A", "netstat -s"), ("R", "netstat -ss")):
        text += f"{name}# {cmd}\n{lab.out(name, cmd)}"
    golden("userland_netstat_s_all.txt", text)
    sections = [line for line in lab.out("A", "netstat -s").splitlines() if not line.startswith("\t")]
    assert sections == ["udp:", "ip:", "icmp:", "ipsec:", "esp:"]
    assert lab.out("A", "netstat -s -4") == lab.out("A", "netstat -s")
    assert lab.out("A", "netstat -s").endswith(lab.out("A", "netstat -s -p ipsec") + lab.out("A", "netstat -s -p esp"))


# -- ICMP histograms (usr.bin/netstat/inet.c icmp_stats()) ----------------------------------------


def test_icmp_histograms_count_messages_by_type(lab):
    """B answered A's three echo requests: each counts in B's input histogram as "echo" and in
    its output histogram as "echo reply" (icmp_input's reflect). A's requests left by a raw
    socket, which icmpstat does not count; R's host unreachable for 10.0.9.9 came from
    icmp_error(). Only the types seen are listed, and an empty histogram is left out."""
    assert lab.out("B", "netstat -ss -p icmp") == (
        "icmp:\n"
        "\tOutput histogram:\n"
        "\t\techo reply: 3\n"
        "\tInput histogram:\n"
        "\t\techo: 3\n"
        "\t3 message responses generated\n"
        "\tICMP address mask responses are disabled\n")
    assert lab.out("A", "netstat -ss -p icmp") == (
        "icmp:\n"
        "\tInput histogram:\n"
        "\t\techo reply: 3\n"
        "\t\tdestination unreachable: 1\n"
        "\tICMP address mask responses are disabled\n")
    assert lab.out("R", "netstat -ss -p icmp").splitlines()[1:4] == [
        "\t1 call to icmp_error", "\tOutput histogram:", "\t\tdestination unreachable: 1"]
    stat = lab.hosts["B"].ipstat
    assert (stat.icps_inhist[8], stat.icps_outhist[0], sum(stat.icps_inhist), sum(stat.icps_outhist)) == (3, 3, 3, 3)


def test_icmp_histograms_sit_between_their_counters(lab):
    """icmp_stats() prints the output histogram after the icmp_error counters and the input
    histogram before "message responses generated"."""
    lines = lab.out("B", "netstat -s -p icmp").splitlines()
    assert lines[2:5] == ["\t0 errors not generated in response to an icmp message", "\tOutput histogram:",
                          "\t\techo reply: 3"]
    assert lines[10:14] == ["\t0 multicast timestamp requests ignored", "\tInput histogram:", "\t\techo: 3",
                            "\t3 message responses generated"]


def test_zero_flag_prints_zeros_and_zeroes_that_protocol(lab):
    """main.c fetch_stats(): with -z netstat writes zeros to net.inet.icmp.stats and prints the
    zeroed buffer; the other protocols keep their counters."""
    ipstat = lab.hosts["B"].ipstat
    delivered = ipstat.ips_delivered
    zeroed = lab.out("B", "netstat -s -z -p icmp")
    assert "histogram" not in zeroed and "\t0 message responses generated" in zeroed
    assert (sum(ipstat.icps_inhist), sum(ipstat.icps_outhist), ipstat.icps_reflect) == (0, 0, 0)
    assert ipstat.ips_delivered == delivered
    assert lab.out("B", "netstat -ss -p icmp") == "icmp:\n\tICMP address mask responses are disabled\n"
