"""Small networks wired by hand on a ManualClock, for kernel tests without the world."""

from ipaddress import ip_address, ip_interface, ip_network
import random

from ipsecsim.kernel import Host, ManualClock
from ipsecsim.kernel.route import RTF_GATEWAY, RTF_STATIC, RTF_UP, Route
from ipsecsim.packet.ipversion import IpVersion


def wire(clock, x, y, *, delay=0.001, mtu=1500):
    """Connect two EtherIfs directly: each packet arrives ``delay`` later."""
    x.attach(lambda p: (clock.call_later(delay, y.receive, p), None)[1], mtu, 1e9)
    y.attach(lambda p: (clock.call_later(delay, x.receive, p), None)[1], mtu, 1e9)


def default_route(host, ifp, gateway):
    gw = ip_address(gateway)
    dest = ip_network("0.0.0.0/0" if gw.version == 4 else "::/0")
    host.fibs[0].add(Route(dest, ifp, gw, RTF_UP | RTF_GATEWAY | RTF_STATIC, ifp.first_address(IpVersion(gw.version))))


class Chain:
    """A - R1 - ... - Rn - B with 10.0.i.0/24 and 2001:db8:i::/64 on hop i, forwarding on."""

    def __init__(self, routers=1, mtus=None, forwarding=True):
        self.clock = ManualClock()
        names = ["A"] + [f"R{i + 1}" for i in range(routers)] + ["B"]
        self.hosts = [Host(n, clock=self.clock, rng=random.Random(i)) for i, n in enumerate(names)]
        mtus = mtus or [1500] * (len(names) - 1)
        self.ifaces = []
        for i in range(len(names) - 1):
            left, right = self.hosts[i], self.hosts[i + 1]
            lif = left.create_ether("em1" if i else "em0")
            rif = right.create_ether("em0")
            wire(self.clock, lif, rif, mtu=mtus[i])
            left.add_address(lif, ip_interface(f"10.0.{i + 1}.1/24"))
            right.add_address(rif, ip_interface(f"10.0.{i + 1}.2/24"))
            left.add_address(lif, ip_interface(f"2001:db8:{i + 1}::1/64"))
            right.add_address(rif, ip_interface(f"2001:db8:{i + 1}::2/64"))
            self.ifaces.append((lif, rif))
        for i, host in enumerate(self.hosts[1:-1], start=1):
            host.sysctl.set("net.inet.ip.forwarding", int(forwarding))
            host.sysctl.set("net.inet6.ip6.forwarding", int(forwarding))
            default_route(host, self.ifaces[i][0], f"10.0.{i + 1}.2")
            default_route(host, self.ifaces[i][0], f"2001:db8:{i + 1}::2")
        # Routers route back towards A for every subnet left of them.
        for i, host in enumerate(self.hosts[1:-1], start=1):
            for j in range(1, i):
                host.fibs[0].add(Route(ip_network(f"10.0.{j}.0/24"), self.ifaces[i - 1][1],
                                       ip_address(f"10.0.{i}.1"), RTF_UP | RTF_GATEWAY | RTF_STATIC))
                host.fibs[0].add(Route(ip_network(f"2001:db8:{j}::/64"), self.ifaces[i - 1][1],
                                       ip_address(f"2001:db8:{i}::1"), RTF_UP | RTF_GATEWAY | RTF_STATIC))
        a, b = self.hosts[0], self.hosts[-1]
        default_route(a, self.ifaces[0][0], "10.0.1.2")
        default_route(a, self.ifaces[0][0], "2001:db8:1::2")
        default_route(b, self.ifaces[-1][1], f"10.0.{len(names) - 1}.1")
        default_route(b, self.ifaces[-1][1], f"2001:db8:{len(names) - 1}::1")
        self.a, self.b = a, b
        self.b_addr4 = ip_address(f"10.0.{len(names) - 1}.2")
        self.b_addr6 = ip_address(f"2001:db8:{len(names) - 1}::2")

    def icmp_log(self, host):
        got = []
        host.inet4.icmp_listeners.append(lambda src, dst, ttl, m: got.append((src, m)))
        host.inet6.icmp_listeners.append(lambda src, dst, ttl, m: got.append((src, m)))
        return got
