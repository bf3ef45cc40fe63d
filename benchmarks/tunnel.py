"""UDP through an if_ipsec(4) tunnel: ESP packets per CPU-second, next to the same flow in clear.

Run:  python benchmarks/tunnel.py [--packets 20000]

Two hosts on one link (the if_ipsec(4) manual page's A and B). The floor is the same UDP flow
between the hosts' outer addresses without IPsec, measured in the same run; each row adds
encapsulation on A, decryption on B and the if_ipsec paths for one algorithm. Compare the
ratios, not the absolute times: the machine is noisy.

For aes-gcm-16 the kernel's share is printed apart: the tunnel's cost minus the clear flow's
minus the ESP core's (one ``encapsulate`` and one ``esp_input`` of the same inner packet on a
bare SA, measured in the same run): what if_ipsec, the IPsec paths and the second IP input add.
"""

import argparse
import random
import time

import sys
from pathlib import Path

# Measure this checkout, not whatever copy of ipsecsim is installed: run as a script,
# Python puts benchmarks/ on the path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ipsecsim
from ipsecsim.buildinfo import build_name
from ipsecsim.netipsec import SecurityAssociation
from ipsecsim.netipsec.esp import esp_input, esp_output
from ipsecsim.packet import internet_checksum

ALGORITHMS = {
    "aes-gcm-16 (128)": ('-E aes-gcm-16 "12345678901234567890"', '-E aes-gcm-16 "abcdefghijklmnopqrst"'),
    "aes-cbc-128 + hmac-sha1": ('-E rijndael-cbc "1234567890123456" -A hmac-sha1 "12345678901234567890"',
                                '-E rijndael-cbc "abcdefghijklmnop" -A hmac-sha1 "abcdefghijklmnopqrst"'),
    "chacha20-poly1305": ('-E chacha20-poly1305 "123456789012345678901234567890123456"',
                          '-E chacha20-poly1305 "abcdefghijklmnopqrstuvwxyz0123456789"'),
}


def scenario(algorithms: tuple[str, str] | None, packets: int, size: int) -> str:
    rate = 100e6
    stop = packets * size * 8 / rate
    to = "172.16.0.5" if algorithms else "192.168.0.5"
    hosts = ""
    for name, me, peer, me_in, peer_in, reqid in (("A", "3", "5", "3", "5", 100), ("B", "5", "3", "5", "3", 200)):
        lines = [f"ifconfig em0 inet 192.168.0.{me}/24"]
        if algorithms:
            lines += [f"ifconfig ipsec0 create reqid {reqid}",
                      f"ifconfig ipsec0 inet tunnel 192.168.0.{me} 192.168.0.{peer}",
                      f"ifconfig ipsec0 inet 172.16.0.{me_in}/16 172.16.0.{peer_in}",
                      "setkey -c <<EOF",
                      f"add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u {reqid} {algorithms[0]};",
                      f"add 192.168.0.5 192.168.0.3 esp 10001 -m tunnel -u {reqid} {algorithms[1]};",
                      "EOF"]
        hosts += f"  {name}:\n    run: |\n" + "".join(f"      {line}\n" for line in lines)
    return (f"name: bench\nduration: {stop + 1}s\nlinks:\n  - {{a: A:em0, b: B:em0, bandwidth: 10Gbit/s, queue: 100000}}\n"
            f"hosts:\n{hosts}traffic:\n  - {{udp: {{name: f, from: A, to: {to}, rate: 100Mbit/s, size: {size}, "
            f"stop: {stop}s}}}}\n")


def measure(algorithms, packets: int, size: int) -> tuple[float, int]:
    sim = ipsecsim.loads(scenario(algorithms, packets, size))
    started = time.process_time()
    result = sim.run()
    cpu = time.process_time() - started
    flow = result.flows["f"]
    assert flow["received"] == flow["sent"] == packets, flow
    return cpu / packets, packets


def esp_core(size: int, packets: int) -> float:
    """CPU seconds for one aes-gcm-16 encapsulate + esp_input of the flow's inner packet."""
    kw = dict(src="192.168.0.3", dst="192.168.0.5", spi=10000, enc="aes-gcm-16",
              enc_key=b"12345678901234567890", mode="tunnel")
    tx, rx = SecurityAssociation(**kw, rng=random.Random(1)), SecurityAssociation(**kw, rng=random.Random(2))
    header = bytearray(bytes.fromhex("45000000000040004011000000000000ac100005"))
    header[2:4] = (28 + size).to_bytes(2, "big")
    header[12:16] = bytes((172, 16, 0, 3))
    header[10:12] = internet_checksum(header).to_bytes(2, "big")
    inner = bytes(header) + bytes(8 + size)
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(packets):
            esp_input(rx, esp_output(tx, inner, now=0.0), 20, 9, now=0.0)  # IPv4 outer: ESP at 20
        best = min(best, (time.process_time() - started) / packets)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20000)
    args = parser.parse_args()
    print(f"ipsecsim build: {build_name()}")
    for size in (64, 1000):
        floor = min(measure(None, args.packets, size)[0] for _ in range(3))
        print(f"\nUDP payload {size} B: in clear {floor * 1e6:.2f} us per packet "
              f"({1 / floor:,.0f} packets per CPU-second)")
        print(f"{'algorithm':<26} {'us/packet':>10} {'packets/CPU-s':>14} {'ratio to clear':>15}")
        for name, algorithms in ALGORITHMS.items():
            cost = min(measure(algorithms, args.packets, size)[0] for _ in range(3))
            print(f"{name:<26} {cost * 1e6:>10.2f} {1 / cost:>14,.0f} {cost / floor:>15.2f}")
            if name.startswith("aes-gcm-16"):
                core = esp_core(size, args.packets)
                gcm_share = (cost - floor - core) * 1e6
        print(f"aes-gcm-16: ESP core {core * 1e6:.2f} us, kernel share {gcm_share:.2f} us per packet")


if __name__ == "__main__":
    main()
