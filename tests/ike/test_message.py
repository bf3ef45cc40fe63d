"""ike/message.py against scapy's IKEv2 layers (both ways), tshark's ISAKMP dissector, and
hypothesis: every parse either succeeds or raises MalformedIke with a DropReason value."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
import random

from hypothesis import given, settings, strategies as st
import pytest
from scapy.all import IP, UDP, raw, wrpcap
from scapy.contrib import ikev2 as sc

from ipsecsim.ike import (
    AUTH_SHARED_KEY_MIC, AUTH_HMAC_SHA2_256_128, CREATE_CHILD_SA, PT_DELETE,
    ENCR_AES_CBC, HEADER_LEN, ID_FQDN, ID_IPV4_ADDR, ID_KEY_ID, ID_RFC822_ADDR, IKE_AUTH, IKE_SA_INIT,
    INFORMATIONAL, INVALID_KE_PAYLOAD, NAT_DETECTION_SOURCE_IP, NO_PROPOSAL_CHOSEN, PROTO_ESP, PROTO_IKE,
    PRF_HMAC_SHA2_256, PT_AUTH, PT_IDI, PT_KE, PT_NONCE, PT_NOTIFY, PT_SA, PT_SK, PT_TSI, PT_TSR,
    PT_VENDOR, REKEY_SA, TRANSFORM_DH, TRANSFORM_ENCR, TRANSFORM_INTEG, TRANSFORM_PRF, USE_TRANSPORT_MODE,
    AuthPayload, DeletePayload, DiffieHellman, EncryptedPayload, IdPayload, IkeMessage, KePayload,
    MalformedIke, NoncePayload, NotifyPayload, SaPayload, SaProposal, TrafficSelector, Transform,
    TsPayload, UnknownPayload, encrypt_sk, ike_sa_keys, parse_esp_proposal, parse_ike, parse_ike_proposal,
    parse_payloads, wireshark_ikev2_record,
)
from ipsecsim.ike.message import _payload_chain
from ipsecsim.kernel.drops import DropReason
from tests.tshark import require_tshark, tshark_expert_problems, tshark_fields

SPI_I, SPI_R = bytes.fromhex("0123456789abcdef"), bytes.fromhex("fedcba9876543210")


def _init_request() -> IkeMessage:
    rng = random.Random(7)
    sa = SaPayload((parse_ike_proposal("aes128-sha256-x25519").to_sa(1),
                    parse_ike_proposal("aes256gcm16-prfsha384-ecp384").to_sa(2)))
    return IkeMessage(SPI_I, bytes(8), IKE_SA_INIT, 0, (
        sa, KePayload(31, DiffieHellman(31, rng).public_bytes()), NoncePayload(rng.randbytes(32)),
        NotifyPayload(NAT_DETECTION_SOURCE_IP, data=rng.randbytes(20)),
    ), initiator=True)


# --- scapy builds, we parse ------------------------------------------------------------------

def test_scapy_built_ike_sa_init_parses():
    pkt = (sc.IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=34, flags="Response", id=0)
           / sc.IKEv2_SA(prop=sc.IKEv2_Proposal(proposal=1, proto=1, trans_nb=4, trans=(
               sc.IKEv2_Transform(transform_type="Encryption", transform_id="AES-CBC", key_length=256, length=12)
               / sc.IKEv2_Transform(transform_type="Integrity", transform_id="SHA2-256-128")
               / sc.IKEv2_Transform(transform_type="PRF", transform_id="PRF_HMAC_SHA2_256")
               / sc.IKEv2_Transform(transform_type="GroupDesc", transform_id=31))))
           / sc.IKEv2_KE(group=31, ke=b"k" * 32)
           / sc.IKEv2_Nonce(nonce=b"n" * 32)
           / sc.IKEv2_Notify(type=16389, notify=b"d" * 20))
    msg = parse_ike(raw(pkt))
    assert (msg.spi_i, msg.spi_r, msg.exchange, msg.message_id) == (SPI_I, SPI_R, IKE_SA_INIT, 0)
    assert msg.response and not msg.initiator
    assert [p.payload_type for p in msg.payloads] == [PT_SA, PT_KE, PT_NONCE, PT_NOTIFY]
    (prop,) = msg.payloads[0].proposals
    assert (prop.number, prop.protocol, prop.spi) == (1, PROTO_IKE, b"")
    assert prop.transforms == (Transform(TRANSFORM_ENCR, ENCR_AES_CBC, 256),
                               Transform(TRANSFORM_INTEG, AUTH_HMAC_SHA2_256_128),
                               Transform(TRANSFORM_PRF, PRF_HMAC_SHA2_256), Transform(TRANSFORM_DH, 31))
    assert msg.payloads[1] == KePayload(31, b"k" * 32)
    assert msg.payloads[2] == NoncePayload(b"n" * 32)
    assert msg.payloads[3] == NotifyPayload(16389, data=b"d" * 20)


def test_scapy_built_auth_payloads_parse():
    pkt = (sc.IKEv2(init_SPI=SPI_I, resp_SPI=SPI_R, exch_type=35, flags="Initiator", id=1)
           / sc.IKEv2_IDi(IDtype=2, ID=b"moon.strongswan.org")
           / sc.IKEv2_AUTH(auth_type=2, load=b"a" * 32)
           / sc.IKEv2_Notify(type=16391)
           / sc.IKEv2_SA(prop=sc.IKEv2_Proposal(proposal=1, proto=3, SPIsize=4, SPI=b"\x11\x22\x33\x44", trans_nb=1,
                                                trans=sc.IKEv2_Transform(transform_type="Encryption",
                                                                         transform_id="AES-GCM-16ICV", key_length=128, length=12)))
           / sc.IKEv2_TSi(number_of_TSs=1, traffic_selector=[sc.IPv4TrafficSelector(
               starting_address_v4="10.0.0.1", ending_address_v4="10.0.0.9", start_port=0, end_port=65535)])
           / sc.IKEv2_TSr(number_of_TSs=1, traffic_selector=[sc.IPv6TrafficSelector(
               starting_address_v6="2001:db8::", ending_address_v6="2001:db8::ffff", IP_protocol_ID=17,
               start_port=500, end_port=500, length=40)])  # scapy's default length (20) is IPv4's
           / sc.IKEv2_Delete(proto=3, SPIsize=4, SPInum=2, SPI=[b"\0\0\0\1", b"\0\0\0\2"]))
    msg = parse_ike(raw(pkt))
    assert msg.initiator and msg.exchange == IKE_AUTH and msg.message_id == 1
    idi, auth, note, sa, tsi, tsr, delete = msg.payloads
    assert idi == IdPayload(ID_FQDN, b"moon.strongswan.org") and idi.text == "moon.strongswan.org"
    assert auth == AuthPayload(AUTH_SHARED_KEY_MIC, b"a" * 32)
    assert note == NotifyPayload(USE_TRANSPORT_MODE)
    assert sa.proposals[0].spi == b"\x11\x22\x33\x44" and sa.proposals[0].protocol == PROTO_ESP
    assert tsi == TsPayload((TrafficSelector(IPv4Address("10.0.0.1"), IPv4Address("10.0.0.9")),))
    assert tsr == TsPayload((TrafficSelector(IPv6Address("2001:db8::"), IPv6Address("2001:db8::ffff"), 17, 500, 500),),
                            responder=True)
    assert delete == DeletePayload(PROTO_ESP, (b"\0\0\0\1", b"\0\0\0\2"))


# --- we build, scapy parses ------------------------------------------------------------------

def test_our_ike_sa_init_parses_in_scapy():
    ours = _init_request()
    pkt = sc.IKEv2(ours.to_bytes())
    assert pkt.init_SPI == SPI_I and pkt.exch_type == 34 and pkt.flags == 0x08 and pkt.length == len(ours.to_bytes())
    sa = pkt[sc.IKEv2_SA]
    props = [sa.prop, sa.prop.payload] if sa.prop.payload else [sa.prop]
    first = props[0]
    assert first.proposal == 1 and first.trans_nb == 4
    t = first.trans
    got = []
    while t and isinstance(t, sc.IKEv2_Transform):
        got.append((t.transform_type, t.transform_id, t.key_length))
        t = t.payload
    assert got[0] == (1, 12, 128) and got[1][:2] == (3, 12) and got[2][:2] == (2, 5) and got[3][:2] == (4, 31)
    assert pkt[sc.IKEv2_KE].group == 31 and bytes(pkt[sc.IKEv2_KE].ke) == ours.payloads[1].data
    assert bytes(pkt[sc.IKEv2_Nonce].nonce) == ours.payloads[2].data
    assert pkt[sc.IKEv2_Notify].type == NAT_DETECTION_SOURCE_IP


def test_our_auth_payloads_parse_in_scapy():
    ts = TrafficSelector(IPv4Address("192.168.1.0"), IPv4Address("192.168.1.255"), 6, 80, 443)
    msg = IkeMessage(SPI_I, SPI_R, CREATE_CHILD_SA, 5, (
        IdPayload(ID_IPV4_ADDR, IPv4Address("192.0.2.1").packed),
        AuthPayload(AUTH_SHARED_KEY_MIC, b"m" * 48),
        NotifyPayload(REKEY_SA, PROTO_ESP, b"\xaa\xbb\xcc\xdd"),
        TsPayload((ts,)), TsPayload((ts,), responder=True),
        DeletePayload(PROTO_ESP, (b"\x01\x02\x03\x04",)),
    ), initiator=True, response=True)
    pkt = sc.IKEv2(msg.to_bytes())
    assert pkt.exch_type == 36 and pkt.id == 5 and pkt.flags == 0x28
    assert pkt[sc.IKEv2_IDi].IDtype == 1 and pkt[sc.IKEv2_IDi].ID == "192.0.2.1"
    assert pkt[sc.IKEv2_AUTH].auth_type == 2 and bytes(pkt[sc.IKEv2_AUTH].load) == b"m" * 48
    n = pkt[sc.IKEv2_Notify]
    assert (n.type, n.proto, n.SPIsize, bytes(n.SPI)) == (REKEY_SA, 3, 4, b"\xaa\xbb\xcc\xdd")
    sel = pkt[sc.IKEv2_TSi].traffic_selector[0]
    assert (sel.starting_address_v4, sel.ending_address_v4, sel.IP_protocol_ID, sel.start_port, sel.end_port) == \
        ("192.168.1.0", "192.168.1.255", 6, 80, 443)
    assert pkt[sc.IKEv2_TSr].number_of_TSs == 1
    d = pkt[sc.IKEv2_Delete]
    assert (d.proto, d.SPIsize, d.SPInum) == (3, 4, 1)


# --- our own round trips and checks ----------------------------------------------------------

def test_round_trip_and_helpers():
    msg = _init_request()
    assert parse_ike(msg.to_bytes()) == msg
    assert msg.find(PT_KE) == msg.payloads[1] and msg.find(PT_AUTH) is None
    assert msg.notifies() == (msg.payloads[3],)
    assert NotifyPayload(NO_PROPOSAL_CHOSEN).is_error and not NotifyPayload(REKEY_SA).is_error
    ike_delete = IkeMessage(SPI_I, SPI_R, INFORMATIONAL, 2, (DeletePayload(PROTO_IKE),))
    assert ike_delete.to_bytes()[HEADER_LEN + 4:] == bytes([1, 0, 0, 0])
    assert parse_ike(ike_delete.to_bytes()) == ike_delete
    assert IdPayload(ID_KEY_ID, b"\x01\xff").text == "01ff"
    assert IdPayload(ID_RFC822_ADDR, b"carol@strongswan.org").text == "carol@strongswan.org"
    ke_fix = NotifyPayload(INVALID_KE_PAYLOAD, data=(19).to_bytes(2, "big"))
    assert parse_payloads(PT_NOTIFY, _payload_chain((ke_fix,))) == (ke_fix,)


def test_unknown_payloads_keep_type_and_critical_bit():
    msg = IkeMessage(SPI_I, SPI_R, IKE_SA_INIT, 0, (UnknownPayload(PT_VENDOR, b"strongSwan"),
                                                    UnknownPayload(200, b"?", critical=True)))
    data = msg.to_bytes()
    assert data[HEADER_LEN + 4 + len("strongSwan") + 1] == 0x80  # the critical bit (3.2)
    assert parse_ike(data) == msg


def test_sk_payload_is_last_and_carries_the_first_inner_type():
    msg = IkeMessage(SPI_I, SPI_R, IKE_AUTH, 1, (EncryptedPayload(PT_IDI, b"x" * 40),), initiator=True)
    data = msg.to_bytes()
    assert data[16] == PT_SK and data[HEADER_LEN] == PT_IDI
    assert parse_ike(data) == msg
    with pytest.raises(ValueError):
        IkeMessage(SPI_I, SPI_R, IKE_AUTH, 1, (EncryptedPayload(PT_IDI, b""), NoncePayload(b"n"))).to_bytes()


@pytest.mark.parametrize("mangle, reason", [
    (lambda b: b[:20], DropReason.IKE_TOOSHORT),
    (lambda b: b[:17] + b"\x10" + b[18:], DropReason.IKE_BADVERS),
    (lambda b: b + b"\0", DropReason.IKE_BADLEN),
    (lambda b: b[:-1], DropReason.IKE_BADLEN),
    (lambda b: b[:24] + (len(b) - 1).to_bytes(4, "big") + b[28:-1], DropReason.IKE_BADPLEN),
    (lambda b: b[:HEADER_LEN + 2] + b"\x00\x03" + b[HEADER_LEN + 4:], DropReason.IKE_BADPLEN),
])
def test_malformed_messages(mangle, reason):
    with pytest.raises(MalformedIke) as e:
        parse_ike(mangle(_init_request().to_bytes()))
    assert DropReason(e.value.reason) is reason


@pytest.mark.parametrize("first, body", [
    (PT_SA, b""),  # no proposal
    (PT_SA, bytes([0, 0, 0, 8, 1, 1, 0, 1])),  # one transform announced, none there
    (PT_TSI, bytes([1, 0, 0, 0, 9, 0, 0, 16]) + bytes(12)),  # unknown TS type
    (PT_KE, b"\x00\x1f"),
    (PT_DELETE, bytes([3, 4, 0, 2]) + bytes(4)),  # two SPIs announced, one there
])
def test_bad_payload_bodies(first, body):
    with pytest.raises(MalformedIke) as e:
        parse_payloads(first, bytes([0, 0]) + (4 + len(body)).to_bytes(2, "big") + body)
    assert DropReason(e.value.reason) is DropReason.IKE_BADPAYLOAD


def test_sk_not_last():
    chain = bytes([PT_IDI, 0, 0, 8]) + b"abcd" + b"trailing"
    with pytest.raises(MalformedIke) as e:
        parse_payloads(PT_SK, chain)
    assert DropReason(e.value.reason) is DropReason.IKE_SK_NOT_LAST


# --- hypothesis ------------------------------------------------------------------------------

def _check(exc: MalformedIke) -> None:
    assert DropReason(exc.reason).name.startswith("IKE_")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_parse_ike_garbage(data):
    try:
        parse_ike(data)
    except MalformedIke as e:
        _check(e)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_fuzz_parse_ike_mutations(draw):
    base = bytearray(_init_request().to_bytes())
    for _ in range(draw.draw(st.integers(1, 4))):
        at = draw.draw(st.integers(0, len(base) - 1))
        base[at] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(0, len(base)))
    data = bytes(base[:cut])
    if draw.draw(st.booleans()):
        data = data[:24] + len(data).to_bytes(4, "big") + data[28:]  # keep the header's length honest
    try:
        msg = parse_ike(data)
    except MalformedIke as e:
        _check(e)
    else:
        assert parse_ike(msg.to_bytes()) == msg


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([0, PT_SA, PT_KE, PT_IDI, PT_AUTH, PT_NONCE, PT_NOTIFY, PT_DELETE, PT_TSI, PT_TSR, PT_SK, 99]),
       st.binary(max_size=200))
def test_fuzz_parse_payloads(first, data):
    try:
        payloads = parse_payloads(first, data)
    except MalformedIke as e:
        _check(e)
    else:
        assert parse_payloads(first, _payload_chain(payloads)) == payloads


_addr4 = st.integers(0, 2**32 - 1).map(IPv4Address)
_payloads = st.one_of(
    st.builds(KePayload, st.integers(0, 65535), st.binary(max_size=64)),
    st.builds(NoncePayload, st.binary(max_size=64)),
    st.builds(IdPayload, st.integers(0, 255), st.binary(max_size=40), st.booleans()),
    st.builds(AuthPayload, st.integers(0, 255), st.binary(max_size=40)),
    st.builds(NotifyPayload, st.integers(0, 65535), st.integers(0, 255), st.binary(max_size=8), st.binary(max_size=20)),
    st.builds(DeletePayload, st.just(PROTO_ESP), st.lists(st.binary(min_size=4, max_size=4), max_size=3).map(tuple)),
    st.builds(TsPayload, st.lists(st.builds(TrafficSelector, _addr4, _addr4, st.integers(0, 255),
                                            st.integers(0, 65535), st.integers(0, 65535)),
                                  min_size=1, max_size=3).map(tuple), st.booleans()),
    st.builds(SaPayload, st.lists(st.builds(
        SaProposal, st.integers(1, 255), st.sampled_from([1, 3]), st.sampled_from([b"", b"\1\2\3\4"]),
        st.lists(st.builds(Transform, st.integers(1, 5), st.integers(0, 65535),
                           st.one_of(st.none(), st.integers(0, 65535))), max_size=4).map(tuple)),
        min_size=1, max_size=3).map(tuple)),
    st.builds(UnknownPayload, st.sampled_from([37, 38, 43, 47, 48, 53]), st.binary(max_size=30), st.booleans()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_payloads, max_size=6).map(tuple), st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_fuzz_round_trip(payloads, message_id, initiator, response):
    msg = IkeMessage(SPI_I, SPI_R, IKE_AUTH, message_id, payloads, initiator, response)
    assert parse_ike(msg.to_bytes()) == msg
    assert sc.IKEv2(msg.to_bytes()).length == len(msg.to_bytes())


# --- tshark ----------------------------------------------------------------------------------

def _exchange(tmp_path: Path):
    """An IKE_SA_INIT pair and an IKE_AUTH request, as UDP 500 datagrams, and the keys."""
    rng = random.Random(3)
    req = _init_request()
    dh_i = DiffieHellman(31, random.Random(7))
    dh_r = DiffieHellman(31, rng)
    nr = rng.randbytes(32)
    resp = IkeMessage(SPI_I, SPI_R, IKE_SA_INIT, 0, (
        SaPayload((parse_ike_proposal("aes128-sha256-x25519").to_sa(1),)),
        KePayload(31, dh_r.public_bytes()), NoncePayload(nr)), response=True)
    encr = Transform(TRANSFORM_ENCR, ENCR_AES_CBC, 128)
    keys = ike_sa_keys(PRF_HMAC_SHA2_256, AUTH_HMAC_SHA2_256_128, encr, req.payloads[2].data, nr,
                       dh_i.shared(dh_r.public_bytes()), SPI_I, SPI_R)
    esp = parse_esp_proposal("aes128gcm16").to_sa(1, b"\xc1\x00\x00\x01")
    ts = TsPayload((TrafficSelector(IPv4Address("10.0.0.0"), IPv4Address("10.0.0.255")),))
    inner = (IdPayload(ID_FQDN, b"moon.strongswan.org"), AuthPayload(AUTH_SHARED_KEY_MIC, b"a" * 32),
             SaPayload((esp,)), ts, TsPayload(ts.selectors, responder=True))
    header = IkeMessage(SPI_I, SPI_R, IKE_AUTH, 1, initiator=True).header(0)
    auth = encrypt_sk(keys.initiator, encr, AUTH_HMAC_SHA2_256_128, PT_IDI, _payload_chain(inner), header, rng)
    pkts = [IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=500, dport=500) / req.to_bytes(),
            IP(src="192.0.2.2", dst="192.0.2.1") / UDP(sport=500, dport=500) / resp.to_bytes(),
            IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=500, dport=500) / auth]
    pcap = tmp_path / "ike.pcap"
    wrpcap(str(pcap), pkts)
    return pcap, keys


def test_tshark_decodes_the_exchange(tmp_path):
    require_tshark()
    pcap, _ = _exchange(tmp_path)
    rows = tshark_fields(pcap, ["isakmp.exchangetype", "isakmp.typepayload", "isakmp.ispi", "isakmp.rspi"])
    assert [r["isakmp.exchangetype"] for r in rows] == ["34", "34", "35"]
    # Payloads (33 SA, 34 KE, 40 Nonce, 41 Notify) and, inside the SA, proposals (2) and transforms (3).
    assert rows[0]["isakmp.typepayload"].split(",") == ["33", "2", "3", "3", "3", "3", "2", "3", "3", "3", "34", "40", "41"]
    assert rows[1]["isakmp.typepayload"].split(",") == ["33", "2", "3", "3", "3", "3", "34", "40"]
    assert rows[2]["isakmp.typepayload"].split(",") == ["46"]
    assert rows[0]["isakmp.ispi"] == SPI_I.hex()
    assert tshark_expert_problems(pcap) == []


def test_tshark_decrypts_the_sk_payload(tmp_path):
    require_tshark()
    pcap, keys = _exchange(tmp_path)
    encr, integ = Transform(TRANSFORM_ENCR, ENCR_AES_CBC, 128), AUTH_HMAC_SHA2_256_128
    uat = {"ikev2_decryption_table": [wireshark_ikev2_record(SPI_I, SPI_R, keys, encr, integ)]}
    rows = tshark_fields(pcap, ["isakmp.typepayload", "isakmp.id.type", "isakmp.auth.method", "isakmp.ts.start_ipv4"],
                         uat=uat)
    auth = rows[2]
    # The SK payload, then what it holds: IDi, AUTH, SA (a proposal: AES-GCM and NO_ESN), TSi, TSr.
    assert auth["isakmp.typepayload"].split(",") == ["46", "35", "39", "33", "2", "3", "3", "44", "45"]
    assert auth["isakmp.id.type"] == "2"
    assert auth["isakmp.auth.method"] == "2"
    assert auth["isakmp.ts.start_ipv4"].split(",")[0] == "10.0.0.0"
    assert tshark_expert_problems(pcap, uat=uat) == []


def test_tshark_checks_our_icv(tmp_path):
    """tshark verifies the ICV with SK_ai: with a wrong one it warns, so the clean run above
    means it accepted our HMAC, not merely that it decrypted the payload."""
    require_tshark()
    pcap, keys = _exchange(tmp_path)
    wrong = dataclasses.replace(keys, sk_ai=bytes(32))
    record = wireshark_ikev2_record(SPI_I, SPI_R, wrong, Transform(TRANSFORM_ENCR, ENCR_AES_CBC, 128),
                                    AUTH_HMAC_SHA2_256_128)
    problems = tshark_expert_problems(pcap, uat={"ikev2_decryption_table": [record]})
    assert any("Integrity Checksum Data is incorrect" in p for p in problems)


def test_scapy_reads_our_sk_payload(tmp_path):
    """scapy sees the IKE_AUTH as one Encrypted payload naming IDi as the first payload inside."""
    from scapy.all import rdpcap
    pcap, _ = _exchange(tmp_path)
    datagram = bytes(rdpcap(str(pcap))[2][UDP].payload)
    pkt = sc.IKEv2(datagram)
    assert pkt.exch_type == 35 and pkt.next_payload == PT_SK
    sk = pkt[sc.IKEv2_Encrypted]
    assert sk.next_payload == PT_IDI and sk.length == len(datagram) - HEADER_LEN
    assert bytes(sk.load) == datagram[HEADER_LEN + 4:]
