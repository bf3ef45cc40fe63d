"""OSPFv2 packets (RFC 2328 appendix A): the five packet types, LSA headers and router-LSAs.

Sans-IO, as the rest of ``packet/``: ``parse_ospf`` takes the bytes after the IP header and
returns an :class:`OspfPacket`, or raises :class:`MalformedPacket` whose reason is a drop
reason's name; ``OspfPacket.to_bytes`` builds the bytes with length and checksum filled in.
Only router-LSAs (A.4.2) are decoded; LSAs of other types travel as opaque bodies. Only null
authentication (D.4.1) is accepted.

The checks made on receipt, and their order, follow RFC 2328 8.2 and what FRR's ospfd checks
before it looks at a packet's contents (``ospf_packet_examin``, ``ospf_lsaseq_examin``,
``ospf_router_lsa_links_examin`` in ospfd/ospf_packet.c): a list of LSA headers or LSAs must
fill the packet exactly, an LSA's length must cover at least its header, a router-LSA's links
must be as many as it declares.
"""

from dataclasses import dataclass, replace
from ipaddress import IPv4Address
from itertools import accumulate
import struct
from typing import Callable, ClassVar, Final, Sequence, TypeAlias

from .checksum import internet_checksum
from .errors import MalformedPacket

__all__ = [
    "OSPF_PROTO", "ALL_SPF_ROUTERS", "ALL_D_ROUTERS",
    "HELLO", "DB_DESCRIPTION", "LS_REQUEST", "LS_UPDATE", "LS_ACK",
    "ROUTER_LSA", "LINK_PTP", "LINK_TRANSIT", "LINK_STUB", "LINK_VIRTUAL",
    "OPTION_E", "DD_MS", "DD_M", "DD_I",
    "MAX_AGE", "MAX_AGE_DIFF", "LS_REFRESH_TIME", "INITIAL_SEQ", "MAX_SEQ",
    "LsaHeader", "Lsa", "RouterLink", "compare_lsa", "router_lsa", "lsa_checksum", "lsa_checksum_ok",
    "Hello", "DatabaseDescription", "LinkStateRequest", "LinkStateUpdate", "LinkStateAck",
    "Body", "OspfPacket", "parse_ospf",
]

OSPF_PROTO: Final = 89  # IPPROTO_OSPFIGP in FreeBSD's netinet/in.h
ALL_SPF_ROUTERS: Final = IPv4Address("224.0.0.5")  # RFC 2328 A.1
ALL_D_ROUTERS: Final = IPv4Address("224.0.0.6")

HELLO, DB_DESCRIPTION, LS_REQUEST, LS_UPDATE, LS_ACK = 1, 2, 3, 4, 5  # A.3.1
ROUTER_LSA: Final = 1  # A.4.1; other LSA types are carried as opaque bodies
LINK_PTP, LINK_TRANSIT, LINK_STUB, LINK_VIRTUAL = 1, 2, 3, 4  # A.4.2
OPTION_E: Final = 0x02  # A.2: the router accepts AS-external-LSAs (not a stub area)
DD_MS, DD_M, DD_I = 0x01, 0x02, 0x04  # A.3.3: master, more, init

# Architectural constants (RFC 2328 appendix B), in seconds.
MAX_AGE: Final = 3600
MAX_AGE_DIFF: Final = 900
LS_REFRESH_TIME: Final = 1800
# LS sequence numbers are signed 32-bit (12.1.6); 0x80000000 is reserved and never used.
INITIAL_SEQ: Final = -0x7FFFFFFF
MAX_SEQ: Final = 0x7FFFFFFF

_VERSION: Final = 2
_HEADER: Final = struct.Struct("!BBH4s4sHH8s")  # A.3.1: 24 bytes
_LSA_HEADER: Final = struct.Struct("!HBB4s4siHH")  # A.4.1: 20 bytes, the sequence number signed
_HELLO: Final = struct.Struct("!4sHBBI4s4s")  # A.3.2, before the neighbor list
_DD: Final = struct.Struct("!HBBI")  # A.3.3, before the LSA headers
_REQUEST: Final = struct.Struct("!I4s4s")  # A.3.4: one request, the LS type in 32 bits
_COUNT: Final = struct.Struct("!I")  # A.3.5: # LSAs
_ROUTER_HEAD: Final = struct.Struct("!BBH")  # A.4.2: flags, 0, # links
_LINK: Final = struct.Struct("!4s4sBBH")  # A.4.2: link id, link data, type, # TOS, metric
_CHECKSUM_AT: Final = 14  # the LS checksum's offset in the checksummed bytes (the LSA after its age)

_AUTH_NULL: Final = 0
_AUTH_CRYPTOGRAPHIC: Final = 2

# Reasons: the values of the OSPF members of kernel/drops.py's DropReason.
_TOOSHORT: Final = "OSPF packet too short"
_BADVERS: Final = "OSPF bad version"
_BADLEN: Final = "OSPF bad length"
_BADSUM: Final = "OSPF bad checksum"
_BADTYPE: Final = "OSPF unknown packet type"
_BADBODY: Final = "OSPF bad body"
_LSA_BADSUM: Final = "OSPF LSA bad checksum"
_AUTH: Final = "OSPF authentication not supported"


# --- LSAs ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LsaHeader:
    """The 20-byte LSA header (A.4.1), as it travels in DD and LS Ack packets and before each LSA."""

    age: int
    options: int
    type: int
    link_state_id: IPv4Address
    advertising_router: IPv4Address
    seq: int
    checksum: int
    length: int

    @property
    def key(self) -> tuple[int, IPv4Address, IPv4Address]:
        """What identifies an LSA in the database (12.1): LS type, Link State ID, Advertising Router."""
        return (self.type, self.link_state_id, self.advertising_router)

    def to_bytes(self) -> bytes:
        return _LSA_HEADER.pack(self.age, self.options, self.type, self.link_state_id.packed,
                                self.advertising_router.packed, self.seq, self.checksum, self.length)

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> "LsaHeader":
        """The header in the first 20 bytes of ``data``; its length field is not checked here."""
        if len(data) < 20:
            raise MalformedPacket(_BADBODY)
        age, options, type_, lsid, adv, seq, checksum, length = _LSA_HEADER.unpack_from(data)
        return cls(age, options, type_, IPv4Address(lsid), IPv4Address(adv), seq, checksum, length)


def compare_lsa(a: LsaHeader, b: LsaHeader) -> int:
    """RFC 2328 13.1: >0 if ``a`` is the more recent instance, <0 if ``b`` is, 0 if they are the same.

    In order: the greater sequence number (signed), the greater checksum, the one aged MaxAge,
    then, when the ages differ by more than MaxAgeDiff, the younger. An age above MaxAge counts
    as MaxAge, as in FRR's ``ospf_lsa_more_recent``.
    """
    if a.seq != b.seq:
        return 1 if a.seq > b.seq else -1
    if a.checksum != b.checksum:
        return 1 if a.checksum > b.checksum else -1
    age_a = a.age if a.age < MAX_AGE else MAX_AGE
    age_b = b.age if b.age < MAX_AGE else MAX_AGE
    if (age_a == MAX_AGE) != (age_b == MAX_AGE):
        return 1 if age_a == MAX_AGE else -1
    if abs(age_a - age_b) > MAX_AGE_DIFF:
        return 1 if age_a < age_b else -1
    return 0


@dataclass(frozen=True, slots=True)
class RouterLink:
    """One link of a router-LSA (A.4.2). TOS metrics (always zero of them today) are not kept."""

    link_id: IPv4Address
    link_data: IPv4Address
    type: int
    metric: int


@dataclass(frozen=True, slots=True)
class Lsa:
    """One LSA: its header (age, seq, checksum, length as on the wire) and body bytes."""

    header: LsaHeader
    body: bytes

    def to_bytes(self) -> bytes:
        return self.header.to_bytes() + self.body

    def with_age(self, age: int) -> "Lsa":
        """The same LSA aged ``age``: the checksum leaves the age out (12.1.7), so it still holds."""
        return Lsa(replace(self.header, age=age), self.body)

    @property
    def router_links(self) -> tuple[RouterLink, ...]:
        """The links of a router-LSA; MalformedPacket for another type or a body that does not parse."""
        if self.header.type != ROUTER_LSA:
            raise MalformedPacket(_BADBODY)
        return _router_links(self.body)

    @property
    def router_flags(self) -> int:
        """The V/E/B bits of a router-LSA (A.4.2: virtual link endpoint, ASBR, ABR)."""
        if self.header.type != ROUTER_LSA or not self.body:
            raise MalformedPacket(_BADBODY)
        return self.body[0]

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> "Lsa":
        """One whole LSA at the start of ``data``, checked as an LS Update's LSAs are."""
        raw = bytes(data)
        header = _checked_header(raw, 0)
        if header.length > len(raw):
            raise MalformedPacket(_BADBODY)
        lsa = cls(header, raw[20:header.length])
        if header.type == ROUTER_LSA:
            _router_links(lsa.body)
        if not lsa_checksum_ok(raw):
            raise MalformedPacket(_LSA_BADSUM)
        return lsa


def _router_links(body: bytes) -> tuple[RouterLink, ...]:
    """Decode a router-LSA body, strict as FRR's ospf_router_lsa_links_examin: every 12-byte
    block that fits is a link (its TOS entries skipped), and they must be as many as declared."""
    end = len(body)
    if end < 4 or end % 4:
        raise MalformedPacket(_BADBODY)
    declared = _ROUTER_HEAD.unpack_from(body)[2]
    links = []
    offset = 4
    while end - offset >= 12:
        link_id, link_data, type_, tos_count, metric = _LINK.unpack_from(body, offset)
        offset += 12 + 4 * tos_count
        if offset > end:
            raise MalformedPacket(_BADBODY)
        links.append(RouterLink(IPv4Address(link_id), IPv4Address(link_data), type_, metric))
    if len(links) != declared:
        raise MalformedPacket(_BADBODY)
    return tuple(links)


def _fletcher_sums(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """The two running sums of the ISO 8473 checksum (RFC 905 annex B), mod 255.

    C1 adds C0 after each byte, so it is the sum of C0's prefix sums: two C-level passes."""
    return sum(data) % 255, sum(accumulate(data)) % 255


def lsa_checksum(raw: bytes | bytearray | memoryview) -> int:
    """The LS checksum the LSA at the start of ``raw`` should carry (12.1.7).

    The ISO 8473 Fletcher checksum over the LSA without its age field, with the checksum field
    taken as zero and the two checksum bytes chosen so that the whole verifies.
    """
    length = (raw[18] << 8) | raw[19] if len(raw) >= 20 else len(raw)
    data = bytearray(raw[2:length if 20 <= length <= len(raw) else len(raw)])
    data[_CHECKSUM_AT:_CHECKSUM_AT + 2] = b"\x00\x00"
    c0, c1 = _fletcher_sums(data)
    after = len(data) - _CHECKSUM_AT  # bytes from the checksum's first byte to the end
    x = ((after - 1) * c0 - c1) % 255
    y = (c1 - after * c0) % 255
    return ((x or 255) << 8) | (y or 255)


def lsa_checksum_ok(raw: bytes | bytearray | memoryview) -> bool:
    """Whether the LSA at the start of ``raw`` verifies (12.1.7): both Fletcher sums are zero.

    False as well when its length field is under 20 or runs past ``raw``.
    """
    if len(raw) < 20:
        return False
    length = (raw[18] << 8) | raw[19]
    if length < 20 or length > len(raw):
        return False
    c0, c1 = _fletcher_sums(memoryview(raw)[2:length])
    return c0 == 0 and c1 == 0


def router_lsa(*, age: int, options: int, router_id: IPv4Address, seq: int, flags: int,
               links: Sequence[RouterLink]) -> Lsa:
    """A router-LSA (link state id = advertising router = router_id) with its length and its
    Fletcher checksum computed (RFC 2328 12.1.7, the ISO 8473 checksum over the LSA without
    the age field, placed so the whole verifies)."""
    body = _ROUTER_HEAD.pack(flags, 0, len(links)) + b"".join(
        _LINK.pack(link.link_id.packed, link.link_data.packed, link.type, 0, link.metric) for link in links)
    length = 20 + len(body)
    if length > 0xFFFF:
        raise ValueError(f"router-LSA of {len(links)} links longer than 65535 bytes")
    head = _LSA_HEADER.pack(age, options, ROUTER_LSA, router_id.packed, router_id.packed, seq, 0, length)
    checksum = lsa_checksum(head + body)
    return Lsa(LsaHeader(age, options, ROUTER_LSA, router_id, router_id, seq, checksum, length), body)


def _checked_header(data: bytes, offset: int) -> LsaHeader:
    """An LSA header inside a packet: its length covers the header (and, for a router-LSA, the
    4 bytes before the links, in whole 32-bit words), as FRR's ospf_lsa_examin requires."""
    if len(data) - offset < 20:
        raise MalformedPacket(_BADBODY)
    age, options, type_, lsid, adv, seq, checksum, length = _LSA_HEADER.unpack_from(data, offset)
    if length < 20 or (type_ == ROUTER_LSA and (length < 24 or length % 4)):
        raise MalformedPacket(_BADBODY)
    return LsaHeader(age, options, type_, IPv4Address(lsid), IPv4Address(adv), seq, checksum, length)


def _headers(data: bytes, offset: int) -> tuple[LsaHeader, ...]:
    if (len(data) - offset) % 20:
        raise MalformedPacket(_BADBODY)
    return tuple(_checked_header(data, at) for at in range(offset, len(data), 20))


# --- the five packet bodies (A.3.2 - A.3.6) --------------------------------------------------

@dataclass(frozen=True, slots=True)
class Hello:
    """A.3.2. Intervals in seconds; the neighbors are the router IDs heard on the interface."""

    TYPE: ClassVar[int] = HELLO

    network_mask: IPv4Address
    hello_interval: int
    options: int
    priority: int
    dead_interval: int
    designated_router: IPv4Address
    backup_router: IPv4Address
    neighbors: tuple[IPv4Address, ...] = ()

    def to_bytes(self) -> bytes:
        return _HELLO.pack(self.network_mask.packed, self.hello_interval, self.options, self.priority,
                           self.dead_interval, self.designated_router.packed, self.backup_router.packed
                           ) + b"".join(n.packed for n in self.neighbors)

    @classmethod
    def _parse(cls, data: bytes) -> "Hello":
        if len(data) < 20 or len(data) % 4:
            raise MalformedPacket(_BADBODY)
        mask, hello, options, priority, dead, dr, bdr = _HELLO.unpack_from(data)
        neighbors = tuple(IPv4Address(data[at:at + 4]) for at in range(20, len(data), 4))
        return cls(IPv4Address(mask), hello, options, priority, dead, IPv4Address(dr), IPv4Address(bdr),
                   neighbors)


@dataclass(frozen=True, slots=True)
class DatabaseDescription:
    """A.3.3. ``flags`` is the I/M/MS byte (``DD_I | DD_M | DD_MS``)."""

    TYPE: ClassVar[int] = DB_DESCRIPTION

    mtu: int
    options: int
    flags: int
    dd_sequence: int
    headers: tuple[LsaHeader, ...] = ()

    def to_bytes(self) -> bytes:
        return _DD.pack(self.mtu, self.options, self.flags, self.dd_sequence) + b"".join(
            h.to_bytes() for h in self.headers)

    @classmethod
    def _parse(cls, data: bytes) -> "DatabaseDescription":
        if len(data) < 8:
            raise MalformedPacket(_BADBODY)
        mtu, options, flags, dd_sequence = _DD.unpack_from(data)
        return cls(mtu, options, flags, dd_sequence, _headers(data, 8))


@dataclass(frozen=True, slots=True)
class LinkStateRequest:
    """A.3.4: the LSAs asked for, each as (LS type, Link State ID, Advertising Router)."""

    TYPE: ClassVar[int] = LS_REQUEST

    requests: tuple[tuple[int, IPv4Address, IPv4Address], ...]

    def to_bytes(self) -> bytes:
        return b"".join(_REQUEST.pack(t, lsid.packed, adv.packed) for t, lsid, adv in self.requests)

    @classmethod
    def _parse(cls, data: bytes) -> "LinkStateRequest":
        if len(data) % 12:
            raise MalformedPacket(_BADBODY)
        return cls(tuple((t, IPv4Address(lsid), IPv4Address(adv))
                         for t, lsid, adv in _REQUEST.iter_unpack(data)))


@dataclass(frozen=True, slots=True)
class LinkStateUpdate:
    """A.3.5: whole LSAs, flooded or answering a request."""

    TYPE: ClassVar[int] = LS_UPDATE

    lsas: tuple[Lsa, ...]

    def to_bytes(self) -> bytes:
        return _COUNT.pack(len(self.lsas)) + b"".join(lsa.to_bytes() for lsa in self.lsas)

    @classmethod
    def _parse(cls, data: bytes) -> "LinkStateUpdate":
        if len(data) < 4:
            raise MalformedPacket(_BADBODY)
        declared = _COUNT.unpack_from(data)[0]
        # The layout first, as FRR examines a packet before it reads any LSA: the LSAs must
        # fill the packet exactly and be as many as declared.
        lsas = []
        offset, end = 4, len(data)
        while offset < end:
            header = _checked_header(data, offset)
            if header.length > end - offset:
                raise MalformedPacket(_BADBODY)
            lsa = Lsa(header, data[offset + 20:offset + header.length])
            if header.type == ROUTER_LSA:
                _router_links(lsa.body)
            lsas.append(lsa)
            offset += header.length
        if len(lsas) != declared:
            raise MalformedPacket(_BADBODY)
        # Then each LSA's checksum (RFC 2328 13, step 1).
        offset = 4
        for lsa in lsas:
            if not lsa_checksum_ok(memoryview(data)[offset:]):
                raise MalformedPacket(_LSA_BADSUM)
            offset += lsa.header.length
        return cls(tuple(lsas))


@dataclass(frozen=True, slots=True)
class LinkStateAck:
    """A.3.6: the headers of the LSAs acknowledged."""

    TYPE: ClassVar[int] = LS_ACK

    headers: tuple[LsaHeader, ...]

    def to_bytes(self) -> bytes:
        return b"".join(h.to_bytes() for h in self.headers)

    @classmethod
    def _parse(cls, data: bytes) -> "LinkStateAck":
        return cls(_headers(data, 0))


Body: TypeAlias = Hello | DatabaseDescription | LinkStateRequest | LinkStateUpdate | LinkStateAck

_PARSERS: Final[dict[int, Callable[[bytes], Body]]] = {
    HELLO: Hello._parse,
    DB_DESCRIPTION: DatabaseDescription._parse,
    LS_REQUEST: LinkStateRequest._parse,
    LS_UPDATE: LinkStateUpdate._parse,
    LS_ACK: LinkStateAck._parse,
}


# --- the packet --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OspfPacket:
    """An OSPFv2 packet: the common header (A.3.1) and one of the five bodies."""

    router_id: IPv4Address
    area_id: IPv4Address
    body: Body
    auth_type: int = _AUTH_NULL
    auth: bytes = bytes(8)

    @property
    def type(self) -> int:
        return self.body.TYPE

    def to_bytes(self) -> bytes:
        """Version 2, the length, and the checksum (D.4: the Internet checksum of the whole
        packet with the 8-byte authentication field left out; zero under cryptographic
        authentication, D.4.3)."""
        if len(self.auth) != 8:
            raise ValueError("OSPF authentication field must be 8 bytes")
        body = self.body.to_bytes()
        length = 24 + len(body)
        if length > 0xFFFF:
            raise ValueError("OSPF packet longer than 65535 bytes")
        head = _HEADER.pack(_VERSION, self.body.TYPE, length, self.router_id.packed, self.area_id.packed,
                            0, self.auth_type, self.auth)
        checksum = 0 if self.auth_type == _AUTH_CRYPTOGRAPHIC else internet_checksum(head[:16] + body)
        return head[:12] + checksum.to_bytes(2, "big") + head[14:] + body


def parse_ospf(data: bytes | bytearray | memoryview) -> OspfPacket:
    """The OSPF payload of an IP packet (after the IP header). Raises MalformedPacket with a
    reason that is a DropReason value: too short, bad version, bad length (header length field
    vs bytes), bad checksum, unknown type, bad body (truncated lists, LSA length < 20 or past
    the end), LSA bad checksum (in an LS Update). Never any other exception, on any input.

    Authentication other than null (AuType 1, simple password; 2, cryptographic) is refused
    before the checksum, which cryptographic authentication does not compute (D.4.3). Bytes
    past the header's length are not the packet's and are ignored.
    """
    data = bytes(data)
    if len(data) < 24:
        raise MalformedPacket(_TOOSHORT)
    version, type_, length, router_id, area_id, _checksum, auth_type, auth = _HEADER.unpack_from(data)
    if version != _VERSION:
        raise MalformedPacket(_BADVERS)
    if length < 24 or length > len(data):
        raise MalformedPacket(_BADLEN)
    if auth_type != _AUTH_NULL:
        raise MalformedPacket(_AUTH)
    if internet_checksum(data[:16] + data[24:length]) != 0:
        raise MalformedPacket(_BADSUM)
    parser = _PARSERS.get(type_)
    if parser is None:
        raise MalformedPacket(_BADTYPE)
    return OspfPacket(IPv4Address(router_id), IPv4Address(area_id), parser(data[24:length]), auth_type, auth)
