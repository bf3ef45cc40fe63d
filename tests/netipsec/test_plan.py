"""The ESP transform's per-SA plan (``esp_init``): built once, named, rebuilt or zeroized on purpose."""

from __future__ import annotations

import pytest

from ipsecsim.netipsec import EspNotdb, SecurityAssociation
from ipsecsim.netipsec import xform
from ipsecsim.netipsec._plan import IV_COUNTER, IV_NONE, IV_RANDOM, EspPlan

from .helpers import ALGORITHMS, alg_id, ipv6, ping, sa_pair


class _Counting:
    """Wraps a key-object class and counts how many are made."""

    def __init__(self, cls):
        self.cls, self.made = cls, 0

    def __call__(self, *args):
        self.made += 1
        return self.cls(*args)


@pytest.mark.parametrize("name", ["AESGCM", "ChaCha20Poly1305"])
def test_aead_key_object_is_built_once_per_sa(monkeypatch, name):
    # esp_init: the key object is made when the SA is, never per packet (a new one costs 2-3x the AEAD call).
    counting = _Counting(getattr(xform, name))
    monkeypatch.setattr(xform, name, counting)
    enc, key = ("aes-gcm-16", b"K" * 20) if name == "AESGCM" else ("chacha20-poly1305", b"K" * 36)
    tx, rx = sa_pair(enc, key, mode="tunnel")
    assert counting.made == 2
    plan = rx.plan
    for n in range(40, 120):
        assert rx.decapsulate(tx.encapsulate(ping(n))) == ping(n)
    assert counting.made == 2 and rx.plan is plan


@pytest.mark.parametrize("alg", ALGORITHMS, ids=alg_id)
def test_plan_names_the_layout(alg):
    # [S6.4] [S6.5]: outer header + ESP header + IV + payload + padding + 2 + ICV.
    tx, _ = sa_pair(*alg, mode="tunnel")
    p = tx.plan
    assert not hasattr(p, "__dict__")  # slotted: a typo is an AttributeError, not a new field
    assert p.hlen == 8 + tx.enc.iv_len and p.icv_len == tx.icv_len
    assert p.iv_kind == (IV_COUNTER if tx.enc.salt else IV_RANDOM if tx.enc.iv_len else IV_NONE)
    assert (p.aead_encrypt is not None) == tx.enc.aead
    for n in range(60, 60 + 2 * p.pad_block):
        out = tx.encapsulate(ping(n))
        padding = len(out) - p.overhead - n
        assert padding - 2 == p.padlens[n % p.pad_block]
        assert (n + padding) % p.pad_block == 0
    assert p.dst == tx.dst.packed and p.addrs == tx.src.packed + tx.dst.packed


def test_plan_input_rules_follow_the_sa():
    # [S7.5]: early replay check only with an ICV and a window; [S9.3]: strip unless transport.
    gcm_window, _ = sa_pair("aes-gcm-16", b"K" * 20, replay_window=4)
    null_window, _ = sa_pair("null", b"", None, b"", replay_window=4)
    gcm_no_window, _ = sa_pair("aes-gcm-16", b"K" * 20, mode="transport")
    assert gcm_window.plan.early_replay and not null_window.plan.early_replay
    assert not gcm_no_window.plan.early_replay
    assert gcm_window.plan.strip and not gcm_no_window.plan.strip
    assert gcm_window.plan.encap_mode == "tunnel" and gcm_no_window.plan.encap_mode == "transport"


def test_ctr_compatibility_rebuilds_padding_around_the_same_crypto():
    # net.inet.esp.ctr_compatibility decides AES-CTR's padding modulus [S6.5]; the key
    # objects are the SA's and survive the change.
    tx, rx = sa_pair("aes-ctr", b"K" * 20, mode="tunnel")
    before = tx.plan
    assert before.pad_block == 16
    tx.ctr_compatibility = False
    assert tx.plan is not before and tx.plan.xf is before.xf and tx.plan.pad_block == 4
    assert rx.decapsulate(tx.encapsulate(ping(85))) == ping(85)


@pytest.mark.parametrize("alg", ALGORITHMS, ids=alg_id)
def test_zeroize_drops_the_keys_and_every_later_packet(alg):
    # esp_cleanup on SA delete: keys wiped, key objects gone; packets still handed to
    # the SA are esps_notdb, both ways, and ctr_compatibility does not revive it.
    tx, rx = sa_pair(*alg, mode="tunnel")
    good = tx.encapsulate(ping())
    for sa in (tx, rx):
        sa.zeroize()
        assert sa.plan.zeroized and set(sa.enc_key) <= {0} and set(sa.auth_key) <= {0}
        assert sa.plan.xf.aead_calls() == (None, None, b"")
        sa.ctr_compatibility = False
        assert sa.plan.zeroized
    with pytest.raises(EspNotdb):
        tx.encapsulate(ping())
    with pytest.raises(EspNotdb):
        rx.decapsulate(good)
    assert tx.stats.esps_notdb == 1 and rx.stats.esps_notdb == 1
    assert rx.current.allocations == 0


def test_plan_is_per_sa_not_shared():
    a = SecurityAssociation(src="10.0.0.1", dst="10.0.0.2", spi=1000, enc="aes-gcm-16", enc_key=b"K" * 20)
    b = SecurityAssociation(src="10.0.0.1", dst="10.0.0.2", spi=1000, enc="aes-gcm-16", enc_key=b"K" * 20)
    assert a.plan is not b.plan and a.plan.xf is not b.plan.xf
    a.zeroize()
    assert not b.plan.zeroized
    tx, _ = sa_pair("aes-gcm-16", b"K" * 20, src="10.0.0.1", dst="10.0.0.2", spi=1000, mode="tunnel")
    assert b.decapsulate(tx.encapsulate(ping())) == ping()


def test_ipv6_plan_overhead():
    tx, rx = sa_pair(mode="tunnel", src="fd00::3", dst="fd00::5")
    assert tx.plan.family == 6 and tx.plan.overhead == 40 + 16 + 16
    inner = ipv6(b"x" * 30, nxt=17)
    assert rx.decapsulate(tx.encapsulate(inner)) == inner
    assert isinstance(tx.plan, EspPlan)
