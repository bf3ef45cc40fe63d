"""The simulation clock: simpy's event queue, seeded RNG streams, an event counter.

Kernel and userland code only see ``now`` and ``call_later``; here those become
simpy events. A timer is one slotted object scheduled straight onto simpy's
heap (no process, no generator), the cheapest thing simpy can run.
"""

from collections.abc import Callable
import hashlib
import random

import simpy
from simpy.events import NORMAL

__all__ = ["Engine"]


class _Timer:
    """A scheduled call that simpy's ``step`` runs like an event's callback."""

    __slots__ = ("callbacks", "fn", "args", "cancelled")
    _ok = True  # simpy checks this after running the callbacks
    _value = None

    def __init__(self, fn: Callable[..., object], args: tuple) -> None:
        # simpy sets callbacks to None once they have run
        self.callbacks: list[Callable[[object], None]] | None = [self._fire]
        self.fn = fn
        self.args = args
        self.cancelled = False

    def _fire(self, _event) -> None:
        if not self.cancelled:
            self.fn(*self.args)

    def cancel(self) -> None:
        self.cancelled = True


class Engine:
    """Simulated time for one run. ``seed`` drives every random stream of the run."""

    def __init__(self, seed: int = 1):
        self.seed = seed
        self.env = simpy.Environment()
        self.scheduled = 0  # scheduler events so far: a deterministic cost measure

    @property
    def now(self) -> float:
        return self.env._now

    def call_later(self, delay: float, fn, *args) -> _Timer:
        timer = _Timer(fn, args)
        self.scheduled += 1
        self.env.schedule(timer, NORMAL, delay)  # type: ignore[arg-type]  # duck-typed: callbacks, _ok, _value
        return timer

    def schedule_event(self, event, delay: float) -> None:
        """Schedule a pre-built event object (``callbacks``, ``_ok``) on the hot path."""
        self.scheduled += 1
        self.env.schedule(event, NORMAL, delay)

    def call_at(self, when: float, fn, *args) -> _Timer:
        return self.call_later(max(0.0, when - self.env._now), fn, *args)

    def rng(self, *names: str) -> random.Random:
        """An independent stream for one entity, e.g. ``rng("link", "A:em0-R:em0")``.

        Derived from the seed and the names with SHA-256 (not ``hash()``, which
        Python randomises per process), so streams do not shift when entities
        are added or removed.
        """
        digest = hashlib.sha256(repr((self.seed, names)).encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def run(self, until: float) -> None:
        if until > self.env._now:
            self.env.run(until=until)
