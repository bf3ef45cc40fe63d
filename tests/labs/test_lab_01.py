"""Lab 01 (the if_ipsec(4) example step by step): each exercise's check accepts the right answer.

The solutions are worked out as a student would, from RFC 4303's layout and the commands the
lab types, not read back from the simulation; the checking cells compare them with what the
simulation did. Run in a real kernel from the notebooks folder, as a student runs the lab.
"""

import shutil

from tests.labs.runner import NOTEBOOKS, run_notebook

LAB = NOTEBOOKS / "01_first_tunnel.ipynb"
INNER = 20 + 8 + 56  # an echo request: IP header, ICMP header, ping's 56 data bytes
PADDING = -(INNER + 2) % 16  # AES's block; the pad length and next header bytes are encrypted too

SOLUTIONS = {
    "Exercise 1": f"20 + 4 + 4 + 16 + {INNER + PADDING + 2}",  # outer IP, SPI, seq, IV, ciphertext
    "Exercise 2": str(PADDING),
    "Exercise 3": "3",  # the SA's third packet: nothing else used SPI 10000
    "Exercise 4": "200",  # B's ipsec0 was created with reqid 200, and its SAs were added with -u 200
}


def test_lab_01_accepts_the_solutions_and_shows_the_packet():
    lines = run_notebook(LAB, SOLUTIONS)
    checks = [line for line in lines if line.startswith("Exercise ")]
    assert checks == [f"{label}: correct ({eval(expression)!r})." for label, expression in SOLUTIONS.items()]
    assert "inside the tunnel: 84 bytes;  on the cable: 140 bytes" in lines
    assert "True True" in lines  # the hand-made decryption and the kernel's agree with the capture
    if shutil.which("tshark"):
        assert any("ESP (SPI=0x00002710)" in line for line in lines)  # without the keys
        assert sum("Echo (ping) request" in line for line in lines) == 3  # with them
    else:
        assert any(line.startswith("tshark is not installed") for line in lines)
    assert not any("failed" in line for line in lines)

