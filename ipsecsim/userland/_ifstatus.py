"""ifconfig's status block, laid out as FreeBSD 14's ``status_nl`` (sbin/ifconfig/ifconfig_netlink.c)
prints it, with the per-family lines of af_inet.c, af_inet6.c, af_link.c and the
"other status" lines of ifgroup.c, iffib.c, ifmedia.c and af_nd6.c.

Order: flags line; ``description:``; ``options=``; tunnel lines; ``ether``;
addresses, inet before inet6, each family in the order added; then the other
status lines in the order FreeBSD's constructor registration gives them
(``groups:``, [``reqid:`` from if_ipsec], ``fib:``, ``media:``/``status:``,
``nd6 options=``). Hooks let other interface types add lines.

Simulated links have no real PHY, so ``media:``/``status:`` are derived: the
link's bandwidth picks the media subtype FreeBSD would show (``1000baseT`` for
1 Gbit/s, ``100baseTX`` for 100 Mbit/s, ...), and ``status: no carrier`` is shown
when the link is down or detached or the interface is administratively down.
Simulated NICs advertise no hardware offloads, so physical interfaces print no
``options=`` line; lo0 prints FreeBSD's.
"""

from ipaddress import IPv4Address
from typing import Callable

from ..kernel import Ifnet, format_flags
from ..kernel.ifnet import IFF_BROADCAST, IFF_POINTOPOINT

__all__ = ["status_lines", "STATUS_HOOKS", "TUNNEL_STATUS_HOOKS", "GROUPS", "OPTIONS", "media_subtype"]

# af_other_status: (order, hook). Lower order prints first (groups 10, if_ipsec's reqid 20,
# fib 30, media 40, nd6 50), matching the constructor order of sbin/ifconfig/Makefile.
StatusHook = Callable[[Ifnet], list[str]]
STATUS_HOOKS: list[tuple[int, StatusHook]] = []
# Lines printed after options= and before the addresses (af_all_tunnel_status).
TUNNEL_STATUS_HOOKS: list[StatusHook] = []
# Interface kind -> interface group (ifgroup.c prints groups other than "all").
GROUPS: dict[str, str] = {"loop": "lo"}
# Interface kind -> capabilities line (print_ifcap); absent or empty prints nothing.
OPTIONS: dict[str, str] = {"loop": "680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>"}

_ND6_BITS = (
    (0x1, "PERFORMNUD"), (0x2, "ACCEPT_RTADV"), (0x4, "PREFER_SOURCE"), (0x8, "IFDISABLED"),
    (0x10, "DONT_SET_IFROUTE"), (0x20, "AUTO_LINKLOCAL"), (0x40, "NO_RADR"), (0x80, "NO_PREFER_IFACE"),
    (0x100, "NO_DAD"), (0x200, "IPV6_ONLY"), (0x400, "IPV6_ONLY_MANUAL"), (0x800, "STABLEADDR"),
)
# sys/net/if_media.h subtype names, from the slowest up; the first one at least as fast wins.
_MEDIA = (
    (10e6, "10baseT/UTP"), (100e6, "100baseTX"), (1e9, "1000baseT"), (2.5e9, "2500Base-T"),
    (5e9, "5000Base-T"), (10e9, "10Gbase-T"), (25e9, "25GBase-SR"), (40e9, "40Gbase-SR4"),
    (50e9, "50GBase-SR2"), (100e9, "100GBase-SR4"), (200e9, "200GBase-SR4"), (400e9, "400GBase-SR8"),
)


def media_subtype(baudrate: float) -> str:
    """The ifmedia subtype a NIC of this speed reports (1000baseT when the speed is unknown)."""
    if not baudrate:
        return "1000baseT"
    return next((name for speed, name in _MEDIA if baudrate <= speed), _MEDIA[-1][1])


def _bits(value: int, names) -> str:
    return f"{value:x}<{','.join(name for bit, name in names if value & bit)}>"


def _ether(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


def _in_line(ifp: Ifnet, addr) -> str:
    iface = addr.interface
    plen = iface.network.prefixlen
    text = f"\tinet {iface.ip}"
    if addr.dest is not None or ifp.flags & IFF_POINTOPOINT:
        text += f" --> {addr.dest if addr.dest is not None else IPv4Address(0)}"
    text += f" netmask 0x{int(iface.network.netmask):x}"
    if ifp.flags & IFF_BROADCAST and plen and addr.dest is None:
        broadcast = "255.255.255.255" if plen == 31 else iface.network.broadcast_address
        text += f" broadcast {broadcast}"
    return text


def _in6_line(ifp: Ifnet, addr) -> str:
    ip = addr.interface.ip
    scoped = ip.is_link_local
    text = f"\tinet6 {ip}%{ifp.name}" if scoped else f"\tinet6 {ip}"
    if addr.dest is not None:
        text += f" --> {addr.dest}"
    text += f" prefixlen {addr.interface.network.prefixlen}"
    if scoped:
        text += f" scopeid 0x{ifp.index:x}"
    return text


def status_lines(ifp: Ifnet, family: str | None = None) -> list[str]:
    """``ifconfig IF`` (family None: every family) or ``ifconfig IF inet|inet6|link``."""
    lines = [f"{ifp.name}: flags={format_flags(ifp.flags)} metric 0 mtu {ifp.mtu}"]
    if ifp.description:
        lines.append(f"\tdescription: {ifp.description}")
    options = OPTIONS.get(ifp.kind)
    if options:
        lines.append(f"\toptions={options}")
    for hook in TUNNEL_STATUS_HOOKS:
        lines += hook(ifp)
    ether = getattr(ifp, "ether", None)  # Ethernet interfaces only
    if family in (None, "link", "ether", "lladdr") and ether:
        lines.append(f"\tether {_ether(ether)}")
    if family in (None, "inet"):
        lines += [_in_line(ifp, a) for a in ifp.addrs4]
    if family in (None, "inet6"):
        lines += [_in6_line(ifp, a) for a in ifp.addrs6]
    if family is None:
        for _, hook in sorted(STATUS_HOOKS, key=lambda item: item[0]):
            lines += hook(ifp)
    elif family == "inet6":
        lines += _nd6_status(ifp)
    return lines


def _groups_status(ifp: Ifnet) -> list[str]:
    group = GROUPS.get(ifp.kind)
    return [f"\tgroups: {group}"] if group else []


def _fib_status(ifp: Ifnet) -> list[str]:
    return [f"\tfib: {ifp.fib}"] if ifp.fib else []


def _media_status(ifp: Ifnet) -> list[str]:
    if not hasattr(ifp, "link_active"):
        return []
    if ifp.link_active and ifp.is_up:
        return [f"\tmedia: Ethernet autoselect ({media_subtype(getattr(ifp, 'baudrate', 0))} <full-duplex>)", "\tstatus: active"]
    return ["\tmedia: Ethernet autoselect", "\tstatus: no carrier"]


def _nd6_status(ifp: Ifnet) -> list[str]:
    return [f"\tnd6 options={_bits(ifp.nd6_flags, _ND6_BITS)}"]


STATUS_HOOKS += [(10, _groups_status), (30, _fib_status), (40, _media_status), (50, _nd6_status)]
