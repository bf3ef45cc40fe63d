"""What charon counts per connection, for ``result.ike`` (docs/results.md, section ike).

One :class:`ConnectionStats` per connection name on one host; the daemon fills it as the
exchanges happen, so a failed negotiation leaves its reason here even after the IKE_SA is gone.
"""

from dataclasses import dataclass, field

__all__ = ["ConnectionStats"]


@dataclass
class ConnectionStats:
    name: str
    initiated: int = 0  # IKE_SAs this host started for the connection (ACQUIRE, start_action=start, swanctl)
    # Seconds from sending IKE_SA_INIT to the first CHILD_SA installed, one per IKE_SA this host initiated.
    times_to_establish: list[float] = field(default_factory=list)
    established: int = 0  # IKE_SAs that reached ESTABLISHED, as initiator or responder
    retransmissions: int = 0  # requests sent again after no answer came in time
    rekeys: int = 0  # CHILD_SAs replaced by CREATE_CHILD_SA (either side started it)
    expired: int = 0  # CHILD_SAs whose hard lifetime ran out before a rekeying replaced them
    failures: list[tuple[float, str]] = field(default_factory=list)  # (time, reason)

    def to_dict(self) -> dict:
        return {"initiated": self.initiated, "times_to_establish": list(self.times_to_establish),
                "established": self.established, "retransmissions": self.retransmissions, "rekeys": self.rekeys,
                "expired": self.expired,
                "failures": [{"time": t, "reason": r} for t, r in self.failures]}
