"""Lab 06 (what-if routing): the solutions pass every exercise's check.

The notebook computes each expected value from the simulation; these tests make sure the
right answers are accepted, and hold the lab's story to what OSPF's timers imply: the outage
after the cut lies between the dead interval minus a Hello interval and the dead interval,
and the sweep's goodput at the loss the answer names is below the threshold while the loss
before it is not.
"""

import re
from pathlib import Path

from tests.labs.runner import run_notebook

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "notebooks" / "06_what_if_routing.ipynb"

# The backup tunnel; the outage (between dead - hello = 3 s and dead = 4 s); the dead
# interval; the first loss of the sweep under 0.92 Mbit/s (10% loss leaves 0.90).
SOLUTIONS = {"Exercise 1": '"ipsec1"', "Exercise 2": '3.02', "Exercise 3": '4', "Exercise 4": '"10%"'}


def test_the_solutions_are_correct():
    printed = "\n".join(run_notebook(LAB, SOLUTIONS))
    verdicts = re.findall(r"^(Exercise \d): (\w+)", printed, re.M)
    assert verdicts == [(f"Exercise {n}", "correct") for n in (1, 2, 3, 4)], printed
    # What-if's prediction is the path the packets took after the cut.
    assert re.search(r"^sites +moved +pcA:em0 A:ipsec0 B:em2 \(cost 11\) +-> +pcA:em0 A:ipsec1 B:em2 \(cost 101\)",
                     printed, re.M), printed
    outage = re.search(r"\{'flow': 'sites', 'kind': 'udp', 'start': ([\d.]+), 'end': [\d.]+, 'duration': ([\d.]+)",
                       printed)
    assert outage and 11.9 < float(outage.group(1)) < 12.1 and 3 <= float(outage.group(2)) <= 4.1, printed
    goodput = dict(re.findall(r"^loss +(\d+%): goodput ([\d.]+) Mbit/s", printed, re.M))
    assert list(goodput) == ["0%", "5%", "10%", "50%"], printed
    assert float(goodput["5%"]) >= 0.92 > float(goodput["10%"])
