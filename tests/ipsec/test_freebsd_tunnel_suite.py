"""FreeBSD's tests/sys/netipsec/tunnel, rebuilt: policy-based ESP tunnels between two gateways [S13].

Five hosts, hostA - ipsecA - router - ipsecB - hostB; each gateway runs the
setkey script of ist_setkey (flush, spdflush, two spdadd, two add without a
reqid) and hostA pings hostB once. The capture between ipsecA and the router
must decrypt in tshark with the SAs' keys.
"""


import pytest

import ipsecsim
from ipsecsim.trace.wireshark import EspSaRow, write_esp_sa_uat

from tshark import require_tshark, tshark_fields

K16 = "1234567890123456"
K20 = "12345678901234567890"
K32 = "12345678901234567890123456789012"
K36 = "123456789012345678901234567890123456"

# program -> (enc, enc key, auth or None, auth key) as in [S13.4]; the aesni variants only
# load a kernel module on FreeBSD, so they are the same configuration here.
PROGRAMS = {
    "empty": ("null", "", None, ""),
    "aes_cbc_128_hmac_sha1": ("rijndael-cbc", K16, "hmac-sha1", K20),
    "aes_cbc_256_hmac_sha2_256": ("rijndael-cbc", K32, "hmac-sha2-256", K32),
    "aes_gcm_128": ("aes-gcm-16", K20, None, ""),
    "aes_gcm_256": ("aes-gcm-16", K36, None, ""),
    "aesni_aes_cbc_128_hmac_sha1": ("rijndael-cbc", K16, "hmac-sha1", K20),
    "aesni_aes_cbc_256_hmac_sha2_256": ("rijndael-cbc", K32, "hmac-sha2-256", K32),
    "aesni_aes_gcm_128": ("aes-gcm-16", K20, None, ""),
    "aesni_aes_gcm_256": ("aes-gcm-16", K36, None, ""),
    "chacha20_poly1305": ("chacha20-poly1305", K36, None, ""),
}

ADDRESSES = {  # [S13.2]
    4: dict(hostA="192.0.2.1/30", ipsecA_lan="192.0.2.2/30", ipsecA_pub="198.51.100.2/30",
            router_a="198.51.100.1/30", router_b="198.51.100.5/30", ipsecB_pub="198.51.100.6/30",
            ipsecB_lan="203.0.113.2/30", hostB="203.0.113.1/30",
            src_lan="192.0.2.0/24", dst_lan="203.0.113.0/24", src_gw="198.51.100.2", dst_gw="198.51.100.6"),
    6: dict(hostA="2001:db8:1::1/64", ipsecA_lan="2001:db8:1::2/64", ipsecA_pub="2001:db8:23::2/64",
            router_a="2001:db8:23::3/64", router_b="2001:db8:34::3/64", ipsecB_pub="2001:db8:34::2/64",
            ipsecB_lan="2001:db8:45::2/64", hostB="2001:db8:45::1/64",
            src_lan="2001:db8:1::/64", dst_lan="2001:db8:45::/64", src_gw="2001:db8:23::2", dst_gw="2001:db8:34::2"),
}


def _ip(cidr: str) -> str:
    return cidr.split("/")[0]


def setkey_script(family, enc, enc_key, auth, auth_key, out_first: bool) -> str:
    a = ADDRESSES[family]
    algorithms = f'-E {enc} "{enc_key}"' + (f' -A {auth} "{auth_key}"' if auth else "")
    first, second = ("out", "in") if out_first else ("in", "out")
    return "\n".join([
        "setkey -c <<EOF",
        "flush;",
        "spdflush;",
        f"spdadd {a['src_lan']} {a['dst_lan']} any -P {first} ipsec esp/tunnel/{a['src_gw']}-{a['dst_gw']}/require;",
        f"spdadd {a['dst_lan']} {a['src_lan']} any -P {second} ipsec esp/tunnel/{a['dst_gw']}-{a['src_gw']}/require;",
        f"add {a['src_gw']} {a['dst_gw']} esp 0x1000 {algorithms};",
        f"add {a['dst_gw']} {a['src_gw']} esp 0x1001 {algorithms};",
        "EOF",
    ])


def scenario(family: int, program: str) -> str:
    a = ADDRESSES[family]
    inet = "inet" if family == 4 else "inet6"
    six = "" if family == 4 else " -inet6"
    forwarding = "net.inet.ip.forwarding=1" if family == 4 else "net.inet6.ip6.forwarding=1"
    enc, enc_key, auth, auth_key = PROGRAMS[program]
    hosts = {
        "hostA": [f"ifconfig em0 {inet} {a['hostA']}", f"route add{six} default {_ip(a['ipsecA_lan'])}"],
        "ipsecA": [f"ifconfig em0 {inet} {a['ipsecA_lan']}", f"ifconfig em1 {inet} {a['ipsecA_pub']}",
                   f"sysctl {forwarding}", f"route add{six} default {_ip(a['router_a'])}",
                   setkey_script(family, enc, enc_key, auth, auth_key, out_first=True)],
        "router": [f"ifconfig em0 {inet} {a['router_a']}", f"ifconfig em1 {inet} {a['router_b']}",
                   f"sysctl {forwarding}", f"route add{six} -net {a['src_lan']} {a['src_gw']}",
                   f"route add{six} -net {a['dst_lan']} {a['dst_gw']}"],
        "ipsecB": [f"ifconfig em0 {inet} {a['ipsecB_lan']}", f"ifconfig em1 {inet} {a['ipsecB_pub']}",
                   f"sysctl {forwarding}", f"route add{six} default {_ip(a['router_b'])}",
                   setkey_script(family, enc, enc_key, auth, auth_key, out_first=False)],
        "hostB": [f"ifconfig em0 {inet} {a['hostB']}", f"route add{six} default {_ip(a['ipsecB_lan'])}"],
    }
    text = [f"name: tunnel {program} v{family}", "duration: 3s", "links:",
            "  - {a: hostA:em0, b: ipsecA:em0}", "  - {a: ipsecA:em1, b: router:em0}",
            "  - {a: router:em1, b: ipsecB:em1}", "  - {a: ipsecB:em0, b: hostB:em0}", "hosts:"]
    for name, commands in hosts.items():
        text += [f"  {name}:", "    run: |"]
        text += [f"      {line}" for command in commands for line in command.splitlines()]
    text += ["traffic:", f'  - {{ping: {{from: hostA, to: "{_ip(a["hostB"])}", count: 1}}}}']
    return "\n".join(text) + "\n"


@pytest.mark.parametrize("family", [4, 6], ids=["v4", "v6"])
@pytest.mark.parametrize("program", list(PROGRAMS))
def test_tunnel_program_delivers_the_ping_and_the_capture_decrypts(program, family, tmp_path):
    sim = ipsecsim.loads(scenario(family, program), f"{program}_v{family}.yaml", pcap=tmp_path)
    assert sim.network.command_errors == []
    result = sim.run()
    sim.close()
    (ping,) = result.pings
    assert (ping["transmitted"], ping["received"]) == (1, 1), result.summary()
    assert result.drops.get("ips_in_polvio", 0) == 0
    # The gateways carried ESP, not the cleartext ping, between them.
    assert result.counters["router:em0"]["ipackets"] >= 1
    enc, enc_key, auth, auth_key = PROGRAMS[program]
    if enc == "chacha20-poly1305":
        return  # tshark 4.0 cannot decrypt ChaCha20-Poly1305 ESP (see tests/trace)
    require_tshark()
    a = ADDRESSES[family]
    rows = [EspSaRow(family, a["src_gw"], a["dst_gw"], 0x1000, enc, enc_key.encode(), auth, auth_key.encode()),
            EspSaRow(family, a["dst_gw"], a["src_gw"], 0x1001, enc, enc_key.encode(), auth, auth_key.encode())]
    config = tmp_path / "wireshark"
    config.mkdir()
    write_esp_sa_uat(config, rows)
    proto = "icmp" if family == 4 else "icmpv6"
    fields = ["esp.spi", "esp.sequence", f"{proto}.type"]
    decoded = tshark_fields(tmp_path / "router-em0.pcap", fields, config_dir=config,
                            prefs={"esp.enable_encryption_decode": "TRUE"})
    echo_types = {"8", "0"} if family == 4 else {"128", "129"}
    assert {r[f"{proto}.type"] for r in decoded} == echo_types
    assert {r["esp.spi"] for r in decoded} == {"0x00001000", "0x00001001"}
