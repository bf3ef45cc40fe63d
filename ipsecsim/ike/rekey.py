"""CHILD_SA lifetimes, SADB_EXPIRE and rekeying with CREATE_CHILD_SA, for :class:`.daemon.Charon`.

Lifetimes are set as strongSwan's kernel-pfkey plugin sets them on FreeBSD: every SA of a
CHILD_SA gets a soft add-time lifetime of ``rekey_time`` less a jitter drawn in
``[0, rand_time)`` and a hard one of ``life_time``; with no jitter only the inbound SA gets
the soft one, so that a single SADB_EXPIRE starts the rekeying. The kernel's soft expiry
starts the rekeying (RFC 7296 1.3.3, 2.8); its hard expiry means the SA is gone, and charon
closes the CHILD_SA. A rekeying is make-before-break: the two new SAs are installed before
the side that started it deletes the old CHILD_SA with an INFORMATIONAL exchange (1.4.1).
When both sides rekey the same CHILD_SA at once, the exchange holding the lowest of the
four nonces made a redundant CHILD_SA, and the side that started it deletes it (2.8.1).

Each side has one request outstanding at a time (2.3, a window of one); later requests wait
in ``_IkeSa.queue``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..kernel.keysock import SadbMessage, send as pfkey_send
from ..netipsec.sa import Lifetime
from .keys import DiffieHellman, child_sa_keys
from .message import (
    CHILD_SA_NOT_FOUND, CREATE_CHILD_SA, INFORMATIONAL, INVALID_KE_PAYLOAD, INVALID_SYNTAX, NO_PROPOSAL_CHOSEN,
    PROTO_ESP, PROTO_IKE, REKEY_SA, TEMPORARY_FAILURE, TRANSFORM_DH, DeletePayload, IkeMessage, KePayload,
    MalformedIke, NoncePayload, NotifyPayload, SaPayload, TsPayload,
)
from .proposals import Proposal, esp_key_lengths, select_proposal

if TYPE_CHECKING:
    from .config import Child
    from .daemon import Charon, _ChildSa, _IkeSa

__all__ = ["ChildRekeying", "Exchange", "Rekey", "NOTIFY_TEXT"]

NOTIFY_TEXT = {NO_PROPOSAL_CHOSEN: "NO_PROPOSAL_CHOSEN", INVALID_KE_PAYLOAD: "INVALID_KE_PAYLOAD",
               INVALID_SYNTAX: "INVALID_SYNTAX", TEMPORARY_FAILURE: "TEMPORARY_FAILURE",
               CHILD_SA_NOT_FOUND: "CHILD_SA_NOT_FOUND"}


@dataclass
class Exchange:
    """One CREATE_CHILD_SA exchange: its nonces, the inbound SPI this side chose, and the
    CHILD_SA it made once installed. ``dh`` is this side's PFS value (initiator only)."""

    ni: bytes
    nr: bytes = b""
    spi_in: int = 0
    child: Any = None  # the new _ChildSa
    dh: DiffieHellman | None = None
    offered: tuple[Proposal, ...] = ()


@dataclass
class Rekey:
    """The rekeying of one CHILD_SA: the exchange this side started, the peer's, or both
    (a collision, RFC 7296 2.8.1)."""

    old: Any  # the _ChildSa being replaced
    own: Exchange | None = None
    peer: Exchange | None = None

    def successor(self, children: list) -> Any:
        """The new CHILD_SA still installed, if any."""
        for ex in (self.own, self.peer):
            if ex is not None and ex.child is not None and ex.child in children:
                return ex.child
        return None


def _first(inner: tuple, kind: type, responder: bool | None = None) -> Any:
    for p in inner:
        if isinstance(p, kind) and (responder is None or getattr(p, "responder", None) == responder):
            return p
    return None


def _error(inner: tuple) -> str | None:
    for p in inner:
        if isinstance(p, NotifyPayload) and p.is_error:
            return NOTIFY_TEXT.get(p.notify_type, str(p.notify_type))
    return None


def _spi(value: int) -> bytes:
    return value.to_bytes(4, "big")


class ChildRekeying:
    """The part of charon that keeps CHILD_SAs alive: lifetimes, EXPIRE, CREATE_CHILD_SA, Delete.

    Charon owns one (``charon.rekeying``) and hands it SADB_EXPIRE, the ACQUIREs for an IKE_SA
    that exists, and the CREATE_CHILD_SA and INFORMATIONAL messages of an established IKE_SA.
    """

    def __init__(self, charon: Charon):
        self.charon = charon

    # -- lifetimes ----------------------------------------------------------------------------

    def lifetimes(self, child: Child, inbound: bool) -> tuple[Lifetime, Lifetime]:
        """(soft, hard) add-time lifetimes of one SA; 0 means none, as for the kernel."""
        rekey = child.rekey_time
        if rekey and child.rand_time:
            rekey = max(1, rekey - self.charon.rng.randrange(child.rand_time))
        elif not inbound:
            rekey = 0  # without jitter both SAs would expire together: the inbound one starts it
        return Lifetime(addtime=rekey), Lifetime(addtime=child.life_time)

    def expire(self, msg: Any) -> None:
        """An SADB_EXPIRE: soft starts a rekeying, hard closes the CHILD_SA the kernel cut."""
        found = self._child_by_spi(msg.spi)
        if found is None:
            return  # not one of ours (setkey's, or already closed)
        sa, child = found
        if msg.expire == "soft":
            self.charon._say(f"creating rekey job for CHILD_SA ESP/0x{msg.spi:08x}/{msg.dst}")
            self._start_rekey(sa, child)
            return
        self.charon._say(f"creating delete job for CHILD_SA ESP/0x{msg.spi:08x}/{msg.dst}")
        self._remove_child(sa, child, expired=True)
        if sa.state == "ESTABLISHED":
            # The peer still holds its two SAs: tell it, as a delete job of an expired child does.
            self._when_idle(sa, lambda: self._send_delete(sa, child, known=False))

    def _child_by_spi(self, spi: int | None) -> tuple[_IkeSa, _ChildSa] | None:
        for sa in self.charon._sas.values():
            for child in sa.children:
                if spi in (child.spi_in, child.spi_out):
                    return sa, child
        return None

    def acquire_child(self, sa: _IkeSa, msg: Any) -> None:
        """An ACQUIRE for a child whose IKE_SA exists: a new CHILD_SA if it has none left."""
        if sa.state != "ESTABLISHED" or sa.children or sa.creating:
            return
        sa.creating = True
        self.charon._say(f"acquire for reqid {msg.reqid} {msg.src} -> {msg.dst}: establishing CHILD_SA "
                  f"{sa.child.name} in IKE_SA {sa.conn.name}[{sa.unique_id}]")
        self._when_idle(sa, lambda: self._create_child(sa, msg.seq))

    # -- requests this side sends ---------------------------------------------------------------

    def _when_idle(self, sa: _IkeSa, action: Callable[[], None]) -> None:
        if sa.pending is None:
            action()
        else:
            sa.queue.append(action)

    def _drain(self, sa: _IkeSa) -> None:
        while sa.queue and sa.pending is None and self.charon._sas.get(sa.spi_i) is sa:
            sa.queue.pop(0)()

    def _ask(self, sa: _IkeSa, exchange: int, inner: tuple, handler: Callable[[tuple], None]) -> None:
        sa.on_response = handler
        self.charon._send_request(sa, exchange, inner)

    def response(self, sa: _IkeSa, msg: IkeMessage, inner: tuple) -> None:
        if sa.pending is None or sa.on_response is None or msg.message_id != sa.next_mid - 1:
            self.charon._say(f"ignoring response with message ID {msg.message_id}: no such request outstanding")
            return
        handler = sa.on_response
        sa.on_response = None
        self.charon._cancel(sa)
        handler(inner)
        self._drain(sa)

    def _offer(self, sa: _IkeSa, local_sel: tuple, remote_sel: tuple) -> tuple[Exchange, tuple]:
        """A new exchange and its payloads: SA (our ESP proposals, a new SPI), Ni, [KEi], TSi, TSr."""
        offered = tuple(self.charon._esp_offer(sa))
        ex = Exchange(self.charon._bytes(32), spi_in=self.charon._child_spi(), offered=offered)
        payloads: tuple = (SaPayload(tuple(p.to_sa(i + 1, _spi(ex.spi_in)) for i, p in enumerate(offered))),
                           NoncePayload(ex.ni))
        group = offered[0].first(TRANSFORM_DH)
        if group is not None:  # PFS: the proposal names a group (2.17)
            ex.dh = DiffieHellman(group.id, self.charon.rng)
            payloads += (KePayload(group.id, ex.dh.public_bytes()),)
        return ex, payloads + (TsPayload(local_sel), TsPayload(remote_sel, responder=True))

    def _start_rekey(self, sa: _IkeSa, child: _ChildSa) -> None:
        found = self._child_by_spi(child.spi_in)
        if found is None or found[1] is not child:
            return
        sa = found[0]  # an IKE_SA rekeying may have moved it since the job was queued
        if sa.state not in ("ESTABLISHED", "REKEYING") or child.state != "INSTALLED":
            return
        if sa.pending is not None:
            sa.queue.append(lambda: self._start_rekey(sa, child))
            return
        child.state = "REKEYING"
        self.charon._say(f"rekeying CHILD_SA {child.name}{{{child.unique_id}}} with SPIs {child.spi_in:08x}_i "
                  f"{child.spi_out:08x}_o")
        ex, payloads = self._offer(sa, child.local_sel, child.remote_sel)
        rekey = sa.rekeys.setdefault(child.unique_id, Rekey(child))
        rekey.own = ex
        notify = NotifyPayload(REKEY_SA, PROTO_ESP, _spi(child.spi_in))
        self._ask(sa, CREATE_CHILD_SA, (notify,) + payloads, lambda inner: self._rekey_answered(sa, rekey, inner))

    def _create_child(self, sa: _IkeSa, seq: int) -> None:
        if self.charon._sas.get(sa.spi_i) is not sa or sa.children:
            sa.creating = False
            return
        local_sel, remote_sel = self.charon._child_selectors(sa)
        ex, payloads = self._offer(sa, local_sel, remote_sel)

        def answered(inner: tuple) -> None:
            sa.creating = False
            error = _error(inner)
            if error is not None:
                self.charon._say(f"received {error} notify, establishing CHILD_SA {sa.child.name} failed")
                self.charon._record_failure(sa.conn.name, error)
                return
            self._take_answer(sa, ex, inner, seq)

        self._ask(sa, CREATE_CHILD_SA, payloads, answered)

    def _take_answer(self, sa: _IkeSa, ex: Exchange, inner: tuple, seq: int = 0) -> _ChildSa | None:
        """Install the CHILD_SA a CREATE_CHILD_SA response agrees to (we began the exchange)."""
        sa_p, nonce = _first(inner, SaPayload), _first(inner, NoncePayload)
        tsi, tsr, ke = _first(inner, TsPayload, False), _first(inner, TsPayload, True), _first(inner, KePayload)
        if sa_p is None or nonce is None or tsi is None or tsr is None or len(sa_p.proposals) != 1 \
                or len(sa_p.proposals[0].spi) != 4:
            self.charon._say("CREATE_CHILD_SA response is missing SA, Nonce or TS")
            return None
        chosen = Proposal.from_sa(sa_p.proposals[0])
        if select_proposal([chosen], ex.offered) is None:
            self.charon._say("CREATE_CHILD_SA response chose a proposal we did not offer")
            return None
        shared = None
        group = chosen.first(TRANSFORM_DH)
        if group is not None:
            if ex.dh is None or ke is None or ke.group != group.id or ex.dh.group != group.id:
                self.charon._say("CREATE_CHILD_SA response has no KE of the chosen group")
                return None
            try:
                shared = ex.dh.shared(ke.data)
            except MalformedIke as e:
                self.charon._say(f"CREATE_CHILD_SA response: {e.reason}")
                return None
        ex.nr = nonce.data
        enc_len, integ_len = esp_key_lengths(chosen)
        i_to_r, r_to_i = child_sa_keys(self.charon._prf(sa), sa.keys.sk_d, ex.ni, ex.nr, enc_len, integ_len, shared)
        # 2.17: the first half of KEYMAT protects what the exchange's initiator (we) sends.
        ex.child = self.charon._install_child(sa, chosen, ex.spi_in, int.from_bytes(sa_p.proposals[0].spi, "big"),
                                       r_to_i, i_to_r, tsi.selectors, tsr.selectors, seq)
        return ex.child

    def _rekey_answered(self, sa: _IkeSa, rekey: Rekey, inner: tuple) -> None:
        old, ex = rekey.old, rekey.own
        assert ex is not None
        error = _error(inner)
        if error is not None:
            self.charon._say(f"received {error} notify, rekeying CHILD_SA {old.name}{{{old.unique_id}}} failed")
        if error is not None or self._take_answer(sa, ex, inner) is None:
            rekey.own = None
            if old.state == "REKEYING":
                old.state = "INSTALLED" if rekey.peer is None else "REKEYED"
        self._settle(sa, rekey)

    def _settle(self, sa: _IkeSa, rekey: Rekey) -> None:
        """Once the exchanges of a rekeying are done, delete what RFC 7296 says this side deletes."""
        old, own, peer = rekey.old, rekey.own, rekey.peer
        if old not in sa.children:
            sa.rekeys.pop(old.unique_id, None)
            return
        if own is not None and own.child is None:
            return  # our CREATE_CHILD_SA is still out
        if own is None:
            return  # the peer rekeyed: it deletes the old CHILD_SA, we answer its Delete
        if peer is None or peer.child is None:
            self._when_idle(sa, lambda: self._send_delete(sa, old))
            return
        # 2.8.1: the exchange holding the lowest of the four nonces made the redundant CHILD_SA.
        if min(own.ni, own.nr) < min(peer.ni, peer.nr):
            redundant = own.child
            self.charon._say(f"CHILD_SA rekey collision lost, deleting redundant child {redundant.name}"
                      f"{{{redundant.unique_id}}}")
            rekey.own = None
            old.state = "REKEYED"
            self._when_idle(sa, lambda: self._send_delete(sa, redundant))
        else:
            self.charon._say(f"CHILD_SA rekey collision won, deleting old child {old.name}{{{old.unique_id}}}")
            self._when_idle(sa, lambda: self._send_delete(sa, old))

    def _send_delete(self, sa: _IkeSa, child: _ChildSa, known: bool = True) -> None:
        """INFORMATIONAL with Delete (ESP, our inbound SPI); the SAs go when the answer comes.
        ``known`` False: the CHILD_SA is already closed here (hard expiry), only the peer is told."""
        if known:
            if child not in sa.children:
                return
            child.state = "DELETING"
            self._log_closing(sa, child, expired=False)
        delete = DeletePayload(PROTO_ESP, (_spi(child.spi_in),))
        self._ask(sa, INFORMATIONAL, (delete,), lambda inner: self._remove_child(sa, child) if known else None)

    # -- requests from the peer ------------------------------------------------------------------

    def request(self, sa: _IkeSa, msg: IkeMessage, inner: tuple) -> None:
        expected = 0 if sa.last_response is None else sa.last_response[0] + 1
        if msg.message_id != expected:
            self.charon._say(f"received message ID {msg.message_id}, expected {expected}, ignored")
            return
        if msg.exchange == CREATE_CHILD_SA:
            self._create_child_request(sa, msg, inner)
        else:
            self._informational(sa, msg, inner)

    def _create_child_request(self, sa: _IkeSa, msg: IkeMessage, inner: tuple) -> None:
        sa_p, nonce, ke = _first(inner, SaPayload), _first(inner, NoncePayload), _first(inner, KePayload)
        tsi, tsr = _first(inner, TsPayload, False), _first(inner, TsPayload, True)
        rekey_n = next((p for p in inner if isinstance(p, NotifyPayload) and p.notify_type == REKEY_SA), None)
        if sa_p is not None and sa_p.proposals[0].protocol == PROTO_IKE:
            self.charon.ike_rekeying.request(sa, msg, inner, sa_p)
            return
        if sa.state not in ("ESTABLISHED", "REKEYING") or sa_p is None or nonce is None or tsi is None or tsr is None:
            self.charon._say("CREATE_CHILD_SA request is missing SA, Nonce or TS, sending INVALID_SYNTAX")
            self.charon._reply(sa, msg, (NotifyPayload(INVALID_SYNTAX),))
            return
        old = None
        if rekey_n is not None:
            spi = int.from_bytes(rekey_n.spi, "big")
            old = next((c for c in sa.children if c.spi_out == spi), None)
            if old is None:
                self.charon._say(f"CHILD_SA ESP/0x{spi:08x} to rekey not found, sending CHILD_SA_NOT_FOUND")
                self.charon._reply(sa, msg, (NotifyPayload(CHILD_SA_NOT_FOUND, PROTO_ESP, rekey_n.spi),))
                return
            if old.state == "DELETING":  # 2.25: the deletion already under way wins
                self.charon._say(f"CHILD_SA {old.name}{{{old.unique_id}}} is being deleted, sending TEMPORARY_FAILURE")
                self.charon._reply(sa, msg, (NotifyPayload(TEMPORARY_FAILURE),))
                return
        choice = select_proposal(self.charon._esp_offer(sa), [Proposal.from_sa(p) for p in sa_p.proposals])
        if choice is None:
            self.charon._say(f"no acceptable proposal found for CHILD_SA {sa.child.name}, sending NO_PROPOSAL_CHOSEN")
            self.charon._reply(sa, msg, (NotifyPayload(NO_PROPOSAL_CHOSEN),))
            return
        index, chosen = choice
        if len(sa_p.proposals[index].spi) != 4:
            self.charon._reply(sa, msg, (NotifyPayload(INVALID_SYNTAX),))
            return
        group, shared, dh = chosen.first(TRANSFORM_DH), None, None
        if group is not None:
            if ke is None or ke.group != group.id:
                self.charon._say(f"DH group {ke.group if ke else 'none'} unacceptable, requesting {group.id}")
                self.charon._reply(sa, msg, (NotifyPayload(INVALID_KE_PAYLOAD, data=group.id.to_bytes(2, "big")),))
                return
            dh = DiffieHellman(group.id, self.charon.rng)
            try:
                shared = dh.shared(ke.data)
            except MalformedIke as e:
                self.charon._say(f"CREATE_CHILD_SA request: {e.reason}, sending INVALID_SYNTAX")
                self.charon._reply(sa, msg, (NotifyPayload(INVALID_SYNTAX),))
                return
        nr, spi_in = self.charon._bytes(32), self.charon._child_spi()
        enc_len, integ_len = esp_key_lengths(chosen)
        i_to_r, r_to_i = child_sa_keys(self.charon._prf(sa), sa.keys.sk_d, nonce.data, nr, enc_len, integ_len, shared)
        if old is not None:
            self.charon._say(f"{sa.remote} is rekeying CHILD_SA {old.name}{{{old.unique_id}}}")
        child = self.charon._install_child(sa, chosen, spi_in, int.from_bytes(sa_p.proposals[index].spi, "big"),
                                    i_to_r, r_to_i, tsr.selectors, tsi.selectors)
        if child is None:
            return
        answer: tuple = (SaPayload((chosen.to_sa(sa_p.proposals[index].number, _spi(spi_in)),)), NoncePayload(nr))
        if dh is not None and group is not None:
            answer += (KePayload(group.id, dh.public_bytes()),)
        self.charon._reply(sa, msg, answer + (tsi, tsr))
        if old is not None:
            rekey = sa.rekeys.setdefault(old.unique_id, Rekey(old))
            rekey.peer = Exchange(nonce.data, nr, spi_in, child)
            if old.state == "INSTALLED":
                old.state = "REKEYED"
            self._settle(sa, rekey)

    def _informational(self, sa: _IkeSa, msg: IkeMessage, inner: tuple) -> None:
        deletes = [p for p in inner if isinstance(p, DeletePayload)]
        if any(d.protocol == PROTO_IKE for d in deletes):
            self.charon._reply(sa, msg, ())
            self.charon._delete(sa)
            return
        ours, gone = [], []
        for d in deletes:
            if d.protocol != PROTO_ESP:
                continue
            for raw in d.spis:
                spi = int.from_bytes(raw, "big")
                child = next((c for c in sa.children if c.spi_out == spi), None)
                if child is None:
                    self.charon._say(f"CHILD_SA ESP/0x{spi:08x} not found for delete")
                    continue
                # 1.4.1: a CHILD_SA we are deleting ourselves is not named again in the answer.
                if child.state != "DELETING":
                    ours.append(_spi(child.spi_in))
                    self._log_closing(sa, child, expired=False)
                gone.append(child)
        self.charon._reply(sa, msg, (DeletePayload(PROTO_ESP, tuple(ours)),) if ours else ())
        for child in gone:
            self._remove_child(sa, child)

    # -- closing -----------------------------------------------------------------------------------

    def _log_closing(self, sa: _IkeSa, child: _ChildSa, expired: bool) -> None:
        ts = f"TS {' '.join(child.local_ts)} === {' '.join(child.remote_ts)}"
        if expired:
            self.charon._say(f"closing expired CHILD_SA {child.name}{{{child.unique_id}}} with SPIs {child.spi_in:08x}_i "
                      f"{child.spi_out:08x}_o and {ts}")
            return
        inb = self.charon._usage(sa.remote, sa.local, child.spi_in)[0]
        outb = self.charon._usage(sa.local, sa.remote, child.spi_out)[0]
        self.charon._say(f"closing CHILD_SA {child.name}{{{child.unique_id}}} with SPIs {child.spi_in:08x}_i ({inb} bytes) "
                  f"{child.spi_out:08x}_o ({outb} bytes) and {ts}")

    def _remove_child(self, sa: _IkeSa, child: _ChildSa, expired: bool = False) -> None:
        """Forget a CHILD_SA and delete its SAs (SADB_DELETE; one the kernel already cut is ESRCH)."""
        if child not in sa.children:
            return
        if expired:
            self._log_closing(sa, child, expired=True)
        rekey = sa.rekeys.pop(child.unique_id, None)
        replaced = rekey is not None and rekey.successor(sa.children) is not None
        host = self.charon.host
        pfkey_send(host, SadbMessage("SADB_DELETE", src=sa.local, dst=sa.remote, spi=child.spi_out))
        inbound = SadbMessage("SADB_DELETE", src=sa.remote, dst=sa.local, spi=child.spi_in)
        delay = self.charon.delete_rekeyed_delay
        if replaced and delay > 0:
            # strongSwan's charon.delete_rekeyed_delay: ESP the peer sent on the old SA before it
            # switched is still on its way; the inbound SA stays to take it.
            self.charon.clock.call_later(delay, pfkey_send, host, inbound)
        else:
            pfkey_send(host, inbound)
        sa.children.remove(child)
        stats = self.charon.stats_for(sa.conn.name)
        if replaced:
            stats.rekeys += 1
        elif expired:
            stats.expired += 1
        if not expired:
            self.charon._say("CHILD_SA closed")
