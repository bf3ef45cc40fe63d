"""Peak memory of a run against the number of packets: it should stay flat.

Run:  python benchmarks/memory.py [--packets 100000 1000000]

One UDP flow of N datagrams from A to B through the if_ipsec(4) tunnel of the manual page's
example, over 10 simulated seconds, with and without ``--trace`` (to a file). Each case runs in
a fresh Python process, so its peak resident set size (``ru_maxrss``) is its own; the table
prints it next to the same process's RSS before the run (interpreter, ipsecsim and the built
network), so the difference is what the run itself added. Flat memory: the difference does
not grow with N (the trace file does, on disk, not in memory).
"""

import argparse
import json
import os
from pathlib import Path
import resource
import subprocess
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure this checkout, not an installed ipsecsim

SIZE = 100  # payload bytes: small datagrams, so many of them fit in the run
SECONDS = 10


def scenario(packets: int) -> str:
    base = (ROOT / "scenarios" / "if_ipsec_host_a_b.yaml").read_text()
    head = base.split("traffic:")[0].replace("bandwidth: 100Mbit/s", "bandwidth: 10Gbit/s")
    rate = packets * SIZE * 8 / SECONDS
    return head + (f"traffic:\n  - {{udp: {{name: bulk, from: A, to: 172.16.0.5, rate: {rate:.0f}bit/s, "
                   f"size: {SIZE}, start: 0s, stop: {SECONDS}s}}}}\n")


def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def child(packets: int, trace: bool) -> None:
    import ipsecsim

    with tempfile.TemporaryDirectory() as tmp:
        sim = ipsecsim.loads(scenario(packets), "memory.yaml", trace=Path(tmp, "trace.jsonl") if trace else None)
        before = _rss_kib()
        started = time.perf_counter()
        result = sim.run(progress=False)
        sim.close()
        seconds = time.perf_counter() - started
        trace_bytes = Path(tmp, "trace.jsonl").stat().st_size if trace else 0
    flow = result.flows["bulk"]
    print(json.dumps({"packets": packets, "trace": trace, "received": flow["received"], "sent": flow["sent"],
                      "before_kib": before, "peak_kib": _rss_kib(), "seconds": seconds,
                      "trace_bytes": trace_bytes}))


def measure(packets: int, trace: bool) -> dict:
    args = [sys.executable, __file__, "--child", str(packets)] + (["--trace"] if trace else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONHASHSEED="0"))
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.trace)
        return
    print(f"{'packets':>10} {'trace':>6} {'received':>10} {'RSS before':>11} {'peak RSS':>10} "
          f"{'run added':>10} {'trace file':>11} {'seconds':>8}")
    for packets in options.packets:
        for trace in (False, True):
            m = measure(packets, trace)
            added = m["peak_kib"] - m["before_kib"]
            print(f"{m['packets']:>10,} {'yes' if trace else 'no':>6} {m['received']:>10,} "
                  f"{m['before_kib'] / 1024:>8.1f} MiB {m['peak_kib'] / 1024:>6.1f} MiB {added / 1024:>6.1f} MiB "
                  f"{m['trace_bytes'] / 2**20:>7.0f} MiB {m['seconds']:>8.1f}")


if __name__ == "__main__":
    main()
