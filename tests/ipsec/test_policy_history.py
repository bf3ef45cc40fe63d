"""A global inbound policy over if_ipsec traffic: rejected, unless check_policy_history [S9.6]."""

from pathlib import Path

import ipsecsim

FLAGSHIP = (Path(__file__).resolve().parents[2] / "scenarios" / "if_ipsec_host_a_b.yaml").read_text()
REQUIRE_ON_B = """
  - {at: 0s, host: B, run: "setkey -c <<EOF\\nspdadd 172.16.0.3 172.16.0.5 any -P in ipsec esp/tunnel/192.168.0.3-192.168.0.5/require;\\nEOF"}
"""


def run(history: int):
    text = FLAGSHIP.replace("timeline:\n", "timeline:\n" + REQUIRE_ON_B.strip("\n") + "\n")
    text = text.replace("  - {at: 9s, host: A, run: setkey -D}\n",
                        f"  - {{at: 0s, host: B, run: sysctl net.inet.ipsec.check_policy_history={history}}}\n")
    sim = ipsecsim.loads(text)
    result = sim.run(3.5)
    sim.close()
    return result


def test_packets_through_ipsec0_fail_a_global_require_policy():
    """m_clrprotoflags removed M_DECRYPTED, so ipsec4_in_reject refuses them (ips_in_polvio)."""
    result = run(history=0)
    assert result.pings[0]["received"] == 0
    assert result.flows["bulk"]["received"] == 0
    # Every packet B's ipsec0 received (decrypted, attributed, counted) was then refused.
    assert result.drops_by_host["B"]["ips_in_polvio"] == result.counters["B:ipsec0"]["ipackets"] > 3000


def test_check_policy_history_accepts_them_by_their_in_done_tag():
    result = run(history=1)
    assert result.pings[0]["received"] == result.pings[0]["transmitted"] == 4
    assert "ips_in_polvio" not in result.drops
