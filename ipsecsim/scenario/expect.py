"""``expect:`` entries: one subject (a ping, a flow, an interface, a drop reason) and its measures.

Each measure holds a :class:`Comparison` already in SI units: ``rtt_*``, ``delay_*`` and
``jitter`` in seconds, ``throughput`` in bit/s, ``loss`` as a fraction, ``ibytes``/``obytes``
in bytes, everything else a count. A run checks each of :meth:`Expectation.checks` against what
it measured and reports e.g. ``ping A -> 10.0.2.2 received == 5: got 4``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import ipaddress

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from .comparison import Comparison
from .fields import (
    Address, BytesCmp, CountCmp, DurationCmp, Flag, HostName, InterfaceRef, PercentCmp, RateCmp, Text, bad,
)  # fmt: skip
from .node import Node

__all__ = ["CounterExpect", "DropsExpect", "Expect", "Expectation", "FlowExpect", "IkeExpect", "IkeSubject",
           "OutageExpect", "PingExpect", "PingSubject", "RouteExpect", "RouteSubject"]


class Expectation(Node):
    """What every expectation has: a subject, and measures compared with what a run measured."""

    subject_key: ClassVar[str]  # the YAML key naming the subject: ping, flow, counter, drops
    _example: ClassVar[str]

    @property
    def subject(self) -> str:
        """The subject in words, e.g. ``"ping A -> 10.0.2.2"``."""
        raise NotImplementedError

    def checks(self) -> tuple[tuple[str, Comparison], ...]:
        """``(measure, comparison)`` for each measure written, in schema order."""
        return tuple((name, value) for name, value in self if isinstance(value, Comparison))

    def describe(self, measure: str) -> str:
        """``"ping A -> 10.0.2.2 received == 5"``: a check in words, for a report."""
        return f"{self.subject} {measure} {getattr(self, measure)}"

    @model_validator(mode="after")
    def _measures_something(self) -> Expectation:
        if not self.checks():
            raise bad(f"nothing to check; add a measure, e.g. {self._example}")
        return self


class PingSubject(Node):
    """Which ping, by the host it runs on and the address it pings; it must match exactly one
    ping of the scenario (checked at load time). A ping's name is the plain way: ``ping: big``."""

    from_host: HostName = Field(alias="from")
    to: Address


def _ping_by(value: object) -> str:
    """A mapping is a ping by host and address; anything else its name (so a typo in a mapping
    is told about the mapping's keys, not that a mapping is not text)."""
    return "where" if isinstance(value, dict | PingSubject) else "name"


PingRef = Annotated[Annotated[Text, Tag("name")] | Annotated[PingSubject, Tag("where")], Discriminator(_ping_by)]


class PingExpect(Expectation):
    subject_key = "ping"
    _example = "received: 5"
    ping: PingRef  # a ping's name (ping-1, or its name:), or {from: HOST, to: ADDRESS}
    transmitted: CountCmp | None = None
    received: CountCmp | None = None
    loss: PercentCmp | None = None
    rtt_min: DurationCmp | None = None
    rtt_avg: DurationCmp | None = None
    rtt_max: DurationCmp | None = None

    @property
    def subject(self) -> str:
        if isinstance(self.ping, str):
            return f"ping {self.ping}"
        return f"ping {self.ping.from_host} -> {self.ping.to}"


class FlowExpect(Expectation):
    subject_key = "flow"
    _example = "loss: '< 1%'"
    flow: Text  # the name of a udp flow
    sent: CountCmp | None = None
    received: CountCmp | None = None
    loss: PercentCmp | None = None
    throughput: RateCmp | None = None
    delay_avg: DurationCmp | None = None
    delay_max: DurationCmp | None = None
    jitter: DurationCmp | None = None
    reordered: CountCmp | None = None

    @property
    def subject(self) -> str:
        return f"flow {self.flow}"


class CounterExpect(Expectation):
    subject_key = "counter"
    _example = "ipackets: '>= 5'"
    counter: InterfaceRef  # any interface, also ones a script creates (ipsec0, lo0)
    ipackets: CountCmp | None = None
    opackets: CountCmp | None = None
    ibytes: BytesCmp | None = None
    obytes: BytesCmp | None = None
    ierrors: CountCmp | None = None
    oerrors: CountCmp | None = None
    iqdrops: CountCmp | None = None

    @property
    def subject(self) -> str:
        return f"counter {self.counter}"


class DropsExpect(Expectation):
    subject_key = "drops"
    _example = "count: 0"
    drops: Text  # a drop reason, e.g. "queue full", "esps_badauth"
    count: CountCmp
    host: HostName | None = None  # only drops on this host; all hosts when absent

    @property
    def subject(self) -> str:
        return f"drops '{self.drops}'" + (f" on {self.host}" if self.host else "")


class OutageExpect(Expectation):
    """The outages of a UDP flow or a ping (world/outages.py): how many, and how long each.

    ``duration`` and ``lost`` must hold for every outage (and hold when there is none: add
    ``count: '>= 1'`` to require one); an outage still going at the end of the run lasts,
    for ``duration``, until the end."""

    subject_key = "outage"
    _example = "duration: '<= 6s'"
    outage: Text  # the name of a udp flow or a ping
    count: CountCmp | None = None
    duration: DurationCmp | None = None
    lost: CountCmp | None = None

    @property
    def subject(self) -> str:
        return f"outages of {self.outage}"


class RouteSubject(Node):
    """A route of ``host``'s table at the end of the run: to an address, the route a packet to
    it takes (longest prefix match, as ``route -n get`` answers); to a prefix, that very entry."""

    host: HostName
    to: Text

    @field_validator("to")
    @classmethod
    def _destination(cls, to: str) -> str:
        try:
            ipaddress.ip_network(to, strict=False)
        except ValueError:
            raise bad(f"'{to}' is not an address or a prefix; write it like 10.2.0.0/24 or 10.2.0.1") from None
        return to


class RouteExpect(Expectation):
    """Where a host's route points at the end of the run: its interface (``via``), its next hop
    (``gateway``). A route that is not there fails, saying so."""

    subject_key = "route"
    _example = "via: ipsec0"
    route: RouteSubject
    via: Text | None = None  # the interface, as netstat -rn's Netif
    gateway: Address | None = None

    @property
    def subject(self) -> str:
        return f"route {self.route.host} to {self.route.to}"

    def route_checks(self) -> tuple[tuple[str, str], ...]:
        """``(measure, wanted)``: the interface and gateway written, as text."""
        return tuple((name, str(value)) for name, value in (("via", self.via), ("gateway", self.gateway))
                     if value is not None)

    def describe(self, measure: str) -> str:
        return f"{self.subject} {measure} {getattr(self, measure)}"

    @model_validator(mode="after")
    def _measures_something(self) -> RouteExpect:
        if not self.route_checks():
            raise bad(f"nothing to check; add a measure, e.g. {self._example}")
        return self


IKE_MEASURES = ("established", "failure", "retransmissions", "rekeys", "time_to_establish")


class IkeSubject(Node):
    """A connection of a host's swanctl.conf (checked at load time). The measures may also be
    written in this mapping, ``{ike: {host: A, connection: NAME, established: true}}``."""

    host: HostName
    connection: Text
    established: Flag | None = None
    failure: Text | None = None
    retransmissions: CountCmp | None = None
    rekeys: CountCmp | None = None
    time_to_establish: DurationCmp | None = None


class IkeExpect(Expectation):
    """What charon counted for one connection on one host (``result.ike``): whether an IKE_SA
    came up (``established``), a failure whose reason contains ``failure``, how many
    retransmissions and rekeys, and how long each IKE_SA the host initiated took to come up."""

    subject_key = "ike"
    _example = "established: true"
    ike: IkeSubject
    established: Flag | None = None
    failure: Text | None = None
    retransmissions: CountCmp | None = None
    rekeys: CountCmp | None = None
    time_to_establish: DurationCmp | None = None

    @property
    def subject(self) -> str:
        return f"ike {self.ike.host} {self.ike.connection}"

    def ike_checks(self) -> tuple[tuple[str, object, Node], ...]:
        """``(measure, wanted, the mapping it is written in)`` for each measure, in schema order."""
        out = []
        for name in IKE_MEASURES:
            for node in (self, self.ike):
                value = getattr(node, name)
                if value is not None:
                    out.append((name, value, node))
        return tuple(out)

    def checks(self) -> tuple[tuple[str, Comparison], ...]:
        return tuple((name, value) for name, value, _ in self.ike_checks() if isinstance(value, Comparison))

    def describe(self, measure: str) -> str:
        wanted = next(value for name, value, _ in self.ike_checks() if name == measure)
        shown = str(wanted).lower() if isinstance(wanted, bool) else f"'{wanted}'" if measure == "failure" else wanted
        return f"{self.subject} {measure} {shown}"

    def where(self, key: str | None = None) -> str:
        node = next((n for name, _, n in self.ike_checks() if name == key), self)
        return Node.where(node, key)

    @model_validator(mode="after")
    def _measures_something(self) -> IkeExpect:
        for name in IKE_MEASURES:
            if getattr(self, name) is not None and getattr(self.ike, name) is not None:
                raise bad(f"{name} is written twice, in ike: and beside it; write it once")
        if not self.ike_checks():
            raise bad(f"nothing to check; add a measure, e.g. {self._example}")
        return self


SUBJECTS: dict[str, type[Expectation]] = {
    c.subject_key: c for c in (PingExpect, FlowExpect, CounterExpect, DropsExpect, OutageExpect, RouteExpect,
                               IkeExpect)}


def _subject(value: object) -> str | None:
    if isinstance(value, Expectation):  # serializing
        return f"{value.subject_key}-expect"
    if isinstance(value, dict):
        for key in value:
            if key in SUBJECTS:
                return f"{key}-expect"
    return None


Expect = Annotated[
    Annotated[PingExpect, Tag("ping-expect")]
    | Annotated[FlowExpect, Tag("flow-expect")]
    | Annotated[CounterExpect, Tag("counter-expect")]
    | Annotated[DropsExpect, Tag("drops-expect")]
    | Annotated[OutageExpect, Tag("outage-expect")]
    | Annotated[RouteExpect, Tag("route-expect")]
    | Annotated[IkeExpect, Tag("ike-expect")],
    Discriminator(_subject, custom_error_type="expect_subject", custom_error_message="no subject"),
]
