"""What the kernel needs from time: the current simulated time and timers.

The kernel never imports simpy; ``world`` supplies an object with this shape, and
tests use :class:`ManualClock`. Times are float seconds.
"""

from heapq import heappop, heappush
from itertools import count
from typing import Any, Callable, Protocol

__all__ = ["Clock", "Timer", "ManualClock"]


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    @property
    def now(self) -> float: ...

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer: ...


class _ManualTimer:
    __slots__ = ("fn", "args", "cancelled")

    def __init__(self, fn, args):
        self.fn, self.args, self.cancelled = fn, args, False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A heap of timers advanced by hand, for unit tests of sans-IO code."""

    def __init__(self, now: float = 0.0):
        self._now = now
        self._heap: list = []
        self._seq = count()

    @property
    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, fn, *args) -> _ManualTimer:
        timer = _ManualTimer(fn, args)
        heappush(self._heap, (self._now + delay, next(self._seq), timer))
        return timer

    def advance(self, until: float) -> None:
        """Run every timer due at or before ``until``, in time order, then set now = until."""
        while self._heap and self._heap[0][0] <= until:
            when, _, timer = heappop(self._heap)
            self._now = when
            if not timer.cancelled:
                timer.fn(*timer.args)
        self._now = max(self._now, until)
