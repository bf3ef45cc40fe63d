"""Whole ESP packets from the RFCs, produced and consumed byte for byte.

Sources, typed from the RFC text (the hex was taken from public transcriptions of
those sections in other projects' test suites; every value is checked by the test
itself, so a typo fails rather than passes):

* RFC 3602 section 4, cases 5 and 7: AES-CBC ESP, transport and tunnel, no ICV.
* draft-mcgrew-gcm-test-01 section 4: AES-GCM ESP packets (RFC 4106), 32-bit and
  64-bit (ESN) sequence numbers.
* RFC 7634 appendix A: the ChaCha20-Poly1305 ESP example.

Cases 6 and 8 of RFC 3602 were not found in a readable form and are not used.
"""

from __future__ import annotations

import pytest

from ipsecsim.netipsec import SADB_X_EXT_CYCSEQ, SADB_X_SAFLAGS_ESN, SecurityAssociation
from ipsecsim.netipsec.algorithms import enc_algorithm
from ipsecsim.netipsec.outer import ip_id_counter, OuterHeaderConfig
from ipsecsim.netipsec.xform import esp_init

from .helpers import FixedRng, hx, ipv4

# RFC 3602 section 4, case #5: transport mode, ping 192.168.123.3 -> .100, SPI 4321, seq 1.
CASE5_KEY = hx("90d382b4 10eeba7a d938c46c ec1a82bf")
CASE5_IV = hx("e96e8c08 ab465763 fd098d45 dd3ff893")
CASE5_ORIGINAL = hx("45000054 08f20000 4001f9fe c0a87b03 c0a87b64") + hx("""
    08000ebd a70a0000 8e9c083d b95b0700 08090a0b 0c0d0e0f 10111213 14151617
    18191a1b 1c1d1e1f 20212223 24252627 28292a2b 2c2d2e2f 30313233 34353637""")
CASE5_ESP = hx("4500007c 08f20000 4032f9a5 c0a87b03 c0a87b64") + hx("""
    00004321 00000001
    e96e8c08 ab465763 fd098d45 dd3ff893
    f663c25d 325c18c6 a9453e19 4e120849 a4870b66 cc6b9965 330013b4 898dc856
    a4699e52 3a55db08 0b59ec3a 8e4b7e52 775b07d1 db34ed9c 538ab50c 551b874a
    a269add0 47ad2d59 13ac19b7 cfbad4a6""")

# RFC 3602 section 4, case #7: tunnel mode, 192.168.123.3 -> .200, SPI 8765, seq 2.
CASE7_KEY = hx("01234567 89abcdef 01234567 89abcdef")
CASE7_INNER = hx("""
    45000054 09040000 4001f988 c0a87b03 c0a87bc8 08009f76 a90a0100 b49c083d
    02a20400 08090a0b 0c0d0e0f 10111213 14151617 18191a1b 1c1d1e1f 20212223
    24252627 28292a2b 2c2d2e2f 30313233 34353637""")
CASE7_ESP = hx("4500008c 09050000 4032f91e c0a87b03 c0a87bc8") + hx("""
    00008765 00000002
    f4e76524 4f6407ad f13dc138 0f673f37
    773b5241 a4c44922 5e4f3ce5 ed611b0c 237ca96c f74a9301 3c1b0ea1 a0cf70f8
    e4ecaec7 8ac53aad 7a0f022b 859243c6 47752e94 a859352b 8a4d4d2d ecd136e5
    c177f132 ad3fbfb2 201ac990 4c74ee0a 109e0ca1 e4dfe9d5 a100b842 f1c22f0d""")


def test_rfc3602_case5_transport_encapsulate_exact():
    # RFC 3602 s4 case 5. Transport mode keeps the original header: only protocol,
    # length and checksum change (4500007c ... 4032f9a5).
    sa = SecurityAssociation(src="192.168.123.3", dst="192.168.123.100", spi=0x4321, enc="aes-cbc",
                             enc_key=CASE5_KEY, mode="transport", rng=FixedRng(CASE5_IV))  # fmt: skip
    assert sa.encapsulate(CASE5_ORIGINAL) == CASE5_ESP


def test_rfc3602_case5_transport_decapsulate():
    sa = SecurityAssociation(src="192.168.123.3", dst="192.168.123.100", spi=0x4321, enc="aes-cbc",
                             enc_key=CASE5_KEY, mode="transport")  # fmt: skip
    assert sa.decapsulate(CASE5_ESP) == CASE5_ORIGINAL


def test_rfc3602_case7_tunnel_both_ways():
    # RFC 3602 s4 case 7: the outer header is FreeBSD's own: TTL 64, DF clear, TOS
    # copied, ID from the counter (0x0905) [S6.1]; second packet, so seq 2 [S6.6].
    outer = OuterHeaderConfig(next_ip_id=ip_id_counter(0x0904))
    tx = SecurityAssociation(src="192.168.123.3", dst="192.168.123.200", spi=0x8765, enc="aes-cbc",
                             enc_key=CASE7_KEY, mode="tunnel", outer=outer,
                             rng=FixedRng(hx("f4e76524 4f6407ad f13dc138 0f673f37")))  # fmt: skip
    tx.replay.count = 1
    assert tx.encapsulate(CASE7_INNER) == CASE7_ESP
    rx = SecurityAssociation(src="192.168.123.3", dst="192.168.123.200", spi=0x8765, enc="aes-cbc",
                             enc_key=CASE7_KEY, mode="tunnel")  # fmt: skip
    assert rx.decapsulate(CASE7_ESP) == CASE7_INNER


# draft-mcgrew-gcm-test-01 s4: (keying material = key || salt, ESP from SPI on, plaintext
# with trailer). 32-bit sequence numbers: AAD is SPI || seq.
GCM_32 = [
    (
        hx("feffe992 8665731c 6d6a8f94 67308308 cafebabe"),
        hx("""0000a5f8 0000000a facedbad decaf888 deb22cd9 b07c72c1 6e3a65be eb8df304
              a5a5897d 33ae530f 1ba76d5d 114d2a5c 3de81827 c10e9a4f 51330d0e ec416642
              cfbb85a5 b47e48a4 ec3b9ba9 5d918bd1 83b70d3a a8bc6ee4 c309e9d8 5a41ad4a"""),
        hx("""4500003e 698f0000 80114dcc c0a80102 c0a80101 0a980035 002a2343 b2d00100
              00010000 00000000 03736970 09637962 65726369 74790264 6b000001 00010001"""),
    ),
    (
        hx("""abbccdde f0011223 34455667 78899aab abbccdde f0011223 34455667 78899aab 11223344"""),
        hx("""4a2cbfe3 00000002 01020304 05060708 ff425c9b 724599df 7a3bcd51 0194e00d
              6a78107f 1b0b1cbf 06efae9d 65a5d763 748a6379 85771d34 7f054565 9f14e99d
              ef842d8e b335f4ee cfdbf831 824b4c49 15956c96"""),
        hx("""45000030 69a64000 80062690 c0a80102 9389155e 0a9e008b 2dc57ee0 00000000
              70024000 20bf0000 020405b4 01010402 01020201"""),
    ),
]

# draft-mcgrew-gcm-test-01 s4, extended (64-bit) sequence numbers: AAD is
# SPI || seq high || seq low (RFC 4106 s5). (key, salt, spi, seq, iv, ciphertext+tag, plaintext)
GCM_ESN = [
    ("4c80cdefbb5d10da906ac73c3613a634", "2e443b68", 0x00004321, 0x8765432100000000, "4956ed7e3b244cfe",
     "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf65925bf1f4a13c5d"
     "15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732459018148f6cbe722fd04796562dfdb4",
     "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
     "00000000045f736970045f756470037369700963796265726369747902646b000021000101020201"),
    ("3de09874b388e6491988d0c3607eae1f", "57690e43", 0x42F67E3F, 0x1010101010101010, "4e280000a2fca1a3",
     "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c35791765acbd8701ad79845bf9fe3fba487bc9"
     "1755e6662b4c8d0d1f5e22739530320ae0d731cc978ecafaeae88f00e80d6e48",
     "4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
     "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201"),
    ("abbccddef00112233445566778899aab", "decaf888", 0x00000100, 0x0000000000000001, "cafedebaceface74",
     "29c9fc69a197d038ccdd14e2ddfcaa0543332164412503524303ed3c6c5f283843af8c3e",
     "746f016265016f72016e6f7401746f0162650001"),
    ("4c80cdefbb5d10da906ac73c3613a634", "22433c64", 0x00004321, 0x8765432100000007, "4855ec7d3a234bfd",
     "74752e8aeb5d873cd7c0f4acc36c4bff84b7d7b98f0ca8b6acda6894bc619069ef9cbc28fe1b56a7c4e0d58c86cd2bc0",
     "0800c6cd020007006162636465666768696a6b6c6d6e6f707172737401020201"),
]  # fmt: skip


@pytest.mark.parametrize("keymat,esp,plaintext", GCM_32)
def test_gcm_draft_32bit_seq_transform(keymat, esp, plaintext):
    # draft-mcgrew-gcm-test-01 s4 (RFC 4106): seal reproduces IV || ciphertext || tag.
    alg = enc_algorithm("aes-gcm-16")
    xf = esp_init(alg, keymat, None, b"", esn=False)
    assert xf.seal(esp[:8], 0, esp[8:16], plaintext) == esp
    assert xf.open(esp, 0, 0, False) == plaintext


@pytest.mark.parametrize("key,salt,spi,seq,iv,ctag,plain", GCM_ESN)
def test_gcm_draft_esn_transform(key, salt, spi, seq, iv, ctag, plain):
    # draft-mcgrew-gcm-test-01 s4, 64-bit sequence numbers (RFC 4106 s5 AAD).
    xf = esp_init(enc_algorithm("aes-gcm-16"), hx(key + salt), None, b"", esn=True)
    hdr8 = spi.to_bytes(4, "big") + (seq & 0xFFFFFFFF).to_bytes(4, "big")
    assert xf.seal(hdr8, seq >> 32, hx(iv), hx(plain)) == hdr8 + hx(iv) + hx(ctag)
    assert xf.open(hdr8 + hx(iv) + hx(ctag), 0, seq >> 32, True) == hx(plain)


def test_gcm_draft_packet_through_sa():
    # draft-mcgrew-gcm-test-01 first case inside an outer IPv4 header we add: the
    # trailer's next header is 1, so FreeBSD hands back the rebuilt IP packet
    # (ipsec4_common_input_cb strips the outer header only for 4/41) [S9.3].
    keymat, esp, plaintext = GCM_32[0]
    outer = ipv4(esp, proto=50, src="192.168.1.2", dst="192.168.1.1", ident=0x698F)
    sa = SecurityAssociation(src="192.168.1.2", dst="192.168.1.1", spi=0xA5F8, enc="aes-gcm-16", enc_key=keymat)
    out = sa.decapsulate(outer)
    assert out[20:] == plaintext[:-2]  # pad length 0, next header 1
    assert out[9] == 1 and int.from_bytes(out[2:4], "big") == len(out)


# RFC 7634 appendix A: tunnel-mode ESP, ChaCha20-Poly1305, SPI 0x01020304, seq 5,
# IV 0x1011121314151617, KEYMAT = 32-byte key || salt a0a1a2a3.
RFC7634_KEYMAT = hx("""80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f
                       90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f a0 a1 a2 a3""")
RFC7634_INNER = hx("""45 00 00 54 a6 f2 00 00 40 01 e7 78 c6 33 64 05
    c0 00 02 05 08 00 5b 7a 3a 08 00 00 55 3b ec 10 00 07 36 27 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13
    14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33
    34 35 36 37""")
RFC7634_TRAILER = hx("01 02 02 04")
RFC7634_CIPHERTEXT_TAG = hx("""
    24 03 94 28 b9 7f 41 7e 3c 13 75 3a 4f 05 08 7b 67 c3 52 e6 a7 fa b1 b9 82 d4 66 ef 40 7a e5 c6
    14 ee 80 99 d5 28 44 eb 61 aa 95 df ab 4c 02 f7 2a a7 1e 7c 4c 4f 64 c9 be fe 2f ac c6 38 e8 f3
    cb ec 16 3f ac 46 9b 50 27 73 f6 fb 94 e6 64 da 91 65 b8 28 29 f6 41 e0
    76 aa a8 26 6b 7f b0 f7 b1 1b 36 99 07 e1 ad 43""")


def test_rfc7634_appendix_a_encapsulate():
    # RFC 7634 appendix A: an 84-byte ping, padded with 01 02, pad length 2, next
    # header 4 [S6.5]; the packet is FreeBSD's 140-byte case [S6.10].
    sa = SecurityAssociation(src="203.0.113.153", dst="203.0.113.5", spi=0x01020304, enc="chacha20-poly1305",
                             enc_key=RFC7634_KEYMAT, mode="tunnel")  # fmt: skip
    sa.replay.count = 4
    sa.cntr = 0x1011121314151617
    out = sa.encapsulate(RFC7634_INNER)
    assert len(out) == 140
    assert out[20:] == hx("01020304 00000005 1011121314151617") + RFC7634_CIPHERTEXT_TAG


def test_rfc7634_appendix_a_decapsulate():
    esp = hx("01020304 00000005 1011121314151617") + RFC7634_CIPHERTEXT_TAG
    packet = ipv4(esp, proto=50, src="203.0.113.153", dst="203.0.113.5")
    sa = SecurityAssociation(src="203.0.113.153", dst="203.0.113.5", spi=0x01020304, enc="chacha20-poly1305",
                             enc_key=RFC7634_KEYMAT, mode="tunnel", replay_window=4)  # fmt: skip
    assert sa.decapsulate(packet) == RFC7634_INNER
    xf = esp_init(enc_algorithm("chacha20-poly1305"), RFC7634_KEYMAT, None, b"", esn=False)
    assert xf.open(esp, 0, 0, False) == RFC7634_INNER + RFC7634_TRAILER


def test_esn_sa_puts_high_half_in_aad_not_on_wire():
    # RFC 4106 s5 via our SA: seq 0x1010101010101010 sends low half 0x10101010 only. [S6.6]
    key, salt, spi, seq, iv, ctag, plain = GCM_ESN[1]
    flags = SADB_X_EXT_CYCSEQ | SADB_X_SAFLAGS_ESN
    sa = SecurityAssociation(src="10.0.0.1", dst="10.0.0.2", spi=spi, enc="aes-gcm-16", enc_key=hx(key + salt),
                             flags=flags, mode="tunnel")  # fmt: skip
    sa.replay.count = seq - 1
    sa.cntr = int(iv, 16)
    inner = hx(plain)[:-4]  # the draft's packet is a 60-byte IPv4 ping; trailer 01 02 02 01
    hdr8 = sa.spi.to_bytes(4, "big") + (seq & 0xFFFFFFFF).to_bytes(4, "big")
    assert sa._xf.seal(hdr8, seq >> 32, hx(iv), inner + hx("01020201")) == hdr8 + hx(iv) + hx(ctag)
    wire = sa.encapsulate(inner)
    assert wire[24:28] == (seq & 0xFFFFFFFF).to_bytes(4, "big")
