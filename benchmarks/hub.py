"""Setting up a hub with N if_ipsec tunnels: CPU time per tunnel at several N, to show it is linear.

Run:  python benchmarks/hub.py [--sizes 250,1000,4000] [--spokes 250,1000]

Three ways of loading the same hub, each at every N:

- **hub commands**: the hub's own script typed into its shell on a hand-built network (one link
  to a peer, no YAML): ``ifconfig em0``, then per tunnel ``ifconfig ipsecK create reqid R``,
  ``ifconfig ipsecK inet tunnel ...`` and ``ifconfig ipsecK inet A/32 B``, then one ``setkey -c``
  adding the tunnel's two SAs (2N SAs on the hub). This is the kernel's and userland's share.
- **hub scenario**: ``ipsecsim.loads`` of a scenario holding that same script as the hub's
  ``run:`` block: adds reading the YAML, the scenario checks and the build.
- **hub and spokes**: ``ipsecsim.loads`` of a scenario with N spoke hosts, each cabled to its own
  hub port, and one ``tunnels:`` entry per spoke (expanded into lines on both ends): N + 1 hosts,
  N links, 4N SAs in all. Heavier by nature; the hub's share is the rows above.

Linear setup shows as a flat "ms per tunnel" column: t(4N)/t(N) = 4 means linear, 16 quadratic.
CPU time (``time.process_time``), best of ``--repeat`` runs; the machine is noisy, so compare the
rows of one run, not runs.
"""

import argparse
from ipaddress import IPv4Address
from pathlib import Path
import sys
import time

# Measure this checkout, not an installed copy: `python benchmarks/hub.py` puts benchmarks/ first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ipsecsim  # noqa: E402
from ipsecsim.world import Network  # noqa: E402

_SPOKES = IPv4Address("10.1.0.0")  # spoke k's outer address: 10.1.0.0 + k, inside the hub's 10/8
_INNER = IPv4Address("172.16.0.0")  # tunnel k: hub 172.16.0.0 + 2k, spoke + 2k + 1 (/32 each)


def hub_script(n: int) -> str:
    """What the hub types: one physical address, N tunnels, then their 2N SAs in one setkey."""
    lines = ["ifconfig em0 inet 10.0.0.1/8"]
    sas = []
    for k in range(n):
        spoke, mine, theirs = _SPOKES + k, _INNER + 2 * k, _INNER + 2 * k + 1
        lines += [f"ifconfig ipsec{k} create reqid {k + 1}",
                  f"ifconfig ipsec{k} inet tunnel 10.0.0.1 {spoke}",
                  f"ifconfig ipsec{k} inet {mine}/32 {theirs}"]
        sas += [f'add 10.0.0.1 {spoke} esp {0x10000 + 2 * k} -m tunnel -u {k + 1} -E aes-gcm-16 "{k:020d}";',
                f'add {spoke} 10.0.0.1 esp {0x10001 + 2 * k} -m tunnel -u {k + 1} -E aes-gcm-16 "{k + n:020d}";']
    return "\n".join(lines + ["setkey -c <<EOF"] + sas + ["EOF"])


def hub_scenario(n: int) -> str:
    script = "".join(f"      {line}\n" for line in hub_script(n).split("\n"))
    return ("name: hub\nduration: 1s\nlinks:\n  - {a: H:em0, b: R:em0}\n"
            f"hosts:\n  H:\n    run: |\n{script}  R:\n    run: ifconfig em0 inet 10.255.255.254/8\n")


def spokes_scenario(n: int) -> str:
    """N spokes, one hub port each (emK, 10.K.0.0/30 style numbering in 10/8), one tunnels: entry each."""
    links, hosts, tunnels = [], [], []
    for k in range(n):
        hub, spoke = IPv4Address("10.0.0.0") + 4 * k + 1, IPv4Address("10.0.0.0") + 4 * k + 2
        links.append(f"  - {{a: H:em{k}, b: S{k}:em0}}")
        hosts.append(f"  S{k}: {{run: ifconfig em0 inet {spoke}/30}}")
        tunnels.append(f"  - {{a: {{host: H, outer: {hub}, inner: {_INNER + 2 * k}/32}}, "
                       f"b: {{host: S{k}, outer: {spoke}, inner: {_INNER + 2 * k + 1}/32}}, key_seed: {k}}}")
    hub_ports = "".join(f"      ifconfig em{k} inet {IPv4Address('10.0.0.0') + 4 * k + 1}/30\n" for k in range(n))
    return ("name: hub and spokes\nduration: 1s\nlinks:\n" + "\n".join(links) +
            f"\nhosts:\n  H:\n    run: |\n{hub_ports}" + "\n".join(hosts) +
            "\ntunnels:\n" + "\n".join(tunnels) + "\n")


def hub_commands(n: int) -> None:
    net = Network(seed=1)
    net.add_link("H:em0", "R:em0")
    result = net.sh("H", hub_script(n))
    assert not result.errors, result.errors[:3]
    _check_hub(net.host("H"), n)


def load_hub(n: int) -> None:
    sim = ipsecsim.loads(hub_scenario(n))
    assert not sim.network.command_errors, sim.network.command_errors[:3]
    _check_hub(sim.network.host("H"), n)


def load_spokes(n: int) -> None:
    sim = ipsecsim.loads(spokes_scenario(n))
    assert not sim.network.command_errors, sim.network.command_errors[:3]
    hub = sim.network.host("H")
    assert sum(1 for name in hub.interfaces if name.startswith("ipsec")) == n
    assert len(hub.keydb.sas()) == 2 * n


def teardown_seconds(n: int) -> float:
    """CPU seconds to ``ifconfig ipsecK destroy`` every tunnel of a hub set up as hub_commands does."""
    net = Network(seed=1)
    net.add_link("H:em0", "R:em0")
    net.sh("H", hub_script(n))
    started = time.process_time()
    result = net.sh("H", "\n".join(f"ifconfig ipsec{k} destroy" for k in range(n)))
    elapsed = time.process_time() - started
    assert not result.errors, result.errors[:3]
    assert not any(name.startswith("ipsec") for name in net.host("H").interfaces)
    return elapsed


def _check_hub(hub, n: int) -> None:
    """Every tunnel is up (RUNNING: its outer source is local) and every SA is in the hub's SAD."""
    tunnels = [ifp for name, ifp in hub.interfaces.items() if name.startswith("ipsec")]
    assert len(tunnels) == n and all(ifp.flags & 0x40 for ifp in tunnels)  # IFF_RUNNING
    assert len(hub.keydb.sas()) == 2 * n


def cpu(fn, n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn(n)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,1000,4000", help="tunnel counts for the hub rows")
    parser.add_argument("--spokes", default="250,1000", help="tunnel counts for the hub-and-spokes rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the best is kept")
    args = parser.parse_args()
    rows = [("hub commands", hub_commands, args.sizes), ("hub scenario", load_hub, args.sizes),
            ("hub and spokes", load_spokes, args.spokes)]
    print(f"{'what':<16} {'tunnels':>8} {'SAs on hub':>11} {'CPU s':>8} {'ms per tunnel':>14} {'t(N)/t(N/4)':>12}")
    for label, fn, sizes in rows:
        times: dict[int, float] = {}
        for n in (int(size) for size in sizes.split(",") if size):
            times[n] = cpu(fn, n, args.repeat)
            ratio = f"{times[n] / times[n // 4]:.2f}" if n // 4 in times else ""
            print(f"{label:<16} {n:>8,} {2 * n:>11,} {times[n]:>8.2f} {times[n] / n * 1e3:>14.3f} {ratio:>12}",
                  flush=True)
    teardown: dict[int, float] = {}
    for n in (int(size) for size in args.sizes.split(",") if size):
        teardown[n] = min(teardown_seconds(n) for _ in range(args.repeat))
        ratio = f"{teardown[n] / teardown[n // 4]:.2f}" if n // 4 in teardown else ""
        print(f"{'hub teardown':<16} {n:>8,} {2 * n:>11,} {teardown[n]:>8.2f} {teardown[n] / n * 1e3:>14.3f} "
              f"{ratio:>12}", flush=True)


if __name__ == "__main__":
    main()
