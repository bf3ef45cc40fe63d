"""PF_KEY's numbers (sys/net/pfkeyv2.h), the key engine's errors and :class:`PfkeyMessage`. [S8.2]

See :mod:`.pfkey` for the extensions a message's ``fields`` holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .enums import Direction, Level, Mode, SaState
from .errnos import STRERROR, KernelError

__all__ = [
    "PfkeyMessage", "PfkeyError", "STRERROR", "MSG_TYPES", "SATYPES", "EXT_TYPES",
    "MODES", "LEVELS", "POLICY_TYPES", "DIRS", "SCOPES", "STATES", "PROTOS",
]

# sys/net/pfkeyv2.h
MSG_TYPES = {
    "SADB_RESERVED": 0, "SADB_GETSPI": 1, "SADB_UPDATE": 2, "SADB_ADD": 3, "SADB_DELETE": 4,
    "SADB_GET": 5, "SADB_ACQUIRE": 6, "SADB_REGISTER": 7, "SADB_EXPIRE": 8, "SADB_FLUSH": 9,
    "SADB_DUMP": 10, "SADB_X_PROMISC": 11, "SADB_X_PCHANGE": 12, "SADB_X_SPDUPDATE": 13,
    "SADB_X_SPDADD": 14, "SADB_X_SPDDELETE": 15, "SADB_X_SPDGET": 16, "SADB_X_SPDACQUIRE": 17,
    "SADB_X_SPDDUMP": 18, "SADB_X_SPDFLUSH": 19, "SADB_X_SPDSETIDX": 20, "SADB_X_SPDEXPIRE": 21,
    "SADB_X_SPDDELETE2": 22,
}  # fmt: skip
SATYPES = {"unspec": 0, "ah": 2, "esp": 3, "ipcomp": 9, "tcp": 11}
EXT_TYPES = {
    "sa": (1, "SA"), "lifetime_current": (2, "LIFETIME_CURRENT"), "lifetime_hard": (3, "LIFETIME_HARD"),
    "lifetime_soft": (4, "LIFETIME_SOFT"), "src": (5, "ADDRESS_SRC"), "dst": (6, "ADDRESS_DST"),
    "key_auth": (8, "KEY_AUTH"), "key_encrypt": (9, "KEY_ENCRYPT"), "proposal": (13, "PROPOSAL"),
    "policy": (18, "POLICY"), "sa2": (19, "SA2"), "sa_replay": (26, "SA_REPLAY"),
}  # fmt: skip
MODES = {Mode.ANY: 0, Mode.TRANSPORT: 1, Mode.TUNNEL: 2}
LEVELS = {Level.DEFAULT: 0, Level.USE: 1, Level.REQUIRE: 2, Level.UNIQUE: 3}
POLICY_TYPES = {"discard": 0, "none": 1, "ipsec": 2, "entrust": 3, "bypass": 4}
DIRS = {"any": 0, Direction.IN: 1, Direction.OUT: 2}  # IPSEC_DIR_ANY: SPDDELETE2 replies
SCOPES = {"any": 0, "global": 1, "ifnet": 2, "pcb": 4}
STATES = {SaState.LARVAL: 0, SaState.MATURE: 1, SaState.DYING: 2, SaState.DEAD: 3}
PROTOS = {"esp": 50, "ah": 51, "ipcomp": 108, "tcp": 6}



class PfkeyError(KernelError):
    """The errno a PF_KEY request got back (``key_senderror``); ``str()`` is strerror's text.

    ``detail`` says in plain words why (what ``ipseclog`` would have logged).
    """

    def __init__(self, errno_name: str, detail: str = ""):
        super().__init__(errno_name)
        self.detail = detail

    def __repr__(self) -> str:
        return f"PfkeyError({self.errno_name!r}, {self.detail!r})"


@dataclass(frozen=True, slots=True)
class PfkeyMessage:
    """One message the kernel sends up a PF_KEY socket (``sadb_msg`` plus extensions).

    ``type`` is the SADB name ("SADB_ACQUIRE"), ``satype`` "esp"/"ah"/"ipcomp"/
    "unspec", ``time`` the simulated time it was sent, ``reserved`` the
    ``sadb_msg_reserved`` (FreeBSD puts a reference count there). The
    properties read the usual members without digging into ``fields``.
    """

    type: str
    satype: str
    seq: int
    pid: int
    time: float
    fields: dict[str, Any] = field(default_factory=dict)
    reserved: int = 0

    def _get(self, ext: str, member: str) -> Any:
        value = self.fields.get(ext)
        return None if value is None else value.get(member)

    @property
    def src(self) -> Any:
        """Source address (SA messages, ACQUIRE) or selector address (SPD messages)."""
        return self._get("src", "address")

    @property
    def dst(self) -> Any:
        return self._get("dst", "address")

    @property
    def spi(self) -> int | None:
        return self._get("sa", "spi")

    @property
    def mode(self) -> str | None:
        return self._get("sa2", "mode")

    @property
    def reqid(self) -> int | None:
        return self._get("sa2", "reqid")

    @property
    def spid(self) -> int | None:
        return self._get("policy", "id")

    @property
    def expire(self) -> str | None:
        """"hard" or "soft" for an SADB_EXPIRE (which lifetime extension it carries)."""
        if self.type != "SADB_EXPIRE":
            return None
        return "hard" if "lifetime_hard" in self.fields else "soft"
