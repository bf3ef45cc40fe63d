"""Security policies (``struct secpolicy``) and their requests, SA indexes (``struct secasindex``).

A policy says what to do with packets whose addresses, ports and upper-layer
protocol match its selector: ``discard``, ``none`` (send in clear) or ``ipsec``
with up to four requests ``proto/mode/src-dst/level`` [S10.7]. Global policies
come from setkey's ``spdadd``; if_ipsec registers ``ifnet``-scope ones [S4.1].
The key engine (:mod:`.keydb`) owns them once added; these are plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from .enums import Direction, Level, Mode

__all__ = [
    "IpsecRequest",
    "SecurityPolicy",
    "SaIndex",
    "IPSEC_MAXREQ",
    "IPSEC_MANUAL_REQID_MAX",
    "IPSEC_ULPROTO_ANY",
    "POLICY_TYPES",
    "LEVELS",
    "PROTOS",
]

IPSEC_MAXREQ = 4  # requests per policy (ipsec.h) [S10.7]
IPSEC_MANUAL_REQID_MAX = 0x3FFF  # unique:N above this is replaced by the kernel [S2.6]
IPSEC_ULPROTO_ANY = 255
# Index = the kernel's number: ipsp_policy_strs, ipsec_dump_ipsecrequest's levels.
POLICY_TYPES = ("discard", "none", "ipsec", "entrust", "bypass")
LEVELS = tuple(Level)
PROTOS = {"esp": 50, "ah": 51, "ipcomp": 108}

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


@dataclass(frozen=True, slots=True)
class IpsecRequest:
    """One ``proto/mode/src-dst/level[:reqid]`` of an ipsec policy (``struct ipsecrequest``). [S10.7]

    ``src``/``dst`` are the SA endpoints: mandatory in tunnel mode, usually
    absent in transport mode (the packet's own addresses are used) [S10.7].
    ``reqid`` is meaningful with ``unique`` only (``unique:N``); the key engine
    allocates one from 16385 up for ``unique`` without a usable N [S2.1] [S2.6].
    """

    proto: str
    mode: Mode
    src: Address | None
    dst: Address | None
    level: Level
    reqid: int = 0

    def __str__(self) -> str:
        """As ``ipsec_dump_ipsecrequest`` prints it: ``esp/tunnel/A-B/unique#16385``. [S10.10]"""
        addrs = f"{self.src}-{self.dst}" if self.src is not None and self.dst is not None else ""
        text = f"{self.proto}/{self.mode}/{addrs}/{self.level}"
        if self.reqid:
            text += f"{'#' if self.reqid > IPSEC_MANUAL_REQID_MAX else ':'}{self.reqid}"
        return text


@dataclass(slots=True)
class SecurityPolicy:
    """A policy and its selector (``struct secpolicy`` + ``secpolicyindex``). [S4.1] [S7.11]

    ``priority`` orders global policies (lower first); if_ipsec stores its
    ifindex there [S4.1]. ``scope`` is "global" (setkey) or "ifnet" (if_ipsec,
    immutable to users [S4.4]); ``ifname`` names the interface of an ifnet
    policy. ``spid``, ``created`` and ``lastused`` are the key engine's.
    ``sport``/``dport`` 0 and ``ul_proto`` 255 mean any.
    """

    src: Network
    dst: Network
    sport: int = 0
    dport: int = 0
    ul_proto: int = IPSEC_ULPROTO_ANY
    direction: Direction = Direction.OUT
    policy: str = "ipsec"
    requests: tuple[IpsecRequest, ...] = ()
    priority: int = 0
    scope: str = "global"
    ifname: str | None = None
    spid: int = 0
    created: float = 0.0
    lastused: float = 0.0

    def matches(self, src: Address, dst: Address, ul_proto: int, sport: int, dport: int) -> bool:
        """``key_cmpspidx_withmask``: does a packet's selector fall under this policy? [S4.3]

        Families must agree; an ``any`` upper protocol or port matches everything;
        addresses are compared on the prefix lengths.
        """
        psrc, pdst = self.src, self.dst
        if src.version != psrc.version or dst.version != pdst.version:
            return False
        if self.ul_proto != IPSEC_ULPROTO_ANY and self.ul_proto != ul_proto:
            return False
        if self.sport and self.sport != sport:
            return False
        if self.dport and self.dport != dport:
            return False
        return src in psrc and dst in pdst

    def same_selector(self, other: SecurityPolicy) -> bool:
        """``key_cmpspidx_exactly``: prefixes, ports, upper protocol and direction all equal. [S7.11]"""
        return (
            self.direction == other.direction
            and self.src == other.src
            and self.dst == other.dst
            and self.ul_proto == other.ul_proto
            and self.sport == other.sport
            and self.dport == other.dport
        )


@dataclass(frozen=True, slots=True)
class SaIndex:
    """What groups SAs under one SA head (``struct secasindex``). [S7.1] [S7.3]

    ``mode`` "any" matches any requested mode; ``reqid`` 0 matches any reqid when
    the SA head is compared against a request (``CMP_MODE_REQID``).
    """

    proto: str
    mode: Mode
    reqid: int
    src: Address
    dst: Address

    def matches_request(self, wanted: SaIndex) -> bool:
        """``key_cmpsaidx(self, wanted, CMP_MODE_REQID)``: self is the SA head. [S7.1]"""
        return (
            self.proto == wanted.proto
            and (wanted.reqid == 0 or self.reqid == wanted.reqid)
            and (self.mode == Mode.ANY or self.mode == wanted.mode)
            and self.src == wanted.src
            and self.dst == wanted.dst
        )

    def matches_head(self, proto: str, src: Address, dst: Address) -> bool:
        """``CMP_HEAD``: protocol and addresses only (delete, get, deleteall). [S7.8]"""
        return self.proto == proto and self.src == src and self.dst == dst
