"""strongSwan's proposal keywords, IKEv2 transforms, and the responder's choice.

``parse_ike_proposal("aes128-sha256-x25519")`` and ``parse_esp_proposal("aes128gcm16")``
read the dash-separated algorithm lists of swanctl.conf's ``proposals`` and
``esp_proposals`` (strongSwan's "IKEv2 Cipher Suites" page lists the keywords);
``format_proposal`` prints a negotiated proposal as ``swanctl --list-sas`` does;
``negotiate`` picks what a responder accepts; ``esp_setkey_names`` and ``esp_key_lengths``
give what the daemon needs to install the ESP SAs with the key engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Iterable, Sequence

from .message import (
    PROTO_ESP, PROTO_IKE, TRANSFORM_DH, TRANSFORM_ENCR, TRANSFORM_ESN, TRANSFORM_INTEG,
    TRANSFORM_PRF, SaProposal, Transform,
)

__all__ = [
    "ENCR_AES_CBC", "ENCR_AES_GCM_16",
    "PRF_HMAC_SHA1", "PRF_HMAC_SHA2_256", "PRF_HMAC_SHA2_384", "PRF_HMAC_SHA2_512",
    "AUTH_HMAC_SHA1_96", "AUTH_HMAC_SHA2_256_128", "AUTH_HMAC_SHA2_384_192", "AUTH_HMAC_SHA2_512_256",
    "MODP_2048", "ECP_256", "ECP_384", "CURVE_25519", "NO_ESN", "ESN",
    "ProposalError", "Proposal", "parse_ike_proposal", "parse_esp_proposal", "format_proposal",
    "negotiate", "select_proposal", "esp_setkey_names", "esp_key_lengths",
]

# IANA "IKEv2 Parameters" transform IDs (RFC 7296 3.3.2, RFC 4868, RFC 5282, RFC 5903, RFC 8031).
ENCR_AES_CBC: Final = 12
ENCR_AES_GCM_16: Final = 20
PRF_HMAC_SHA1, PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384, PRF_HMAC_SHA2_512 = 2, 5, 6, 7
AUTH_HMAC_SHA1_96, AUTH_HMAC_SHA2_256_128, AUTH_HMAC_SHA2_384_192, AUTH_HMAC_SHA2_512_256 = 2, 12, 13, 14
MODP_2048, ECP_256, ECP_384, CURVE_25519 = 14, 19, 20, 31
NO_ESN, ESN = 0, 1


class ProposalError(ValueError):
    """A proposal string swanctl would refuse: ``keyword`` is the offending word (or the
    whole string when something is missing), ``message`` says why in strongSwan's words."""

    def __init__(self, keyword: str, message: str):
        super().__init__(message)
        self.keyword = keyword
        self.message = message


@dataclass(frozen=True, slots=True)
class Proposal:
    """A protocol (PROTO_IKE or PROTO_ESP) and its transforms, in the configured order.

    A configured proposal may hold several transforms of one type (``aes128-aes256-sha256``);
    a negotiated one holds at most one of each.
    """

    protocol: int
    transforms: tuple[Transform, ...]

    def of_type(self, transform_type: int) -> tuple[Transform, ...]:
        return tuple(t for t in self.transforms if t.type == transform_type)

    def first(self, transform_type: int) -> Transform | None:
        return next((t for t in self.transforms if t.type == transform_type), None)

    def to_sa(self, number: int, spi: bytes = b"") -> SaProposal:
        """The proposal substructure to send (3.3.1); ``spi`` empty in IKE_SA_INIT."""
        return SaProposal(number, self.protocol, spi, self.transforms)

    @classmethod
    def from_sa(cls, sa: SaProposal) -> "Proposal":
        return cls(sa.protocol, sa.transforms)


def _t(type_: int, id_: int, bits: int | None = None) -> Transform:
    return Transform(type_, id_, bits)


def _encr_keywords() -> dict[str, Transform]:
    table = {"aes": _t(TRANSFORM_ENCR, ENCR_AES_CBC, 128)}
    for bits in (128, 192, 256):
        table[f"aes{bits}"] = _t(TRANSFORM_ENCR, ENCR_AES_CBC, bits)
        # strongSwan spells the 16-byte ICV both as octets and as bits.
        table[f"aes{bits}gcm16"] = table[f"aes{bits}gcm128"] = _t(TRANSFORM_ENCR, ENCR_AES_GCM_16, bits)
    return table


_ENCR: Final = _encr_keywords()
_INTEG: Final = {
    "sha1": AUTH_HMAC_SHA1_96, "sha": AUTH_HMAC_SHA1_96,
    "sha256": AUTH_HMAC_SHA2_256_128, "sha2_256": AUTH_HMAC_SHA2_256_128,
    "sha384": AUTH_HMAC_SHA2_384_192, "sha2_384": AUTH_HMAC_SHA2_384_192,
    "sha512": AUTH_HMAC_SHA2_512_256, "sha2_512": AUTH_HMAC_SHA2_512_256,
}
_PRF: Final = {
    "prfsha1": PRF_HMAC_SHA1, "prfsha256": PRF_HMAC_SHA2_256,
    "prfsha384": PRF_HMAC_SHA2_384, "prfsha512": PRF_HMAC_SHA2_512,
}
_DH: Final = {"modp2048": MODP_2048, "ecp256": ECP_256, "ecp384": ECP_384,
              "x25519": CURVE_25519, "curve25519": CURVE_25519}
_ESN: Final = {"esn": ESN, "noesn": NO_ESN}
# An integrity keyword in an IKE proposal without a prf keyword proposes the matching PRF too.
_PRF_FOR_INTEG: Final = {AUTH_HMAC_SHA1_96: PRF_HMAC_SHA1, AUTH_HMAC_SHA2_256_128: PRF_HMAC_SHA2_256,
                         AUTH_HMAC_SHA2_384_192: PRF_HMAC_SHA2_384, AUTH_HMAC_SHA2_512_256: PRF_HMAC_SHA2_512}

# What swanctl --list-sas prints for each transform.
_NAMES: Final = {
    (TRANSFORM_ENCR, ENCR_AES_CBC): "AES_CBC", (TRANSFORM_ENCR, ENCR_AES_GCM_16): "AES_GCM_16",
    (TRANSFORM_INTEG, AUTH_HMAC_SHA1_96): "HMAC_SHA1_96",
    (TRANSFORM_INTEG, AUTH_HMAC_SHA2_256_128): "HMAC_SHA2_256_128",
    (TRANSFORM_INTEG, AUTH_HMAC_SHA2_384_192): "HMAC_SHA2_384_192",
    (TRANSFORM_INTEG, AUTH_HMAC_SHA2_512_256): "HMAC_SHA2_512_256",
    (TRANSFORM_PRF, PRF_HMAC_SHA1): "PRF_HMAC_SHA1", (TRANSFORM_PRF, PRF_HMAC_SHA2_256): "PRF_HMAC_SHA2_256",
    (TRANSFORM_PRF, PRF_HMAC_SHA2_384): "PRF_HMAC_SHA2_384", (TRANSFORM_PRF, PRF_HMAC_SHA2_512): "PRF_HMAC_SHA2_512",
    (TRANSFORM_DH, MODP_2048): "MODP_2048", (TRANSFORM_DH, ECP_256): "ECP_256",
    (TRANSFORM_DH, ECP_384): "ECP_384", (TRANSFORM_DH, CURVE_25519): "CURVE_25519",
    (TRANSFORM_ESN, ESN): "ESN",
}
_ORDER: Final = (TRANSFORM_ENCR, TRANSFORM_INTEG, TRANSFORM_PRF, TRANSFORM_DH, TRANSFORM_ESN)

# setkey's names (FreeBSD) for the ESP transforms, and the ESP key sizes in bytes.
_SETKEY_ENCR: Final = {ENCR_AES_CBC: "rijndael-cbc", ENCR_AES_GCM_16: "aes-gcm-16"}
_SETKEY_INTEG: Final = {AUTH_HMAC_SHA1_96: "hmac-sha1", AUTH_HMAC_SHA2_256_128: "hmac-sha2-256",
                        AUTH_HMAC_SHA2_384_192: "hmac-sha2-384", AUTH_HMAC_SHA2_512_256: "hmac-sha2-512"}
_INTEG_KEY_LEN: Final = {AUTH_HMAC_SHA1_96: 20, AUTH_HMAC_SHA2_256_128: 32,
                         AUTH_HMAC_SHA2_384_192: 48, AUTH_HMAC_SHA2_512_256: 64}
_GCM_SALT: Final = 4  # RFC 4106 8.1 (ESP) and RFC 5282 7.1 (IKE)


def _parse(text: str, protocol: int) -> Proposal:
    what = "IKE" if protocol == PROTO_IKE else "ESP"
    encr: list[Transform] = []
    integ: list[Transform] = []
    prf: list[Transform] = []
    dh: list[Transform] = []
    esn: list[Transform] = []
    for word in text.split("-"):
        key = word.strip().lower()
        if key in _ENCR:
            encr.append(_ENCR[key])
        elif key in _INTEG:
            integ.append(_t(TRANSFORM_INTEG, _INTEG[key]))
        elif key in _PRF and protocol == PROTO_IKE:
            prf.append(_t(TRANSFORM_PRF, _PRF[key]))
        elif key in _DH:
            dh.append(_t(TRANSFORM_DH, _DH[key]))
        elif key in _ESN and protocol == PROTO_ESP:
            esn.append(_t(TRANSFORM_ESN, _ESN[key]))
        else:
            raise ProposalError(word, f"algorithm '{word}' not recognized")
    aead = [t for t in encr if t.id == ENCR_AES_GCM_16]
    if not encr:
        raise ProposalError(text, f"an encryption algorithm is mandatory in {what} proposals")
    if aead and len(aead) != len(encr):
        raise ProposalError(text, "AEAD and classic encryption algorithms can't be mixed in one proposal")
    if aead and integ:
        raise ProposalError(text, "an integrity algorithm can't be combined with an AEAD algorithm")
    if not aead and not integ:
        raise ProposalError(text, f"an integrity algorithm is mandatory in {what} proposals")
    if protocol == PROTO_IKE:
        if not prf:
            if aead:
                raise ProposalError(text, "a PRF algorithm is mandatory in IKE proposals")
            prf = list(dict.fromkeys(_t(TRANSFORM_PRF, _PRF_FOR_INTEG[t.id]) for t in integ))
        if not dh:
            raise ProposalError(text, "a DH group is mandatory in IKE proposals")
    elif not esn:
        esn = [_t(TRANSFORM_ESN, NO_ESN)]
    return Proposal(protocol, tuple(encr + integ + prf + dh + esn))


def parse_ike_proposal(text: str) -> Proposal:
    """An IKE proposal from swanctl.conf's ``proposals`` (``"aes256gcm16-prfsha384-ecp384"``).

    Without a ``prf`` keyword, each integrity keyword also proposes its PRF (strongSwan's
    rule); an AEAD proposal needs one spelled out. ProposalError on any other mistake.
    """
    return _parse(text, PROTO_IKE)


def parse_esp_proposal(text: str) -> Proposal:
    """An ESP proposal from ``esp_proposals`` (``"aes128-sha1-modp2048"``): a DH group asks
    for PFS in CREATE_CHILD_SA; without ``esn``, the proposal carries NO_ESN, as strongSwan's."""
    return _parse(text, PROTO_ESP)


def format_proposal(p: Proposal) -> str:
    """The algorithms as ``swanctl --list-sas`` prints them, e.g.
    ``AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519``; NO_ESN is not shown."""
    parts = []
    for type_ in _ORDER:
        for t in p.of_type(type_):
            if type_ == TRANSFORM_ESN and t.id == NO_ESN:
                continue
            name = _NAMES.get((t.type, t.id), f"UNKNOWN_{t.type}_{t.id}")
            parts.append(f"{name}-{t.key_length}" if t.key_length is not None else name)
    return "/".join(parts)


def _pick(first: Iterable[Transform], second: Sequence[Transform]) -> Transform | None:
    return next((t for t in first if t in second), None)


def _match(preferred: Proposal, other: Proposal) -> Proposal | None:
    """One transform of each type both have, by ``preferred``'s order; None if a type is
    present in one and not the other (3.3.6: every type offered must be chosen)."""
    if preferred.protocol != other.protocol:
        return None
    chosen = []
    for type_ in _ORDER:
        mine, theirs = preferred.of_type(type_), other.of_type(type_)
        if not mine and not theirs:
            continue
        t = _pick(mine, theirs)
        if t is None:
            return None
        chosen.append(t)
    return Proposal(preferred.protocol, tuple(chosen))


def select_proposal(ours: Sequence[Proposal], theirs: Sequence[Proposal]) -> tuple[int, Proposal] | None:
    """As ``negotiate``, with the index in ``theirs`` of the proposal accepted (its number
    goes back in the response's SA payload, 3.3.1)."""
    for mine in ours:
        for index, other in enumerate(theirs):
            chosen = _match(mine, other)
            if chosen is not None:
                return index, chosen
    return None


def negotiate(ours: Sequence[Proposal], theirs: Sequence[Proposal]) -> Proposal | None:
    """The proposal a strongSwan responder accepts, or None (answer NO_PROPOSAL_CHOSEN).

    strongSwan's default (``charon.prefer_configured_proposals = yes``) walks the
    responder's own proposals in its configured order and, for each, the initiator's in
    theirs; the first pair with a common transform of every type wins, and within it each
    transform is the first of the responder's that the initiator also offered.
    """
    picked = select_proposal(ours, theirs)
    return None if picked is None else picked[1]


def esp_setkey_names(p: Proposal) -> tuple[str, str | None]:
    """setkey's algorithm names for a negotiated ESP proposal: (``-E`` name, ``-A`` name or
    None for an AEAD cipher), e.g. ``("rijndael-cbc", "hmac-sha2-256")``, ``("aes-gcm-16", None)``."""
    encr = p.first(TRANSFORM_ENCR)
    integ = p.first(TRANSFORM_INTEG)
    if encr is None or encr.id not in _SETKEY_ENCR:
        raise ValueError(f"no setkey name for the ESP encryption of {format_proposal(p)!r}")
    if integ is not None and integ.id not in _SETKEY_INTEG:
        raise ValueError(f"no setkey name for the ESP integrity of {format_proposal(p)!r}")
    return _SETKEY_ENCR[encr.id], None if integ is None else _SETKEY_INTEG[integ.id]


def esp_key_lengths(p: Proposal) -> tuple[int, int]:
    """Bytes of KEYMAT per direction (2.17): (encryption key, integrity key). For AES-GCM
    the encryption key includes its 4-byte salt, as setkey takes it (RFC 4106 8.1)."""
    encr = p.first(TRANSFORM_ENCR)
    integ = p.first(TRANSFORM_INTEG)
    if encr is None or encr.key_length is None:
        raise ValueError("an ESP proposal needs an encryption transform with a key length")
    enc_len = encr.key_length // 8 + (_GCM_SALT if encr.id == ENCR_AES_GCM_16 else 0)
    return enc_len, 0 if integ is None else _INTEG_KEY_LEN[integ.id]
