"""ike/proposals.py: strongSwan's keywords (docs.strongswan.org, "Algorithm Proposals"),
swanctl --list-sas spelling, the responder's choice, and setkey's names for the result."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from ipsecsim.ike import (
    AUTH_HMAC_SHA1_96, AUTH_HMAC_SHA2_256_128, CURVE_25519, ECP_256, ECP_384, ENCR_AES_CBC, ENCR_AES_GCM_16,
    MODP_2048, NO_ESN, PRF_HMAC_SHA1, PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384, PROTO_ESP, PROTO_IKE, TRANSFORM_DH,
    TRANSFORM_ENCR, TRANSFORM_ESN, TRANSFORM_INTEG, TRANSFORM_PRF, Proposal, ProposalError, SaProposal,
    Transform, esp_key_lengths, esp_setkey_names, format_proposal, negotiate, parse_esp_proposal,
    parse_ike_proposal, select_proposal,
)
from ipsecsim.netipsec.algorithms import auth_algorithm, enc_algorithm

E, I, P, D, N = TRANSFORM_ENCR, TRANSFORM_INTEG, TRANSFORM_PRF, TRANSFORM_DH, TRANSFORM_ESN


def test_ike_cbc_proposal_gets_the_prf_of_its_integrity():
    p = parse_ike_proposal("aes128-sha256-x25519")
    assert p == Proposal(PROTO_IKE, (Transform(E, ENCR_AES_CBC, 128), Transform(I, AUTH_HMAC_SHA2_256_128),
                                     Transform(P, PRF_HMAC_SHA2_256), Transform(D, CURVE_25519)))
    assert format_proposal(p) == "AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519"


def test_ike_gcm_proposal():
    p = parse_ike_proposal("aes256gcm16-prfsha384-ecp384")
    assert p.transforms == (Transform(E, ENCR_AES_GCM_16, 256), Transform(P, PRF_HMAC_SHA2_384), Transform(D, ECP_384))
    assert format_proposal(p) == "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384"
    assert parse_ike_proposal("aes256gcm128-prfsha384-ecp384") == p  # the ICV in bits, same algorithm


def test_several_algorithms_of_a_kind_keep_their_order():
    p = parse_ike_proposal("aes256-aes128-sha256-sha1-ecp256-modp2048")
    assert [t.key_length for t in p.of_type(E)] == [256, 128]
    assert [t.id for t in p.of_type(P)] == [PRF_HMAC_SHA2_256, PRF_HMAC_SHA1]
    assert [t.id for t in p.of_type(D)] == [ECP_256, MODP_2048]


@pytest.mark.parametrize("text, transforms, listed", [
    ("aes128gcm16", ((E, ENCR_AES_GCM_16, 128), (N, NO_ESN, None)), "AES_GCM_16-128"),
    ("aes256-sha256", ((E, ENCR_AES_CBC, 256), (I, AUTH_HMAC_SHA2_256_128, None), (N, NO_ESN, None)),
     "AES_CBC-256/HMAC_SHA2_256_128"),
    ("aes128-sha1-modp2048", ((E, ENCR_AES_CBC, 128), (I, AUTH_HMAC_SHA1_96, None), (D, MODP_2048, None),
                              (N, NO_ESN, None)), "AES_CBC-128/HMAC_SHA1_96/MODP_2048"),
    ("aes128gcm16-esn", ((E, ENCR_AES_GCM_16, 128), (N, 1, None)), "AES_GCM_16-128/ESN"),
])
def test_esp_proposals(text, transforms, listed):
    p = parse_esp_proposal(text)
    assert p.protocol == PROTO_ESP and p.transforms == tuple(Transform(*t) for t in transforms)
    assert format_proposal(p) == listed


@pytest.mark.parametrize("text, keyword, message", [
    ("aes128-sha256-x448", "x448", "algorithm 'x448' not recognized"),
    ("aes128-sha256-", "", "algorithm '' not recognized"),
    ("aes128-sha256", "aes128-sha256", "a DH group is mandatory in IKE proposals"),
    ("aes128gcm16-ecp256", "aes128gcm16-ecp256", "a PRF algorithm is mandatory in IKE proposals"),
    ("aes128-ecp256", "aes128-ecp256", "an integrity algorithm is mandatory in IKE proposals"),
    ("sha256-ecp256", "sha256-ecp256", "an encryption algorithm is mandatory in IKE proposals"),
    ("aes128gcm16-sha256-ecp256", "aes128gcm16-sha256-ecp256",
     "an integrity algorithm can't be combined with an AEAD algorithm"),
    ("aes128gcm16-aes128-sha256-ecp256", "aes128gcm16-aes128-sha256-ecp256",
     "AEAD and classic encryption algorithms can't be mixed in one proposal"),
    ("aes128-sha256-esn-x25519", "esn", "algorithm 'esn' not recognized"),  # ESN is for ESP only
])
def test_bad_ike_proposals(text, keyword, message):
    with pytest.raises(ProposalError) as e:
        parse_ike_proposal(text)
    assert (e.value.keyword, e.value.message) == (keyword, message)


def test_bad_esp_proposals():
    with pytest.raises(ProposalError, match="algorithm 'prfsha256' not recognized"):
        parse_esp_proposal("aes128-sha256-prfsha256")
    with pytest.raises(ProposalError, match="integrity algorithm is mandatory in ESP proposals"):
        parse_esp_proposal("aes128")


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_proposal_error(text):
    for parse in (parse_ike_proposal, parse_esp_proposal):
        try:
            p = parse(text)
        except ProposalError as e:
            assert e.message
        else:
            assert format_proposal(p)


# --- negotiation ---------------------------------------------------------------------------------

def test_responder_prefers_its_own_order():
    ours = [parse_ike_proposal("aes256gcm16-prfsha384-ecp384"), parse_ike_proposal("aes128-sha256-x25519")]
    theirs = [parse_ike_proposal("aes128-sha256-x25519"), parse_ike_proposal("aes256gcm16-prfsha384-ecp384")]
    assert select_proposal(ours, theirs) == (1, ours[0])
    assert negotiate(ours, theirs) == ours[0]


def test_within_a_proposal_the_responders_algorithm_order_wins():
    ours = [parse_ike_proposal("aes256-aes128-sha256-ecp256-x25519")]
    theirs = [parse_ike_proposal("aes128-aes256-sha1-sha256-x25519-ecp256")]
    chosen = negotiate(ours, theirs)
    assert chosen is not None
    assert format_proposal(chosen) == "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP_256"


def test_no_common_proposal():
    assert negotiate([parse_ike_proposal("aes128-sha256-x25519")], [parse_ike_proposal("aes128-sha256-ecp256")]) is None
    assert negotiate([parse_esp_proposal("aes128gcm16")], [parse_esp_proposal("aes128-sha256")]) is None
    # A type one side has and the other lacks cannot be agreed (RFC 7296 3.3.6): PFS asked, not offered.
    assert negotiate([parse_esp_proposal("aes128-sha256-modp2048")], [parse_esp_proposal("aes128-sha256")]) is None
    assert negotiate([parse_esp_proposal("aes128gcm16")], [parse_ike_proposal("aes128gcm16-prfsha256-ecp256")]) is None


def test_esp_negotiation_with_esn_choice():
    chosen = negotiate([parse_esp_proposal("aes128gcm16-noesn-esn")], [parse_esp_proposal("aes128gcm16-esn")])
    assert chosen is not None and chosen.first(N) == Transform(N, 1)


def test_sa_round_trip():
    p = parse_esp_proposal("aes256-sha256")
    sa = p.to_sa(3, b"\x01\x02\x03\x04")
    assert sa == SaProposal(3, PROTO_ESP, b"\x01\x02\x03\x04", p.transforms)
    assert Proposal.from_sa(sa) == p


# --- the key engine's view -----------------------------------------------------------------------

@pytest.mark.parametrize("text, names, lengths", [
    ("aes128gcm16", ("aes-gcm-16", None), (20, 0)),
    ("aes256gcm16", ("aes-gcm-16", None), (36, 0)),
    ("aes256-sha256", ("rijndael-cbc", "hmac-sha2-256"), (32, 32)),
    ("aes128-sha1-modp2048", ("rijndael-cbc", "hmac-sha1"), (16, 20)),
    ("aes192-sha512", ("rijndael-cbc", "hmac-sha2-512"), (24, 64)),
])
def test_setkey_names_and_key_lengths_suit_the_key_engine(text, names, lengths):
    p = parse_esp_proposal(text)
    assert esp_setkey_names(p) == names
    assert esp_key_lengths(p) == lengths
    enc = enc_algorithm(names[0])
    # setkey's key for a salted cipher carries the salt after the key (RFC 4106 8.1).
    assert enc.key_min <= lengths[0] - enc.salt <= enc.key_max
    if names[1]:
        assert auth_algorithm(names[1]).key_len == lengths[1]
