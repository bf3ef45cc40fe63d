"""The PF_KEY socket: a message into the key engine, an errno back (sys/netipsec/keysock.c
``key_output`` -> key.c ``key_parse``: ``key_add``, ``key_get``, ``key_delete``, ``key_flush``,
``key_spdadd``, ``key_spddelete``, ``key_spdflush``). [S7] [S8.2]

setkey(8) and an IKE daemon build a :class:`SadbMessage` and call :func:`send`; the kernel
builds the SA from its extensions (``key_setsaval`` and the transform's ``esp_init``, with
the host's sysctls), hands it to the key engine and answers with a :class:`KeyReply`:
``errno`` None on success, else the errno and, in ``detail``, what ``ipseclog`` would have
said. Nothing here prints.

An SADB_DELETE without an SPI (``spi`` None) removes every SA between the two addresses
(``key_delete_all``). The dumps (SADB_DUMP, SADB_X_SPDDUMP) are not messages here: their
readers walk the key engine's tables through its public methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING

from ..netipsec import KeyDB, PfkeyError, SecurityAssociation, SetkeyError
from ..netipsec.algorithms import SADB_X_EXT_CYCSEQ
from ..netipsec.policy import SecurityPolicy
from ..netipsec.sa import Lifetime

if TYPE_CHECKING:
    from .host import Host

__all__ = ["SadbMessage", "KeyReply", "send"]

Address = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class SadbMessage:
    """``sadb_msg`` and the extensions setkey's parse.y puts in it.

    ``type`` is the SADB name ("SADB_ADD"), ``satype`` "esp" (or "unspec" for a flush of
    every protocol). The SA members (``spi``, ``replay_window`` in bytes, ``flags`` as
    ``sadb_sa_flags``), the addresses, SA2 (``mode``, ``reqid``), the keys (algorithm
    names and key bytes) and the lifetimes keep the names :class:`SecurityAssociation`
    takes. ``policy`` is the SPD extension of the SADB_X_SPD* messages.
    """

    type: str
    satype: str = "esp"
    pid: int = 0
    seq: int = 0  # sadb_msg_seq: an IKE daemon answering an ACQUIRE passes its seq
    src: Address | None = None
    dst: Address | None = None
    spi: int | None = None
    mode: str = "any"
    reqid: int = 0
    replay_window: int = 0
    flags: int = SADB_X_EXT_CYCSEQ
    enc: str | None = None
    enc_key: bytes = b""
    auth: str | None = None
    auth_key: bytes = b""
    lifetime_hard: Lifetime | None = None
    lifetime_soft: Lifetime | None = None
    policy: SecurityPolicy | None = None


@dataclass(frozen=True, slots=True)
class KeyReply:
    """The kernel's answer. ``checked_sa`` marks a refusal of the SA's own fields (key_setsaval,
    esp_init: a key of the wrong length, a mode the algorithm cannot do) rather than of the
    key engine's tables (an SPI in use, no such SA). ``sa`` is what SADB_GET found."""

    errno: str | None = None
    detail: str = ""
    checked_sa: bool = False
    sa: SecurityAssociation | None = None


def send(host: "Host", msg: SadbMessage) -> KeyReply:
    """Carry out one PF_KEY request on ``host``'s key engine."""
    try:
        return KeyReply(sa=_handle(host, host.keydb, msg))
    except PfkeyError as error:
        return KeyReply(error.errno_name, error.detail)
    except SetkeyError as error:
        if error.kind != "kernel":
            raise
        return KeyReply(error.errno or "EINVAL", error.detail, checked_sa=True)


def _newsa(host: "Host", msg: SadbMessage) -> SecurityAssociation:
    """key_newsav + key_setsaval + esp_init: the SA an SADB_ADD describes."""
    if msg.src is None or msg.dst is None or msg.spi is None or msg.enc is None:
        raise PfkeyError("EINVAL", "SADB_ADD needs addresses, an SA extension and an encryption key")
    return SecurityAssociation(
        src=msg.src, dst=msg.dst, spi=msg.spi, enc=msg.enc, enc_key=msg.enc_key, auth=msg.auth,
        auth_key=msg.auth_key, mode=msg.mode, reqid=msg.reqid, replay_window=msg.replay_window, flags=msg.flags,
        lifetime_hard=msg.lifetime_hard, lifetime_soft=msg.lifetime_soft, created=host.clock.now, rng=host.rng,
        outer=host.ipsec_outer, ctr_compatibility=bool(host.sysctl.get("net.inet.esp.ctr_compatibility", 1)),
    )


def _handle(host: "Host", keydb: KeyDB, msg: SadbMessage) -> SecurityAssociation | None:
    now = host.clock.now
    kind = msg.type
    if kind in ("SADB_ADD", "SADB_UPDATE"):
        keydb.add(_newsa(host, msg), now=now, update=kind == "SADB_UPDATE", pid=msg.pid, seq=msg.seq)
    elif kind == "SADB_FLUSH":
        keydb.flush(None if msg.satype == "unspec" else msg.satype, pid=msg.pid)
    elif kind in ("SADB_X_SPDADD", "SADB_X_SPDUPDATE", "SADB_X_SPDDELETE"):
        if msg.policy is None:
            raise PfkeyError("EINVAL", f"{kind} needs a policy")
        if kind == "SADB_X_SPDDELETE":
            keydb.spddelete(msg.policy, pid=msg.pid)
        else:
            keydb.spdadd(msg.policy, now=now, update=kind == "SADB_X_SPDUPDATE", pid=msg.pid)
    elif kind == "SADB_X_SPDFLUSH":
        keydb.spdflush(pid=msg.pid)
    elif kind in ("SADB_GET", "SADB_DELETE"):
        if msg.src is None or msg.dst is None:
            raise PfkeyError("EINVAL", f"{kind} needs source and destination addresses")
        if kind == "SADB_GET":
            if msg.spi is None:
                raise PfkeyError("EINVAL", "SADB_GET needs an SA extension")
            return keydb.get(msg.src, msg.dst, msg.satype, msg.spi)
        if msg.spi is None:
            keydb.deleteall(msg.src, msg.dst, msg.satype, now=now, pid=msg.pid)
        else:
            keydb.delete(msg.src, msg.dst, msg.satype, msg.spi, now=now, pid=msg.pid)
    else:
        raise PfkeyError("EINVAL", f"{kind} is not a request the simulated key engine takes")
    return None
