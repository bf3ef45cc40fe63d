"""ipsecsim/userland/sysctl.py: reading, setting, subtrees, flags and sysctl(8)'s messages."""

import random

import pytest

from ipsecsim.kernel import Host, ManualClock
from ipsecsim.userland import Console, Shell


@pytest.fixture
def shell():
    host = Host("gw.example.org", clock=ManualClock(), rng=random.Random(3))
    return Shell(host, Console(host))


def out(shell, script):
    result = shell.run(script)
    assert result.errors == [], [str(e) for e in result.errors]
    return result.output


def test_read_and_set(shell):
    assert out(shell, "sysctl net.inet.ip.forwarding") == "net.inet.ip.forwarding: 0\n"
    assert out(shell, "sysctl net.inet.ip.forwarding=1") == "net.inet.ip.forwarding: 0 -> 1\n"
    assert shell.host.sysctl["net.inet.ip.forwarding"] == 1
    assert out(shell, "sysctl -n net.inet.ip.forwarding") == "1\n"
    assert out(shell, "sysctl -n net.inet.ip.ttl=0x20") == "64 -> 32\n"
    assert out(shell, "sysctl net.inet.ip.ttl=010") == "net.inet.ip.ttl: 32 -> 8\n"  # strtol base 0: octal
    assert out(shell, "sysctl -e net.inet.ip.ttl kern.hostname") == "net.inet.ip.ttl=8\nkern.hostname=gw.example.org\n"
    assert out(shell, "sysctl kern.hostname=b") == "kern.hostname: gw.example.org -> b\n"
    assert out(shell, "sysctl -N net.inet6.ip6.forwarding=1") == "net.inet6.ip6.forwarding\n"


def test_subtree_and_all(shell, golden):
    text = "# sysctl net.inet.ip\n" + out(shell, "sysctl net.inet.ip")
    text += "# sysctl -d net.inet.ip.forwarding net.inet6.ip6.hlim\n"
    text += out(shell, "sysctl -d net.inet.ip.forwarding net.inet6.ip6.hlim")
    text += "# sysctl net.inet6.ipsec6\n" + out(shell, "sysctl net.inet6.ipsec6")
    text += "# sysctl -d net.inet.ipsec\n" + out(shell, "sysctl -d net.inet.ipsec")
    golden("userland_sysctl.txt", text)
    mib = shell.host.sysctl  # -a: every knob the kernel has (the list grows with later issues)
    assert out(shell, "sysctl -a") == "".join(f"{name}: {mib[name]}\n" for name in mib.names())
    assert out(shell, "sysctl -a") == out(shell, "sysctl -A")
    assert out(shell, "sysctl -aN").splitlines() == shell.host.sysctl.names()


@pytest.mark.parametrize("command, message", [
    ("sysctl net.foo", "sysctl: unknown oid 'net.foo'"),
    ("sysctl net.inet.i", "sysctl: unknown oid 'net.inet.i'"),
    ("sysctl net.foo=1", "sysctl: unknown oid 'net.foo'"),
    ("sysctl net.fibs=2", "sysctl: oid 'net.fibs' is read only"),
    ("sysctl net.inet.ip.forwarding=yes", "sysctl: invalid integer 'yes'"),
    ("sysctl net.inet.ip.forwarding=1.5", "sysctl: invalid integer '1.5'"),
    ("sysctl net.inet.ip.forwarding=", "sysctl: empty numeric value"),
    ("sysctl net.inet.ip.ttl=0", "sysctl: net.inet.ip.ttl=0: Invalid argument"),
    ("sysctl net.inet.ip.forwarding=2", "sysctl: net.inet.ip.forwarding=2: Invalid argument"),
    ("sysctl net.inet=1", "sysctl: oid 'net.inet' isn't a leaf node"),
    ("sysctl -Z", "sysctl: illegal option -- Z"),
    ("sysctl", "usage: sysctl [-bdehiNnoqTtWx] [ -B <bufsize> ] [-f filename] name[=value] ..."),
])
def test_errors(shell, command, message):
    result = shell.run(command)
    assert result.status == 1
    assert result.errors[0].message == message
    assert result.output.startswith(message)


def test_ignore_and_quiet_unknown_oids(shell):
    assert shell.run("sysctl -i net.foo net.inet.ip.ttl").output == "net.inet.ip.ttl: 64\n"
    quiet = shell.run("sysctl -q net.foo")
    assert (quiet.status, quiet.output) == (1, "")


def test_later_names_still_run_after_an_error(shell):
    result = shell.run("sysctl net.foo net.inet.ip.forwarding=1")
    assert result.output == "sysctl: unknown oid 'net.foo'\nnet.inet.ip.forwarding: 0 -> 1\n"
    assert result.status == 1


def test_options_with_arguments(shell):
    """sysctl.c main()'s getopt string is "AabB:def:hiNnoqtTwWxX": -B takes a buffer size,
    -f a file that parsefile() opens (err(EX_NOINPUT) when it cannot: there is no filesystem
    here), -w is a no-op. They were "illegal option" before."""
    assert out(shell, "sysctl -B 1024 -w net.inet.ip.ttl") == "net.inet.ip.ttl: 64\n"
    assert out(shell, "sysctl -B1024 net.fibs") == "net.fibs: 1\n"
    result = shell.run("sysctl -f /etc/sysctl.conf net.fibs")
    assert (result.status, result.output) == (66, "sysctl: /etc/sysctl.conf: No such file or directory\n")
    result = shell.run("sysctl -f")
    assert result.status == 1
    assert result.errors[0].message == "sysctl: option requires an argument -- f"
