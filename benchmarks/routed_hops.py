"""UDP across 1, 2 and 4 routed hops: packets per CPU-second and scheduler events per packet per hop.

Run:  python benchmarks/routed_hops.py [--packets 20000]

Next to each figure it prints a bare simpy loop measured in the same run (the
floor: what simpy alone costs per event), and the ratio of our CPU per
packet-hop to that floor for the same number of events. Events are counted,
not timed, so that column is deterministic; CPU times vary by +-25% on a noisy
machine, so compare ratios from one run, never absolute times across runs.
"""

import argparse
from ipaddress import ip_address
import time

import simpy

import sys
from pathlib import Path

# Measure this checkout, not whatever copy of ipsecsim is installed: run as a script,
# Python puts benchmarks/ on the path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipsecsim.world import LinkParams, Network


def build_chain(hops: int) -> Network:
    """A - R1 - ... - R(hops-1) - B, configured with the commands an administrator types."""
    net = Network(seed=1)
    names = ["A"] + [f"R{i}" for i in range(1, hops)] + ["B"]
    for i in range(hops):
        left_if = "em0" if i == 0 else "em1"
        net.add_link(f"{names[i]}:{left_if}", f"{names[i + 1]}:em0",
                     LinkParams(bandwidth=10e9, delay=0.0001, queue_packets=None))
    for i in range(hops):
        left, right = names[i], names[i + 1]
        left_if = "em0" if i == 0 else "em1"
        net.sh(left, f"ifconfig {left_if} inet 10.0.{i + 1}.1/24")
        net.sh(right, f"ifconfig em0 inet 10.0.{i + 1}.2/24")
    net.sh("A", "route add default 10.0.1.2")
    net.sh("B", f"route add default 10.0.{hops}.1")
    for i in range(1, hops):
        net.sh(names[i], f"sysctl net.inet.ip.forwarding=1; route add default 10.0.{i + 1}.2")
        for j in range(1, i):
            net.sh(names[i], f"route add -net 10.0.{j}.0/24 10.0.{i}.1")
    return net


def bare_simpy_cost(events: int) -> float:
    """CPU seconds per event of a plain simpy loop: one scheduled callback per step."""
    env = simpy.Environment()
    remaining = [events]

    def step(_event):
        remaining[0] -= 1
        if remaining[0] > 0:
            env.timeout(0.000001).callbacks.append(step)

    env.timeout(0).callbacks.append(step)
    started = time.process_time()
    env.run()
    return (time.process_time() - started) / events


def measure(hops: int, packets: int) -> dict:
    net = build_chain(hops)
    size = 100
    rate = 1e9
    duration = packets * size * 8 / rate
    stats = net.start_udp("bench", "A", ip_address(f"10.0.{hops}.2"), rate=rate, size=size,
                          start=0.0, stop=duration)
    before = net.engine.scheduled
    started = time.process_time()
    net.run(duration + 1.0)
    cpu = time.process_time() - started
    events = net.engine.scheduled - before
    assert stats.received == stats.sent, (stats.received, stats.sent)
    return {
        "hops": hops, "packets": stats.received, "cpu": cpu,
        "events_per_packet_hop": events / (stats.received * hops),
        "cpu_per_packet_hop": cpu / (stats.received * hops),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20000)
    args = parser.parse_args()
    floor = min(bare_simpy_cost(200_000) for _ in range(3))
    print(f"bare simpy loop: {floor * 1e6:.2f} us per event ({1 / floor:,.0f} events per CPU-second)")
    print(f"{'hops':>4} {'packets':>8} {'pkts/CPU-s':>11} {'events/pkt/hop':>15} "
          f"{'us/pkt-hop':>11} {'floor us':>9} {'ratio':>6}")
    for hops in (1, 2, 4):
        runs = [measure(hops, args.packets) for _ in range(3)]
        best = min(runs, key=lambda r: r["cpu"])
        floor_same_events = floor * best["events_per_packet_hop"]
        print(f"{hops:>4} {best['packets']:>8} {best['packets'] / best['cpu']:>11,.0f} "
              f"{best['events_per_packet_hop']:>15.3f} {best['cpu_per_packet_hop'] * 1e6:>11.2f} "
              f"{floor_same_events * 1e6:>9.2f} {best['cpu_per_packet_hop'] / floor_same_events:>6.2f}")


if __name__ == "__main__":
    main()
