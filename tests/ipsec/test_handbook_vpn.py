"""The FreeBSD Handbook's VPN-over-IPsec layout with if_ipsec(4): each gateway's tunnel uses
its LAN address as the inner local address (the handbook's ``ifconfig gif0 10.246.38.1
10.0.0.5``), so one host holds that address on two interfaces.

    lanA 10.246.38.10 --em1 corp em0-- 192.0.2.0/24 --em0 priv em1-- lanB 10.0.0.10
             corp: em1 and ipsec0 10.246.38.1 --> 10.0.0.5
             priv: em1 and ipsec0 10.0.0.5 --> 10.246.38.1

sys/netinet/in.c in_aifaddr_ioctl() refuses nothing here: it looks for the address on the
interface being configured only. The scenario check that two *hosts* share an address
(scenario/build.py) must not fire for two interfaces of one host.
"""

from __future__ import annotations

import pytest

from ipsecsim.scenario import ScenarioError

from .helpers import Bench, scenario_yaml

KEYS = '-E aes-gcm-16 "0123456789abcdefghij"'
GATEWAY = """\
ifconfig em0 inet {me}/24
ifconfig em1 inet {lan}/24
ifconfig ipsec0 create reqid 100
ifconfig ipsec0 inet tunnel {me} {peer}
ifconfig ipsec0 inet {lan} {peer_lan}
route add -net {far_lan} {peer_lan}
sysctl net.inet.ip.forwarding=1
setkey -c <<EOF
add {me} {peer} esp {spi_out} -m tunnel -u 100 {keys};
add {peer} {me} esp {spi_in} -m tunnel -u 100 {keys};
EOF
"""


def bench() -> Bench:
    """Two handbook gateways with if_ipsec, each with a LAN host behind it."""
    corp = dict(me="192.0.2.1", peer="192.0.2.2", lan="10.246.38.1", peer_lan="10.0.0.5",
                far_lan="10.0.0.0/24", spi_out=0x1000, spi_in=0x2000, keys=KEYS)
    priv = dict(me="192.0.2.2", peer="192.0.2.1", lan="10.0.0.5", peer_lan="10.246.38.1",
                far_lan="10.246.38.0/24", spi_out=0x2000, spi_in=0x1000, keys=KEYS)
    hosts = {
        "corp": GATEWAY.format(**corp),
        "priv": GATEWAY.format(**priv),
        "lanA": "ifconfig em0 inet 10.246.38.10/24\nroute add default 10.246.38.1\n",
        "lanB": "ifconfig em0 inet 10.0.0.10/24\nroute add default 10.0.0.5\n",
    }
    links = ("corp:em0 priv:em0", "corp:em1 lanA:em0", "priv:em1 lanB:em0")
    return Bench(scenario_yaml(hosts, links=links, name="handbook vpn"))


def test_lan_address_on_the_tunnel_is_accepted_and_passes_traffic():
    b = bench()
    b.run(0.5)
    assert b.result().command_errors == []
    corp = b.kernel("corp")
    assert [str(a.address) for a in corp.interface("ipsec0").addrs4] == ["10.246.38.1"]
    # LAN to LAN through both gateways, and gateway to the far gateway's LAN address.
    assert "3 packets transmitted, 3 packets received" in "\n".join(b.ping("lanA", "-c 3 10.0.0.10"))
    assert "2 packets transmitted, 2 packets received" in "\n".join(b.ping("corp", "-c 2 10.0.0.5"))
    assert b.if_data("corp", "ipsec0").opackets == 5 and b.if_data("corp", "ipsec0").ipackets == 5
    assert b.espstat("priv").esps_input == 5


def test_two_hosts_with_one_address_is_still_refused():
    # scenario/build.py _duplicate_addresses: the same address on two hosts is bad input.
    hosts = {"A": "ifconfig em0 inet 10.0.0.1/24\n", "B": "ifconfig em0 inet 10.0.0.1/24\n"}
    with pytest.raises(ScenarioError, match="10.0.0.1 is already an address of host A"):
        Bench(scenario_yaml(hosts))
