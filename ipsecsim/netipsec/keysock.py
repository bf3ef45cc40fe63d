"""The key engine's PF_KEY sockets: who gets which message, as ``keysock.c`` decides. [S8.2]

Listeners (IKE daemons, ``setkey -x``) get :class:`~.pfkey.PfkeyMessage` as
``key_sendup_mbuf`` sends them: to the requester, to all, or to registered sockets
only (ACQUIRE, EXPIRE); a promiscuous socket gets a copy of everything, and a
second one of what is broadcast to it anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from .keyclock import KeyClock
from .pfkey import PfkeyMessage

__all__ = ["KeySocket", "SendTo"]


class SendTo(StrEnum):
    """``KEY_SENDUP_ONE``, ``KEY_SENDUP_ALL``, ``KEY_SENDUP_REGISTERED``."""

    ONE = "one"  # the requester (not modelled: only promiscuous copies are seen)
    ALL = "all"
    REGISTERED = "registered"


@dataclass(slots=True)
class _Listener:
    deliver: Callable[[PfkeyMessage], None]
    registered: bool
    promiscuous: bool


class KeySocket:
    """The open PF_KEY sockets of one host; messages are stamped with ``clock.now``."""

    def __init__(self, clock: KeyClock):
        self._clock = clock
        self._listeners: list[_Listener] = []

    def send(self, type_: str, satype: str, fields: dict, *, to: SendTo,
             seq: int = 0, pid: int = 0, reserved: int = 0) -> None:  # fmt: skip
        """``key_sendup_mbuf`` of one message built from these header values and extensions."""
        if self._listeners:
            self.sendup(PfkeyMessage(type_, satype, seq, pid, self._clock.now, fields, reserved), to)

    def sendup(self, msg: PfkeyMessage, to: SendTo) -> None:
        for listener in list(self._listeners):
            if listener.promiscuous:
                listener.deliver(msg)
            if to is SendTo.ALL or (to is SendTo.REGISTERED and listener.registered):
                listener.deliver(msg)

    def promiscuous(self) -> bool:
        """Whether any socket is promiscuous (only those see replies to other sockets)."""
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
