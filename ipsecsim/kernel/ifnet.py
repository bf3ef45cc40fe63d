"""Network interfaces (FreeBSD's struct ifnet): names, flags, addresses, counters.

An interface turns an IP packet into something on a wire (``output``) and hands
received packets to its host (``receive``). Subclasses: :class:`EtherIf`
(em0, em1, ... on a simulated link), :class:`LoopbackIf` (lo0); if_ipsec plugs
in the same way.
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface
from typing import TYPE_CHECKING, Callable, ClassVar, Final

from ..netipsec.errnos import KernelError
from ..packet.ipversion import IPV4, IPV6, IpVersion
from .drops import DropReason

if TYPE_CHECKING:
    from .host import Host
    from .tags import PacketTags

__all__ = [
    "Ifnet", "EtherIf", "LoopbackIf", "IfData", "InAddr", "In6Addr", "AF_INET", "AF_INET6",
    "IFF_UP", "IFF_BROADCAST", "IFF_LOOPBACK", "IFF_POINTOPOINT", "IFF_RUNNING", "IFF_SIMPLEX",
    "IFF_MULTICAST", "IFF_MONITOR", "format_flags",
    "ND6_IFF_PERFORMNUD", "ND6_IFF_IFDISABLED", "ND6_IFF_AUTO_LINKLOCAL", "IFDISABLED_DROP",
]

# Address families as FreeBSD numbers them (sys/socket.h): what first_address takes, as the
# address lookups of FreeBSD's API do. Packets' families are IpVersion (packet.ipversion).
AF_INET: Final = 2
AF_INET6: Final = 28

# sys/net/if.h
IFF_UP: Final = 0x1
IFF_BROADCAST: Final = 0x2
IFF_LOOPBACK: Final = 0x8
IFF_POINTOPOINT: Final = 0x10
IFF_RUNNING: Final = 0x40
IFF_SIMPLEX: Final = 0x800
IFF_MULTICAST: Final = 0x8000
IFF_MONITOR: Final = 0x40000
# netinet6/nd6.h: per-interface IPv6 neighbour-discovery flags (ifconfig's "nd6 options").
ND6_IFF_PERFORMNUD: Final = 0x1
ND6_IFF_IFDISABLED: Final = 0x8
ND6_IFF_AUTO_LINKLOCAL: Final = 0x20
# The drop reason for IPv6 refused by an interface marked IFDISABLED (FreeBSD counts nothing).
IFDISABLED_DROP = DropReason.IFDISABLED
_FLAG_NAMES = (
    (IFF_UP, "UP"), (IFF_BROADCAST, "BROADCAST"), (0x4, "DEBUG"), (IFF_LOOPBACK, "LOOPBACK"),
    (IFF_POINTOPOINT, "POINTOPOINT"), (0x20, "NEEDSEPOCH"), (IFF_RUNNING, "RUNNING"), (0x80, "NOARP"),
    (0x100, "PROMISC"), (0x200, "ALLMULTI"), (0x400, "OACTIVE"), (IFF_SIMPLEX, "SIMPLEX"),
    (0x1000, "LINK0"), (0x2000, "LINK1"), (0x4000, "LINK2"), (IFF_MULTICAST, "MULTICAST"),
    (IFF_MONITOR, "MONITOR"),
)


def format_flags(flags: int) -> str:
    """``8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST>`` as ifconfig prints it."""
    names = ",".join(name for bit, name in _FLAG_NAMES if flags & bit)
    return f"{flags:x}<{names}>"


@dataclass(slots=True)
class IfData:
    """Per-interface counters, named as in FreeBSD's struct if_data / netstat -i."""

    ipackets: int = 0
    ierrors: int = 0
    opackets: int = 0
    oerrors: int = 0
    collisions: int = 0
    ibytes: int = 0
    obytes: int = 0
    imcasts: int = 0
    omcasts: int = 0
    iqdrops: int = 0
    oqdrops: int = 0
    noproto: int = 0


@dataclass(slots=True)
class InAddr:
    """An IPv4 address on an interface; ``dest`` is the far end of a point-to-point link."""

    interface: IPv4Interface
    dest: IPv4Address | None = None

    @property
    def address(self) -> IPv4Address:
        return self.interface.ip

    @property
    def broadcast(self) -> IPv4Address | None:
        if self.dest is not None or self.interface.network.prefixlen >= 31:
            return None
        return self.interface.network.broadcast_address


@dataclass(slots=True)
class In6Addr:
    interface: IPv6Interface
    dest: IPv6Address | None = None

    @property
    def address(self) -> IPv6Address:
        return self.interface.ip


class Ifnet:
    """Common state and accounting of every interface type."""

    kind: ClassVar[str] = "generic"
    default_mtu: ClassVar[int] = 1500
    # The MTUs SIOCSIFMTU accepts: if.c bounds every interface to IF_MINMTU..IF_MAXMTU; a
    # driver narrows that (em(4) with jumbo frames takes up to 9216, if_ipsec 1280..8192).
    mtu_range: ClassVar[tuple[int, int]] = (72, 65535)

    def __init__(self, host: "Host", name: str, index: int, flags: int):
        self.host = host
        self.name = name
        self.index = index
        self.flags = flags
        self.mtu = self.default_mtu
        self.fib = 0
        self.data = IfData()
        self.addrs4: list[InAddr] = []
        self.addrs6: list[In6Addr] = []
        self.description = ""
        # IPv6 starts disabled on all but loopback. The kernel's nd6_ifattach does not set
        # IFDISABLED; FreeBSD's rc scripts do (network.subr ifconfig_up, run for cloned
        # interfaces too through devd's IFNET ATTACH -> pccard_ether) unless the interface
        # has IPv6 configuration. An added IPv6 address clears it (in6_control).
        self.nd6_flags = ND6_IFF_PERFORMNUD | ND6_IFF_AUTO_LINKLOCAL | (
            0 if flags & IFF_LOOPBACK else ND6_IFF_IFDISABLED)
        # BPF tap: called as bpf(pkt, outbound) for every packet seen, when a capture is on.
        self.bpf: Callable[[bytes, bool], None] | None = None
        # IPv4 multicast groups joined on this interface (IP_ADD_MEMBERSHIP), packed addresses.
        self.multicast4: set[bytes] = set()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host.name}:{self.name}>"

    @property
    def is_up(self) -> bool:
        return bool(self.flags & IFF_UP)

    @property
    def is_running(self) -> bool:
        return bool(self.flags & IFF_RUNNING)

    @property
    def operational(self) -> bool:
        """Up, running and (for a cable) with carrier: what a routing daemon calls "up"."""
        return self.flags & (IFF_UP | IFF_RUNNING) == IFF_UP | IFF_RUNNING

    def set_up(self, up: bool) -> None:
        # No ifaddr event: the local addresses and if_ipsec's RUNNING do not depend on IFF_UP [S3.5].
        was = self.operational
        self.flags = self.flags | IFF_UP if up else self.flags & ~IFF_UP
        if self.operational != was:
            self.host.link_state_changed(self)

    def set_mtu(self, mtu: int) -> None:
        """SIOCSIFMTU: ifhwioctl's IF_MINMTU/IF_MAXMTU check, then the driver's (ether_ioctl)."""
        low, high = self.mtu_range
        if not low <= mtu <= high:
            raise KernelError("EINVAL")
        self.mtu = mtu

    def first_address(self, family: IpVersion):
        """The interface's first address of ``family`` (in_pcbladdr's choice), or None."""
        addrs = self.addrs4 if family == IPV4 else self.addrs6
        return addrs[0].address if addrs else None

    def output(self, pkt: bytes, family: IpVersion, tags: "PacketTags | None" = None) -> str | None:
        """Send one IP packet of ``family`` (IPv4 or IPv6, packet.ipversion) out of this interface.

        Returns None, or the errno name the sender sees (ENETDOWN, ENOBUFS, ...);
        the drop itself is already recorded with its reason. ``tags``: the packet's
        IPsec marks (if_ipsec reads them; the wire does not carry them).
        """
        raise NotImplementedError

    def receive(self, pkt: bytes) -> None:
        """A packet arrived from the wire: count it, tap it, hand it to the host's IP input."""
        if not self.flags & IFF_UP:
            self.host.drop(DropReason.NETDOWN, pkt, self)
            return
        data = self.data
        data.ipackets += 1
        data.ibytes += len(pkt)
        if self.bpf is not None:
            self.bpf(pkt, False)
        host = self.host
        if pkt and pkt[0] >> 4 == 4:  # the IPv4 common case without a call through Host.ip_input
            host.inet4.input(self, pkt)
        else:
            host.ip_input(self, pkt)


class EtherIf(Ifnet):
    """A physical interface (em0, ...) attached to one point-to-point simulated link.

    The world installs ``transmit(pkt) -> None | DropReason``: None when the link took
    the packet (even if it is later lost on the wire), else why it refused it.
    """

    kind = "ether"
    mtu_range = (72, 9216)

    def __init__(self, host: "Host", name: str, index: int):
        super().__init__(host, name, index, IFF_BROADCAST | IFF_SIMPLEX | IFF_MULTICAST)
        self.transmit: Callable[[bytes], DropReason | None] | None = None
        self.link_active = False
        self.ether = bytes([0x02]) + (hash_name(host.name + ":" + name)).to_bytes(5, "big")
        self.baudrate: float = 0.0

    def attach(self, transmit: Callable[[bytes], DropReason | None], mtu: int, baudrate: float) -> None:
        self.transmit = transmit
        self.mtu = mtu
        self.baudrate = baudrate
        self.flags |= IFF_RUNNING
        self.link_active = True

    @property
    def operational(self) -> bool:
        return self.link_active and super().operational

    def set_carrier(self, active: bool) -> None:
        """The cable's carrier came or went (if_link_state_change): listeners hear of it."""
        was = self.operational
        self.link_active = active
        if self.operational != was:
            self.host.link_state_changed(self)

    def output(self, pkt: bytes, family: IpVersion, tags: "PacketTags | None" = None) -> str | None:
        data = self.data
        if family == IPV6 and self.nd6_flags & ND6_IFF_IFDISABLED:
            # ether_output -> nd6_resolve refuses IPv6 on an IFDISABLED interface with
            # ENETDOWN before anything is counted (netinet6/nd6.c nd6_resolve).
            self.host.drop(DropReason.IFDISABLED, pkt, self)
            return "ENETDOWN"
        if not self.flags & IFF_UP or self.transmit is None:
            data.oerrors += 1
            self.host.drop(DropReason.NETDOWN, pkt, self)
            return "ENETDOWN"
        if self.bpf is not None:
            self.bpf(pkt, True)
        reason = self.transmit(pkt)
        if reason is None:
            data.opackets += 1
            data.obytes += len(pkt)
            return None
        if reason is DropReason.QUEUE_FULL:
            data.oqdrops += 1
        else:
            data.oerrors += 1
        self.host.drop(reason, pkt, self)
        return reason.errno


class LoopbackIf(Ifnet):
    """lo0: what is sent comes back as input, one scheduler step later (as netisr does)."""

    kind = "loop"
    default_mtu = 16384

    def __init__(self, host: "Host", name: str, index: int):
        super().__init__(host, name, index, IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_MULTICAST)

    def output(self, pkt: bytes, family: IpVersion, tags: "PacketTags | None" = None) -> str | None:
        if not self.flags & IFF_UP:
            self.data.oerrors += 1
            self.host.drop(DropReason.NETDOWN, pkt, self)
            return "ENETDOWN"
        self.data.opackets += 1
        self.data.obytes += len(pkt)
        self.host.clock.call_later(0.0, self.receive, pkt)
        return None


def hash_name(text: str) -> int:
    """A stable 40-bit value from a name (FNV-1a), for locally administered MAC addresses."""
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value & 0xFFFFFFFFFF
