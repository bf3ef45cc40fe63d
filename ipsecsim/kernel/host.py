"""One simulated FreeBSD host: interfaces, addresses, routing tables, sysctls, counters.

The host is sans-IO: it is given a clock (``now`` and ``call_later``) and an RNG,
receives packets through its interfaces and sends them through them. The IP
protocol work lives in :mod:`.inet` and :mod:`.inet6`.
"""

from collections import Counter
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, IPv6Interface, ip_network
import random
from typing import TYPE_CHECKING, Any, Callable

from ..netipsec.errnos import KernelError
from ..packet.ipversion import IPV4, IPV6
from .clock import Clock
from .drops import DropReason
from .ifnet import (
    IFF_UP, ND6_IFF_AUTO_LINKLOCAL, ND6_IFF_IFDISABLED, ND6_IFF_PERFORMNUD, EtherIf, Ifnet, In6Addr, InAddr, LoopbackIf,
)  # fmt: skip
from .inet import Inet4
from .inet6 import Inet6
from .ipsec import IpsecStack
from .route import RTF_HOST, RTF_STATIC, RTF_UP, Fib, Route, RouteError
from .sockets import SendError
from .stats import IpStat
from .sysctl import Sysctl

if TYPE_CHECKING:
    from ..netipsec import EspStat, OuterHeaderConfig
    from ..netipsec.keydb import KeyDB
    from .if_ipsec import IpsecSoftcs

__all__ = ["Host", "HostError", "SendError", "DropReason"]

_ALL_ONES = b"\xff\xff\xff\xff"  # INADDR_BROADCAST: always a broadcast address

# observer(event, host, ifname or None, packet bytes, reason or None, related or None). The events:
#   output       a datagram this host originates (a socket's send, an ICMP message), before routing
#   forward      a packet this host forwards, with the outgoing interface
#   deliver      a packet handed to a local protocol (ESP included: its inner packet comes back in)
#   drop         a packet freed, with its reason
#   encap        an ESP packet made by this host; related: the packet it carries
#   fragment     a packet cut to the MTU; related: the list of its fragments
#   reassembled  a datagram made whole again from its fragments
# The accounting of a run (world/) needs no more: every packet starts with output and ends with
# deliver (to a protocol other than ESP), drop, or the end of the run on a wire or in a queue.
Observer = Callable[[str, "Host", str | None, bytes, str | None, Any], None]


def _attach_order(ifp: Ifnet) -> int:
    return ifp.index


class HostError(KernelError):
    """A configuration request the kernel refuses; ``errno_name`` as FreeBSD returns it."""


class Host:
    def __init__(self, name: str, *, clock: Clock, rng: random.Random):
        self.name = name
        self.clock = clock
        self.rng = rng
        self.sysctl = Sysctl()
        self.sysctl.set("kern.hostname", name)
        self.interfaces: dict[str, Ifnet] = {}
        self._next_index = 1
        self.fibs = [Fib(0)]
        self.drops: Counter[str] = Counter()
        self.observer: Observer | None = None
        # ifaddr_event handlers: called with each address added to or deleted from an interface,
        # once the local address maps below show the change (if_ipsec's ipsec_srcaddr) [S3.6].
        self.address_listeners: list[Callable[[IPv4Address | IPv6Address], None]] = []
        # Called with each interface added later (cloned ones too): captures attach here.
        self.interface_listeners: list[Callable[[Ifnet], None]] = []
        # Called with an interface whose `operational` state changed (up/down, carrier, if_ipsec
        # RUNNING): the RTM_IFINFO message routing daemons read from the routing socket.
        self.link_state_listeners: list[Callable[[Ifnet], None]] = []
        # Programs that keep running (ospfd), by name: vtysh finds them here.
        self.daemons: dict[str, Any] = {}
        # Local addresses by packed bytes: the input path's "is this for me?" test.
        self.local4: dict[bytes, Ifnet] = {}
        self.broadcast4: set[bytes] = {_ALL_ONES}
        self.local6: dict[bytes, Ifnet] = {}
        # Kept up to date address by address, so a change costs the same with 4 or 4,000 interfaces:
        # every interface holding each local address, in attach order (local4/local6 map the first),
        # and how many IPv4 addresses have each broadcast address.
        self._holders: dict[bytes, list[Ifnet]] = {}
        self._broadcast_refs: Counter[bytes] = Counter()
        # if_ipsec's per-host tables (V_ipsec_idhtbl, V_ipsec_srchtbl), made with the first ipsecN.
        self.ipsec_softcs: IpsecSoftcs | None = None
        self.ipstat = IpStat()
        self._next_pid = 1000 + rng.randrange(1000)
        # False from power_off() to boot(): the host sends nothing and its stacks are fresh ones.
        self.powered = True
        self.inet4 = Inet4(self)
        self.inet6 = Inet6(self)
        self.ipsec = IpsecStack(self)
        self.lo0 = self.add_interface(LoopbackIf(self, "lo0", self._take_index()))
        self._configure_loopback()

    def _configure_loopback(self) -> None:
        # What rc's network_common does for lo0 at boot (rc.d/netif, ifconfig_lo0="inet 127.0.0.1").
        self.lo0.flags |= IFF_UP
        self.add_address(self.lo0, IPv4Interface("127.0.0.1/8"))
        self.add_address(self.lo0, IPv6Interface("::1/128"))

    def __repr__(self) -> str:
        return f"<Host {self.name}>"

    @property
    def keydb(self) -> "KeyDB":
        """The key engine (SAD and SPD) of this host: what setkey talks to."""
        return self.ipsec.keydb

    @property
    def espstat(self) -> "EspStat":
        return self.ipsec.espstat

    @property
    def ipsec_outer(self) -> "OuterHeaderConfig":
        """The outer-header knobs (TTL, DF, ECN, IP ID) ESP uses on this host."""
        return self.ipsec.outer

    def allocate_pid(self) -> int:
        """A process id for a program (ping uses it as its ICMP identifier)."""
        self._next_pid += 1
        return self._next_pid

    # -- interfaces ---------------------------------------------------------

    def _take_index(self) -> int:
        index = self._next_index
        self._next_index += 1
        return index

    def add_interface(self, ifp: Ifnet) -> Ifnet:
        if ifp.name in self.interfaces:
            raise HostError("EEXIST", f"interface {ifp.name} already exists")
        self.interfaces[ifp.name] = ifp
        for listener in self.interface_listeners:
            listener(ifp)
        return ifp

    def link_state_changed(self, ifp: Ifnet) -> None:
        for listener in list(self.link_state_listeners):
            listener(ifp)

    def new_index(self) -> int:
        """The next ifindex, for interface types created elsewhere (cloned interfaces)."""
        return self._take_index()

    def create_ether(self, name: str) -> EtherIf:
        ifp = EtherIf(self, name, self._take_index())
        self.add_interface(ifp)
        return ifp

    def remove_interface(self, ifp: Ifnet) -> None:
        for addr in list(ifp.addrs4) + list(ifp.addrs6):
            self.delete_address(ifp, addr.interface)
        for fib in self.fibs:
            fib.delete_where(lambda r: True, via=ifp)
        del self.interfaces[ifp.name]

    def interface(self, name: str) -> Ifnet:
        try:
            return self.interfaces[name]
        except KeyError:
            raise HostError("ENXIO", f"interface {name} does not exist") from None

    def _address_added(self, ifp: Ifnet, entry: InAddr | In6Addr) -> None:
        """Enter a new address in the local address maps, then raise its ifaddr event.

        An IPv4 address may sit on several interfaces; it maps to the first in
        attach order, the interface ``ifa_ifwithaddr`` (sys/net/if.c) finds.
        Interfaces are attached in ifindex order, so that order is the index's.
        """
        address = entry.address
        packed = address.packed
        holders = self._holders.setdefault(packed, [])
        holders.append(ifp)
        holders.sort(key=_attach_order)
        if isinstance(entry, InAddr):
            self.local4[packed] = holders[0]
            broadcast = entry.broadcast
            if broadcast is not None:
                self._broadcast_refs[broadcast.packed] += 1
                self.broadcast4.add(broadcast.packed)
        else:
            self.local6[packed] = holders[0]
        for listener in self.address_listeners:
            listener(address)

    def _address_deleted(self, ifp: Ifnet, entry: InAddr | In6Addr) -> None:
        """Take a deleted address out of the local address maps, then raise its ifaddr event."""
        address = entry.address
        packed = address.packed
        local = self.local4 if address.version == 4 else self.local6
        holders = self._holders[packed]
        holders.remove(ifp)
        if holders:
            local[packed] = holders[0]
        else:
            del self._holders[packed]
            del local[packed]
        if isinstance(entry, InAddr):
            broadcast = entry.broadcast
            if broadcast is not None:
                refs = self._broadcast_refs
                refs[broadcast.packed] -= 1
                if not refs[broadcast.packed]:
                    del refs[broadcast.packed]
                    if broadcast.packed != _ALL_ONES:
                        self.broadcast4.discard(broadcast.packed)
        for listener in self.address_listeners:
            listener(address)

    def source_address(self, dst: IPv4Address | IPv6Address, fib: int = 0) -> IPv4Address | IPv6Address | None:
        """The address a packet to ``dst`` leaves from (in_pcbladdr / in6_selectsrc), or None."""
        route = self.fibs[fib].lookup(dst.packed)
        if route is None:
            return None
        return route.source or route.ifp.first_address(IPV4 if dst.version == 4 else IPV6)

    def is_local(self, address: IPv4Address | IPv6Address) -> bool:
        return address.packed in (self.local4 if address.version == 4 else self.local6)

    # -- addresses and their routes (in_control / in6_control) ---------------

    def add_address(self, ifp: Ifnet, interface: IPv4Interface | IPv6Interface,
                    dest: IPv4Address | IPv6Address | None = None) -> None:
        """Add an address as ``ifconfig IF inet A/len [dest]`` does, with its connected routes.

        Like FreeBSD, the first address brings the interface up, a point-to-point
        address installs a host route to ``dest`` and a local address gets a
        ``UHS`` host route through lo0.

        Another interface may already hold the address. IPv4 allows it (the
        handbook's gif/ipsec tunnel reuses the LAN address as its inner local
        address): ``in_aifaddr_ioctl`` only looks for the address on this
        interface, and the lo0 host route stays with the first holder
        (``in_localip_more``). IPv6 refuses it with EEXIST: ``in6_notify_ifa``
        returns the EEXIST of ``ifa_add_loopback_route`` for the lo0 route the
        other holder already installed, and ``in6_update_ifa`` unlinks the address.
        """
        family = interface.version
        addrs: list[Any] = ifp.addrs4 if family == 4 else ifp.addrs6  # InAddr or In6Addr: one family
        existing = next((a for a in addrs if a.address == interface.ip), None)
        if existing is not None:  # FreeBSD replaces the netmask/dest of an existing address
            self.delete_address(ifp, existing.interface)
        if family == 6 and interface.ip.packed in self.local6:
            raise HostError("EEXIST", "File exists")
        entry = InAddr(interface, dest) if family == 4 else In6Addr(interface, dest)  # type: ignore[arg-type]
        addrs.append(entry)
        fib = self.fibs[ifp.fib]
        if ifp is not self.lo0:
            if dest is not None:
                connected = ip_network(dest)
                self._add_route_quietly(fib, Route(connected, ifp, None, RTF_UP | RTF_HOST, interface.ip))
            elif interface.network.prefixlen < interface.max_prefixlen:
                self._add_route_quietly(fib, Route(interface.network, ifp, None, RTF_UP, interface.ip))
            self._add_route_quietly(
                fib, Route(ip_network(interface.ip), self.lo0, None, RTF_UP | RTF_HOST | RTF_STATIC,
                           interface.ip, link=ifp.index))
        else:
            self._add_route_quietly(fib, Route(ip_network(interface.ip), self.lo0, None,
                                               RTF_UP | RTF_HOST | (RTF_STATIC if family == 6 else 0),
                                               interface.ip))
        if not ifp.is_up:
            ifp.flags |= 1  # IFF_UP: in_ifinit/in6_ifinit bring the interface up
        if family == 6:
            ifp.nd6_flags &= ~ND6_IFF_IFDISABLED  # in6_control: an added address clears IFDISABLED
        self._address_added(ifp, entry)

    @staticmethod
    def _add_route_quietly(fib: Fib, route: Route) -> None:
        try:
            fib.add(route)
        except RouteError:
            pass  # the prefix already has a route (a second address in the same subnet)

    def delete_address(self, ifp: Ifnet, interface: IPv4Interface | IPv6Interface) -> None:
        family = interface.version
        addrs: list[Any] = ifp.addrs4 if family == 4 else ifp.addrs6
        entry = next((a for a in addrs if a.address == interface.ip), None)
        if entry is None:
            raise HostError("EADDRNOTAVAIL", "Can't assign requested address")
        addrs.remove(entry)
        address = entry.address
        # The lo0 host route passes to another interface holding the same address
        # (in_scrubprefix: ifa_switch_loopback_route), else it goes.
        heir = None if ifp is self.lo0 else next(
            (other for other in self._holders[address.packed] if other is not ifp and other is not self.lo0), None)
        host_net = ip_network(address)
        for fib in self.fibs:
            # Connected routes belong to this interface's address only.
            fib.delete_where(lambda r: r.source == address and not r.flags & RTF_STATIC, via=ifp)
            loopback = fib.find(host_net)
            if loopback is not None and loopback.ifp is self.lo0:
                if heir is None:
                    fib.delete(host_net)
                else:
                    loopback.link = heir.index
        self._address_deleted(ifp, entry)

    # -- power ----------------------------------------------------------------

    def power_off(self) -> None:
        """The host stops (timeline ``state: down``): all its kernel state is gone.

        Cloned interfaces (ipsecN) are destroyed, every address and route removed (route
        listeners hear each deletion), the physical interfaces are left down, and the
        sysctls, the IP stacks (sockets, reassembly queues) and the key engine (SAD, SPD)
        are new ones, as after a reboot. The Host object and its physical interfaces stay:
        links, captures and monitors hold them. Counters (ipstat, espstat, if_data, drops)
        are the run's and keep counting; the SAs that carried traffic stay listed for the
        run's report and Wireshark's key file. Programs (daemons) are the caller's to stop.
        """
        self.powered = False
        for stack in (self.inet4, self.inet6):  # datagrams waiting for their fragments are lost
            for fragments in stack.reassembler.flush():
                for fragment in fragments:
                    self.drop(DropReason.HOST_DOWN, fragment)
        for ifp in [i for i in self.interfaces.values() if i.kind not in ("ether", "loop")]:
            destroy = getattr(ifp, "destroy", None)
            if destroy is not None:
                destroy()
            else:
                self.remove_interface(ifp)
        for ifp in self.interfaces.values():
            for addr in list(ifp.addrs4) + list(ifp.addrs6):
                self.delete_address(ifp, addr.interface)
        for fib in self.fibs:
            fib.delete_where(lambda r: True)
        del self.fibs[1:]
        for ifp in self.interfaces.values():
            ifp.set_up(False)
            ifp.fib = 0
            ifp.description = ""
            ifp.multicast4.clear()
            ifp.nd6_flags = ND6_IFF_PERFORMNUD | ND6_IFF_AUTO_LINKLOCAL | (0 if ifp is self.lo0 else ND6_IFF_IFDISABLED)
        self._next_index = max(ifp.index for ifp in self.interfaces.values()) + 1
        self.broadcast4 = {_ALL_ONES}
        old = self.ipsec
        old._timer.cancel()  # the old key engine's clock stops: its SAs are gone with it
        self.sysctl = Sysctl()
        self.sysctl.set("kern.hostname", self.name)
        if self.ipsec_softcs is not None:  # if_ipsec's tables go with the kernel that made them
            if self.ipsec_softcs.srcaddr in self.address_listeners:
                self.address_listeners.remove(self.ipsec_softcs.srcaddr)
            self.ipsec_softcs = None
        self.inet4 = Inet4(self)
        self.inet6 = Inet6(self)
        self.ipsec = IpsecStack(self)
        self.ipsec.espstat = old.espstat
        self.ipsec.used_sas = old.used_sas
        self.ipsec.nosa.records = old.nosa.records

    def boot(self) -> None:
        """The host runs again after :meth:`power_off`: lo0 is configured, nothing else yet
        (the caller runs the host's configuration scripts, as rc does)."""
        self.powered = True
        self._configure_loopback()

    # -- packets --------------------------------------------------------------

    def ip_input(self, ifp: Ifnet, pkt: bytes) -> None:
        """Entry from an interface: dispatch on the IP version nibble."""
        version = pkt[0] >> 4 if pkt else 0
        if version == 4:
            self.inet4.input(ifp, pkt)
        elif version == 6:
            self.inet6.input(ifp, pkt)
        else:
            self.drop(DropReason.UNKNOWN_VERSION, pkt, ifp)

    def drop(self, reason: DropReason, pkt: bytes, ifp: Ifnet | None = None) -> None:
        """Every dropped packet passes here with its reason; the run counts it under the
        reason's name (its counters are bumped at the drop site, which knows the family)."""
        name = reason._value_
        self.drops[name] += 1
        if self.observer is not None:
            self.observer("drop", self, ifp.name if ifp else None, pkt, name, None)

    def note(self, event: str, ifp: Ifnet | None, pkt: bytes, related: Any = None) -> None:
        """Tell the observer (if any) about ``pkt``; callers test ``observer is not None`` first
        on the per-packet paths, so a run without one pays one attribute test."""
        if self.observer is not None:
            self.observer(event, self, ifp.name if ifp else None, pkt, None, related)

    def send(self, dst: IPv4Address | IPv6Address, proto: int, payload: bytes | Callable, *,
             src: IPv4Address | IPv6Address | None = None, ttl: int | None = None, tos: int = 0,
             df: bool = False, fib: int = 0) -> IPv4Address | IPv6Address:
        """Originate one datagram (a socket's sendto). Returns the source address used.

        ``payload`` may be a function of (src, dst) for protocols whose checksum
        covers a pseudo-header. Raises :class:`SendError` with the errno the
        sender sees (EHOSTUNREACH, ENETDOWN, EMSGSIZE, ENOBUFS).
        """
        if not self.powered:  # a powered-off host runs no program; the sender counts a failed send
            raise SendError("ENETDOWN")
        if isinstance(dst, IPv4Address):
            return self.inet4.output(dst, proto, payload, src=src, ttl=ttl, tos=tos, df=df, fib=fib)
        return self.inet6.output(dst, proto, payload, src=src, ttl=ttl, tos=tos, df=df, fib=fib)
