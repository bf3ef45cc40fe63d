"""The text of vtysh's ``show`` commands, from the snapshots in :mod:`.views`.

Formats follow FRR 8/9: ``show ip ospf neighbor|interface|route|database`` as
ospfd/ospf_vty.c prints them, ``show ip route`` as zebra/zebra_vty.c does, and
``show running-config`` in the order FRR writes an integrated configuration.
Every function returns the whole text, each line ending in a newline.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address

from .config import OspfConfig
from .views import LsaView, NeighborView, OspfInterfaceView, OspfRouteView, RouteView

__all__ = [
    "KernelIf", "ospf_timeval", "zebra_uptime", "show_neighbors", "show_interfaces", "show_ospf_routes",
    "show_database", "show_routes", "show_running_config", "ROUTE_CODES",
]


def ospf_timeval(seconds: float) -> str:
    """ospfd's timer text (ospf_timeval_dump): ``35.123s``, ``4m05s``, ``2h03m04s``, ``1d02h03m``."""
    usec = max(0, round(seconds * 1_000_000))
    sec, us = divmod(usec, 1_000_000)
    ms = us // 1000
    w, rest = divmod(sec, 7 * 86400)
    d, rest = divmod(rest, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    if w:
        return f"{w}w{d}d{h:02d}h"
    if d:
        return f"{d}d{h:02d}h{m:02d}m"
    if h:
        return f"{h}h{m:02d}m{s:02d}s"
    if m:
        return f"{m}m{s:02d}s"
    if s or ms:
        return f"{s}.{ms:03d}s"
    return f"{us} usecs"


def zebra_uptime(seconds: float) -> str:
    """zebra's route age: ``00:00:12`` under a day, ``1d02h03m`` under a week, then ``01w2d03h``."""
    sec = max(0, int(seconds))
    days, rest = divmod(sec, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    if days == 0:
        return f"{h:02d}:{m:02d}:{s:02d}"
    if days < 7:
        return f"{days}d{h:02d}h{m:02d}m"
    return f"{days // 7:02d}w{days % 7}d{h:02d}h"


# -- show ip ospf neighbor ------------------------------------------------------------------------


def show_neighbors(neighbors: Iterable[NeighborView]) -> str:
    """``show ip ospf neighbor``: a blank line, the header, one row per neighbor, a blank line."""
    lines = ["", f"{'Neighbor ID':<15} {'Pri':>3} {'State':<15} {'Up Time':<15} {'Dead Time':>9} "
                 f"{'Address':<15} {'Interface':<32} {'RXmtL':>5} {'RqstL':>5} {'DBsmL':>5}"]
    for n in neighbors:
        if n.state == "Down":
            continue  # ospf_vty.c show_ip_ospf_neighbor_sub leaves Down neighbors out
        state = f"{n.state}/{n.role}"
        interface = f"{n.interface}:{n.local_address}"
        lines.append(f"{str(n.router_id):<15} {n.priority:>3} {state:<15} {ospf_timeval(n.up_time):<15} "
                     f"{ospf_timeval(n.dead_time):>9} {str(n.address):<15} {interface:<32} "
                     f"{n.retransmit_count:>5} {n.request_count:>5} {n.summary_count:>5}")
    lines.append("")
    return "\n".join(lines) + "\n"


# -- show ip ospf interface -------------------------------------------------------------------------


@dataclass(frozen=True)
class KernelIf:
    """What zebra knows of an interface from the kernel: the ``ifindex`` line's facts."""

    index: int
    mtu: int
    bandwidth: int  # Mbit/s, 0 when the kernel reports none
    flags: str  # "<UP,POINTOPOINT,RUNNING,MULTICAST>"


def show_interfaces(views: Iterable[OspfInterfaceView], kernel: dict[str, KernelIf], *,
                    mtu_ignore: Iterable[str] = (), name: str | None = None) -> str:
    """``show ip ospf interface [NAME]``: each OSPF interface in name order, then a blank line.

    With ``name``, an interface the kernel has but OSPF does not run on says so,
    and a name the kernel does not know is "No such interface name"
    (ospf_vty.c show_ip_ospf_interface_common).
    """
    ignored = set(mtu_ignore)
    chosen = sorted((v for v in views if name is None or v.name == name), key=lambda v: _natural(v.name))
    out: list[str] = []
    if name is not None and not chosen:
        k = kernel.get(name)
        if k is None:
            out.append("No such interface name")
        else:
            out += _ifindex_lines(name, "RUNNING" in k.flags and "UP" in k.flags, k)
            out.append("  OSPF not enabled on this interface")
    for v in chosen:
        out += _ifindex_lines(v.name, v.up, kernel.get(v.name, KernelIf(0, v.mtu, 0, "<>")))
        if not v.up:
            out.append("  OSPF is enabled, but not running on this interface")
            continue
        if v.peer is not None:
            where = f" Peer {v.peer},"
        else:
            where = f" Broadcast {v.address.network.broadcast_address},"
        out.append(f"  Internet Address {v.address.with_prefixlen},{where} Area {v.area}")
        out.append(f"  MTU mismatch detection: {'disabled' if v.name in ignored else 'enabled'}")
        out.append(f"  Router ID {v.router_id}, Network Type {v.network_type}, Cost: {v.cost}")
        out.append(f"  Transmit Delay is {v.transmit_delay} sec, State {v.state}, Priority {v.priority}")
        # ospf_vty.c prints this one line whenever no DR is known (point-to-point included).
        out.append("  No backup designated router on this network")
        groups = " <None>" if v.passive else " OSPFAllRouters"
        if v.state in ("DR", "Backup") and not v.passive:
            groups += " OSPFDesignatedRouters"
        out.append(f"  Multicast group memberships:{groups}")
        out.append(f"  Timer intervals configured, Hello {v.hello}s, Dead {v.dead}s, Wait {v.dead}s, "
                   f"Retransmit {v.retransmit}")
        if v.passive:
            out.append("    No Hellos (Passive interface)")
        else:
            out.append(f"    Hello due in {ospf_timeval(v.hello_due)}")
        out.append(f"  Neighbor Count is {v.neighbors}, Adjacent neighbor count is {v.adjacent}")
        out.append("  Graceful Restart hello delay: 10s")  # OSPF_HELLO_DELAY_DEFAULT: not configurable here
    out.append("")
    return "".join(line + "\n" for line in out)


def _ifindex_lines(name: str, up: bool, k: KernelIf) -> list[str]:
    return [f"{name} is {'up' if up else 'down'}",
            f"  ifindex {k.index}, MTU {k.mtu} bytes, BW {k.bandwidth} Mbit {k.flags}"]


# -- show ip ospf route -----------------------------------------------------------------------------


def show_ospf_routes(routes: Iterable[OspfRouteView]) -> str:
    """``show ip ospf route``: the network table (intra-area), then the empty router and external tables."""
    out = ["============ OSPF network routing table ============"]
    for r in sorted(routes, key=lambda r: (int(r.prefix.network_address), r.prefix.prefixlen)):
        out.append(f"N    {str(r.prefix):<18}    [{r.cost}] area: {r.area}")
        for gateway, ifname in r.nexthops:
            if gateway is None or r.connected:
                out.append(f"{'':24}   directly attached to {ifname}")
            else:
                out.append(f"{'':24}   via {gateway}, {ifname}")
    out += ["", "============ OSPF router routing table =============", "",
            "============ OSPF external routing table ===========", "", ""]
    return "\n".join(out) + "\n"


# -- show ip ospf database --------------------------------------------------------------------------

_LSA_TITLES = {1: "Router Link States", 2: "Net Link States", 3: "Summary Link States",
               4: "ASBR-Summary Link States", 5: "AS External Link States"}
_LSA_HEAD = "Link ID         ADV Router      Age  Seq#       CkSum"


def show_database(router_id: IPv4Address, lsas: Iterable[LsaView], area: IPv4Address) -> str:
    """``show ip ospf database``: the LSA headers, by type; area-scoped types under ``area``."""
    out = ["", f"       OSPF Router with ID ({router_id})", ""]
    by_type: dict[int, list[LsaView]] = {}
    for lsa in lsas:
        by_type.setdefault(lsa.type, []).append(lsa)
    for lsa_type in sorted(by_type):
        title = _LSA_TITLES.get(lsa_type, f"Type-{lsa_type} Link States")
        out.append(f"                {title}" + ("" if lsa_type == 5 else f" (Area {area})"))
        out.append("")
        out.append(_LSA_HEAD + ("  Link count" if lsa_type == 1 else ""))
        for lsa in sorted(by_type[lsa_type], key=lambda x: (int(x.link_state_id), int(x.advertising_router))):
            row = (f"{str(lsa.link_state_id):<15} {str(lsa.advertising_router):<15} {lsa.age:>4} "
                   f"0x{lsa.seq & 0xFFFFFFFF:08x} 0x{lsa.checksum:04x}")
            if lsa_type == 1:
                row += f" {lsa.link_count}"
            out.append(row)
        out.append("")
    out.append("")
    return "\n".join(out) + "\n"


# -- show ip route ----------------------------------------------------------------------------------

ROUTE_CODES = (
    "Codes: K - kernel route, C - connected, S - static, R - RIP,\n"
    "       O - OSPF, I - IS-IS, B - BGP, E - EIGRP, N - NHRP,\n"
    "       T - Table, v - VNC, V - VNC-Direct, A - Babel, F - PBR,\n"
    "       f - OpenFabric,\n"
    "       > - selected route, * - FIB route, q - queued, r - rejected, b - backup\n"
    "       t - trapped, o - offload failure\n"
)
_CODE = {"kernel": "K", "connected": "C", "static": "S", "ospf": "O", "local": "L"}
# A nexthop (None, "blackhole") or (None, "reject") is a route with no way out (RTF_BLACKHOLE, RTF_REJECT).
_UNREACHABLE = {"blackhole": "unreachable (blackhole)", "reject": "unreachable (ICMP unreachable)"}


def show_routes(routes: Iterable[RouteView]) -> str:
    """``show ip route [PROTOCOL]``: the codes, a blank line, one line per route and nexthop.

    Within a prefix the newest entry comes first, as zebra links a new entry at
    the head of its node's list (zebra_rib.c rib_link).
    """
    out = [ROUTE_CODES]
    ordered = sorted(routes, key=lambda r: (int(r.prefix.network_address), r.prefix.prefixlen, r.age, r.selected))
    if not ordered:
        return ""  # zebra prints the codes only above a first route
    for r in ordered:
        code = _CODE.get(r.protocol, "?") + (">" if r.selected else " ")
        head = f"{code}{'*' if r.installed else ' '} {r.prefix}"
        if r.protocol != "connected":
            head += f" [{r.distance}/{r.metric}]"
        weight = ", weight 1" if r.protocol in ("ospf", "static") else ""
        age = zebra_uptime(r.age)
        for i, (gateway, ifname) in enumerate(r.nexthops or ((None, ""),)):
            if gateway is not None:
                where = f"via {gateway}, {ifname}"
            elif ifname in _UNREACHABLE:
                where = _UNREACHABLE[ifname]
            else:
                where = f"is directly connected, {ifname}"
            if i == 0:
                out.append(f"{head} {where}{weight}, {age}\n")
            else:
                # zebra_vty.c: later nexthops line up under the first one's "via".
                out.append(f"  {'*' if r.installed else ' '}{'':{len(head) - 3}} {where}{weight}, {age}\n")
    return out[0] + "\n" + "".join(out[1:])


# -- show running-config ----------------------------------------------------------------------------


def _area(area: IPv4Address, decimal: bool) -> str:
    return str(int(area)) if decimal else str(area)


def show_running_config(config: OspfConfig, *, version: str = "8.4", hostname: str | None = None,
                        point_to_point: Iterable[str] = ()) -> str:
    """``show running-config``: the parsed configuration as FRR writes it back.

    Only what differs from the defaults is written, in the order of ospf_vty.c's
    config_write_interface_one and ospf_config_write_one. ``point_to_point`` names
    the interfaces whose kernel type is point-to-point: ``ip ospf network`` is
    written only where it differs from the interface's own type.
    """
    ptp = set(point_to_point)
    out: list[str | None] = ["Building configuration...", "", "Current configuration:", "!",
                             f"frr version {config.frr_version or version}", f"frr defaults {config.frr_defaults}"]
    name = config.hostname or hostname
    if name:
        out.append(f"hostname {name}")
    out.append("service integrated-vtysh-config")
    out.append("!")
    # Interface blocks in zebra's order (if_cmp_name_func: by name, digit runs as numbers); FRR 8
    # writes a router-level passive-interface as the interface's own ``ip ospf passive``.
    names = set(config.interfaces) | config.passive | config.not_passive
    for ifname in sorted(names, key=_natural):
        i = config.interface(ifname)
        out.append(f"interface {ifname}")
        if i.description:
            out.append(f" description {i.description}")
        if i.network is not None and i.network != ("point-to-point" if ifname in ptp else "broadcast"):
            out.append(f" ip ospf network {i.network}")
        if i.cost is not None:
            out.append(f" ip ospf cost {i.cost}")
        if i.hello_interval != 10:
            out.append(f" ip ospf hello-interval {i.hello_interval}")
        if i.dead_interval is not None and i.dead_interval != 40:
            out.append(f" ip ospf dead-interval {i.dead_interval}")
        if i.retransmit_interval != 5:
            out.append(f" ip ospf retransmit-interval {i.retransmit_interval}")
        if i.transmit_delay != 1:
            out.append(f" ip ospf transmit-delay {i.transmit_delay}")
        if i.area is not None:
            out.append(f" ip ospf area {_area(i.area, ifname in config.decimal_if_areas)}")
        if i.mtu_ignore:
            out.append(" ip ospf mtu-ignore")
        if ifname in config.passive:
            out.append(" ip ospf passive")
        elif ifname in config.not_passive:
            out.append(" no ip ospf passive")
        out.append("exit")
        out.append("!")
    if config.ospf_enabled:
        out.append("router ospf")
        if config.router_id is not None:
            out.append(f" ospf router-id {config.router_id}")
        default_logging = config.frr_defaults == "datacenter"
        if config.log_adjacency_changes and (config.log_adjacency_detail or not default_logging):
            out.append(" log-adjacency-changes" + (" detail" if config.log_adjacency_detail else ""))
        elif not config.log_adjacency_changes and default_logging:
            out.append(" no log-adjacency-changes")
        if config.reference_bandwidth != 100:
            out.append("! Important: ensure reference bandwidth is consistent across all routers")
            out.append(f" auto-cost reference-bandwidth {config.reference_bandwidth}")
        if (config.spf_delay, config.spf_initial_hold, config.spf_max_hold) != (0, 50, 5000):
            out.append(f" timers throttle spf {config.spf_delay} {config.spf_initial_hold} {config.spf_max_hold}")
        if config.lsa_min_interval != 5000:
            out.append(f" timers throttle lsa all {config.lsa_min_interval}")
        if config.lsa_min_arrival != 1000:
            out.append(f" timers lsa min-arrival {config.lsa_min_arrival}")
        if config.passive_default:
            out.append(" passive-interface default")
        for network, area in sorted(config.networks, key=lambda n: (int(n[0].network_address), n[0].prefixlen)):
            out.append(f" network {network} area {_area(area, network in config.decimal_networks)}")
        out.append("exit")
        out.append("!")
    out.append("end")
    return "".join(line + "\n" for line in out if line is not None)


def _natural(name: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r"\d+|\D+", name)]
