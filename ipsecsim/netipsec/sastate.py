"""The SA state machine: every state change of an SA in the SAD is a row of this table. [S7.6] [S7.7]

As h11's ``_state.py``, everything that moves an SA from one state to another lives
here: the SAD (:mod:`.sad`) names the event (``key_add``, ``key_update``, a lifetime
passing in ``key_flush_sad``, a delete or flush) and takes the state this table gives;
an event the table has no row for is a :class:`SaStateError`, a bug in the key engine.

``None`` is an SA not yet in the SAD. FreeBSD also creates LARVAL SAs (``key_getspi``,
an SPI reserved for an IKE daemon); ipsecsim has no SADB_GETSPI, so nothing enters
LARVAL yet, but the SAD handles larval SAs as key.c does and the rows are here.
"""

from __future__ import annotations

from enum import StrEnum

from .enums import SaState

__all__ = ["SaEvent", "SaStateError", "TRANSITIONS", "next_state"]


class SaEvent(StrEnum):
    """What happens to an SA (the key.c function that does it)."""

    ADD = "add"  # key_add: a new SA with its keys
    UPDATE = "update"  # key_update: keys for a larval SA, new lifetimes for an alive one
    SOFT_EXPIRE = "soft expire"  # key_flush_sad: soft lifetime or 80 % of the sequence space
    HARD_EXPIRE = "hard expire"  # key_flush_sad: hard lifetime
    LARVAL_EXPIRE = "larval expire"  # key_flush_sad: larval longer than net.key.larval_lifetime
    DELETE = "delete"  # key_delete, key_delete_all, key_flush


TRANSITIONS: dict[SaState | None, dict[SaEvent, SaState]] = {
    None: {SaEvent.ADD: SaState.MATURE},
    SaState.LARVAL: {
        SaEvent.UPDATE: SaState.MATURE,
        SaEvent.LARVAL_EXPIRE: SaState.DEAD,
        SaEvent.DELETE: SaState.DEAD,
    },
    SaState.MATURE: {
        SaEvent.UPDATE: SaState.MATURE,
        SaEvent.SOFT_EXPIRE: SaState.DYING,
        SaEvent.HARD_EXPIRE: SaState.DEAD,
        SaEvent.DELETE: SaState.DEAD,
    },
    SaState.DYING: {
        SaEvent.UPDATE: SaState.MATURE,  # new lifetimes: key_update makes it MATURE again
        SaEvent.HARD_EXPIRE: SaState.DEAD,
        SaEvent.DELETE: SaState.DEAD,
    },
    SaState.DEAD: {},  # unlinked: nothing happens to it any more
}


class SaStateError(Exception):
    """An event the table has no row for in the SA's state: a key engine bug, not a user error."""

    def __init__(self, state: SaState | None, event: SaEvent):
        super().__init__(f"can't handle event {event.value!r} in SA state {state}")
        self.state, self.event = state, event


def next_state(state: SaState | None, event: SaEvent) -> SaState:
    """The state an SA in ``state`` goes to on ``event``; :class:`SaStateError` if there is none."""
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise SaStateError(state, event) from None
