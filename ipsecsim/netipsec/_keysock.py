"""The key engine's PF_KEY sockets: who gets which message, as ``keysock.c`` decides. [S8.2]

Broadcasts, registered-only messages (ACQUIRE, EXPIRE), and every message twice
to promiscuous listeners when broadcast. Mixed into :class:`~.keydb.KeyDB`,
whose ``__init__`` makes ``_listeners`` and ``_now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .pfkey import PfkeyMessage

__all__ = ["KeysockMixin"]


@dataclass(slots=True)
class _Listener:
    deliver: Callable[[PfkeyMessage], None]
    registered: bool
    promiscuous: bool


class KeysockMixin:
    """PF_KEY messages and the listeners they go up to (``key_sendup_mbuf``)."""

    def _msg(self, type_: str, satype: str, fields_: dict, *, seq: int = 0, pid: int = 0, reserved: int = 0):
        return PfkeyMessage(type_, satype, seq, pid, self._now, fields_, reserved)

    def _sendup(self, msg: PfkeyMessage, target: str) -> None:
        """``key_sendup_mbuf``: target "one" (the requester), "all" or "registered". [S8.2]

        A promiscuous listener gets a copy of everything, and a second one of what
        is broadcast to it anyway, as keysock.c does.
        """
        for listener in list(self._listeners):
            if listener.promiscuous:
                listener.deliver(msg)
            if target == "all" or (target == "registered" and listener.registered):
                listener.deliver(msg)

    def _promiscuous(self) -> bool:
        return any(listener.promiscuous for listener in self._listeners)

    def subscribe(
        self,
        listener: Callable[[PfkeyMessage], None],
        *,
        satypes: tuple[str, ...] = ("esp",),
        promiscuous: bool = False,
    ) -> Callable[[], None]:
        """Open a PF_KEY socket: ``SADB_REGISTER`` for ``satypes`` (none: not registered),
        ``SADB_X_PROMISC`` with ``promiscuous``. Returns the function that closes it.

        FreeBSD sends registered-only messages (ACQUIRE, EXPIRE) to every
        registered socket whatever satype it registered for (``kp_registered``).
        """
        entry = _Listener(listener, bool(satypes), promiscuous)
        self._listeners.append(entry)

        def unsubscribe() -> None:
            if entry in self._listeners:
                self._listeners.remove(entry)

        return unsubscribe
