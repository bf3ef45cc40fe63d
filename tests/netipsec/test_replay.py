"""Anti-replay as FreeBSD does it: window sizes, exact edges, ESN across 2^32, wraps. [S7.4] [S7.5]"""

from __future__ import annotations

import pytest

from ipsecsim.netipsec import (
    SADB_X_EXT_CYCSEQ,
    SADB_X_SAFLAGS_ESN,
    EspBadauth,
    EspReplay,
    EspWrap,
    ReplayWindow,
)

from .helpers import ping, sa_pair


def accept(w: ReplayWindow, seq: int) -> int:
    """What esp_input does around crypto: check, then (ICV good) update."""
    seqh = w.check(seq)
    w.update(seq)
    return seqh


def test_window_zero_accepts_everything():
    # setkey -r 0 (the default): no anti-replay at all [S7.4] [S7.5].
    w = ReplayWindow(0)
    for seq in (5, 5, 0, 1, 0xFFFFFFFF, 5):
        accept(w, seq)
    assert w.count == 0  # count moves on input only with a window [S7.5]


def test_window_zero_sa_delivers_a_replayed_packet_twice():
    # Scenario check 15 [S7.5]: re-injecting a captured packet is delivered again.
    tx, rx = sa_pair("aes-gcm-16", b"K" * 20, mode="tunnel")
    pkt = tx.encapsulate(ping())
    assert rx.decapsulate(pkt) == rx.decapsulate(pkt) == ping()
    assert rx.stats.esps_replay == 0


@pytest.mark.parametrize("wsize", [4, 8, 128])
def test_exact_edges(wsize):
    # window = 8 x setkey -r bytes [S7.4]: after seeing `top`, top-W+1 is the oldest
    # acceptable sequence number and top-W is too old; duplicates are refused [S7.5].
    w = ReplayWindow(wsize)
    size = 8 * wsize
    top = 3 * size + 7
    accept(w, top)
    accept(w, top - size + 1)  # oldest in window: accepted once
    with pytest.raises(EspReplay):
        w.check(top - size + 1)
    with pytest.raises(EspReplay):
        w.check(top)  # duplicate of the top
    # Too old: the early check lets it through (it looks like the next subspace),
    # ipsec_updatereplay refuses it for non-ESN SAs [S7.5].
    assert w.check(top - size) == 1
    with pytest.raises(EspReplay):
        w.update(top - size)
    for seq in range(top - size + 2, top):  # every other slot in the window, once each
        accept(w, seq)
        with pytest.raises(EspReplay):
            w.check(seq)
    assert w.count == size  # top, the oldest, and the size-2 in between


@pytest.mark.parametrize("wsize", [4, 8, 128])
def test_window_slides_and_forgets(wsize):
    w = ReplayWindow(wsize)
    size = 8 * wsize
    for seq in range(1, 5 * size):
        accept(w, seq)
    accept(w, 7 * size)  # jump ahead: everything below 6*size+1 is now too old
    accept(w, 7 * size - size + 1)
    with pytest.raises(EspReplay):
        w.update(7 * size - size)
    with pytest.raises(EspReplay):
        w.update(5 * size - 1)  # seen long ago, now outside the window


def test_sequence_zero_rejected_at_start():
    # "seq 0 is rejected while last == 0" [S7.5]
    w = ReplayWindow(4)
    with pytest.raises(EspReplay):
        w.check(0)
    with pytest.raises(EspReplay):
        w.update(0)


@pytest.mark.parametrize("wsize", [4, 8, 128])
def test_sa_drops_duplicate_and_too_old_with_counters(wsize):
    # Scenario check 15 [S7.5]: with -r 4 a duplicate is dropped and esps_replay counts;
    # so is a packet more than 31 (8*wsize - 1) below the highest seen.
    size = 8 * wsize
    tx, rx = sa_pair("aes-cbc", b"K" * 16, "hmac-sha2-256", b"A" * 32, mode="tunnel", replay_window=wsize)
    packets = [tx.encapsulate(ping()) for _ in range(size + 1)]  # seq 1 .. size+1
    rx.decapsulate(packets[-1])
    rx.decapsulate(packets[1])  # seq 2 = top - size + 1: the oldest still inside
    with pytest.raises(EspReplay):
        rx.decapsulate(packets[1])
    with pytest.raises(EspReplay):
        rx.decapsulate(packets[0])  # seq 1 = top - size: too old
    assert rx.stats.esps_replay == 2
    assert rx.replay.count == 2


def test_duplicate_is_refused_before_crypto():
    # ipsec_chkreplay runs before any crypto: no esps_ibytes for a duplicate [S7.5] [S9.2].
    tx, rx = sa_pair("aes-gcm-16", b"K" * 20, mode="tunnel", replay_window=4)
    pkt = tx.encapsulate(ping())
    rx.decapsulate(pkt)
    ibytes = rx.stats.esps_ibytes
    with pytest.raises(EspReplay):
        rx.decapsulate(pkt)
    assert rx.stats.esps_ibytes == ibytes


def test_window_moves_only_after_authentication():
    # A forged packet with a high sequence number must not move the window
    # (ipsec_updatereplay only after the ICV verified) [S7.5].
    tx, rx = sa_pair("aes-gcm-16", b"K" * 20, mode="tunnel", replay_window=4)
    good = [tx.encapsulate(ping()) for _ in range(3)]
    forged = bytearray(good[2])
    forged[24:28] = (1000).to_bytes(4, "big")  # seq 1000, ICV now wrong
    with pytest.raises(EspBadauth):
        rx.decapsulate(bytes(forged))
    assert rx.replay.last == 0
    for pkt in good:
        rx.decapsulate(pkt)


@pytest.mark.parametrize("alg", [("aes-gcm-16", b"K" * 20, None, b""), ("aes-cbc", b"K" * 16, "hmac-sha1", b"A" * 20),
                                 ("chacha20-poly1305", b"K" * 36, None, b"")])  # fmt: skip
def test_esn_across_2_32(alg):
    # ESN: 64-bit counter, only the low half on the wire; the receiver infers the high
    # half (RFC 4303 appendix A) and authenticates with it [S6.6] [S7.5].
    flags = SADB_X_EXT_CYCSEQ | SADB_X_SAFLAGS_ESN
    tx, rx = sa_pair(*alg, mode="tunnel", replay_window=4, flags=flags)
    tx.replay.count = rx.replay.last = 2**32 - 4  # as if 2^32-4 packets had gone by
    packets = [tx.encapsulate(ping()) for _ in range(8)]  # 2^32-3 .. 2^32+4
    wire_seqs = [int.from_bytes(p[24:28], "big") for p in packets]
    assert wire_seqs == [2**32 - 3, 2**32 - 2, 2**32 - 1, 0, 1, 2, 3, 4]
    order = [0, 1, 4, 5, 2, 3, 7, 6]  # reordered across the boundary
    for i in order:
        assert rx.decapsulate(packets[i]) == ping()
    assert rx.replay.last == 2**32 + 4
    for i in (2, 4):
        with pytest.raises(EspReplay):
            rx.decapsulate(packets[i])
    assert rx.replay.count == 8


def test_esn_high_half_is_authenticated():
    # The same wire packet claimed in the wrong subspace fails authentication.
    flags = SADB_X_EXT_CYCSEQ | SADB_X_SAFLAGS_ESN
    tx, rx = sa_pair("aes-gcm-16", b"K" * 20, mode="tunnel", replay_window=4, flags=flags)
    tx.replay.count = 2**32 + 10  # sends high half 1
    pkt = tx.encapsulate(ping())
    with pytest.raises(EspBadauth):
        rx.decapsulate(pkt)  # the receiver is still in subspace 0


def test_non_esn_sender_cycles_without_a_check():
    # esp_output has no wrap check: after 2^32-1 comes sequence number 0 [S6.6].
    tx, _ = sa_pair("aes-gcm-16", b"K" * 20, mode="tunnel")
    tx.replay.count = 2**32 - 2
    seqs = [int.from_bytes(tx.encapsulate(ping())[24:28], "big") for _ in range(3)]
    assert seqs == [2**32 - 1, 0, 1]


def test_non_esn_receiver_wrap_cyclic_and_nocyclic():
    # At last == 0xffffffff without ESN: CYCSEQ (setkey's default) logs and lets the
    # early check pass; -f nocyclic-seq drops with esps_wrap [S7.5]. The cyclic packet
    # then fails ipsec_updatereplay (outside the window) (DERIVED).
    for flags, drop, counters in ((SADB_X_EXT_CYCSEQ, EspReplay, {"esps_replay": 1}),
                                  (0, EspWrap, {"esps_wrap": 1, "esps_replay": 1})):  # fmt: skip
        tx, rx = sa_pair("aes-gcm-16", b"K" * 20, mode="tunnel", replay_window=4, flags=flags)
        tx.replay.count = rx.replay.last = 2**32 - 2
        rx.decapsulate(tx.encapsulate(ping()))  # seq 0xffffffff
        tx.encapsulate(ping())  # seq 0, lost
        with pytest.raises(drop):
            rx.decapsulate(tx.encapsulate(ping()))  # seq 1
        assert {k: v for k, v in rx.stats.as_dict().items() if k in ("esps_wrap", "esps_replay")} == counters
        assert rx.replay.overflow == 1


def test_enc_only_sa_still_updates_the_window():
    # Without authentication there is no early check, but ipsec_updatereplay still
    # runs whenever the SA has a replay structure [S7.5].
    tx, rx = sa_pair("aes-cbc", b"K" * 16, mode="tunnel", replay_window=4)
    pkt = tx.encapsulate(ping())
    rx.decapsulate(pkt)
    with pytest.raises(EspReplay):
        rx.decapsulate(pkt)


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(wsize=st.sampled_from([0, 1, 4, 8, 128]), seqs=st.lists(st.integers(0, 3000), max_size=300))
def test_bitmap_matches_a_plain_set_model(wsize, seqs):
    # The RFC 6479 bitmap (with its in-order fast path) against the window's meaning
    # [S7.5]: accept a number once if it is above the top or less than W below it.
    w, last, seen, size = ReplayWindow(wsize), 0, set(), 8 * wsize
    for seq in seqs:
        want = wsize == 0 or (not (seq == 0 and last == 0) and (seq > last or (last - seq < size and seq not in seen)))
        try:
            accept(w, seq)
            got = True
        except EspReplay:
            got = False
        assert got == want, (seq, last)
        if want and wsize:
            seen.add(seq)
            last = max(last, seq)
