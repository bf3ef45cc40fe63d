"""The 32-bit sequence number wraps on a tunnel: ``-f nocyclic-seq`` against setkey's default
(``SADB_X_EXT_CYCSEQ``), with and without a receiver window. [S6.6] [S7.5]

Sender, sys/netipsec/xform_esp.c esp_output(): ``sav->replay->count++`` and the low 32 bits
go on the wire, whatever the SA's flags. CYCSEQ is not tested on the ESP output path (only
xform_ah.c ah_output() refuses to wrap, with ahs_wrap and EACCES), the SA's state does not
change, and nothing is counted: after 0xffffffff the sender sends 0, 1, 2, ...

Receiver, sys/netipsec/ipsec.c ipsec_chkreplay() (run by esp_input() only for an SA with
authentication and a window): when the highest sequence number seen is 0xffffffff on a
non-ESN SA, a packet in the next subspace counts ``esps_wrap`` and is dropped unless the SA
has CYCSEQ (esp_input() then counts ``esps_replay`` too); with CYCSEQ it passes the early
check and ipsec_updatereplay() refuses it (non-ESN, outside the window): ``esps_replay``.
A window of 0 checks nothing: every packet is delivered. The key engine does mark the SA
DYING once the counter passes 80 % of 2^32 (key.c key_flush_sad, [S7.6]); that needs a
lifetime on the SA and is not what this file tests.
"""

from __future__ import annotations

import pytest

from .helpers import B_IN, Bench, manpage_host, scenario_yaml

GCM_AB = '-E aes-gcm-16 "0123456789abcdefghij"'
GCM_BA = '-E aes-gcm-16 "abcdefghij0123456789"'
SPI_AB = 10000  # A's outbound, B's inbound


def bench(flags: str, window: int) -> Bench:
    hosts = {}
    for side, reqid in (("A", 100), ("B", 200)):
        ext = f"-m tunnel -u {reqid} -r {window} {flags}".strip()
        hosts[side] = manpage_host(side, sa_ext=ext, alg_ab=GCM_AB, alg_ba=GCM_BA)
    b = Bench(scenario_yaml(hosts))
    b.run(0.5)
    assert b.result().command_errors == []
    # As if 2^32 - 2 packets had gone by: the next one carries 0xffffffff.
    b.sa("A", SPI_AB).replay.count = 2**32 - 2
    b.sa("B", SPI_AB).replay.last = 2**32 - 2
    return b


@pytest.mark.parametrize("flags", ["", "-f nocyclic-seq"])
def test_sender_wraps_whatever_the_flags(flags):
    b = bench(flags, 0)
    tapped = b.tap("A", "em0")
    b.ping("A", f"-c 3 {B_IN}")
    seqs = [int.from_bytes(t.pkt[24:28], "big") for t in tapped if t.outbound]
    assert seqs == [0xFFFFFFFF, 0, 1]
    sa = b.sa("A", SPI_AB)
    assert sa.replay.count == 2**32 + 1 and sa.current.allocations == 3
    assert b.espstat("A").esps_wrap == 0 and "esps_wrap" not in b.drops("A")


@pytest.mark.parametrize("flags,received,counters", [
    ("", 1, {"esps_replay": 2}),
    ("-f nocyclic-seq", 1, {"esps_wrap": 2, "esps_replay": 2}),
])  # fmt: skip
def test_receiver_with_a_window(flags, received, counters):
    b = bench(flags, 4)
    lines = b.ping("A", f"-c 3 {B_IN}")
    assert f"3 packets transmitted, {received} packets received" in "\n".join(lines)
    st = b.espstat("B")
    assert {k: getattr(st, k) for k in ("esps_wrap", "esps_replay")} == {"esps_wrap": 0, **counters}
    # The drop carries esp_input's first counter as its reason.
    reason = "esps_wrap" if flags else "esps_replay"
    assert b.drops("B")[reason] == 2
    assert b.sa("B", SPI_AB).replay.overflow == 2


@pytest.mark.parametrize("flags", ["", "-f nocyclic-seq"])
def test_receiver_without_a_window_takes_everything(flags):
    b = bench(flags, 0)
    lines = b.ping("A", f"-c 3 {B_IN}")
    assert "3 packets transmitted, 3 packets received" in "\n".join(lines)
    st = b.espstat("B")
    assert (st.esps_wrap, st.esps_replay) == (0, 0)
