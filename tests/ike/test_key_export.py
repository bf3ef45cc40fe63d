"""--pcap DIR writes Wireshark's IKEv2 decryption table beside esp_sa, and the tshark command
the run prints decrypts both the ESP packets and the IKE SK payloads (tshark is the oracle)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

import ipsecsim
from ipsecsim.cli import main
from ipsecsim.trace.wireshark import IKEV2_TABLE_FILENAME, format_ikev2_decryption_table
from tests.tshark import require_tshark, tshark_fields

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "if_ipsec_host_a_b_ike.yaml"


def _records(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def _hint_prefs(output: str, directory: Path) -> dict[str, str]:
    """The -o options of the printed hint, after checking it points Wireshark at ``directory``."""
    line = next(line for line in output.splitlines() if "WIRESHARK_CONFIG_DIR=" in line)
    words = shlex.split(line[line.index("WIRESHARK_CONFIG_DIR="):])
    assert words[0] == f"WIRESHARK_CONFIG_DIR={directory}" and words[1] == "tshark"
    return dict(words[i + 1].split(":", 1) for i, w in enumerate(words) if w == "-o")


def test_the_printed_hint_decrypts_esp_and_ike(tmp_path):
    require_tshark()
    result = CliRunner().invoke(main, ["run", str(SCENARIO), "--pcap", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "decrypt the ESP and IKE captures with:" in result.output
    prefs = _hint_prefs(result.output, tmp_path)
    pcap = tmp_path / "A-em0.pcap"
    rows = tshark_fields(pcap, ["isakmp.exchangetype", "isakmp.typepayload", "isakmp.id.type", "isakmp.auth.method",
                                "isakmp.id.data.fqdn"], prefs=prefs, config_dir=tmp_path, display_filter="udp.port == 500")
    auth = [r for r in rows if r["isakmp.exchangetype"] == "35"]
    assert len(auth) == 2
    # Decrypted: SK (46), then IDi (35) or IDr (36), AUTH (39), SA (33), TSi (44), TSr (45).
    assert [r["isakmp.typepayload"].split(",")[:3] for r in auth] == [["46", "35", "39"], ["46", "36", "39"]]
    assert all(r["isakmp.id.type"] == "2" and r["isakmp.auth.method"] == "2" for r in auth)  # FQDN, PSK
    assert [r["isakmp.id.data.fqdn"] for r in auth] == ["a.example.org", "b.example.org"]
    esp = tshark_fields(pcap, ["esp.spi", "icmp.type"], prefs=prefs, config_dir=tmp_path, display_filter="esp")
    assert esp and all(r["icmp.type"] in ("0", "8") for r in esp)  # every ESP packet read as ICMP


def test_one_line_per_ike_sa_though_both_peers_know_it(tmp_path):
    sim = ipsecsim.load(SCENARIO, pcap=tmp_path)
    sim.run(progress=False)
    a = sim.network.host("A").daemons["charon"].wireshark_records()
    b = sim.network.host("B").daemons["charon"].wireshark_records()
    sim.close()
    assert len(a) == 1 and a == b  # the same SPIs and keys, derived independently on each side
    assert _records(tmp_path / IKEV2_TABLE_FILENAME) == a


def test_esp_sa_lists_the_sas_charon_installed(tmp_path):
    sim = ipsecsim.load(SCENARIO, pcap=tmp_path)
    result = sim.run(progress=False)
    sim.close()
    installed = {(sa["src"], sa["dst"], f"0x{sa['spi']:08x}") for sa in result.sas}
    assert len(installed) == 2 and all(sa["spi"] >= 0xC0000000 for sa in result.sas)  # charon's SPIs
    rows = {tuple(re.findall(r'"([^"]*)"', line)[1:4]) for line in _records(tmp_path / "esp_sa")}
    assert rows == installed


def test_a_failed_ike_sa_still_exports_its_keys(tmp_path):
    """PSK mismatch: the IKE_SA is gone at the end, yet Wireshark reads its AUTHENTICATION_FAILED."""
    require_tshark()
    text = SCENARIO.read_text()
    head, b_part = text.split("\n  B:\n", 1)
    text = head + "\n  B:\n" + b_part.replace('secret = "if_ipsec example key"', 'secret = "another key"')
    sim = ipsecsim.loads(text, str(SCENARIO), pcap=tmp_path, duration=3)
    sim.run(progress=False)
    assert sim.network.host("A").daemons["charon"].ike_sas() == []
    sim.close()
    assert len(_records(tmp_path / IKEV2_TABLE_FILENAME)) == 1
    rows = tshark_fields(tmp_path / "A-em0.pcap", ["isakmp.exchangetype", "isakmp.notify.msgtype"],
                         config_dir=tmp_path, display_filter="isakmp.exchangetype == 35 && isakmp.flag_r == 1")
    assert rows and all(r["isakmp.notify.msgtype"] == "24" for r in rows)  # AUTHENTICATION_FAILED


def test_the_table_refuses_what_is_not_a_record():
    line = "00" * 8 + "," + "11" * 8 + ",aa,bb,\"AES-CBC-128 [RFC3602]\",cc,dd,\"HMAC_SHA2_256_128 [RFC4868]\""
    text = format_ikev2_decryption_table([line, line])
    assert [t for t in text.splitlines() if not t.startswith("#")] == [line]
    with pytest.raises(ValueError, match="not an ikev2_decryption_table record"):
        format_ikev2_decryption_table(["garbage"])
