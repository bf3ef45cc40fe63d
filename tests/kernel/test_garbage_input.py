"""Whatever bytes reach a host, it drops them with a named reason or handles them: never an exception."""

from ipaddress import ip_address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipsecsim.netipsec import SecurityAssociation
from ipsecsim.packet import Icmp, Icmp6, Udp

from .helpers import Chain


def tunnel_chain():
    """A - R - B with B holding an ESP SA, so garbage also reaches the ESP input path."""
    chain = Chain(routers=1)
    sa = SecurityAssociation(src="10.0.1.1", dst="10.0.2.2", spi=0x1000, mode="tunnel", enc="aes-gcm-16",
                             enc_key=bytes(20), rng=chain.b.rng)
    chain.b.keydb.add(sa, now=0)
    sender = SecurityAssociation(src="10.0.1.1", dst="10.0.2.2", spi=0x1000, mode="tunnel", enc="aes-gcm-16",
                                 enc_key=bytes(20), rng=chain.a.rng)
    return chain, sender


CHAIN, SENDER = tunnel_chain()
B_IN = CHAIN.ifaces[-1][1]
SRC4, DST4 = ip_address("10.0.1.1"), ip_address("10.0.2.2")
SRC6, DST6 = ip_address("2001:db8:1::1"), ip_address("2001:db8:2::2")


def valid_packets() -> list[bytes]:
    from ipsecsim.packet import IPv4, IPv6

    inner = IPv4(SRC4, DST4, 1, Icmp.echo_request(1, 1, b"x" * 20).to_bytes()).to_bytes()
    return [
        inner,
        IPv4(SRC4, DST4, 17, Udp(1, 9, b"hello").to_bytes(SRC4, DST4)).to_bytes(),
        IPv6(SRC6, DST6, 58, Icmp6.echo_request(1, 1, b"y").to_bytes(SRC6, DST6)).to_bytes(),
        IPv4(SRC4, DST4, 17, b"\x00" * 30, mf=True, ident=9).to_bytes(),
        SENDER.encapsulate(inner),
    ]


VALID = valid_packets()


def mutate(data: bytes, position: int, value: int, cut: int) -> bytes:
    buf = bytearray(data)
    if buf:
        buf[position % len(buf)] = value
    return bytes(buf[: max(0, len(buf) - cut)])


def receive(pkt: bytes) -> None:
    drops_before = sum(CHAIN.b.drops.values())
    B_IN.receive(pkt)
    CHAIN.clock.advance(CHAIN.clock.now + 0.01)
    assert all(isinstance(reason, str) and reason for reason in CHAIN.b.drops)
    assert sum(CHAIN.b.drops.values()) >= drops_before


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes(pkt):
    receive(pkt)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID), st.integers(0, 10_000), st.integers(0, 255), st.integers(0, 40))
def test_damaged_valid_packets(pkt, position, value, cut):
    receive(mutate(pkt, position, value, cut))


def test_a_valid_esp_packet_is_decrypted_and_answered():
    before = CHAIN.b.ipstat.ips_delivered
    receive(VALID[-1])
    assert CHAIN.b.ipstat.ips_delivered == before + 2  # the ESP packet, then its inner echo request
