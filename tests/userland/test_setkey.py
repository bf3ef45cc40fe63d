"""ipsecsim/userland/setkey.py: setkey(8)'s options, FreeBSD-format dumps, errors and -x. [S10]

Dumps are compared with golden files built from pfkey_dump.c's format strings
([S10.9]-[S10.11]); errors are setkey's own lines [S10.3]; scenario checks 17-19
of the spec run at the setkey level on a ManualClock.
"""

import random
from ipaddress import ip_address, ip_network

import pytest

from ipsecsim.kernel import Host, ManualClock
from ipsecsim.netipsec import IpsecRequest, KeyDB, SecurityPolicy
from ipsecsim.userland import Console, Shell
from ipsecsim.userland import setkey as setkey_module  # noqa: F401 - registers setkey

MAN_PAGE = """\
add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!1";
add 192.168.0.5 192.168.0.3 esp 10001 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!2";
"""


class Bench:
    """One host with a key engine, its shell and a clock to move."""

    def __init__(self, name: str = "A"):
        self.clock = ManualClock()
        self.host = Host(name, clock=self.clock, rng=random.Random(name))
        self.host.create_ether("em0")
        try:
            self.keydb = self.host.keydb
        except AttributeError:  # until the kernel gives every host its key engine
            for knob_name, default, description, low, high in KeyDB.KNOBS:
                from ipsecsim.kernel import Knob

                self.host.sysctl.register(Knob(knob_name, default, description, low, high))
            self.host.keydb = KeyDB(sysctl=self.host.sysctl, rng=random.Random(1))
            self.keydb = self.host.keydb
        self.console = Console(self.host)
        self.shell = Shell(self.host, self.console)

    def sh(self, script: str):
        return self.shell.run(script)

    def out(self, script: str) -> str:
        result = self.shell.run(script)
        assert result.status == 0, result.output
        return result.output

    def setkey_c(self, script: str):
        return self.shell.run(f"setkey -c <<EOF\n{script}EOF\n")

    def advance(self, seconds: float) -> None:
        self.clock.advance(self.clock.now + seconds)

    @property
    def pid(self) -> int:
        return setkey_module._host_pid(self.host)


@pytest.fixture
def bench():
    return Bench()


def ifnet_policies(ifindex: int, reqid: int, local: str, remote: str) -> list[SecurityPolicy]:
    """The four policies if_ipsec builds for a tunnel, in slot order sp[0..3]. [S4.1]"""
    out = []
    for net in ("0.0.0.0/0", "::/0"):
        for direction, (a, b) in (("in", (remote, local)), ("out", (local, remote))):
            request = IpsecRequest("esp", "tunnel", ip_address(a), ip_address(b), "unique", reqid)
            out.append(SecurityPolicy(ip_network(net), ip_network(net), direction=direction, requests=(request,),
                                      priority=ifindex, scope="ifnet", ifname="ipsec0"))
    return out


# -- dumps -----------------------------------------------------------------------------------


def test_man_page_sad_golden(bench, golden):
    # [S10.11]: newest SA head first, hence SPI 10001 before 10000; seq counts down to 0.
    assert bench.setkey_c(MAN_PAGE).output == ""
    bench.advance(5)
    text = bench.out("setkey -D")
    assert text.startswith("192.168.0.5 192.168.0.3\n\tesp mode=tunnel spi=10001(0x00002711) reqid=100(0x00000064)\n")
    assert "\tE: aes-cbc  56657279 53656375 72654b65 79212132\n" in text
    assert "\tseq=0x00000000 replay=0 flags=0x00000040 state=mature \n" in text
    assert f"\tsadb_seq=1 pid={bench.pid} refcnt=1\n" in text and text.endswith(f"\tsadb_seq=0 pid={bench.pid} refcnt=1\n")
    golden("setkey_D_man_page.txt", text.replace(f"pid={bench.pid}", "pid=PID"))


def test_ifnet_spd_golden(bench, golden):
    # [S10.11]: spids 1-4 in slot order; dump per direction, in then out. [S7.10]
    bench.keydb.register_ifnet(ifnet_policies(3, 100, "192.168.0.3", "192.168.0.5"), now=0.0)
    text = bench.out("setkey -DP")
    assert text.split("\n")[:5] == [
        "0.0.0.0/0[any] 0.0.0.0/0[any] any", "\tin ipsec", "\tesp/tunnel/192.168.0.5-192.168.0.3/unique:100",
        f"\tspid=1 seq=3 pid={bench.pid} scope=ifnet ifname=ipsec0", "\trefcnt=1",
    ]
    assert [line.split()[0] for line in text.split("\n") if line.startswith("\tspid=")] == [
        "spid=1", "spid=3", "spid=2", "spid=4"]
    golden("setkey_DP_ifnet.txt", text.replace(f"pid={bench.pid}", "pid=PID"))
    assert bench.out("setkey -DPg") == "No SPD entries.\n"  # -g: global only
    assert bench.out("setkey -DPt") == text  # -t: ifnet only


def test_policies_of_every_level_and_type_golden(bench, golden):
    script = """\
spdadd 10.0.1.0/24 10.0.2.0/24 any -P out discard;
spdadd 10.0.1.0/24 10.0.3.0/24 any -P out none;
spdadd 10.0.2.0/24 10.0.1.0/24 any -P in ipsec esp/tunnel/172.16.0.2-172.16.0.1/default;
spdadd 10.0.1.0/24 10.0.2.0/24 udp -P in ipsec esp/transport//use;
spdadd 10.0.1.1[4500] 10.0.2.2[any] udp -P out ipsec esp/transport//require;
spdadd 10.0.1.0/24[22] 10.0.2.0/24 tcp -P out ipsec esp/tunnel/172.16.0.1-172.16.0.2/unique;
spdadd 10.0.9.0/24 10.0.8.0/24 any -P out ipsec esp/tunnel/172.16.0.1-172.16.0.2/unique:7 esp/transport//require;
spdadd 2001:db8:1::/64 2001:db8:2::/64 icmp6 135,0 -P out ipsec esp/transport//unique:20000;
spdadd 2001:db8:1::1 2001:db8:2::2 41 -P in ipsec esp/tunnel/2001:db8::1-2001:db8::2/require;
spdadd 192.0.2.0/24 198.51.100.0/24 ip4 -P out ipsec esp/tunnel/192.0.2.1-198.51.100.1/use;
spdadd 10.0.7.0/24 10.0.6.0/24 any -P out;
"""
    assert bench.setkey_c(script).output == ""
    text = bench.out("setkey -DP")
    assert "\tesp/tunnel/172.16.0.1-172.16.0.2/unique#16385\n" in text  # kernel-allocated [S2.1]
    assert "\tesp/transport//unique#16386\n" in text  # unique:20000 > 0x3fff: replaced [S2.6]
    assert "2001:db8:1::/64 2001:db8:2::/64 icmp6 135,0\n" in text  # no [port] for icmp6 [S10.10]
    assert "10.0.1.1[4500] 10.0.2.2[any] udp\n" in text
    golden("setkey_DP_levels.txt", text.replace(f"pid={bench.pid}", "pid=PID"))


def test_lifetimes_and_algorithms_in_dump(bench):
    assert bench.setkey_c(
        'add 10.0.0.1 10.0.0.2 esp 0x1000 -m transport -r 4 -f zero-pad -lh 10 -ls 5 '
        '-E aes-gcm-16 "123456789012345678901234567890123456";\n'
        'add 10.0.0.1 10.0.0.3 esp 0x1001 -E null "" -A hmac-sha2-256 "12345678901234567890123456789012";\n'
    ).output == ""
    text = bench.out("setkey -D")
    assert "\tE: aes-gcm-16  31323334 35363738 39303132 33343536 37383930 31323334 35363738 39303132\n 33343536\n" in text
    assert "\tE: null \n\tA: hmac-sha2-256  31323334" in text
    assert "\tseq=0x00000000 replay=4 flags=0x00000240 state=mature \n" in text
    assert "\tdiff: 0(s)\thard: 10(s)\tsoft: 5(s)\n" in text


def test_short_dump_format():
    from ipsecsim.userland.setkey import ctime4

    assert ctime4(0) == " " * 20
    assert ctime4(1767225600) == "Jan  1 00:00:00 2026"
    assert ctime4(1767225600 + 86400 * 40 + 3661) == "Feb 10 01:01:01 2026"


# -- errors [S10.3] ---------------------------------------------------------------------------


@pytest.mark.parametrize("script, output", [
    ('add 10.0.0.1 10.0.0.2 esp 200 -E null "";', "The result of line 1: Invalid argument."),
    ('add 10.0.0.1 10.0.0.2 esp 1000 -E null "";\nadd 10.9.9.9 10.9.9.8 esp 1000 -E null "";',
     "The result of line 2: File exists."),
    ("delete 10.0.0.1 10.0.0.2 esp 1000;", "The result of line 1: No such process."),
    ("get 10.0.0.1 10.0.0.2 esp 1000;", "The result of line 1: No such process."),
    ("dump;", "The result of line 1: No SAD entries."),
    ("spddump;", "The result of line 1: No SPD entries."),
    ('add 10.0.0.1 10.0.0.2 esp 1000 -lh 10 -E null "";', "The result of line 1: Invalid argument."),
    ('add 10.0.0.1 10.0.0.2 esp 1000 -ls 10 -E null "";', "The result of line 1: Invalid argument."),
    ("spdadd 10.0.0.0/8 10.1.0.0/16 any -P out none;\nspdadd 10.0.0.0/8 10.1.0.0/16 any -P out discard;",
     "The result of line 2: File exists."),
    ("spddelete 10.0.0.0/8 10.1.0.0/16 any -P out none;", "The result of line 1: Invalid argument."),
    ("spdadd 10.0.0.0/8 10.1.0.0/16 any -P out entrust;", "The result of line 1: Invalid argument."),
    ("spdadd 10.0.0.0/8 10.1.0.0/16 any -P out ipsec tcp/transport//require;",
     "The result of line 1: Protocol not supported."),
    ("get 10.0.0.1 10.0.0.2 esp 1000 -m tunnel;",
     "line 1: WARNING: mode is obsolete at [;]\nThe result of line 1: No such process."),
])  # fmt: skip
def test_kernel_errors_print_and_continue(bench, script, output):
    result = bench.setkey_c(script + '\nadd 10.7.7.7 10.7.7.8 esp 7777 -E null "";\n')
    assert (result.status, result.output) == (0, output + "\n")
    assert bench.keydb.get(ip_address("10.7.7.7"), ip_address("10.7.7.8"), "esp", 7777)  # the script went on


@pytest.mark.parametrize("script, output", [
    ('add 10.0.0.1 10.0.0.2 esp 1000 -E rijndael-cbc "VerySecureKey!!";',
     "line 1: Invalid key length at [VerySecureKey!!]\nparse failed, line 1."),
    ('add 10.0.0.1 10.0.0.2 esp 1000 -E des-cbc "12345678";', "line 1: Not supported at [12345678]\nparse failed, line 1."),
    ("\n\nfoo;", "line 3: syntax error at [foo]\nparse failed, line 3."),
    ("spdadd 10.0.0.0/8 10.1.0.0/16 any -P out ipsec esp/tunnel/1.2.3.4-5.6.7.8/requir;",
     'libipsec: syntax error while parsing "requir"\n'
     "line 1: Invalid argument at [ out ipsec esp/tunnel/1.2.3.4-5.6.7.8/requir]\nparse failed, line 1."),
    ("spdadd 10.0.0.0/8 10.1.0.0/16 any -P out ipsec esp/tunnel/require;",
     "line 1: Invalid address specification at [ out ipsec esp/tunnel/require]\nparse failed, line 1."),
    ("spdadd 10.0.0.0/8 10.1.0.0/16 any -P out ipsec esp;",
     "line 1: Too few arguments at [ out ipsec esp]\nparse failed, line 1."),
    ("spdadd gw 10.1.0.0/16 any -P out none;",
     "line 1: hostname nor servname provided, or not known at [ out none;]\nparse failed, line 1."),
    ("spdadd 10.0.0.0/8 10.1.0.0/16 bogus -P out none;",
     "line 1: invalid upper layer protocol at [bogus]\nparse failed, line 1."),
    ('add 10.0.0.1 10.0.0.2 esp 1000 -E null "" !', "line 1: Syntax error at [!]"),
])  # fmt: skip
def test_parse_errors_stop_with_status_1(bench, script, output):
    result = bench.setkey_c('add 10.7.7.7 10.7.7.8 esp 7777 -E null ""; ' + script + "\nflush;\n")
    assert result.status == 1
    assert result.output == output + "\n"
    assert bench.keydb.sas()  # the statement before ran, the flush after did not


def test_setkey_options(bench):
    assert bench.out("setkey -D") == "No SAD entries.\n"
    assert bench.out("setkey -DP") == "No SPD entries.\n"
    result = bench.sh("setkey")
    assert result.status == 1 and result.output.startswith("usage: setkey [-v] -c\n")
    result = bench.sh("setkey -f /etc/ipsec.conf")
    assert (result.status, result.output) == (255, "setkey: fopen: No such file or directory\n")
    result = bench.sh("setkey -z")
    assert result.status == 1 and result.output.startswith("setkey: illegal option -- z\n")
    assert bench.out("""setkey -e 'add 10.0.0.1 10.0.0.2 esp 1000 -E null "";'""") == ""
    assert bench.out("setkey -F") == "" and bench.out("setkey -D") == "No SAD entries.\n"
    bench.keydb.register_ifnet(ifnet_policies(3, 100, "10.0.0.1", "10.0.0.2"), now=0.0)
    assert bench.out("setkey -e 'spdadd 1.0.0.0/8 2.0.0.0/8 any -P out none;'") == ""
    assert bench.out("setkey -FP") == ""
    assert bench.out("setkey -DPg") == "No SPD entries.\n"
    assert bench.out("setkey -DP").count("scope=ifnet") == 4


def test_verbose_dump_traces_messages(bench):
    bench.setkey_c(MAN_PAGE)
    text = bench.out("setkey -vD")
    assert text.startswith(f"sadb_msg{{ version=2 type=10(DUMP) errno=0 satype=0\n  len=2 reserved=0 seq=0 pid={bench.pid}\n\n")
    assert "sadb_ext{ len=2 type=1(SA) }\nsadb_sa{ spi=10001 replay=0 state=1\n" in text


# -- scenario checks 17, 18, 19 --------------------------------------------------------------


def test_check_17_lifetimes(bench):
    """[S7.3] [S7.6]: dying after more than 5 s, gone after more than 10 s, EXPIRE soft then hard."""
    messages = []
    bench.keydb.subscribe(messages.append)
    request = IpsecRequest("esp", "tunnel", ip_address("10.0.0.1"), ip_address("10.0.0.2"), "require")
    policy = bench.keydb.spdadd(SecurityPolicy(ip_network("192.0.2.0/24"), ip_network("198.51.100.0/24"),
                                               requests=(request,)), now=0.0)  # fmt: skip
    bench.setkey_c('add 10.0.0.1 10.0.0.2 esp 1000 -m tunnel -lh 10 -ls 5 -E null "";\n')
    states = []
    for second in range(1, 13):
        bench.keydb.tick(float(second))
        bench.clock.advance(float(second))
        states.append(bench.out("setkey -D").split("state=")[1].split()[0] if "state=" in bench.out("setkey -D") else "gone")
    assert states[:5] == ["mature"] * 5 and states[5:10] == ["dying"] * 5 and states[10:] == ["gone"] * 2
    expires = [(m.type, m.expire, m.spi) for m in messages if m.type == "SADB_EXPIRE"]
    assert expires == [("SADB_EXPIRE", "soft", 1000), ("SADB_EXPIRE", "hard", 1000)]
    assert bench.keydb.allocsa_policy(policy, request, now=12.0) is None
    assert messages[-1].type == "SADB_ACQUIRE"  # the next outbound packet asks for an SA
    result = bench.setkey_c('add 10.0.0.1 10.0.0.2 esp 1001 -lh 10 -E null "";\n')
    assert result.output == "The result of line 1: Invalid argument.\n"


def test_check_18_kernel_errors(bench):
    """[S7.2] [S7.3] [S7.8] [S10.3]."""
    result = bench.setkey_c(
        'add 10.0.0.1 10.0.0.2 esp 200 -E null "";\n'
        'add 10.0.0.1 10.0.0.2 esp 3000 -E null "";\n'
        'add 10.5.0.1 10.5.0.2 esp 3000 -E null "";\n'
        "delete 10.0.0.1 10.0.0.2 esp 4000;\n"
        "get 10.0.0.2 10.0.0.1 esp 3000;\n"
        "flush;\ndump;\n"
        'add 10.0.0.1 10.0.0.2 esp 3000 -E rijndael-cbc "VerySecureKey!!";\n'
    )
    assert result.output.split("\n") == [
        "The result of line 1: Invalid argument.", "The result of line 3: File exists.",
        "The result of line 4: No such process.", "The result of line 5: No such process.",
        "The result of line 7: No SAD entries.", "line 8: Invalid key length at [VerySecureKey!!]",
        "parse failed, line 8.", "",
    ]
    assert result.status == 1


def test_check_19_ifnet_policies_are_immutable(bench):
    """[S4.4]: -FP keeps them, spddelete finds none, delete by spid is EACCES; unregister broadcasts."""
    from ipsecsim.netipsec import PfkeyError

    messages = []
    bench.keydb.subscribe(messages.append, satypes=())
    policies = ifnet_policies(3, 100, "192.168.0.3", "192.168.0.5")
    bench.keydb.register_ifnet(policies, now=0.0)
    assert [m.type for m in messages] == ["SADB_X_SPDADD"] * 4
    assert bench.out("setkey -FP") == ""
    assert bench.out("setkey -DP").count("scope=ifnet") == 4
    result = bench.setkey_c("spddelete 0.0.0.0/0 0.0.0.0/0 any -P out ipsec "
                            "esp/tunnel/192.168.0.3-192.168.0.5/unique:100;\n")  # fmt: skip
    assert result.output == "The result of line 1: Invalid argument.\n"
    with pytest.raises(PfkeyError) as e:
        bench.keydb.spddelete2(policies[1].spid)
    assert (e.value.errno_name, str(e.value)) == ("EACCES", "Permission denied")
    bench.keydb.unregister_ifnet(policies)
    assert [m.type for m in messages[-4:]] == ["SADB_X_SPDDELETE"] * 4
    assert bench.out("setkey -DP") == "No SPD entries.\n"


# -- setkey -x ---------------------------------------------------------------------------------


def test_monitor_prints_messages_on_the_console(bench):
    assert bench.out("setkey -x") == ""
    first = bench.console.text()
    assert first == (
        "00:00:00.000000 \nsadb_msg{ version=2 type=11(X_PROMISC) errno=0 satype=1\n"
        f"  len=2 reserved=0 seq=0 pid={bench.pid}\n\n00:00:00.000000 \n"
    )
    bench.clock.advance(2.5)
    bench.keydb.register_ifnet(ifnet_policies(3, 100, "192.168.0.3", "192.168.0.5")[:1], now=2.5)
    text = bench.console.text()[len(first):]
    block = (
        "00:00:02.500000 \n"
        "sadb_msg{ version=2 type=14(X_SPDADD) errno=0 satype=0\n"
        "  len=15 reserved=1 seq=0 pid=0\n"
        "sadb_ext{ len=3 type=5(ADDRESS_SRC) }\n"
        "sadb_address{ proto=255 prefixlen=0 reserved=0x0000 }\n"
        "sockaddr{ len=16 family=2 addr=0.0.0.0 }\n"
        "sadb_ext{ len=3 type=6(ADDRESS_DST) }\n"
        "sadb_address{ proto=255 prefixlen=0 reserved=0x0000 }\n"
        "sockaddr{ len=16 family=2 addr=0.0.0.0 }\n"
        "sadb_ext{ len=7 type=18(POLICY) }\n"
        "sadb_x_policy{ type=2 dir=1 id=1 scope=2 ifindex=3 }\n"
        " { len=40 proto=50 mode=2 level=3 reqid=100\n"
        "sockaddr{ len=16 family=2 addr=192.168.0.5 }\n"
        "sockaddr{ len=16 family=2 addr=192.168.0.3 }\n"
        " }\n\n"
    )
    assert text == block * 2  # a broadcast reaches a promiscuous socket twice (keysock.c)


def test_monitor_stamps_dump_messages_at_the_time_of_the_dump(bench):
    """setkey -x prints each SADB_DUMP / SADB_X_SPDDUMP at the time the dump was asked for,
    not at the key engine's previous event (printdate() reads the clock as the message comes)."""
    assert bench.setkey_c('add 10.0.0.1 10.0.0.2 esp 1000 -E null "";\n'
                          "spdadd 10.0.0.1 10.0.0.2 any -P out none;\n").output == ""
    bench.out("setkey -x")
    start = len(bench.console)
    bench.advance(5.25)
    bench.out("setkey -D")
    text = bench.console.since(start)
    assert text.startswith("00:00:05.250000 \nsadb_msg{ version=2 type=10(DUMP) errno=0 satype=3\n")
    assert text.count("00:00:05.250000 \n") == 1 and "00:00:00.000000" not in text
    start = len(bench.console)
    bench.advance(2.5)
    bench.out("setkey -DP")
    text = bench.console.since(start)
    assert text.startswith("00:00:07.750000 \nsadb_msg{ version=2 type=18(X_SPDDUMP) errno=0 satype=0\n")
    start = len(bench.console)
    bench.advance(1.0)
    bench.out('setkey -c <<EOF\ndump esp;\nspddump;\nEOF\n')  # the script's dump statements too
    stamps = [line for line in bench.console.since(start).splitlines() if line.startswith("00:00:")]
    assert stamps == ["00:00:08.750000 ", "00:00:08.750000 "]


# -- netstat -s -p esp / ipsec ---------------------------------------------------------------------


def test_netstat_esp_and_ipsec(bench):
    bench.setkey_c(MAN_PAGE)
    text = bench.out("netstat -s -p esp")
    assert text.startswith("esp:\n\t0 packets shorter than header shows\n")
    assert "\t0 packets in\n\t0 packets out\n" in text
    sa = bench.keydb.sas()[0]
    sa.stats.esps_output += 3
    sa.stats.esps_hist[12] = 3
    text = bench.out("netstat -ss -p esp")
    assert text == "esp:\n\t3 packets out\n\tESP output histogram:\n\t\trijndael-cbc: 3\n"
    bench.keydb.stats.ips_out_nosa = 1
    text = bench.out("netstat -s -p ipsec")
    assert "\t1 outbound packet with no SA available\n" in text and "\t0 spd cache misses\n" in text
