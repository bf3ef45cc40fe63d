"""IKEv2 messages (RFC 7296 section 3): the header and the payloads a PSK daemon exchanges.

Sans-IO: ``parse_ike`` takes a UDP payload and returns an :class:`IkeMessage`, or raises
:class:`MalformedIke` whose ``reason`` is the value of a member of kernel/drops.py's
``DropReason`` (the ``IKE_*`` members); ``IkeMessage.to_bytes`` builds the bytes with every
length and next-payload field filled in. The Encrypted payload (SK, 3.14) stays opaque here:
:mod:`ipsecsim.ike.keys` seals and opens it, and ``parse_payloads`` reads what it held.
Payload types this module does not decode (CERT, CERTREQ, V, CP, EAP...) travel as
:class:`UnknownPayload` with their critical bit, so the daemon can answer
UNSUPPORTED_CRITICAL_PAYLOAD (2.5) itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
import struct
from typing import ClassVar, Final, TypeAlias

__all__ = [
    "MalformedIke",
    "IKE_SA_INIT", "IKE_AUTH", "CREATE_CHILD_SA", "INFORMATIONAL", "EXCHANGE_NAMES",
    "FLAG_INITIATOR", "FLAG_VERSION", "FLAG_RESPONSE",
    "PT_NONE", "PT_SA", "PT_KE", "PT_IDI", "PT_IDR", "PT_CERT", "PT_CERTREQ", "PT_AUTH",
    "PT_NONCE", "PT_NOTIFY", "PT_DELETE", "PT_VENDOR", "PT_TSI", "PT_TSR", "PT_SK", "PT_CP", "PT_EAP",
    "PROTO_IKE", "PROTO_AH", "PROTO_ESP",
    "TRANSFORM_ENCR", "TRANSFORM_PRF", "TRANSFORM_INTEG", "TRANSFORM_DH", "TRANSFORM_ESN",
    "ATTR_KEY_LENGTH",
    "ID_IPV4_ADDR", "ID_FQDN", "ID_RFC822_ADDR", "ID_IPV6_ADDR", "ID_KEY_ID",
    "AUTH_SHARED_KEY_MIC",
    "TS_IPV4_ADDR_RANGE", "TS_IPV6_ADDR_RANGE",
    "UNSUPPORTED_CRITICAL_PAYLOAD", "INVALID_IKE_SPI", "INVALID_MAJOR_VERSION", "INVALID_SYNTAX",
    "INVALID_MESSAGE_ID", "INVALID_SPI", "NO_PROPOSAL_CHOSEN", "INVALID_KE_PAYLOAD",
    "AUTHENTICATION_FAILED", "SINGLE_PAIR_REQUIRED", "NO_ADDITIONAL_SAS", "INTERNAL_ADDRESS_FAILURE",
    "FAILED_CP_REQUIRED", "TS_UNACCEPTABLE", "INVALID_SELECTORS", "TEMPORARY_FAILURE",
    "CHILD_SA_NOT_FOUND", "INITIAL_CONTACT", "SET_WINDOW_SIZE", "ADDITIONAL_TS_POSSIBLE",
    "IPCOMP_SUPPORTED", "NAT_DETECTION_SOURCE_IP", "NAT_DETECTION_DESTINATION_IP", "COOKIE",
    "USE_TRANSPORT_MODE", "HTTP_CERT_LOOKUP_SUPPORTED", "REKEY_SA", "ESP_TFC_PADDING_NOT_SUPPORTED",
    "NON_FIRST_FRAGMENTS_ALSO",
    "Transform", "SaProposal", "SaPayload", "KePayload", "NoncePayload", "IdPayload",
    "AuthPayload", "NotifyPayload", "DeletePayload", "TrafficSelector", "TsPayload",
    "EncryptedPayload", "UnknownPayload", "Payload", "IkeMessage",
    "parse_ike", "parse_payloads", "HEADER_LEN",
]


class MalformedIke(ValueError):
    """Bytes that are not an IKEv2 message (or an SK payload that does not verify).

    ``reason`` is the value of one of the ``IKE_*`` members of ``DropReason``, a short phrase
    such as ``"IKE bad payload length"``; the daemon logs it and drops the message.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# Exchange types (3.1).
IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL = 34, 35, 36, 37
EXCHANGE_NAMES: Final = {IKE_SA_INIT: "IKE_SA_INIT", IKE_AUTH: "IKE_AUTH", CREATE_CHILD_SA: "CREATE_CHILD_SA",
                         INFORMATIONAL: "INFORMATIONAL"}
# Header flags (3.1): the bits are counted from the right, so I is 0x08, V 0x10, R 0x20.
FLAG_INITIATOR: Final = 0x08
FLAG_VERSION: Final = 0x10
FLAG_RESPONSE: Final = 0x20

# Payload types (3.2).
PT_NONE = 0
PT_SA, PT_KE, PT_IDI, PT_IDR, PT_CERT, PT_CERTREQ, PT_AUTH = 33, 34, 35, 36, 37, 38, 39
PT_NONCE, PT_NOTIFY, PT_DELETE, PT_VENDOR, PT_TSI, PT_TSR, PT_SK, PT_CP, PT_EAP = range(40, 49)

# Protocol IDs (3.3.1) and transform types (3.3.2).
PROTO_IKE, PROTO_AH, PROTO_ESP = 1, 2, 3
TRANSFORM_ENCR, TRANSFORM_PRF, TRANSFORM_INTEG, TRANSFORM_DH, TRANSFORM_ESN = 1, 2, 3, 4, 5
ATTR_KEY_LENGTH: Final = 14  # 3.3.5: the only attribute RFC 7296 defines, always TV

# Identification types (3.5), authentication methods (3.8), traffic selector types (3.13.1).
ID_IPV4_ADDR, ID_FQDN, ID_RFC822_ADDR, ID_IPV6_ADDR, ID_KEY_ID = 1, 2, 3, 5, 11
AUTH_SHARED_KEY_MIC: Final = 2
TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE = 7, 8

# Notify message types (3.10.1): errors below 16384, status types above.
UNSUPPORTED_CRITICAL_PAYLOAD = 1
INVALID_IKE_SPI = 4
INVALID_MAJOR_VERSION = 5
INVALID_SYNTAX = 7
INVALID_MESSAGE_ID = 9
INVALID_SPI = 11
NO_PROPOSAL_CHOSEN = 14
INVALID_KE_PAYLOAD = 17
AUTHENTICATION_FAILED = 24
SINGLE_PAIR_REQUIRED = 34
NO_ADDITIONAL_SAS = 35
INTERNAL_ADDRESS_FAILURE = 36
FAILED_CP_REQUIRED = 37
TS_UNACCEPTABLE = 38
INVALID_SELECTORS = 39
TEMPORARY_FAILURE = 43
CHILD_SA_NOT_FOUND = 44
INITIAL_CONTACT = 16384
SET_WINDOW_SIZE = 16385
ADDITIONAL_TS_POSSIBLE = 16386
IPCOMP_SUPPORTED = 16387
NAT_DETECTION_SOURCE_IP = 16388
NAT_DETECTION_DESTINATION_IP = 16389
COOKIE = 16390
USE_TRANSPORT_MODE = 16391
HTTP_CERT_LOOKUP_SUPPORTED = 16392
REKEY_SA = 16393
ESP_TFC_PADDING_NOT_SUPPORTED = 16394
NON_FIRST_FRAGMENTS_ALSO = 16395

HEADER_LEN: Final = 28
_HEADER: Final = struct.Struct("!8s8sBBBBII")
_GENERIC: Final = struct.Struct("!BBH")
_PROPOSAL: Final = struct.Struct("!BBHBBBB")  # last, reserved, length, number, protocol, SPI size, # transforms
_TRANSFORM: Final = struct.Struct("!BBHBBH")  # last, reserved, length, type, reserved, id
_ATTR_TV: Final = struct.Struct("!HH")
_KE: Final = struct.Struct("!HH")
_TYPED: Final = struct.Struct("!B3s")  # ID and AUTH: a type byte and three reserved bytes
_NOTIFY: Final = struct.Struct("!BBH")
_DELETE: Final = struct.Struct("!BBH")
_TS_HEAD: Final = struct.Struct("!BHH")  # IP protocol, start port, end port (after type and length)
_CRITICAL: Final = 0x80
_VERSION_2_0: Final = 0x20
_MORE_PROPOSALS, _MORE_TRANSFORMS = 2, 3  # 3.3.1 / 3.3.2 "Last Substruc" values

# Reasons: the values of the IKE members of kernel/drops.py's DropReason.
_TOOSHORT: Final = "IKE message too short"
_BADVERS: Final = "IKE bad version"
_BADLEN: Final = "IKE bad length"
_BADPLEN: Final = "IKE bad payload length"
_BADPAYLOAD: Final = "IKE bad payload"
_SK_NOT_LAST: Final = "IKE SK payload not last"


def _bad(reason: str = _BADPAYLOAD) -> MalformedIke:
    return MalformedIke(reason)


# --- SA payload (3.3) ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Transform:
    """One transform (3.3.2): its type, its ID, and the Key Length attribute (3.3.5) in bits."""

    type: int
    id: int
    key_length: int | None = None

    def to_bytes(self, last: bool = True) -> bytes:
        attrs = b"" if self.key_length is None else _ATTR_TV.pack(0x8000 | ATTR_KEY_LENGTH, self.key_length)
        return _TRANSFORM.pack(0 if last else _MORE_TRANSFORMS, 0, 8 + len(attrs), self.type, 0, self.id) + attrs

    @classmethod
    def parse(cls, data: bytes) -> "Transform":
        """One transform filling ``data`` exactly (its own length already checked)."""
        _, _, _, type_, _, id_ = _TRANSFORM.unpack_from(data)
        key_length = None
        offset = 8
        while offset < len(data):
            if len(data) - offset < 4:
                raise _bad()
            af_type, value = _ATTR_TV.unpack_from(data, offset)
            # RFC 7296 defines only Key Length, always in the short (TV) form; anything else
            # is a proposal we could not honour, so it is refused rather than skipped.
            if af_type != 0x8000 | ATTR_KEY_LENGTH or key_length is not None:
                raise _bad()
            key_length = value
            offset += 4
        return cls(type_, id_, key_length)


@dataclass(frozen=True, slots=True)
class SaProposal:
    """One proposal substructure (3.3.1): number, protocol, SPI (empty in IKE_SA_INIT), transforms."""

    number: int
    protocol: int
    spi: bytes
    transforms: tuple[Transform, ...]

    def to_bytes(self, last: bool = True) -> bytes:
        body = b"".join(t.to_bytes(i == len(self.transforms) - 1) for i, t in enumerate(self.transforms))
        length = 8 + len(self.spi) + len(body)
        return _PROPOSAL.pack(0 if last else _MORE_PROPOSALS, 0, length, self.number, self.protocol,
                              len(self.spi), len(self.transforms)) + self.spi + body

    @classmethod
    def parse(cls, data: bytes) -> "SaProposal":
        _, _, _, number, protocol, spi_size, count = _PROPOSAL.unpack_from(data)
        if 8 + spi_size > len(data):
            raise _bad()
        spi = data[8:8 + spi_size]
        transforms = []
        offset = 8 + spi_size
        for i in range(count):
            if len(data) - offset < 8:
                raise _bad()
            last, _, length, *_ = _TRANSFORM.unpack_from(data, offset)
            if length < 8 or offset + length > len(data) or last != (0 if i == count - 1 else _MORE_TRANSFORMS):
                raise _bad()
            transforms.append(Transform.parse(data[offset:offset + length]))
            offset += length
        if offset != len(data):
            raise _bad()
        return cls(number, protocol, spi, tuple(transforms))


@dataclass(frozen=True, slots=True)
class SaPayload:
    """Security Association payload (3.3): the proposals, in order of preference."""

    payload_type: ClassVar[int] = PT_SA
    proposals: tuple[SaProposal, ...]

    def body(self) -> bytes:
        return b"".join(p.to_bytes(i == len(self.proposals) - 1) for i, p in enumerate(self.proposals))

    @classmethod
    def parse(cls, data: bytes) -> "SaPayload":
        proposals = []
        offset = 0
        while offset < len(data):
            if len(data) - offset < 8:
                raise _bad()
            last, _, length, *_ = _PROPOSAL.unpack_from(data, offset)
            if length < 8 or offset + length > len(data) or last not in (0, _MORE_PROPOSALS):
                raise _bad()
            proposals.append(SaProposal.parse(data[offset:offset + length]))
            offset += length
            if (last == 0) != (offset == len(data)):
                raise _bad()
        if not proposals:
            raise _bad()
        return cls(tuple(proposals))


# --- simple payloads -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class KePayload:
    """Key Exchange payload (3.4): the Diffie-Hellman group number and the public value."""

    payload_type: ClassVar[int] = PT_KE
    group: int
    data: bytes

    def body(self) -> bytes:
        return _KE.pack(self.group, 0) + self.data

    @classmethod
    def parse(cls, data: bytes) -> "KePayload":
        if len(data) < 4:
            raise _bad()
        return cls(_KE.unpack_from(data)[0], data[4:])


@dataclass(frozen=True, slots=True)
class NoncePayload:
    """Nonce payload (3.9), Ni or Nr by the message's direction."""

    payload_type: ClassVar[int] = PT_NONCE
    data: bytes

    def body(self) -> bytes:
        return self.data

    @classmethod
    def parse(cls, data: bytes) -> "NoncePayload":
        return cls(data)


@dataclass(frozen=True, slots=True)
class IdPayload:
    """Identification payload (3.5): IDi, or IDr when ``responder``.

    ``data`` is the identification as sent: 4 address bytes for ID_IPV4_ADDR, the name's
    ASCII for ID_FQDN and ID_RFC822_ADDR, opaque octets for ID_KEY_ID.
    """

    id_type: int
    data: bytes
    responder: bool = False

    @property
    def payload_type(self) -> int:
        return PT_IDR if self.responder else PT_IDI

    def body(self) -> bytes:
        """The bytes the AUTH payload's MACedIDFor* covers (RestOfInitIDPayload, 2.15)."""
        return _TYPED.pack(self.id_type, b"\0\0\0") + self.data

    @property
    def text(self) -> str:
        """The identity as strongSwan prints it: an address, a name, or the key id in hex."""
        if self.id_type == ID_IPV4_ADDR and len(self.data) == 4:
            return str(IPv4Address(self.data))
        if self.id_type == ID_IPV6_ADDR and len(self.data) == 16:
            return str(IPv6Address(self.data))
        if self.id_type in (ID_FQDN, ID_RFC822_ADDR):
            return self.data.decode("ascii", "backslashreplace")
        return self.data.hex()

    @classmethod
    def parse(cls, data: bytes, responder: bool = False) -> "IdPayload":
        if len(data) < 4:
            raise _bad()
        return cls(data[0], data[4:], responder)


@dataclass(frozen=True, slots=True)
class AuthPayload:
    """Authentication payload (3.8): the method (2: shared key MIC) and the AUTH value."""

    payload_type: ClassVar[int] = PT_AUTH
    method: int
    data: bytes

    def body(self) -> bytes:
        return _TYPED.pack(self.method, b"\0\0\0") + self.data

    @classmethod
    def parse(cls, data: bytes) -> "AuthPayload":
        if len(data) < 4:
            raise _bad()
        return cls(data[0], data[4:])


@dataclass(frozen=True, slots=True)
class NotifyPayload:
    """Notify payload (3.10): type, the protocol and SPI it is about (if any), and its data."""

    payload_type: ClassVar[int] = PT_NOTIFY
    notify_type: int
    protocol: int = 0
    spi: bytes = b""
    data: bytes = b""

    @property
    def is_error(self) -> bool:
        """Types below 16384 report errors (3.10.1)."""
        return self.notify_type < 16384

    def body(self) -> bytes:
        return _NOTIFY.pack(self.protocol, len(self.spi), self.notify_type) + self.spi + self.data

    @classmethod
    def parse(cls, data: bytes) -> "NotifyPayload":
        if len(data) < 4:
            raise _bad()
        protocol, spi_size, notify_type = _NOTIFY.unpack_from(data)
        if 4 + spi_size > len(data):
            raise _bad()
        return cls(notify_type, protocol, data[4:4 + spi_size], data[4 + spi_size:])


@dataclass(frozen=True, slots=True)
class DeletePayload:
    """Delete payload (3.11): the protocol and the SPIs (none for the IKE SA itself).

    All SPIs share one size; ``spi_size`` says it even when the list is empty.
    """

    payload_type: ClassVar[int] = PT_DELETE
    protocol: int
    spis: tuple[bytes, ...] = ()
    spi_size: int = 4

    def body(self) -> bytes:
        size = 0 if self.protocol == PROTO_IKE else self.spi_size
        return _DELETE.pack(self.protocol, size, len(self.spis)) + b"".join(self.spis)

    @classmethod
    def parse(cls, data: bytes) -> "DeletePayload":
        if len(data) < 4:
            raise _bad()
        protocol, size, count = _DELETE.unpack_from(data)
        if len(data) != 4 + size * count or (size == 0 and count) or (protocol == PROTO_IKE and size):
            raise _bad()
        spis = tuple(data[4 + i * size:4 + (i + 1) * size] for i in range(count))
        return cls(protocol, spis, size) if protocol != PROTO_IKE else cls(protocol)


@dataclass(frozen=True, slots=True)
class TrafficSelector:
    """One traffic selector (3.13.1): an address range, an IP protocol (0: any), a port range."""

    start: IPv4Address | IPv6Address
    end: IPv4Address | IPv6Address
    ip_protocol: int = 0
    start_port: int = 0
    end_port: int = 65535

    def __post_init__(self) -> None:
        if self.start.version != self.end.version:
            raise ValueError("a traffic selector's two addresses must be of one family (RFC 7296 3.13.1)")

    @property
    def ts_type(self) -> int:
        return TS_IPV4_ADDR_RANGE if self.start.version == 4 else TS_IPV6_ADDR_RANGE

    def to_bytes(self) -> bytes:
        addrs = self.start.packed + self.end.packed
        return struct.pack("!BBH", self.ts_type, self.ip_protocol, 8 + len(addrs)) + \
            struct.pack("!HH", self.start_port, self.end_port) + addrs


@dataclass(frozen=True, slots=True)
class TsPayload:
    """Traffic Selector payload (3.13): TSi, or TSr when ``responder``."""

    selectors: tuple[TrafficSelector, ...]
    responder: bool = False

    @property
    def payload_type(self) -> int:
        return PT_TSR if self.responder else PT_TSI

    def body(self) -> bytes:
        return struct.pack("!B3s", len(self.selectors), b"\0\0\0") + b"".join(s.to_bytes() for s in self.selectors)

    @classmethod
    def parse(cls, data: bytes, responder: bool = False) -> "TsPayload":
        if len(data) < 4:
            raise _bad()
        count = data[0]
        selectors = []
        offset = 4
        for _ in range(count):
            if len(data) - offset < 4:
                raise _bad()
            ts_type, ip_protocol, length = struct.unpack_from("!BBH", data, offset)
            size = {TS_IPV4_ADDR_RANGE: 4, TS_IPV6_ADDR_RANGE: 16}.get(ts_type)
            # Other TS types (FC, 4595's...) cannot be honoured by an IPv4/IPv6 daemon.
            if size is None or length != 8 + 2 * size or offset + length > len(data):
                raise _bad()
            start_port, end_port = struct.unpack_from("!HH", data, offset + 4)
            a = data[offset + 8:offset + 8 + size]
            b = data[offset + 8 + size:offset + length]
            addr = IPv4Address if size == 4 else IPv6Address
            selectors.append(TrafficSelector(addr(a), addr(b), ip_protocol, start_port, end_port))
            offset += length
        if offset != len(data) or not selectors:
            raise _bad()
        return cls(tuple(selectors), responder)


@dataclass(frozen=True, slots=True)
class EncryptedPayload:
    """Encrypted and Authenticated payload (SK, 3.14), opaque: IV, ciphertext and ICV.

    ``first_payload`` is the type of the first payload inside, which travels in the SK
    payload's own Next Payload field; the SK payload is always the last one.
    """

    payload_type: ClassVar[int] = PT_SK
    first_payload: int
    data: bytes

    def body(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class UnknownPayload:
    """Any payload this module does not decode, kept with its type and critical bit (2.5)."""

    payload_type: int
    data: bytes
    critical: bool = False

    def body(self) -> bytes:
        return self.data


Payload: TypeAlias = (SaPayload | KePayload | NoncePayload | IdPayload | AuthPayload | NotifyPayload
                      | DeletePayload | TsPayload | EncryptedPayload | UnknownPayload)


def _payload_chain(payloads: tuple[Payload, ...]) -> bytes:
    out = bytearray()
    for i, p in enumerate(payloads):
        if isinstance(p, EncryptedPayload):
            if i != len(payloads) - 1:
                raise ValueError("the SK payload must be the last payload (RFC 7296 3.14)")
            nxt = p.first_payload
        else:
            nxt = payloads[i + 1].payload_type if i + 1 < len(payloads) else PT_NONE
        body = p.body()
        flags = _CRITICAL if isinstance(p, UnknownPayload) and p.critical else 0
        out += _GENERIC.pack(nxt, flags, 4 + len(body)) + body
    return bytes(out)


def _first_type(payloads: tuple[Payload, ...]) -> int:
    return payloads[0].payload_type if payloads else PT_NONE


# --- the message -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IkeMessage:
    """One IKEv2 message (3.1): the header's fields and the payloads in order.

    The version is always 2.0; the length and each Next Payload field are computed.
    """

    spi_i: bytes
    spi_r: bytes
    exchange: int
    message_id: int
    payloads: tuple[Payload, ...] = ()
    initiator: bool = False
    response: bool = False

    @property
    def flags(self) -> int:
        return (FLAG_INITIATOR if self.initiator else 0) | (FLAG_RESPONSE if self.response else 0)

    def header(self, length: int) -> bytes:
        """The 28-byte header announcing ``length`` bytes in all."""
        return _HEADER.pack(self.spi_i, self.spi_r, _first_type(self.payloads), _VERSION_2_0,
                            self.exchange, self.flags, self.message_id, length)

    def to_bytes(self) -> bytes:
        if len(self.spi_i) != 8 or len(self.spi_r) != 8:
            raise ValueError("IKE SPIs are 8 bytes (RFC 7296 3.1)")
        chain = _payload_chain(self.payloads)
        return self.header(HEADER_LEN + len(chain)) + chain

    def find(self, payload_type: int) -> Payload | None:
        """The first payload of ``payload_type``, or None."""
        return next((p for p in self.payloads if p.payload_type == payload_type), None)

    @property
    def exchange_name(self) -> str:
        """``"IKE_AUTH"``, as Wireshark and strongSwan's log name the exchange type."""
        return EXCHANGE_NAMES.get(self.exchange, f"exchange type {self.exchange}")

    def notifies(self) -> tuple[NotifyPayload, ...]:
        return tuple(p for p in self.payloads if isinstance(p, NotifyPayload))


def parse_ike(data: bytes | bytearray | memoryview) -> IkeMessage:
    """Parse one IKEv2 message (a UDP payload on port 500); MalformedIke if it does not parse.

    The header's length must equal the datagram's (3.1); a major version other than 2 is
    refused (2.5; answering INVALID_MAJOR_VERSION is the daemon's business). Reserved bits
    and unknown flags are ignored, as 2.5 asks.
    """
    raw = bytes(data)
    if len(raw) < HEADER_LEN:
        raise MalformedIke(_TOOSHORT)
    spi_i, spi_r, first, version, exchange, flags, message_id, length = _HEADER.unpack_from(raw)
    if version >> 4 != 2:
        raise MalformedIke(_BADVERS)
    if length != len(raw):
        raise MalformedIke(_BADLEN)
    payloads = parse_payloads(first, raw[HEADER_LEN:])
    return IkeMessage(spi_i, spi_r, exchange, message_id, payloads,
                      bool(flags & FLAG_INITIATOR), bool(flags & FLAG_RESPONSE))


def parse_payloads(first_type: int, data: bytes | bytearray | memoryview) -> tuple[Payload, ...]:
    """Parse a payload chain starting with a payload of ``first_type`` and filling ``data``.

    Used for a message's payloads and for the plaintext of an SK payload. An SK payload
    ends the chain and must end the bytes (3.14).
    """
    raw = bytes(data)
    payloads: list[Payload] = []
    offset = 0
    current = first_type
    while current != PT_NONE:
        if len(raw) - offset < 4:
            raise MalformedIke(_BADPLEN)
        nxt, flags, length = _GENERIC.unpack_from(raw, offset)
        if length < 4 or offset + length > len(raw):
            raise MalformedIke(_BADPLEN)
        body = raw[offset + 4:offset + length]
        offset += length
        if current == PT_SK:
            if offset != len(raw):
                raise MalformedIke(_SK_NOT_LAST)
            payloads.append(EncryptedPayload(nxt, body))
            return tuple(payloads)
        payloads.append(_decode(current, body, bool(flags & _CRITICAL)))
        current = nxt
    if offset != len(raw):
        raise MalformedIke(_BADPLEN)
    return tuple(payloads)


def _decode(payload_type: int, body: bytes, critical: bool) -> Payload:
    if payload_type == PT_SA:
        return SaPayload.parse(body)
    if payload_type == PT_KE:
        return KePayload.parse(body)
    if payload_type == PT_NONCE:
        return NoncePayload.parse(body)
    if payload_type in (PT_IDI, PT_IDR):
        return IdPayload.parse(body, payload_type == PT_IDR)
    if payload_type == PT_AUTH:
        return AuthPayload.parse(body)
    if payload_type == PT_NOTIFY:
        return NotifyPayload.parse(body)
    if payload_type == PT_DELETE:
        return DeletePayload.parse(body)
    if payload_type in (PT_TSI, PT_TSR):
        return TsPayload.parse(body, payload_type == PT_TSR)
    return UnknownPayload(payload_type, body, critical)
