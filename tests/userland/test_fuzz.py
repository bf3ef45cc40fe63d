"""The userland's invariant: any script either runs or reports CommandErrors; nothing raises,
no command crashes ("internal error") or passes a Python exception's text off as its message,
and background programs keep the clock runnable.

Each command has its own fuzz test drawing from its real options (``fuzzwords``). The
example counts keep the suite fast; a bigger campaign runs with, e.g.::

    IPSECSIM_FUZZ_EXAMPLES=5000 python -m pytest tests/userland/test_fuzz.py --hypothesis-seed=1
"""

import os
import re
import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipsecsim.userland import CommandError, ShellResult

from .fuzzwords import IFCONFIG, NETSTAT, PING, ROUTE, SETKEY, SETUPS, SYSCTL
from .netkit import routed_lab

EXAMPLES = int(os.environ.get("IPSECSIM_FUZZ_EXAMPLES", "0"))
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def examples(default: int) -> settings:
    return settings(FUZZ, max_examples=EXAMPLES or default)


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
# Python's own words reaching a user: an exception's text passed off as a program's message.
PYTHONISMS = re.compile(r"Traceback|\b[A-Z][a-z]+Error\b|does not appear to be an? IPv|invalid literal for|NoneType|"
                        r"object has no attribute|unsupported operand|not supported between instances")


def check_result(result) -> None:
    """Every failure is a located CommandError; no command crashed or spoke Python."""
    assert isinstance(result, ShellResult)
    for error in result.errors:
        assert isinstance(error, CommandError)
        assert LOCATION.match(str(error)), str(error)
        assert "internal error" not in error.message, error.message
    assert "internal error" not in result.output, result.output
    assert not PYTHONISMS.search(result.output), result.output


def check_background(lab) -> None:
    """Background programs (ping, setkey -x/-l) run on and finish without raising."""
    lab.clock.advance(lab.clock.now + 120)
    for console in lab.consoles.values():
        assert "internal error" not in console.text(), console.text()
        assert not PYTHONISMS.search(console.text()), console.text()


def check(lab, result) -> None:
    check_result(result)
    check_background(lab)


@examples(250)
@given(st.lists(LINE, min_size=1, max_size=6), st.booleans())
def test_random_command_lines_never_raise(lines, strict):
    lab = routed_lab()
    for host in ("A", "R"):
        check(lab, lab.sh(host, "\n".join(lines), strict=strict))


@examples(250)
@given(st.lists(st.sampled_from(list("ab ;&|<>'\"\\#\n\t-=$()") + ["ifconfig", "EOF", "<<", "<<-", "echo"]),
                max_size=40).map("".join))
def test_random_shell_syntax_never_raises(text):
    lab = routed_lab()
    check(lab, lab.sh("A", text))


# -- one fuzz test per command, from its own options -----------------------------------------------


@pytest.mark.parametrize("strategy", [IFCONFIG, ROUTE, NETSTAT, PING, SYSCTL, SETKEY],
                         ids=["ifconfig", "route", "netstat", "ping", "sysctl", "setkey"])
def test_command_options_never_crash(strategy):
    """Each line ends in output or a located CommandError: never a crash, never Python's words."""

    @examples(250)
    @given(SETUPS, st.lists(strategy, min_size=1, max_size=4))
    def run(setup, lines):
        lab = routed_lab()
        assert not lab.sh("A", setup).errors
        check(lab, lab.sh("A", "\n".join(lines)))

    run()


@examples(200)
@given(SETUPS, st.lists(st.tuples(st.one_of(IFCONFIG, ROUTE, NETSTAT, PING, SYSCTL, SETKEY),
                                  st.sampled_from(["A", "R", "B"]), st.sampled_from([0, 0.5, 3, 40])),
                        min_size=1, max_size=8))
def test_commands_of_every_kind_interleaved_with_time(setup, steps):
    """State left by one command (an interface destroyed under a running ping, a fib count
    lowered, a monitor watching a flush) never makes a later one, or a background one, crash."""
    lab = routed_lab()
    assert not lab.sh("A", setup).errors
    for line, host, pause in steps:
        check_result(lab.sh(host, line))
        lab.clock.advance(lab.clock.now + pause)
    check_background(lab)
