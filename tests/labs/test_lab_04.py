"""Lab 04 (MTU and fragmentation): the solutions pass every exercise's check.

The expected values are computed by the notebook from the simulation; these tests make sure
the right answers are accepted and that the MTU the third exercise
accepts really is the boundary (ping with DF through a tunnel of that MTU, and one byte less).
"""

import re
from pathlib import Path

import ipsecsim

from tests.labs.runner import run_notebook

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "notebooks" / "04_mtu_and_fragmentation.ipynb"
SCENARIO = ROOT / "scenarios" / "labs" / "lab04_mtu.yaml"

# 1400 - 8 (ICMP) - 20 (IP); ceil((5000 + 8) / 1376); 2000 + 8 (UDP) + 20 (IP).
SOLUTIONS = {"Exercise 1": '1372', "Exercise 2": '4', "Exercise 3": '2028'}


def test_the_solutions_are_correct():
    printed = "\n".join(run_notebook(LAB, SOLUTIONS))
    verdicts = re.findall(r"^(Exercise \d): (\w+)", printed, re.M)
    assert verdicts == [("Exercise 1", "correct"), ("Exercise 2", "correct"), ("Exercise 3", "correct")], printed
    assert "frag needed and DF set (MTU 1400)" in printed
    assert "ping: sendto: Message too long" in printed


def test_the_mtu_of_exercise_3_is_the_boundary():
    # ICMP's header is as long as UDP's: a ping of 2000 data bytes is the flow's datagram.
    sim = ipsecsim.load(SCENARIO, traffic=False)
    pc, gateway = sim.host("pcA"), sim.host("A")
    gateway.sh("ifconfig ipsec0 mtu 2028")
    assert "bytes from 172.16.0.5" in pc.sh("ping -c 1 -D -s 2000 172.16.0.5")
    gateway.sh("ifconfig ipsec0 mtu 2027")
    assert "frag needed and DF set (MTU 2027)" in pc.sh("ping -c 1 -D -s 2000 172.16.0.5")
