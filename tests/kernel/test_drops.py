"""DropReason: each reason's name, the FreeBSD counters it stands for and the errno a sender sees.

The counter and errno of each row are FreeBSD's, read from the function named beside it; where
the simulator keeps that counter, a packet dropped for the reason is checked to bump it.
"""

from ipaddress import ip_address
import random

import pytest

import ipsecsim
from ipsecsim.kernel import Host, ManualClock
from ipsecsim.kernel.drops import DropReason, canonical_reason
from ipsecsim.kernel.sockets import SendError
from ipsecsim.netipsec import errors as esp_errors
from ipsecsim.packet import MalformedPacket

from .helpers import Chain


@pytest.mark.parametrize("reason, counters, errno", [
    # netinet/ip_input.c ip_input: IPSTAT_INC(ips_tooshort / ips_badhlen / ips_badsum / ips_badlen)
    (DropReason.IP_TOOSHORT_HEADER, ("ips_tooshort",), None),
    (DropReason.IP_BADHLEN, ("ips_badhlen",), None),
    (DropReason.IP_BADSUM, ("ips_badsum",), None),
    (DropReason.IP_BADLEN, ("ips_badlen",), None),
    # netinet/ip_output.c ip_output: IPSTAT_INC(ips_noroute), error = EHOSTUNREACH
    (DropReason.NO_ROUTE, ("ips_noroute", "ip6s_noroute"), "EHOSTUNREACH"),
    # ip_output: DF set and too big, IPSTAT_INC(ips_cantfrag), error = EMSGSIZE
    (DropReason.NEEDFRAG, ("ips_cantfrag",), "EMSGSIZE"),
    # net/if.c if_transmit (ifq full): IFCOUNTER_OQDROPS, ENOBUFS
    (DropReason.QUEUE_FULL, ("oqdrops",), "ENOBUFS"),
    # net/if_ipsec.c ipsec_transmit: IFCOUNTER_OERRORS, ENETDOWN (not running / not up)
    (DropReason.NETDOWN, ("oerrors",), "ENETDOWN"),
    # ipsec_transmit: the PACKET_TAG_IPSEC_OUT_DONE loop check, ENETDOWN
    (DropReason.IPSEC_LOOP, ("oerrors",), "ENETDOWN"),
    # netipsec/ipsec_output.c ipsec4_common_output: IPSECSTAT_INC(ips_out_polvio), EACCES
    (DropReason.OUT_POLVIO, ("ips_out_polvio",), "EACCES"),
    # ipsec4_process_packet: no SA, ips_out_nosa (and ips_out_inval for require), EINPROGRESS
    (DropReason.OUT_NOSA, ("ips_out_nosa", "ips_out_inval"), None),
    # netipsec/xform_esp.c esp_input_cb: ESPSTAT_INC(esps_badauth); esp_output: esps_toobig, EMSGSIZE
    (DropReason.ESP_BADAUTH, ("esps_badauth",), None),
    (DropReason.ESP_TOOBIG, ("esps_toobig",), "EMSGSIZE"),
    # netinet/udp_usrreq.c udp_input: UDPSTAT_INC(udps_noport)
    (DropReason.NOPORT, ("udps_noport",), None),
])
def test_counter_and_errno_as_freebsd_names_them(reason, counters, errno):
    assert reason.counters == counters
    assert reason.errno == errno


def test_names_are_unique_and_are_what_users_see():
    values = [reason.value for reason in DropReason]
    assert len(values) == len(set(values))
    assert str(DropReason.QUEUE_FULL) == "queue full"
    assert DropReason("esps_badauth") is DropReason.ESP_BADAUTH


def test_interface_down_is_one_reason_and_the_old_name_is_an_alias():
    assert DropReason("interface down") is DropReason.NETDOWN
    assert canonical_reason("interface down") == "ENETDOWN"
    assert canonical_reason("queue full") == "queue full"


def test_every_esp_counter_and_parse_error_is_a_reason():
    """The conversions at the drop sites (DropReason(error.counter), DropReason(error.reason))."""
    for cls in vars(esp_errors).values():
        if isinstance(cls, type) and issubclass(cls, esp_errors.EspDrop) and cls.counter:
            assert DropReason(cls.counter).counters[0] == cls.counter
    for phrase in ("truncated IPv4 header", "bad IPv4 header checksum", "truncated UDP header",
                   "bad UDP checksum", "bad ICMP checksum", "truncated IPv6 fragment header"):
        assert DropReason(MalformedPacket(phrase).reason).value == phrase


def test_host_drop_takes_the_enum_only():
    host = Host("H", clock=ManualClock(), rng=random.Random(1))
    host.drop(DropReason.LINK_LOSS, b"x")
    assert host.drops == {"link loss": 1}
    with pytest.raises(AttributeError):
        host.drop("link loss", b"x")


def test_no_route_counts_ips_noroute_and_the_sender_sees_its_errno():
    a = Host("A", clock=ManualClock(), rng=random.Random(1))  # lo0 only: no route off the host
    with pytest.raises(SendError) as refused:
        a.send(ip_address("198.51.100.1"), 17, b"\0" * 8)
    assert refused.value.errno_name == DropReason.NO_ROUTE.errno
    assert a.drops == {"no route": 1} and a.ipstat.ips_noroute == 1


def test_bad_header_checksum_counts_ips_badsum():
    chain = Chain(routers=0)
    b = chain.hosts[1]
    em0 = b.interface("em0")
    header = bytearray(bytes.fromhex("450000140000000040110000") + bytes(ip_address("10.0.1.1").packed)
                       + bytes(ip_address("10.0.1.2").packed))
    header[10:12] = b"\x12\x34"  # wrong
    em0.receive(bytes(header))
    reason = DropReason.IP_BADSUM
    assert b.drops == {reason.value: 1}
    assert [getattr(b.ipstat, c) for c in reason.counters] == [1]


def test_ethernet_interface_down_is_enetdown_with_oerrors():
    chain = Chain(routers=0)
    a = chain.hosts[0]
    em0 = a.interface("em0")
    em0.set_up(False)
    with pytest.raises(SendError) as refused:
        a.send(ip_address("10.0.1.2"), 17, b"\0" * 8)
    assert refused.value.errno_name == "ENETDOWN"
    assert a.drops == {"ENETDOWN": 1} and em0.data.oerrors == 1


def test_a_scenario_expecting_the_old_name_interface_down_still_counts_enetdown():
    sim = ipsecsim.loads(
        "name: old-name\nduration: 2s\nlinks:\n  - {a: A:em0, b: B:em0}\n"
        "hosts:\n  A:\n    run: |\n      ifconfig em0 inet 10.0.0.1/24\n      ifconfig em0 down\n"
        "  B:\n    run: |\n      ifconfig em0 inet 10.0.0.2/24\n"
        "traffic:\n  - {ping: {from: A, to: 10.0.0.2, count: 1}}\n"
        "expect:\n  - {drops: interface down, count: 1, host: A}\n  - {drops: ENETDOWN, count: 1, host: A}\n")
    result = sim.run()
    assert result.drops_by_host["A"] == {"ENETDOWN": 1}
    assert [e.holds for e in result.expectations] == [True, True]
