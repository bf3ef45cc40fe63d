"""Lab 03 (algorithms, overhead, tampering, anti-replay): each exercise's check accepts the right answer.

The solutions are worked out from RFC 4303's layout, RFC 4106's 8-byte IV and 16-byte ICV and
FreeBSD's esp_input (the ICV is checked before anything is decrypted), not read back from the
simulation.
"""

from tests.labs.runner import NOTEBOOKS, run_notebook

LAB = NOTEBOOKS / "03_crypto_choices.ipynb"


def esp_overhead(inner: int, iv: int, block: int, icv: int) -> int:
    """Outer IPv4 header, SPI and sequence number, IV, padding and its two trailer bytes, ICV."""
    return 20 + 8 + iv + (-(inner + 2) % block) + 2 + icv


SOLUTIONS = {
    "Exercise 1": str(esp_overhead(128, iv=8, block=4, icv=16)),
    "Exercise 2": repr(min([("rijndael-cbc", esp_overhead(1028, 16, 16, 0)),
                            ("rijndael-cbc + hmac-sha2-256", esp_overhead(1028, 16, 16, 16)),
                            ("aes-gcm-16", esp_overhead(1028, 8, 4, 16)),
                            ("null + hmac-sha2-256", esp_overhead(1028, 0, 4, 16))], key=lambda c: c[1])[0]),
    "Exercise 3": "'esps_badauth'",
    "Exercise 4": "2",  # the echo reply, and the reply to the accepted copy
}


def test_lab_03_accepts_the_solutions_and_shows_what_each_sa_refuses():
    lines = run_notebook(LAB, SOLUTIONS)
    checks = [line for line in lines if line.startswith("Exercise ")]
    assert checks == [f"{label}: correct ({eval(expression)!r})." for label, expression in SOLUTIONS.items()]
    # Without an ICV the changed TTL reaches IP, whose header checksum catches it this time.
    assert "{'bad IPv4 header checksum': 1}" in lines
    assert "{'esps_badauth': 1}" in lines and "{'esps_replay': 1}" in lines
