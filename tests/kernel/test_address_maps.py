"""The host's local address maps and if_ipsec's tables are kept up to date change by change:
after any series of address, tunnel and reqid changes they equal what a scan of every
interface gives, and each ipsec interface is RUNNING exactly when its outer source is local.
[S2.2] [S2.3] [S3.5] [S3.6]"""

from ipaddress import ip_address, ip_interface
import random

from ipsecsim.kernel import Host, HostError, ManualClock
from ipsecsim.kernel.if_ipsec import IfIpsecError, IpsecIf, create_ipsec
from ipsecsim.kernel.ifnet import IFF_RUNNING

ADDRESSES = ["10.0.0.1/24", "10.0.0.2/24", "10.0.1.1/24", "10.0.0.9/32", "192.168.0.1/30", "2001:db8::1/64",
             "2001:db8::2/128", "fe80::1/64"]
PEERS = [ip_address("10.9.9.9"), ip_address("2001:db8::99")]


def scanned(host):
    """The maps as a scan of every interface in attach order computes them (FreeBSD's ifa_ifwithaddr)."""
    local4, local6, broadcast4 = {}, {}, {b"\xff\xff\xff\xff"}
    for ifp in host.interfaces.values():
        for a in ifp.addrs4:
            local4.setdefault(a.address.packed, ifp)
            if a.broadcast:
                broadcast4.add(a.broadcast.packed)
        for a in ifp.addrs6:
            local6.setdefault(a.address.packed, ifp)
    return local4, local6, broadcast4


def check(host):
    assert (host.local4, host.local6, host.broadcast4) == scanned(host)
    tunnels = [ifp for ifp in host.interfaces.values() if isinstance(ifp, IpsecIf)]
    for ifp in tunnels:
        assert bool(ifp.flags & IFF_RUNNING) == bool(ifp.family and host.is_local(ifp.src))
    softcs = host.ipsec_softcs
    if softcs is not None:
        assert host.ipsec.ipsec_ifs == {ifp.reqid: [ifp] for ifp in tunnels if ifp.reqid}
        by_src = {}
        for ifp in tunnels:
            if ifp.family:
                by_src.setdefault(ifp.src.packed, []).append(ifp)
        assert {k: sorted(v, key=id) for k, v in softcs.by_src.items()} == \
            {k: sorted(v, key=id) for k, v in by_src.items()}


def step(host, rng):
    """One random configuration change, as ifconfig could make it (refusals included)."""
    interfaces = [ifp for ifp in host.interfaces.values() if ifp is not host.lo0]
    action = rng.choice(["add", "add", "add", "delete", "create", "tunnel", "reqid", "destroy", "untunnel"])
    try:
        if action == "add" and interfaces:
            host.add_address(rng.choice(interfaces), ip_interface(rng.choice(ADDRESSES)))
        elif action == "delete":
            held = [(ifp, a.interface) for ifp in interfaces for a in ifp.addrs4 + ifp.addrs6]
            if held:
                host.delete_address(*rng.choice(held))
        elif action == "create" and len(interfaces) < 8:
            create_ipsec(host)
        else:
            tunnels = [ifp for ifp in interfaces if isinstance(ifp, IpsecIf)]
            if not tunnels:
                return
            ifp = rng.choice(tunnels)
            if action == "tunnel":
                src = ip_interface(rng.choice(ADDRESSES)).ip
                ifp.set_tunnel(src, PEERS[src.version == 6])
            elif action == "reqid":
                ifp.set_reqid(rng.choice([0, 1, 2, 3, 16385, 16386]))
            elif action == "destroy":
                ifp.destroy()
            elif action == "untunnel":
                ifp.delete_tunnel()
    except (HostError, IfIpsecError):
        pass  # refused (EEXIST, EADDRNOTAVAIL): nothing may have changed half-way


def test_maps_and_tables_equal_a_full_scan_after_every_change():
    for seed in range(40):
        rng = random.Random(seed)
        host = Host("h", clock=ManualClock(), rng=random.Random(seed))
        for name in ("em0", "em1", "em2"):
            host.create_ether(name)
        for _ in range(60):
            step(host, rng)
            check(host)


def test_a_shared_address_moves_to_the_next_holder_in_attach_order():
    host = Host("h", clock=ManualClock(), rng=random.Random(1))
    em0, em1, em2 = (host.create_ether(name) for name in ("em0", "em1", "em2"))
    for ifp in (em2, em1, em0):  # added in reverse: the map still follows attach order
        host.add_address(ifp, ip_interface("10.0.0.1/24"))
    assert host.local4[ip_address("10.0.0.1").packed] is em0
    host.delete_address(em0, ip_interface("10.0.0.1/24"))
    assert host.local4[ip_address("10.0.0.1").packed] is em1
    host.delete_address(em1, ip_interface("10.0.0.1/24"))
    host.delete_address(em2, ip_interface("10.0.0.1/24"))
    assert ip_address("10.0.0.1").packed not in host.local4
    assert ip_address("10.0.0.255").packed not in host.broadcast4
