"""What-if at scale: every single-link failure of a generated OSPF network with 100 UDP flows.

Run:  python benchmarks/whatif.py [--routers 10000] [--flows 100] [--seed 1] [--build 300]

The what-if model comes straight from the generator (scenarios/generate_ospf_network.py writes
the same network as a scenario). `--build N` also times building an N-router scenario as
simulated hosts, to show why the large case skips that. Wall-clock times vary with the machine;
the counts (failures, failures that affect something) are deterministic.
"""

import argparse
from pathlib import Path
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipsecsim.scenario import parse_scenario  # noqa: E402
from ipsecsim.scenario.build import build_network  # noqa: E402
from ipsecsim.whatif import Failure, analyse, model_from_network  # noqa: E402
from ipsecsim.whatif.generate import generate, generated_model, scenario_yaml  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", type=int, default=10_000)
    parser.add_argument("--flows", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--build", type=int, default=0, help="also time building a scenario of this many routers")
    args = parser.parse_args()
    start = time.perf_counter()
    net = generate(args.routers, args.flows, seed=args.seed)
    model = generated_model(net)
    made = time.perf_counter()
    failures = [Failure(links=(name,)) for name in sorted(model.links)]
    answer = analyse(model, failures)
    done = time.perf_counter()
    affecting = sum(1 for result in answer.results if result.changes)
    lost = sum(1 for result in answer.results for change in result.changes if change.status == "lost")
    print(f"{args.routers} routers, {len(model.links)} links, {len(model.items)} flows")
    print(f"model made in {made - start:.2f} s")
    print(f"--each-link: {len(failures)} failures ({affecting} affect a flow, {lost} flow losses) "
          f"in {done - made:.2f} s")
    print(f"total {done - start:.2f} s")
    if args.build:
        small = generate(args.build, 10, seed=args.seed)
        begin = time.perf_counter()
        scenario = parse_scenario(scenario_yaml(small), "generated.yaml")
        built = build_network(scenario, traffic=False)
        model_from_network(built, scenario)
        print(f"building {args.build} routers as simulated hosts: {time.perf_counter() - begin:.2f} s")


if __name__ == "__main__":
    main()
