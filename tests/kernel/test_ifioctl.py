"""Interface ioctls without ifconfig(8): the kernel checks the request and answers an errno."""

from ipaddress import ip_address, ip_interface
import random

import pytest

from ipsecsim.kernel import Host, ManualClock
from ipsecsim.kernel.ifioctl import (
    IPSECSREQID, SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR, SIOCDIFADDR_IN6, SIOCDIFPHYADDR, SIOCIFDESTROY,
    SIOCSIFFIB, SIOCSIFFLAGS, SIOCSIFMTU, SIOCSIFPHYADDR, SIOCSTUNFIB, if_clone_create, ifioctl,
)
from ipsecsim.kernel.ifnet import IFF_UP


@pytest.fixture
def host():
    host = Host("A", clock=ManualClock(), rng=random.Random(1))
    host.create_ether("em0")
    return host


@pytest.mark.parametrize("mtu, errno", [(71, "EINVAL"), (72, None), (9216, None), (9217, "EINVAL")])
def test_ether_mtu_bounds_are_the_kernels(host, mtu, errno):
    assert ifioctl(host, "em0", SIOCSIFMTU, mtu) == errno
    assert host.interfaces["em0"].mtu == (mtu if errno is None else 1500)


@pytest.mark.parametrize("mtu, errno", [(1279, "EINVAL"), (1280, None), (8192, None), (8193, "EINVAL")])
def test_ipsec_mtu_bounds_are_ipsec_ioctls(host, mtu, errno):
    assert if_clone_create(host, "ipsec0") == (None, "ipsec0")
    assert ifioctl(host, "ipsec0", SIOCSIFMTU, mtu) == errno


def test_unknown_interface_is_enxio(host):
    assert ifioctl(host, "em9", SIOCSIFMTU, 1500) == "ENXIO"


def test_flags_bring_the_interface_up_and_down(host):
    em0 = host.interfaces["em0"]
    assert ifioctl(host, "em0", SIOCSIFFLAGS, em0.flags | IFF_UP) is None and em0.is_up
    assert ifioctl(host, "em0", SIOCSIFFLAGS, em0.flags & ~IFF_UP) is None and not em0.is_up


def test_addresses_are_added_and_removed(host):
    em0 = host.interfaces["em0"]
    assert ifioctl(host, "em0", SIOCAIFADDR, (ip_interface("10.0.1.1/24"), None)) is None
    assert ifioctl(host, "em0", SIOCAIFADDR_IN6, (ip_interface("2001:db8::1/64"), None)) is None
    assert [str(a.interface) for a in em0.addrs4] == ["10.0.1.1/24"]
    assert ifioctl(host, "em0", SIOCDIFADDR, ip_address("10.0.1.9")) == "EADDRNOTAVAIL"
    assert ifioctl(host, "em0", SIOCDIFADDR, None) is None  # no address: the first one
    assert em0.addrs4 == []
    assert ifioctl(host, "em0", SIOCDIFADDR, None) == "EADDRNOTAVAIL"
    assert ifioctl(host, "em0", SIOCDIFADDR_IN6, None) == "EADDRNOTAVAIL"
    assert ifioctl(host, "em0", SIOCDIFADDR_IN6, ip_address("2001:db8::1")) is None


def test_an_ipv6_address_another_interface_holds_is_eexist(host):
    host.create_ether("em1")
    assert ifioctl(host, "em0", SIOCAIFADDR_IN6, (ip_interface("2001:db8::1/64"), None)) is None
    assert ifioctl(host, "em1", SIOCAIFADDR_IN6, (ip_interface("2001:db8::1/64"), None)) == "EEXIST"


def test_fib_past_net_fibs_is_einval(host):
    assert ifioctl(host, "em0", SIOCSIFFIB, 1) == "EINVAL"
    assert ifioctl(host, "em0", SIOCSIFFIB, 0) is None


def test_ipsec_requests_on_another_driver_are_einval(host):
    for request, arg in ((IPSECSREQID, 5), (SIOCDIFPHYADDR, None), (SIOCSTUNFIB, 0),
                         (SIOCSIFPHYADDR, (ip_address("10.0.0.1"), ip_address("10.0.0.2")))):
        assert ifioctl(host, "em0", request, arg) == "EINVAL"
    assert ifioctl(host, "em0", SIOCIFDESTROY) == "EINVAL"  # em0 was not cloned


def test_ipsec_reqid_tunnel_and_destroy(host):
    assert if_clone_create(host, "ipsec") == (None, "ipsec0")
    assert if_clone_create(host, "ipsec") == (None, "ipsec1")
    assert if_clone_create(host, "ipsec0") == ("EEXIST", None)
    assert if_clone_create(host, "gif0") == ("EINVAL", None)
    assert ifioctl(host, "ipsec0", IPSECSREQID, 100) is None
    assert ifioctl(host, "ipsec1", IPSECSREQID, 100) == "EEXIST"
    unspecified = (ip_address("0.0.0.0"), ip_address("10.0.0.2"))
    assert ifioctl(host, "ipsec0", SIOCSIFPHYADDR, unspecified) == "EADDRNOTAVAIL"
    assert ifioctl(host, "ipsec0", SIOCSIFPHYADDR, (ip_address("10.0.0.1"), ip_address("10.0.0.2"))) is None
    assert len(host.interfaces["ipsec0"].policies) == 4  # v4/v6 x in/out, registered with the key engine
    assert ifioctl(host, "ipsec0", SIOCSTUNFIB, 1) == "EINVAL"
    assert ifioctl(host, "ipsec0", SIOCDIFPHYADDR) is None
    assert host.interfaces["ipsec0"].family == 0
    assert ifioctl(host, "ipsec0", SIOCIFDESTROY) is None
    assert "ipsec0" not in host.interfaces
