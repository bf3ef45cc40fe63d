"""ipsecsim/packet/ospf.py: OSPFv2 (RFC 2328) against scapy and tshark, RFC 13.1 recency, malformed input."""

from dataclasses import FrozenInstanceError, replace
from ipaddress import IPv4Address as A
import struct

from hypothesis import given, strategies as st
import pytest
from scapy.compat import raw
from scapy.contrib import ospf as so
from scapy.layers.inet import IP

from ipsecsim.kernel.drops import DropReason
from ipsecsim.packet import IPPROTO_OSPFIGP, IPv4, MalformedPacket, internet_checksum
from ipsecsim.packet.ospf import (
    ALL_SPF_ROUTERS, DB_DESCRIPTION, DD_I, DD_M, DD_MS, HELLO, INITIAL_SEQ, LINK_PTP, LINK_STUB, LINK_TRANSIT,
    LINK_VIRTUAL, LS_ACK, LS_REQUEST, LS_UPDATE, MAX_AGE, MAX_AGE_DIFF, MAX_SEQ, OPTION_E, OSPF_PROTO, ROUTER_LSA,
    DatabaseDescription, Hello, LinkStateAck, LinkStateRequest, LinkStateUpdate, Lsa, LsaHeader, OspfPacket,
    RouterLink, compare_lsa, lsa_checksum, lsa_checksum_ok, parse_ospf, router_lsa,
)
from ipsecsim.trace.pcap import LINKTYPE_RAW, PcapWriter
from packet.helpers import FAST, ORACLE, damaged, hostile, ipv4_addresses, parse_or_malformed, u8, u16, u32
from tshark import tshark_expert_problems, tshark_fields

REASONS = {
    "OSPF packet too short", "OSPF bad version", "OSPF bad length", "OSPF bad checksum",
    "OSPF unknown packet type", "OSPF bad body", "OSPF LSA bad checksum", "OSPF authentication not supported",
}
SRC = A("10.0.12.1")
R1, R2, R3 = A("1.1.1.1"), A("2.2.2.2"), A("3.3.3.3")
AREA0 = A("0.0.0.0")


def in_ip(payload: bytes, src: A = SRC) -> bytes:
    """An OSPF packet as ospfd sends it on a point-to-point link: AllSPFRouters, TTL 1,
    IP precedence internetwork control (FRR sets IPTOS_PREC_INTERNETCONTROL)."""
    return IPv4(src, ALL_SPF_ROUTERS, OSPF_PROTO, payload, ttl=1, tos=0xC0).to_bytes()


def with_checksum(data: bytes) -> bytes:
    """``data`` with its OSPF checksum recomputed (RFC 2328 D.4), to get past that check."""
    length = int.from_bytes(data[2:4], "big")
    head = data[:12] + b"\x00\x00" + data[14:24]
    checksum = internet_checksum(head[:16] + data[24:length])
    return data[:12] + checksum.to_bytes(2, "big") + data[14:]


def opaque_lsa(type_: int, lsid: A, adv: A, seq: int, body: bytes, age: int = 0, options: int = OPTION_E) -> Lsa:
    """An LSA of a type this codec does not decode, with its checksum computed."""
    header = LsaHeader(age, options, type_, lsid, adv, seq, 0, 20 + len(body))
    return Lsa(replace(header, checksum=lsa_checksum(header.to_bytes() + body)), body)


# --- strategies -------------------------------------------------------------------------------

seqs = st.integers(-(2**31), 2**31 - 1)
router_links = st.builds(RouterLink, link_id=ipv4_addresses, link_data=ipv4_addresses,
                         type=st.sampled_from([LINK_PTP, LINK_TRANSIT, LINK_STUB, LINK_VIRTUAL]), metric=u16)
router_lsas = st.builds(router_lsa, age=st.integers(0, MAX_AGE), options=u8, router_id=ipv4_addresses, seq=seqs,
                        flags=st.integers(0, 7), links=st.lists(router_links, max_size=5))


@st.composite
def lsa_headers(draw) -> LsaHeader:
    """Headers as they appear in DD and LS Ack lists: any type, a length that fits its type."""
    type_ = draw(st.integers(1, 11))
    length = draw(st.integers(6, 0x3FFF)) * 4 if type_ == ROUTER_LSA else draw(st.integers(20, 0xFFFF))
    return LsaHeader(draw(u16), draw(u8), type_, draw(ipv4_addresses), draw(ipv4_addresses), draw(seqs),
                     draw(u16), length)


hellos = st.builds(Hello, network_mask=ipv4_addresses, hello_interval=u16, options=u8, priority=u8,
                   dead_interval=u32, designated_router=ipv4_addresses, backup_router=ipv4_addresses,
                   neighbors=st.lists(ipv4_addresses, max_size=5).map(tuple))
dds = st.builds(DatabaseDescription, mtu=u16, options=u8, flags=st.integers(0, 7), dd_sequence=u32,
                headers=st.lists(lsa_headers(), max_size=4).map(tuple))
requests = st.builds(LinkStateRequest, requests=st.lists(
    st.tuples(st.integers(1, 11), ipv4_addresses, ipv4_addresses), max_size=5).map(tuple))
updates = st.builds(LinkStateUpdate, lsas=st.lists(router_lsas, max_size=3).map(tuple))
acks = st.builds(LinkStateAck, headers=st.lists(lsa_headers(), max_size=4).map(tuple))
packets = st.builds(OspfPacket, router_id=ipv4_addresses, area_id=ipv4_addresses,
                    body=st.one_of(hellos, dds, requests, updates, acks))


# --- scapy as the oracle ------------------------------------------------------------------------

def scapy_header(h: LsaHeader):
    return so.OSPF_LSA_Hdr(age=h.age, options=h.options, type=h.type, id=str(h.link_state_id),
                           adrouter=str(h.advertising_router), seq=h.seq & 0xFFFFFFFF, chksum=h.checksum,
                           len=h.length)


def to_scapy(packet: OspfPacket):
    """The same packet built by scapy, leaving every length and checksum for scapy to compute."""
    b = packet.body
    if isinstance(b, Hello):
        body = so.OSPF_Hello(mask=str(b.network_mask), hellointerval=b.hello_interval, options=b.options,
                             prio=b.priority, deadinterval=b.dead_interval, router=str(b.designated_router),
                             backup=str(b.backup_router), neighbors=[str(n) for n in b.neighbors])
    elif isinstance(b, DatabaseDescription):
        body = so.OSPF_DBDesc(mtu=b.mtu, options=b.options, dbdescr=b.flags, ddseq=b.dd_sequence,
                              lsaheaders=[scapy_header(h) for h in b.headers])
    elif isinstance(b, LinkStateRequest):
        body = so.OSPF_LSReq(requests=[so.OSPF_LSReq_Item(type=t, id=str(i), adrouter=str(r))
                                       for t, i, r in b.requests])
    elif isinstance(b, LinkStateUpdate):
        body = so.OSPF_LSUpd(lsalist=[
            so.OSPF_Router_LSA(age=lsa.header.age, options=lsa.header.options, id=str(lsa.header.link_state_id),
                               adrouter=str(lsa.header.advertising_router), seq=lsa.header.seq & 0xFFFFFFFF,
                               flags=lsa.router_flags,
                               linklist=[so.OSPF_Link(id=str(link.link_id), data=str(link.link_data),
                                                      type=link.type, metric=link.metric)
                                         for link in lsa.router_links])
            for lsa in b.lsas])
    else:
        body = so.OSPF_LSAck(lsaheaders=[scapy_header(h) for h in b.headers])
    return so.OSPF_Hdr(src=str(packet.router_id), area=str(packet.area_id)) / body


def header_view(h) -> tuple:
    """An LSA header as scapy's fields, or ours, read as plain values (the sequence unsigned)."""
    if isinstance(h, LsaHeader):
        return (h.age, h.options, h.type, str(h.link_state_id), str(h.advertising_router), h.seq & 0xFFFFFFFF,
                h.checksum, h.length)
    return (h.age, int(h.options), h.type, h.id, h.adrouter, h.seq, h.chksum, h.len)


def scapy_view(sp) -> tuple:
    """What scapy read from an OSPF packet, in the shape of ``our_view``."""
    hdr = sp[so.OSPF_Hdr]
    assert hdr.version == 2 and hdr.authtype == 0
    if hdr.type == HELLO:
        h = hdr[so.OSPF_Hello]
        body = (h.mask, h.hellointerval, int(h.options), h.prio, h.deadinterval, h.router, h.backup,
                list(h.neighbors or []))
    elif hdr.type == DB_DESCRIPTION:
        d = hdr[so.OSPF_DBDesc]
        body = (d.mtu, int(d.options), int(d.dbdescr), d.ddseq, [header_view(h) for h in d.lsaheaders])
    elif hdr.type == LS_REQUEST:
        lsr = hdr.getlayer(so.OSPF_LSReq)  # scapy has no layer for an empty list
        body = [(r.type, r.id, r.adrouter) for r in (lsr.requests if lsr else [])]
    elif hdr.type == LS_UPDATE:
        u = hdr[so.OSPF_LSUpd]
        assert u.lsacount == len(u.lsalist)
        body = [(header_view(lsa), int(lsa.flags), [(k.id, k.data, k.type, k.metric) for k in lsa.linklist])
                for lsa in u.lsalist]
    else:
        ack = hdr.getlayer(so.OSPF_LSAck)
        body = [header_view(h) for h in (ack.lsaheaders if ack else [])]
    return (hdr.type, hdr.len, hdr.src, hdr.area, body)


def our_view(packet: OspfPacket) -> tuple:
    b = packet.body
    if isinstance(b, Hello):
        body: object = (str(b.network_mask), b.hello_interval, b.options, b.priority, b.dead_interval,
                        str(b.designated_router), str(b.backup_router), [str(n) for n in b.neighbors])
    elif isinstance(b, DatabaseDescription):
        body = (b.mtu, b.options, b.flags, b.dd_sequence, [header_view(h) for h in b.headers])
    elif isinstance(b, LinkStateRequest):
        body = [(t, str(i), str(r)) for t, i, r in b.requests]
    elif isinstance(b, LinkStateUpdate):
        body = [(header_view(lsa.header), lsa.router_flags,
                 [(str(k.link_id), str(k.link_data), k.type, k.metric) for k in lsa.router_links])
                for lsa in b.lsas]
    else:
        body = [header_view(h) for h in b.headers]
    return (packet.type, len(packet.to_bytes()), str(packet.router_id), str(packet.area_id), body)


@ORACLE
@given(packets)
def test_ours_built_scapy_reads_the_same_fields_and_checksums(packet):
    """Ours → scapy: every field, the packet checksum scapy computes, the LSA checksums scapy computes."""
    sp = IP(in_ip(packet.to_bytes()))
    assert scapy_view(sp) == our_view(packet)
    hdr = sp[so.OSPF_Hdr]
    clone = IP(raw(sp))
    del clone[so.OSPF_Hdr].chksum
    assert IP(raw(clone))[so.OSPF_Hdr].chksum == hdr.chksum
    if hdr.type == LS_UPDATE:
        for lsa in hdr[so.OSPF_LSUpd].lsalist:
            assert int.from_bytes(so.ospf_lsa_checksum(raw(lsa)), "big") == lsa.chksum


@ORACLE
@given(packets)
def test_scapy_built_ours_reads_the_same_fields_and_bytes(packet):
    """Scapy → ours: scapy fills lengths and both checksums; we parse its bytes to the same packet."""
    theirs = raw(IP(src=str(SRC), dst=str(ALL_SPF_ROUTERS), ttl=1, tos=0xC0) / to_scapy(packet))
    ours = IPv4.parse(theirs)
    assert ours.proto == IPPROTO_OSPFIGP == OSPF_PROTO
    assert parse_ospf(ours.payload) == packet
    assert ours.payload == packet.to_bytes()


def test_router_lsa_with_ptp_and_stub_links_against_scapy():
    """A router-LSA as FRR originates it for one numbered point-to-point link (RFC 2328 12.4.1.1):
    a type 1 link to the neighbor and a type 3 stub link to the subnet."""
    links = [RouterLink(R2, A("10.0.12.1"), LINK_PTP, 10),
             RouterLink(A("10.0.12.0"), A("255.255.255.0"), LINK_STUB, 10),
             RouterLink(A("192.168.1.0"), A("255.255.255.0"), LINK_STUB, 10)]
    lsa = router_lsa(age=1, options=OPTION_E, router_id=R1, seq=INITIAL_SEQ, flags=0, links=links)
    theirs = so.OSPF_Router_LSA(age=1, options=OPTION_E, id=str(R1), adrouter=str(R1), seq=0x80000001, flags=0,
                                linklist=[so.OSPF_Link(id=str(k.link_id), data=str(k.link_data), type=k.type,
                                                       metric=k.metric) for k in links])
    assert lsa.to_bytes() == raw(theirs)
    assert lsa.header == LsaHeader(1, OPTION_E, ROUTER_LSA, R1, R1, INITIAL_SEQ, theirs.__class__(raw(theirs)).chksum,
                                   20 + 4 + 12 * 3)
    assert lsa.router_links == tuple(links)
    assert lsa_checksum_ok(lsa.to_bytes())
    assert Lsa.parse(lsa.to_bytes()) == lsa


@ORACLE
@given(router_lsas, u16)
def test_lsa_checksum_is_scapys_and_ignores_the_age(lsa, age):
    """RFC 2328 12.1.7: the Fletcher checksum leaves LS age out, so aging an LSA keeps it valid."""
    wire = lsa.to_bytes()
    assert int.from_bytes(so.ospf_lsa_checksum(wire), "big") == lsa.header.checksum
    assert lsa_checksum(wire) == lsa.header.checksum
    aged = lsa.with_age(age)
    assert aged.header.checksum == lsa.header.checksum and aged.body == lsa.body
    assert lsa_checksum_ok(aged.to_bytes())
    assert Lsa.parse(aged.to_bytes()) == aged


@FAST
@given(router_lsas, st.data())
def test_any_changed_byte_after_the_age_breaks_the_lsa_checksum(lsa, data):
    """A Fletcher checksum catches every single-byte change (mod 255: 0x00 <-> 0xFF excepted)."""
    wire = bytearray(lsa.to_bytes())
    at = data.draw(st.integers(2, len(wire) - 1))
    new = data.draw(u8.filter(lambda v: v != wire[at] and {v, wire[at]} != {0, 255}))
    if at in (18, 19):  # the length: then the LSA is another size and may not even fit
        return
    wire[at] = new
    assert not lsa_checksum_ok(bytes(wire))


# --- round trips and construction ----------------------------------------------------------------

@FAST
@given(packets, st.binary(max_size=8))
def test_round_trip(packet, trailer):
    """parse(to_bytes(x)) == x; bytes past the header's length are not the packet's."""
    wire = packet.to_bytes()
    assert int.from_bytes(wire[2:4], "big") == len(wire)
    assert parse_ospf(wire) == packet
    assert parse_ospf(memoryview(wire + trailer)) == packet


def test_opaque_lsas_travel_unchanged():
    """An AS-external-LSA (type 5) is not decoded: its header and body go through as they are."""
    external = opaque_lsa(5, A("0.0.0.0"), R3, INITIAL_SEQ + 4,
                          bytes(4) + struct.pack("!I", 0x80000014) + bytes(4) + bytes(4))
    packet = OspfPacket(R3, AREA0, LinkStateUpdate((external,)))
    assert parse_ospf(packet.to_bytes()) == packet
    assert lsa_checksum_ok(external.to_bytes())
    with pytest.raises(MalformedPacket, match="^OSPF bad body$"):
        external.router_links
    with pytest.raises(MalformedPacket, match="^OSPF bad body$"):
        external.router_flags


def test_the_packet_type_follows_the_body():
    bodies = [Hello(A("255.255.255.0"), 10, OPTION_E, 1, 40, AREA0, AREA0), DatabaseDescription(1500, OPTION_E, 7, 1),
              LinkStateRequest(()), LinkStateUpdate(()), LinkStateAck(())]
    assert [OspfPacket(R1, AREA0, b).type for b in bodies] == [1, 2, 3, 4, 5]
    assert [HELLO, DB_DESCRIPTION, LS_REQUEST, LS_UPDATE, LS_ACK] == [1, 2, 3, 4, 5]
    assert DD_I | DD_M | DD_MS == 7


def test_key_and_frozen_slotted():
    lsa = router_lsa(age=0, options=OPTION_E, router_id=R1, seq=INITIAL_SEQ, flags=0b010, links=[])
    assert lsa.header.key == (ROUTER_LSA, R1, R1)
    assert lsa.router_flags == 0b010 and lsa.router_links == ()
    with pytest.raises(FrozenInstanceError):
        lsa.header.age = 5  # type: ignore[misc]
    for obj in (lsa, lsa.header, OspfPacket(R1, AREA0, LinkStateAck(()))):
        assert not hasattr(obj, "__dict__")


def test_bad_arguments_to_builders_are_plain_value_errors():
    with pytest.raises(ValueError, match="authentication field must be 8 bytes"):
        OspfPacket(R1, AREA0, LinkStateAck(()), auth=b"x").to_bytes()


# --- RFC 2328 13.1: which instance is more recent -----------------------------------------------

def hdr(seq: int = INITIAL_SEQ, checksum: int = 0x1234, age: int = 0) -> LsaHeader:
    return LsaHeader(age, OPTION_E, ROUTER_LSA, R1, R1, seq, checksum, 36)


@pytest.mark.parametrize("a, b, expected", [
    # "the LSA having the newer LS sequence number is more recent" (signed: -0x7FFFFFFF is oldest)
    (hdr(seq=INITIAL_SEQ + 1), hdr(seq=INITIAL_SEQ), 1),
    (hdr(seq=-1), hdr(seq=1), -1),
    (hdr(seq=MAX_SEQ), hdr(seq=INITIAL_SEQ, checksum=0xFFFF, age=MAX_AGE), 1),
    # same sequence: "the instance having the larger LS checksum is considered to be more recent"
    (hdr(checksum=0x8000), hdr(checksum=0x7FFF), 1),
    (hdr(checksum=0x0001, age=MAX_AGE), hdr(checksum=0x0002), -1),
    # same checksum too: "If only one of the instances has its LS age field set to MaxAge" it is newer
    (hdr(age=MAX_AGE), hdr(age=0), 1),
    (hdr(age=MAX_AGE - 1), hdr(age=MAX_AGE), -1),
    (hdr(age=MAX_AGE), hdr(age=MAX_AGE), 0),
    (hdr(age=MAX_AGE + 5), hdr(age=MAX_AGE), 0),  # an age past MaxAge counts as MaxAge
    (hdr(age=MAX_AGE + 5), hdr(age=10), 1),
    # "if the LS age fields of the two instances differ by more than MaxAgeDiff, the instance
    # having the smaller (younger) LS age is accepted as more recent"
    (hdr(age=100), hdr(age=100 + MAX_AGE_DIFF + 1), 1),
    (hdr(age=2000), hdr(age=5), -1),
    # "Else, the two instances are considered to be identical."
    (hdr(age=100), hdr(age=100 + MAX_AGE_DIFF), 0),
    (hdr(age=7), hdr(age=7), 0),
])
def test_compare_lsa_rfc2328_13_1(a, b, expected):
    assert compare_lsa(a, b) == expected
    assert compare_lsa(b, a) == -expected


@FAST
@given(lsa_headers(), lsa_headers())
def test_compare_lsa_is_antisymmetric_and_ignores_what_13_1_ignores(a, b):
    assert compare_lsa(a, b) == -compare_lsa(b, a)
    assert compare_lsa(a, a) == 0
    other = replace(a, options=a.options ^ 1, length=a.length + 4, link_state_id=b.link_state_id)
    assert compare_lsa(a, other) == 0


# --- tshark decodes what we write -------------------------------------------------------------------

def capture() -> list[OspfPacket]:
    """An adjacency on a point-to-point link, one packet of each type, as R1 and R2 would send them."""
    ptp = router_lsa(age=1, options=OPTION_E, router_id=R1, seq=INITIAL_SEQ + 2, flags=0,
                     links=[RouterLink(R2, A("10.0.12.1"), LINK_PTP, 10),
                            RouterLink(A("10.0.12.0"), A("255.255.255.252"), LINK_STUB, 10)])
    other = router_lsa(age=3, options=OPTION_E, router_id=R2, seq=INITIAL_SEQ, flags=0b010,
                       links=[RouterLink(A("192.168.2.0"), A("255.255.255.0"), LINK_STUB, 1)])
    external = opaque_lsa(5, A("0.0.0.0"), R2, INITIAL_SEQ, bytes(4) + struct.pack("!I", 0x80000014) + bytes(8))
    mask = A("255.255.255.252")
    return [
        OspfPacket(R1, AREA0, Hello(mask, 10, OPTION_E, 1, 40, AREA0, AREA0, (R2,))),
        OspfPacket(R2, AREA0, DatabaseDescription(1500, OPTION_E, DD_I | DD_M | DD_MS, 0x5A5A)),
        OspfPacket(R1, AREA0, DatabaseDescription(1500, OPTION_E, DD_M, 0x5A5A, (ptp.header,))),
        OspfPacket(R2, AREA0, LinkStateRequest(((ROUTER_LSA, R1, R1),))),
        OspfPacket(R1, AREA0, LinkStateUpdate((ptp, other.with_age(4), external))),
        OspfPacket(R2, AREA0, LinkStateAck((ptp.header, external.header))),
    ]


def test_tshark_decodes_every_packet_type(tmp_path):
    path = tmp_path / "ospf.pcap"
    with PcapWriter(path, LINKTYPE_RAW) as pcap:
        for i, packet in enumerate(capture()):
            pcap.write(float(i), in_ip(packet.to_bytes()))
    fields = ["ip.proto", "ip.ttl", "ip.dst", "ip.dsfield", "ospf.version", "ospf.msg", "ospf.srcrouter",
              "ospf.area_id", "ospf.packet_length", "ospf.hello.network_mask", "ospf.hello.hello_interval",
              "ospf.hello.router_dead_interval", "ospf.hello.router_priority", "ospf.hello.active_neighbor",
              "ospf.db.interface_mtu", "ospf.db.dd_sequence", "ospf.dbd", "ospf.link_state_id",
              "ospf.ls.number_of_lsas", "ospf.lsa", "ospf.lsa.id", "ospf.advrouter", "ospf.lsa.age",
              "ospf.lsa.seqnum", "ospf.lsa.length", "ospf.lsa.number_of_links", "ospf.lsa.router.linktype",
              "ospf.lsa.router.linkid", "ospf.lsa.router.linkdata", "ospf.lsa.router.metric0",
              "ospf.v2.router.lsa.flags"]
    rows = tshark_fields(path, fields)
    assert len(rows) == 6
    for row in rows:
        assert (row["ip.proto"], row["ip.ttl"], row["ip.dst"], row["ip.dsfield"], row["ospf.version"]) == (
            "89", "1", "224.0.0.5", "0xc0", "2")
    assert [row["ospf.msg"] for row in rows] == ["1", "2", "2", "3", "4", "5"]
    assert [row["ospf.srcrouter"] for row in rows] == ["1.1.1.1", "2.2.2.2", "1.1.1.1", "2.2.2.2", "1.1.1.1",
                                                      "2.2.2.2"]
    assert {row["ospf.area_id"] for row in rows} == {"0.0.0.0"}
    assert [int(row["ospf.packet_length"]) for row in rows] == [len(p.to_bytes()) for p in capture()]
    hello, dd_init, dd, lsr, lsu, ack = rows
    assert (hello["ospf.hello.network_mask"], hello["ospf.hello.hello_interval"],
            hello["ospf.hello.router_dead_interval"], hello["ospf.hello.router_priority"],
            hello["ospf.hello.active_neighbor"]) == ("255.255.255.252", "10", "40", "1", "2.2.2.2")
    assert (dd_init["ospf.db.interface_mtu"], dd_init["ospf.db.dd_sequence"], dd_init["ospf.dbd"],
            dd_init["ospf.lsa"]) == ("1500", "23130", "0x07", "")
    assert (dd["ospf.dbd"], dd["ospf.lsa"], dd["ospf.lsa.id"], dd["ospf.advrouter"], dd["ospf.lsa.seqnum"],
            dd["ospf.lsa.length"]) == ("0x02", "1", "1.1.1.1", "1.1.1.1", "0x80000003", "48")
    assert (lsr["ospf.link_state_id"], lsr["ospf.advrouter"]) == ("1.1.1.1", "1.1.1.1")
    assert lsu["ospf.ls.number_of_lsas"] == "3"
    assert lsu["ospf.lsa"] == "1,1,5"
    assert lsu["ospf.lsa.id"] == "1.1.1.1,2.2.2.2,0.0.0.0"
    assert lsu["ospf.advrouter"] == "1.1.1.1,2.2.2.2,2.2.2.2"
    assert lsu["ospf.lsa.age"] == "1,4,0"
    assert lsu["ospf.lsa.seqnum"] == "0x80000003,0x80000001,0x80000001"
    assert lsu["ospf.lsa.number_of_links"] == "2,1"
    assert lsu["ospf.lsa.router.linktype"] == "1,3,3"
    assert lsu["ospf.lsa.router.linkid"] == "2.2.2.2,10.0.12.0,192.168.2.0"
    assert lsu["ospf.lsa.router.linkdata"] == "10.0.12.1,255.255.255.252,255.255.255.0"
    assert lsu["ospf.lsa.router.metric0"] == "10,10,1"
    assert lsu["ospf.v2.router.lsa.flags"] == "0x00,0x02"
    assert (ack["ospf.lsa"], ack["ospf.lsa.id"]) == ("1,5", "1.1.1.1,0.0.0.0")
    assert tshark_expert_problems(path) == []


# --- malformed input -------------------------------------------------------------------------------

def test_every_reason_is_a_drop_reason():
    for reason in REASONS:
        member = DropReason(reason)
        assert (member.value, member.counters, member.errno) == (reason, (), None)
    for reason in ("OSPF area mismatch", "OSPF hello mismatch", "OSPF not enabled on interface",
                   "OSPF unknown neighbor", "OSPF own packet", "OSPF MTU mismatch"):
        assert DropReason(reason).value == reason


HELLO_WIRE = capture()[0].to_bytes()
LSU_WIRE = capture()[4].to_bytes()
ACK_WIRE = capture()[5].to_bytes()
VALID = [p.to_bytes() for p in capture()]


def patched(data: bytes, offset: int, value: bytes, *, fix_length: bool = False) -> bytes:
    out = data[:offset] + value + data[offset + len(value):]
    if fix_length:
        out = out[:2] + len(out).to_bytes(2, "big") + out[4:]
    return with_checksum(out)


def expect(reason: str, data: bytes) -> None:
    with pytest.raises(MalformedPacket) as caught:
        parse_ospf(data)
    assert type(caught.value) is MalformedPacket
    assert caught.value.reason == reason == str(caught.value)
    assert DropReason(caught.value.reason).value == reason


@pytest.mark.parametrize("length", [0, 1, 12, 23])
def test_too_short(length):
    expect("OSPF packet too short", HELLO_WIRE[:length])


@pytest.mark.parametrize("version", [0, 1, 3, 255])
def test_bad_version(version):
    expect("OSPF bad version", patched(HELLO_WIRE, 0, bytes([version])))


@pytest.mark.parametrize("cut, length", [(0, 0), (0, 23), (0, len(HELLO_WIRE) + 1), (4, len(HELLO_WIRE)), (0, 0xFFFF)])
def test_bad_length(cut, length):
    wire = patched(HELLO_WIRE, 2, length.to_bytes(2, "big"))
    expect("OSPF bad length", wire[:len(wire) - cut])


@pytest.mark.parametrize("offset", [1, 4, 8, 11, 12, 13, 24, 30, 47])
def test_bad_checksum(offset):
    wire = bytearray(HELLO_WIRE)
    wire[offset] ^= 0x10
    expect("OSPF bad checksum", bytes(wire))


def test_the_authentication_field_is_outside_the_checksum():
    """RFC 2328 D.4: the checksum leaves out the 64-bit authentication field (null auth ignores it)."""
    wire = HELLO_WIRE[:16] + b"anything" + HELLO_WIRE[24:]
    assert parse_ospf(wire) == replace(capture()[0], auth=b"anything")


@pytest.mark.parametrize("auth_type", [1, 2, 0xFFFF])
def test_authentication_other_than_null_is_refused(auth_type):
    """Simple password (1) and cryptographic (2, whose checksum is not computed: D.4.3) are refused."""
    packet = replace(capture()[0], auth_type=auth_type, auth=b"secret!!")
    wire = packet.to_bytes()
    assert (wire[12:14] == b"\x00\x00") == (auth_type == 2)
    expect("OSPF authentication not supported", wire)


@pytest.mark.parametrize("type_", [0, 6, 255])
def test_unknown_packet_type(type_):
    expect("OSPF unknown packet type", patched(HELLO_WIRE, 1, bytes([type_])))


def bodies_that_do_not_fit():
    hello = HELLO_WIRE
    dd_init, dd = VALID[1], VALID[2]
    lsr = VALID[3]
    lsu = LSU_WIRE
    first_lsa_len = int.from_bytes(lsu[24 + 4 + 18:24 + 4 + 20], "big")
    return {
        "hello shorter than its fixed part": patched(hello[:24 + 19], 0, b"\x02", fix_length=True),
        "hello with a partial neighbor": patched(hello + b"\x01\x02", 0, b"\x02", fix_length=True),
        "DD shorter than its fixed part": patched(dd_init[:24 + 7], 0, b"\x02", fix_length=True),
        "DD with a partial LSA header": patched(dd[:-1], 0, b"\x02", fix_length=True),
        "DD header with length 19": patched(dd, 24 + 8 + 18, (19).to_bytes(2, "big")),
        "DD router-LSA header of 22 bytes": patched(dd, 24 + 8 + 18, (22).to_bytes(2, "big")),
        "LSR with a partial request": patched(lsr + b"\x00" * 4, 0, b"\x02", fix_length=True),
        "LSU without its count": patched(lsu[:24 + 3], 0, b"\x02", fix_length=True),
        "LSU declaring more LSAs": patched(lsu, 24, (4).to_bytes(4, "big")),
        "LSU declaring fewer LSAs": patched(lsu, 24, (2).to_bytes(4, "big")),
        "LSU with an LSA past the end": patched(lsu, 24 + 4 + 18, (len(lsu)).to_bytes(2, "big")),
        "LSU with an LSA of length 19": patched(lsu, 24 + 4 + 18, (19).to_bytes(2, "big")),
        "LSU with trailing bytes": patched(lsu + bytes(8), 0, b"\x02", fix_length=True),
        "LSU with a router-LSA declaring 3 links": patched(lsu, 24 + 4 + 22, (3).to_bytes(2, "big")),
        "LSU with a router-LSA declaring 1 link": patched(lsu, 24 + 4 + 22, (1).to_bytes(2, "big")),
        "LSU with a router link's TOS past the LSA": patched(lsu, 24 + 4 + first_lsa_len - 3, b"\x05"),
        "LSAck with a partial header": patched(ACK_WIRE + bytes(4), 0, b"\x02", fix_length=True),
    }


@pytest.mark.parametrize("name", list(bodies_that_do_not_fit()))
def test_bad_body(name):
    expect("OSPF bad body", bodies_that_do_not_fit()[name])


@pytest.mark.parametrize("offset_in_lsa", [2, 3, 10, 15, 16, 17, 21, 30, 40])
def test_lsa_bad_checksum(offset_in_lsa):
    """RFC 2328 13 (1): an LSA whose checksum does not verify; the packet checksum is right."""
    lsu = bytearray(LSU_WIRE)
    lsu[24 + 4 + offset_in_lsa] ^= 0x01
    expect("OSPF LSA bad checksum", with_checksum(bytes(lsu)))


def test_an_lsa_aged_in_transit_still_verifies():
    """RFC 2328 13.3: each hop adds InfTransDelay to LS age; the checksum leaves the age out."""
    lsu = LSU_WIRE[:24 + 4] + (3000).to_bytes(2, "big") + LSU_WIRE[24 + 4 + 2:]
    lsas = parse_ospf(with_checksum(lsu)).body.lsas  # type: ignore[union-attr]
    assert lsas[0] == capture()[4].body.lsas[0].with_age(3000)  # type: ignore[union-attr]


@pytest.mark.parametrize("index", range(len(VALID)))
def test_every_truncation_and_single_byte_change_raises_only_malformed_packet(index):
    """Exhaustive over one packet of each type: every cut, every byte set to 0x00, 0xFF or flipped."""
    wire = VALID[index]
    for cut in range(len(wire)):
        assert parse_or_malformed(parse_ospf, wire[:cut], REASONS) is None
    for at in range(len(wire)):
        for value in {0x00, 0xFF, wire[at] ^ 0xFF, wire[at] ^ 0x01}:
            changed = wire[:at] + bytes([value]) + wire[at + 1:]
            parse_or_malformed(parse_ospf, changed, REASONS)
            parse_or_malformed(parse_ospf, with_checksum(changed), REASONS)


@FAST
@given(hostile(packets.map(lambda p: p.to_bytes())))
def test_hostile_input_raises_only_malformed_packet(data):
    parse_or_malformed(parse_ospf, data, REASONS)


@FAST
@given(damaged(packets.map(lambda p: p.to_bytes())))
def test_damage_past_the_checksum_raises_only_malformed_packet(data):
    """Damaged packets with the checksum made right again, so the body checks are what is tested."""
    if len(data) >= 24 and data[0] == 2 and 24 <= int.from_bytes(data[2:4], "big") <= len(data):
        data = with_checksum(data)
    parse_or_malformed(parse_ospf, data, REASONS)
