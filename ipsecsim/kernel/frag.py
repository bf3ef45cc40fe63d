"""Fragment reassembly queues (ip_reass.c / frag6.c), with a timeout on the host's clock."""

from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

__all__ = ["Reassembler"]


@dataclass(slots=True)
class _Queue:
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> data
    total: int | None = None  # known once the last fragment (MF clear) arrived
    first: Any = None  # the offset-0 fragment's context (header), needed to rebuild
    fragments: list[bytes] = field(default_factory=list)  # every fragment as it came, for drop events
    timer: Any = None


class Reassembler:
    """Collects fragments per key until the datagram is whole.

    ``add`` returns ``(first_context, payload)`` when complete, else None. On
    timeout, ``on_timeout(key, first_context, fragments)`` is called with the
    fragments that came, as they came (ip_reass.c frees each of them).
    """

    def __init__(self, clock, ttl: Callable[[], float], max_fragments: Callable[[], int],
                 on_timeout: Callable[[Hashable, Any, list[bytes]], None]):
        self._clock = clock
        self._ttl = ttl
        self._max = max_fragments
        self._on_timeout = on_timeout
        self._queues: dict[Hashable, _Queue] = {}

    def __len__(self) -> int:
        return len(self._queues)

    def pending(self) -> list[list[bytes]]:
        """The fragments of each datagram still incomplete, as they came (for the run's accounting)."""
        return [queue.fragments for queue in self._queues.values()]

    def flush(self) -> list[list[bytes]]:
        """Give up every incomplete datagram now (the host stops); returns their fragments."""
        flushed = self.pending()
        for key in list(self._queues):
            self._discard(key)
        return flushed

    def add(self, key: Hashable, offset: int, more: bool, data: bytes, context: Any, fragment: bytes):
        """Add one fragment (``data``, its payload at ``offset``; ``fragment``, the whole packet).

        Returns (first_context, payload), None (incomplete) or "dropped".
        """
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue()
            queue.timer = self._clock.call_later(self._ttl(), self._expire, key)
        queue.fragments.append(fragment)
        limit = self._max()
        if limit and len(queue.fragments) > limit:
            self._discard(key)
            return "dropped"
        queue.pieces[offset] = data
        if offset == 0:
            queue.first = context
        if not more:
            queue.total = offset + len(data)
        if queue.total is None or queue.first is None:
            return None
        assembled = bytearray()
        for start in sorted(queue.pieces):
            piece = queue.pieces[start]
            if start > len(assembled):
                return None  # a hole
            assembled[start:start + len(piece)] = piece  # later copies overwrite overlaps
        if len(assembled) < queue.total:
            return None
        self._discard(key)
        return queue.first, bytes(assembled[: queue.total])

    def _discard(self, key: Hashable) -> None:
        queue = self._queues.pop(key)
        queue.timer.cancel()

    def _expire(self, key: Hashable) -> None:
        queue = self._queues.pop(key, None)
        if queue is not None:
            self._on_timeout(key, queue.first, queue.fragments)
