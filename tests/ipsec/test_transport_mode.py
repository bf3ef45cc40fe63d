"""Policy-based transport mode between two hosts: esp/transport//require with the packet's addresses."""

import ipsecsim

SCENARIO = """
name: transport mode
duration: 3s
links:
  - {a: A:em0, b: B:em0}
hosts:
  A:
    run: |
      ifconfig em0 inet 10.0.0.1/24
      setkey -c <<EOF
      spdadd 10.0.0.1 10.0.0.2 any -P out ipsec esp/transport//require;
      spdadd 10.0.0.2 10.0.0.1 any -P in ipsec esp/transport//require;
      add 10.0.0.1 10.0.0.2 esp 0x2000 -m transport -E aes-gcm-16 "12345678901234567890";
      add 10.0.0.2 10.0.0.1 esp 0x2001 -m transport -E aes-gcm-16 "abcdefghijklmnopqrst";
      EOF
  B:
    run: |
      ifconfig em0 inet 10.0.0.2/24
      setkey -c <<EOF
      spdadd 10.0.0.2 10.0.0.1 any -P out ipsec esp/transport//require;
      spdadd 10.0.0.1 10.0.0.2 any -P in ipsec esp/transport//require;
      add 10.0.0.1 10.0.0.2 esp 0x2000 -m transport -E aes-gcm-16 "12345678901234567890";
      add 10.0.0.2 10.0.0.1 esp 0x2001 -m transport -E aes-gcm-16 "abcdefghijklmnopqrst";
      EOF
traffic:
  - {ping: {from: A, to: 10.0.0.2, count: 2}}
"""


def test_ping_in_transport_mode_is_protected_both_ways():
    sim = ipsecsim.loads(SCENARIO)
    assert sim.network.command_errors == []
    seen = []
    sim.network.host("B").interfaces["em0"].bpf = lambda pkt, outbound: seen.append((outbound, pkt[9], len(pkt)))
    result = sim.run()
    sim.close()
    assert result.pings[0]["received"] == 2
    assert result.drops == {}
    # Transport mode keeps the IP header: 20 + ESP 8 + IV 8 + ICMP 64 + pad/trailer 4 + ICV 16 = 120 bytes
    assert set(seen) == {(False, 50, 120), (True, 50, 120)}


def test_ctr_compatibility_sysctl_sets_aes_ctr_padding():
    """net.inet.esp.ctr_compatibility=1 (default) pads AES-CTR to 16 bytes, 0 to 4 [S6.5] [S7.12]."""
    sizes = {}
    for value in (1, 0):
        text = SCENARIO.replace('-E aes-gcm-16 "12345678901234567890"', '-E aes-ctr "12345678901234567890"')
        text = text.replace('-E aes-gcm-16 "abcdefghijklmnopqrst"', '-E aes-ctr "abcdefghijklmnopqrst"')
        sim = ipsecsim.loads(text)
        for host in ("A", "B"):
            sim.host(host).sh(f"sysctl net.inet.esp.ctr_compatibility={value}")
        seen = []
        sim.network.host("B").interfaces["em0"].bpf = lambda pkt, outbound: seen.append(len(pkt))
        result = sim.run()
        sim.close()
        assert result.pings[0]["received"] == 2
        sizes[value] = set(seen)
    # 64 bytes of ICMP + 2 trailer bytes: padded to 80 with blocks of 16, to 68 with blocks of 4.
    assert sizes == {1: {20 + 8 + 8 + 80}, 0: {20 + 8 + 8 + 68}}
