"""The scenario as typed, frozen values: the schema of DESIGN.md "Scenario file (YAML)".

Every class mirrors one YAML mapping, keys in snake_case, unknown keys refused. Values are in
SI units (seconds, bit/s, bytes, fractions). Each object remembers where it was written
(:attr:`Node.line`, :attr:`Node.col`, :meth:`Node.pos_of`) so a runtime problem can point
back into the file. Checks that need the whole scenario (does host ``B`` exist?) live in
``checks.py``; defaults that depend on other values (link names, ``udp.stop``) are filled in
there too, so a loaded :class:`Scenario` has no blanks.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

from .expect import Expect
from .fields import (
    Address, Duration, Flag, HostName, Int, IPAddress, LinkEnd, Mtu, Percent, PositiveDuration,
    PositiveRate, Queue, QueueLimit, ScriptText, Text, bad,
)  # fmt: skip
from .node import Node, none_is_empty
from .tunnels import Tunnel
from .yamlmarks import MarkedMap
from .units import format_duration

__all__ = [
    "GilbertElliott", "HostSpec", "HostState", "InterfaceState", "Link", "LinkChanges", "LinkSet", "LinkState",
    "PingTraffic", "RunCommand", "Scenario", "TimelineEvent", "UdpFlow",
]  # fmt: skip

IPV4_MAX_PAYLOAD = 65535 - 20 - 8  # IPv4 total length minus IP and ICMP/UDP headers
IPV6_MAX_PAYLOAD = 65535 - 8  # IPv6 payload length minus the ICMPv6/UDP header


# --- links -----------------------------------------------------------------------------------


class GilbertElliott(Node):
    """Two-state burst loss: GOOD -> BAD with probability ``p`` per packet, BAD -> GOOD with ``r``."""

    model: Literal["gilbert-elliott"]
    p: Percent
    r: Percent
    loss_good: Percent = 0.0
    loss_bad: Percent = 1.0


Loss = Annotated[
    Annotated[Percent, Tag("percent")] | Annotated[GilbertElliott, Tag("gilbert-elliott")],
    Discriminator(lambda v: "gilbert-elliott" if isinstance(v, dict | GilbertElliott) else "percent"),
]


class Link(Node):
    """A point-to-point link between two physical interfaces. ``loss`` is a fraction or a model."""

    a: LinkEnd
    b: LinkEnd
    name: Text = ""  # "" until loaded: then "A:em0-B:em0" unless written
    bandwidth: PositiveRate = 1e9
    delay: Duration = 0.0
    jitter: Duration = 0.0
    reorder: Flag = False
    loss: Loss = 0.0
    queue: Queue = QueueLimit(1000, "packets")
    mtu: Mtu = 1500
    up: Flag = True


class LinkChanges(Node):
    """The attributes a timeline ``set:`` changes; ``None`` means unchanged."""

    bandwidth: PositiveRate | None = None
    delay: Duration | None = None
    jitter: Duration | None = None
    loss: Loss | None = None
    queue: Queue | None = None
    mtu: Mtu | None = None

    @model_validator(mode="after")
    def _something(self) -> LinkChanges:
        if not self.changed():
            raise bad("changes nothing; name what to set, e.g. set: {loss: 5%}")
        return self

    def changed(self) -> dict[str, object]:
        """The attributes this change sets, name -> new value."""
        return {k: v for k, v in self if v is not None}


class HostSpec(Node):
    """A host's ``run:`` script, run at time 0 (``None``: the host only has what links give it),
    its ``frr:`` configuration (an frr.conf text): with a ``router ospf`` block, ospfd starts
    once the ``run:`` script is done, and its ``swanctl:`` configuration (a swanctl.conf text,
    checked when the scenario loads)."""

    _scripts = ("run", "frr", "swanctl")
    run: ScriptText | None = None
    frr: ScriptText | None = None
    swanctl: ScriptText | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty(cls, data: object) -> object:
        return {} if data is None else data


# --- traffic ---------------------------------------------------------------------------------


def _payload_fits(size: int, info: ValidationInfo) -> int:
    to = info.data.get("to")
    if to is not None and to.version == 4 and size > IPV4_MAX_PAYLOAD:
        raise bad(f"{size} bytes do not fit in an IPv4 packet; at most {IPV4_MAX_PAYLOAD}")
    return size


def _same_family(source: IPAddress | None, info: ValidationInfo) -> IPAddress | None:
    to = info.data.get("to")
    if source is not None and to is not None and source.version != to.version:
        raise bad(f"source {source} is IPv{source.version} but 'to' {to} is IPv{to.version}; use one family")
    return source


class PingTraffic(Node):
    """``ping`` as on FreeBSD: ``count`` echo requests of ``size`` payload bytes every ``interval``."""

    _wrapper = "ping"
    from_host: HostName = Field(alias="from")
    to: Address
    count: Annotated[int, Int(1, 10_000_000)] = 5
    interval: PositiveDuration = 1.0
    size: Annotated[int, Int(0, IPV6_MAX_PAYLOAD)] = 56
    start: Duration = 0.0
    ttl: Annotated[int, Int(1, 255)] | None = None
    source: Address | None = None
    name: Text = ""  # "" until loaded: then "ping-1", "ping-2"... unless written

    _size = field_validator("size")(_payload_fits)
    _source = field_validator("source")(_same_family)


class UdpFlow(Node):
    """A constant-bit-rate UDP flow: ``size``-byte payloads at ``rate`` (payload bits) from ``start`` to ``stop``."""

    _wrapper = "udp"
    from_host: HostName = Field(alias="from")
    to: Address
    rate: PositiveRate
    size: Annotated[int, Int(16, IPV6_MAX_PAYLOAD)] = 1000  # a sequence number and a send time ride in it
    start: Duration = 0.0
    stop: Duration = math.inf  # inf until loaded: then the scenario's duration unless written
    sport: Annotated[int, Int(0, 65535)] = 0  # 0: the host picks an ephemeral port
    dport: Annotated[int, Int(1, 65535)] = 9  # discard
    source: Address | None = None
    name: Text = ""  # "" until loaded: then "udp-1", "udp-2"... unless written

    _size = field_validator("size")(_payload_fits)
    _source = field_validator("source")(_same_family)

    @field_validator("stop")
    @classmethod
    def _after_start(cls, stop: float, info: ValidationInfo) -> float:
        start = info.data.get("start")
        if start is not None and stop <= start:
            raise bad(f"the flow stops before it starts; stop must be later than start ({format_duration(start)})")
        return stop


def _one_traffic_kind(value: object) -> object:
    if isinstance(value, PingTraffic | UdpFlow):
        return value
    if not isinstance(value, dict) or not value:
        raise bad("a traffic entry is ping: {...} or udp: {...}")
    for key in value:
        if key not in ("ping", "udp"):
            raise bad(f"unknown traffic kind '{key}'; write ping: or udp:", key=key)
    if len(value) > 1:
        raise bad("one entry is one ping or one udp flow; start another '- ' entry", key=list(value)[1])
    return value


Traffic = Annotated[
    Annotated[PingTraffic, Tag("ping")] | Annotated[UdpFlow, Tag("udp")],
    Discriminator(lambda v: "udp" if isinstance(v, UdpFlow) or (isinstance(v, dict) and "udp" in v) else "ping"),
    BeforeValidator(_one_traffic_kind),
]


# --- timeline --------------------------------------------------------------------------------


class TimelineEvent(Node):
    """Something that happens at time ``at``: one of :class:`RunCommand`, :class:`LinkState`,
    :class:`LinkSet`, :class:`InterfaceState`, :class:`HostState`."""

    at: Duration


class RunCommand(TimelineEvent):
    """Run a script on ``host`` at ``at``."""

    _scripts = ("run",)
    host: HostName
    run: ScriptText


class LinkState(TimelineEvent):
    """Take a link down or bring it up."""

    link: Text
    state: Literal["up", "down"]

    @property
    def up(self) -> bool:
        return self.state == "up"


class LinkSet(TimelineEvent):
    """Change link attributes (``set:`` in YAML)."""

    link: Text
    changes: LinkChanges = Field(alias="set")


class InterfaceState(TimelineEvent):
    """Take an interface down or up, as ``ifconfig IF down|up`` does (IFF_UP)."""

    host: HostName
    interface: Text
    state: Literal["up", "down"]

    @property
    def up(self) -> bool:
        return self.state == "up"


class HostState(TimelineEvent):
    """Power a host off (``down``) or boot it again (``up``): see docs/scenario.md "Timeline"."""

    host: HostName
    state: Literal["up", "down"]

    @property
    def up(self) -> bool:
        return self.state == "up"


_ACTIONS: dict[type, str] = {RunCommand: "run-command", LinkState: "link-state", LinkSet: "link-set",
                             InterfaceState: "interface-state", HostState: "host-state"}


def _timeline_action(value: object) -> str | None:
    if isinstance(value, TimelineEvent):  # serializing
        return _ACTIONS[type(value)]
    if not isinstance(value, dict):
        return None
    if "interface" in value and "run" not in value:
        return "interface-state"
    if "host" in value and "state" in value and "run" not in value:
        return "host-state"
    if "run" in value or "host" in value:
        return "run-command"
    if "set" in value:
        return "link-set"
    return "link-state" if "link" in value or "state" in value else None


Timeline = Annotated[
    Annotated[RunCommand, Tag("run-command")]
    | Annotated[LinkState, Tag("link-state")]
    | Annotated[LinkSet, Tag("link-set")]
    | Annotated[InterfaceState, Tag("interface-state")]
    | Annotated[HostState, Tag("host-state")],
    Discriminator(_timeline_action, custom_error_type="timeline_action", custom_error_message="no action"),
]


# --- the scenario ----------------------------------------------------------------------------


def _hosts(value: object) -> object:
    """``hosts:`` may be empty, and so may a host (``C:`` alone): it then sits where its name is."""
    if value is None:
        return {}
    if isinstance(value, MarkedMap):
        for name, spec in list(value.items()):
            if spec is None:
                value = value.replaced(name, MarkedMap(span=value.key_spans[name]))
    return value


class Scenario(Node):
    """A whole scenario file. After :func:`load_scenario`, ``hosts`` names every host (also those
    only created by links), every link, flow and tunnel has a name, every ``udp.stop`` is set,
    and every tunnel end has its ``interface`` and every tunnel its ``spi``."""

    name: Text
    description: Text | None = None
    duration: PositiveDuration
    seed: Annotated[int, Int(0, 2**64 - 1)] = 1
    links: Annotated[list[Link], BeforeValidator(none_is_empty)] = []
    hosts: Annotated[dict[HostName, HostSpec], BeforeValidator(_hosts)] = {}
    tunnels: Annotated[list[Tunnel], BeforeValidator(none_is_empty)] = []  # expanded by tunnels.py
    traffic: Annotated[list[Traffic], BeforeValidator(none_is_empty)] = []
    timeline: Annotated[list[Timeline], BeforeValidator(none_is_empty)] = []
    expect: Annotated[list[Expect], BeforeValidator(none_is_empty)] = []

    @property
    def pings(self) -> list[PingTraffic]:
        return [t for t in self.traffic if isinstance(t, PingTraffic)]

    @property
    def udp_flows(self) -> list[UdpFlow]:
        return [t for t in self.traffic if isinstance(t, UdpFlow)]

    def link(self, name: str) -> Link:
        """The link called ``name``; ``KeyError`` if there is none."""
        for link in self.links:
            if link.name == name:
                return link
        raise KeyError(name)
