"""Which IPv4 forwarding path FreeBSD takes, and what each counts (ipsecsim/kernel/fastfwd.py).

sys/netinet/ip_input.c ip_input() hands a packet to ip_tryforward() when forwarding is on
and IPsec has no security policy (IPSEC_CAP_OPERABLE: key_havesp); ip_tryforward()
(sys/netinet/ip_fastfwd.c) gives packets with IP options or special addresses back to the
slow path, ip_forward().
"""

from ipaddress import ip_address, ip_network
import struct

from ipsecsim.kernel.route import RTF_BLACKHOLE, RTF_STATIC, RTF_UP, Route
from ipsecsim.netipsec import IpsecRequest, SecurityAssociation, SecurityPolicy
from ipsecsim.packet import ICMP_UNREACH, ICMP_UNREACH_HOST, Icmp, internet_checksum

from .helpers import Chain
from .test_forwarding import echo4


def with_policy(host):
    """Any security policy makes IPSEC_CAP_OPERABLE true: this one matches nothing here."""
    none = SecurityPolicy(ip_network("198.51.100.0/24"), ip_network("198.51.100.0/24"), policy="none")
    host.keydb.spdadd(none, now=0.0)


def test_plain_forwarding_is_fast_and_counted_twice_in_total():
    chain = Chain(routers=1)
    echo4(chain)
    chain.clock.advance(1)
    st = chain.hosts[1].ipstat
    # ip_tryforward: ips_forward and ips_fastforward per packet sent; ips_total once in
    # ip_input and once more in ip_tryforward (the echo and its reply).
    assert (st.ips_forward, st.ips_fastforward, st.ips_total) == (2, 2, 4)


def test_a_security_policy_sends_forwarding_down_the_slow_path():
    chain = Chain(routers=1)
    with_policy(chain.hosts[1])
    echo4(chain)
    chain.clock.advance(1)
    st = chain.hosts[1].ipstat
    assert (st.ips_forward, st.ips_fastforward, st.ips_total) == (2, 0, 2)


def test_ip_options_go_the_slow_path():
    # ip_tryforward: "Only IP packets without options" (net.inet.ip.process_options = 1).
    chain = Chain(routers=1)
    router = chain.hosts[1]
    icmp = Icmp.echo_request(7, 1, bytes(8)).to_bytes()
    header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x46, 0, 24 + len(icmp), 1, 0, 64, 1, 0,
                                   ip_address("10.0.1.1").packed, chain.b_addr4.packed) + b"\x01\x01\x01\x00")
    header[10:12] = internet_checksum(bytes(header)).to_bytes(2, "big")
    chain.ifaces[0][1].receive(bytes(header) + icmp)
    chain.clock.advance(1)
    st = router.ipstat
    assert st.ips_forward == 2 and st.ips_fastforward == 1  # the reply has no options


def test_no_route_counts_noroute_and_cantforward_on_both_paths():
    # ip_fastfwd.c ip_findroute(): ips_noroute and ips_cantforward; ip_forward() counts
    # ips_cantforward for ip_output()'s EHOSTUNREACH, which counted ips_noroute.
    for policy in (False, True):
        chain = Chain(routers=1)
        router = chain.hosts[1]
        router.fibs[0].delete(ip_network("0.0.0.0/0"))
        router.fibs[0].delete(ip_network("10.0.2.0/24"))  # B's subnet, connected
        if policy:
            with_policy(router)
        got = chain.icmp_log(chain.a)
        echo4(chain)
        chain.clock.advance(1)
        st = router.ipstat
        assert (st.ips_noroute, st.ips_cantforward, st.ips_forward) == (1, 1, 0)
        assert [m.type for _, m in got] == [ICMP_UNREACH]


def test_output_error_is_odropped_when_fast_and_answered_when_slow():
    # ip_tryforward(): an if_output error counts ips_odropped and sends nothing back.
    # ip_forward(): ips_cantforward, and ICMP host unreachable for errors but ENOBUFS.
    for policy, counters, icmp in ((False, (0, 1, 0), []), (True, (1, 0, 0), [ICMP_UNREACH_HOST])):
        chain = Chain(routers=1)
        router = chain.hosts[1]
        if policy:
            with_policy(router)
        chain.ifaces[1][0].set_up(False)
        got = chain.icmp_log(chain.a)
        echo4(chain)
        chain.clock.advance(1)
        st = router.ipstat
        assert (st.ips_cantforward, st.ips_odropped, st.ips_forward) == counters
        assert [m.code for _, m in got] == icmp


def test_df_too_big_counts_cantfrag_once_fast_and_twice_slow():
    # ip_tryforward(): ips_cantfrag and need-frag, then "goto consumed". ip_forward():
    # ip_output() counted ips_cantfrag, ip_forward() counts it again with ips_cantforward.
    for policy, counters in ((False, (1, 0)), (True, (2, 1))):
        chain = Chain(routers=1, mtus=[1500, 1280])
        router = chain.hosts[1]
        if policy:
            with_policy(router)
        got = chain.icmp_log(chain.a)
        echo4(chain, size=1400, df=True)
        chain.clock.advance(1)
        assert (router.ipstat.ips_cantfrag, router.ipstat.ips_cantforward) == counters
        assert len(got) == 1


def test_blackhole_route_is_cantforward_when_fast():
    # ip_fastfwd.c ip_findroute(): NHF_BLACKHOLE counts ips_cantforward and drops.
    chain = Chain(routers=1)
    router = chain.hosts[1]
    router.fibs[0].add(Route(ip_network(f"{chain.b_addr4}/32"), router.lo0, None,
                             RTF_UP | RTF_STATIC | RTF_BLACKHOLE))
    echo4(chain)
    chain.clock.advance(1)
    assert (router.ipstat.ips_cantforward, router.ipstat.ips_forward) == (1, 0)


def test_a_packet_ipsec_takes_needs_no_route_and_is_not_counted_forwarded():
    # sys/netinet/ip_input.c ip_forward(): IPSEC_FORWARD (ipsec4_forward) runs before
    # ip_output, whose route lookup never happens for a packet IPsec takes; EINPROGRESS
    # counts neither ips_forward nor ips_cantforward.
    chain = Chain(routers=1)
    router = chain.hosts[1]
    router.fibs[0].delete(ip_network("0.0.0.0/0"))  # no route to 10.0.9.0/24
    gw, peer = ip_address("10.0.2.1"), ip_address("10.0.2.2")
    request = IpsecRequest("esp", "tunnel", gw, peer, "require", 0)
    router.keydb.spdadd(SecurityPolicy(ip_network("10.0.1.0/24"), ip_network("10.0.9.0/24"), direction="out",
                                       requests=(request,)), now=0.0)
    router.keydb.add(SecurityAssociation(src=gw, dst=peer, spi=0x1000, mode="tunnel"), now=0.0)
    chain.a.send(ip_address("10.0.9.9"), 1, Icmp.echo_request(7, 1, bytes(8)).to_bytes())
    chain.clock.advance(1)
    st = router.ipstat
    assert (st.ips_forward, st.ips_cantforward, st.ips_noroute) == (0, 0, 0)
    assert router.espstat.esps_output == 1 and chain.b.espstat.esps_input == 1
