"""Write a scenario of N routers running OSPF with UDP flows between them, for `ipsecsim whatif`.

Run:  python scenarios/generate_ospf_network.py --routers 50 --flows 10 -o /tmp/ospf50.yaml
      ipsecsim whatif /tmp/ospf50.yaml --each-link --quiet

Each router has a /30 on each cable and ospfd with a random cost per interface; the graph is a
random tree plus half as many random extra cables. Building a scenario of thousands of routers
as simulated hosts is slow (about a minute per thousand); for what-if on 10,000 routers,
benchmarks/whatif.py makes the what-if model directly from the same generator.
"""

import argparse
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipsecsim.whatif.generate import generate, scenario_yaml  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", type=int, default=50)
    parser.add_argument("--flows", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", help="the YAML file to write (default: standard output)")
    args = parser.parse_args()
    if args.routers < 2 or args.flows < 0:
        parser.error("--routers is at least 2 and --flows at least 0")
    text = scenario_yaml(generate(args.routers, args.flows, seed=args.seed))
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
