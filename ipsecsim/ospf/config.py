"""The frr.conf subset ipsecsim's ospfd reads: FRR's integrated configuration syntax.

A line is matched, word by word, against the commands of the node it is in
(``interface NAME`` and ``router ospf`` open a node) with FRR's unique-prefix
rule (:mod:`._cli`); a line the node does not know is tried at the top level,
as FRR's config reader falls back to the parent node, so indentation does not
matter and ``exit`` is optional. Commands FRR has but the simulator does not
model are refused with a message saying so rather than ignored. Defaults and
ranges are FRR's (ospfd/ospf_vty.c, ospfd/ospfd.h, ospfd/ospf_interface.h).
See docs/frr.md.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any, NoReturn

from ._cli import CliError, Matcher, Word, split_words

__all__ = ["FrrConfigError", "OspfInterfaceConfig", "OspfConfig", "parse_frr_config"]


class FrrConfigError(ValueError):
    """A line of the config FRR (or the simulator) refuses; ``str()`` is ``line L:C: message``."""

    def __init__(self, line: int, column: int, message: str):
        super().__init__(f"line {line}:{column}: {message}")
        self.line = line
        self.column = column
        self.message = message


@dataclass
class OspfInterfaceConfig:
    """The ``ip ospf ...`` settings of one ``interface NAME`` block."""

    name: str
    cost: int | None = None  # None: reference bandwidth / interface bandwidth (auto-cost)
    hello_interval: int = 10
    dead_interval: int | None = None  # None: 4 x hello_interval
    retransmit_interval: int = 5
    transmit_delay: int = 1
    network: str | None = None  # "point-to-point" or "broadcast"; None: by interface type
    area: IPv4Address | None = None
    mtu_ignore: bool = False
    description: str | None = None

    @property
    def dead(self) -> int:
        """The RouterDeadInterval in use: FRR derives 4 x hello when none is configured."""
        return self.dead_interval if self.dead_interval is not None else 4 * self.hello_interval


@dataclass
class OspfConfig:
    """A parsed frr.conf: the ospfd part, and the lines around it that FRR also accepts."""

    hostname: str | None = None
    router_id: IPv4Address | None = None
    networks: list[tuple[IPv4Network, IPv4Address]] = field(default_factory=list)
    interfaces: dict[str, OspfInterfaceConfig] = field(default_factory=dict)
    passive_default: bool = False
    passive: set[str] = field(default_factory=set)
    not_passive: set[str] = field(default_factory=set)
    reference_bandwidth: int = 100  # Mbit/s
    spf_delay: int = 0  # ms
    spf_initial_hold: int = 50  # ms
    spf_max_hold: int = 5000  # ms
    lsa_min_interval: int = 5000  # ms
    lsa_min_arrival: int = 1000  # ms
    log_adjacency_changes: bool = False
    log_adjacency_detail: bool = False
    ospf_enabled: bool = False
    frr_version: str | None = None
    frr_defaults: str = "traditional"
    # Where an area was written as a decimal number (``area 0``): FRR keeps each statement's
    # format (area_id_fmt) and writes it back the same way.
    decimal_networks: set[IPv4Network] = field(default_factory=set)
    decimal_if_areas: set[str] = field(default_factory=set)

    def interface(self, name: str) -> OspfInterfaceConfig:
        """The ``interface name`` block, or FRR's defaults for an interface without one."""
        found = self.interfaces.get(name)
        return found if found is not None else OspfInterfaceConfig(name)

    def is_passive(self, name: str) -> bool:
        if name in self.passive:
            return True
        if name in self.not_passive:
            return False
        return self.passive_default

    def area_for(self, name: str, addresses: Iterable[IPv4Interface]) -> IPv4Address | None:
        """The area interface ``name`` joins, or None if OSPF does not run on it.

        ``ip ospf area`` wins. Otherwise FRR walks its ``network`` statements in the
        order of its prefix tree (ospf_network_run over ospf->networks, a route
        table): by address, a shorter prefix before the longer ones inside it. The
        first statement containing one of the interface's addresses names the
        area, so of two nested statements the wider one wins (unlike IOS, which
        takes the longest match).
        """
        own = self.interfaces.get(name)
        if own is not None and own.area is not None:
            return own.area
        addresses = list(addresses)
        for network, area in sorted(self.networks, key=lambda n: (int(n[0].network_address), n[0].prefixlen)):
            if any(a.ip in network for a in addresses):
                return area
        return None


# -- the parser ------------------------------------------------------------------------------

_RANGE = "(1-65535)"
_AREA = "<A.B.C.D|(0-4294967295)>"


class _Parser:
    def __init__(self) -> None:
        self.config = OspfConfig()
        self.node = "config"
        self.ifname = ""
        self.line = 0
        self.words: list[Word] = []

    # Each handler takes the matched values (keywords and typed arguments, in order).

    def fail(self, message: str) -> NoReturn:
        """Refuse the current line, pointing at its first word (FRR names the command)."""
        raise FrrConfigError(self.line, self.words[0].column, message)

    @staticmethod
    def area(value: Any) -> IPv4Address:
        """An area ID given dotted or as a number (str2area_id)."""
        return IPv4Address(value) if isinstance(value, int) else value

    # top level
    def ignore(self, *values: Any) -> None:
        pass

    def frr_version(self, *values: Any) -> None:
        self.config.frr_version = values[-1]

    def frr_defaults(self, *values: Any) -> None:
        self.config.frr_defaults = values[-1]
        # FRR's datacenter profile turns adjacency logging on (ospfd.c, OSPF_LOG_ADJACENCY_CHANGES).
        self.config.log_adjacency_changes = values[-1] == "datacenter"

    def hostname(self, *values: Any) -> None:
        self.config.hostname = values[-1]

    def interface_node(self, *values: Any) -> None:
        name = values[-1]
        self.node, self.ifname = "interface", name
        self.config.interfaces.setdefault(name, OspfInterfaceConfig(name))

    def router_ospf(self, *values: Any) -> None:
        self.node = "router"
        self.config.ospf_enabled = True

    def line_vty(self, *values: Any) -> None:
        self.node = "line"

    def exit_node(self, *values: Any) -> None:
        self.node = "config"

    def unsupported(self, *values: Any) -> None:
        shown = " ".join(w.text for w in self.words)
        self.fail(f"'{shown}' is FRR configuration the simulator does not model (see docs/frr.md)")

    # interface node
    @property
    def iface(self) -> OspfInterfaceConfig:
        return self.config.interfaces[self.ifname]

    def description(self, *values: Any) -> None:
        self.iface.description = values[-1]

    def cost(self, *values: Any) -> None:
        self.iface.cost = values[-1]

    def hello(self, *values: Any) -> None:
        self.iface.hello_interval = values[-1]

    def dead(self, *values: Any) -> None:
        self.iface.dead_interval = values[-1]

    def retransmit(self, *values: Any) -> None:
        self.iface.retransmit_interval = values[-1]

    def transmit_delay(self, *values: Any) -> None:
        self.iface.transmit_delay = values[-1]

    def network_type(self, *values: Any) -> None:
        self.iface.network = values[-1]

    def if_area(self, *values: Any) -> None:
        if self.config.networks:
            # ospf_vty.c ip_ospf_area: the two ways of enabling OSPF exclude each other.
            self.fail("Please remove all network commands first.")
        area = self.area(values[-1])
        if self.iface.area is not None and self.iface.area != area:
            self.fail("Must remove previous area config before changing ospf area")
        self.iface.area = area
        if isinstance(values[-1], int):
            self.config.decimal_if_areas.add(self.ifname)
        else:
            self.config.decimal_if_areas.discard(self.ifname)

    def mtu_ignore(self, *values: Any) -> None:
        self.iface.mtu_ignore = True

    def if_passive(self, *values: Any) -> None:
        self.config.passive.add(self.ifname)
        self.config.not_passive.discard(self.ifname)

    def if_not_passive(self, *values: Any) -> None:
        self.config.not_passive.add(self.ifname)
        self.config.passive.discard(self.ifname)

    def shutdown(self, *values: Any) -> None:
        self.fail("'shutdown' in frr.conf is not modelled; take the interface down with "
                  "'ifconfig IF down' in the host's run: block or its timeline")

    # router ospf node
    def router_id(self, *values: Any) -> None:
        self.config.router_id = values[-1]

    def network(self, *values: Any) -> None:
        if any(i.area is not None for i in self.config.interfaces.values()):
            self.fail("Please remove all ip ospf area x.x.x.x commands first.")
        prefix, area = values[1], self.area(values[3])
        for existing, old_area in self.config.networks:
            if existing == prefix:
                if old_area != area:  # ospf_vty.c ospf_network_area: one area per prefix
                    self.fail("There is already same network statement.")
                return
        self.config.networks.append((prefix, area))
        if isinstance(values[3], int):
            self.config.decimal_networks.add(prefix)

    def no_network(self, *values: Any) -> None:
        prefix = values[2]
        self.config.networks = [(p, a) for p, a in self.config.networks if p != prefix]
        self.config.decimal_networks.discard(prefix)

    def passive_interface(self, *values: Any) -> None:
        name = values[-1]
        if name == "default":
            # Per-interface settings stay: they override the default (OSPF_IF_PASSIVE_STATUS).
            self.config.passive_default = True
        else:
            self.config.passive.add(name)
            self.config.not_passive.discard(name)

    def no_passive_interface(self, *values: Any) -> None:
        name = values[-1]
        if name == "default":
            self.config.passive_default = False
        else:
            self.config.passive.discard(name)
            self.config.not_passive.add(name)

    def reference_bandwidth(self, *values: Any) -> None:
        self.config.reference_bandwidth = values[-1]

    def spf_throttle(self, *values: Any) -> None:
        self.config.spf_delay, self.config.spf_initial_hold, self.config.spf_max_hold = values[-3:]

    def lsa_throttle(self, *values: Any) -> None:
        self.config.lsa_min_interval = values[-1]

    def lsa_arrival(self, *values: Any) -> None:
        self.config.lsa_min_arrival = values[-1]

    def log_adjacency(self, *values: Any) -> None:
        self.config.log_adjacency_changes = True
        self.config.log_adjacency_detail = values[-1] == "detail"

    def no_log_adjacency(self, *values: Any) -> None:
        self.config.log_adjacency_changes = False
        self.config.log_adjacency_detail = False


_P = _Parser
_TOP: list[tuple[str, Callable[..., None]]] = [
    ("frr version LINE...", _P.frr_version),
    ("frr defaults <traditional|datacenter>", _P.frr_defaults),
    ("hostname WORD", _P.hostname),
    ("log LINE...", _P.ignore),
    ("no log LINE...", _P.ignore),
    ("service LINE...", _P.ignore),
    ("no service LINE...", _P.ignore),
    ("password LINE...", _P.ignore),
    ("enable password LINE...", _P.ignore),
    ("ip forwarding", _P.ignore),
    ("line vty", _P.line_vty),
    ("end", _P.exit_node),
    ("exit", _P.exit_node),
    ("exit-vrf", _P.exit_node),
    ("interface IFNAME", _P.interface_node),
    ("router ospf", _P.router_ospf),
    ("=interface IFNAME vrf WORD", _P.unsupported),
    ("=router ospf (1-65535)", _P.unsupported),
    ("=router ospf vrf WORD", _P.unsupported),
    ("=router <bgp|rip|isis|eigrp|babel|openfabric> LINE...", _P.unsupported),
    ("=router <bgp|rip|isis|eigrp|babel|openfabric|ripng>", _P.unsupported),
    ("=router ospf6", _P.unsupported),
    ("=ip route LINE...", _P.unsupported),
    ("=ipv6 route LINE...", _P.unsupported),
    ("=ip prefix-list LINE...", _P.unsupported),
    ("=access-list LINE...", _P.unsupported),
    ("=route-map LINE...", _P.unsupported),
    ("=vrf WORD", _P.unsupported),
    ("=key chain WORD", _P.unsupported),
]
_INTERFACE: list[tuple[str, Callable[..., None]]] = [
    ("description LINE...", _P.description),
    ("no description", _P.ignore),
    (f"ip ospf cost {_RANGE}", _P.cost),
    (f"ip ospf hello-interval {_RANGE}", _P.hello),
    (f"ip ospf dead-interval {_RANGE}", _P.dead),
    (f"ip ospf retransmit-interval {_RANGE}", _P.retransmit),
    (f"ip ospf transmit-delay {_RANGE}", _P.transmit_delay),
    ("ip ospf network <point-to-point|broadcast>", _P.network_type),
    (f"ip ospf area {_AREA}", _P.if_area),
    ("ip ospf mtu-ignore", _P.mtu_ignore),
    ("ip ospf passive", _P.if_passive),
    ("no ip ospf passive", _P.if_not_passive),
    ("no shutdown", _P.ignore),
    ("shutdown", _P.shutdown),
    ("link-detect", _P.ignore),
    ("=ip ospf dead-interval minimal hello-multiplier (1-10)", _P.unsupported),
    ("=ip ospf network <non-broadcast|point-to-multipoint> [non-broadcast]", _P.unsupported),
    ("=ip ospf priority (0-255)", _P.unsupported),
    ("=ip ospf authentication LINE...", _P.unsupported),
    ("=ip ospf authentication", _P.unsupported),
    ("=ip ospf authentication-key LINE...", _P.unsupported),
    ("=ip ospf message-digest-key LINE...", _P.unsupported),
    ("=ip ospf bfd LINE...", _P.unsupported),
    ("=ip ospf bfd", _P.unsupported),
    ("=ip address LINE...", _P.unsupported),
    ("=ipv6 LINE...", _P.unsupported),
    ("=bandwidth LINE...", _P.unsupported),
    ("=mtu LINE...", _P.unsupported),
]
_ROUTER: list[tuple[str, Callable[..., None]]] = [
    ("ospf router-id A.B.C.D", _P.router_id),
    ("router-id A.B.C.D", _P.router_id),
    (f"network A.B.C.D/M area {_AREA}", _P.network),
    (f"no network A.B.C.D/M area {_AREA}", _P.no_network),
    ("passive-interface IFNAME", _P.passive_interface),
    ("no passive-interface IFNAME", _P.no_passive_interface),
    ("auto-cost reference-bandwidth (1-4294967)", _P.reference_bandwidth),
    ("timers throttle spf (0-600000) (0-600000) (0-600000)", _P.spf_throttle),
    ("timers throttle lsa all (0-5000)", _P.lsa_throttle),
    ("timers lsa min-arrival (0-600000)", _P.lsa_arrival),
    ("log-adjacency-changes [detail]", _P.log_adjacency),
    ("no log-adjacency-changes [detail]", _P.no_log_adjacency),
    ("=ospf rfc1583compatibility", _P.unsupported),
    ("=ospf abr-type LINE...", _P.unsupported),
    ("=redistribute LINE...", _P.unsupported),
    ("=default-information LINE...", _P.unsupported),
    ("=area LINE...", _P.unsupported),
    ("=neighbor LINE...", _P.unsupported),
    ("=distance LINE...", _P.unsupported),
    ("=max-metric LINE...", _P.unsupported),
    ("=capability opaque", _P.unsupported),
]
_NODES = {
    "config": Matcher(_TOP),
    "interface": Matcher(_INTERFACE),
    "router": Matcher(_ROUTER),
    "line": Matcher([("exec-timeout LINE...", _P.ignore), ("login", _P.ignore), ("no login", _P.ignore)]),
}


def parse_frr_config(text: str) -> OspfConfig:
    """Parse an frr.conf; FrrConfigError names the first line (and word) FRR would refuse."""
    parser = _Parser()
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        stripped = line.strip()
        if not stripped or stripped[0] in "!#":
            continue
        words = split_words(line)
        parser.line, parser.words = number, words
        try:
            handler, values = _match(parser, line, words)
        except CliError as error:
            raise FrrConfigError(number, error.column, error.message) from None
        handler(parser, *values)
    return parser.config


def _match(parser: _Parser, line: str, words: list[Word]) -> tuple[Callable[..., None], list[Any]]:
    """Match in the current node, then at the top level (FRR tries the parent node)."""
    node = parser.node
    if node == "config":
        return _NODES["config"].match(line, words)
    try:
        return _NODES[node].match(line, words)
    except CliError as first:
        try:
            found = _NODES["config"].match(line, words)
        except CliError:
            if node == "line" and line[:1].isspace():
                return _P.ignore, []  # other vty settings: nothing the simulator has
            raise first from None
        parser.node = "config"
        return found
