"""ipsecsim/userland/ifconfig.py and _ifstatus.py: status in FreeBSD's layout, address
operations with ifconfig.c's replace/alias/delete semantics, FreeBSD's error messages."""

from ipaddress import IPv4Address, IPv4Interface, IPv6Interface

import pytest


from .netkit import Lab, routed_lab


@pytest.fixture
def lab():
    return routed_lab()


@pytest.fixture
def one():
    """A lone host with em0 attached at 100 Mbit/s and em1 never attached."""
    lab = Lab()
    lab.host("H", 2)
    lab.hosts["H"].interface("em0").attach(lambda pkt: None, 1500, 100e6)
    return lab


def test_golden_ifconfig_on_each_host(lab, golden):
    text = "".join(f"{name}# ifconfig\n{lab.out(name, 'ifconfig')}" for name in ("A", "R", "B"))
    golden("userland_ifconfig_routed.txt", text)


def test_golden_single_interface_and_family_views(lab, golden):
    text = ""
    for cmd in ("ifconfig em1", "ifconfig em1 inet", "ifconfig em1 inet6", "ifconfig em1 ether",
                "ifconfig lo0", "ifconfig -l", "ifconfig -l inet6", "ifconfig -a inet"):
        text += f"R# {cmd}\n{lab.out('R', cmd)}"
    golden("userland_ifconfig_views.txt", text)


def test_status_layout_of_a_physical_interface(one):
    one.out("H", "ifconfig em0 inet 10.0.0.1/24 description 'to the core'; ifconfig em0 inet6 2001:db8::1/64")
    assert one.out("H", "ifconfig em0").splitlines() == [
        "em0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> metric 0 mtu 1500",
        "\tdescription: to the core",
        f"\tether {one.hosts['H'].interface('em0').ether.hex(':')}",
        "\tinet 10.0.0.1 netmask 0xffffff00 broadcast 10.0.0.255",
        "\tinet6 2001:db8::1 prefixlen 64",
        "\tmedia: Ethernet autoselect (100baseTX <full-duplex>)",
        "\tstatus: active",
        "\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>",
    ]


def test_unattached_and_down_interfaces_have_no_carrier(one):
    em1 = one.out("H", "ifconfig em1").splitlines()
    assert em1[0] == "em1: flags=8802<BROADCAST,SIMPLEX,MULTICAST> metric 0 mtu 1500"
    assert em1[-3:] == ["\tmedia: Ethernet autoselect", "\tstatus: no carrier",
                        "\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>"]
    one.out("H", "ifconfig em0 down")
    assert "\tstatus: no carrier" in one.out("H", "ifconfig em0")
    assert one.out("H", "ifconfig -l -d") == "em0 em1\n"
    assert one.out("H", "ifconfig -l -u") == "lo0\n"
    one.out("H", "ifconfig em0 up")
    em0 = one.hosts["H"].interface("em0")
    em0.link_active = False  # the world's link went down
    assert "\tstatus: no carrier" in one.out("H", "ifconfig em0")


def test_point_to_point_and_fib_and_mtu_lines(one):
    one.out("H", "ifconfig em0 inet 172.16.0.3/16 172.16.0.5 mtu 1400 fib 0")
    lines = one.out("H", "ifconfig em0").splitlines()
    assert lines[0].endswith("mtu 1400")
    assert "\tinet 172.16.0.3 --> 172.16.0.5 netmask 0xffff0000" in lines
    assert one.hosts["H"].fibs[0].find(__import__("ipaddress").ip_network("172.16.0.5/32")) is not None


def test_inet_replaces_the_first_address_and_alias_adds(one):
    host = one.hosts["H"]
    em0 = host.interface("em0")
    one.out("H", "ifconfig em0 inet 10.0.0.1/24")
    one.out("H", "ifconfig em0 inet 10.0.0.2/24")
    assert [str(a.interface) for a in em0.addrs4] == ["10.0.0.2/24"]
    one.out("H", "ifconfig em0 inet 10.0.0.3/24 alias; ifconfig em0 192.168.1.1 netmask 0xffff0000 alias")
    assert [str(a.interface) for a in em0.addrs4] == ["10.0.0.2/24", "10.0.0.3/24", "192.168.1.1/16"]
    one.out("H", "ifconfig em0 inet 10.0.0.3 -alias; ifconfig em0 inet 192.168.1.1 delete")
    assert [str(a.interface) for a in em0.addrs4] == ["10.0.0.2/24"]
    assert host.fibs[0].find(IPv4Interface("10.0.0.3/32").network) is None  # its lo0 route went too


def test_inet6_addresses_accumulate(one):
    em0 = one.hosts["H"].interface("em0")
    one.out("H", "ifconfig em0 inet6 2001:db8::1/64; ifconfig em0 inet6 2001:db8::2 prefixlen 80; "
                 "ifconfig em0 inet6 2001:db8::3")
    assert [str(a.interface) for a in em0.addrs6] == ["2001:db8::1/64", "2001:db8::2/80", "2001:db8::3/64"]
    one.out("H", "ifconfig em0 inet6 2001:db8::2 -alias")
    assert [str(a.interface) for a in em0.addrs6] == ["2001:db8::1/64", "2001:db8::3/64"]


def test_address_without_mask_warns_and_takes_the_classful_mask(one):
    result = one.sh("H", "ifconfig em0 inet 172.20.1.1")
    assert result.errors == []
    assert result.output == ("ifconfig: WARNING: setting interface address without mask is deprecated,\n"
                             "default mask may not be correct.\n")
    assert str(one.hosts["H"].interface("em0").addrs4[0].interface) == "172.20.1.1/16"
    # inet_aton's forms: a hexadecimal mask, a 2-part address
    one.out("H", "ifconfig lo0 inet 127.1 netmask 0xff000000 alias")
    assert IPv4Address("127.0.0.1") in [a.address for a in one.hosts["H"].lo0.addrs4]


def test_first_address_brings_the_interface_up(one):
    em0 = one.hosts["H"].interface("em0")
    assert not em0.is_up
    one.out("H", "ifconfig em0 inet 10.1.1.1/24")
    assert em0.is_up


def test_mtu_description_nd6_flags(one):
    em0 = one.hosts["H"].interface("em0")
    one.out("H", "ifconfig em0 mtu 9000 descr uplink -ifdisabled")
    assert (em0.mtu, em0.description) == (9000, "uplink")
    assert one.out("H", "ifconfig em0 inet6").splitlines()[-1] == "\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>"
    one.out("H", "ifconfig em0 -description")
    assert em0.description == ""
    assert em0.mtu_range == (72, 9216)  # the driver's bounds, checked by the kernel (SIOCSIFMTU)


def test_ifconfig_dash_a_equals_no_arguments(lab):
    assert lab.out("A", "ifconfig -a") == lab.out("A", "ifconfig")


@pytest.mark.parametrize("command, message", [
    ("ifconfig em7", "ifconfig: interface em7 does not exist"),
    ("ifconfig em7 inet 10.0.0.1/24", "ifconfig: interface em7 does not exist"),
    ("ifconfig em0 inet 10.0.0.300/24", "ifconfig: 10.0.0.300: bad value"),
    ("ifconfig em0 inet bogus", "ifconfig: bogus: bad value"),
    ("ifconfig em0 inet 10.0.0.1/33", "ifconfig: 10.0.0.1/33: bad value (width too large)"),
    ("ifconfig em0 inet 10.0.0.1/x", "ifconfig: 10.0.0.1/x: bad value (width invalid)"),
    ("ifconfig em0 inet6 2001:db8::1/129", "ifconfig: 129: bad value"),
    ("ifconfig em0 inet6 2001:db8::zz/64", "ifconfig: 2001:db8::zz: bad value"),
    ("ifconfig em0 mtu 50", "ifconfig: ioctl SIOCSIFMTU (set mtu): Invalid argument"),
    ("ifconfig em0 mtu 9217", "ifconfig: ioctl SIOCSIFMTU (set mtu): Invalid argument"),
    ("ifconfig em0 mtu big", "ifconfig: ioctl SIOCSIFMTU (set mtu): Invalid argument"),
    ("ifconfig em0 mtu", "ifconfig: 'mtu' requires argument"),
    ("ifconfig em0 inet 10.9.9.9 -alias", "ifconfig: ioctl (SIOCDIFADDR): Can't assign requested address"),
    ("ifconfig em0 inet6 2001:db8::99 delete", "ifconfig: ioctl (SIOCDIFADDR): Can't assign requested address"),
    ("ifconfig em0 fib 1", "ifconfig: ioctl (SIOCSIFFIB): Invalid argument"),
    ("ifconfig em0 fib one", "ifconfig: fib one not valid: Invalid argument"),
    ("ifconfig em0 netmask 255.255.0.0", "ifconfig: ioctl (SIOCAIFADDR): Invalid argument"),
    ("ifconfig em0 ether 02:00:00:00:00:01", "ifconfig: ioctl (SIOCSIFLLADDR): Operation not supported"),
    ("ifconfig em0 destroy", "ifconfig: SIOCIFDESTROY: Invalid argument"),
    ("ifconfig gif0 create", "ifconfig: SIOCIFCREATE2 (gif0): Invalid argument"),
    ("ifconfig em0 create", "ifconfig: interface em0 already exists"),
    ("ifconfig -x", "ifconfig: illegal option -- x"),
    ("ifconfig -a foo", "usage: ifconfig [-L] interface address_family [address [dest_address]]"),
    ("ifconfig -l -a", "usage: ifconfig [-L] interface address_family [address [dest_address]]"),
])
def test_error_messages(lab, command, message):
    result = lab.sh("A", command, file="A.sh")
    assert result.status == 1
    assert [str(e) for e in result.errors] == [f"A.sh:1:1: {message}"]
    assert message in result.output


def test_address_in_use_on_another_interface(lab):
    # IPv4: sys/netinet/in.c in_aifaddr_ioctl() looks for the address on this interface
    # only, so a second interface may hold it. IPv6: sys/netinet6/in6.c in6_notify_ifa()
    # returns ifa_add_loopback_route()'s EEXIST and in6_update_ifa() unlinks the address.
    result = lab.sh("R", "ifconfig em1 inet 10.0.1.2/24")
    assert (result.status, result.output) == (0, "")
    result = lab.sh("R", "ifconfig em1 inet6 2001:db8:1::2/64")
    assert result.output == "ifconfig: ioctl (SIOCAIFADDR): File exists\n"
    assert result.status == 1


def test_usage_text_is_printed_in_full(lab):
    result = lab.sh("A", "ifconfig -l -a")
    assert result.output.splitlines()[-1] == "       ifconfig [-L] [-d] [-m] [-u] [-v]"


def test_an_error_stops_the_remaining_parameters(one):
    em0 = one.hosts["H"].interface("em0")
    one.sh("H", "ifconfig em0 mtu 1400 mtu 1 mtu 1300")
    assert em0.mtu == 1400


@pytest.mark.replaces_kernel_methods
def test_cloner_and_extra_command_hooks(one, monkeypatch):
    """The extension points the if_ipsec issue uses (the real ipsec cloner is set aside meanwhile)."""
    from ipsecsim.kernel import LoopbackIf
    from ipsecsim.userland import ifconfig as ifc
    from ipsecsim.userland._ifstatus import STATUS_HOOKS

    made = []

    def create(ctx, name):
        if name == "ipsec":
            name = "ipsec0"
        ifp = ctx.host.add_interface(LoopbackIf(ctx.host, name, ctx.host.new_index()))
        ifp.reqid = 0
        made.append(ifp)
        return ifp

    def destroy(ctx, ifp):
        ctx.host.remove_interface(ifp)

    def reqid(ctx, ifp, args):
        ifp.reqid = int(args[0])

    def status(ifp):
        return [f"\treqid: {ifp.reqid}"] if hasattr(ifp, "reqid") else []

    monkeypatch.setitem(ifc.CLONERS, "ipsec", (create, destroy))
    monkeypatch.setitem(ifc.EXTRA_COMMANDS, "reqid", (1, reqid))
    saved_hooks = list(STATUS_HOOKS)
    STATUS_HOOKS[:] = [hook for hook in saved_hooks if hook[0] != 20] + [(20, status)]
    try:
        # the test cloner makes loopback-kind interfaces, so lift the loop's "not clonable" guard
        made_kind = "tunnel"
        assert one.sh("H", "ifconfig ipsec create").output == "ipsec0\n"
        made[0].kind = made_kind
        # as in FreeBSD, an address family may follow "create" directly, not after other parameters
        one.out("H", "ifconfig ipsec1 create inet 172.16.0.3/16 reqid 100")
        made[1].kind = made_kind
        lines = one.out("H", "ifconfig ipsec1").splitlines()
        assert lines.index("\treqid: 100") < lines.index("\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>")
        one.out("H", "ifconfig ipsec1 destroy")
        assert "ipsec1" not in one.hosts["H"].interfaces
    finally:
        STATUS_HOOKS[:] = saved_hooks


def test_lo0_addresses(one):
    one.out("H", "ifconfig lo0 inet6 fe80::1%lo0 prefixlen 64")
    assert "\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1" in one.out("H", "ifconfig lo0").splitlines()
    assert IPv6Interface("fe80::1/64") in [a.interface for a in one.hosts["H"].lo0.addrs6]


# -- create on an existing interface (sbin/ifconfig/ifconfig.c main()) ---------------------------


def test_create_alone_on_an_existing_interface_fails(lab):
    lab.out("A", "ifconfig ipsec0 create")
    result = lab.sh("A", "ifconfig ipsec0 create", file="A.sh")
    assert (result.status, result.output) == (1, "ifconfig: interface ipsec0 already exists\n")
    assert [str(e) for e in result.errors] == ["A.sh:1:1: ifconfig: interface ipsec0 already exists"]
    result = lab.sh("A", "ifconfig ipsec0 plumb")
    assert result.errors[0].message == "ifconfig: interface ipsec0 already exists"


def test_create_with_more_arguments_on_an_existing_interface_applies_the_rest(lab):
    """main() drops the "create" and runs the rest as a plain ifconfig of that interface."""
    lab.out("A", "ifconfig ipsec0 create reqid 100")
    assert lab.out("A", "ifconfig ipsec0 create inet tunnel 10.0.1.1 10.0.2.2 reqid 200") == ""
    ipsec0 = lab.hosts["A"].interface("ipsec0")
    assert (ipsec0.reqid, str(ipsec0.src), str(ipsec0.dst)) == (200, "10.0.1.1", "10.0.2.2")
    assert lab.out("A", "ifconfig em0 create mtu 1400") == ""
    assert lab.hosts["A"].interface("em0").mtu == 1400
    # an address family right after "create" is read as the family, as for any interface
    assert lab.out("A", "ifconfig ipsec0 create inet") == lab.out("A", "ifconfig ipsec0 inet")


# -- reqid values (sbin/ifconfig/ifipsec.c setreqid()) ----------------------------------------------


@pytest.mark.parametrize("value, reqid", [
    ("0x10", 16),  # strtoul(val, &ep, 0): hex
    ("010", 8),  # ... and octal
    ("-1", 4294967295),  # strtoul negates modulo 2**64; the uint32_t keeps the low 32 bits
    ("99999999999", 99999999999 % 2**32),
    ("99999999999999999999999", 4294967295),  # ERANGE gives ULONG_MAX, and *ep is '\0': no warning
    ("", 100),  # no digits but *ep is '\0': the ioctl gets 0, which keeps an existing reqid [S2.3]
])
def test_reqid_is_read_as_strtoul_into_a_uint32(lab, value, reqid):
    lab.out("A", "ifconfig ipsec0 create reqid 100")
    assert lab.out("A", f"ifconfig ipsec0 reqid '{value}'") == ""
    assert lab.hosts["A"].interface("ipsec0").reqid == reqid


def test_invalid_reqid_warns_with_strerror_and_exits_0(lab):
    """warn("Invalid reqid value %s", val) appends strerror(errno): strtoul set EINVAL when
    it found no digits. warn() does not exit, so the status stays 0 and the reqid unchanged."""
    lab.out("A", "ifconfig ipsec0 create reqid 100")
    result = lab.sh("A", "ifconfig ipsec0 reqid abc")
    assert (result.status, result.output) == (0, "ifconfig: Invalid reqid value abc: Invalid argument\n")
    # A scenario still lists the warning as a command error.
    assert [e.message for e in result.errors] == ["ifconfig: Invalid reqid value abc: Invalid argument"]
    assert lab.hosts["A"].interface("ipsec0").reqid == 100


def test_invalid_reqid_after_digits_shows_the_errno_left_before(lab):
    """With digits then junk, strtoul sets no errno: warn() shows what was left, nothing on an
    existing interface, ENXIO from if_nametoindex() when "create" made it."""
    lab.out("A", "ifconfig ipsec0 create")
    assert lab.sh("A", "ifconfig ipsec0 reqid 12abc").output == "ifconfig: Invalid reqid value 12abc: No error: 0\n"
    assert lab.sh("A", "ifconfig ipsec1 create reqid 12abc").output == (
        "ifconfig: Invalid reqid value 12abc: Device not configured\n")
    assert lab.sh("A", "ifconfig ipsec0 reqid abc reqid 12abc").output == (
        "ifconfig: Invalid reqid value abc: Invalid argument\n"
        "ifconfig: Invalid reqid value 12abc: Invalid argument\n")


@pytest.mark.parametrize("value, message", [
    ("x", "ifconfig: fib x not valid: Invalid argument"),  # no digits: strtoul's EINVAL
    ("4294967296", "ifconfig: fib 4294967296 not valid: No error: 0"),  # past UINT_MAX: errno untouched
    ("99999999999999999999999", "ifconfig: fib 99999999999999999999999 not valid: Result too large"),
    ("1", "ifconfig: ioctl (SIOCSTUNFIB): Invalid argument"),  # one fib: the kernel refuses [S3.9]
])
def test_tunnelfib_warnings(lab, value, message):
    """iffib.c settunfib(): strtoul, then warn() for a bad value or a refused SIOCSTUNFIB; both
    leave the exit status at 0. It used to print "ifconfig: x: bad value" and exit 1."""
    lab.out("A", "ifconfig ipsec0 create")
    result = lab.sh("A", f"ifconfig ipsec0 tunnelfib {value} mtu 1300")
    assert (result.status, result.output) == (0, message + "\n")
    assert [e.message for e in result.errors] == [message]  # a command error in a scenario all the same
    assert lab.hosts["A"].interface("ipsec0").mtu == 1300  # the arguments after it still apply


@pytest.mark.parametrize("command, message, status", [
    # ifhwioctl() hands the ioctl to em(4), whose ether_ioctl() answers EINVAL
    ("ifconfig em0 reqid 5 mtu 1300", "ifconfig: ioctl(IPSECSREQID): Invalid argument", 0),  # warn()
    ("ifconfig em0 tunnel 10.0.1.1 10.0.2.2 mtu 1300", "ifconfig: SIOCSIFPHYADDR: Invalid argument", 0),  # warn()
    ("ifconfig em0 -tunnel mtu 1300", "ifconfig: SIOCDIFPHYADDR: Invalid argument", 1),  # err(1, ...)
])
def test_ipsec_ioctls_on_another_interface(lab, command, message, status):
    result = lab.sh("A", command)
    assert (result.status, result.output) == (status, message + "\n")
    assert (lab.hosts["A"].interface("em0").mtu == 1300) == (status == 0)  # a warning goes on


def test_tunnel_addresses_are_read_by_getaddrinfo(lab):
    """settunnel() (ifconfig.c): getaddrinfo() takes inet_aton's short forms and host names;
    what it cannot read is errx(1) with gai_strerror(), not a Python message."""
    lab.out("A", "ifconfig ipsec0 create")
    lab.out("A", "ifconfig ipsec0 tunnel 10.0.1.1 10.2")
    assert str(lab.hosts["A"].interface("ipsec0").dst) == "10.0.0.2"
    result = lab.sh("A", "ifconfig ipsec0 tunnel 10.0.1.1 nowhere")
    assert (result.status, result.output) == (
        1, "ifconfig: error in parsing address string: hostname nor servname provided, or not known\n")
