"""The parts of one routed hop, timed apart: kernel forwarding, and the link's send side.

Run:  python benchmarks/hop_parts.py

* forwarding: a packet handed to R's em0 until R's em1 outputs it (receive, IPv4 input
  checks, the forwarding decision, TTL and checksum rewrite, route lookup, counters),
  with em1's link replaced by a no-op;
* link send: EtherIf.output, the link's queue model and scheduling the arrival event.
Compare with benchmarks/routed_hops.py, which times whole hops.
"""

from ipaddress import ip_address
import timeit

import sys
from pathlib import Path

# Measure this checkout, not whatever copy of ipsecsim is installed: run as a script,
# Python puts benchmarks/ on the path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipsecsim.packet import IPV4, IPv4, Udp
from ipsecsim.world import LinkParams, Network


def forwarding_cost() -> float:
    net = Network(seed=1)
    net.add_link("A:em0", "R:em0", LinkParams())
    net.add_link("R:em1", "B:em0", LinkParams())
    net.sh("R", "ifconfig em0 inet 10.0.1.2/24; ifconfig em1 inet 10.0.2.1/24; sysctl net.inet.ip.forwarding=1")
    router = net.host("R")
    router.interfaces["em1"].transmit = lambda pkt: None
    src, dst = ip_address("10.0.1.1"), ip_address("10.0.2.2")
    pkt = IPv4(src, dst, 17, Udp(1, 9, bytes(100)).to_bytes(src, dst)).to_bytes()
    receive = router.interfaces["em0"].receive
    n = 100_000
    return min(timeit.repeat(lambda: receive(pkt), number=n, repeat=5)) / n


def link_send_cost() -> float:
    net = Network(seed=1)
    net.add_link("A:em0", "B:em0", LinkParams(bandwidth=10e9, delay=0.0001, queue_packets=None))
    net.sh("A", "ifconfig em0 inet 10.0.0.1/24")
    em0 = net.host("A").interfaces["em0"]
    pkt = bytes(128)
    queue = net.engine.env._queue

    def thousand() -> None:
        for _ in range(1000):
            em0.output(pkt, IPV4)
        queue.clear()  # the arrivals are not run: only the send side is timed

    return min(timeit.repeat(thousand, number=100, repeat=5)) / 100_000


if __name__ == "__main__":
    print(f"forwarding (em0 receive -> em1 output): {forwarding_cost() * 1e6:.2f} us per packet")
    print(f"link send (output + queue model + arrival event): {link_send_cost() * 1e6:.2f} us per packet")
