"""Why a packet was dropped: one enum, each reason with its FreeBSD counter and errno.

A reason's value is the name users see: in ``result.drops``, in the event log's
``drop`` events and in a scenario's ``expect: {drops: REASON}``. ``counters``
names the statistics FreeBSD bumps on that path (``struct ipstat``/``ip6stat``,
``icmpstat``, ``udpstat``, ``espstat``, ``ipsecstat`` or ``if_data`` fields, as
``netstat -s`` and ``netstat -i`` show them); the kernel bumps them at the drop
site, where it knows the family. ``errno`` is what a local sender sees from
``sendto()`` when the drop happens on its own packet (None: the call succeeds, or
the drop only ever happens to received packets).

Packets parsed in ``packet/`` raise ``MalformedPacket`` with a reason phrase and
ESP raises ``EspDrop`` naming its espstat counter; both phrases are values of this
enum, so ``DropReason(error.reason)`` / ``DropReason(error.counter)`` converts them.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["DropReason", "canonical_reason"]


class DropReason(str, Enum):
    """Every reason ``Host.drop`` accepts (value, counters, errno)."""

    counters: tuple[str, ...]
    errno: str | None

    def __new__(cls, value: str, counters: tuple[str, ...] = (), errno: str | None = None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.counters = counters
        member.errno = errno
        return member

    def __str__(self) -> str:
        return self._value_

    # -- the wire (world/link.py) ----------------------------------------------------
    LINK_DOWN = "link down", ("oerrors",), "ENETDOWN"
    LINK_LOSS = "link loss"  # lost on the wire: the sender counted it sent
    LINK_MTU = "larger than link MTU", ("oerrors",), "ENETDOWN"
    QUEUE_FULL = "queue full", ("oqdrops",), "ENOBUFS"  # if_transmit -> ENOBUFS, IFCOUNTER_OQDROPS
    # A host powered off (timeline "state: down"): what reaches it, or was still in its own
    # transmit queues, is lost; no counter is bumped, the host is not running.
    HOST_DOWN = "host down"

    # -- interfaces (net/if_ethersubr.c, net/if_loop.c, net/if_ipsec.c) ---------------
    # One name for an interface that is down, whichever interface type refuses the packet.
    NETDOWN = "ENETDOWN", ("oerrors",), "ENETDOWN"
    IPSEC_LOOP = "ENETDOWN (if_ipsec loop)", ("oerrors",), "ENETDOWN"  # ipsec_transmit, OUT_DONE tag
    AFNOSUPPORT = "EAFNOSUPPORT", ("oerrors",), "EAFNOSUPPORT"  # ipsec_transmit: not IPv4/IPv6
    MONITOR = "IFF_MONITOR"  # ipsec_if_input: counted in, then dropped
    IFDISABLED = "IPv6 disabled on interface (ND6_IFF_IFDISABLED)", (), "ENETDOWN"  # nd6_resolve
    UNKNOWN_VERSION = "malformed: unknown IP version", ("ips_badvers",)

    # -- IPv4 input (netinet/ip_input.c ip_input) --------------------------------------
    IP_TOOSHORT_HEADER = "truncated IPv4 header", ("ips_tooshort",)
    IP_BADHLEN = "bad IPv4 header length", ("ips_badhlen",)
    IP_BADSUM = "bad IPv4 header checksum", ("ips_badsum",)
    IP_BADLEN = "bad IPv4 total length", ("ips_badlen",)
    IP_TOOSHORT = "truncated IPv4 packet", ("ips_tooshort",)
    IP_BADVERS = "not IPv4", ("ips_badvers",)

    # -- IPv6 input (netinet6/ip6_input.c, frag6.c) --------------------------------------
    IP6_TOOSHORT_HEADER = "truncated IPv6 header", ("ip6s_tooshort",)
    IP6_TOOSHORT = "truncated IPv6 packet", ("ip6s_tooshort",)
    IP6_TOOSHORT_EXT = "truncated IPv6 extension header", ("ip6s_tooshort",)
    IP6_TOOSHORT_FRAG = "truncated IPv6 fragment header", ("ip6s_tooshort",)
    IP6_BADVERS = "not IPv6", ("ip6s_badvers",)
    IP6_BADLEN = "bad IPv6 payload length", ("ip6s_toosmall",)

    # -- both families: delivery, reassembly, forwarding, output --------------------------
    NOPROTO = "protocol unreachable", ("ips_noproto", "ip6s_noproto")  # ip_input/ip6_input
    FRAGDROPPED = "too many fragments", ("ips_fragdropped", "ip6s_fragdropped")  # ip_reass/frag6_input
    FRAGTIMEOUT = "reassembly timeout", ("ips_fragtimeout", "ip6s_fragtimeout")  # ipreass_slowtimo
    NOT_FORWARDING = "not forwarding (net.inet.ip.forwarding=0)", ("ips_cantforward",)  # ip_input
    NOT_FORWARDING6 = "not forwarding (net.inet6.ip6.forwarding=0)", ("ip6s_cantforward",)  # ip6_input
    TTL_EXCEEDED = "ttl exceeded"  # ip_forward answers ICMP_TIMXCEED; no ipstat counter
    HLIM_EXCEEDED = "hop limit exceeded"  # ip6_forward answers ICMP6_TIME_EXCEEDED
    NO_ROUTE = "no route", ("ips_noroute", "ip6s_noroute"), "EHOSTUNREACH"  # ip_output/ip6_output
    NEEDFRAG = "needs fragmentation (DF set)", ("ips_cantfrag",), "EMSGSIZE"  # ip_output
    CANTFRAG = "MTU too small to fragment", ("ips_cantfrag",), "EMSGSIZE"  # ip_fragment
    TOOBIG6 = "packet too big", ("ip6s_toobig",), "EMSGSIZE"  # ip6_output: no fragmenting en route
    BLACKHOLE = "blackhole route"  # looutput with RTF_BLACKHOLE: freed silently
    REJECT = "reject route", (), "EHOSTUNREACH"  # looutput RTF_REJECT (ENETUNREACH for a net route)

    # -- ICMP and UDP input (ip_icmp.c icmp_input, icmp6.c, udp_usrreq.c udp_input) ----------
    ICMP_TOOSHORT = "truncated ICMP header", ("icps_tooshort",)
    ICMP_BADSUM = "bad ICMP checksum", ("icps_checksum",)
    ICMP6_TOOSHORT = "truncated ICMPv6 header", ("icp6s_tooshort",)
    ICMP6_BADSUM = "bad ICMPv6 checksum", ("icp6s_checksum",)
    UDP_TOOSHORT = "truncated UDP header", ("udps_hdrops",)
    UDP_BADLEN = "bad UDP length", ("udps_badlen",)
    UDP6_NOSUM = "zero UDP checksum over IPv6", ("udps_nosum",)  # RFC 8200 8.1
    UDP_BADSUM = "bad UDP checksum", ("udps_badsum",)
    NOPORT = "port unreachable", ("udps_noport",)

    # -- IPsec policy (netipsec/ipsec.c, ipsec_output.c) ---------------------------------
    OUT_POLVIO = "ips_out_polvio", ("ips_out_polvio",), "EACCES"  # ipsec4_common_output
    IN_POLVIO = "ips_in_polvio", ("ips_in_polvio",)  # ipsec4_in_reject
    # ipsec4_process_packet: key_allocsa_policy found none; sendto() succeeds (EINPROGRESS).
    OUT_NOSA = "ips_out_nosa", ("ips_out_nosa", "ips_out_inval")

    # -- ESP (netipsec/xform_esp.c, ipsec_input.c): the espstat field is the name ----------
    ESP_HDROPS = "esps_hdrops", ("esps_hdrops",)
    ESP_NOPF = "esps_nopf", ("esps_nopf",)
    ESP_NOTDB = "esps_notdb", ("esps_notdb",)
    ESP_NOXFORM = "esps_noxform", ("esps_noxform",)
    ESP_BADILEN = "esps_badilen", ("esps_badilen",)
    ESP_REPLAY = "esps_replay", ("esps_replay",)
    ESP_WRAP = "esps_wrap", ("esps_wrap", "esps_replay")
    ESP_BADENC = "esps_badenc", ("esps_badenc",)
    ESP_BADAUTH = "esps_badauth", ("esps_badauth",)
    ESP_TOOBIG = "esps_toobig", ("esps_toobig",), "EMSGSIZE"  # esp_output
    ESP_PDROPS = "esps_pdrops", ("esps_pdrops",), "EHOSTUNREACH"  # net.inet.esp.esp_enable=0
    ESP_QFULL = "esps_qfull", ("esps_qfull",)
    ESP_OUTPUT_ERROR = "esp output error", (), "EINVAL"  # an EspDrop naming no counter, on output
    ESP_DUMMY = "esp next header none (dummy)"  # RFC 4303 2.6: next header 59, silently

    # -- OSPF (ospfd) -------------------------------------------------------------------
    # What FRR's ospfd discards (ospfd/ospf_packet.c) and the RFC 2328 8.2 / 10.5 / 10.6 checks.
    # ospfd reads from a raw socket, so none of these is a kernel counter.
    OSPF_TOOSHORT = "OSPF packet too short"
    OSPF_BADVERS = "OSPF bad version"
    OSPF_BADLEN = "OSPF bad length"  # the header's length past the bytes, or under 24
    OSPF_BADSUM = "OSPF bad checksum"
    OSPF_BADTYPE = "OSPF unknown packet type"
    OSPF_BADBODY = "OSPF bad body"  # a list or an LSA that does not fit the packet
    OSPF_LSA_BADSUM = "OSPF LSA bad checksum"  # the Fletcher checksum of an LSA in an LS Update
    OSPF_AUTH = "OSPF authentication not supported"  # AuType 1 (password) and 2 (cryptographic)
    OSPF_AREA_MISMATCH = "OSPF area mismatch"
    OSPF_HELLO_MISMATCH = "OSPF hello mismatch"  # HelloInterval, RouterDeadInterval or mask differ
    OSPF_NOT_ENABLED = "OSPF not enabled on interface"
    OSPF_UNKNOWN_NEIGHBOR = "OSPF unknown neighbor"
    OSPF_OWN_PACKET = "OSPF own packet"
    OSPF_MTU_MISMATCH = "OSPF MTU mismatch"  # a DD's interface MTU above ours (10.6)

    # -- IKE (charon) -------------------------------------------------------------------
    # What an IKEv2 daemon discards on receipt (RFC 7296 2.5, 3.1, 3.14); it reads a UDP
    # socket, so none of these is a kernel counter.
    IKE_TOOSHORT = "IKE message too short"  # under the 28-byte header
    IKE_BADVERS = "IKE bad version"  # major version not 2
    IKE_BADLEN = "IKE bad length"  # the header's length differs from the datagram's
    IKE_BADPLEN = "IKE bad payload length"  # a payload runs past the message, or bytes after the chain
    IKE_BADPAYLOAD = "IKE bad payload"  # a payload's body does not decode
    IKE_SK_NOT_LAST = "IKE SK payload not last"
    IKE_BADSK = "IKE bad SK payload"  # too short for IV and ICV, not whole blocks, bad padding
    IKE_SK_INTEGRITY = "IKE SK integrity check failed"
    IKE_BADKE = "IKE bad KE data"  # a public value of the wrong size or not on the curve

    @classmethod
    def _missing_(cls, value):
        return _ALIASES.get(value) if isinstance(value, str) else None


# Names a scenario may have written before two spellings of one condition became one.
_ALIASES = {"interface down": DropReason.NETDOWN}


def canonical_reason(name: str) -> str:
    """The name the run uses for ``name``: itself, or the reason an old alias now stands for."""
    reason = _ALIASES.get(name)
    return reason.value if reason is not None else name
