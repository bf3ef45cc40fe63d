"""The tunnels: shorthand runs: its expansion builds the same tunnel as the man page's lines."""

from pathlib import Path

import ipsecsim

FIXTURE = Path(__file__).resolve().parent.parent / "scenario" / "tunnels" / "man_page.yaml"


def test_man_page_tunnel_entry_carries_the_ping_over_ipsec0():
    sim = ipsecsim.load(FIXTURE)
    assert sim.network.command_errors == []
    assert "reqid: 100" in sim.host("A").sh("ifconfig ipsec0")
    result = sim.run()
    sim.close()
    assert result.pings[0]["received"] == 5
    assert result.counters["A:ipsec0"]["opackets"] == 5
    assert result.counters["B:ipsec0"]["ipackets"] == 5
    used = {(sa["host"], sa["spi"], sa["reqid"], sa["mode"]) for sa in result.sas}
    assert used == {("A", 10000, 100, "tunnel"), ("A", 10001, 100, "tunnel"),
                    ("B", 10000, 200, "tunnel"), ("B", 10001, 200, "tunnel")}
    assert result.counters["A:em0"]["obytes"] == 5 * 140  # AES-CBC, no auth: 140 bytes per ping [S6.10]
