"""net.inet.ipsec and net.inet6.ipsec6 as FreeBSD declares and uses them.

Declarations: sys/netipsec/ipsec.c (SYSCTL_INT / SYSCTL_PROC under _net_inet_ipsec and
_net_inet6_ipsec6); ``debug`` is declared in sys/netipsec/key.c for both trees, on the one
variable ``ipsec_debug``; both ``def_policy`` OIDs read and write ``V_def_policy->policy``.
"""

from ipaddress import ip_address, ip_network
import random

import pytest

from ipsecsim.kernel import Host, ManualClock, SysctlError
from ipsecsim.netipsec import IpsecRequest, SecurityPolicy

from .helpers import Chain
from .test_forwarding import echo4

# Descriptions as the SYSCTL_* declarations write them (trailing periods included).
DESCRIPTIONS = {
    "net.inet.ipsec.def_policy": "IPsec default policy.",
    "net.inet.ipsec.esp_trans_deflev": "Default ESP transport mode level",
    "net.inet.ipsec.esp_net_deflev": "Default ESP tunnel mode level.",
    "net.inet.ipsec.ah_trans_deflev": "AH transfer mode default level.",
    "net.inet.ipsec.ah_net_deflev": "AH tunnel mode default level.",
    "net.inet.ipsec.ah_cleartos": "If set, clear type-of-service field when doing AH computation.",
    "net.inet.ipsec.dfbit": "Do not fragment bit on encap.",
    "net.inet.ipsec.ecn": "Explicit Congestion Notification handling.",
    "net.inet.ipsec.debug": "Enable IPsec debugging output when set.",
    "net.inet.ipsec.crypto_support": "Crypto driver selection.",
    "net.inet.ipsec.async_crypto": "Use asynchronous mode to parallelize crypto jobs.",
    "net.inet.ipsec.check_policy_history": "Use strict check of inbound packets to security policy compliance.",
    "net.inet.ipsec.natt_cksum_policy": "Method to fix TCP/UDP checksum for transport mode IPsec after NAT.",
    "net.inet.ipsec.filtertunnel": "If set, filter packets from an IPsec tunnel.",
    "net.inet6.ipsec6.def_policy": "IPsec default policy.",
    "net.inet6.ipsec6.esp_trans_deflev": "Default ESP transport mode level.",
    "net.inet6.ipsec6.esp_net_deflev": "Default ESP tunnel mode level.",
    "net.inet6.ipsec6.ah_trans_deflev": "AH transfer mode default level.",
    "net.inet6.ipsec6.ah_net_deflev": "AH tunnel mode default level.",
    "net.inet6.ipsec6.ecn": "Explicit Congestion Notification handling.",
    "net.inet6.ipsec6.debug": "Enable IPsec debugging output when set.",
    "net.inet6.ipsec6.filtertunnel": "If set, filter packets from an IPsec tunnel.",
    "net.inet.esp.esp_enable": "",  # sys/netipsec/xform_esp.c declares it with ""
}
DEFAULTS = {"net.inet.ipsec.ah_cleartos": 1, "net.inet.ipsec.crypto_support": 50331648,
            "net.inet.ipsec.debug": 0, "net.inet6.ipsec6.esp_net_deflev": 1, "net.inet6.ipsec6.def_policy": 1}


@pytest.fixture
def host():
    return Host("gw", clock=ManualClock(), rng=random.Random(1))


def test_names_descriptions_and_defaults(host):
    mib = host.sysctl
    assert {name: mib.knob(name).description for name in DESCRIPTIONS} == DESCRIPTIONS
    assert {name: mib[name] for name in DEFAULTS} == DEFAULTS
    assert all(not mib.knob(name).read_only for name in DESCRIPTIONS)


@pytest.mark.parametrize("name", ["dfbit", "ecn", "esp_trans_deflev", "esp_net_deflev", "ah_trans_deflev",
                                  "ah_net_deflev", "filtertunnel", "check_policy_history", "debug"])
def test_plain_ints_take_any_value(host, name):
    # SYSCTL_INT has no handler to refuse a value.
    for value in (7, -1, 1000):
        host.sysctl.set(f"net.inet.ipsec.{name}", value)
        assert host.sysctl[f"net.inet.ipsec.{name}"] == value


def test_def_policy_takes_discard_or_none_and_is_one_variable(host):
    # ipsec.c sysctl_def_policy(): EINVAL unless IPSEC_POLICY_DISCARD (0) or NONE (1).
    with pytest.raises(SysctlError):
        host.sysctl.set("net.inet.ipsec.def_policy", 2)
    host.sysctl.set("net.inet6.ipsec6.def_policy", 0)
    assert host.sysctl["net.inet.ipsec.def_policy"] == 0
    host.sysctl.set("net.inet.ipsec.debug", 5)
    assert host.sysctl["net.inet6.ipsec6.debug"] == 5


def test_dfbit_and_ecn_reach_the_outer_header(host):
    host.sysctl.set("net.inet.ipsec.dfbit", 7)
    host.sysctl.set("net.inet6.ipsec6.ecn", -3)
    assert (host.ipsec_outer.dfbit, host.ipsec_outer.ecn6) == (7, -3)


def _policy(family=4):
    any_net = ip_network("0.0.0.0/0" if family == 4 else "::/0")
    a, b = map(ip_address, ("192.0.2.1", "192.0.2.2") if family == 4 else ("2001:db8::1", "2001:db8::2"))
    request = IpsecRequest("esp", "tunnel", a, b, "default", 0)
    return SecurityPolicy(any_net, any_net, requests=(request,)), request


def test_deflev_outside_use_require_unique_is_rewritten_to_require(host):
    # ipsec.c ipsec_get_reqlevel(): IPSEC_CHECK_DEFAULT assigns IPSEC_LEVEL_REQUIRE (2) to
    # each of the family's four *_deflev variables that is not USE, REQUIRE or UNIQUE.
    policy, request = _policy()
    host.sysctl.set("net.inet.ipsec.esp_net_deflev", 9)
    host.sysctl.set("net.inet.ipsec.ah_trans_deflev", 0)
    host.sysctl.set("net.inet6.ipsec6.esp_net_deflev", 9)
    assert host.keydb.level_of(policy, request) == "require"
    assert host.sysctl["net.inet.ipsec.esp_net_deflev"] == 2
    assert host.sysctl["net.inet.ipsec.ah_trans_deflev"] == 2
    assert host.sysctl["net.inet6.ipsec6.esp_net_deflev"] == 9  # an IPv4 policy checks net.inet only


def test_default_level_unique_acts_as_use(host):
    # A default of 3 comes back as IPSEC_LEVEL_UNIQUE; ipsec_output.c ipsec4_allocsa() and
    # ipsec.c ipsec_in_reject() only test "!= IPSEC_LEVEL_REQUIRE", so it behaves as use.
    policy, request = _policy()
    host.sysctl.set("net.inet.ipsec.esp_net_deflev", 3)
    assert host.keydb.level_of(policy, request) == "use"
    assert host.sysctl["net.inet.ipsec.esp_net_deflev"] == 3


def test_ipv6_policies_read_the_ipsec6_levels(host):
    policy, request = _policy(6)
    host.sysctl.set("net.inet6.ipsec6.esp_net_deflev", 2)
    assert host.keydb.level_of(policy, request) == "require"


@pytest.mark.parametrize("deflev,replies,after", [(1, 1, 1), (3, 1, 3), (9, 0, 2)])
def test_default_level_decides_whether_a_packet_without_sa_leaves(deflev, replies, after):
    # ipsec_output.c ipsec4_allocsa(): no SA and a level other than REQUIRE goes out in
    # clear (EJUSTRETURN); REQUIRE drops it. [S5.5] [S10.8]
    chain = Chain(routers=0)
    a = chain.a
    request = IpsecRequest("esp", "tunnel", ip_address("10.0.1.1"), ip_address("10.0.1.2"), "default", 0)
    lan = ip_network("10.0.1.0/24")
    a.keydb.spdadd(SecurityPolicy(lan, lan, direction="out", requests=(request,)), now=0.0)
    a.sysctl.set("net.inet.ipsec.esp_net_deflev", deflev)
    got = chain.icmp_log(a)
    echo4(chain)
    chain.clock.advance(1)
    assert len(got) == replies
    assert a.sysctl["net.inet.ipsec.esp_net_deflev"] == after
