"""The flow sink's sliding window: exact duplicate and reordering counts within the window, a
late original past it, and memory that does not grow with the packets received."""

import random
import tracemalloc

from hypothesis import given, strategies as st

from ipsecsim.kernel import Host
from ipsecsim.kernel.clock import ManualClock
from ipsecsim.userland._seqwindow import DUPLICATE, IN_ORDER, LATE, REORDERED, WINDOW, SeqWindow
from ipsecsim.userland.udpflow import FlowStats, UdpSink


def remember_everything(seqs):
    """The sink's counts when it kept every sequence number (its behaviour before the window)."""
    seen, highest, verdicts = set(), -1, []
    for seq in seqs:
        if seq in seen:
            verdicts.append(DUPLICATE)
            continue
        seen.add(seq)
        verdicts.append(REORDERED if seq < highest else IN_ORDER)
        highest = max(highest, seq)
    return verdicts


def marks(seqs):
    window = SeqWindow()
    return [window.mark(seq) for seq in seqs]


def shuffled_flow(rng: random.Random, count: int, spread: int, lost: float, repeated: float) -> list[int]:
    """Sequence numbers 0..count-1 with some lost, some sent twice, each delayed by up to ``spread``."""
    arrivals = []
    for seq in range(count):
        if rng.random() < lost:
            continue
        arrivals.append((seq + rng.uniform(0, spread), seq))
        if rng.random() < repeated:
            arrivals.append((seq + rng.uniform(0, spread), seq))
    return [seq for _, seq in sorted(arrivals)]


def test_counts_match_remembering_everything_when_displacement_stays_in_the_window():
    rng = random.Random(9)
    for spread in (0, 3, 50, WINDOW // 2):
        seqs = shuffled_flow(rng, 20_000, spread, lost=0.05, repeated=0.02)
        assert marks(seqs) == remember_everything(seqs)


@given(st.lists(st.integers(0, 3 * WINDOW), max_size=200))
def test_any_sequence_within_reach_of_the_window_counts_as_before(seqs):
    """Whatever the order, a number no more than WINDOW below the highest is judged exactly."""
    window, highest = SeqWindow(), -1
    for seq, expected in zip(seqs, remember_everything(seqs)):
        verdict = window.mark(seq)
        if seq > highest - WINDOW:
            assert verdict == expected
        highest = max(highest, seq)


def test_a_datagram_older_than_the_window_is_a_late_original():
    window = SeqWindow()
    assert window.mark(WINDOW) == IN_ORDER
    assert window.mark(1) == REORDERED  # WINDOW - 1 below the top: still remembered
    assert window.mark(1) == DUPLICATE
    assert window.mark(0) == LATE  # WINDOW below the top: forgotten, taken as new
    assert window.mark(0) == LATE  # and a second copy cannot be told apart either


def test_the_window_forgets_what_it_slid_past():
    """A jump of more than the window clears it: nothing from before counts as seen."""
    window = SeqWindow()
    for seq in range(100):
        window.mark(seq)
    assert window.mark(10 * WINDOW) == IN_ORDER
    assert window.mark(10 * WINDOW - 5) == REORDERED
    assert window.mark(9 * WINDOW + 50) == REORDERED  # its slot held 50 once; cleared by the slide


def sink():
    host = Host("B", clock=ManualClock(), rng=random.Random(1))
    stats = FlowStats("f")
    return UdpSink(host, 9, stats, flow_id=1), stats


def test_the_sink_counts_a_late_original_as_received_and_reordered():
    """0 and 1 come again once WINDOW + 1 arrived: both are past the window, so they count as
    received and reordered, not as the duplicates they are; WINDOW + 1 again is a duplicate."""
    receiver, stats = sink()
    for seq in (0, 1, WINDOW + 1, 0, 1, WINDOW + 1):
        receiver.receive(seq, 0, 100)
    assert (stats.received, stats.reordered, stats.duplicates) == (5, 2, 1)


def test_memory_stays_flat_over_a_long_flow():
    """10^5 datagrams with losses, reordering and repeats: the sink allocates nothing that stays
    (a record of every sequence number took ~66 bytes a packet, 6.6 MB here)."""
    receiver, stats = sink()
    seqs = shuffled_flow(random.Random(5), 100_000, spread=40, lost=0.01, repeated=0.01)
    receiver.receive(0, 0, 100)  # the first datagram sets up the per-flow state
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for seq in seqs:
            receiver.receive(seq, 0, 100)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert stats.received > 98_000 and stats.duplicates > 900 and stats.reordered > 1000
    assert grown < 4096
