"""ipsecsim/userland/ping_cmd.py (+ ping.py): ping and ping6 through the routed A - R - B
network, in the background of a script, with FreeBSD's options and messages."""

import pytest

from ipsecsim.userland import Ping

from .netkit import routed_lab


@pytest.fixture
def lab():
    return routed_lab()


def test_golden_ping_through_a_router(lab, golden):
    start = len(lab.consoles["A"])
    result = lab.sh("A", "ping -c 3 10.0.2.2\nping6 -c 2 -i 0.5 2001:db8:2::2\necho script goes on", file="A.sh")
    assert result.errors == []
    # the script returned at once: only the PING lines and the echo were printed by then
    assert result.output == ("PING 10.0.2.2 (10.0.2.2): 56 data bytes\n"
                             "PING(104=40+8+56 bytes) 2001:db8:1::1 --> 2001:db8:2::2\n"
                             "script goes on\n")
    lab.clock.advance(60)
    console = lab.consoles["A"]
    text = "".join(f"[{t:9.6f}] {line}\n" for t, line in console.entries[start:])
    golden("userland_ping_routed.txt", text)


def test_background_programs_are_kept_with_their_statistics(lab):
    lab.sh("A", "ping -q -c 4 -i 0.2 10.0.2.2")
    (ping,) = lab.shells["A"].programs
    assert isinstance(ping, Ping)
    lab.clock.advance(10)
    assert (ping.stats.transmitted, ping.stats.received, ping.done) == (4, 4, True)
    tail = lab.consoles["A"].text().splitlines()[-3:]
    assert tail[0] == "--- 10.0.2.2 ping statistics ---"
    assert tail[1] == "4 packets transmitted, 4 packets received, 0.0% packet loss"
    assert tail[2].startswith("round-trip min/avg/max/stddev = ")
    assert not any("bytes from" in line for line in lab.consoles["A"].text().splitlines())  # -q


def test_reply_times_are_the_simulated_round_trip(lab):
    lab.sh("A", "ping -c 1 -s 1000 10.0.2.2")
    lab.clock.advance(5)
    replies = [line for line in lab.consoles["A"].text().splitlines() if "bytes from" in line]
    # 0.5 ms per link each way over two links; the world's serialisation is not modelled by this bench
    assert replies == ["1008 bytes from 10.0.2.2: icmp_seq=0 ttl=63 time=2.000 ms"]


def test_ttl_too_small_loses_every_packet(lab):
    lab.sh("A", "ping -c 2 -m 1 -W 500 10.0.2.2")
    lab.clock.advance(10)
    assert "2 packets transmitted, 0 packets received, 100.0% packet loss" in lab.consoles["A"].text()
    assert lab.hosts["R"].drops["ttl exceeded"] == 2


def test_timeout_stops_an_endless_ping(lab):
    lab.sh("A", "ping -t 3 10.0.2.2")
    lab.clock.advance(100)
    (ping,) = lab.shells["A"].programs
    assert ping.done and ping.stats.transmitted in (3, 4)
    sent = ping.stats.transmitted
    lab.clock.advance(200)
    assert ping.stats.transmitted == sent  # nothing is sent once finished


def test_no_route_prints_sendto_errors(lab):
    lab.out("A", "route delete default")
    result = lab.sh("A", "ping -c 2 -i 0.1 192.0.2.1")
    assert result.output == "PING 192.0.2.1 (192.0.2.1): 56 data bytes\nping: sendto: No route to host\n"
    lab.clock.advance(20)
    lines = lab.consoles["A"].text().splitlines()
    assert lines.count("ping: sendto: No route to host") == 2
    assert "2 packets transmitted, 0 packets received, 100.0% packet loss" in lines


def test_source_address_and_tos_and_df(lab):
    lab.sh("A", "ping -c 1 -S 10.0.1.1 -z 16 -D 10.0.2.2")
    lab.clock.advance(5)
    assert "1 packets transmitted, 1 packets received, 0.0% packet loss" in lab.consoles["A"].text()


def test_localhost_by_name(lab):
    result = lab.sh("B", "ping -c 1 localhost")
    assert result.output == "PING localhost (127.0.0.1): 56 data bytes\n"
    lab.clock.advance(5)
    assert "--- localhost ping statistics ---" in lab.consoles["B"].text()


@pytest.mark.parametrize("command, message, status", [
    ("ping -c x 10.0.2.2", "ping: invalid count of packets to transmit: `x'", 64),
    ("ping -c 0 10.0.2.2", "ping: invalid count of packets to transmit: `0'", 64),
    ("ping -i fast 10.0.2.2", "ping: invalid timing interval: `fast'", 64),
    ("ping -s big 10.0.2.2", "ping: invalid packet size: `big'", 64),
    ("ping -s 70000 10.0.2.2", "ping: packet size too large: 70000 > 65507", 64),
    ("ping -m 300 10.0.2.2", "ping: invalid TTL: `300'", 64),
    ("ping -z 256 10.0.2.2", "ping: invalid TOS: `256'", 64),
    ("ping -t 0 10.0.2.2", "ping: invalid timeout: `0'", 64),
    ("ping -t 4000 10.0.2.2", "ping: invalid timeout: `4000' > 3600", 64),
    ("ping -W soon 10.0.2.2", "ping: invalid timing interval: `soon'", 64),
    ("ping -S 10.0.2.2 10.0.2.2", "ping: bind: Can't assign requested address", 1),
    ("ping -c", "usage: ping [-4AaDdfHnoQqRrv] [-C pcp] [-c count] [-G sweepmaxsize]", 1),
    ("ping -s -c 10.0.2.2", "ping: invalid packet size: `-c'", 64),
    ("ping -x 10.0.2.2", "ping: illegal option -- x", 1),
    ("ping -f 10.0.2.2", "ping: -f: option not supported by the simulator", 64),
    ("ping", "usage: ping [-4AaDdfHnoQqRrv] [-C pcp] [-c count] [-G sweepmaxsize]", 1),
    ("ping nowhere", "ping: Unknown host", 1),
    ("ping -4 nowhere", "ping: cannot resolve nowhere: Unknown host", 68),
    ("ping -4 -6 10.0.2.2", "ping: -4 and -6 cannot be used simultaneously", 1),
    ("ping -6 10.0.2.2", "ping: IPv6 requested but IPv4 target address provided", 1),
    ("ping -4 2001:db8:2::2", "ping: IPv4 requested but IPv6 target address provided", 1),
    ("ping6 nowhere", "ping6: cannot resolve nowhere: hostname nor servname provided, or not known", 68),
    ("ping6 -c x 2001:db8:2::2", "ping6: illegal number of packets -- x", 1),
    ("ping6 -m 256 2001:db8:2::2", "ping6: illegal hoplimit -- 256", 1),
    ("ping6 -s 0 2001:db8:2::2", "ping6: illegal datalen value -- 0", 1),
    ("ping6 -i x 2001:db8:2::2", "ping6: illegal timing interval x", 1),
    ("ping6 -S 10.0.1.1 2001:db8:2::2",
     "ping6: invalid source address: hostname nor servname provided, or not known", 1),
    ("ping6 2001:db8:77::1 -c 1", "usage: ping [-4AaDdfHnoQqRrv] [-C pcp] [-c count] [-G sweepmaxsize]", 1),
])
def test_messages(lab, command, message, status):
    result = lab.sh("A", command)
    assert result.status == status
    assert result.errors[0].message == message
    assert result.output.startswith(message)
    assert lab.shells["A"].programs == []


def test_ping6_without_a_route(lab):
    lab.out("A", "route delete -inet6 default")
    result = lab.sh("A", "ping6 -c 1 2001:db8:77::1")
    assert result.errors[0].message == "ping6: UDP connect: No route to host"


def test_option_argument_containing_a_digit_is_not_a_family(lab):
    assert lab.sh("A", "ping -c6 -i 0.01 10.0.2.2").errors == []
    assert lab.sh("A", "ping -c 4 -i 0.01 10.0.2.2").errors == []
