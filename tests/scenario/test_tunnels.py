"""The ``tunnels:`` shorthand: what one entry expands into on both hosts, and every way an entry
can be wrong, with its exact ``FILE:LINE:COL: path: message``.

Text-level only: the expanded lines are compared with what an administrator types (the
if_ipsec(4) manual page [S12.3]) and parsed by setkey's grammar, never run on a kernel.
"""

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ipsecsim.cli import main
from ipsecsim.netipsec import SecurityAssociation
from ipsecsim.netipsec.algorithms import AUTH_ALGORITHMS, ENC_ALGORITHMS
from ipsecsim.scenario import Scenario, ScenarioError, derive_key, explain, host_scripts, load_scenario, parse_scenario
from ipsecsim.scenario.tunnels import enc_key_sizes, join_scripts

HERE = Path(__file__).parent / "tunnels"
MAN_PAGE = HERE / "man_page.yaml"
HUB = HERE / "hub.yaml"

# if_ipsec(4), EXAMPLES: "On host A:" and "On host B:", with setkey's input as a here-document
MAN_PAGE_A = """\
ifconfig ipsec0 create reqid 100
ifconfig ipsec0 inet tunnel 192.168.0.3 192.168.0.5
ifconfig ipsec0 inet 172.16.0.3/16 172.16.0.5
setkey -c <<EOF
add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!1";
add 192.168.0.5 192.168.0.3 esp 10001 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!2";
EOF"""
MAN_PAGE_B = """\
ifconfig ipsec0 create reqid 200
ifconfig ipsec0 inet tunnel 192.168.0.5 192.168.0.3
ifconfig ipsec0 inet 172.16.0.5/16 172.16.0.3
setkey -c <<EOF
add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u 200 -E rijndael-cbc "VerySecureKey!!1";
add 192.168.0.5 192.168.0.3 esp 10001 -m tunnel -u 200 -E rijndael-cbc "VerySecureKey!!2";
EOF"""

HEAD = "name: t\nduration: 1s\nlinks:\n  - {a: A:em0, b: B:em0}\n  - {a: A:em1, b: C:em0}\ntunnels:\n"
AB = "  - a: {host: A, outer: 10.0.0.1, inner: 172.16.0.1/16}\n    b: {host: B, outer: 10.0.0.2, inner: 172.16.0.2/16}\n"


def scripts(text: str) -> dict[str, list[str]]:
    """Host -> the text of each of its tunnel scripts, for a scenario made of HEAD + ``text``."""
    scn = parse_scenario(HEAD + text, "t.yaml")
    return {host: [p.script.text for p in parts if p.path.startswith("tunnels")] for host, parts in host_scripts(scn).items()}


def setkey_lines(script: str) -> list[str]:
    return [line for line in script.split("\n") if line.startswith("add ")]


def errors(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(HEAD + text, "t.yaml")
    return str(exc.value).splitlines()


# --- the expansion -----------------------------------------------------------------------------


def test_man_page_example_expands_into_the_man_page_lines():
    scn = load_scenario(MAN_PAGE)
    parts = host_scripts(scn)
    assert [p.path for p in parts["A"]] == ["tunnels[0].a", "hosts.A.run"]  # before the host's own block
    assert [p.path for p in parts["B"]] == ["tunnels[0].b", "hosts.B.run"]
    assert parts["A"][0].script.text == MAN_PAGE_A
    assert parts["B"][0].script.text == MAN_PAGE_B
    for line in setkey_lines(MAN_PAGE_A + MAN_PAGE_B):  # and setkey accepts them as typed
        SecurityAssociation.from_setkey(line)


def test_expanded_lines_point_into_the_tunnel_entry():
    scn = load_scenario(MAN_PAGE)
    a = host_scripts(scn)["A"][0]
    assert a.script.file == str(MAN_PAGE) and a.where == f"{MAN_PAGE}:16:8"
    # create -> reqid, tunnel -> outer, inet -> inner (of A's end); the setkey block -> the entry
    assert a.script.lines == ((16, 67), (16, 25), (16, 45), (15, 5), (15, 5), (15, 5), (15, 5))
    b = host_scripts(scn)["B"][0]
    assert b.script.lines[:3] == ((17, 67), (17, 25), (17, 45))


def test_loaded_tunnel_has_no_blanks():
    tunnel = load_scenario(MAN_PAGE).tunnels[0]
    assert (tunnel.name, tunnel.a.interface, tunnel.b.interface) == ("a-b", "ipsec0", "ipsec0")
    assert (tunnel.spi.a_to_b, tunnel.spi.b_to_a, tunnel.encryption, tunnel.authentication) == (10000, 10001, "rijndael-cbc", None)
    assert tunnel.keys.a_to_b.data == b"VerySecureKey!!1" and tunnel.keys.a_to_b.setkey == '"VerySecureKey!!1"'
    dump = load_scenario(MAN_PAGE).model_dump(mode="json", by_alias=True)["tunnels"][0]
    assert dump["a"] == {"host": "A", "outer": "192.168.0.3", "inner": "172.16.0.3/16", "reqid": 100, "interface": "ipsec0"}
    assert dump["keys"] == {"a_to_b": "VerySecureKey!!1", "b_to_a": "VerySecureKey!!2"}


def test_defaults_automatic_reqid_interface_spis_and_name():
    out = scripts(AB + "    key_seed: 1\n")
    a, b = out["A"][0].split("\n"), out["B"][0].split("\n")
    assert a[:3] == ["ifconfig ipsec0 create", "ifconfig ipsec0 inet tunnel 10.0.0.1 10.0.0.2",
                     "ifconfig ipsec0 inet 172.16.0.1/16 172.16.0.2"]
    # no reqid written: the kernel gives a fresh host's first tunnel 16385 [S2.1]; the SAs match it
    assert [line.split(" -E ")[0] for line in setkey_lines(out["A"][0])] == [
        "add 10.0.0.1 10.0.0.2 esp 4096 -m tunnel -u 16385", "add 10.0.0.2 10.0.0.1 esp 4097 -m tunnel -u 16385"]
    assert b[0] == "ifconfig ipsec0 create" and " -u 16385 " in setkey_lines(out["B"][0])[0]
    assert parse_scenario(HEAD + AB + "    key_seed: 1\n").tunnels[0].name == "A-B"


def test_reqids_and_interfaces_follow_the_kernel_per_host():
    scn = load_scenario(HUB)
    hub = [p for p in host_scripts(scn)["H"] if p.path.startswith("tunnels")]
    firsts = [p.script.text.split("\n")[0] for p in hub]
    assert firsts == ["ifconfig ipsec0 create", "ifconfig ipsec1 create reqid 16386", "ifconfig ipsec2 create"]
    # ipsec0 takes 16385; ipsec1 has 16386 written, so the kernel skips it for ipsec2 [S2.2]
    assert [setkey_lines(p.script.text)[0].split(" -u ")[1].split()[0] for p in hub] == ["16385", "16386", "16387"]
    assert [scn.tunnels[i].spi.a_to_b for i in range(3)] == [0x1000, 0x1002, 0x1004]
    assert [t.name for t in scn.tunnels] == ["H-S1", "H-S2", "h-s3"]
    s3 = host_scripts(scn)["S3"][0].script.text.split("\n")
    assert s3[0] == "ifconfig ipsec7 create" and " -u 16385 " in s3[5]  # each host has its own counter


def test_two_tunnels_between_one_pair_of_hosts():
    second = AB.replace("172.16.0", "172.17.0")
    scn = parse_scenario(HEAD + AB + "    key_seed: 1\n" + second + "    key_seed: 2\n")
    assert [t.name for t in scn.tunnels] == ["A-B", "A-B-2"]
    a = [p.script.text for p in host_scripts(scn)["A"]]
    assert a[1].startswith("ifconfig ipsec1 create\nifconfig ipsec1 inet tunnel 10.0.0.1 10.0.0.2\n")
    assert setkey_lines(a[1])[0].startswith("add 10.0.0.1 10.0.0.2 esp 4098 -m tunnel -u 16386 -E aes-gcm-16 0x")


def test_ipv6_inner_over_ipv4():
    text = ("  - a: {host: A, outer: 10.0.0.1, inner: '2001:db8::1/64'}\n"
            "    b: {host: B, outer: 10.0.0.2, inner: '2001:db8::2/64'}\n    key_seed: 1\n"
            "  - a: {host: A, outer: 10.0.1.1, inner: 'fd00::1/128'}\n"
            "    b: {host: C, outer: 10.0.1.2, inner: 'fd00::2/128'}\n    key_seed: 2\n")
    out = scripts(text)
    # a destination needs prefixlen 128 (in6_update_ifa); a /64 is set as a prefix on ipsec0
    assert out["A"][0].split("\n")[1:3] == ["ifconfig ipsec0 inet tunnel 10.0.0.1 10.0.0.2", "ifconfig ipsec0 inet6 2001:db8::1/64"]
    assert out["B"][0].split("\n")[2] == "ifconfig ipsec0 inet6 2001:db8::2/64"
    assert out["A"][1].split("\n")[2] == "ifconfig ipsec1 inet6 fd00::1 fd00::2 prefixlen 128"
    assert out["C"][0].split("\n")[2] == "ifconfig ipsec0 inet6 fd00::2 fd00::1 prefixlen 128"


def test_ipv4_inner_over_ipv6_and_dual_stack():
    text = ("  - a: {host: A, outer: '2001:db8::1', inner: [172.16.0.1/16, 'fd00::1/128']}\n"
            "    b: {host: B, outer: '2001:db8::2', inner: ['fd00::2/128', 172.16.0.2/16]}\n"
            "    keys: {a_to_b: '12345678901234567890', b_to_a: 0x0102030405060708090a0b0c0d0e0f1011121314}\n")
    out = scripts(text)
    assert out["A"][0] == """\
ifconfig ipsec0 create
ifconfig ipsec0 inet6 tunnel 2001:db8::1 2001:db8::2
ifconfig ipsec0 inet 172.16.0.1/16 172.16.0.2
ifconfig ipsec0 inet6 fd00::1 fd00::2 prefixlen 128
setkey -c <<EOF
add 2001:db8::1 2001:db8::2 esp 4096 -m tunnel -u 16385 -E aes-gcm-16 "12345678901234567890";
add 2001:db8::2 2001:db8::1 esp 4097 -m tunnel -u 16385 -E aes-gcm-16 0x0102030405060708090a0b0c0d0e0f1011121314;
EOF"""
    assert out["B"][0].split("\n")[1:4] == ["ifconfig ipsec0 inet6 tunnel 2001:db8::2 2001:db8::1",
                                            "ifconfig ipsec0 inet6 fd00::2 fd00::1 prefixlen 128",
                                            "ifconfig ipsec0 inet 172.16.0.2/16 172.16.0.1"]


def test_authentication_replay_and_keys_that_cannot_be_quoted():
    text = AB + ("    encryption: aes-cbc\n    authentication: hmac-sha1\n    replay: 4\n"
                 "    keys: {a_to_b: 'say \"hi\" $HOME!!', b_to_a: 'plain old text!!'}\n"
                 "    auth_keys: {a_to_b: '12345678901234567890', b_to_a: 0xAABBCCDDEEFF00112233445566778899aabbccdd}\n")
    first, second = setkey_lines(scripts(text)["A"][0])
    # '"' cannot be quoted for setkey and sh would expand $ in <<EOF: such a key goes as hex
    assert first == ('add 10.0.0.1 10.0.0.2 esp 4096 -m tunnel -u 16385 -r 4 -E aes-cbc 0x73617920226869222024'
                     '484f4d452121 -A hmac-sha1 "12345678901234567890";')
    assert second.endswith('-r 4 -E aes-cbc "plain old text!!" -A hmac-sha1 0xaabbccddeeff00112233445566778899aabbccdd;')
    sa = SecurityAssociation.from_setkey(first)
    assert (sa.enc_key, sa.auth_key, sa.replay is not None) == (b'say "hi" $HOME!!', b"12345678901234567890", True)


def test_null_algorithms():
    text = AB + '    encryption: "null"\n    authentication: "null"\n    key_seed: 5\n'
    assert setkey_lines(scripts(text)["A"][0])[0].endswith('-E null "" -A null;')
    text = AB + '    encryption: "null"\n    authentication: hmac-sha2-512\n    key_seed: 5\n'
    line = setkey_lines(scripts(text)["A"][0])[0]
    assert ' -E null "" -A hmac-sha2-512 0x' in line and SecurityAssociation.from_setkey(line).auth_key


# --- key derivation ----------------------------------------------------------------------------


def test_derived_keys_are_deterministic_and_differ_by_seed_and_direction():
    assert derive_key(7, "a_to_b", "aes-gcm-16", 20) == derive_key(7, "a_to_b", "aes-gcm-16", 20)
    # the documented formula (docs/scenario.md), so a change to it is a deliberate one
    assert derive_key(7, "a_to_b", "aes-gcm-16", 20) == hashlib.shake_256(b"ipsecsim key_seed 7 a_to_b aes-gcm-16 20").digest(20)
    assert derive_key(7, "a_to_b", "aes-gcm-16", 20).hex() == "d32f5236aacd6abd515d0468cb4dc26cb22fbb65"
    assert derive_key(8, "a_to_b", "aes-gcm-16", 20) != derive_key(7, "a_to_b", "aes-gcm-16", 20)
    assert derive_key(7, "b_to_a", "aes-gcm-16", 20) != derive_key(7, "a_to_b", "aes-gcm-16", 20)
    seeded = AB + "    key_seed: 7\n"
    assert scripts(seeded) == scripts(seeded)
    assert scripts(seeded) != scripts(AB + "    key_seed: 8\n")
    key = setkey_lines(scripts(seeded)["A"][0])[0].split()[-1].rstrip(";")
    assert key == "0x" + derive_key(7, "a_to_b", "aes-gcm-16", 20).hex()
    # rijndael-cbc and aes-cbc are one algorithm: one seed gives them one key
    assert scripts(AB + "    key_seed: 7\n    encryption: rijndael-cbc\n")["A"][0].split(" -E rijndael-cbc ")[1] == \
        scripts(AB + "    key_seed: 7\n    encryption: aes-cbc\n")["A"][0].split(" -E aes-cbc ")[1]


ENC_CASES = [(name, bits) for name, alg in ENC_ALGORITHMS.items() if name != "null"
             for bits in (None, *(8 * (n - alg.salt) for n in enc_key_sizes(alg)))] + [("null", None), ("rijndael-cbc", 192)]


@pytest.mark.parametrize(("encryption", "bits"), ENC_CASES, ids=lambda v: str(v))
def test_derived_keys_have_the_right_length_for_every_cipher(encryption, bits):
    auth = "" if ENC_ALGORITHMS.get(encryption, ENC_ALGORITHMS["aes-cbc"]).aead else "    authentication: hmac-sha2-256\n"
    size = "" if bits is None else f"    key_bits: {bits}\n"
    text = AB + f'    encryption: "{encryption}"\n    key_seed: 3\n' + auth + size
    alg = ENC_ALGORITHMS.get(encryption, ENC_ALGORITHMS["aes-cbc"])
    default_bits = {"aes-cbc": 128, "aes-ctr": 128, "aes-gcm-16": 128, "chacha20-poly1305": 256, "null": 0}[alg.name]
    for line in setkey_lines(scripts(text)["A"][0]):
        sa = SecurityAssociation.from_setkey(line)  # setkey's and the kernel's key checks pass
        assert len(sa.enc_key) == (bits or default_bits) // 8 + alg.salt


@pytest.mark.parametrize("authentication", sorted(AUTH_ALGORITHMS))
def test_derived_keys_have_the_right_length_for_every_authenticator(authentication):
    text = AB + f'    encryption: aes-cbc\n    authentication: "{authentication}"\n    key_seed: 3\n'
    for line in setkey_lines(scripts(text)["A"][0]):
        sa = SecurityAssociation.from_setkey(line)
        assert len(sa.auth_key or b"") == AUTH_ALGORITHMS[authentication].key_len


# --- what is wrong, and where ------------------------------------------------------------------

E = "  - a: {host: A, outer: 10.0.0.1, inner: 172.16.0.1/16%s}\n    b: {host: B, outer: 10.0.0.2, inner: 172.16.0.2/16%s}\n"

BAD = {
    "end_missing": ("  - a: {host: A, outer: 10.0.0.1, inner: 172.16.0.1/16}\n    key_seed: 1\n", [
        "t.yaml:7:5: tunnels[0].b: required key is missing; add it, e.g. b: {host: B, outer: 192.168.0.5, inner: 172.16.0.5/16}"]),
    "unknown_host": (E.replace("host: B", "host: D") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:15: tunnels[0].b.host: no host 'D'; hosts are: A, B, C"]),
    "same_host": (E.replace("host: B", "host: A") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:15: tunnels[0].b.host: both ends are on host A; a tunnel joins two different hosts"]),
    "outer_family": (E.replace("outer: 10.0.0.2", "outer: '2001:db8::2'") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:25: tunnels[0].b.outer: 2001:db8::2 is IPv6 but a.outer 10.0.0.1 is IPv4; both outer addresses "
        "are of one family (ifconfig: source and destination address families do not match)"]),
    "outer_twice": (E.replace("outer: 10.0.0.2", "outer: 10.0.0.1") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:25: tunnels[0].b.outer: 10.0.0.1 is a.outer too; the ends need different outer addresses"]),
    "outer_unspecified": (E.replace("outer: 10.0.0.2", "outer: 0.0.0.0") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:25: tunnels[0].b.outer: '0.0.0.0' cannot be a tunnel endpoint "
        "(ifconfig: SIOCSIFPHYADDR: Can't assign requested address)"]),
    "outer_prefix": (E.replace("outer: 10.0.0.2", "outer: 10.0.0.2/24") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:25: tunnels[0].b.outer: '10.0.0.2/24' has a prefix length; write only the address, e.g. 10.0.0.2"]),
    "inner_no_prefix": (E.replace("inner: 172.16.0.2/16", "inner: 172.16.0.2") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:42: tunnels[0].b.inner: '172.16.0.2' has no prefix length; write it like 172.16.0.2/24"]),
    "inner_bad_prefix": (E.replace("inner: 172.16.0.2/16", "inner: 172.16.0.2/33") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:42: tunnels[0].b.inner: '172.16.0.2/33' is not ADDRESS/PREFIXLEN; write it like 172.16.0.3/16 or 2001:db8::3/64"]),
    "inner_two_v4": (E.replace("inner: 172.16.0.2/16", "inner: [172.16.0.2/16, 10.9.0.2/16]") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:42: tunnels[0].b.inner: two IPv4 addresses; an end has at most one IPv4 and one IPv6 inner address"]),
    "inner_families": (E.replace("inner: 172.16.0.2/16", "inner: 'fd00::2/128'") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:42: tunnels[0].b.inner: b.inner is IPv6 but a.inner is IPv4; both ends need inner addresses of the same families"]),
    "inner_twice": (E.replace("172.16.0.2/16", "172.16.0.1/16") % ("", "") + "    key_seed: 1\n", [
        "t.yaml:8:42: tunnels[0].b.inner: 172.16.0.1 is a.inner too; each end needs its own inner address"]),
    "inner6_outside": ("  - a: {host: A, outer: 10.0.0.1, inner: 'fd00::1/64'}\n"
                       "    b: {host: B, outer: 10.0.0.2, inner: 'fd01::2/128'}\n    key_seed: 1\n", [
        "t.yaml:7:42: tunnels[0].a.inner: fd01::2 (b.inner) is outside fd00::/64; write /128 for a point-to-point "
        "address, or put both ends in one prefix"]),
    "reqid_zero": (E % (", reqid: 0", "") + "    key_seed: 1\n", [
        "t.yaml:7:64: tunnels[0].a.reqid: 0 asks the kernel to choose; leave reqid out for an automatic one"]),
    "interface_name": (E % (", interface: gif0", "") + "    key_seed: 1\n", [
        "t.yaml:7:68: tunnels[0].a.interface: 'gif0' is not an if_ipsec interface name; write ipsec and a unit number, e.g. ipsec0"]),
    "encryption_unknown": (AB + "    encryption: aes-gcm\n    key_seed: 1\n", [
        "t.yaml:9:17: tunnels[0].encryption: 'aes-gcm' is not an encryption algorithm; did you mean 'aes-gcm-16'?"]),
    "encryption_not_in_kernel": (AB + "    encryption: 3des-cbc\n    key_seed: 1\n", [
        "t.yaml:9:17: tunnels[0].encryption: '3des-cbc' is not in FreeBSD's kernel (setkey says Not supported); "
        "write one of: rijndael-cbc, null, aes-cbc, aes-ctr, aes-gcm-16, chacha20-poly1305"]),
    "encryption_yaml_null": (AB + "    encryption: null\n    key_seed: 1\n", [
        't.yaml:9:17: tunnels[0].encryption: an empty value; for ESP without encryption write encryption: "null" (in quotes)']),
    "authentication_unknown": (AB + "    encryption: aes-cbc\n    authentication: aes-xcbc-mac\n    key_seed: 1\n", [
        "t.yaml:10:21: tunnels[0].authentication: 'aes-xcbc-mac' is not in FreeBSD's kernel (setkey says Not supported); "
        "write one of: hmac-sha1, hmac-sha2-256, hmac-sha2-384, hmac-sha2-512, null"]),
    "aead_with_authentication": (AB + "    authentication: hmac-sha1\n    key_seed: 1\n", [
        "t.yaml:9:21: tunnels[0].authentication: aes-gcm-16 authenticates itself (AEAD); remove authentication"]),
    "no_keys": (AB, [
        't.yaml:7:5: tunnels[0].keys: required key is missing; add it, e.g. keys: {a_to_b: "...", b_to_a: "..."}, '
        "or key_seed: 1 to derive the keys"]),
    "keys_and_seed": (AB + "    keys: {a_to_b: '12345678901234567890', b_to_a: '12345678901234567890'}\n    key_seed: 1\n", [
        "t.yaml:10:15: tunnels[0].key_seed: key_seed derives every key; give keys or key_seed, not both"]),
    "key_length": (AB + "    encryption: rijndael-cbc\n    keys: {a_to_b: VerySecureKey!!, b_to_a: 0x00ff}\n", [
        "t.yaml:10:20: tunnels[0].keys.a_to_b: 'VerySecureKey!!' is 15 bytes; rijndael-cbc needs a key of 16, 24 or 32 bytes",
        "t.yaml:10:45: tunnels[0].keys.b_to_a: '0x00ff' is 2 bytes; rijndael-cbc needs a key of 16, 24 or 32 bytes"]),
    "key_length_salted": (AB + "    keys: {a_to_b: '1234567890123456', b_to_a: '12345678901234567890'}\n", [
        "t.yaml:9:20: tunnels[0].keys.a_to_b: '1234567890123456' is 16 bytes; aes-gcm-16 needs a key of 20, 28 or 36 bytes "
        "(key + 4-byte salt)"]),
    "key_is_a_number": (AB + "    keys: {a_to_b: 12345678901234567890, b_to_a: 0x123}\n", [
        't.yaml:9:20: tunnels[0].keys.a_to_b: 12345678901234567890 is a number; write a text key in quotes '
        '("12345678901234567890") or hex bytes (0x...)',
        "t.yaml:9:50: tunnels[0].keys.b_to_a: '0x123' has an odd number of hex digits; write two digits per byte"]),
    "auth_keys_missing": (AB + "    encryption: aes-cbc\n    authentication: hmac-sha2-256\n"
                          "    keys: {a_to_b: '1234567890123456', b_to_a: '1234567890123456'}\n", [
        "t.yaml:7:5: tunnels[0].auth_keys: required key is missing; hmac-sha2-256 needs auth_keys: "
        "{a_to_b: ..., b_to_a: ...} of 32 bytes each, or use key_seed"]),
    "auth_key_length": (AB + "    encryption: aes-cbc\n    authentication: hmac-sha1\n"
                        "    keys: {a_to_b: '1234567890123456', b_to_a: '1234567890123456'}\n"
                        "    auth_keys: {a_to_b: '12345678901234567890', b_to_a: '1234567890123456'}\n", [
        "t.yaml:12:57: tunnels[0].auth_keys.b_to_a: '1234567890123456' is 16 bytes; hmac-sha1 needs a key of 20 bytes"]),
    "auth_keys_without_authentication": (AB + "    keys: {a_to_b: '12345678901234567890', b_to_a: '12345678901234567890'}\n"
                                         "    auth_keys: {a_to_b: x, b_to_a: y}\n", [
        "t.yaml:10:16: tunnels[0].auth_keys: there is no authentication to key; add authentication: hmac-sha2-256, "
        "or remove auth_keys"]),
    "key_bits_without_seed": (AB + "    keys: {a_to_b: '12345678901234567890', b_to_a: '12345678901234567890'}\n"
                              "    key_bits: 128\n", [
        "t.yaml:10:15: tunnels[0].key_bits: key_bits sizes the keys key_seed derives; written keys have their own length"]),
    "key_bits_size": (AB + "    encryption: chacha20-poly1305\n    key_seed: 1\n    key_bits: 128\n", [
        "t.yaml:11:15: tunnels[0].key_bits: chacha20-poly1305 has no 128-bit keys; write 256"]),
    "spi_reserved": (AB + "    key_seed: 1\n    spi: {a_to_b: 255, b_to_a: 256}\n", [
        "t.yaml:10:19: tunnels[0].spi.a_to_b: 255 is reserved (RFC 4303 2.1) and setkey's add fails with "
        "Invalid argument; write 256 or more"]),
    "spi_both_ways": (AB + "    key_seed: 1\n    spi: {a_to_b: 1000, b_to_a: 1000}\n", [
        "t.yaml:10:33: tunnels[0].spi.b_to_a: 1000 is a_to_b's SPI too; each direction needs its own SPI (setkey: File exists)"]),
    "spi_on_a_host": (AB + "    key_seed: 1\n" + AB.replace("172.16", "172.17").replace("host: B", "host: C")
                      + "    key_seed: 2\n    spi: {a_to_b: 4097, b_to_a: 5000}\n", [
        "t.yaml:13:19: tunnels[1].spi.a_to_b: SPI 4097 is already used on host A by tunnels[0] (b_to_a); "
        "every SA on a host needs its own SPI (setkey: File exists)"]),
    "derived_spi_on_a_host": ("  - a: {host: A, outer: 10.0.0.1, inner: 172.16.0.1/16}\n"
                              "    b: {host: B, outer: 10.0.0.2, inner: 172.16.0.2/16}\n"
                              "    key_seed: 1\n    spi: {a_to_b: 4098, b_to_a: 4099}\n"
                              + AB.replace("172.16", "172.17") + "    key_seed: 2\n", [
        "t.yaml:11:5: tunnels[1].spi: SPI 4098 is already used on host A by tunnels[0] (a_to_b); every SA on a host "
        "needs its own SPI (setkey: File exists); write spi: {a_to_b: ..., b_to_a: ...}"]),
    "interface_twice": (E % (", interface: ipsec1", "") + "    key_seed: 1\n"
                        + (E % (", interface: ipsec1", "")).replace("172.16", "172.17").replace("host: B", "host: C")
                        + "    key_seed: 2\n", [
        "t.yaml:10:68: tunnels[1].a.interface: ipsec1 on host A is already tunnels[0].a's; each tunnel end needs its own interface"]),
    "interface_in_run_block": (E % (", interface: ipsec0", "") + "    key_seed: 1\n"
                               "hosts:\n  A:\n    run: |\n      ifconfig em0 up\n      ifconfig ipsec0 create\n", [
        "t.yaml:7:68: tunnels[0].a.interface: host A's run: block creates ipsec0 too (line 14); tunnels are set up "
        "first, so that line would fail"]),
    "reqid_twice": (E % (", reqid: 100", "") + "    key_seed: 1\n"
                    + (E % (", reqid: 100", "")).replace("172.16", "172.17").replace("host: B", "host: C")
                    + "    key_seed: 2\n", [
        "t.yaml:10:64: tunnels[1].a.reqid: reqid 100 is already ipsec0's (tunnels[0].a) on host A; if_ipsec reqids "
        "are unique per host (ifconfig: ioctl(IPSECSREQID): File exists)"]),
    "reqid_the_kernel_gives": (AB + "    key_seed: 1\n"
                               + (E % (", reqid: 16385", "")).replace("172.16", "172.17").replace("host: B", "host: C")
                               + "    key_seed: 2\n", [
        "t.yaml:10:64: tunnels[1].a.reqid: 16385 is the reqid the kernel gives ipsec0 of tunnels[0].a, which has none "
        "written; write another reqid"]),
    "inner_on_two_tunnels": (AB + "    key_seed: 1\n" + AB.replace("10.0.0", "10.0.9").replace("host: B", "host: C")
                             + "    key_seed: 2\n", [
        "t.yaml:10:42: tunnels[1].a.inner: 172.16.0.1 is already the inner address of tunnels[0].a (host A); "
        "every interface address is unique",
        "t.yaml:11:42: tunnels[1].b.inner: 172.16.0.2 is already the inner address of tunnels[0].b (host B); "
        "every interface address is unique"]),
    "name_twice": ("  - name: t\n" + AB.replace("  - a:", "    a:") + "    key_seed: 1\n  - name: t\n"
                   + AB.replace("  - a:", "    a:").replace("172.16", "172.17") + "    key_seed: 2\n", [
        "t.yaml:11:11: tunnels[1].name: tunnel name 't' is already used by tunnels[0]; names must be unique"]),
    "unknown_key": (AB + "    key_seed: 1\n    ciphr: aes-cbc\n", [
        "t.yaml:10:5: tunnels[0].ciphr: unknown key 'ciphr'; allowed here: name, a, b, encryption, authentication, keys, "
        "auth_keys, key_seed, key_bits, spi, replay"]),
    "unknown_end_key": (E % (", reqd: 5", "") + "    key_seed: 1\n", [
        "t.yaml:7:57: tunnels[0].a.reqd: unknown key 'reqd'; did you mean 'reqid'?"]),
    "replay_too_big": (AB + "    key_seed: 1\n    replay: 536870909\n", [
        "t.yaml:10:13: tunnels[0].replay: 536870909 is out of range; write a whole number from 0 to 536870908"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_mistake_gives_its_diagnostic(case):
    text, expected = BAD[case]
    assert errors(text) == expected


def test_misspelled_top_level_key():
    with pytest.raises(ScenarioError, match=r"t.yaml:6:1: tunnel: unknown key 'tunnel'; did you mean 'tunnels'\?"):
        parse_scenario(HEAD.replace("tunnels:", "tunnel:") + AB, "t.yaml")


def test_empty_tunnels_list():
    assert parse_scenario(HEAD, "t.yaml").tunnels == []


# --- scripts, build order and --explain --------------------------------------------------------


def test_join_scripts_keeps_every_position():
    parts = host_scripts(load_scenario(MAN_PAGE))["A"]
    joined = join_scripts(p.script for p in parts)
    assert joined.text == MAN_PAGE_A + "\nifconfig em0 inet 192.168.0.3/24\n"
    assert len(joined.lines) == len(joined.text.split("\n"))
    assert joined.position(0) == (16, 67) and joined.position(7) == (10, 7)


EXPLAIN_MAN_PAGE = f"""\
# host A
# tunnels[0].a (a-b) at {MAN_PAGE}:16:8
{MAN_PAGE_A}
# hosts.A.run at {MAN_PAGE}:10:7
ifconfig em0 inet 192.168.0.3/24

# host B
# tunnels[0].b (a-b) at {MAN_PAGE}:17:8
{MAN_PAGE_B}
# hosts.B.run at {MAN_PAGE}:13:7
ifconfig em0 inet 192.168.0.5/24
"""


def test_explain_shows_each_host_in_run_order():
    assert explain(load_scenario(MAN_PAGE)) == EXPLAIN_MAN_PAGE
    text = explain(load_scenario(HUB))
    assert text.count("# host ") == 4 and "# tunnels[2].b (h-s3) at" in text
    assert text.index("# tunnels[2].a") < text.index("# hosts.H.run")
    assert explain(parse_scenario("name: x\nduration: 1s\nhosts:\n  solo:\n")) == "# host solo\n# (nothing to run)\n"


def test_check_explain_prints_the_expansion_first():
    result = CliRunner().invoke(main, ["check", "--explain", str(MAN_PAGE)])
    assert "Traceback" not in result.output
    assert result.stdout.startswith(EXPLAIN_MAN_PAGE + "\n")  # the check itself follows (end-to-end elsewhere)


def test_check_explain_on_a_bad_tunnel_prints_only_diagnostics(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + AB)
    result = CliRunner().invoke(main, ["check", "--explain", str(bad)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"{bad}:7:5: tunnels[0].keys: required key is missing")


# --- the h11 invariant, for tunnel entries ------------------------------------------------------

GOOD_DATA = YAML(typ="safe", pure=True).load(HUB.read_text())
TUNNEL_KEYS = ["name", "a", "b", "host", "outer", "inner", "reqid", "interface", "encryption", "authentication",
               "keys", "auth_keys", "a_to_b", "b_to_a", "key_seed", "key_bits", "spi", "replay"]
TUNNEL_VALUES = st.none() | st.booleans() | st.integers(-5, 2**33) | st.text(max_size=6) | st.sampled_from(
    ["A", "H", "S1", "10.0.1.1", "fd00::1/64", "172.16.9.9/30", "ipsec0", "ipsec1", "aes-cbc", "null", "0x00ff",
     "hmac-sha1", "VerySecureKey!!1", "2001:db8:3::2"]) | st.lists(st.sampled_from(["172.16.1.1/30", "fd00::9/128"]), max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, 2), key=st.sampled_from(TUNNEL_KEYS), side=st.sampled_from([None, "a", "b", "spi", "keys"]),
       value=TUNNEL_VALUES, delete=st.booleans())
def test_tunnel_mutations_load_or_raise_scenario_error(index, key, side, value, delete):
    import copy
    import io

    data = copy.deepcopy(GOOD_DATA)
    entry = data["tunnels"][index]
    target = entry.setdefault(side, {}) if side and isinstance(entry.get(side, {}), dict) else entry
    if delete:
        target.pop(key, None)
    else:
        target[key] = value
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, out)
    try:
        scn = parse_scenario(out.getvalue(), "fuzz.yaml")
    except ScenarioError as exc:
        for diag in exc.diagnostics:
            line = str(diag)
            assert line.startswith("fuzz.yaml:") and "\n" not in line and diag.line >= 1, line
            assert not any(j in line for j in ("Input should", "Value error", "pydantic", "Traceback")), line
    else:
        assert isinstance(scn, Scenario)
        for parts in host_scripts(scn).values():  # a loaded scenario always expands
            for part in parts:
                assert part.script.text


def test_the_documented_examples_load():
    import re

    doc = (Path(__file__).parents[2] / "docs" / "scenario.md").read_text()
    complete = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if b.startswith("name:")]
    assert complete
    for block in complete:
        assert explain(parse_scenario(block, "doc.yaml")).startswith("# host ")


def test_an_end_the_kernel_finds_no_reqid_for():
    """63 interfaces holding 16385..16447 leave ipsec_init_reqid's 63 draws nothing [S2.2]."""
    ends = "".join(f"  - a: {{host: A, outer: 10.0.{i}.1, inner: 10.1.{i}.1/24, reqid: {16385 + i}}}\n"
                   f"    b: {{host: B, outer: 10.0.{i}.2, inner: 10.1.{i}.2/24}}\n    key_seed: 1\n" for i in range(63))
    last = "  - a: {host: A, outer: 10.0.63.1, inner: 10.1.63.1/24}\n    b: {host: B, outer: 10.0.63.2, inner: 10.1.63.2/24}\n"
    assert errors(ends + last + "    key_seed: 1\n") == [
        "t.yaml:196:8: tunnels[63].a.reqid: the kernel finds no free reqid for ipsec63 in 63 tries, the host's other "
        "interfaces have them (ifconfig: SIOCSIFPHYADDR: File exists); write a reqid"]
