"""Lab 02 (policies, reqid, SAs without -u, ACQUIRE): each exercise's check accepts the right answer.

The solutions come from what the lab types (the reqids, the ping counts) and from if_ipsec(4)
(a policy per direction and address family), not from the simulation's own numbers.
"""

from tests.labs.runner import NOTEBOOKS, run_notebook

LAB = NOTEBOOKS / "02_reqid_and_policies.ipynb"

SOLUTIONS = {
    "Exercise 1": "2 * 2",  # in and out, IPv4 and IPv6
    "Exercise 2": "100",  # ifconfig ipsec0 create reqid 100
    "Exercise 3": "3",  # ping -c 3, every request dropped
    "Exercise 4": "3",  # ping -c 3 after the fix, on the SA added then
}


def test_lab_02_accepts_the_solutions_and_tells_the_story():
    lines = run_notebook(LAB, SOLUTIONS)
    checks = [line for line in lines if line.startswith("Exercise ")]
    assert checks == [f"{label}: correct ({eval(expression)!r})." for label, expression in SOLUTIONS.items()]
    assert any("type=6(ACQUIRE)" in line for line in lines)  # setkey -x saw the kernel ask
    assert any("sadb_x_sa2{ mode=2 reqid=100" in line for line in lines)
    assert any(line.endswith('but the SAD had spi 10000 with reqid 0; add it with "-u 100"') for line in lines)
    assert "3 packets transmitted, 3 packets received, 0.0% packet loss" in lines  # the fix works
