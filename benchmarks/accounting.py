"""What the run's accounting costs: the ledger and the flow monitor on a tunnel flow.

Run:  python benchmarks/accounting.py [--seconds 10] [--rounds 5]

Every scenario run keeps the ledger (world/ledger.py) and the flow monitor (world/flowmon.py):
both watch each host's packet events. This runs the manual page's tunnel scenario (one
20 Mbit/s UDP flow of 1000-byte datagrams through ipsec0, 1,500 datagrams a simulated second)
four ways in alternating rounds -- with neither, the ledger only, the monitor only, both --
and prints the CPU time of ``sim.run()`` for each, best of the rounds, and its ratio to the
run with neither. Only the ratios mean anything: the machine is shared and noisy.
"""

import argparse
from pathlib import Path
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure this checkout, not an installed ipsecsim

import ipsecsim  # noqa: E402
from ipsecsim.world import Network  # noqa: E402

SCENARIO = ROOT / "scenarios" / "if_ipsec_host_a_b.yaml"
WAYS = {"neither": (False, False), "ledger": (True, False), "monitor": (False, True), "both": (True, True)}


def run_once(seconds: float, ledger: bool, monitor: bool) -> tuple[float, int]:
    """CPU seconds of one run and the datagrams it sent."""
    enable_ledger, enable_monitor = Network.enable_ledger, Network.enable_flow_monitor
    try:  # leave out what this way does not keep: the scenario builder enables both
        if not ledger:
            Network.enable_ledger = lambda self: None  # type: ignore[method-assign,assignment,return-value]
        if not monitor:
            Network.enable_flow_monitor = lambda self, *a, **k: None  # type: ignore[method-assign,assignment,return-value]
        sim = ipsecsim.load(SCENARIO, duration=seconds)
    finally:
        Network.enable_ledger, Network.enable_flow_monitor = enable_ledger, enable_monitor
    start = time.process_time()
    sim.run()
    spent = time.process_time() - start
    sent = sum(flow.sent for flow in sim.network.flows.values())
    sim.close()
    return spent, sent


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="simulated seconds per run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    best: dict[str, float] = {}
    sent = 0
    for _ in range(args.rounds):
        for way, (ledger, monitor) in WAYS.items():
            spent, sent = run_once(args.seconds, ledger, monitor)
            best[way] = min(best.get(way, spent), spent)
    print(f"{sent:,} datagrams through the tunnel, {args.seconds:g} simulated s, best of {args.rounds} rounds")
    for way, spent in best.items():
        print(f"  {way:8} {spent:7.3f} CPU s  {spent / best['neither']:.2f}x  "
              f"{(spent - best['neither']) / max(sent, 1) * 1e6:+.2f} us a datagram")
    return best


if __name__ == "__main__":
    main()
