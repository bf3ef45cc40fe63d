"""FreeBSD's algorithm table [S6.9], ICV sizes [S6.8] and setkey's key checks [S10.6]."""

from __future__ import annotations

import pytest

from ipsecsim.netipsec import AUTH_ALGORITHMS, ENC_ALGORITHMS, SetkeyError
from ipsecsim.netipsec.algorithms import auth_algorithm, check_kernel_keys, check_setkey_keylen, enc_algorithm


def test_table_matches_s6_9():
    # (SADB id, key bytes given to setkey, pad modulus, ESP IV, ICV) per [S6.9].
    want = {
        "null": (11, 0, 4, 0, 0),
        "aes-cbc": (12, 16, 16, 16, 0),
        "aes-ctr": (13, 20, 16, 8, 0),
        "aes-gcm-16": (20, 20, 4, 8, 16),
        "chacha20-poly1305": (15, 36, 4, 8, 16),
    }
    for name, (sadb, key, pad, iv, icv) in want.items():
        a = ENC_ALGORITHMS[name]
        assert (a.sadb_id, a.key_min + a.salt, a.pad_block, a.iv_len, a.aead_icv) == (sadb, key, pad, iv, icv)


def test_icv_lengths_s6_8():
    assert {n: (a.sadb_id, a.key_len, a.icv_len) for n, a in AUTH_ALGORITHMS.items()} == {
        "hmac-sha1": (3, 20, 12),
        "hmac-sha2-256": (5, 32, 16),
        "hmac-sha2-384": (6, 48, 24),
        "hmac-sha2-512": (7, 64, 32),
        "null": (251, 0, 12),
    }


def test_rijndael_cbc_is_aes_cbc():
    assert enc_algorithm("rijndael-cbc") is enc_algorithm("aes-cbc")  # id 12 [S10.6]


def test_aes_xcbc_mac_is_refused():
    # FreeBSD's kernel lacks it, so setkey says "Not supported" [S10.6].
    with pytest.raises(KeyError):
        auth_algorithm("aes-xcbc-mac")


@pytest.mark.parametrize(
    "name,good,bad",
    [
        ("null", [0, 1, 256], [257]),
        ("aes-cbc", [16, 17, 24, 32], [15, 33, 0]),  # setkey accepts 16..32 [S6.9]
        ("aes-ctr", [20, 28, 36, 21], [16, 19, 37]),  # key + 4-byte nonce
        ("aes-gcm-16", [20, 28, 36, 32], [16, 19, 37]),  # 32 passes setkey, not esp_init
        ("chacha20-poly1305", [36], [32, 35, 37]),
    ],
)
def test_setkey_key_length_check(name, good, bad):
    for n in good:
        check_setkey_keylen(enc_algorithm(name), n)
    for n in bad:
        with pytest.raises(SetkeyError, match="Invalid key length"):
            check_setkey_keylen(enc_algorithm(name), n)


def test_kernel_key_check_is_stricter_than_setkey():
    # setkey lets a 21-byte aes-gcm-16 key through (17 >= 16); esp_init refuses it. [S6.9]
    check_setkey_keylen(enc_algorithm("aes-gcm-16"), 21)
    with pytest.raises(SetkeyError) as e:
        check_kernel_keys(enc_algorithm("aes-gcm-16"), bytes(21), None, b"")
    assert e.value.output == "Invalid argument." and e.value.errno == "EINVAL"
    for n in (20, 28, 36):
        check_kernel_keys(enc_algorithm("aes-gcm-16"), bytes(n), None, b"")
