"""The SecurityAssociation object: construction, kernel refusals, from_setkey, keys kept secret."""

from __future__ import annotations

import logging
import random

import pytest

from ipsecsim.netipsec import (
    SADB_X_EXT_CYCSEQ,
    EspNotdb,
    Lifetime,
    OuterHeaderConfig,
    SecurityAssociation,
    SetkeyError,
)

from .helpers import ping, sa_pair

MAN_PAGE_A = 'add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!1";'


def test_from_setkey_man_page_pair_talks():
    # if_ipsec(4)'s example: the same add line on host A and host B. [S10.11]
    a = SecurityAssociation.from_setkey(MAN_PAGE_A, random.Random(1), now=3.0)
    b = SecurityAssociation.from_setkey(MAN_PAGE_A, random.Random(2))
    assert (a.spi, a.mode, a.reqid, a.proto, a.flags) == (10000, "tunnel", 100, "esp", SADB_X_EXT_CYCSEQ)
    assert a.enc.name == "aes-cbc" and a.enc.sadb_id == 12 and a.auth is None
    assert a.enc_key.hex() == "56657279536563757265" "4b6579212131"  # setkey -D prints it [S10.11]
    assert a.current.created == 3.0 and a.current.firstused is None  # [S7.3]
    assert b.decapsulate(a.encapsulate(ping())) == ping()


def test_keys_never_in_repr_or_logs(caplog):
    key = b"VerySecureKey!!1"
    sa = SecurityAssociation(src="10.0.0.1", dst="10.0.0.2", spi=300, enc="aes-cbc", enc_key=key,
                             auth="hmac-sha1", auth_key=b"AuthKeyAuthKey123456")  # fmt: skip
    with caplog.at_level(logging.DEBUG):
        text = repr(sa) + str(sa)
        sa.encapsulate(ping())
    for secret in (key, b"AuthKeyAuthKey123456"):
        for form in (secret.decode(), secret.hex(), secret.hex().upper(), repr(secret)):
            assert form not in text and form not in caplog.text
    assert "spi=300(0x0000012c)" in text and "enc=aes-cbc" in text and "auth=hmac-sha1" in text


@pytest.mark.parametrize(
    "kwargs,detail",
    [
        ({"spi": 255}, "SPI"),  # SPI <= 255 is EINVAL [S7.3]
        ({"src": "10.0.0.1", "dst": "::1"}, "famil"),
        ({"mode": "beet"}, "mode"),
        ({"lifetime_hard": Lifetime(addtime=10)}, "HARD and SOFT"),  # both or neither [S7.3]
        ({"enc": "aes-gcm-16", "enc_key": bytes(21)}, "aes-gcm-16"),  # esp_init's GCM switch [S6.9]
        ({"enc": "aes-cbc", "enc_key": bytes(17)}, "aes-cbc"),  # crypto layer refuses (UNCONFIRMED)
        ({"enc": "aes-gcm-16", "enc_key": bytes(20), "auth": "hmac-sha1", "auth_key": bytes(20)}, "authenticates"),
        ({"auth": "hmac-sha2-512", "auth_key": bytes(32)}, "64-byte"),
        ({"enc": "blowfish-cbc"}, "not supported"),
    ],
)
def test_kernel_refusals_are_einval(kwargs, detail):
    args = {"src": "10.0.0.1", "dst": "10.0.0.2", "spi": 1000, **kwargs}
    with pytest.raises(SetkeyError) as e:
        SecurityAssociation(**args)
    assert e.value.kind == "kernel" and e.value.errno == "EINVAL"
    assert e.value.output == "Invalid argument."
    assert detail in e.value.detail


@pytest.mark.parametrize(
    "line",
    [
        'add 1.1.1.1 2.2.2.2 esp 200 -E null "";',  # scenario check 18: SPI 200 [S7.3]
        'add 1.1.1.1 2.2.2.2 esp 1000 -lh 10 -E null "";',  # scenario check 17: -lh alone [S7.3]
        'add 1.1.1.1 2.2.2.2 esp 1000 -lh 0 -ls 5 -E null "";',  # a zero lifetime is not sent
        'add 1.1.1.1 2.2.2.2 esp 1000 -E aes-gcm-16 "0123456789abcdef01234";',  # 17-byte AES key
        'add 1.1.1.1 2.2.2.2 esp 1000 -A hmac-sha1 "01234567890123456789";',  # ESP without -E
        "add 1.1.1.1 2.2.2.2 esp 1000 -E simple;",  # old null: no key at all
        'add 1.1.1.1 2.2.2.2 1000 -E null "";',  # no protocol
    ],
)
def test_from_setkey_kernel_errors(line):
    # Script mode prints the kernel's answer as "The result of line N: ..." [S10.3].
    with pytest.raises(SetkeyError) as e:
        SecurityAssociation.from_setkey(line)
    assert str(e.value) == "The result of line 1: Invalid argument."


def test_from_setkey_lifetimes_and_replay():
    sa = SecurityAssociation.from_setkey('add 1.1.1.1 2.2.2.2 esp 1000 -r 300 -lh 10 -ls 5 -E null "";')
    assert sa.lifetime_hard == Lifetime(addtime=10) and sa.lifetime_soft == Lifetime(addtime=5)
    assert sa.replay.wsize == 300 and sa.replay.window == 2400  # via SADB_X_EXT_SA_REPLAY bits [S10.5]


def test_unmodelled_protocols_say_so():
    for line in ('add 1.1.1.1 2.2.2.2 ah 1000 -A hmac-sha1 "01234567890123456789";',
                 'add 1.1.1.1 2.2.2.2 esp 1000 -E camellia-cbc "0123456789abcdef";'):  # fmt: skip
        with pytest.raises(SetkeyError) as e:
            SecurityAssociation.from_setkey(line)
        assert e.value.kind == "unsupported" and str(e.value).startswith("ipsecsim: ")


def test_zeroize_wipes_keys():
    sa = SecurityAssociation(src="10.0.0.1", dst="10.0.0.2", spi=1000, enc="aes-gcm-16", enc_key=b"K" * 20)
    sa.zeroize()
    assert sa.enc_key == bytes(20)
    with pytest.raises(EspNotdb):
        sa.encapsulate(ping())
    with pytest.raises(EspNotdb):
        sa.decapsulate(sa_pair("aes-gcm-16", b"K" * 20, src="10.0.0.1", dst="10.0.0.2", spi=1000, mode="tunnel")[0]
                       .encapsulate(ping()))  # fmt: skip


def test_default_rng_is_the_os_and_outer_config_is_private():
    sa = SecurityAssociation(src="10.0.0.1", dst="10.0.0.2", spi=1000)
    assert isinstance(sa.rng, random.SystemRandom)
    assert isinstance(sa.outer, OuterHeaderConfig) and sa.outer.ttl == 64
    shared = OuterHeaderConfig(ttl=32)
    sa2 = SecurityAssociation(src="10.0.0.1", dst="10.0.0.2", spi=1001, outer=shared, mode="tunnel")
    assert sa2.encapsulate(ping())[8] == 32
    shared.ttl = 17  # a sysctl change on the host reaches the next packet
    assert sa2.encapsulate(ping())[8] == 17
