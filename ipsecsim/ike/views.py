"""Read-only snapshots charon hands to swanctl (what VICI's list-sas and list-conns carry).

The daemon fills :class:`IkeSaView` and :class:`ChildSaView` when asked;
:func:`conn_views` builds :class:`ConnView` from the configuration alone. Times
are whole seconds relative to the moment of the snapshot, as VICI reports them.
:mod:`.show` prints them as ``swanctl --list-sas`` and ``--list-conns`` do.
"""

from dataclasses import dataclass, field
from typing import Protocol

from .config import Connection, SwanctlConfig

__all__ = ["ChildSaView", "IkeSaView", "ChildConnView", "ConnView", "conn_views", "CharonView"]


@dataclass(frozen=True)
class ChildSaView:
    """One CHILD_SA under an IKE_SA (``swanctl --list-sas``)."""

    name: str
    unique_id: int
    reqid: int
    state: str  # "INSTALLED" "CREATED" "ROUTED" "INSTALLING" "UPDATING" "REKEYING" "REKEYED" "DELETING" ...
    mode: str  # "TUNNEL" or "TRANSPORT"
    spi_in: int
    spi_out: int
    proposal: str  # "AES_GCM_16-128", "AES_CBC-128/HMAC_SHA2_256_128", "/ESN" appended if negotiated
    local_ts: tuple[str, ...]
    remote_ts: tuple[str, ...]
    installed: int = 0  # seconds ago
    rekeying_in: int | None = None  # seconds; None: no rekeying scheduled
    expires_in: int | None = None  # seconds until the hard lifetime
    bytes_in: int = 0
    packets_in: int = 0
    bytes_out: int = 0
    packets_out: int = 0
    used_in: int | None = None  # seconds since the last inbound packet; None: none yet
    used_out: int | None = None
    protocol: str = "ESP"
    encap: bool = False  # ESP in UDP (NAT traversal): the mode reads TUNNEL-in-UDP


@dataclass(frozen=True)
class IkeSaView:
    """One IKE_SA (``swanctl --list-sas``)."""

    name: str
    unique_id: int
    state: str  # "CREATED" "CONNECTING" "ESTABLISHED" "PASSIVE" "REKEYING" "REKEYED" "DELETING" "DESTROYING"
    local_host: str
    remote_host: str
    local_id: str
    remote_id: str
    spi_i: int  # the initiator's IKE SPI
    spi_r: int  # the responder's (0 until it answers)
    initiator: bool  # this host initiated the IKE_SA
    proposal: str | None = None  # "AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519"; None before
    established: int | None = None  # seconds ago; None: not established
    rekeying_in: int | None = None
    reauth_in: int | None = None
    expires_in: int | None = None
    children: tuple[ChildSaView, ...] = field(default_factory=tuple)
    local_port: int = 500
    remote_port: int = 500
    version: int = 2


@dataclass(frozen=True)
class ChildConnView:
    """A CHILD_SA configuration as ``--list-conns`` shows it."""

    name: str
    mode: str  # "TUNNEL" or "TRANSPORT"
    rekey_time: int
    dpd_action: str  # as VICI names it: "clear", "hold" or "restart"
    local_ts: tuple[str, ...]
    remote_ts: tuple[str, ...]


@dataclass(frozen=True)
class ConnView:
    """A loaded connection as ``--list-conns`` shows it."""

    name: str
    version: int  # 0 (IKEv1/2), 1 or 2
    reauth_time: int
    rekey_time: int
    dpd_delay: int
    local_addrs: tuple[str, ...]
    remote_addrs: tuple[str, ...]
    local_auth: str  # VICI's auth class: "pre-shared key"
    local_id: str | None
    remote_auth: str
    remote_id: str | None
    children: tuple[ChildConnView, ...]


_DPD_NAMES = {"clear": "clear", "trap": "hold", "restart": "restart"}
_AUTH_CLASS = {"psk": "pre-shared key", "pubkey": "public key", "eap": "EAP"}


def _conn_view(conn: Connection) -> ConnView:
    children = tuple(ChildConnView(c.name, c.mode.upper(), c.rekey_time, _DPD_NAMES[c.dpd_action], tuple(c.local_ts),
                                   tuple(c.remote_ts)) for c in conn.children.values())
    return ConnView(conn.name, conn.version, conn.reauth_time, conn.rekey_time, conn.dpd_delay,
                    tuple(conn.local_addrs), tuple(conn.remote_addrs),
                    _AUTH_CLASS.get(conn.local.auth, conn.local.auth), conn.local.id,
                    _AUTH_CLASS.get(conn.remote.auth, conn.remote.auth), conn.remote.id, children)


def conn_views(config: SwanctlConfig) -> list[ConnView]:
    """The connections of ``config`` in the order they were written (charon lists them so)."""
    return [_conn_view(c) for c in config.connections.values()]


class CharonView(Protocol):
    """What swanctl asks the host's charon (``host.daemons["charon"]``)."""

    config: SwanctlConfig

    def ike_sas(self) -> list[IkeSaView]: ...

    def initiate(self, child: str) -> object: ...

    def terminate(self, ike: str) -> object: ...
