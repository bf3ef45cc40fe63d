"""IPv6 input, output and forwarding for one host (netinet6/ip6_input.c, ip6_output.c,
ip6_forward.c, frag6.c, icmp6.c), working on packet bytes.

Routers never fragment IPv6: a packet too big for the next hop is answered with
ICMPv6 packet-too-big. Sources fragment what they originate (RFC 8200 section 5).
"""

from ipaddress import IPv6Address
import struct
from typing import TYPE_CHECKING, Callable, Final

from ..packet import (
    ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, ICMP6_DST_UNREACH_NOROUTE, ICMP6_ECHO_REPLY,
    ICMP6_ECHO_REQUEST, ICMP6_PACKET_TOO_BIG, ICMP6_PARAM_PROB, ICMP6_TIME_EXCEED_REASSEMBLY,
    ICMP6_TIME_EXCEED_TRANSIT, ICMP6_TIME_EXCEEDED, Icmp6, MalformedPacket,
)
from ..packet.iphdr import IPV6_EXTENSION_HEADERS
from ..packet.ipv6 import IPV6_HEADER
from .frag import Reassembler
from .drops import DropReason
from ..packet.ipversion import IPV6
from .ifnet import ND6_IFF_IFDISABLED, Ifnet
from .route import RTF_BLACKHOLE, RTF_HOST, RTF_REJECT
from .sockets import SendError
from .tags import PacketTags
from .transport import PerSecondLimit, udp_input
from .unsent import unsent_ipv6

if TYPE_CHECKING:
    from .host import Host

__all__ = ["Inet6"]

_FRAG: Final = struct.Struct("!BBHI")
_PLEN: Final = struct.Struct("!H")
_IPV6_MINMTU: Final = 1280


class Inet6:
    def __init__(self, host: "Host"):
        self.host = host
        self.protocols: dict[int, Callable[[Ifnet, bytes, int], None]] = {
            58: self._icmp6_input, 17: self._udp_input,
        }
        self.udp_ports: dict[int, Callable] = {}
        self.icmp_listeners: list[Callable] = []
        self._frag_ident = host.rng.getrandbits(32)
        self._error_limit = PerSecondLimit(host, "net.inet6.icmp6.errppslimit")
        sysctl = host.sysctl
        self.reassembler = Reassembler(
            host.clock,
            ttl=lambda: int(sysctl["net.inet6.ip6.fragttl"]),
            max_fragments=lambda: int(sysctl["net.inet6.ip6.maxfragsperpacket"]),
            on_timeout=self._reassembly_timeout,
        )

    # -- input -------------------------------------------------------------------

    def input(self, ifp: Ifnet, pkt: bytes, tags: PacketTags | None = None) -> None:
        """ip6_input. ``tags``: the IPsec marks of a packet that came out of an SA [S9.6]."""
        host = self.host
        if ifp.nd6_flags & ND6_IFF_IFDISABLED:
            # ip6_input drops it first thing, before any counter (netinet6/ip6_input.c).
            host.drop(DropReason.IFDISABLED, pkt, ifp)
            return
        host.ipstat.ip6s_total += 1
        if len(pkt) < 40:
            host.drop(DropReason.IP6_TOOSHORT_HEADER, pkt, ifp)
            return
        end = 40 + ((pkt[4] << 8) | pkt[5])
        if end > len(pkt):
            host.drop(DropReason.IP6_TOOSHORT, pkt, ifp)
            return
        if end < len(pkt):
            pkt = pkt[:end]
        if pkt[24:40] in host.local6:
            self._local_input(ifp, pkt, tags)
        else:
            self._forward(ifp, pkt, tags)

    def _local_input(self, ifp: Ifnet, pkt: bytes, tags: PacketTags | None) -> None:
        host = self.host
        next_header, nh_pos, off = pkt[6], 6, 40
        try:
            while next_header in IPV6_EXTENSION_HEADERS:
                next_header, nh_pos, off = pkt[off], off, off + (pkt[off + 1] + 1) * 8
            if off > len(pkt):
                raise IndexError
        except IndexError:
            host.drop(DropReason.IP6_TOOSHORT_EXT, pkt, ifp)
            return
        if next_header == 44:
            if off + 8 > len(pkt):
                host.drop(DropReason.IP6_TOOSHORT_FRAG, pkt, ifp)
                return
            host.ipstat.ip6s_fragments += 1
            inner, _, offm, ident = _FRAG.unpack_from(pkt, off)
            key = (pkt[8:24], pkt[24:40], ident)
            done = self.reassembler.add(key, offm & 0xFFF8, bool(offm & 1), pkt[off + 8:],
                                        (pkt[:off], nh_pos, inner), pkt)
            if done is None:
                return
            if done == "dropped":
                host.drop(DropReason.FRAGDROPPED, pkt, ifp)
                return
            (unfragmentable, nh_pos, inner), payload = done
            head = bytearray(unfragmentable)
            head[nh_pos] = inner
            _PLEN.pack_into(head, 4, len(head) - 40 + len(payload))
            pkt, next_header, off = bytes(head) + payload, inner, len(head)
            host.ipstat.ip6s_reassembled += 1
            if host.observer is not None:
                host.note("reassembled", ifp, pkt)
        ipsec = host.ipsec
        if (ipsec.has_global_policies() and ipsec.checks_protocol(next_header)
                and ipsec.in_reject(pkt, IPV6, tags)):
            return
        handler = self.protocols.get(next_header)
        if handler is None:
            self.icmp6_error(pkt, ICMP6_PARAM_PROB, 1, ifp, pointer=nh_pos)
            host.drop(DropReason.NOPROTO, pkt, ifp)
            return
        host.ipstat.ip6s_delivered += 1
        if host.observer is not None:
            host.note("deliver", ifp, pkt)
        handler(ifp, pkt, off)

    def _reassembly_timeout(self, key, first, fragments: list[bytes]) -> None:
        host = self.host
        host.ipstat.ip6s_fragtimeout += len(fragments)
        if first is not None:  # frag6.c answers only when the first fragment came
            unfragmentable, _, _ = first
            self.icmp6_error(unfragmentable, ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_REASSEMBLY, None)
        for fragment in fragments:
            host.drop(DropReason.FRAGTIMEOUT, fragment, None)

    # -- forwarding ----------------------------------------------------------------

    def _forward(self, ifp: Ifnet, pkt: bytes, tags: PacketTags | None) -> None:
        host = self.host
        if not host.sysctl.get("net.inet6.ip6.forwarding"):
            host.ipstat.ip6s_cantforward += 1
            host.drop(DropReason.NOT_FORWARDING6, pkt, ifp)
            return
        hlim = pkt[7]
        if hlim <= 1:
            self.icmp6_error(pkt, ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_TRANSIT, ifp)
            host.drop(DropReason.HLIM_EXCEEDED, pkt, ifp)
            return
        ipsec = host.ipsec
        if ipsec.has_global_policies() and ipsec.in_reject(pkt, IPV6, tags):  # [S9.6]
            return
        route = host.fibs[ifp.fib].lookup(pkt[24:40])
        if route is None:
            host.ipstat.ip6s_noroute += 1
            self.icmp6_error(pkt, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOROUTE, ifp)
            host.drop(DropReason.NO_ROUTE, pkt, ifp)
            return
        buf = bytearray(pkt)
        buf[7] = hlim - 1
        host.ipstat.ip6s_forward += 1
        if host.observer is not None:
            host.note("forward", route.ifp, pkt)
        self.transmit(route, bytes(buf), ifp, tags)

    def transmit(self, route, pkt: bytes, from_ifp: Ifnet | None, tags: PacketTags | None = None) -> str | None:
        """ip6_output's tail: IPsec policy, then ``route``. Returns an errno name or None.

        A router answers a packet too big for the next hop with packet-too-big; a
        source fragments what it sends (RFC 8200 section 5). ``tags`` go with the
        packet to the interface; OUT_DONE skips the SPD [S5.6].
        """
        if tags is None or not tags.out_done:
            ipsec = self.host.ipsec
            if ipsec.has_global_policies() and ipsec.output(pkt, IPV6):
                return None
        if route.flags & (RTF_REJECT | RTF_BLACKHOLE):
            return self._discard(route, pkt, from_ifp)
        mtu = route.mtu or route.ifp.mtu
        if len(pkt) <= mtu:
            return route.ifp.output(pkt, IPV6, tags)
        if from_ifp is not None:
            self.host.ipstat.ip6s_toobig += 1
            self.icmp6_error(pkt, ICMP6_PACKET_TOO_BIG, 0, from_ifp, pointer=mtu)
            self.host.drop(DropReason.TOOBIG6, pkt, from_ifp)
            return "EMSGSIZE"
        return self._fragment_and_send(route, pkt, mtu, tags)

    # -- output ----------------------------------------------------------------------

    def output(self, dst: IPv6Address, proto: int, payload, *, src=None, ttl=None, tos=0,
               df=False, fib=0) -> IPv6Address:
        host = self.host
        route = host.fibs[fib].lookup(dst.packed)
        if route is None:
            host.ipstat.ip6s_noroute += 1
            unsent = self._unsent(dst, proto, payload, src, ttl, tos)
            if host.observer is not None:
                host.note("output", None, unsent)
            host.drop(DropReason.NO_ROUTE, unsent, None)
            raise SendError("EHOSTUNREACH")
        if route.flags & (RTF_REJECT | RTF_BLACKHOLE):
            src = src or route.source or route.ifp.first_address(IPV6)
            unsent = self._unsent(dst, proto, payload, src, ttl, tos)
            if host.observer is not None:
                host.note("output", None, unsent)
            error = self._discard(route, unsent, None)
            if error is not None:
                raise SendError(error)
            return src
        if src is None:
            src = route.source or route.ifp.first_address(IPV6)
            if src is None:
                raise SendError("EADDRNOTAVAIL")
        if callable(payload):
            payload = payload(src, dst)
        if len(payload) > 65535:
            raise SendError("EMSGSIZE")
        hlim = host.sysctl.get("net.inet6.ip6.hlim") if ttl is None else ttl
        vtf = (6 << 28) | (tos << 20)
        host.ipstat.ip6s_localout += 1
        mtu = route.mtu or route.ifp.mtu
        if df and 40 + len(payload) > mtu:
            raise SendError("EMSGSIZE")
        pkt = IPV6_HEADER.pack(vtf, len(payload), proto, hlim, src.packed, dst.packed) + payload
        if host.observer is not None:
            host.note("output", None, pkt)
        error = self.transmit(route, pkt, None)
        if error is not None:
            raise SendError(error)
        return src

    def _unsent(self, dst: IPv6Address, proto: int, payload, src, hlim, tclass: int) -> bytes:
        """The packet a failed send would have been, for its drop event (drop paths only)."""
        if hlim is None:
            hlim = self.host.sysctl.get("net.inet6.ip6.hlim")
        return unsent_ipv6(dst, proto, payload, src=src, hlim=hlim, tclass=tclass)

    def _discard(self, route, pkt: bytes, from_ifp: Ifnet | None) -> str | None:
        """A ``-blackhole`` route drops silently; a ``-reject`` one answers unreachable (looutput)."""
        if route.flags & RTF_BLACKHOLE:
            self.host.drop(DropReason.BLACKHOLE, pkt, from_ifp)
            return None
        if from_ifp is not None:
            self.icmp6_error(pkt, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOROUTE, from_ifp)
        self.host.drop(DropReason.REJECT, pkt, from_ifp)
        return "EHOSTUNREACH" if route.flags & RTF_HOST else "ENETUNREACH"

    def _fragment_and_send(self, route, packet: bytes, mtu: int, tags: PacketTags | None) -> str | None:
        """Fragment a packet this host originates: a fragment header after the fixed header."""
        head, proto, payload = bytearray(packet[:40]), packet[6], packet[40:]
        head[6] = 44
        chunk = (max(mtu, _IPV6_MINMTU) - 48) & ~7
        self._frag_ident = (self._frag_ident + 1) & 0xFFFFFFFF
        host = self.host
        host.ipstat.ip6s_fragmented += 1
        fragments = []
        for start in range(0, len(payload), chunk):
            data = payload[start : start + chunk]
            more = start + chunk < len(payload)
            frag = _FRAG.pack(proto, 0, start | int(more), self._frag_ident)
            _PLEN.pack_into(head, 4, 8 + len(data))
            fragments.append(bytes(head) + frag + data)
        host.ipstat.ip6s_ofragments += len(fragments)
        if host.observer is not None:
            host.note("fragment", route.ifp, packet, fragments)
        first_error = None
        for pkt in fragments:
            first_error = first_error or route.ifp.output(pkt, IPV6, tags)
        return first_error

    # -- ICMPv6 ------------------------------------------------------------------------

    def _icmp6_input(self, ifp: Ifnet, pkt: bytes, off: int) -> None:
        host = self.host
        src, dst = IPv6Address(pkt[8:24]), IPv6Address(pkt[24:40])
        try:
            icmp = Icmp6.parse(pkt[off:], src, dst)
        except MalformedPacket as error:
            host.drop(DropReason(error.reason), pkt, ifp)
            return
        if icmp.type == ICMP6_ECHO_REQUEST:
            reply = Icmp6(ICMP6_ECHO_REPLY, 0, icmp.rest, icmp.payload)
            try:
                self.output(src, 58, lambda s, d: reply.to_bytes(s, d), src=dst)
            except SendError:
                pass
            return
        for listener in list(self.icmp_listeners):
            listener(src, dst, pkt[7], icmp)

    def icmp6_error(self, pkt: bytes, type_: int, code: int, ifp: Ifnet | None, pointer: int = 0) -> None:
        """icmp6_error: never about an ICMPv6 error, a multicast or unspecified source; rate-limited."""
        host = self.host
        if len(pkt) < 40 or pkt[8] == 0xFF or pkt[8:24] == bytes(16):
            return
        if pkt[24] == 0xFF and type_ != ICMP6_PACKET_TOO_BIG:
            return
        if pkt[6] == 58 and len(pkt) > 40 and pkt[40] < 128:
            return
        if not self._error_limit.allow():
            return
        quote = pkt[: _IPV6_MINMTU - 48]
        original_dst = pkt[24:40]
        src = IPv6Address(original_dst) if original_dst in host.local6 else (
            ifp.first_address(IPV6) if ifp is not None else None)
        message = Icmp6(type_, code, pointer, quote)
        try:
            self.output(IPv6Address(pkt[8:24]), 58, lambda s, d: message.to_bytes(s, d), src=src)
        except SendError:
            pass

    # -- UDP -----------------------------------------------------------------------------

    def _udp_input(self, ifp: Ifnet, pkt: bytes, off: int) -> None:
        udp_input(self.host, self.udp_ports, ifp, pkt, off, IPv6Address(pkt[8:24]), IPv6Address(pkt[24:40]),
                  lambda: self.icmp6_error(pkt, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, ifp))
