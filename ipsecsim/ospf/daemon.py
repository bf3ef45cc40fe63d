"""ospfd: OSPFv2 (RFC 2328) on one host, over point-to-point and if_ipsec interfaces.

It is a program on the simulated host, as FRR's ospfd is on FreeBSD: it sends and receives
real OSPF packets through the kernel (IP protocol 89, to AllSPFRouters 224.0.0.5 out of each
interface), hears interface state changes from the routing socket (RTM_IFINFO), and installs
the routes its shortest-path tree gives through the routing socket, tagged RTF_PROTO1 as zebra
tags its routes (so `netstat -rn` shows them with the `1` flag). Timers run on the host's
clock; nothing here knows about simpy.

What is modelled, and what is not, is in docs/ospf.md: one area, point-to-point interfaces
(if_ipsec and Ethernet with `ip ospf network point-to-point`), passive interfaces as stubs,
router-LSAs only, null authentication.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TYPE_CHECKING, Any

from ..kernel.drops import DropReason
from ..kernel.ifnet import IFF_POINTOPOINT, Ifnet
from ..kernel.route import RTF_GATEWAY, RTF_PROTO1
from ..kernel.rtsock import RTM_ADD, RTM_DELETE, RouteMessage, route_request
from ..kernel.sockets import SendError
from ..packet import MalformedPacket
from ..packet.ospf import (
    ALL_SPF_ROUTERS, DD_I, DD_M, DD_MS, INITIAL_SEQ, LINK_PTP, LINK_STUB, LS_REFRESH_TIME, MAX_AGE,
    MAX_SEQ, OPTION_E, OSPF_PROTO, ROUTER_LSA, DatabaseDescription, Hello, LinkStateAck,
    LinkStateRequest, LinkStateUpdate, Lsa, LsaHeader, OspfPacket, RouterLink, compare_lsa,
    parse_ospf, router_lsa,
)
from .interface import OspfInterface, output_cost
from .neighbor import Neighbor, NeighborState
from .spf import SpfResult, shortest_path_tree
from .views import LsaView, NeighborView, OspfInterfaceView, OspfRouteView

if TYPE_CHECKING:
    from ..kernel.host import Host
    from .config import OspfConfig

__all__ = ["Ospfd", "OSPF_TOS"]

OSPF_TOS = 0xC0  # IPTOS_PREC_INTERNETCONTROL, as ospfd sets on its socket
_NULL = IPv4Address(0)
_HEADERS_ROOM = 20 + 24 + 8  # IP header, OSPF header, DD fixed part


class Ospfd:
    """One running ospfd. ``start()`` brings it up; ``stop()`` ends it (its routes go)."""

    def __init__(self, host: "Host", config: "OspfConfig"):
        self.host = host
        self.config = config
        self.clock = host.clock
        self.rng = host.rng
        self.router_id = config.router_id or _highest_address(host)
        self.ifaces: dict[str, OspfInterface] = {}
        self.lsdb: dict[tuple, tuple[Lsa, float]] = {}  # key -> (LSA as received, when installed)
        self.installed: dict[IPv4Network, tuple[IPv4Address, str, int]] = {}  # prefix -> (gw, ifname, cost)
        self.route_times: dict[IPv4Network, float] = {}  # prefix -> when its route was installed
        self.spf: SpfResult | None = None
        self.log: list[tuple[float, str]] = []
        # What FRR's `log-adjacency-changes` reports: a neighbour reaching Full, leaving it, or gone.
        self.adjacency_changes: list[dict] = []
        self.running = False
        self._seq = INITIAL_SEQ - 1
        self._originated_at = -1e9
        self._origination_timer: Any = None
        self._refresh_timer: Any = None
        self._spf_timer: Any = None
        self._last_spf = -1e9
        self._spf_hold_multiplier = 1
        self.spf_runs = 0

    # -- life ----------------------------------------------------------------------------

    def start(self) -> None:
        host = self.host
        self.running = True
        self.started_at = self.clock.now
        host.daemons["ospfd"] = self
        host.inet4.protocols[OSPF_PROTO] = self._input
        host.link_state_listeners.append(self._link_state)
        host.address_listeners.append(self._address_changed)
        for ifp in list(host.interfaces.values()):
            self._consider(ifp)
        self._originate()

    def unsupported_interfaces(self) -> list[str]:
        """Why OSPF cannot run as configured on an interface of this host (broadcast networks,
        with their designated-router election, are not modelled)."""
        problems = []
        for ifp in self.host.interfaces.values():
            if ifp.name == "lo0" or not ifp.addrs4 or not self._unsupported(ifp):
                continue
            if self.config.area_for(ifp.name, [a.interface for a in ifp.addrs4]) is None:
                continue
            problems.append(
                f"ospfd on {self.host.name}: {ifp.name} would be an OSPF broadcast network (FRR's default "
                f"on Ethernet), and only point-to-point networks are modelled: add "
                f"'ip ospf network point-to-point' under 'interface {ifp.name}', or make it passive")
        return problems

    def _unsupported(self, ifp: Ifnet) -> bool:
        config = self.config
        return not (ifp.flags & IFF_POINTOPOINT or config.is_passive(ifp.name)
                    or config.interface(ifp.name).network == "point-to-point")

    def _address_changed(self, address) -> None:
        """An address added later (a timeline's ifconfig) may bring an interface into OSPF."""
        if not self.running or address.version != 4:
            return
        known = len(self.ifaces)
        for ifp in list(self.host.interfaces.values()):
            self._consider(ifp)
        if len(self.ifaces) != known:
            self._originate()

    def stop(self) -> None:
        """The daemon exits: timers end, its routes leave the kernel (zebra removes them)."""
        if not self.running:
            return
        self.running = False
        host = self.host
        for oi in self.ifaces.values():
            self._leave(oi)
        for timer in (self._origination_timer, self._refresh_timer, self._spf_timer):
            if timer is not None:
                timer.cancel()
        for prefix in list(self.installed):
            self._uninstall(prefix)
        if host.inet4.protocols.get(OSPF_PROTO) == self._input:
            del host.inet4.protocols[OSPF_PROTO]
        if self._link_state in host.link_state_listeners:
            host.link_state_listeners.remove(self._link_state)
        if self._address_changed in host.address_listeners:
            host.address_listeners.remove(self._address_changed)
        if host.daemons.get("ospfd") is self:
            del host.daemons["ospfd"]

    def _note(self, text: str) -> None:
        self.log.append((self.clock.now, text))

    # -- interfaces ------------------------------------------------------------------------

    def _consider(self, ifp: Ifnet) -> None:
        """Run OSPF on ``ifp`` if a `network` statement (or `ip ospf area`) covers it."""
        if not ifp.addrs4 or ifp.name == "lo0" or ifp.name in self.ifaces:
            return
        config = self.config
        area = config.area_for(ifp.name, [a.interface for a in ifp.addrs4])
        if area is None:
            return
        if self._unsupported(ifp):
            self._note(f"interface {ifp.name}: broadcast networks are not modelled; OSPF does not run on it")
            return
        entry = ifp.addrs4[0]
        settings = config.interface(ifp.name)
        cost = settings.cost if settings.cost is not None else output_cost(
            config.reference_bandwidth, getattr(ifp, "baudrate", 0.0))
        oi = OspfInterface(
            ifp=ifp, address=entry.interface, peer=entry.dest, area=area, cost=cost,
            hello_interval=settings.hello_interval, dead_interval=settings.dead,
            retransmit_interval=settings.retransmit_interval, transmit_delay=settings.transmit_delay,
            passive=config.is_passive(ifp.name), mtu_ignore=settings.mtu_ignore)
        self.ifaces[ifp.name] = oi
        if oi.up:
            self._join(oi)

    def _join(self, oi: OspfInterface) -> None:
        """InterfaceUp: join AllSPFRouters and start saying Hello (not on a passive interface)."""
        if oi.passive:
            return
        oi.ifp.multicast4.add(ALL_SPF_ROUTERS.packed)
        self._send_hello(oi)

    def _leave(self, oi: OspfInterface) -> None:
        """InterfaceDown: the neighbour goes at once (KillNbr), Hellos stop."""
        if oi.hello_timer is not None:
            oi.hello_timer.cancel()
            oi.hello_timer = None
        oi.ifp.multicast4.discard(ALL_SPF_ROUTERS.packed)
        if oi.neighbor is not None:
            self._neighbor_down(oi.neighbor, "InterfaceDown")
            oi.neighbor = None

    def _link_state(self, ifp: Ifnet) -> None:
        if not self.running:
            return
        oi = self.ifaces.get(ifp.name)
        if oi is None:
            self._consider(ifp)
            if ifp.name in self.ifaces:
                self._originate()
            return
        if oi.ifp is not ifp:  # destroyed and created again: start afresh
            self._leave(oi)
            del self.ifaces[ifp.name]
            self._consider(ifp)
        elif ifp.operational:
            self._note(f"interface {ifp.name} up")
            self._join(oi)
        else:
            self._note(f"interface {ifp.name} down")
            self._leave(oi)
        self._originate()

    # -- sending ----------------------------------------------------------------------------

    def _send(self, oi: OspfInterface, body) -> None:
        """Every packet on a point-to-point interface goes to AllSPFRouters (as FRR sends them)."""
        packet = OspfPacket(self.router_id, oi.area, body).to_bytes()
        try:
            self.host.inet4.output_on(oi.ifp, ALL_SPF_ROUTERS, OSPF_PROTO, packet, ttl=1, tos=OSPF_TOS)
        except SendError:
            pass  # the kernel recorded the drop; OSPF's own timers retry

    def _send_hello(self, oi: OspfInterface) -> None:
        if not self.running or not oi.up:
            return
        neighbors = (oi.neighbor.router_id,) if oi.neighbor is not None and oi.neighbor.state >= NeighborState.INIT else ()
        self._send(oi, Hello(
            network_mask=oi.address.netmask,
            hello_interval=oi.hello_interval, options=OPTION_E, priority=1,
            dead_interval=oi.dead_interval, designated_router=_NULL, backup_router=_NULL,
            neighbors=neighbors))
        oi.hello_due = self.clock.now + oi.hello_interval
        oi.hello_timer = self.clock.call_later(oi.hello_interval, self._send_hello, oi)

    # -- receiving --------------------------------------------------------------------------

    def _input(self, ifp: Ifnet, pkt: bytes, hlen: int) -> None:
        host = self.host
        oi = self.ifaces.get(ifp.name)
        if oi is None or oi.passive or not oi.up:
            host.drop(DropReason.OSPF_NOT_ENABLED, pkt, ifp)
            return
        try:
            packet = parse_ospf(pkt[hlen:])
        except MalformedPacket as error:
            host.drop(DropReason(error.reason), pkt, ifp)
            return
        if packet.router_id == self.router_id:
            host.drop(DropReason.OSPF_OWN_PACKET, pkt, ifp)
            return
        if packet.area_id != oi.area:
            host.drop(DropReason.OSPF_AREA_MISMATCH, pkt, ifp)
            return
        source = IPv4Address(pkt[12:16])
        body = packet.body
        if isinstance(body, Hello):
            self._hello(oi, packet.router_id, source, body, pkt)
            return
        nbr = oi.neighbor
        if nbr is None or nbr.router_id != packet.router_id:
            host.drop(DropReason.OSPF_UNKNOWN_NEIGHBOR, pkt, ifp)
            return
        if isinstance(body, DatabaseDescription):
            self._database_description(nbr, body, pkt)
        elif isinstance(body, LinkStateRequest):
            self._link_state_request(nbr, body)
        elif isinstance(body, LinkStateUpdate):
            self._link_state_update(nbr, body)
        elif isinstance(body, LinkStateAck):
            self._link_state_ack(nbr, body)

    def _hello(self, oi: OspfInterface, router_id: IPv4Address, source: IPv4Address, hello: Hello,
               pkt: bytes) -> None:
        # The mask is not compared on point-to-point networks (RFC 2328 10.5).
        if hello.hello_interval != oi.hello_interval or hello.dead_interval != oi.dead_interval:
            self.host.drop(DropReason.OSPF_HELLO_MISMATCH, pkt, oi.ifp)
            return
        nbr = oi.neighbor
        if nbr is not None and nbr.router_id != router_id:  # a different router on the link now
            self._neighbor_down(nbr, "new router on the link")
            nbr = None
        if nbr is None:
            nbr = oi.neighbor = Neighbor(oi, router_id, source, hello.priority)
        nbr.address = source
        nbr.heard_at = self.clock.now
        if nbr.inactivity is not None:
            nbr.inactivity.cancel()
        nbr.inactivity = self.clock.call_later(oi.dead_interval, self._inactivity, nbr)
        if nbr.state == NeighborState.DOWN:
            self._set_state(nbr, NeighborState.INIT, "HelloReceived")
        if self.router_id in hello.neighbors:
            if nbr.state == NeighborState.INIT:
                # 2-WayReceived on a point-to-point network: an adjacency is always wanted.
                self._set_state(nbr, NeighborState.TWO_WAY, "2-WayReceived")
                self._start_exchange(nbr)
        elif nbr.state >= NeighborState.TWO_WAY:
            self._neighbor_down(nbr, "1-WayReceived", keep=NeighborState.INIT)

    def _inactivity(self, nbr: Neighbor) -> None:
        nbr.inactivity = None
        if nbr.interface.neighbor is nbr:
            self._neighbor_down(nbr, "InactivityTimer")
            nbr.interface.neighbor = None

    def _set_state(self, nbr: Neighbor, state: NeighborState, event: str) -> None:
        old = nbr.state
        nbr.state = state
        self._note(f"neighbor {nbr.router_id} on {nbr.interface.name}: {old.label} -> {state.label} ({event})")
        if state in (NeighborState.FULL, NeighborState.DOWN) or old == NeighborState.FULL:
            self.adjacency_changes.append({
                "time": self.clock.now, "host": self.host.name, "neighbor": str(nbr.router_id),
                "interface": nbr.interface.name, "from": old.label, "to": state.label, "event": event})
        if state == NeighborState.FULL:
            nbr.full_since = self.clock.now
        if (old == NeighborState.FULL) != (state == NeighborState.FULL):
            self._originate()

    def _neighbor_down(self, nbr: Neighbor, event: str, keep: NeighborState = NeighborState.DOWN) -> None:
        nbr.reset_exchange()
        if keep == NeighborState.DOWN:
            nbr.cancel_timers()
        self._set_state(nbr, keep, event)

    # -- database exchange (RFC 2328 10.6, 10.8) -----------------------------------------

    def _start_exchange(self, nbr: Neighbor) -> None:
        nbr.reset_exchange()
        self._set_state(nbr, NeighborState.EXSTART, "AdjOK?")
        nbr.master = True  # until the negotiation says otherwise
        nbr.dd_sequence = self.rng.randrange(1, 1 << 31)
        self._send_dd(nbr, DD_I | DD_M | DD_MS, ())

    def _send_dd(self, nbr: Neighbor, flags: int, headers) -> None:
        oi = nbr.interface
        body = DatabaseDescription(mtu=oi.ifp.mtu, options=OPTION_E, flags=flags,
                                   dd_sequence=nbr.dd_sequence, headers=tuple(headers))
        nbr.last_dd_sent = OspfPacket(self.router_id, oi.area, body).to_bytes()
        self._send(oi, body)
        if nbr.dd_timer is not None:
            nbr.dd_timer.cancel()
            nbr.dd_timer = None
        if nbr.master:  # the master retransmits until the slave answers
            nbr.dd_timer = self.clock.call_later(oi.retransmit_interval, self._resend_dd, nbr)

    def _resend_dd(self, nbr: Neighbor) -> None:
        nbr.dd_timer = None
        if nbr.state in (NeighborState.EXSTART, NeighborState.EXCHANGE) and nbr.last_dd_sent is not None:
            self._resend_last_dd(nbr)
            nbr.dd_timer = self.clock.call_later(nbr.interface.retransmit_interval, self._resend_dd, nbr)

    def _resend_last_dd(self, nbr: Neighbor) -> None:
        oi = nbr.interface
        assert nbr.last_dd_sent is not None
        try:
            self.host.inet4.output_on(oi.ifp, ALL_SPF_ROUTERS, OSPF_PROTO, nbr.last_dd_sent, ttl=1, tos=OSPF_TOS)
        except SendError:
            pass

    def _next_headers(self, nbr: Neighbor) -> list[LsaHeader]:
        room = max(1, (nbr.interface.ifp.mtu - _HEADERS_ROOM) // 20)
        chunk, nbr.summary[:] = nbr.summary[:room], nbr.summary[room:]
        return chunk

    def _database_description(self, nbr: Neighbor, dd: DatabaseDescription, pkt: bytes) -> None:
        oi = nbr.interface
        if dd.mtu > oi.ifp.mtu and not oi.mtu_ignore:
            self.host.drop(DropReason.OSPF_MTU_MISMATCH, pkt, oi.ifp)
            return
        state = nbr.state
        if state < NeighborState.EXSTART:
            return
        signature = (dd.flags, dd.options, dd.dd_sequence)
        if state == NeighborState.EXSTART:
            empty_init = dd.flags & (DD_I | DD_M | DD_MS) == DD_I | DD_M | DD_MS and not dd.headers
            if empty_init and int(nbr.router_id) > int(self.router_id):
                nbr.master = False
                nbr.dd_sequence = dd.dd_sequence
            elif not dd.flags & (DD_I | DD_MS) and dd.dd_sequence == nbr.dd_sequence and \
                    int(nbr.router_id) < int(self.router_id):
                nbr.master = True
            else:
                return
            self._negotiation_done(nbr)
            if nbr.master:
                self._take_headers(nbr, dd, signature)
                self._master_next(nbr, dd)
            else:
                nbr.last_dd_received = signature
                self._slave_answer(nbr, dd)
            return
        if state == NeighborState.EXCHANGE:
            if signature == nbr.last_dd_received:  # a duplicate
                if not nbr.master:
                    self._resend_last_dd(nbr)
                return
            if dd.flags & DD_I or bool(dd.flags & DD_MS) == nbr.master:
                self._sequence_mismatch(nbr)
                return
            expected = nbr.dd_sequence if nbr.master else nbr.dd_sequence + 1
            if dd.dd_sequence != expected:
                self._sequence_mismatch(nbr)
                return
            if nbr.master:
                self._take_headers(nbr, dd, signature)
                self._master_next(nbr, dd)
            else:
                nbr.dd_sequence = dd.dd_sequence
                self._take_headers(nbr, dd, signature)
                self._slave_answer(nbr, dd)
            return
        # Loading or Full: a duplicate from the master is answered by the slave; else mismatch.
        if signature == nbr.last_dd_received:
            if not nbr.master:
                self._resend_last_dd(nbr)
            return
        self._sequence_mismatch(nbr)

    def _negotiation_done(self, nbr: Neighbor) -> None:
        self._set_state(nbr, NeighborState.EXCHANGE, "NegotiationDone")
        nbr.summary = [self._aged(lsa).header for lsa, _ in self.lsdb.values()]
        nbr.summary.sort(key=lambda h: (h.type, int(h.link_state_id), int(h.advertising_router)))

    def _take_headers(self, nbr: Neighbor, dd: DatabaseDescription, signature) -> None:
        nbr.last_dd_received = signature
        for header in dd.headers:
            ours = self.lsdb.get(header.key)
            if header.type != ROUTER_LSA:
                continue  # only router-LSAs are understood here
            if ours is None or compare_lsa(header, self._aged(ours[0]).header) > 0:
                nbr.requests[header.key] = header

    def _master_next(self, nbr: Neighbor, dd: DatabaseDescription) -> None:
        if nbr.sent_all and not dd.flags & DD_M:
            self._exchange_done(nbr)
            return
        nbr.dd_sequence += 1
        headers = self._next_headers(nbr)
        nbr.sent_all = not nbr.summary
        self._send_dd(nbr, DD_MS | (0 if nbr.sent_all else DD_M), headers)

    def _slave_answer(self, nbr: Neighbor, dd: DatabaseDescription) -> None:
        headers = self._next_headers(nbr)
        nbr.sent_all = not nbr.summary
        self._send_dd(nbr, 0 if nbr.sent_all else DD_M, headers)
        if nbr.sent_all and not dd.flags & DD_M:
            self._exchange_done(nbr)

    def _sequence_mismatch(self, nbr: Neighbor) -> None:
        self._note(f"neighbor {nbr.router_id} on {nbr.interface.name}: SeqNumberMismatch")
        self._start_exchange(nbr)

    def _exchange_done(self, nbr: Neighbor) -> None:
        if nbr.dd_timer is not None and nbr.master:
            nbr.dd_timer.cancel()
            nbr.dd_timer = None
        if not nbr.requests:
            self._set_state(nbr, NeighborState.FULL, "ExchangeDone")
            return
        self._set_state(nbr, NeighborState.LOADING, "ExchangeDone")
        self._send_requests(nbr)

    def _send_requests(self, nbr: Neighbor) -> None:
        nbr.request_timer = None
        if nbr.state not in (NeighborState.EXCHANGE, NeighborState.LOADING) or not nbr.requests:
            return
        room = max(1, (nbr.interface.ifp.mtu - 44) // 12)
        wanted = tuple(list(nbr.requests)[:room])
        self._send(nbr.interface, LinkStateRequest(wanted))
        nbr.request_timer = self.clock.call_later(nbr.interface.retransmit_interval, self._send_requests, nbr)

    def _link_state_request(self, nbr: Neighbor, request: LinkStateRequest) -> None:
        if nbr.state < NeighborState.EXCHANGE:
            return
        found = []
        for key in request.requests:
            entry = self.lsdb.get(key)
            if entry is None:
                self._note(f"neighbor {nbr.router_id}: BadLSReq")
                self._start_exchange(nbr)
                return
            found.append(self._aged(entry[0]))
        self._send_update(nbr.interface, found)

    # -- flooding (RFC 2328 13) ------------------------------------------------------------

    def _aged(self, lsa: Lsa, installed: float | None = None) -> Lsa:
        """``lsa`` with its age now (the database keeps the age it arrived with)."""
        if installed is None:
            entry = self.lsdb.get(lsa.header.key)
            installed = entry[1] if entry is not None and entry[0] is lsa else self.clock.now
        age = min(MAX_AGE, lsa.header.age + int(self.clock.now - installed))
        return lsa if age == lsa.header.age else lsa.with_age(age)

    def _send_update(self, oi: OspfInterface, lsas) -> None:
        """An LS Update, each LSA aged by the interface's transmit delay (RFC 13.3)."""
        if not lsas:
            return
        delayed = tuple(lsa.with_age(min(MAX_AGE, lsa.header.age + oi.transmit_delay)) for lsa in lsas)
        nbytes = 0
        batch: list[Lsa] = []
        limit = oi.ifp.mtu - 20 - 24 - 4
        for lsa in delayed:
            size = lsa.header.length
            if batch and nbytes + size > limit:
                self._send(oi, LinkStateUpdate(tuple(batch)))
                batch, nbytes = [], 0
            batch.append(lsa)
            nbytes += size
        self._send(oi, LinkStateUpdate(tuple(batch)))

    def _link_state_update(self, nbr: Neighbor, update: LinkStateUpdate) -> None:
        if nbr.state < NeighborState.EXCHANGE:
            return
        acks: list[LsaHeader] = []
        for lsa in update.lsas:
            header = lsa.header
            if header.type != ROUTER_LSA:
                acks.append(header)  # acknowledged, not understood: only router-LSAs are used
                continue
            entry = self.lsdb.get(header.key)
            ours = self._aged(entry[0], entry[1]) if entry is not None else None
            newer = ours is None or compare_lsa(header, ours.header) > 0
            if newer:
                if entry is not None and self.clock.now - entry[1] < self.config.lsa_min_arrival / 1000:
                    continue  # MinLSArrival: too soon after the last instance; no ack
                nbr.requests.pop(header.key, None)
                if header.advertising_router == self.router_id:
                    self._self_originated(lsa)
                    acks.append(header)
                    continue
                self._install(lsa)
                self._flood(lsa, came_from=nbr)
                acks.append(header)
            elif ours is None:
                continue
            elif compare_lsa(header, ours.header) == 0:
                if nbr.retransmit.pop(header.key, None) is None:
                    acks.append(header)  # a duplicate, not an implied ack: acknowledge it
            else:
                self._send_update(nbr.interface, [ours])  # ours is newer: send it back
        if acks:
            self._send(nbr.interface, LinkStateAck(tuple(acks)))
        if nbr.state == NeighborState.LOADING and not nbr.requests:
            if nbr.request_timer is not None:
                nbr.request_timer.cancel()
                nbr.request_timer = None
            self._set_state(nbr, NeighborState.FULL, "LoadingDone")

    def _link_state_ack(self, nbr: Neighbor, ack: LinkStateAck) -> None:
        if nbr.state < NeighborState.EXCHANGE:
            return
        for header in ack.headers:
            held = nbr.retransmit.get(header.key)
            if held is not None and compare_lsa(header, held.header) == 0:
                del nbr.retransmit[header.key]

    def _flood(self, lsa: Lsa, came_from: Neighbor | None) -> None:
        for oi in self.ifaces.values():
            nbr = oi.neighbor
            if nbr is None or nbr is came_from or nbr.state < NeighborState.EXCHANGE:
                continue
            nbr.retransmit[lsa.header.key] = lsa
            self._send_update(oi, [lsa])
            if nbr.retransmit_timer is None:
                nbr.retransmit_timer = self.clock.call_later(oi.retransmit_interval, self._retransmit, nbr)

    def _retransmit(self, nbr: Neighbor) -> None:
        nbr.retransmit_timer = None
        if nbr.state < NeighborState.EXCHANGE or not nbr.retransmit:
            return
        self._send_update(nbr.interface, [self._aged(lsa) for lsa in nbr.retransmit.values()])
        nbr.retransmit_timer = self.clock.call_later(nbr.interface.retransmit_interval, self._retransmit, nbr)

    def _install(self, lsa: Lsa) -> None:
        old = self.lsdb.get(lsa.header.key)
        self.lsdb[lsa.header.key] = (lsa, self.clock.now)
        for oi in self.ifaces.values():  # a newer instance replaces any awaiting an ack
            if oi.neighbor is not None and lsa.header.key in oi.neighbor.retransmit:
                oi.neighbor.retransmit[lsa.header.key] = lsa
        if old is None or old[0].body != lsa.body:
            self._schedule_spf()

    # -- origination (RFC 2328 12.4) --------------------------------------------------------

    def _self_originated(self, received: Lsa) -> None:
        """A newer instance of our own LSA (from before a restart): jump past its sequence
        number and originate again at once (RFC 13.4)."""
        self._seq = max(self._seq, received.header.seq)
        self._originated_at = -1e9
        self._originate()

    def _originate(self) -> None:
        """Build our router-LSA again; MinLSInterval (`timers throttle lsa all`) spaces instances."""
        if not self.running:
            return
        wait = self._originated_at + self.config.lsa_min_interval / 1000 - self.clock.now
        if wait > 0:
            if self._origination_timer is None:
                self._origination_timer = self.clock.call_later(wait, self._originate_now)
            return
        self._originate_now()

    def _originate_now(self) -> None:
        self._origination_timer = None
        if not self.running:
            return
        links = []
        for oi in sorted(self.ifaces.values(), key=lambda o: o.ifp.index):
            if not oi.up:
                continue
            nbr = oi.neighbor
            if nbr is not None and nbr.state == NeighborState.FULL:
                links.append(RouterLink(nbr.router_id, oi.address.ip, LINK_PTP, oi.cost))
            prefix = oi.stub_prefix
            links.append(RouterLink(prefix.network_address, prefix.netmask, LINK_STUB, oi.cost))
        self._seq = INITIAL_SEQ if self._seq >= MAX_SEQ else self._seq + 1
        lsa = router_lsa(age=0, options=OPTION_E, router_id=self.router_id, seq=self._seq, flags=0, links=links)
        self._originated_at = self.clock.now
        self._install(lsa)
        self._flood(lsa, came_from=None)
        if self._refresh_timer is not None:
            self._refresh_timer.cancel()
        self._refresh_timer = self.clock.call_later(LS_REFRESH_TIME, self._originate)

    # -- routes --------------------------------------------------------------------------------

    def _schedule_spf(self) -> None:
        """`timers throttle spf DELAY INITIAL-HOLD MAX-HOLD`: the first run after a quiet spell
        waits DELAY; runs closer together than the hold time wait for it, and the hold doubles
        up to MAX-HOLD while changes keep coming."""
        if self._spf_timer is not None or not self.running:
            return
        config = self.config
        elapsed = self.clock.now - self._last_spf
        hold = min(config.spf_initial_hold * self._spf_hold_multiplier, config.spf_max_hold) / 1000
        if elapsed < hold:
            self._spf_hold_multiplier += 1
            delay = max(config.spf_delay / 1000, hold - elapsed)
        else:
            self._spf_hold_multiplier = 1
            delay = config.spf_delay / 1000
        self._spf_timer = self.clock.call_later(delay, self._run_spf)

    def _run_spf(self) -> None:
        self._spf_timer = None
        if not self.running:
            return
        self._last_spf = self.clock.now
        self.spf_runs += 1
        routers = [lsa for (kind, _, _), (lsa, _) in self.lsdb.items() if kind == ROUTER_LSA]
        self.spf = result = shortest_path_tree(self.router_id, routers)
        own = {oi.stub_prefix for oi in self.ifaces.values() if oi.up}
        local = self.host.local4
        wanted: dict[IPv4Network, tuple[IPv4Address, str, int]] = {}
        for prefix, (cost, router) in sorted(result.prefixes.items(), key=lambda item: (int(item[0].network_address), item[0].prefixlen)):
            if router == self.router_id or prefix in own or (
                    prefix.prefixlen == 32 and prefix.network_address.packed in local):
                continue
            hop = self._next_hop(result.first_hops.get(router, ()))
            if hop is not None:
                wanted[prefix] = (hop[0], hop[1], cost)
        for prefix in [p for p in self.installed if self.installed[p][:2] != wanted.get(p, ())[:2]]:
            self._uninstall(prefix)
        for prefix, route in wanted.items():
            if prefix not in self.installed:
                self._install_route(prefix, route)
            else:
                self.installed[prefix] = route  # same next hop; the cost shown follows

    def _next_hop(self, first_hops) -> tuple[IPv4Address, str] | None:
        """The first of the equal-cost first hops with a Full neighbour (one next hop per route)."""
        for router in first_hops:
            candidates = [oi for oi in self.ifaces.values()
                          if oi.up and oi.neighbor is not None and oi.neighbor.router_id == router
                          and oi.neighbor.state == NeighborState.FULL]
            if candidates:
                oi = min(candidates, key=lambda o: (o.cost, o.ifp.index))
                return oi.neighbor.address, oi.name  # type: ignore[union-attr]
        return None

    def _install_route(self, prefix: IPv4Network, route: tuple[IPv4Address, str, int]) -> None:
        gateway, ifname, _ = route
        reply = route_request(self.host, RouteMessage(RTM_ADD, prefix, RTF_GATEWAY | RTF_PROTO1, gateway))
        if reply.errno is None:
            self.installed[prefix] = route
            self.route_times[prefix] = self.clock.now
        else:  # a route the administrator added wins, as a kernel route wins in zebra
            self._note(f"route {prefix} via {gateway} not installed: {reply.errno}")

    def _uninstall(self, prefix: IPv4Network) -> None:
        gateway, _, _ = self.installed.pop(prefix)
        self.route_times.pop(prefix, None)
        route_request(self.host, RouteMessage(RTM_DELETE, prefix, RTF_GATEWAY | RTF_PROTO1, gateway))

    # -- what vtysh shows ------------------------------------------------------------------

    def neighbors(self) -> list[NeighborView]:
        now = self.clock.now
        views = []
        for oi in self.ifaces.values():
            nbr = oi.neighbor
            if nbr is None:
                continue
            views.append(NeighborView(
                router_id=nbr.router_id, priority=nbr.priority, state=nbr.state.label, role="-",
                up_time=now - nbr.full_since if nbr.state == NeighborState.FULL else 0.0,
                dead_time=max(0.0, nbr.heard_at + oi.dead_interval - now), address=nbr.address,
                interface=oi.name, local_address=oi.address.ip, retransmit_count=len(nbr.retransmit),
                request_count=len(nbr.requests), summary_count=len(nbr.summary)))
        return views

    def ospf_routes(self) -> list[OspfRouteView]:
        if self.spf is None:
            return []
        views = []
        own = {oi.stub_prefix: oi for oi in self.ifaces.values() if oi.up}
        for prefix, (cost, router) in sorted(self.spf.prefixes.items(),
                                              key=lambda item: (int(item[0].network_address), item[0].prefixlen)):
            if prefix in own:
                oi = own[prefix]
                views.append(OspfRouteView(prefix, oi.cost, oi.area, ((None, oi.name),), True))
            elif prefix in self.installed:
                gateway, ifname, _ = self.installed[prefix]
                views.append(OspfRouteView(prefix, cost, IPv4Address(0), ((gateway, ifname),), False))
        return views

    def interfaces(self) -> list[OspfInterfaceView]:
        now = self.clock.now
        views = []
        for oi in sorted(self.ifaces.values(), key=lambda o: o.ifp.index):
            nbr = oi.neighbor
            # Only a passive Ethernet interface can be of the broadcast type here (it elects
            # itself DR, alone on its network).
            ptp = bool(oi.ifp.flags & IFF_POINTOPOINT) or self.config.interface(oi.name).network == "point-to-point"
            views.append(OspfInterfaceView(
                name=oi.name, up=oi.up, address=oi.address, peer=oi.peer, area=oi.area, router_id=self.router_id,
                network_type="POINTOPOINT" if ptp else "BROADCAST", cost=oi.cost, transmit_delay=oi.transmit_delay,
                state=("Point-To-Point" if ptp else "DR") if oi.up else "Down", priority=1, hello=oi.hello_interval,
                dead=oi.dead_interval, retransmit=oi.retransmit_interval,
                hello_due=max(0.0, oi.hello_due - now) if oi.hello_timer is not None else 0.0,
                neighbors=int(nbr is not None), adjacent=int(nbr is not None and nbr.state == NeighborState.FULL),
                passive=oi.passive, mtu=oi.ifp.mtu))
        return views

    def database(self) -> list[LsaView]:
        views = []
        for key in sorted(self.lsdb, key=lambda k: (k[0], int(k[1]), int(k[2]))):
            lsa = self._aged(self.lsdb[key][0], self.lsdb[key][1])
            header = lsa.header
            views.append(LsaView(header.type, header.link_state_id, header.advertising_router, header.age,
                                 header.seq, header.checksum, len(lsa.router_links)))
        return views


def _highest_address(host: "Host") -> IPv4Address:
    """zebra's router-id when none is configured: the highest IPv4 address of the host, loopbacks
    other than 127/8 first (FRR prefers them); 0.0.0.0 if there is none."""
    addresses: list[IPv4Interface] = [a.interface for ifp in host.interfaces.values() for a in ifp.addrs4]
    usable = [a.ip for a in addresses if not a.ip.is_loopback]
    return max(usable, key=int) if usable else IPv4Address(0)
