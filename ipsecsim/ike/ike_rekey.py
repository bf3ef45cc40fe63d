"""IKE_SA rekeying (RFC 7296 1.3.2, 2.18) for :class:`.daemon.Charon`.

An established IKE_SA is rekeyed ``rekey_time`` less a jitter in ``[0, rand_time)`` after it
came up (the connection's options), by a CREATE_CHILD_SA exchange inside it carrying SA (the
connection's IKE proposals with the new 8-byte SPI), Ni and KEi. Both sides then derive
SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the old IKE_SA's PRF, and the seven keys
from prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) with the new one; the side that started the rekeying
is the new IKE_SA's initiator. The CHILD_SAs move to the new IKE_SA, message IDs start at 0
again, and the side that started it deletes the old IKE_SA with an INFORMATIONAL Delete.
If no rekeying completed ``over_time`` later (the hard IKE_SA lifetime), the IKE_SA is deleted.

Not modelled: two rekeyings of one IKE_SA crossing (2.8.2). The responder of one answers
TEMPORARY_FAILURE while its own is out, and a side told TEMPORARY_FAILURE tries again later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .keys import DiffieHellman, IkeSaKeys, encr_key_length, integ_key_length, prf, prf_plus
from .message import (
    CREATE_CHILD_SA, INFORMATIONAL, INVALID_KE_PAYLOAD, INVALID_SYNTAX, NO_PROPOSAL_CHOSEN, PROTO_IKE,
    TEMPORARY_FAILURE, TRANSFORM_DH, TRANSFORM_ENCR, TRANSFORM_INTEG, TRANSFORM_PRF, DeletePayload, IkeMessage,
    KePayload, MalformedIke, NoncePayload, NotifyPayload, SaPayload,
)
from .proposals import Proposal, select_proposal
from .rekey import NOTIFY_TEXT

if TYPE_CHECKING:
    from .daemon import Charon, _IkeSa

__all__ = ["IkeRekeying", "rekeyed_ike_sa_keys", "RETRY_INTERVAL", "RETRY_JITTER"]

# strongSwan's ike_rekey task waits this long, less a random part, before it tries again.
RETRY_INTERVAL = 15
RETRY_JITTER = 10


def rekeyed_ike_sa_keys(old_prf: int, sk_d: bytes, prf_alg: int, integ: int | None, encr: Any, ni: bytes,
                        nr: bytes, shared: bytes, spi_i: bytes, spi_r: bytes) -> IkeSaKeys:
    """2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) under the old IKE_SA's PRF, then
    {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
    under the new one (2.14), SPIi and SPIr being the new IKE_SA's."""
    skeyseed = prf(old_prf, sk_d, shared + ni + nr)
    prf_len = len(prf(prf_alg, b"", b""))
    a_len, e_len = integ_key_length(integ), encr_key_length(encr)
    sizes = (prf_len, a_len, a_len, e_len, e_len, prf_len, prf_len)
    stream = prf_plus(prf_alg, skeyseed, ni + nr + spi_i + spi_r, sum(sizes))
    keys, offset = [], 0
    for size in sizes:
        keys.append(stream[offset:offset + size])
        offset += size
    return IkeSaKeys(skeyseed, *keys)


def _transform_id(p: Proposal, kind: int) -> int | None:
    t = p.first(kind)
    return None if t is None else t.id


class IkeRekeying:
    """Charon's IKE_SA lifetimes: ``charon.ike_rekeying``."""

    def __init__(self, charon: Charon):
        self.charon = charon

    # -- lifetimes -------------------------------------------------------------------------------

    def schedule(self, sa: _IkeSa) -> None:
        """Arm the rekeying and the hard lifetime of a newly established IKE_SA."""
        c, conn = self.charon, sa.conn
        if not conn.rekey_time:
            return
        rekey = conn.rekey_time - (c.rng.randrange(conn.rand_time) if conn.rand_time else 0)
        rekey = max(1, rekey)
        now = c.clock.now
        sa.rekey_at, sa.expire_at = now + rekey, now + rekey + conn.over_time
        c.clock.call_later(rekey, self._due, sa)
        c.clock.call_later(rekey + conn.over_time, self._hard, sa)

    def _alive(self, sa: _IkeSa) -> bool:
        return self.charon._sas.get(sa.spi_i) is sa and sa.state in ("ESTABLISHED", "REKEYING")

    def _due(self, sa: _IkeSa) -> None:
        if self._alive(sa) and sa.state == "ESTABLISHED":
            self.charon.rekeying._when_idle(sa, lambda: self._start(sa))

    def _hard(self, sa: _IkeSa) -> None:
        c = self.charon
        if not self._alive(sa):
            return
        c._say(f"IKE_SA {sa.conn.name}[{sa.unique_id}] reached its hard lifetime, deleting it")
        c._send_request(sa, INFORMATIONAL, (DeletePayload(PROTO_IKE),), expect_answer=False)
        c._delete(sa)

    # -- this side rekeys ---------------------------------------------------------------------------

    def _offer(self, sa: _IkeSa) -> tuple[list[Proposal], int]:
        """Our IKE proposals and the DH group of the KE: the IKE_SA's own if we still offer it."""
        proposals = self.charon._ike_offer(sa)
        groups = [t.id for p in proposals for t in p.of_type(TRANSFORM_DH)]
        current = None if sa.proposal is None else _transform_id(sa.proposal, TRANSFORM_DH)
        return proposals, current if current in groups else groups[0]

    def _start(self, sa: _IkeSa, group: int | None = None) -> None:
        c = self.charon
        if not self._alive(sa) or sa.state != "ESTABLISHED":
            return
        sa.state = "REKEYING"
        c._say(f"rekeying IKE_SA {sa.conn.name}[{sa.unique_id}]")
        proposals, preferred = self._offer(sa)
        group = preferred if group is None else group
        spi, ni, dh = c._bytes(8), c._bytes(32), DiffieHellman(group, c.rng)
        payloads = (SaPayload(tuple(p.to_sa(i + 1, spi) for i, p in enumerate(proposals))), NoncePayload(ni),
                    KePayload(group, dh.public_bytes()))

        def answered(inner: tuple) -> None:
            self._answered(sa, inner, proposals, spi, ni, dh)

        c.rekeying._ask(sa, CREATE_CHILD_SA, payloads, answered)

    def _answered(self, sa: _IkeSa, inner: tuple, offered: list[Proposal], spi: bytes, ni: bytes,
                  dh: DiffieHellman) -> None:
        c = self.charon
        sa.state = "ESTABLISHED"
        errors = [p for p in inner if isinstance(p, NotifyPayload) and p.is_error]
        if errors:
            n = errors[0]
            if n.notify_type == INVALID_KE_PAYLOAD and len(n.data) == 2:
                group = int.from_bytes(n.data, "big")
                if any(t.id == group for p in offered for t in p.of_type(TRANSFORM_DH)) and group != dh.group:
                    c._say(f"peer didn't accept DH group {dh.group}, it requested {group}")
                    c.rekeying._when_idle(sa, lambda: self._start(sa, group))
                    return
            delay = RETRY_INTERVAL - c.rng.randrange(RETRY_JITTER)
            c._say(f"IKE_SA rekeying failed ({NOTIFY_TEXT.get(n.notify_type, n.notify_type)}), retrying in {delay} "
                   "seconds")
            c.clock.call_later(delay, self._due, sa)
            return
        sa_p, nonce, ke = (next((p for p in inner if isinstance(p, k)), None) for k in (SaPayload, NoncePayload, KePayload))
        if not isinstance(sa_p, SaPayload) or not isinstance(nonce, NoncePayload) or not isinstance(ke, KePayload) \
                or len(sa_p.proposals) != 1 or len(sa_p.proposals[0].spi) != 8:
            c._say("IKE_SA rekey response is missing SA, Nonce or KE")
            return
        chosen = Proposal.from_sa(sa_p.proposals[0])
        if select_proposal([chosen], offered) is None or _transform_id(chosen, TRANSFORM_DH) != dh.group \
                or ke.group != dh.group:
            c._say("IKE_SA rekey response chose what we did not offer")
            return
        try:
            shared = dh.shared(ke.data)
        except MalformedIke as e:
            c._say(f"IKE_SA rekey response: {e.reason}")
            return
        self._switch(sa, True, spi, sa_p.proposals[0].spi, ni, nonce.data, chosen, shared)

    # -- the peer rekeys ------------------------------------------------------------------------------

    def request(self, sa: _IkeSa, msg: IkeMessage, inner: tuple, sa_p: SaPayload) -> None:
        """A CREATE_CHILD_SA request whose SA payload offers IKE proposals."""
        c = self.charon
        nonce = next((p for p in inner if isinstance(p, NoncePayload)), None)
        ke = next((p for p in inner if isinstance(p, KePayload)), None)
        if sa.state == "REKEYING":
            c._say(f"IKE_SA {sa.conn.name}[{sa.unique_id}] is being rekeyed, sending TEMPORARY_FAILURE")
            c._reply(sa, msg, (NotifyPayload(TEMPORARY_FAILURE),))
            return
        if nonce is None or ke is None or any(len(p.spi) != 8 for p in sa_p.proposals):
            c._reply(sa, msg, (NotifyPayload(INVALID_SYNTAX),))
            return
        choice = select_proposal(c._ike_offer(sa), [Proposal.from_sa(p) for p in sa_p.proposals])
        if choice is None:
            c._say("no acceptable proposal found for the IKE_SA rekeying, sending NO_PROPOSAL_CHOSEN")
            c._reply(sa, msg, (NotifyPayload(NO_PROPOSAL_CHOSEN),))
            return
        index, chosen = choice
        group = _transform_id(chosen, TRANSFORM_DH)
        assert group is not None  # IKE proposals always carry a DH group
        if ke.group != group:
            c._say(f"DH group {ke.group} unacceptable, requesting {group}")
            c._reply(sa, msg, (NotifyPayload(INVALID_KE_PAYLOAD, data=group.to_bytes(2, "big")),))
            return
        dh = DiffieHellman(group, c.rng)
        try:
            shared = dh.shared(ke.data)
        except MalformedIke as e:
            c._say(f"IKE_SA rekey request: {e.reason}, sending INVALID_SYNTAX")
            c._reply(sa, msg, (NotifyPayload(INVALID_SYNTAX),))
            return
        spi, nr = c._bytes(8), c._bytes(32)
        c._reply(sa, msg, (SaPayload((chosen.to_sa(sa_p.proposals[index].number, spi),)), NoncePayload(nr),
                           KePayload(group, dh.public_bytes())))
        self._switch(sa, False, sa_p.proposals[index].spi, spi, nonce.data, nr, chosen, shared)

    # -- both ------------------------------------------------------------------------------------------

    def _switch(self, old: _IkeSa, initiator: bool, spi_i: bytes, spi_r: bytes, ni: bytes, nr: bytes,
                proposal: Proposal, shared: bytes) -> None:
        """Make the new IKE_SA, move the CHILD_SAs to it; the rekeying's initiator deletes the old one."""
        c = self.charon
        assert old.proposal is not None
        encr = proposal.first(TRANSFORM_ENCR)
        prf_alg = _transform_id(proposal, TRANSFORM_PRF)
        old_prf = _transform_id(old.proposal, TRANSFORM_PRF)
        assert encr is not None and prf_alg is not None and old_prf is not None
        keys = rekeyed_ike_sa_keys(old_prf, old.keys.sk_d, prf_alg, _transform_id(proposal, TRANSFORM_INTEG), encr,
                                   ni, nr, shared, spi_i, spi_r)
        new = c._new_ike_sa(old, initiator, spi_i, spi_r, ni, nr, proposal, keys)
        new.children, old.children = old.children, []
        new.rekeys, old.rekeys = old.rekeys, {}
        c._say(f"IKE_SA {new.conn.name}[{new.unique_id}] rekeyed between {new.local}[{c._local_id(new)}]"
               f"...{new.remote}[{new.remote_id}]")
        self.schedule(new)
        old.state = "REKEYED"
        if initiator:
            c.rekeying._when_idle(old, lambda: self._delete_old(old))

    def _delete_old(self, old: _IkeSa) -> None:
        c = self.charon
        if c._sas.get(old.spi_i) is not old:
            return
        c._say(f"deleting IKE_SA {old.conn.name}[{old.unique_id}] between {old.local}[{c._local_id(old)}]"
               f"...{old.remote}[{old.remote_id}]")
        c.rekeying._ask(old, INFORMATIONAL, (DeletePayload(PROTO_IKE),), lambda inner: c._delete(old))
