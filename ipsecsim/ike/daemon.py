"""charon: strongSwan's IKEv2 daemon on a simulated host, first slice.

It binds UDP port 500, registers on PF_KEY for ESP, and sets up one IKE_SA with its first
CHILD_SA by IKE_SA_INIT and IKE_AUTH (RFC 7296 1.2) with a pre-shared key, then installs the
two ESP SAs through PF_KEY as strongSwan's kernel-pfkey plugin does on FreeBSD. Negotiation
starts on an SADB_ACQUIRE (``start_action = trap``: the if_ipsec(4) interface's policies carry
the child's ``reqid``), at once (``start_action = start``), or by :meth:`Charon.initiate`.
Lifetimes, SADB_EXPIRE and CHILD_SA rekeying with CREATE_CHILD_SA are :mod:`.rekey`'s part,
IKE_SA rekeying :mod:`.ike_rekey`'s. Not modelled yet: reauthentication, DPD, cookies, NAT-T.
All randomness (SPIs, nonces, DH values, IVs) comes from the host's ``random.Random``.
"""

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network, summarize_address_range
from typing import Any

from ..kernel.sockets import SendError
from ..kernel.keysock import SadbMessage, send as pfkey_send
from ..packet.udp import Udp
from .config import Child, Connection, SwanctlConfig
from .keys import (
    DiffieHellman, child_sa_keys, decrypt_sk, encrypt_sk, ike_sa_keys, psk_auth, signed_octets, wireshark_ikev2_record,
)
from .message import (
    AUTH_SHARED_KEY_MIC, AUTHENTICATION_FAILED, CREATE_CHILD_SA, ID_FQDN, ID_IPV4_ADDR, ID_IPV6_ADDR, ID_RFC822_ADDR, IKE_AUTH,
    IKE_SA_INIT, INFORMATIONAL, INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN, TRANSFORM_DH,
    TRANSFORM_ENCR, TRANSFORM_INTEG, TRANSFORM_PRF, TS_UNACCEPTABLE, AuthPayload, DeletePayload, EncryptedPayload,
    IdPayload, IkeMessage, KePayload, MalformedIke, NoncePayload, NotifyPayload, SaPayload, TrafficSelector,
    TsPayload, parse_ike, parse_payloads,
)
from .ike_rekey import IkeRekeying
from .rekey import ChildRekeying, Rekey
from .proposals import (
    Proposal, format_proposal, esp_key_lengths, esp_setkey_names, parse_esp_proposal, parse_ike_proposal,
    select_proposal,
)
from .stats import ConnectionStats
from .views import ChildSaView, IkeSaView

__all__ = ["Charon", "ConnectionStats", "DEFAULT_IKE_PROPOSAL", "DEFAULT_ESP_PROPOSAL", "NOTIFY_NAMES"]

IKE_PORT = 500
# What the word ``default`` stands for; strongSwan's own default list is longer (every
# algorithm its plugins offer), this is the part the simulator implements.
DEFAULT_IKE_PROPOSAL = "aes128-aes192-aes256-sha256-sha384-sha512-x25519-ecp256-ecp384-modp2048"
DEFAULT_ESP_PROPOSAL = "aes128gcm16-aes256gcm16"
NOTIFY_NAMES = {NO_PROPOSAL_CHOSEN: "NO_PROPOSAL_CHOSEN", INVALID_KE_PAYLOAD: "INVALID_KE_PAYLOAD",
                AUTHENTICATION_FAILED: "AUTHENTICATION_FAILED", TS_UNACCEPTABLE: "TS_UNACCEPTABLE"}


def _ike_proposals(words: list[str]) -> list[Proposal]:
    return [parse_ike_proposal(DEFAULT_IKE_PROPOSAL if w == "default" else w) for w in words]


def _esp_proposals(words: list[str]) -> list[Proposal]:
    return [parse_esp_proposal(DEFAULT_ESP_PROPOSAL if w == "default" else w) for w in words]


def _id_payload(identity: str, responder: bool) -> IdPayload:
    """strongSwan's identity_create_from_string: an address, ``user@domain`` or an FQDN."""
    try:
        addr = ip_address(identity)
    except ValueError:
        kind = ID_RFC822_ADDR if "@" in identity else ID_FQDN
        return IdPayload(kind, identity.encode(), responder)
    return IdPayload(ID_IPV4_ADDR if addr.version == 4 else ID_IPV6_ADDR, addr.packed, responder)


def _selectors(ts: list[str], ike_addr: IPv4Address | IPv6Address) -> tuple[TrafficSelector, ...]:
    out = []
    for text in ts:
        net = ip_network(str(ike_addr) if text == "dynamic" else text, strict=False)
        out.append(TrafficSelector(net.network_address, net.broadcast_address))
    return tuple(out)


def _ts_text(sel: TrafficSelector) -> str:
    return ", ".join(str(n) for n in summarize_address_range(sel.start, sel.end))


def _left(at: float | None, now: float) -> int | None:
    return None if at is None else max(0, int(at - now))


@dataclass
class _ChildSa:
    unique_id: int
    name: str
    reqid: int
    proposal: Proposal
    spi_in: int
    spi_out: int
    local_ts: tuple[str, ...]
    remote_ts: tuple[str, ...]
    installed_at: float
    # The selectors as negotiated (this side's, the peer's): a rekeying offers them again.
    local_sel: tuple[TrafficSelector, ...] = ()
    remote_sel: tuple[TrafficSelector, ...] = ()
    state: str = "INSTALLED"  # "REKEYING" (our CREATE_CHILD_SA out), "REKEYED", "DELETING"
    rekey_at: float | None = None  # when the kernel's soft lifetime runs out (first of the two SAs)
    expire_at: float | None = None  # when the hard one does


@dataclass
class _IkeSa:
    """One IKE_SA in the making or established; the bytes of the two IKE_SA_INIT messages are
    kept because each side's AUTH signs its own (RFC 7296 2.15)."""

    unique_id: int
    conn: Connection
    child: Child
    initiator: bool
    local: Any
    remote: Any
    spi_i: bytes
    spi_r: bytes = b"\0" * 8
    state: str = "CONNECTING"
    acquire_seq: int = 0
    dh: DiffieHellman | None = None
    ni: bytes = b""
    nr: bytes = b""
    proposal: Proposal | None = None
    keys: Any = None
    init_request: bytes = b""
    init_response: bytes = b""
    child_spi: int = 0
    established_at: float | None = None
    children: list[_ChildSa] = field(default_factory=list)
    remote_id: str = ""
    next_mid: int = 0
    pending: bytes | None = None  # the request awaiting its response
    tries: int = 0
    timer: Any = None
    last_response: tuple[int, bytes] | None = None  # (message ID, bytes): a responder's answer, for retransmits
    failure: str | None = None
    ke_retried: bool = False
    started_at: float = 0.0  # when this host sent (or received) IKE_SA_INIT
    on_response: Any = None  # what handles the answer to ``pending`` (CREATE_CHILD_SA, INFORMATIONAL)
    queue: list[Any] = field(default_factory=list)  # requests waiting for ``pending`` to be answered
    rekeys: dict[int, Rekey] = field(default_factory=dict)  # by the unique id of the child being replaced
    creating: bool = False  # a CREATE_CHILD_SA for a new CHILD_SA (after an ACQUIRE) is under way
    rekey_at: float | None = None  # when the IKE_SA is due for rekeying (connection rekey_time less jitter)
    expire_at: float | None = None  # rekey_at + over_time: deleted then if no rekeying replaced it


class Charon:
    """``host.daemons["charon"]``: what swanctl asks (see :class:`.views.CharonView`).

    ``log`` holds ``(time, text)`` lines with strongSwan's wording where it has one; a failed
    IKE_SA keeps its reason in ``failures`` (by connection name) and in the log.
    """

    def __init__(self, host: Any, config: SwanctlConfig, *, retransmit_timeout: float = 4.0,
                 retransmit_base: float = 1.8, retransmit_tries: int = 5, delete_rekeyed_delay: float = 5.0):
        self.host = host
        self.config = config
        self.clock = host.clock
        self.rng = host.rng
        self.retransmit_timeout = retransmit_timeout
        self.retransmit_base = retransmit_base
        self.retransmit_tries = retransmit_tries
        self.delete_rekeyed_delay = delete_rekeyed_delay
        self.running = False
        self.log: list[tuple[float, str]] = []
        self.failures: dict[str, str] = {}
        self.stats: dict[str, ConnectionStats] = {}  # by connection name, for result.ike
        self.ike_key_lines: list[str] = []  # every IKE_SA's keys, for Wireshark (wireshark_records)
        self._sas: dict[bytes, _IkeSa] = {}  # by the initiator's SPI
        self._ids = 0
        self._close: Any = None
        self.rekeying = ChildRekeying(self)
        self.ike_rekeying = IkeRekeying(self)

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind UDP 500, register on PF_KEY, and start the ``start_action = start`` children."""
        if self.host.inet4.udp_ports.get(IKE_PORT) is not None:
            raise ValueError(f"{self.host.name}: UDP port {IKE_PORT} is already bound")
        self.host.inet4.udp_ports[IKE_PORT] = self._receive
        self._close = self.host.keydb.keysock.subscribe(self._pfkey, satypes=("esp",))
        self.host.daemons["charon"] = self
        self.running = True
        for conn in self.config.connections.values():
            for child in conn.children.values():
                if child.start_action == "start":
                    self.clock.call_later(0, self._start, conn, child, 0)

    def stop(self) -> None:
        """Close the sockets and forget every IKE_SA (the kernel keeps the installed SAs)."""
        if self.host.inet4.udp_ports.get(IKE_PORT) == self._receive:
            del self.host.inet4.udp_ports[IKE_PORT]
        if self._close is not None:
            self._close()
            self._close = None
        for sa in self._sas.values():
            self._cancel(sa)
        self._sas.clear()
        if self.host.daemons.get("charon") is self:
            del self.host.daemons["charon"]
        self.running = False

    def _say(self, text: str) -> None:
        self.log.append((self.clock.now, text))

    def stats_for(self, name: str) -> ConnectionStats:
        stats = self.stats.get(name)
        if stats is None:
            stats = self.stats[name] = ConnectionStats(name)
        return stats

    # -- swanctl ---------------------------------------------------------------------------

    def initiate(self, child: str) -> object:
        for conn in self.config.connections.values():
            if child in conn.children:
                self._start(conn, conn.children[child], 0)
                return True
        return f"CHILD_SA config '{child}' not found"

    def terminate(self, ike: str) -> object:
        found = [sa for sa in self._sas.values() if sa.conn.name == ike]
        if not found:
            return f"no matching IKE_SA '{ike}' found"
        for sa in found:
            if sa.state == "ESTABLISHED":
                self._send_request(sa, INFORMATIONAL, (DeletePayload(1),), expect_answer=False)
            self._delete(sa)
        return True

    def ike_sas(self) -> list[IkeSaView]:
        now = self.clock.now
        views = []
        for sa in sorted(self._sas.values(), key=lambda s: s.unique_id):
            children = tuple(
                ChildSaView(c.name, c.unique_id, c.reqid, c.state, "TUNNEL", c.spi_in, c.spi_out,
                            format_proposal(c.proposal), c.local_ts, c.remote_ts, installed=int(now - c.installed_at),
                            rekeying_in=_left(c.rekey_at, now) if c.state == "INSTALLED" else None,
                            expires_in=_left(c.expire_at, now),
                            bytes_in=inb[0], packets_in=inb[1], bytes_out=outb[0], packets_out=outb[1])
                for c in sa.children
                for inb, outb in [(self._usage(sa.remote, sa.local, c.spi_in), self._usage(sa.local, sa.remote, c.spi_out))])
            views.append(IkeSaView(
                sa.conn.name, sa.unique_id, sa.state, str(sa.local), str(sa.remote), self._local_id(sa),
                sa.remote_id or self._remote_id(sa), int.from_bytes(sa.spi_i, "big"),
                int.from_bytes(sa.spi_r, "big"), sa.initiator,
                proposal=None if sa.proposal is None else format_proposal(sa.proposal),
                established=None if sa.established_at is None else int(now - sa.established_at),
                rekeying_in=_left(sa.rekey_at, now) if sa.state == "ESTABLISHED" else None,
                expires_in=_left(sa.expire_at, now) if sa.state == "ESTABLISHED" else None,
                children=children))
        return views

    def _usage(self, src: Any, dst: Any, spi: int) -> tuple[int, int]:
        """(bytes, packets) of an installed SA, asked of the kernel with SADB_GET as charon's
        query_sa does; the BSD key engine counts packets as the CURRENT lifetime's allocations."""
        reply = pfkey_send(self.host, SadbMessage("SADB_GET", src=src, dst=dst, spi=spi))
        if reply.sa is None:
            return 0, 0
        return reply.sa.current.bytes, reply.sa.current.allocations

    def wireshark_records(self) -> list[str]:
        """One line of Wireshark's ``ikev2_decryption_table`` per IKE_SA this charon derived keys
        for, as strongSwan's save-keys plugin writes them, to read the SK payloads of a capture;
        IKE_SAs already deleted or failed keep theirs, since their messages are in the capture."""
        return list(self.ike_key_lines)

    # -- PF_KEY ----------------------------------------------------------------------------

    def _pfkey(self, msg: Any) -> None:
        if msg.type == "SADB_EXPIRE":
            self.rekeying.expire(msg)
            return
        if msg.type != "SADB_ACQUIRE":
            return
        reqid = msg.reqid or 0
        for conn in self.config.connections.values():
            for child in conn.children.values():
                # Only a trapped child answers an ACQUIRE: strongSwan's trap manager holds them.
                # A policy with a reqid (if_ipsec(4)'s, setkey's ``unique:N``) names its child;
                # setkey's ``require`` policies have none and go to a child without ``reqid``,
                # whose SAs carry reqid 0, which such a policy accepts.
                if child.start_action == "trap" and child.reqid == reqid \
                        and self._addr_ok(conn.remote_addrs, msg.dst) \
                        and self._addr_ok(conn.local_addrs, msg.src):
                    mine = [sa for sa in self._sas.values() if sa.child is child]
                    # After an IKE_SA rekeying the old one lingers until deleted: ask the new one.
                    existing = next((sa for sa in mine if sa.state == "ESTABLISHED"), mine[0] if mine else None)
                    if existing is not None:
                        # Already negotiating: strongSwan ignores the repeat; an IKE_SA whose
                        # CHILD_SA is gone (hard expiry) gets a new one by CREATE_CHILD_SA.
                        self.rekeying.acquire_child(existing, msg)
                        return
                    self._say(f"acquire for reqid {reqid} {msg.src} -> {msg.dst}: initiating {conn.name}")
                    self._start(conn, child, msg.seq)
                    return
        self._say(f"no connection for acquire with reqid {reqid} {msg.src} -> {msg.dst}")

    @staticmethod
    def _addr_ok(addrs: list[str], addr: Any) -> bool:
        if addr is None:
            return False
        for text in addrs:
            if text == "%any":
                return True
            try:
                if ip_address(addr) in ip_network(text, strict=False):
                    return True
            except ValueError:
                continue
        return False

    # -- initiator -------------------------------------------------------------------------

    def _start(self, conn: Connection, child: Child, seq: int) -> None:
        try:
            local, remote = ip_address(conn.local_addrs[0]), ip_address(conn.remote_addrs[0])
        except ValueError:
            self._fail_conn(conn.name, "unable to initiate: local_addrs and remote_addrs must be addresses")
            return
        proposals = _ike_proposals(conn.proposals)
        group = proposals[0].first(TRANSFORM_DH)
        assert group is not None  # parse_ike_proposal refuses a proposal without one
        self._ids += 1
        sa = _IkeSa(self._ids, conn, child, True, local, remote, self._bytes(8), acquire_seq=seq,
                    started_at=self.clock.now)
        self.stats_for(conn.name).initiated += 1
        sa.ni = self._bytes(32)
        self._sas[sa.spi_i] = sa
        self._say(f"initiating IKE_SA {conn.name}[{sa.unique_id}] to {remote}")
        self._send_init(sa, group.id)

    def _send_init(self, sa: _IkeSa, group: int) -> None:
        proposals = _ike_proposals(sa.conn.proposals)
        sa.dh = DiffieHellman(group, self.rng)
        payloads = (SaPayload(tuple(p.to_sa(i + 1) for i, p in enumerate(proposals))),
                    KePayload(group, sa.dh.public_bytes()), NoncePayload(sa.ni))
        msg = IkeMessage(sa.spi_i, sa.spi_r, IKE_SA_INIT, 0, payloads, initiator=True)
        sa.init_request = msg.to_bytes()
        sa.next_mid = 1
        self._send_raw(sa, sa.init_request, request=True)

    def _init_response(self, sa: _IkeSa, msg: IkeMessage, raw: bytes) -> None:
        self._cancel(sa)
        wanted = next((n for n in msg.notifies() if n.notify_type == INVALID_KE_PAYLOAD and len(n.data) == 2), None)
        if wanted is not None and sa.dh is not None:
            group = int.from_bytes(wanted.data, "big")
            offered = {t.id for p in _ike_proposals(sa.conn.proposals) for t in p.of_type(TRANSFORM_DH)}
            # 1.3: try again with the group the responder asked for, once, if we offered it.
            if group in offered and group != sa.dh.group and not sa.ke_retried:
                sa.ke_retried = True
                self._say(f"peer didn't accept DH group {sa.dh.group}, it requested {group}")
                self._send_init(sa, group)
                return
        error = self._notify_error(msg)
        if error is not None:
            self._fail(sa, f"received {error} notify error")
            return
        sa_p, ke, nonce = msg.find(33), msg.find(34), msg.find(40)
        if not isinstance(sa_p, SaPayload) or not isinstance(ke, KePayload) or not isinstance(nonce, NoncePayload) \
                or len(sa_p.proposals) != 1:
            self._fail(sa, "IKE_SA_INIT response is missing SA, KE or Nonce")
            return
        sa.spi_r, sa.nr, sa.init_response = msg.spi_r, nonce.data, raw
        sa.proposal = Proposal.from_sa(sa_p.proposals[0])
        assert sa.dh is not None
        if sa.proposal.first(TRANSFORM_DH) is None or sa.proposal.first(TRANSFORM_DH).id != sa.dh.group:  # type: ignore[union-attr]
            self._fail(sa, "peer chose a DH group other than the one in our KE payload")
            return
        try:
            self._derive(sa, sa.dh.shared(ke.data))
        except MalformedIke as e:
            self._fail(sa, e.reason)
            return
        idi = _id_payload(self._local_id(sa), False)
        psk = self.config.psk_for(self._local_id(sa), self._remote_id(sa))
        if psk is None:
            self._fail(sa, f"no shared key found for '{self._local_id(sa)}' - '{self._remote_id(sa)}'")
            return
        prf_alg = self._prf(sa)
        auth = psk_auth(prf_alg, psk, signed_octets(prf_alg, sa.init_request, sa.nr, sa.keys.sk_pi, idi.body()))
        sa.child_spi = self._child_spi()
        esp = _esp_proposals(sa.child.esp_proposals)
        spi = sa.child_spi.to_bytes(4, "big")
        inner = (idi, AuthPayload(AUTH_SHARED_KEY_MIC, auth),
                 SaPayload(tuple(p.to_sa(i + 1, spi) for i, p in enumerate(esp))),
                 TsPayload(_selectors(sa.child.local_ts, sa.local)),
                 TsPayload(_selectors(sa.child.remote_ts, sa.remote), responder=True))
        self._send_request(sa, IKE_AUTH, inner)

    def _auth_response(self, sa: _IkeSa, plain: tuple) -> None:
        self._cancel(sa)
        notes = [p for p in plain if isinstance(p, NotifyPayload) and p.is_error]
        if notes:
            self._fail(sa, f"received {NOTIFY_NAMES.get(notes[0].notify_type, notes[0].notify_type)} notify error")
            return
        idr = next((p for p in plain if isinstance(p, IdPayload)), None)
        auth = next((p for p in plain if isinstance(p, AuthPayload)), None)
        sa_p = next((p for p in plain if isinstance(p, SaPayload)), None)
        if idr is None or auth is None or sa_p is None or len(sa_p.proposals) != 1:
            self._fail(sa, "IKE_AUTH response is missing IDr, AUTH or SA")
            return
        sa.remote_id = idr.text
        psk = self.config.psk_for(self._local_id(sa), idr.text)
        prf_alg = self._prf(sa)
        want = None if psk is None else psk_auth(
            prf_alg, psk, signed_octets(prf_alg, sa.init_response, sa.ni, sa.keys.sk_pr, idr.body()))
        if want is None or want != auth.data:
            self._fail(sa, "AUTHENTICATION_FAILED: verification of AUTH payload with pre-shared key failed")
            return
        chosen = sa_p.proposals[0]
        tsi = next((p for p in plain if isinstance(p, TsPayload) and not p.responder), None)
        tsr = next((p for p in plain if isinstance(p, TsPayload) and p.responder), None)
        self._established(sa, Proposal.from_sa(chosen), int.from_bytes(chosen.spi, "big"),
                          tsi.selectors if tsi else (), tsr.selectors if tsr else ())

    # -- responder -------------------------------------------------------------------------

    def _init_request(self, msg: IkeMessage, raw: bytes, src: Any, dst: Any) -> None:
        conn = next((c for c in self.config.connections.values()
                     if self._addr_ok(c.remote_addrs, src) and self._addr_ok(c.local_addrs, dst)), None)
        if conn is None:
            self._say(f"no IKE config found for {dst}...{src}, sending NO_PROPOSAL_CHOSEN")
            self._answer(msg, src, dst, (NotifyPayload(NO_PROPOSAL_CHOSEN),))
            return
        sa_p, ke, nonce = msg.find(33), msg.find(34), msg.find(40)
        if not isinstance(sa_p, SaPayload) or not isinstance(ke, KePayload) or not isinstance(nonce, NoncePayload):
            self._say(f"IKE_SA_INIT request from {src} is missing SA, KE or Nonce")
            return
        theirs = [Proposal.from_sa(p) for p in sa_p.proposals]
        choice = select_proposal(_ike_proposals(conn.proposals), theirs)
        if choice is None:
            self._say(f"received proposals unacceptable: no acceptable proposal found, sending NO_PROPOSAL_CHOSEN"
                      f" to {src}")
            self._record_failure(conn.name, "NO_PROPOSAL_CHOSEN")
            self._answer(msg, src, dst, (NotifyPayload(NO_PROPOSAL_CHOSEN),))
            return
        index, chosen = choice
        group = chosen.first(TRANSFORM_DH)
        assert group is not None
        if ke.group != group.id:
            self._say(f"DH group {ke.group} unacceptable, requesting {group.id}")
            self._answer(msg, src, dst, (NotifyPayload(INVALID_KE_PAYLOAD, data=group.id.to_bytes(2, "big")),))
            return
        child = next(iter(conn.children.values()), None)
        if child is None:
            self._answer(msg, src, dst, (NotifyPayload(NO_PROPOSAL_CHOSEN),))
            return
        self._ids += 1
        sa = _IkeSa(self._ids, conn, child, False, dst, src, msg.spi_i, spi_r=self._bytes(8),
                    started_at=self.clock.now)
        sa.dh = DiffieHellman(group.id, self.rng)
        sa.ni, sa.nr, sa.proposal, sa.init_request = nonce.data, self._bytes(32), chosen, raw
        try:
            shared = sa.dh.shared(ke.data)
        except MalformedIke as e:
            self._say(f"bad KE from {src}: {e.reason}")
            return
        self._derive(sa, shared)
        payloads = (SaPayload((chosen.to_sa(sa_p.proposals[index].number),)), KePayload(group.id, sa.dh.public_bytes()),
                    NoncePayload(sa.nr))
        out = IkeMessage(sa.spi_i, sa.spi_r, IKE_SA_INIT, 0, payloads, response=True)
        sa.init_response = out.to_bytes()
        sa.last_response = (0, sa.init_response)
        self._sas[sa.spi_i] = sa
        self._say(f"{src} is initiating an IKE_SA {conn.name}[{sa.unique_id}]")
        self._send_raw(sa, sa.init_response, request=False)

    def _auth_request(self, sa: _IkeSa, msg: IkeMessage, plain: tuple) -> None:
        idi = next((p for p in plain if isinstance(p, IdPayload)), None)
        auth = next((p for p in plain if isinstance(p, AuthPayload)), None)
        sa_p = next((p for p in plain if isinstance(p, SaPayload)), None)
        tsi = next((p for p in plain if isinstance(p, TsPayload) and not p.responder), None)
        tsr = next((p for p in plain if isinstance(p, TsPayload) and p.responder), None)
        if idi is None or auth is None or sa_p is None or tsi is None or tsr is None:
            self._reply(sa, msg, (NotifyPayload(AUTHENTICATION_FAILED),))
            self._fail(sa, "IKE_AUTH request is missing IDi, AUTH, SA or TS")
            return
        sa.remote_id = idi.text
        psk = self.config.psk_for(self._local_id(sa), idi.text)
        prf_alg = self._prf(sa)
        want = None if psk is None else psk_auth(
            prf_alg, psk, signed_octets(prf_alg, sa.init_request, sa.nr, sa.keys.sk_pi, idi.body()))
        if psk is None or want != auth.data:
            self._reply(sa, msg, (NotifyPayload(AUTHENTICATION_FAILED),))
            self._fail(sa, f"AUTHENTICATION_FAILED: verification of AUTH payload of '{idi.text}' with pre-shared key "
                           "failed")
            return
        idr = _id_payload(self._local_id(sa), True)
        my_auth = psk_auth(prf_alg, psk, signed_octets(prf_alg, sa.init_response, sa.ni, sa.keys.sk_pr, idr.body()))
        theirs = [Proposal.from_sa(p) for p in sa_p.proposals]
        choice = select_proposal(_esp_proposals(sa.child.esp_proposals), theirs)
        if choice is None:
            # The IKE_SA stands; only the CHILD_SA fails (RFC 7296 1.2 and 2.21.2).
            self._reply(sa, msg, (idr, AuthPayload(AUTH_SHARED_KEY_MIC, my_auth), NotifyPayload(NO_PROPOSAL_CHOSEN)))
            sa.state, sa.established_at = "ESTABLISHED", self.clock.now
            self._say(f"no acceptable proposal found for CHILD_SA {sa.child.name}, sending NO_PROPOSAL_CHOSEN")
            self._record_failure(sa.conn.name, "NO_PROPOSAL_CHOSEN")
            return
        index, chosen = choice
        peer_spi = sa_p.proposals[index].spi
        sa.child_spi = self._child_spi()
        self._reply(sa, msg, (idr, AuthPayload(AUTH_SHARED_KEY_MIC, my_auth),
                              SaPayload((chosen.to_sa(sa_p.proposals[index].number, sa.child_spi.to_bytes(4, "big")),)),
                              tsi, tsr))
        self._established(sa, chosen, int.from_bytes(peer_spi, "big"), tsi.selectors, tsr.selectors)

    # -- both ------------------------------------------------------------------------------

    def _established(self, sa: _IkeSa, esp: Proposal, peer_spi: int, tsi: tuple, tsr: tuple) -> None:
        sa.state, sa.established_at = "ESTABLISHED", self.clock.now
        self._say(f"IKE_SA {sa.conn.name}[{sa.unique_id}] established between {sa.local}[{self._local_id(sa)}]"
                  f"...{sa.remote}[{sa.remote_id}]")
        enc_len, integ_len = esp_key_lengths(esp)
        i_to_r, r_to_i = child_sa_keys(self._prf(sa), sa.keys.sk_d, sa.ni, sa.nr, enc_len, integ_len)
        out_keys, in_keys = (i_to_r, r_to_i) if sa.initiator else (r_to_i, i_to_r)
        local_ts, remote_ts = (tsi, tsr) if sa.initiator else (tsr, tsi)
        if self._install_child(sa, esp, sa.child_spi, peer_spi, in_keys, out_keys, local_ts, remote_ts,
                               sa.acquire_seq) is None:
            return
        self.failures.pop(sa.conn.name, None)
        self.ike_rekeying.schedule(sa)
        stats = self.stats_for(sa.conn.name)
        stats.established += 1
        if sa.initiator:
            stats.times_to_establish.append(self.clock.now - sa.started_at)

    def _install_child(self, sa: _IkeSa, esp: Proposal, spi_in: int, spi_out: int, in_keys: Any, out_keys: Any,
                       local_ts: tuple, remote_ts: tuple, seq: int = 0) -> _ChildSa | None:
        """Add the inbound and the outbound ESP SA of a new CHILD_SA, with lifetimes as
        strongSwan's kernel-pfkey plugin sets them (:meth:`_lifetimes`); None if the kernel refused."""
        enc, auth = esp_setkey_names(esp)
        reqid = sa.child.reqid
        installed_at = self.clock.now
        rekey_at: float | None = None
        expire_at: float | None = None
        # strongSwan's charon.replay_window is 32 packets; a BSD key engine takes the window in
        # bytes, and only the inbound SA checks it. Its SAs carry no sadb_sa_flags (setkey's
        # default, cyclic sequence numbers, is setkey's own).
        for src, dst, spi, keys, replay, inbound in ((sa.remote, sa.local, spi_in, in_keys, 32 // 8, True),
                                                     (sa.local, sa.remote, spi_out, out_keys, 0, False)):
            soft, hard = self.rekeying.lifetimes(sa.child, inbound)
            reply = pfkey_send(self.host, SadbMessage(
                "SADB_ADD", src=src, dst=dst, spi=spi, mode="tunnel", reqid=reqid, enc=enc, enc_key=keys.encr,
                auth=auth, auth_key=keys.integ, seq=seq, replay_window=replay, flags=0,
                lifetime_soft=soft, lifetime_hard=hard))
            if reply.errno is not None:
                if not inbound:
                    pfkey_send(self.host, SadbMessage("SADB_DELETE", src=sa.remote, dst=sa.local, spi=spi_in))
                self._fail(sa, f"unable to add SAD entry with SPI {spi:08x}: {reply.errno} {reply.detail}".rstrip())
                return None
            if soft.addtime:
                at = installed_at + soft.addtime
                rekey_at = at if rekey_at is None else min(rekey_at, at)
            if hard.addtime:
                expire_at = installed_at + hard.addtime
        self._ids += 1  # IKE_SAs and CHILD_SAs share charon's counter of unique ids
        child = _ChildSa(self._ids, sa.child.name, reqid, esp, spi_in, spi_out,
                         tuple(_ts_text(t) for t in local_ts), tuple(_ts_text(t) for t in remote_ts),
                         installed_at, tuple(local_ts), tuple(remote_ts), rekey_at=rekey_at, expire_at=expire_at)
        sa.children.append(child)
        self._say(f"CHILD_SA {child.name}{{{child.unique_id}}} established with SPIs {spi_in:08x}_i "
                  f"{spi_out:08x}_o and TS {' '.join(child.local_ts)} === {' '.join(child.remote_ts)}")
        return child

    def _derive(self, sa: _IkeSa, shared: bytes) -> None:
        assert sa.proposal is not None
        integ = sa.proposal.first(TRANSFORM_INTEG)
        encr = sa.proposal.first(TRANSFORM_ENCR)
        assert encr is not None
        sa.keys = ike_sa_keys(self._prf(sa), None if integ is None else integ.id, encr, sa.ni, sa.nr, shared,
                              sa.spi_i, sa.spi_r)
        self._record_keys(sa)

    def _record_keys(self, sa: _IkeSa) -> None:
        assert sa.proposal is not None
        integ = sa.proposal.first(TRANSFORM_INTEG)
        encr = sa.proposal.first(TRANSFORM_ENCR)
        assert encr is not None
        self.ike_key_lines.append(wireshark_ikev2_record(sa.spi_i, sa.spi_r, sa.keys, encr,
                                                         None if integ is None else integ.id))

    @staticmethod
    def _prf(sa: _IkeSa) -> int:
        assert sa.proposal is not None
        prf = sa.proposal.first(TRANSFORM_PRF)
        assert prf is not None
        return prf.id

    @staticmethod
    def _ike_offer(sa: _IkeSa) -> list[Proposal]:
        return _ike_proposals(sa.conn.proposals)

    def _new_ike_sa(self, old: _IkeSa, initiator: bool, spi_i: bytes, spi_r: bytes, ni: bytes, nr: bytes,
                    proposal: Proposal, keys: Any) -> _IkeSa:
        """The IKE_SA an IKE_SA rekeying made (RFC 7296 2.18), established, message IDs at 0."""
        self._ids += 1
        sa = _IkeSa(self._ids, old.conn, old.child, initiator, old.local, old.remote, spi_i, spi_r=spi_r,
                    state="ESTABLISHED", ni=ni, nr=nr, proposal=proposal, keys=keys, established_at=self.clock.now,
                    remote_id=old.remote_id, started_at=self.clock.now)
        self._sas[spi_i] = sa
        self._record_keys(sa)  # its messages are in the capture too
        return sa

    @staticmethod
    def _esp_offer(sa: _IkeSa) -> list[Proposal]:
        return _esp_proposals(sa.child.esp_proposals)

    @staticmethod
    def _child_selectors(sa: _IkeSa) -> tuple[tuple[TrafficSelector, ...], tuple[TrafficSelector, ...]]:
        """(TSi, TSr) of a new CHILD_SA this side proposes."""
        return _selectors(sa.child.local_ts, sa.local), _selectors(sa.child.remote_ts, sa.remote)

    def _local_id(self, sa: _IkeSa) -> str:
        return sa.conn.local.id or str(sa.local)

    def _remote_id(self, sa: _IkeSa) -> str:
        return sa.conn.remote.id or str(sa.remote)

    def _bytes(self, n: int) -> bytes:
        return self.rng.getrandbits(8 * n).to_bytes(n, "big")

    def _child_spi(self) -> int:
        # strongSwan takes SPIs from the kernel's SADB_GETSPI range; FreeBSD hands out
        # values above 255, and 0xc0000000 upwards is what charon's own allocator uses.
        return 0xC0000000 | self.rng.getrandbits(30)

    def _fail(self, sa: _IkeSa, reason: str) -> None:
        self._cancel(sa)
        sa.failure = reason
        sa.state = "DESTROYING"
        self._fail_conn(sa.conn.name, reason)
        self._sas.pop(sa.spi_i, None)

    def _fail_conn(self, name: str, reason: str) -> None:
        self._record_failure(name, reason)
        self._say(f"{name}: {reason}")

    def _record_failure(self, name: str, reason: str) -> None:
        self.failures[name] = reason
        self.stats_for(name).failures.append((self.clock.now, reason))

    def _delete(self, sa: _IkeSa) -> None:
        self._cancel(sa)
        for c in sa.children:
            for src, dst, spi in ((sa.remote, sa.local, c.spi_in), (sa.local, sa.remote, c.spi_out)):
                pfkey_send(self.host, SadbMessage("SADB_DELETE", src=src, dst=dst, spi=spi))
        self._sas.pop(sa.spi_i, None)
        self._say(f"IKE_SA {sa.conn.name}[{sa.unique_id}] deleted")

    @staticmethod
    def _notify_error(msg: IkeMessage) -> str | None:
        for n in msg.notifies():
            if n.is_error:
                return NOTIFY_NAMES.get(n.notify_type, str(n.notify_type))
        return None

    # -- sending ---------------------------------------------------------------------------

    def _send_raw(self, sa: _IkeSa, data: bytes, *, request: bool) -> None:
        self._transmit(sa.local, sa.remote, data)
        if request:
            sa.pending, sa.tries = data, 0
            sa.timer = self.clock.call_later(self.retransmit_timeout, self._retransmit, sa)

    def _transmit(self, src: Any, dst: Any, data: bytes) -> None:
        try:
            self.host.send(dst, 17, lambda s, d: Udp(IKE_PORT, IKE_PORT, data).to_bytes(s, d), src=src)
        except SendError as e:  # the retransmission timer covers a lost send
            self._say(f"sending packet to {dst}[500] failed: {e}")

    def _retransmit(self, sa: _IkeSa) -> None:
        sa.timer = None
        if sa.pending is None or self._sas.get(sa.spi_i) is not sa:
            return
        if sa.tries >= self.retransmit_tries:
            self._fail(sa, f"giving up after {sa.tries} retransmits")
            return
        sa.tries += 1
        self.stats_for(sa.conn.name).retransmissions += 1
        self._say(f"retransmit {sa.tries} of request with message ID {sa.next_mid - 1}")
        self._transmit(sa.local, sa.remote, sa.pending)
        sa.timer = self.clock.call_later(self.retransmit_timeout * self.retransmit_base ** sa.tries,
                                         self._retransmit, sa)

    def _cancel(self, sa: _IkeSa) -> None:
        if sa.timer is not None:
            sa.timer.cancel()
            sa.timer = None
        sa.pending = None

    def _protect(self, sa: _IkeSa, exchange: int, mid: int, inner: tuple, response: bool) -> bytes:
        assert sa.proposal is not None
        encr = sa.proposal.first(TRANSFORM_ENCR)
        integ = sa.proposal.first(TRANSFORM_INTEG)
        assert encr is not None
        keys = sa.keys.initiator if sa.initiator else sa.keys.responder
        plain = IkeMessage(sa.spi_i, sa.spi_r, exchange, mid, inner).to_bytes()[28:]
        header = IkeMessage(sa.spi_i, sa.spi_r, exchange, mid, (EncryptedPayload(0, b""),), initiator=sa.initiator,
                            response=response).header(0)
        return encrypt_sk(keys, encr, None if integ is None else integ.id, inner[0].payload_type if inner else 0, plain, header,
                          self.rng)

    def _send_request(self, sa: _IkeSa, exchange: int, inner: tuple, expect_answer: bool = True) -> None:
        data = self._protect(sa, exchange, sa.next_mid, inner, False)
        sa.next_mid += 1
        self._send_raw(sa, data, request=expect_answer)

    def _reply(self, sa: _IkeSa, msg: IkeMessage, inner: tuple) -> None:
        data = self._protect(sa, msg.exchange, msg.message_id, inner, True)
        sa.last_response = (msg.message_id, data)
        self._transmit(sa.local, sa.remote, data)

    def _answer(self, msg: IkeMessage, src: Any, dst: Any, payloads: tuple) -> None:
        """An unprotected IKE_SA_INIT answer (an error notify): no IKE_SA is kept for it."""
        out = IkeMessage(msg.spi_i, b"\0" * 8, msg.exchange, msg.message_id, payloads, response=True)
        self._transmit(dst, src, out.to_bytes())

    # -- receiving -------------------------------------------------------------------------

    def _receive(self, src: Any, sport: int, dst: Any, dport: int, payload: bytes) -> None:
        try:
            msg = parse_ike(payload)
        except MalformedIke as e:
            self._say(f"dropping malformed message from {src}[{sport}]: {e.reason}")
            return
        sa = self._sas.get(msg.spi_i)
        if msg.exchange == IKE_SA_INIT and not msg.response:
            if sa is not None and not sa.initiator and sa.last_response is not None and sa.last_response[0] == 0:
                self._say("received retransmit of request with ID 0, retransmitting response")
                self._transmit(sa.local, sa.remote, sa.last_response[1])
            elif sa is None:
                self._init_request(msg, bytes(payload), src, dst)
            else:
                self._say(f"ignoring IKE_SA_INIT request from {src}: its SPI belongs to IKE_SA "
                          f"{sa.conn.name}[{sa.unique_id}], which is past it")
            return
        if sa is None:
            self._say(f"ignoring {msg.exchange_name} message for unknown IKE_SA from {src}")
            return
        if msg.exchange == IKE_SA_INIT:
            if sa.initiator and sa.state == "CONNECTING" and sa.pending is not None and not sa.nr:
                self._init_response(sa, msg, bytes(payload))
            else:
                self._say(f"ignoring unexpected IKE_SA_INIT response from {src}")
            return
        if msg.spi_r != sa.spi_r or sa.keys is None or sa.proposal is None:
            self._say(f"ignoring {msg.exchange_name} message from {src}: responder SPI "
                      f"{msg.spi_r.hex()} is not IKE_SA {sa.conn.name}[{sa.unique_id}]'s")
            return
        if not msg.response and sa.last_response is not None and sa.last_response[0] == msg.message_id:
            self._say(f"received retransmit of request with ID {msg.message_id}, retransmitting response")
            self._transmit(sa.local, sa.remote, sa.last_response[1])
            return
        encr = sa.proposal.first(TRANSFORM_ENCR)
        integ = sa.proposal.first(TRANSFORM_INTEG)
        assert encr is not None
        keys = sa.keys.responder if sa.initiator else sa.keys.initiator
        try:
            first, plain = decrypt_sk(keys, encr, None if integ is None else integ.id, bytes(payload))
            inner = parse_payloads(first, plain)
        except MalformedIke as e:
            self._say(f"dropping message from {src}[{sport}]: {e.reason}")
            return
        if msg.exchange == IKE_AUTH:
            if msg.response and sa.initiator and sa.pending is not None:
                self._auth_response(sa, inner)
            elif not msg.response and not sa.initiator and sa.state == "CONNECTING":
                self._auth_request(sa, msg, inner)
            else:
                self._say(f"ignoring unexpected IKE_AUTH {'response' if msg.response else 'request'} from {src}")
        elif msg.exchange in (CREATE_CHILD_SA, INFORMATIONAL):
            if msg.response:
                self.rekeying.response(sa, msg, inner)
            else:
                self.rekeying.request(sa, msg, inner)
