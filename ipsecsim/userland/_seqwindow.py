"""Which recent sequence numbers of a flow arrived: a fixed-size sliding window.

The UDP flow sink needs to tell a duplicate from a reordered datagram. Remembering every
sequence number costs memory per packet for the whole run (about 66 bytes each in a set);
this window remembers only the :data:`WINDOW` numbers up to the highest one seen, as
FreeBSD's anti-replay check remembers an SA's (``ipsec_chkreplay``/``ipsec_updatereplay``).
FreeBSD keeps one bit per number; here it is one byte per number in a ring (16 KiB a flow,
whatever the length of the run), because a byte is set and tested without the shifts and
masks that made a bit per number cost ~70 ns more per datagram in Python.

A datagram more than :data:`WINDOW` - 1 below the highest number seen is older than the
window and cannot be told from a duplicate any more. It is taken as a late original,
:data:`LATE`, which the sink counts as received and reordered: in the simulator a datagram is
only ever repeated on purpose, while a long queue or jitter holding one back behind sixteen
thousand others is merely unusual. FreeBSD's replay check takes the other side (it drops such
a packet) because for ESP a repeat is an attack.

Sequence numbers are 32 bits in the stamp; a run sends at most 10^8 datagrams in all, so a
flow never wraps and the window needs no extended (ESN-style) numbering.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["SeqWindow", "WINDOW", "IN_ORDER", "REORDERED", "LATE", "DUPLICATE"]

WINDOW = 1 << 14  # sequence numbers remembered, the highest included: a power of two
_MASK = WINDOW - 1
_ZEROS = bytes(WINDOW)

IN_ORDER, REORDERED, LATE, DUPLICATE = 0, 1, 2, 3  # what mark() says about one sequence number


class SeqWindow:
    """The highest sequence number seen and which of the :data:`WINDOW` up to it arrived.

    Number ``n`` has slot ``n % WINDOW``; the slot is 1 when ``n`` arrived. As the top moves
    up, the slots it passes are cleared: they now stand for numbers not seen yet.
    """

    __slots__ = ("top", "seen", "on_skip")

    def __init__(self, on_skip: Callable[[int, int], None] | None = None) -> None:
        self.top = -1  # nothing seen yet
        self.seen = bytearray(WINDOW)
        # Told (start, stop) when numbers start .. stop - 1 are jumped over: only gaps pay for it.
        self.on_skip = on_skip

    def mark(self, seq: int) -> int:
        """Record ``seq``: :data:`IN_ORDER` when it is the highest yet, :data:`REORDERED` when it
        is new but below the highest (within the window), :data:`LATE` when it is older than the
        window, :data:`DUPLICATE` when it was already seen (within the window)."""
        top = self.top
        if seq > top:
            if seq != top + 1:
                self._skip(top + 1, seq)
            self.seen[seq & _MASK] = 1
            self.top = seq
            return IN_ORDER
        if seq <= top - WINDOW:
            return LATE
        seen = self.seen
        if seen[seq & _MASK]:
            return DUPLICATE
        seen[seq & _MASK] = 1
        return REORDERED

    def _skip(self, start: int, stop: int) -> None:
        """Numbers ``start`` .. ``stop`` - 1 were jumped over (lost, or late): not seen yet."""
        if self.on_skip is not None:
            self.on_skip(start, stop)
        seen = self.seen
        if stop - start >= WINDOW:
            seen[:] = _ZEROS
            return
        first, end = start & _MASK, stop & _MASK
        if first < end:
            seen[first:end] = _ZEROS[: end - first]
        else:  # the run wraps round the ring
            seen[first:] = _ZEROS[: WINDOW - first]
            seen[:end] = _ZEROS[:end]
