"""Pure Python against the compiled build (and an older revision), measured in one run.

Run:  python benchmarks/builds.py [--packets 5000] [--rounds 3] [--baseline REV]

Copies this checkout twice into a temporary directory, compiles one copy with mypyc
(``IPSECSIM_COMPILE=1 python setup.py build_ext --inplace``, about a minute; needs mypy), and
with ``--baseline`` also unpacks an older revision (``git archive REV``). Each round runs every
tree in a fresh interpreter, one after the other, so that the machine's drift hits all of them
alike; the best of the rounds is kept. Measured per tree:

* the UDP flow of ``benchmarks/tunnel.py`` (1000-byte and 64-byte payloads) in clear and through
  ipsec0 with aes-gcm-16: microseconds and packets per CPU-second, and the tunnel's ratio to the
  clear flow of the same tree;
* for this checkout's two builds, the ESP core of ``benchmarks/esp.py`` (a 1400-byte packet,
  aes-gcm-16) and its ratio to the bare ``cryptography`` floor, twice: through the stand-alone API
  (``esp_output`` + ``decapsulate``, which parses the outer header itself) and as the kernel runs
  it (``esp_output`` + ``esp_input`` at the ESP header's offset, which IP input already found).

``--builds pure`` skips the compiled copy (the test suite's smoke run does that).
"""

import argparse
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT / "benchmarks"))

from tunnel import ALGORITHMS, scenario  # noqa: E402  (this checkout's scenario, for every tree)

GCM = ALGORITHMS["aes-gcm-16 (128)"]

# Runs inside one tree: its ipsecsim first on the path; the scenarios come from the parent.
_FLOW_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import ipsecsim
cases = json.loads(sys.stdin.read())
out = {}
for key, text, packets in cases:
    sim = ipsecsim.loads(text)
    started = time.process_time()
    result = sim.run()
    cpu = time.process_time() - started
    flow = result.flows["f"]
    assert flow["received"] == flow["sent"] == packets, (key, flow)
    out[key] = cpu / packets
print(json.dumps(out))
"""

# Runs inside a copy of this checkout: benchmarks/esp.py's own cases and floor.
_ESP_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1] + "/benchmarks")
import esp
case = next(c for c in esp.CASES if c[0] == "aes-gcm-16-128")
inner = esp.inner_packet(1400)
n = int(sys.argv[2])
kernel = esp.kernel_path(case, inner)
print(json.dumps({"ours": esp.cpu_per_call(esp.ours(case, inner), n, 3),
                  "kernel": esp.cpu_per_call(kernel, n, 3),
                  "floor": esp.cpu_per_call(esp.floor(case, inner), n, 3)}))
"""


def copy_checkout(dest: Path) -> None:
    """This checkout's files as they are now, without builds, caches or compiled modules."""
    shutil.copytree(CHECKOUT, dest, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "out", "*.so", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis"))


def unpack_revision(rev: str, dest: Path) -> None:
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=CHECKOUT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def compile_tree(tree: Path) -> None:
    env = dict(os.environ, IPSECSIM_COMPILE="1")
    proc = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tree, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"builds.py: the compiled build failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def run_child(code: str, args: list[str], stdin: str = "") -> dict:
    proc = subprocess.run([sys.executable, "-c", code, *args], input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"builds.py: a measurement failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", metavar="REV", help="also measure this git revision")
    parser.add_argument("--builds", choices=["both", "pure"], default="both")
    args = parser.parse_args()

    cases = []
    for size in (1000, 64):
        cases.append((f"clear {size}", scenario(None, args.packets, size), args.packets))
        cases.append((f"tunnel {size}", scenario(GCM, args.packets, size), args.packets))
    with tempfile.TemporaryDirectory(prefix="ipsecsim-builds-") as tmp:
        trees = {}
        if args.baseline:
            trees[args.baseline] = Path(tmp, "baseline")
            unpack_revision(args.baseline, trees[args.baseline])
        trees["pure"] = Path(tmp, "pure")
        copy_checkout(trees["pure"])
        if args.builds == "both":
            trees["compiled"] = Path(tmp, "compiled")
            copy_checkout(trees["compiled"])
            compile_tree(trees["compiled"])
        best: dict[str, dict[str, float]] = {name: {} for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                figures = run_child(_FLOW_CHILD, [str(tree)], json.dumps(cases))
                if name in ("pure", "compiled"):
                    figures.update({f"esp {k}": v for k, v in
                                    run_child(_ESP_CHILD, [str(tree), str(args.packets * 4)]).items()})
                for key, value in figures.items():
                    best[name][key] = min(best[name].get(key, value), value)
    report(best, args)


def report(best: dict[str, dict[str, float]], args) -> None:
    print(f"best of {args.rounds} rounds, {args.packets} packets per flow; aes-gcm-16 in the tunnel")
    print(f"{'build':<12} {'payload':>7} {'clear us':>9} {'tunnel us':>10} {'tunnel pkts/CPU-s':>18} "
          f"{'tunnel/clear':>13}")
    for name, figures in best.items():
        for size in (1000, 64):
            clear, tunnel = figures[f"clear {size}"], figures[f"tunnel {size}"]
            print(f"{name:<12} {size:>5} B {clear * 1e6:>9.2f} {tunnel * 1e6:>10.2f} {1 / tunnel:>18,.0f} "
                  f"{tunnel / clear:>13.2f}")
    if args.baseline:
        for name in ("pure", "compiled"):
            if name in best:
                gain = best[args.baseline]["tunnel 1000"] / best[name]["tunnel 1000"]
                print(f"{name}: {gain:.2f}x the tunnel packets per CPU-second of {args.baseline} (1000 B)")
    print("\nESP core, 1400 B aes-gcm-16: encapsulate + decapsulate (the stand-alone API, which parses the")
    print("outer header), and esp_output + esp_input at the offset IP input found (what the kernel runs)")
    print(f"{'build':<12} {'API us':>8} {'API/floor':>10} {'kernel us':>10} {'kernel/floor':>13} {'floor us':>9}")
    for name in ("pure", "compiled"):
        if name in best:
            ours, kernel, floor = best[name]["esp ours"], best[name]["esp kernel"], best[name]["esp floor"]
            print(f"{name:<12} {ours * 1e6:>8.2f} {ours / floor:>10.2f} {kernel * 1e6:>10.2f} {kernel / floor:>13.2f}"
                  f" {floor * 1e6:>9.2f}")


if __name__ == "__main__":
    main()
