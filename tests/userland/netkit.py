"""A bench of simulated hosts for userland tests: EtherIf pairs wired back to back on a
ManualClock, each host with its console and shell.

``routed_lab()`` is the A - R - B network most tests use::

    A em0 10.0.1.1/24 2001:db8:1::1/64 --- em0 R em1 --- em0 B 10.0.2.2/24 2001:db8:2::2/64
               R: 10.0.1.2, 2001:db8:1::2  |  10.0.2.1, 2001:db8:2::1 (forwarding on)
"""

import random

from ipsecsim.kernel import Host, ManualClock
from ipsecsim.userland import Console, Shell

A_SETUP = """\
# Host A: one leg on the 10.0.1.0/24 LAN, everything else through R
ifconfig em0 inet 10.0.1.1/24 description "LAN to R"
ifconfig em0 inet6 2001:db8:1::1/64
route add default 10.0.1.2
route add -inet6 default 2001:db8:1::2
"""
R_SETUP = """\
ifconfig em0 inet 10.0.1.2/24; ifconfig em0 inet6 2001:db8:1::2 prefixlen 64
ifconfig em1 inet 10.0.2.1 netmask 255.255.255.0
ifconfig em1 inet6 2001:db8:2::1/64
sysctl net.inet.ip.forwarding=1 net.inet6.ip6.forwarding=1
"""
B_SETUP = """\
ifconfig em0 10.0.2.2/24 up
ifconfig em0 inet6 2001:db8:2::2/64
route add -net 10.0.1.0/24 10.0.2.1
route add default 10.0.2.1
route add -6 default 2001:db8:2::1
"""


class Lab:
    def __init__(self):
        self.clock = ManualClock()
        self.hosts: dict[str, Host] = {}
        self.consoles: dict[str, Console] = {}
        self.shells: dict[str, Shell] = {}

    def host(self, name: str, nics: int = 1) -> Host:
        host = Host(name, clock=self.clock, rng=random.Random(name))
        for i in range(nics):
            host.create_ether(f"em{i}")
        self.hosts[name] = host
        self.consoles[name] = Console(host)
        self.shells[name] = Shell(host, self.consoles[name])
        return host

    def wire(self, a: str, b: str, *, delay: float = 0.0005, mtu: int = 1500, bandwidth: float = 1e9) -> None:
        """Connect ``A:em0`` and ``B:em0`` back to back: each transmit arrives ``delay`` later."""
        ifa = self.hosts[a.split(":")[0]].interface(a.split(":")[1])
        ifb = self.hosts[b.split(":")[0]].interface(b.split(":")[1])
        clock = self.clock

        def sender(peer):
            def transmit(pkt: bytes):
                clock.call_later(delay, peer.receive, pkt)
                return None
            return transmit

        ifa.attach(sender(ifb), mtu, bandwidth)
        ifb.attach(sender(ifa), mtu, bandwidth)

    def sh(self, name: str, script: str, **kwargs):
        return self.shells[name].run(script, **kwargs)

    def out(self, name: str, script: str) -> str:
        """Run ``script`` and return its output, insisting that nothing failed."""
        result = self.sh(name, script)
        assert not result.errors, [str(e) for e in result.errors]
        return result.output


def routed_lab() -> Lab:
    lab = Lab()
    lab.host("A", 1)
    lab.host("R", 2)
    lab.host("B", 1)
    lab.wire("A:em0", "R:em0", bandwidth=1e9)
    lab.wire("R:em1", "B:em0", bandwidth=100e6)
    for name, script in (("A", A_SETUP), ("R", R_SETUP), ("B", B_SETUP)):
        result = lab.sh(name, script, file=f"{name}.sh")
        assert not result.errors, [str(e) for e in result.errors]
    return lab
