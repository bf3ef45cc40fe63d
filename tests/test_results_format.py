"""Results files of the previous layout (format 2) still read: the reporting fields come back empty."""

import json
from pathlib import Path

import ipsecsim
from ipsecsim.report import FORMAT, Result

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_a_format_2_file_reads_with_the_reporting_fields_empty(tmp_path):
    sim = ipsecsim.load(SCENARIOS / "routed_three_hosts.yaml")
    result = sim.run()
    sim.close()
    data = result.to_dict()
    assert data["format"] == FORMAT == 3
    old = {key: value for key, value in data.items()
           if key not in ("timeline", "ledger", "flow_stats", "timeseries", "topology", "interrupted")}
    old["format"] = 2
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    again = Result.from_json(path)
    assert again.pings == result.pings and again.flows == result.flows
    assert (again.timeline, again.ledger, again.flow_stats, again.interrupted) == ([], {}, [], False)
