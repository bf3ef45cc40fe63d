"""IPv4 input, output and forwarding for one host (netinet/ip_input.c, ip_output.c,
ip_icmp.c, udp_usrreq.c), working on packet bytes.

The forwarding path touches only the bytes it must (TTL, checksum by RFC 1624)
and looks routes up in a per-destination cache: it runs for every packet at
every hop.
"""

from functools import partial
from ipaddress import IPv4Address, IPv4Network
import struct
from typing import TYPE_CHECKING, Callable, Final

from ..packet import (
    ICMP_ECHO, ICMP_ECHOREPLY, ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, ICMP_UNREACH,
    ICMP_UNREACH_HOST, ICMP_UNREACH_NEEDFRAG, ICMP_UNREACH_PORT, ICMP_UNREACH_PROTOCOL,
    Icmp, MalformedPacket, internet_checksum,
)
from ..packet.ipv4 import IP_DF, IP_MF, IPV4_HEADER
from .fastfwd import SLOW_PATH_SILENT_ERRORS, SUSPECT_OCTET, count_fast, count_slow, tryforward_takes
from .drops import DropReason
from .frag import Reassembler
from ..packet.ipversion import IPV4
from .ifnet import IFF_LOOPBACK, Ifnet
from .route import RTF_BLACKHOLE, RTF_HOST, RTF_REJECT, Route
from .sockets import SendError
from .tags import PacketTags
from .stats import ICMP_MAXTYPE
from .transport import PerSecondLimit, udp_input
from .unsent import unsent_ipv4

if TYPE_CHECKING:
    from .host import Host

__all__ = ["Inet4"]

_OFFMASK: Final = 0x1FFF
_PER_PACKET_KNOBS = {"net.inet.ip.ttl": "default_ttl", "net.inet.ip.rfc6864": "rfc6864",
                     "net.inet.ip.random_id": "random_id"}
_WORD: Final = struct.Struct("!H")
# ICMP types that are not errors: FreeBSD never answers an ICMP error with one (ICMP_INFOTYPE).
_ICMP_INFOTYPES = frozenset({0, 8, 9, 10, 13, 14, 15, 16, 17, 18})

# A handler for a transport protocol: (input interface, whole packet, header length).
ProtocolHandler = Callable[[Ifnet, bytes, int], None]


class Inet4:
    # Per-packet sysctls, kept in step by the sysctl tree (_PER_PACKET_KNOBS).
    default_ttl: int
    rfc6864: int
    random_id: int

    def __init__(self, host: "Host"):
        self.host = host
        # The protocol switch (FreeBSD's inetsw): ESP and IPIP register here later.
        self.protocols: dict[int, ProtocolHandler] = {1: self._icmp_input, 17: self._udp_input}
        self.udp_ports: dict[int, Callable] = {}
        self.icmp_listeners: list[Callable] = []
        self._ident = host.rng.getrandbits(16)
        # net.inet.ip.forwarding is read for every forwarded packet: keep a copy the sysctl updates.
        self.forwarding = bool(host.sysctl["net.inet.ip.forwarding"])
        host.sysctl.watch("net.inet.ip.forwarding", lambda value: setattr(self, "forwarding", bool(value)))
        # So are the knobs every sent packet (and every ESP outer header) reads.
        for knob, attribute in _PER_PACKET_KNOBS.items():
            setattr(self, attribute, host.sysctl[knob])
            host.sysctl.watch(knob, partial(setattr, self, attribute))
        self._icmp_limit = PerSecondLimit(host, "net.inet.icmp.icmplim")
        sysctl = host.sysctl
        self.reassembler = Reassembler(
            host.clock,
            ttl=lambda: int(sysctl["net.inet.ip.fragttl"]),
            max_fragments=lambda: int(sysctl["net.inet.ip.maxfragsperpacket"]),
            on_timeout=self._reassembly_timeout,
        )

    # -- input -----------------------------------------------------------------

    def input(self, ifp: Ifnet, pkt: bytes, tags: PacketTags | None = None) -> None:
        """ip_input. ``tags``: the IPsec marks of a packet that came out of an SA [S9.6]."""
        host = self.host
        st = host.ipstat
        st.ips_total += 1
        size = len(pkt)
        if size < 20:
            st.ips_tooshort += 1
            host.drop(DropReason.IP_TOOSHORT_HEADER, pkt, ifp)
            return
        hlen = (pkt[0] & 0x0F) << 2
        if hlen < 20 or hlen > size:
            st.ips_badhlen += 1
            host.drop(DropReason.IP_BADHLEN, pkt, ifp)
            return
        # A correct header sums to 0xFFFF in one's complement, i.e. to 0 modulo 0xFFFF
        # (internet_checksum's identity, inlined: this runs for every packet at every hop).
        if int.from_bytes(pkt[:hlen], "big") % 0xFFFF:
            st.ips_badsum += 1
            host.drop(DropReason.IP_BADSUM, pkt, ifp)
            return
        total = (pkt[2] << 8) | pkt[3]
        if total < hlen:
            st.ips_badlen += 1
            host.drop(DropReason.IP_BADLEN, pkt, ifp)
            return
        if size < total:
            st.ips_tooshort += 1
            host.drop(DropReason.IP_TOOSHORT, pkt, ifp)
            return
        if size > total:
            pkt = pkt[:total]
        dst = pkt[16:20]
        if dst in host.local4 or dst in host.broadcast4:
            self._local_input(ifp, pkt, hlen, tags)
        elif 224 <= dst[0] < 240:
            # ip_input takes every multicast datagram as ours (no multicast routing here): the
            # protocol's sockets check group membership on the receiving interface.
            self._local_input(ifp, pkt, hlen, tags)
        else:
            self._forward(ifp, pkt, hlen, tags)

    def _local_input(self, ifp: Ifnet, pkt: bytes, hlen: int, tags: PacketTags | None) -> None:
        host = self.host
        off = (pkt[6] << 8) | pkt[7]
        if off & (IP_MF | _OFFMASK):
            host.ipstat.ips_fragments += 1
            key = (pkt[12:16], pkt[16:20], pkt[4:6], pkt[9])
            done = self.reassembler.add(key, (off & _OFFMASK) * 8, bool(off & IP_MF), pkt[hlen:], pkt[:hlen], pkt)
            if done is None:
                return
            if done == "dropped":
                host.ipstat.ips_fragdropped += 1
                host.drop(DropReason.FRAGDROPPED, pkt, ifp)
                return
            header, payload = done
            pkt = _rebuild(header, payload)
            hlen = len(header)
            host.ipstat.ips_reassembled += 1
            if host.observer is not None:
                host.note("reassembled", ifp, pkt)
        ipsec = host.ipsec
        if (ipsec.has_global_policies() and ipsec.checks_protocol(pkt[9])
                and ipsec.in_reject(pkt, IPV4, tags)):
            return
        handler = self.protocols.get(pkt[9])
        if handler is None:
            host.ipstat.ips_noproto += 1
            self.icmp_error(pkt, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, ifp, tags=tags)
            host.drop(DropReason.NOPROTO, pkt, ifp)
            return
        host.ipstat.ips_delivered += 1
        if host.observer is not None:
            host.note("deliver", ifp, pkt)
        handler(ifp, pkt, hlen)

    def _reassembly_timeout(self, key, header, fragments: list[bytes]) -> None:
        # ip_reass.c frees timed-out queues without an ICMP message.
        self.host.ipstat.ips_fragtimeout += len(fragments)
        for fragment in fragments:
            self.host.drop(DropReason.FRAGTIMEOUT, fragment, None)

    # -- forwarding ---------------------------------------------------------------

    def _forward(self, ifp: Ifnet, pkt: bytes, hlen: int, tags: PacketTags | None) -> None:
        """ip_tryforward or ip_forward: one forwarding path, each path's counters (see fastfwd)."""
        host = self.host
        st = host.ipstat
        if not self.forwarding:
            st.ips_cantforward += 1
            host.drop(DropReason.NOT_FORWARDING, pkt, ifp)
            return
        ipsec = host.ipsec
        policies = ipsec.has_global_policies()
        if policies:
            fast = False
        elif (hlen == 20 and pkt[12] not in SUSPECT_OCTET and pkt[16] not in SUSPECT_OCTET
              and not ifp.flags & IFF_LOOPBACK):
            fast = True  # the common case of tryforward_takes, inline: it runs for every packet
        else:
            fast = tryforward_takes(ifp, pkt, hlen)
        if fast:
            st.ips_total += 1  # ip_tryforward counts the packet again
        ttl = pkt[8]
        if ttl <= 1:
            self.icmp_error(pkt, ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, ifp, tags=tags)
            host.drop(DropReason.TTL_EXCEEDED, pkt, ifp)
            return
        buf = bytearray(pkt)
        buf[8] = ttl - 1
        # RFC 1624 eqn. 3 with m' = m - 0x100 (the TTL byte is the word's high half):
        # HC' = ~(~HC + ~m + m') = ~(~HC + 0xFEFF), folded.
        total = (~((pkt[10] << 8) | pkt[11]) & 0xFFFF) + 0xFEFF
        total = (total & 0xFFFF) + (total >> 16)
        _WORD.pack_into(buf, 10, ~total & 0xFFFF)
        if policies and ipsec.forward4(pkt, bytes(buf), tags):
            return
        route = host.fibs[ifp.fib].lookup(pkt[16:20])
        if route is None:
            st.ips_noroute += 1
            st.ips_cantforward += 1  # ip_findroute; ip_forward counts it for ip_output's EHOSTUNREACH
            self.icmp_error(pkt, ICMP_UNREACH, ICMP_UNREACH_HOST, ifp, tags=tags)
            host.drop(DropReason.NO_ROUTE, pkt, ifp)
            return
        if host.observer is not None:
            host.note("forward", route.ifp, pkt)
        # With policies the SPD has been consulted already (ipsec4_forward), as ip_output's
        # second lookup would find what the first found.
        error = self.transmit(route, bytes(buf), ifp, tags, spd_done=policies)
        if fast:
            if error is None and not route.flags & (RTF_REJECT | RTF_BLACKHOLE):
                st.ips_forward += 1
                st.ips_fastforward += 1
            else:
                count_fast(st, route, error)
            return
        count_slow(st, error)
        if error is not None and error not in SLOW_PATH_SILENT_ERRORS and not route.flags & RTF_REJECT:
            self.icmp_error(pkt, ICMP_UNREACH, ICMP_UNREACH_HOST, ifp, tags=tags)

    # -- output ---------------------------------------------------------------------

    def output(self, dst: IPv4Address, proto: int, payload, *, src=None, ttl=None, tos=0,
               df=False, fib=0) -> IPv4Address:
        host = self.host
        route = host.fibs[fib].lookup(dst.packed)
        if route is None:
            host.ipstat.ips_noroute += 1
            unsent = unsent_ipv4(dst, proto, payload, src=src, tos=tos, df=df,
                                 ttl=host.sysctl.get("net.inet.ip.ttl") if ttl is None else ttl)
            if host.observer is not None:
                host.note("output", None, unsent)
            host.drop(DropReason.NO_ROUTE, unsent, None)
            raise SendError("EHOSTUNREACH")
        if src is None:
            src = route.source or route.ifp.first_address(IPV4)
            if src is None:
                raise SendError("EADDRNOTAVAIL")
        if callable(payload):
            payload = payload(src, dst)
        if ttl is None:
            ttl = self.default_ttl
        total = 20 + len(payload)
        if total > 65535:
            raise SendError("EMSGSIZE")
        header = bytearray(20)
        IPV4_HEADER.pack_into(header, 0, 0x45, tos, total, self.next_ident(df), IP_DF if df else 0,
                              ttl, proto, 0, src.packed, dst.packed)
        _WORD.pack_into(header, 10, internet_checksum(header))
        host.ipstat.ips_localout += 1
        pkt = bytes(header) + payload
        if host.observer is not None:
            host.note("output", None, pkt)
        error = self.transmit(route, pkt, None)
        if error is not None:
            raise SendError(error)
        return src

    def output_on(self, ifp: Ifnet, dst: IPv4Address, proto: int, payload: bytes, *, ttl: int = 1,
                  tos: int = 0) -> None:
        """ip_output with IP_MULTICAST_IF: out of ``ifp`` to ``dst`` whatever the routing table
        says, from the interface's first address (a routing daemon's multicast Hellos)."""
        host = self.host
        src = ifp.first_address(IPV4)
        if src is None:
            raise SendError("EADDRNOTAVAIL")
        header = bytearray(20)
        IPV4_HEADER.pack_into(header, 0, 0x45, tos, 20 + len(payload), self.next_ident(False), 0,
                              ttl, proto, 0, src.packed, dst.packed)
        _WORD.pack_into(header, 10, internet_checksum(header))
        host.ipstat.ips_localout += 1
        pkt = bytes(header) + payload
        if host.observer is not None:
            host.note("output", None, pkt)
        error = self.transmit(Route(IPv4Network(dst), ifp, source=src), pkt, None)
        if error is not None:
            raise SendError(error)

    def next_ident(self, df: bool) -> int:
        """ip_fillid [S6.1]: 0 for atomic datagrams under RFC 6864, else random or a counter."""
        if df and self.rfc6864:
            return 0
        if self.random_id:
            return self.host.rng.randrange(1, 65536)
        self._ident = (self._ident + 1) & 0xFFFF
        return self._ident

    def transmit(self, route, pkt: bytes, from_ifp: Ifnet | None, tags: PacketTags | None = None,
                 spd_done: bool = False) -> str | None:
        """ip_output's tail: IPsec policy, then ``route`` with fragmentation to its MTU.

        Returns an errno name or None. ``tags`` go with the packet (and its fragments)
        to the interface: an ESP packet already made carries OUT_DONE, which the SPD
        does not see again [S5.6]. ``spd_done``: the forwarding path consulted it.
        """
        if not spd_done and (tags is None or not tags.out_done):
            ipsec = self.host.ipsec
            if ipsec.has_global_policies() and ipsec.output(pkt, IPV4):
                return None
        if route.flags & (RTF_REJECT | RTF_BLACKHOLE):
            return self._discard(route, pkt, from_ifp)
        ifp = route.ifp
        mtu = route.mtu or ifp.mtu
        if len(pkt) <= mtu:
            return ifp.output(pkt, IPV4, tags)
        host = self.host
        if pkt[6] & 0x40:  # DF
            host.ipstat.ips_cantfrag += 1
            if from_ifp is not None:
                self.icmp_error(pkt, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, from_ifp, mtu=mtu)
            host.drop(DropReason.NEEDFRAG, pkt, from_ifp or ifp)
            return "EMSGSIZE"
        fragments = fragment(pkt, mtu)
        if not fragments:
            host.ipstat.ips_cantfrag += 1
            host.drop(DropReason.CANTFRAG, pkt, ifp)
            return "EMSGSIZE"
        host.ipstat.ips_fragmented += 1
        host.ipstat.ips_ofragments += len(fragments)
        if host.observer is not None:
            host.note("fragment", ifp, pkt, fragments)
        first_error = None
        for piece in fragments:
            error = ifp.output(piece, IPV4, tags)
            first_error = first_error or error
        return first_error

    def _discard(self, route, pkt: bytes, from_ifp: Ifnet | None) -> str | None:
        """A ``-blackhole`` route drops silently; a ``-reject`` one answers host unreachable (looutput)."""
        if route.flags & RTF_BLACKHOLE:
            self.host.drop(DropReason.BLACKHOLE, pkt, from_ifp)
            return None
        if from_ifp is not None:
            self.icmp_error(pkt, ICMP_UNREACH, ICMP_UNREACH_HOST, from_ifp)
        self.host.drop(DropReason.REJECT, pkt, from_ifp)
        return "EHOSTUNREACH" if route.flags & RTF_HOST else "ENETUNREACH"

    # -- ICMP -----------------------------------------------------------------------

    def _icmp_input(self, ifp: Ifnet, pkt: bytes, hlen: int) -> None:
        host = self.host
        try:
            icmp = Icmp.parse(pkt[hlen:])
        except MalformedPacket as error:
            host.ipstat.icps_badsum += 1
            host.drop(DropReason(error.reason), pkt, ifp)
            return
        if icmp.type <= ICMP_MAXTYPE:
            host.ipstat.icps_inhist[icmp.type] += 1  # icmp_input: every type it knows, once checksummed
        src, dst = IPv4Address(pkt[12:16]), IPv4Address(pkt[16:20])
        if icmp.type == ICMP_ECHO:
            reply_src = dst if dst.packed in host.local4 else ifp.first_address(IPV4)
            host.ipstat.icps_reflect += 1
            host.ipstat.icps_outhist[ICMP_ECHOREPLY] += 1
            try:
                self.output(src, 1, Icmp(ICMP_ECHOREPLY, 0, icmp.rest, icmp.payload).to_bytes(),
                            src=reply_src, tos=pkt[1])
            except SendError:
                pass  # already recorded as a drop
            return
        for listener in list(self.icmp_listeners):
            listener(src, dst, pkt[8], icmp)

    def icmp_error(self, pkt: bytes, type_: int, code: int, ifp: Ifnet | None, mtu: int = 0,
                   tags: PacketTags | None = None) -> None:
        """Answer ``pkt`` with an ICMP error, under FreeBSD's icmp_error rules and icmplim.

        The quote is the IP header and ``max(8, min(net.inet.icmp.quotelen, payload))``
        bytes (548 by default: RFC 1812's 576 - 28). A packet that came out of an ESP
        SA (M_DECRYPTED) is never answered.
        """
        host = self.host
        host.ipstat.icps_error += 1
        if tags is not None and tags.decrypted:
            return
        hlen = (pkt[0] & 0x0F) << 2
        off = (pkt[6] << 8) | pkt[7]
        if off & _OFFMASK:
            return  # only the first fragment is answered
        if pkt[9] == 1 and len(pkt) > hlen and pkt[hlen] not in _ICMP_INFOTYPES:
            host.ipstat.icps_oldicmp += 1
            return
        src = pkt[12:16]
        if pkt[16:20] in host.broadcast4 or pkt[16] >= 224 or src == b"\0\0\0\0" or src[0] >= 224:
            return
        if not self._icmp_limit.allow():
            host.ipstat.icps_ratelimited += 1
            return
        total = (pkt[2] << 8) | pkt[3]
        quote = pkt[: hlen + max(8, min(host.sysctl.get("net.inet.icmp.quotelen"), total - hlen))]
        rest = mtu if type_ == ICMP_UNREACH and code == ICMP_UNREACH_NEEDFRAG else 0
        original_dst = pkt[16:20]
        host.ipstat.icps_outhist[type_] += 1  # the message is built: it counts, sent or not
        reply_src = IPv4Address(original_dst) if original_dst in host.local4 else (
            ifp.first_address(IPV4) if ifp is not None else None)
        try:
            self.output(IPv4Address(src), 1, Icmp(type_, code, rest, quote).to_bytes(), src=reply_src)
        except SendError:
            pass

    # -- UDP ------------------------------------------------------------------------

    def _udp_input(self, ifp: Ifnet, pkt: bytes, hlen: int) -> None:
        def port_unreachable() -> None:
            if pkt[16:20] not in self.host.broadcast4:
                self.icmp_error(pkt, ICMP_UNREACH, ICMP_UNREACH_PORT, ifp)

        udp_input(self.host, self.udp_ports, ifp, pkt, hlen, IPv4Address(pkt[12:16]), IPv4Address(pkt[16:20]),
                  port_unreachable)


def fragment(pkt: bytes, mtu: int) -> list[bytes]:
    """Split an IPv4 datagram into fragments of at most ``mtu`` bytes (ip_fragment).

    Options are copied into the first fragment only (none we generate are
    marked "copied"). Returns [] when the MTU cannot hold 8 bytes of payload.
    """
    hlen = (pkt[0] & 0x0F) << 2
    total = (pkt[2] << 8) | pkt[3]
    payload = pkt[hlen:total]
    off = (pkt[6] << 8) | pkt[7]
    base = (off & _OFFMASK) * 8
    original_more = off & IP_MF
    pieces = []
    start = 0
    while start < len(payload):
        header = bytearray(pkt[:hlen] if start == 0 else pkt[:20])
        header[0] = 0x40 | (len(header) >> 2)
        chunk = (mtu - len(header)) & ~7
        if chunk < 8:
            return []
        data = payload[start : start + chunk]
        more = (start + len(data) < len(payload)) or original_more
        new_off = ((base + start) >> 3) | (IP_MF if more else 0) | (off & IP_DF)
        _WORD.pack_into(header, 2, len(header) + len(data))
        _WORD.pack_into(header, 6, new_off)
        _WORD.pack_into(header, 10, 0)
        _WORD.pack_into(header, 10, internet_checksum(header))
        pieces.append(bytes(header) + data)
        start += len(data)
    return pieces


def _rebuild(header: bytes, payload: bytes) -> bytes:
    """The whole datagram from the first fragment's header and the reassembled payload."""
    head = bytearray(header)
    _WORD.pack_into(head, 2, len(head) + len(payload))
    _WORD.pack_into(head, 6, 0)
    _WORD.pack_into(head, 10, 0)
    _WORD.pack_into(head, 10, internet_checksum(head))
    return bytes(head) + payload
