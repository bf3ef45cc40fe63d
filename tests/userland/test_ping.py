"""ipsecsim/userland/ping_cmd.py (+ ping.py): ping and ping6 through the routed A - R - B
network, in the background of a script, with FreeBSD's options and messages, and the
ICMP errors ping prints (FreeBSD's own expectations from sbin/ping/tests/test_ping.py)."""

from ipaddress import IPv4Address, ip_address
import struct

import pytest

from ipsecsim.packet import Icmp, Icmp6, internet_checksum
from ipsecsim.userland import Ping

from .netkit import Lab, routed_lab


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


# -- ICMP errors ---------------------------------------------------------------------------------


def _transcript(lab, name: str, start: int) -> str:
    console = lab.consoles[name]
    return "".join(f"[{t:9.6f}] {'2> ' if err else ''}{line}\n"
                   for (t, line), err in zip(console.entries[start:], console.stderr[start:]))


def test_golden_icmp_errors_through_a_router(lab, golden):
    """TTL expiry, no route at R and a too-small next hop, for ping and ping6 (-v)."""
    text = ""
    t = 0
    steps = [
        ("R", "sysctl net.inet.icmp.quotelen=8"),  # an old router's quote: IP header + 8 bytes
        ("A", "ping -c 1 -m 1 10.0.2.2"),  # ... is too short for ping.c, which prints nothing
        ("A", "ping -v -c 1 -m 1 10.0.2.2"),  # ... but warns with -v
        ("R", "sysctl net.inet.icmp.quotelen=548"),  # FreeBSD 14's default (ip_icmp.c)
        ("A", "ping -c 2 -m 1 10.0.2.2"),
        ("A", "ping -q -c 1 -m 1 10.0.2.2"),  # -q does not hide errors (only -Q would)
        ("A", "ping -c 1 192.0.2.1"),  # R has no route: host unreachable
        ("R", "ifconfig em1 mtu 1400"),
        ("A", "ping -D -c 1 -s 1450 10.0.2.2"),
        ("A", "ping6 -c 1 -m 1 2001:db8:2::2"),  # ping6's ICMP6_FILTER: echo replies only
        ("A", "ping6 -v -c 1 -m 1 2001:db8:2::2"),
        ("A", "ping6 -v -c 1 2001:db8:77::1"),  # R has no IPv6 route there
        ("A", "ping6 -v -c 1 -s 1450 2001:db8:2::2"),
    ]
    for name, command in steps:
        start = len(lab.consoles[name])
        assert lab.sh(name, command).errors == []
        t += 20
        lab.clock.advance(t)
        text += f"{name}# {command}\n" + _transcript(lab, name, start)
    golden("userland_ping_errors.txt", text)
    pings = [p for p in lab.shells["A"].programs if isinstance(p, Ping)]
    assert all(p.done and p.stats.received == 0 for p in pings)  # errors are never replies
    assert [p.stats.transmitted for p in pings] == [1, 1, 2, 1, 1, 1, 1, 1, 1, 1]


def test_ttl_expiry_prints_the_quoted_header(lab):
    lab.out("R", "sysctl net.inet.icmp.quotelen=548")
    lab.sh("A", "ping -c 1 -m 1 10.0.2.2")
    lab.clock.advance(20)
    lines = lab.consoles["A"].text().splitlines()
    i = lines.index("92 bytes from 10.0.1.2: Time to live exceeded")
    assert lines[i + 1] == "Vr HL TOS  Len   ID Flg  off TTL Pro  cks      Src      Dst"
    row = lines[i + 2].split(" ")
    assert lines[i + 2].startswith(" 4  5  00 0054 ") and "   0 0000  01  01 " in lines[i + 2]  # TTL 1 as sent
    assert row[-2:] == ["10.0.1.1", "10.0.2.2"]
    assert lines[i + 3:i + 6] == ["", "", "--- 10.0.2.2 ping statistics ---"]
    assert lines[i + 6] == "1 packets transmitted, 0 packets received, 100.0% packet loss"


class Pinger:
    """FreeBSD's ``pinger()`` (sbin/ping/tests/test_ping.py) on a simulated host: ping
    192.0.2.2 from 192.0.2.1 and answer each echo request with a crafted ICMP message
    built as its ``build_response_packet`` builds it."""

    def __init__(self):
        self.lab = Lab()
        self.host = self.lab.host("T", 1)
        self.ifp = self.host.interface("em0")
        self.ifp.attach(self._transmit, 1500, 1e9)
        self.lab.out("T", "ifconfig em0 inet 192.0.2.1/24")
        self.respond = None

    def _transmit(self, pkt: bytes):
        if self.respond is not None and pkt[9] == 1 and pkt[20] == 8:
            self.lab.clock.call_later(0.0001, self.ifp.receive, self.respond(pkt))

    def run(self, args: str, respond) -> tuple[str, str]:
        self.respond = respond
        console = self.lab.consoles["T"]
        self.lab.sh("T", f"ping -c 1 -t 1 {args} 192.0.2.2")
        self.lab.clock.advance(30)
        out = "".join(line + "\n" for (_, line), err in zip(console.entries, console.stderr) if not err)
        err = "".join(line + "\n" for (_, line), err in zip(console.entries, console.stderr) if err)
        return out, err


def _ip(src: str, dst: str, proto: int, payload: bytes, *, ident: int = 1, ttl: int = 64, flags: int = 0,
        options: bytes = b"", ihl: int | None = None) -> bytes:
    hl = (20 + len(options)) // 4 if ihl is None else ihl
    header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | hl, 0, 20 + len(options) + len(payload), ident, flags,
                                   ttl, proto, 0, IPv4Address(src).packed, IPv4Address(dst).packed)) + options
    struct.pack_into("!H", header, 10, internet_checksum(bytes(header)))
    return bytes(header) + payload


def _response(icmp_type: int, icmp_code: int, *, rest: int | None = None, flags: int = 0, options: bytes = b"",
              oip_ihl: int | None = None, special: str | None = None):
    """build_response_packet: the echo's IP header as the quoted one (id 1, the reply's
    flags and options), the echo's ICMP header with its type forced to 8, its data."""

    def build(echo: bytes) -> bytes:
        oicmp, load = bytearray(echo[20:28]), echo[28:]
        oicmp[0] = 8
        if special == "not-mine":
            struct.pack_into("!H", oicmp, 4, (struct.unpack_from("!H", oicmp, 4)[0] + 1) & 0xFFFF)
        if special == "no-payload":
            load = b""
        src, dst = str(IPv4Address(echo[12:16])), str(IPv4Address(echo[16:20]))
        if special in ("tcp", "udp"):
            upper = struct.pack("!HH", 1234, 5678) + (bytes(16) if special == "tcp" else bytes(4))
            quoted = _ip(src, dst, 6 if special == "tcp" else 17, upper, flags=flags, options=options, ihl=oip_ihl)
        else:
            quoted = _ip(src, dst, 1, bytes(oicmp) + load, flags=flags, options=options, ihl=oip_ihl)
        word = struct.unpack_from("!I", echo, 24)[0] if rest is None else rest  # scapy's id/seq
        return _ip(dst, src, 1, Icmp(icmp_type, icmp_code, word, quoted).to_bytes(), flags=flags, ident=7)

    return build


_HEAD = "PING 192.0.2.2 (192.0.2.2): 56 data bytes\n"
_TAIL = "\n--- 192.0.2.2 ping statistics ---\n1 packets transmitted, 0 packets received, 100.0% packet loss\n"


# Each case is FreeBSD's pinger_testdata entry of that id, stdout and stderr verbatim, except the
# "PATTERN: 0x01" line of the -p1 that ping -p (unsupported here) adds to the "special" cases.
@pytest.mark.parametrize("args, respond, stdout, stderr", [
    pytest.param("", _response(3, 1), _HEAD + (
        "92 bytes from 192.0.2.2: Destination Host Unreachable\n"
        "Vr HL TOS  Len   ID Flg  off TTL Pro  cks       Src       Dst\n"
        " 4  5  00 0054 0001   0 0000  40  01 f6a4 192.0.2.1 192.0.2.2\n\n") + _TAIL, "", id="_3_1_verbose_false"),
    pytest.param("-v", _response(3, 1, flags=0x4000), _HEAD + (
        "92 bytes from 192.0.2.2: Destination Host Unreachable\n"
        "Vr HL TOS  Len   ID Flg  off TTL Pro  cks       Src       Dst\n"
        " 4  5  00 0054 0001   2 0000  40  01 b6a4 192.0.2.1 192.0.2.2\n\n") + _TAIL, "", id="_3_1_flags_DF"),
    pytest.param("-v", _response(3, 1, options=b"\x01" * 40), _HEAD + (
        "132 bytes from 192.0.2.2: Destination Host Unreachable\n"
        "Vr HL TOS  Len   ID Flg  off TTL Pro  cks       Src       Dst Opts\n"
        " 4  f  00 007c 0001   0 0000  40  01 d868 192.0.2.1 192.0.2.2 " + "01" * 40 + "\n\n") + _TAIL, "",
        id="_3_1_opts_NOP_40"),
    pytest.param("-v", _response(3, 1, special="no-payload"), _HEAD + _TAIL,
                 "ping: quoted data too short (28 bytes) from 192.0.2.2\n", id="_quoted_data_too_short"),
    pytest.param("-v", _response(3, 1, oip_ihl=0xF), _HEAD + _TAIL,
                 "ping: inner packet too short (84 bytes) from 192.0.2.2\n", id="_inner_packet_too_short"),
    pytest.param("-v", _response(3, 1, special="tcp"), _HEAD + _TAIL,
                 "ping: quoted data too short (40 bytes) from 192.0.2.2\n", id="_3_1_special_tcp"),
    pytest.param("-v", _response(3, 1, special="udp"), _HEAD + _TAIL,
                 "ping: quoted data too short (28 bytes) from 192.0.2.2\n", id="_3_1_special_udp"),
    pytest.param("", _response(3, 1, special="not-mine"), _HEAD + _TAIL, "",
                 id="_3_1_special_not_mine_verbose_false"),
])
def test_freebsd_pinger_cases(args, respond, stdout, stderr):
    assert Pinger().run(args, respond) == (stdout, stderr)


def test_not_mine_prints_with_v():
    """ping.c prints any ICMP message with -v when run by root, ours or not."""
    out, _ = Pinger().run("-v", _response(3, 1, special="not-mine"))
    assert "92 bytes from 192.0.2.2: Destination Host Unreachable\n" in out


@pytest.mark.parametrize("icmp_type, icmp_code, rest, text", [
    (3, 0, None, "Destination Net Unreachable"),
    (3, 2, None, "Destination Protocol Unreachable"),
    (3, 3, None, "Destination Port Unreachable"),
    (3, 4, 1400, "frag needed and DF set (MTU 1400)"),
    (3, 5, None, "Source Route Failed"),
    (3, 13, None, "Communication prohibited by filter"),
    (3, 9, None, "Dest Unreachable, Bad Code: 9"),
    (4, 0, None, "Source Quench"),
    (5, 1, 0xC0000263, "Redirect Host(New addr: 192.0.2.99)"),
    (5, 7, 0xC0000263, "Redirect, Bad Code: 7(New addr: 192.0.2.99)"),
    (11, 0, None, "Time to live exceeded"),
    (11, 1, None, "Frag reassembly time exceeded"),
    (11, 2, None, "Time exceeded, Bad Code: 2"),
    (12, 0, 0x14000000, "Parameter problem: pointer = 0x14"),
])
def test_pr_icmph_texts(icmp_type, icmp_code, rest, text):
    out, err = Pinger().run("", _response(icmp_type, icmp_code, rest=rest))
    lines = out.splitlines()
    assert lines[1] == f"92 bytes from 192.0.2.2: {text}" and err == ""
    assert lines[2].startswith("Vr HL TOS  Len   ID Flg  off TTL Pro  cks")
    assert lines[4:6] == ["", ""]


def test_ping6_verbose_reply_and_duplicate(lab):
    """ping6.c: -v adds dst= (the address the reply came to), and "(DUP!)" follows without a space."""
    lab.sh("A", "ping6 -v -c 2 2001:db8:2::2")
    lab.clock.advance(0.5)
    (ping,) = lab.shells["A"].programs
    lines = lab.consoles["A"].text().splitlines()
    assert lines[-1] == "64 bytes from 2001:db8:2::2, icmp_seq=0 hlim=63 dst=2001:db8:1::1 time=2.000 ms"
    reply = Icmp6(129, 0, (ping.ident << 16) | 0, bytes(56))
    ping._on_icmp(ip_address("2001:db8:2::2"), ip_address("2001:db8:1::1"), 63, reply)
    assert lab.consoles["A"].text().splitlines()[-1].endswith(" ms(DUP!)")
    assert (ping.stats.received, ping.stats.duplicates) == (1, 1)
