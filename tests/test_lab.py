"""ipsecsim.lab and the Simulation's lab tools: answer checks, terminal-like shell output, and
the packet tools (captures, ESP fields, decryption, injection, tshark, drawing)."""

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
import pytest

import ipsecsim
from ipsecsim.lab import ShellOutput, check, decrypt, esp_fields
from ipsecsim.netipsec import EspBadauth


def test_check_says_not_answered_for_none(capsys):
    assert check("Exercise 1", None, 42) is False
    assert "not answered yet" in capsys.readouterr().out


def test_check_accepts_the_expected_value_and_numbers_within_tolerance(capsys):
    assert check("Exercise 1", 42, 42)
    assert check("Exercise 2", 103, 100, tolerance=0.05)
    assert not check("Exercise 3", 110, 100, tolerance=0.05, hint="count the ESP trailer")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Exercise 1: correct (42)."
    assert out[2] == "Exercise 3: not quite. You answered 110. Hint: count the ESP trailer"


def test_check_compares_words_without_case_and_sets_without_order():
    assert check("q", " ENOBUFS ", "enobufs")
    assert check("q", ["b", "a"], {"a", "b"})
    assert not check("q", 5, {"a"})
    assert not check("q", True, 1)
    assert not check("q", float("nan"), 1.0)


def test_shell_output_shows_like_a_terminal():
    out = ShellOutput("line one\nline two\n")
    assert repr(out) == "line one\nline two"
    assert out == "line one\nline two\n"
    assert out._repr_html_() == '<pre style="margin:0">line one\nline two\n</pre>'


def test_host_sh_returns_shell_output():
    sim = ipsecsim.load("scenarios/if_ipsec_host_a_b.yaml", traffic=False)
    out = sim.host("A").sh("ifconfig ipsec0")
    assert isinstance(out, ShellOutput) and repr(out).startswith("ipsec0: flags=")


# -- captures, ESP fields, decryption, injection: what labs 01 and 03 do with packets ----------


TUNNEL = """ifconfig ipsec0 create reqid {reqid}
ifconfig ipsec0 inet tunnel 192.168.0.{me} 192.168.0.{peer}
ifconfig ipsec0 inet 172.16.0.{me}/16 172.16.0.{peer}
setkey -c <<EOF
add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u {reqid} {sa} ;
add 192.168.0.5 192.168.0.3 esp 10001 -m tunnel -u {reqid} {sa} ;
EOF"""
MAN_PAGE = '-E rijndael-cbc "VerySecureKey!!1"'
AUTHENTICATED = '-E rijndael-cbc "VerySecureKey!!1" -A hmac-sha2-256 "AuthenticationKeyOf32BytesLong!!"'
WINDOW = "-r 4 " + AUTHENTICATED


def tunnel(sa_options: str = MAN_PAGE):
    sim = ipsecsim.load("scenarios/labs/two_hosts.yaml", traffic=False)
    for name, me, peer, reqid in (("A", 3, 5, 100), ("B", 5, 3, 200)):
        assert sim.host(name).sh(TUNNEL.format(me=me, peer=peer, reqid=reqid, sa=sa_options)) == ""
    return sim


def test_capture_keeps_every_packet_crossing_the_interface_from_its_start():
    sim = tunnel()
    sim.host("A").sh("ping -c 1 172.16.0.5")  # before the capture: not in it
    wire, plain = sim.capture("A", "em0"), sim.capture("A", "ipsec0")
    sim.host("A").sh("ping -c 2 172.16.0.5")
    em0 = sim.network.host("A").interfaces["em0"].data
    assert len(wire.sent) == 2 == em0.opackets - 1 and len(wire.received) == 2 == em0.ipackets - 1
    assert [p.data[9] for p in wire] == [50] * 4 and [p.data[9] for p in plain] == [1] * 4  # ESP; ICMP inside
    assert wire.sent[1].time - wire.sent[0].time == pytest.approx(1.0)  # ping's one-second interval
    assert "ESP(spi=0x00002710,seq=0x2)" in str(wire)
    wire.stop()
    sim.host("A").sh("ping -c 1 172.16.0.5")
    assert len(wire) == 4 and len(plain) == 6


def test_esp_fields_and_decrypt_agree_with_the_cryptography_library():
    sim = tunnel()
    wire, inside_b = sim.capture("A", "em0"), sim.capture("B", "ipsec0")
    sim.host("A").sh("ping -c 1 172.16.0.5")
    packet = wire.sent[0].data
    sa = sim.host("B").sa(10000)
    fields = esp_fields(packet, sa)
    assert (fields.spi, fields.seq, len(fields.outer), len(fields.iv), fields.icv) == (10000, 1, 20, 16, b"")
    assert b"".join(data for _, data in fields.parts()) == packet
    # The oracle: AES-CBC with the setkey key, then RFC 4303's trailer (pad length, next header 4).
    plain = Cipher(algorithms.AES(b"VerySecureKey!!1"), modes.CBC(fields.iv)).decryptor().update(fields.ciphertext)
    padlen, next_header = plain[-2], plain[-1]
    assert next_header == 4 and plain[-2 - padlen:-2] == bytes(range(1, padlen + 1))
    inner = decrypt(packet, sa)
    assert inner == plain[:-2 - padlen] == inside_b.received[0].data
    assert sa.replay.count == 0 and sa.stats.esps_input == 1  # the kernel's SA saw only the real one


def test_decrypt_refuses_a_tampered_packet_when_the_sa_authenticates():
    sim = tunnel(AUTHENTICATED)
    wire = sim.capture("A", "em0")
    sim.host("A").sh("ping -c 1 172.16.0.5")
    tampered = bytearray(wire.sent[0].data)
    tampered[50] ^= 1
    with pytest.raises(EspBadauth):
        decrypt(bytes(tampered), sim.host("B").sa(10000))


@pytest.mark.parametrize("options, replay, tamper", [
    (AUTHENTICATED, {}, {"esps_badauth": 1}),  # an ICV but no window: replays pass, changes do not
    (WINDOW, {"esps_replay": 1}, {"esps_replay": 1}),  # the window is checked first, before the ICV
])
def test_inject_replayed_and_tampered_packets_names_what_freebsd_drops(options, replay, tamper):
    sim = tunnel(options)
    wire = sim.capture("A", "em0")
    sim.host("A").sh("ping -c 1 172.16.0.5")
    packet = wire.sent[0].data
    tampered = bytearray(packet)
    tampered[60] ^= 0x80
    assert sim.inject("B", "em0", bytes(tampered)) == tamper
    assert sim.inject("B", "em0", packet) == replay
    esp = sim.host("B").sh("netstat -s -p esp")
    lines = esp.splitlines()
    badauth = next(int(line.split()[0]) for line in lines if "bad authentication detected" in line)
    replays = next(int(line.split()[0]) for line in lines if "possible replay" in line)
    assert (badauth, replays) == (tamper.get("esps_badauth", 0), tamper.get("esps_replay", 0) + replay.get("esps_replay", 0))
    result = sim.run(sim.now + 1)
    assert result.ledger["unaccounted"] == 0 and "2 packets injected" in " ".join(result.notes)


def test_without_authentication_a_replay_is_accepted_and_tampering_reaches_the_inner_ip_layer():
    sim = tunnel()
    wire = sim.capture("A", "em0")
    sim.host("A").sh("ping -c 1 172.16.0.5")
    packet = wire.sent[0].data
    assert sim.inject("B", "em0", packet) == {}  # no ICV, no window: B answers the echo again
    sim.run(sim.now + 1)
    assert len(wire.received) == 2
    tampered = bytearray(packet)
    tampered[20 + 8 + 10] ^= 0xFF  # an IV byte: CBC flips the same byte of the inner header (its checksum)
    assert sim.inject("B", "em0", bytes(tampered)) == {"bad IPv4 header checksum": 1}


def test_inject_and_capture_refuse_what_is_not_there():
    sim = tunnel()
    with pytest.raises(ValueError, match="no interface 'em1'"):
        sim.capture("A", "em1")
    with pytest.raises(ValueError, match="ipsec interface"):
        sim.inject("B", "ipsec0", b"")
    with pytest.raises(LookupError, match="SPI 4242.*10000"):
        sim.host("B").sa(4242)
    with pytest.raises(ValueError, match="not an ESP packet"):
        esp_fields(bytes.fromhex("4500001c000000004001") + bytes(18), sim.host("B").sa(10000))


def test_draw_shows_the_hosts_the_cable_and_the_tunnel():
    sim = tunnel()
    texts = [t.get_text() for t in sim.draw().axes[0].texts]
    assert {"A", "B"} <= set(texts)
    assert "ipsec0 172.16.0.3/16 ⇄ ipsec0 172.16.0.5/16" in texts
    assert "100 Mbit/s, 1 ms" in texts


def test_tshark_decrypts_a_capture_with_the_sas_keys():
    from tshark import require_tshark
    from ipsecsim.lab import tshark

    require_tshark()
    sim = tunnel(AUTHENTICATED)
    wire = sim.capture("A", "em0")
    sim.host("A").sh("ping -c 1 172.16.0.5")
    keyed = tshark(wire, [sim.host("A").sa(10000), sim.host("A").sa(10001)], "-V")
    assert keyed.count("Echo (ping) request") == 1 and keyed.count("Echo (ping) reply") == 1
    assert [line for line in keyed.splitlines() if "ESP ICV" in line and line.endswith("[correct]")][1:]
    unkeyed = tshark(wire)
    assert "ESP" in unkeyed and "Echo (ping)" not in unkeyed


def test_capture_saves_a_pcap_that_scapy_reads(tmp_path):
    from scapy.utils import rdpcap

    sim = tunnel()
    wire, plain = sim.capture("A", "em0"), sim.capture("A", "ipsec0")
    sim.host("A").sh("ping -c 1 172.16.0.5")
    packets = rdpcap(str(wire.save(tmp_path / "em0.pcap")))
    assert [bytes(p) for p in packets] == [p.data for p in wire]
    assert [float(p.time) for p in packets] == pytest.approx([p.time for p in wire])
    inside = rdpcap(str(plain.save(tmp_path / "ipsec0.pcap")))
    assert [bytes(p)[4:] for p in inside] == [p.data for p in plain]  # the DLT_NULL family word first


def test_console_shows_what_background_programs_printed():
    sim = ipsecsim.load("scenarios/labs/tunnel_no_sas.yaml", traffic=False)
    A = sim.host("A")
    typed = A.sh("ifconfig ipsec0")
    assert A.sh("setkey -x") == ""  # a monitor runs in the background, printing to the console
    pinged = A.sh("ping -c 1 -t 2 172.16.0.5")
    background = A.console()
    assert "type=6(ACQUIRE)" in background and "reqid=100" in background
    assert "packets transmitted" not in background and "ipsec0: flags" not in background  # sh() returned those
    whole = A.console(everything=True)
    assert typed in whole and pinged.splitlines()[-1] in whole and "type=6(ACQUIRE)" in whole
    assert A.console(since=sim.now + 1) == ""


def test_daemon_log_shows_what_charon_logged_with_its_times():
    sim = ipsecsim.load("scenarios/if_ipsec_host_a_b_ike.yaml", traffic=False)
    a = sim.host("A")
    assert a.daemon_log() == ""  # nothing asked for a tunnel yet
    a.sh("ping -c 2 172.16.0.5")
    lines = a.daemon_log().splitlines()
    assert lines[0].startswith("[    0.000] acquire for reqid 100 192.168.0.3 -> 192.168.0.5")
    assert any("IKE_SA host-a-b[1] established" in line for line in lines)
    assert sim.host("A").daemon_log("ospfd") == ""  # no such daemon on the host
