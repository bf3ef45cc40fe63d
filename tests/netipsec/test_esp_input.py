"""ESP input at the offset IP input found (``esp_input(m, sav, skip, protoff)``), against the bytes path.

``decapsulate(outer)`` parses the outer header once and checks the SPI and destination;
``esp_input(sa, packet, skip, protoff)`` is what the kernel calls after its own lookup.
For a packet addressed to the SA both must give the same verdict and the same counters.
"""

from __future__ import annotations

import random

import pytest

from ipsecsim.netipsec import (
    SADB_X_EXT_CYCSEQ,
    SADB_X_SAFLAGS_ESN,
    EspBadauth,
    EspDrop,
    EspHdrops,
    EspReplay,
    SecurityAssociation,
    peek_spi,
)
from ipsecsim.netipsec.esp import esp_input

from .helpers import ALGORITHMS, alg_id, ipv4, ipv6, ping


def _receivers(alg, **kw):
    """A sender and two identical receivers: one fed bytes, one fed offsets."""
    enc, key, auth, akey = alg
    common = dict(src=kw.pop("src", "192.168.0.3"), dst=kw.pop("dst", "192.168.0.5"), spi=10000, enc=enc,
                  enc_key=key, auth=auth, auth_key=akey, **kw)  # fmt: skip
    return tuple(SecurityAssociation(**common, rng=random.Random(seed)) for seed in (1, 2, 2))


def _outcome(call):
    try:
        return call()
    except EspDrop as drop:
        return type(drop)


def _same(by_bytes: SecurityAssociation, by_offset: SecurityAssociation) -> None:
    assert by_bytes.stats == by_offset.stats
    assert (by_bytes.current.bytes, by_bytes.current.allocations) == (by_offset.current.bytes, by_offset.current.allocations)
    assert (by_bytes.replay.last, by_bytes.replay.count) == (by_offset.replay.last, by_offset.replay.count)


@pytest.mark.parametrize("alg", ALGORITHMS, ids=alg_id)
@pytest.mark.parametrize("v6", [False, True])
def test_offset_path_equals_bytes_path(alg, v6):
    # Good packets, a replay, a flipped ICV byte: same verdicts, same espstat.
    addrs = dict(src="fd00::3", dst="fd00::5") if v6 else {}
    tx, rx_bytes, rx_off = _receivers(alg, mode="tunnel", replay_window=4, **addrs)
    skip = 40 if v6 else 20
    packets = [tx.encapsulate(ping(n)) for n in (84, 100, 1400, 90)]
    bad = bytearray(packets.pop())
    bad[-1] ^= 1  # the ICV's last byte, or the next header without authentication
    verdicts = []
    for pkt in packets + [packets[0], bytes(bad)]:
        got = _outcome(lambda: rx_bytes.decapsulate(pkt))
        off = _outcome(lambda: esp_input(rx_off, pkt, skip, 9 if not v6 else None))
        assert (off[0] if isinstance(off, tuple) else off) == got
        verdicts.append(got)
    _same(rx_bytes, rx_off)
    assert verdicts[:3] == [ping(n) for n in (84, 100, 1400)] and verdicts[3] is EspReplay
    authenticated = rx_off.enc.aead or rx_off.auth is not None
    assert (verdicts[4] is EspBadauth) == authenticated


def test_offset_path_after_ipv6_extension_headers_and_in_transport_mode():
    # Transport mode: the rebuilt header's next-header byte is the last extension
    # header's, found by walking them when the caller gives no protoff (ipsec6_input).
    alg = ("aes-gcm-16", b"K" * 20, None, b"")
    tx, rx_bytes, rx_off = _receivers(alg, mode="transport", src="fd00::3", dst="fd00::5")
    hop_by_hop = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    inner = ipv6(hop_by_hop + b"udp-ish!", nxt=0)
    out = tx.encapsulate(inner)
    assert rx_bytes.decapsulate(out) == inner
    assert esp_input(rx_off, out, 48) == (inner, False)
    assert peek_spi(out, 48) == peek_spi(out) == (10000, rx_off.dst.packed)
    _same(rx_bytes, rx_off)


def test_offset_path_keeps_ipv4_options():
    alg = ("null", b"", "hmac-sha1", b"A" * 20)
    tx, rx_bytes, rx_off = _receivers(alg, mode="transport", src="172.16.0.3", dst="172.16.0.5")
    plain = ipv4(b"payload!", proto=17)
    with_opt = bytearray(bytes([0x46]) + plain[1:20] + b"\x01\x01\x01\x00" + plain[20:])
    with_opt[2:4] = len(with_opt).to_bytes(2, "big")
    with_opt[10:12] = b"\x00\x00"
    from ipsecsim.packet import internet_checksum

    with_opt[10:12] = internet_checksum(bytes(with_opt[:24])).to_bytes(2, "big")
    out = tx.encapsulate(bytes(with_opt))
    assert rx_bytes.decapsulate(out) == bytes(with_opt)
    assert esp_input(rx_off, out, 24, 9) == (bytes(with_opt), False)
    _same(rx_bytes, rx_off)


@pytest.mark.parametrize("alg", [ALGORITHMS[i] for i in (0, 4, 10)], ids=alg_id)
def test_short_esp_at_the_offset_is_hdrops(alg):
    # ipsec_common_input: fewer than 8 bytes after the offset is esps_hdrops. [S9.1]
    tx, _, rx = _receivers(alg, mode="tunnel")
    pkt = tx.encapsulate(ping())
    for cut in range(20, 28):
        with pytest.raises(EspHdrops):
            esp_input(rx, pkt[:cut], 20, 9)
        with pytest.raises(EspHdrops):
            peek_spi(pkt[:cut], 20)
    assert rx.stats.esps_hdrops == 8 and rx.stats.esps_input == 8


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

GARBAGE_SAS = [ALGORITHMS[i] for i in (0, 4, 8, 10, 13)]


@pytest.mark.parametrize("mode,flags", [("any", SADB_X_EXT_CYCSEQ), ("transport", SADB_X_EXT_CYCSEQ | SADB_X_SAFLAGS_ESN)])
@pytest.mark.parametrize("alg", GARBAGE_SAS, ids=alg_id)
@settings(max_examples=200, deadline=None)
@given(esp=st.binary(max_size=300), v6=st.booleans(), data=st.binary(max_size=80), skip=st.integers(0, 90))
# NULL "decrypts" these to next header 0 at an offset with no IP header in front of it
@example(esp=b"", v6=False, data=bytes(7) + b"\x01" + bytes(4), skip=0)
@example(esp=b"", v6=False, data=b"\x60" + bytes(10) + b"\x01" + bytes(4), skip=4)
def test_garbage_at_an_offset_matches_the_bytes_path(alg, mode, flags, esp, v6, data, skip):
    # h11's invariant on the offset path: whatever the bytes, and whatever offset a
    # caller passes, only EspDrop subclasses; for a packet of this SA the verdict and
    # the counters equal the bytes path's.
    _, rx_bytes, rx_off = _receivers(alg, mode=mode, replay_window=4, flags=flags,
                                     **(dict(src="fd00::3", dst="fd00::5") if v6 else {}))  # fmt: skip
    esp = (10000).to_bytes(4, "big") + esp
    framed = (ipv6(esp, nxt=50, src="fd00::3", dst="fd00::5") if v6 else
              ipv4(esp, proto=50, src="192.168.0.3", dst="192.168.0.5"))  # fmt: skip
    got = _outcome(lambda: rx_bytes.decapsulate(framed))
    off = _outcome(lambda: esp_input(rx_off, framed, 40 if v6 else 20))
    assert (off[0] if isinstance(off, tuple) else off) == got
    _same(rx_bytes, rx_off)
    _outcome(lambda: esp_input(rx_off, data, min(skip, len(data))))  # raises nothing but EspDrop
