"""IPsec in a host's IP paths: FreeBSD's ipsec_input.c, ipsec_output.c and ipsec.c.

The key engine (``netipsec.keydb``) decides; this module moves packets:

* output: a packet about to leave (sent or forwarded) is matched against the
  global SPD; an IPsec policy finds an SA by ``key_allocsa_policy`` and the ESP
  packet is routed like any other (``ipsec4_process_packet``) [S5.5] [S5.6];
* input: an ESP packet for this host is looked up by (SPI, dst) [S7.2],
  decrypted, and its inner packet handed back to IP input (netisr) [S9.1]-[S9.3];
  if_ipsec attributes tunnel-mode packets to its interface through ``if_input``;
* policy checks on what is delivered or forwarded (``ipsec4_in_reject``) [S9.6];
* the key engine's one-second timer (``key_timehandler``) [S7.6].
"""

from __future__ import annotations

from functools import partial
from ipaddress import ip_address
import random
from typing import TYPE_CHECKING, Callable, Literal

from ..netipsec import EspDrop, EspStat, OuterHeaderConfig
from ..netipsec.esp import esp_input, esp_output
from ..netipsec.keydb import KeyDB
from ..packet.iphdr import SPI, flow_selectors
from ..packet.ipversion import IPV4, IPV6, IpVersion
from .drops import DropReason
from .nosa import NoSaLog
from .sacache import SaCache
from .sysctl import Knob
from .tags import IN_DONE, IN_DONE_DECRYPTED, OUT_DONE, PacketTags

if TYPE_CHECKING:
    from .host import Host
    from .ifnet import Ifnet

__all__ = ["IpsecStack"]

# Protocols whose input ipsec4_in_reject guards [S9.6]: ICMP, IGMP, IPIP, TCP, UDP, IPv6,
# RSVP, GRE, MOBILE, ETHERIP, PIM, SCTP, ICMPv6. ESP and AH themselves are not checked.
_CHECKED_PROTOCOLS = frozenset({1, 2, 4, 6, 17, 41, 46, 47, 55, 58, 97, 103, 132})
# sysctl -> OuterHeaderConfig attribute: the outer header follows the host's knobs [S6.1] [S6.2]
_OUTER_KNOBS = {
    "net.inet.ip.ttl": "ttl", "net.inet6.ip6.hlim": "hop_limit", "net.inet.ipsec.dfbit": "dfbit",
    "net.inet.ipsec.ecn": "ecn", "net.inet6.ipsec6.ecn": "ecn6", "net.inet.ip.rfc6864": "rfc6864",
}

# if_ipsec's attribution hook: (sa, inner packet, outer family) -> the interface the packet arrives on,
# None (not ours: deliver on the physical interface) or False (ours but down: dropped) [S9.4].
IfInput = Callable[[object, bytes, IpVersion], "Ifnet | None | Literal[False]"]


class IpsecStack:
    def __init__(self, host: "Host"):
        self.host = host
        for name, default, description, minimum, maximum in KeyDB.KNOBS:
            if host.sysctl.get(name) is None:
                host.sysctl.register(Knob(name, default, description, minimum, maximum))
        self.keydb = KeyDB(sysctl=host.sysctl, rng=random.Random(host.rng.getrandbits(64)))
        self.espstat = EspStat()  # FreeBSD keeps one espstat per VNET; SAs used here count into it
        self.outer = OuterHeaderConfig(next_ip_id=partial(host.inet4.next_ident, False))
        for knob, attribute in _OUTER_KNOBS.items():
            setattr(self.outer, attribute, host.sysctl[knob])
            host.sysctl.watch(knob, partial(setattr, self.outer, attribute))
        # esp_output reads net.inet.esp.ctr_compatibility per packet; SAs keep padding tables, so
        # a change is pushed to every SA in the SAD.
        host.sysctl.watch("net.inet.esp.ctr_compatibility", self._set_ctr_compatibility)
        self.if_input: IfInput | None = None
        self.ipsec_ifs: dict[int, list] = {}  # reqid -> the if_ipsec interfaces holding it
        self.used_sas: list = []  # every SA that carried a packet, for Wireshark's esp_sa file
        # Packets dropped for lack of an SA, with what the SAD held then: reports explain them.
        self.nosa = NoSaLog(self.keydb)
        self.keydb.subscribe(self.nosa.sad_changed, satypes=("esp",))
        self.sa_cache = SaCache(self.keydb, host.sysctl)
        # ip_input and ip_output ask this of every packet: the SPD's own method, bound once
        # (the key engine's forwarder would add a call per packet).
        self.has_global_policies = self.keydb.spd.has_global_policies
        # net.inet.esp.esp_enable is read for every ESP packet: a copy the sysctl updates.
        self.esp_enable = bool(host.sysctl["net.inet.esp.esp_enable"])
        host.sysctl.watch("net.inet.esp.esp_enable", lambda value: setattr(self, "esp_enable", bool(value)))
        host.inet4.protocols[50] = self._esp_input4
        host.inet6.protocols[50] = self._esp_input6
        self._timer = host.clock.call_later(1.0, self._tick)

    def _set_ctr_compatibility(self, value) -> None:
        for sa in self.keydb.sas():
            sa.ctr_compatibility = bool(value)

    # -- the key engine's clock ----------------------------------------------------

    def _tick(self) -> None:
        self.keydb.tick(self.host.clock.now)
        self._timer = self.host.clock.call_later(1.0, self._tick)

    def _adopt(self, sa) -> None:
        """Make an SA count into the host's espstat (SAs built by setkey start with their own)."""
        if sa.stats is not self.espstat:
            self.espstat.add(sa.stats)
            sa.stats = self.espstat
            self.used_sas.append(sa)

    # -- output ----------------------------------------------------------------------

    def output(self, pkt: bytes, family: IpVersion) -> bool:
        """ipsec4_output / ipsec6_output: True when IPsec took the packet (sent or dropped it)."""
        return self.output_error(pkt, family)[0]

    def output_error(self, pkt: bytes, family: IpVersion) -> tuple[bool, str | None]:
        """ipsec4_common_output: (taken, errno). A policy refusal is EACCES; a packet
        sent, or dropped for lack of an SA, is (True, None) (EINPROGRESS)."""
        src, dst, proto, sport, dport = _selectors(pkt, family)
        policy = self.keydb.allocsp("out", src, dst, proto, sport, dport)
        if policy is None:
            if self.host.sysctl.get("net.inet.ipsec.def_policy") == 0:  # IPSEC_POLICY_DISCARD
                return self._policy_drop(pkt, "out"), "EACCES"
            return False, None
        if policy.policy == "discard":
            return self._policy_drop(pkt, "out"), "EACCES"
        if policy.policy != "ipsec":
            return False, None
        return self.process_packet(pkt, policy)

    def forward4(self, pkt: bytes, forwarded: bytes, tags: PacketTags | None) -> bool:
        """ipsec4_forward, ip_forward's IPSEC_FORWARD: True when IPsec took the packet.

        ``forwarded`` is ``pkt`` with its TTL decremented. The inbound check comes
        first [S9.6], then the outbound SPD; both run before ip_output, so a packet a
        policy protects needs no route of its own. A refusal (EACCES) counts
        ips_cantforward; a packet IPsec sent, or dropped for lack of an SA
        (EINPROGRESS), counts neither ips_forward nor ips_cantforward.
        """
        host = self.host
        if self.in_reject(pkt, IPV4, tags):
            host.ipstat.ips_cantforward += 1
            return True
        taken, error = self.output_error(forwarded, IPV4)
        if taken:
            if host.observer is not None:
                host.note("forward", None, pkt)
            if error is not None:
                host.ipstat.ips_cantforward += 1
        return taken

    def _policy_drop(self, pkt: bytes, direction: str) -> bool:
        stats = self.keydb.stats
        if direction == "out":
            stats.ips_out_polvio += 1
            self.host.drop(DropReason.OUT_POLVIO, pkt, None)
        else:
            stats.ips_in_polvio += 1
            self.host.drop(DropReason.IN_POLVIO, pkt, None)
        return True

    def process_packet(self, pkt: bytes, policy, *, fib: int = 0,
                       ifp: "Ifnet | None" = None) -> tuple[bool, str | None]:
        """ipsec4_process_packet: apply each request of ``policy`` and send the result. [S5.5] [S5.6]

        Returns (consumed, errno): consumed is False only when a ``use`` level let
        the packet go out in clear for lack of an SA; errno is what the sender
        sees (None also for the silent drop when no SA exists [S5.5]). ``ifp``: the
        if_ipsec interface the packet came through, named in the drop events.
        """
        host = self.host
        now = host.clock.now
        protected = False
        for request in policy.requests:
            if not self.esp_enable:
                self.espstat.esps_pdrops += 1
                host.drop(DropReason.ESP_PDROPS, pkt, ifp)
                return True, "EHOSTUNREACH"
            src, dst = request.src, request.dst
            if src is None or dst is None:  # esp/transport//require: the packet's own
                src, dst = _selectors(pkt, IPV4 if pkt[0] >> 4 == 4 else IPV6)[:2]
            sa = self.sa_cache.outbound(policy, request, now, src, dst)
            if sa is None:
                self.keydb.stats.ips_out_nosa += 1
                if self.keydb.level_of(policy, request) == "use":
                    continue  # [S10.8] use: in clear, after the ACQUIRE
                # require/unique: dropped silently, sendto() succeeds [S5.5] [S8.3]
                self.keydb.stats.ips_out_inval += 1
                host.drop(DropReason.OUT_NOSA, pkt, ifp)
                self.nosa.dropped(request, src, dst, now)
                return True, None
            if sa.stats is not self.espstat:
                self._adopt(sa)
            try:
                outer = esp_output(sa, pkt, now=now, outer=self.outer, mode=request.mode)
            except EspDrop as error:
                reason = DropReason(error.counter) if error.counter else DropReason.ESP_OUTPUT_ERROR
                host.drop(reason, pkt, ifp)
                return True, reason.errno or "EINVAL"
            if host.observer is not None:
                host.note("encap", ifp, outer, pkt)
            pkt = outer
            protected = True
        if not protected:
            return False, None
        # ipsec_process_done's ip_output runs in the crypto callback (esp_output_cb), whose
        # return value crypto_done() ignores: the sender never sees an error from here on,
        # and if_ipsec counts no OERRORS for it (the drop keeps its own reason). [S5.6]
        self.send_protected(pkt, fib)
        return True, None

    def send_protected(self, pkt: bytes, fib: int = 0) -> str | None:
        """Route an ESP packet (ip_output with the OUT_DONE tag: no second SPD lookup). [S5.6]

        The tag travels with the packet: an if_ipsec interface that the route leads
        back into sees it and drops the packet [S5.2].
        """
        host = self.host
        v4 = pkt[0] >> 4 == 4
        stack = host.inet4 if v4 else host.inet6
        route = host.fibs[fib if fib < len(host.fibs) else 0].lookup(pkt[16:20] if v4 else pkt[24:40])
        if route is None:
            host.drop(DropReason.NO_ROUTE, pkt, None)
            return "EHOSTUNREACH"
        return stack.transmit(route, pkt, None, OUT_DONE)

    # -- input -----------------------------------------------------------------------

    def _esp_input4(self, ifp: "Ifnet", pkt: bytes, hlen: int) -> None:
        self._esp_input(ifp, pkt, hlen, pkt[16:20])

    def _esp_input6(self, ifp: "Ifnet", pkt: bytes, off: int) -> None:
        self._esp_input(ifp, pkt, off, pkt[24:40])

    def _esp_input(self, ifp: "Ifnet", pkt: bytes, off: int, dst: bytes) -> None:
        """ipsec_common_input and esp_input: find the SA, decrypt, reinject. [S9.1]-[S9.3]

        IP input has checked the header and found the ESP header at ``off``; the SA is
        looked up by (SPI, outer destination) [S7.2].
        """
        host = self.host
        st = self.espstat
        if not self.esp_enable:
            st.esps_pdrops += 1
            host.drop(DropReason.ESP_PDROPS, pkt, ifp)
            return
        if len(pkt) - off < 8:  # ipsec_common_input: "packet too small" [S9.1]
            st.esps_input += 1
            st.esps_hdrops += 1
            host.drop(DropReason.ESP_HDROPS, pkt, ifp)
            return
        spi = SPI.unpack_from(pkt, off)[0]
        sa = self.sa_cache.inbound(spi, dst)
        if sa is None:
            st.esps_input += 1
            st.esps_notdb += 1
            host.drop(DropReason.ESP_NOTDB, pkt, ifp)
            return
        if sa.stats is not st:
            self._adopt(sa)
        try:
            inner, tunnelled = esp_input(sa, pkt, off, 9 if len(dst) == 4 else None, now=host.clock.now)
        except EspDrop as error:
            host.drop(DropReason(error.counter) if error.counter else DropReason.ESP_DUMMY, pkt, ifp)
            return
        rcvif, tags = ifp, IN_DONE_DECRYPTED
        if tunnelled and sa.mode == "tunnel" and self.if_input is not None:
            attributed = self.if_input(sa, inner, IPV4 if len(dst) == 4 else IPV6)  # ipsec_if_input [S9.4]
            if attributed is False:
                return
            if attributed is not None:
                rcvif, tags = attributed, IN_DONE  # m_clrprotoflags drops M_DECRYPTED [S9.4]
        # netisr_queue: the inner (or rebuilt transport) packet goes through IP input again.
        stack = host.inet4 if inner[0] >> 4 == 4 else host.inet6
        stack.input(rcvif, inner, tags)

    def in_reject(self, pkt: bytes, family: IpVersion, tags: PacketTags | None) -> bool:
        """ipsec4_in_reject: does the global SPD refuse this delivered or forwarded packet? [S9.6]

        A require/unique ESP request is met by M_DECRYPTED, which if_ipsec clears; with
        ``net.inet.ipsec.check_policy_history=1`` the IN_DONE tag that every decrypted
        packet keeps meets it too (DERIVED in the spec; the tag is not matched against
        the request's addresses here).
        """
        decrypted = tags is not None and (tags.decrypted or (
            tags.in_done and bool(self.host.sysctl.get("net.inet.ipsec.check_policy_history"))))
        src, dst, proto, sport, dport = _selectors(pkt, family)
        policy = self.keydb.allocsp("in", src, dst, proto, sport, dport)
        if policy is None:
            reject = self.host.sysctl.get("net.inet.ipsec.def_policy") == 0
        elif policy.policy == "discard":
            reject = True
        elif policy.policy != "ipsec":
            reject = False
        else:
            reject = any(
                request.proto == "esp" and not decrypted
                and self.keydb.level_of(policy, request) in ("require", "unique")
                for request in policy.requests
            )
        if reject:
            self._policy_drop(pkt, "in")
        return reject

    def checks_protocol(self, proto: int) -> bool:
        return proto in _CHECKED_PROTOCOLS


def _selectors(pkt: bytes, family: IpVersion) -> tuple:
    """(src, dst, upper protocol, sport, dport) as ipsec4_setspidx_ipaddr/ipsec4_get_ulp build them,
    with address objects for the SPD (``packet.iphdr.flow_selectors`` reads the bytes)."""
    src, dst, proto, sport, dport = flow_selectors(pkt)
    return ip_address(src), ip_address(dst), proto, sport, dport
