"""The userland's invariant: any script either runs or reports CommandErrors; nothing raises,
no command crashes ("internal error"), and background programs keep the clock runnable."""

import re
import shlex

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipsecsim.userland import CommandError, ShellResult

from .netkit import routed_lab

COMMANDS = ["ifconfig", "route", "netstat", "sysctl", "ping", "ping6", "echo", "hostname", "sleep", "true",
            "false", "nosuch"]
VOCABULARY = [
    # interfaces, families, ifconfig parameters
    "em0", "em1", "em7", "lo0", "ipsec0", "inet", "inet6", "link", "ether", "up", "down", "mtu", "alias", "-alias",
    "delete", "netmask", "prefixlen", "broadcast", "description", "-description", "fib", "create", "destroy",
    "-ifdisabled", "-a", "-l", "-d", "-u", "-L",
    # addresses, good and bad
    "10.0.1.1", "10.0.1.2/24", "10.0.2.0/24", "10.0.0.300", "10.2/16", "10.0.0.1/33", "127.0.0.1", "0.0.0.0",
    "255.255.255.0", "0xffffff00", "2001:db8:1::9/64", "2001:db8::/129", "::1", "fe80::1%em0", "default",
    "localhost", "nowhere",
    # route and netstat
    "add", "change", "get", "show", "flush", "del", "-net", "-host", "-interface", "-iface", "-blackhole",
    "-reject", "-mtu", "-fib", "-inet", "-inet6", "-4", "-6", "-n", "-q", "-netmask", "-prefixlen", "-r", "-rn",
    "-i", "-I", "-s", "-p", "ip", "icmp", "udp", "tcp", "-f", "-F", "-b", "-W",
    # sysctl
    "net.inet.ip.forwarding", "net.inet.ip.forwarding=1", "net.inet.ip.ttl=0", "net.fibs=2", "net.foo", "kern",
    "-N", "-e", "-i",
    # ping
    "-c", "1", "2", "-t", "-W", "-S", "-z", "-m", "-D", "-x", "0", "-1", "70000", "x", "", "nan", "inf", "1e400",
    "0.001", "-0", "0x10", "010",
]
WORD = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=10))
LINE = st.tuples(st.sampled_from(COMMANDS), st.lists(WORD, max_size=8)).map(
    lambda cmd: " ".join([cmd[0]] + [shlex.quote(w) for w in cmd[1]]))
LOCATION = re.compile(r"^<stdin>:\d+:\d+: ")


def check(lab, result) -> None:
    assert isinstance(result, ShellResult)
    for error in result.errors:
        assert isinstance(error, CommandError)
        assert LOCATION.match(str(error)), str(error)
        assert "internal error" not in error.message, error.message
    assert "internal error" not in result.output
    lab.clock.advance(lab.clock.now + 120)  # background pings run and finish without raising


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, min_size=1, max_size=6), st.booleans())
def test_random_command_lines_never_raise(lines, strict):
    lab = routed_lab()
    for host in ("A", "R"):
        check(lab, lab.sh(host, "\n".join(lines), strict=strict))


@settings(max_examples=250, deadline=None)
@given(st.lists(st.sampled_from(list("ab ;&|<>'\"\\#\n\t-=$()") + ["ifconfig", "EOF", "<<", "<<-", "echo"]),
                max_size=40).map("".join))
def test_random_shell_syntax_never_raises(text):
    lab = routed_lab()
    check(lab, lab.sh("A", text))
