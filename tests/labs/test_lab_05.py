"""Lab 05 (letting the IKE daemon key the tunnel): each exercise's check accepts the right answer.

The solutions are worked out as a student would, from the scenarios' cable and swanctl.conf
lifetimes and from RFC 7296's exchanges, not read back from the simulation; the checking cells
compare them with what the simulation did. Run in a real kernel from the notebooks folder.
"""

import re
import shutil

from tests.labs.runner import REPO, run_notebook

LAB = REPO / "notebooks" / "05_ike.ipynb"

DELAY = 0.001  # the cable's one-way delay in both scenarios
# IKE_SA_INIT and IKE_AUTH: two requests and two responses, each crossing the cable once; the
# few microseconds of serialisation at 100 Mbit/s are within the check's 5%.
ESTABLISH = 4 * DELAY
INTERVAL = 0.001  # ping -i 0.001 -c 10
# The echo requests sent at 0, 1, ... ms until the CHILD_SA is in: the one sent at 4 ms still
# finds none, as the last response also spends time on the wire.
DROPPED = sum(1 for k in range(10) if k * INTERVAL <= ESTABLISH)

# lab05_rekey.yaml: A's child has rekey_time = 5s and rand_time = 0s; the key engine fires at
# the first whole-second check more than 5 s after an SA was added. The first CHILD_SA is up a
# few ms after 0 s and each new one a few ms after the check that rekeyed the old, so each lives
# until the check rekey_time + 1 s later, within the scenario's 20 s.
REKEY_TIME, DURATION = 5, 20
REKEYS = len(range(REKEY_TIME + 1, DURATION, REKEY_TIME + 1))

SOLUTIONS = {
    "Exercise 1": str(DROPPED),
    "Exercise 2": repr(ESTABLISH * 1000),
    "Exercise 3": str(REKEYS),
    "Exercise 4": '"AUTHENTICATION_FAILED"',  # RFC 7296 2.21.2: B cannot verify A's AUTH
}


def test_lab_05_accepts_the_solutions():
    lines = run_notebook(LAB, SOLUTIONS)
    printed = "\n".join(lines)
    verdicts = re.findall(r"^(Exercise \d): (\w+)", printed, re.M)
    assert verdicts == [(label, "correct") for label in SOLUTIONS], printed
    # The story the lab tells: one ACQUIRE, two exchanges; rekeyings with new SPIs and no loss.
    assert "A dropped: {'ips_out_nosa': 1}" in lines
    exchanges = [line.split()[5:7] for line in lines if re.match(r"\s*[\d.]+ ms  [AB] -> [AB]", line)]
    assert exchanges[:4] == [["IKE_SA_INIT", "request"], ["IKE_SA_INIT", "response"],
                             ["IKE_AUTH", "request"], ["IKE_AUTH", "response"]]
    if shutil.which("tshark"):  # Wireshark's dissector, an oracle independent of ipsecsim's parser
        assert [re.search(r"(IKE_\w+) MID=\d+ \w+ (\w+)", line).groups() for line in lines
                if "ISAKMP" in line] == [("IKE_SA_INIT", "Request"), ("IKE_SA_INIT", "Response"),
                                         ("IKE_AUTH", "Request"), ("IKE_AUTH", "Response")]
    else:
        assert any(line.startswith("tshark is not installed") for line in lines)
    assert sum(line.startswith("SPI 0x") for line in lines) == REKEYS + 1
    assert sum("CREATE_CHILD_SA request" in line for line in lines) == REKEYS
    assert any(re.match(r"stream: (\d+) datagrams sent, \1 received, loss 0\.0%", line) for line in lines)
    assert "received AUTHENTICATION_FAILED notify error" in printed
    assert "verification of AUTH payload of 'a.example.org' with pre-shared key failed" in printed

