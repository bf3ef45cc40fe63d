"""Per-flow statistics of a run, in the manner of ns-3's FlowMonitor, and time series in bins.

The monitor listens to every host's events (see ``Observer`` in kernel/host.py). It knows two
kinds of flow: "ip" flows, keyed by the inner 5-tuple (an ICMP echo's identifier stands in for
the source port, so two pings are two flows) and seen leaving at ``output`` and arriving at
``deliver``; and "esp" flows, keyed by (outer source, destination, SPI), seen at ``encap`` and at
the ``deliver`` of protocol 50. Packets are told apart for their delay by the first bytes of their
transport header (ports, checksum, and the flow stamp or the ping's id and sequence), ESP packets
by (SPI, sequence number). Send times older than ``max_age`` are forgotten, so memory stays flat.

Delays go in a log-bucket histogram: bucket k holds delays in [1.01**k, 1.01**(k+1)) seconds, so
a percentile is known to within 1%; it is reported as the bucket's geometric middle (±0.5%).
Fragments other than the first carry no ports or SPI: their drops count by place, not per flow.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from .flowrecords import Flow, record, time_series
from .observers import add_observer

__all__ = ["FlowMonitor", "MAX_PACKET_AGE", "DEFAULT_BIN"]

MAX_PACKET_AGE = 10.0  # seconds, like ns-3's maxPacketAge
DEFAULT_BIN = 0.1
_ECHO = {1: (8, 0), 58: (128, 129)}  # echo request and reply types
_KEY_BYTES = 24  # transport bytes that tell one packet of a flow from another


def _locate(pkt: bytes | bytearray) -> tuple[bytes, int, int] | None:
    """(source and destination address bytes, protocol, transport offset) of an IPv4 or IPv6
    packet; None for a later fragment (it has no transport header) or something unreadable."""
    if len(pkt) < 20:
        return None
    version = pkt[0] >> 4
    if version == 4:
        if pkt[6] & 0x1F or pkt[7]:
            return None
        return bytes(pkt[12:20]), pkt[9], (pkt[0] & 0x0F) * 4
    if version == 6 and len(pkt) >= 40:
        proto, offset = pkt[6], 40
        while proto in (0, 43, 60, 44) and len(pkt) >= offset + 8:  # hop-by-hop, routing, dstopts, fragment
            if proto == 44:
                if (pkt[offset + 2] << 8 | pkt[offset + 3]) & 0xFFF8:
                    return None
                proto, offset = pkt[offset], offset + 8
            else:
                proto, offset = pkt[offset], offset + (pkt[offset + 1] + 1) * 8
        return bytes(pkt[8:40]), proto, offset
    return None


def _ip_fkey(pkt: bytes | bytearray, addresses: bytes, proto: int, offset: int) -> tuple:
    """An ip flow's key: its addresses, ports (an ICMP echo's identifier and 0) and protocol."""
    if proto == 17 or proto == 6:
        return addresses, bytes(pkt[offset:offset + 4]), proto
    if proto in _ECHO and len(pkt) > offset + 6 and pkt[offset] in _ECHO[proto]:
        return addresses, bytes(pkt[offset + 4:offset + 6]) + b"\0\0", proto
    return addresses, b"\0\0\0\0", proto


class FlowMonitor:
    """Attach with ``FlowMonitor(net, bin=0.1)``: it watches every host and samples every ``bin``."""

    def __init__(self, net, bin: float = DEFAULT_BIN, max_age: float = MAX_PACKET_AGE):
        self.net = net
        self.clock = net.engine
        self._env = net.engine.env  # its _now, read once per packet event
        self.bin = bin
        self.max_age = max_age
        self.ip_flows: dict[tuple, Flow] = {}  # (addresses, ports, protocol) -> flow
        self.esp_flows: dict[bytes, Flow] = {}  # addresses + SPI -> flow
        self.order: list[Flow] = []
        self.names: dict[tuple, str] = {}  # (origin host, dst, proto, sport, dport) -> name
        self.reply_names: dict[tuple, str] = {}  # (src, proto, ident) -> ping name
        self.protocol_names: dict[tuple, str] = {}  # (origin host, src, dst, proto) -> name
        # Send times (and, for ESP, the inner flow carried) in two generations: the older is
        # let go once a max_age has passed, so memory holds at most two max_ages of packets
        # without a per-packet expiry queue.
        self.sent: dict[bytes, float] = {}
        self.sent_before: dict[bytes, float] = {}
        self.carried: dict[bytes, Flow] = {}
        self.carried_before: dict[bytes, Flow] = {}
        self._turn_at = -1.0
        self._last_packet: bytes | None = None  # the last ip packet seen, and its flow
        self._last_flow: Flow | None = None
        self._delivered: bytes | None = None  # the last ESP packet delivered (SPI, sequence), and its inner flow
        self._delivered_flow: Flow | None = None
        self.places: dict[tuple, int] = {}  # (reason, host, ifname, spi) -> packets
        self.samples: list[tuple] = []
        self.interfaces: list[tuple[str, Any]] = []
        net.watch_hosts(self._attach)
        self.samples.append(self._snapshot())  # now, before the run: blocks' first packets
        self.clock.call_at(bin, self._sample, 1)

    def _attach(self, host) -> None:
        add_observer(host, self._event)

    # -- naming -------------------------------------------------------------------------

    def name_udp(self, name: str, host: str, dst, sport: int, dport: int) -> None:
        self.names[(host, dst.packed, 17, sport, dport)] = name

    def name_protocol(self, name: str, host: str, src, dst, proto: int) -> None:
        """Name what ``host`` sends from ``src`` to ``dst`` with protocol ``proto`` (no ports):
        OSPF's flows, one per interface."""
        self.protocol_names[(host, src.packed, dst.packed, proto)] = name

    def name_ping(self, name: str, host: str, dst, ident: int) -> None:
        proto = 1 if dst.version == 4 else 58
        self.names[(host, dst.packed, proto, ident, 0)] = name
        self.reply_names[(dst.packed, proto, ident)] = name + " reply"

    # -- events ---------------------------------------------------------------------------

    def _ip_flow(self, fkey: tuple, host) -> Flow:
        addresses, ports, proto = fkey
        half = len(addresses) // 2
        src, dst = addresses[:half], addresses[half:]
        sport, dport = int.from_bytes(ports[:2], "big"), int.from_bytes(ports[2:], "big")
        flow = Flow(len(self.order) + 1, "ip", (src, dst, proto, sport, dport), None)
        flow.name = self.names.get((host.name, dst, proto, sport, dport))
        if flow.name is None and proto in _ECHO:
            flow.name = self.reply_names.get((src, proto, sport))
        if flow.name is None and self.protocol_names:
            flow.name = self.protocol_names.get((host.name, src, dst, proto))
        self.ip_flows[fkey] = flow
        self.order.append(flow)
        return flow

    def _esp_flow(self, fkey: bytes) -> Flow:
        half = (len(fkey) - 4) // 2
        flow = Flow(len(self.order) + 1, "esp", (fkey[:half], fkey[half:2 * half], int.from_bytes(fkey[-4:], "big")),
                    None)
        self.esp_flows[fkey] = flow
        self.order.append(flow)
        return flow

    def _remember(self, packet: bytes, now: float) -> None:
        if now >= self._turn_at:
            self.sent_before, self.sent = self.sent, {}
            self.carried_before, self.carried = self.carried, {}
            self._turn_at = now + self.max_age
        self.sent[packet] = now

    def _sent_at(self, packet: bytes, now: float) -> float | None:
        sent = self.sent.pop(packet, None)
        if sent is None:
            sent = self.sent_before.pop(packet, None)
            if sent is not None and now - sent > self.max_age:
                return None
        return sent

    def pending(self) -> int:
        """Send times held now (bounded by two max_ages of traffic)."""
        return len(self.sent) + len(self.sent_before)

    def _event(self, event: str, host, ifname: str | None, pkt: bytes, reason: str | None, related: Any) -> None:
        if event == "drop":
            self._drop(host, ifname, pkt, reason or "")
            return
        if event == "fragment" or event == "reassembled":
            return
        if pkt[0] == 0x45 and len(pkt) >= 28:  # IPv4 without options: the common case, inline
            if pkt[6] & 0x1F or pkt[7]:  # a later fragment: no ports to tell its flow
                return
            addresses = pkt[12:20]
            proto = pkt[9]
            offset = 20
        else:
            where = _locate(pkt)
            if where is None:
                return
            addresses, proto, offset = where
        now = self._env._now
        if proto == 50:
            packet = pkt[offset:offset + 8]  # SPI and sequence number
            ekey = addresses + packet[:4]
            flow = self.esp_flows.get(ekey) or self._esp_flow(ekey)
            if event == "encap":
                self._sent(flow, len(pkt), now)
                self._remember(packet, now)
                if related:
                    flow.inner_bytes += len(related)
                    if related == self._last_packet:  # the datagram just seen going out: its flow is known
                        ip_flow = self._last_flow
                    else:
                        inner = _locate(related)
                        ip_flow = self.ip_flows.get(_ip_fkey(related, *inner)) if inner is not None else None
                    if ip_flow is not None:
                        self.carried[packet] = ip_flow
                        if ifname is not None and ip_flow.tunnel is None:
                            ip_flow.tunnel = f"{host.name}:{ifname}"
            elif event == "deliver":
                flow.received(len(pkt), now, self._sent_at(packet, now))
                # ESP input runs next and may drop the packet (esps_badauth): that drop is told at
                # once, so only the last delivered packet's inner flow needs keeping.
                self._delivered = packet
                self._delivered_flow = self.carried.pop(packet, None) or self.carried_before.pop(packet, None)
            elif event == "forward":
                flow.forwarded += 1
            return
        if proto == 17 or proto == 6:
            fkey: tuple = (addresses, pkt[offset:offset + 4], proto)
        else:
            fkey = _ip_fkey(pkt, addresses, proto, offset)
        flow = self.ip_flows.get(fkey) or self._ip_flow(fkey, host)
        self._last_packet = pkt
        self._last_flow = flow
        if event == "output":
            flow.tx_packets += 1
            flow.tx_bytes += len(pkt)
            if flow.tx_packets == 1:
                flow.first_tx = now
            flow.last_tx = now
            self._remember(addresses + pkt[offset:offset + _KEY_BYTES], now)
        elif event == "deliver":
            flow.received(len(pkt), now, self._sent_at(addresses + pkt[offset:offset + _KEY_BYTES], now))
        elif event == "forward":
            flow.forwarded += 1

    @staticmethod
    def _sent(flow: Flow, size: int, now: float) -> None:
        flow.tx_packets += 1
        flow.tx_bytes += size
        if flow.tx_packets == 1:
            flow.first_tx = now
        flow.last_tx = now

    def _drop(self, host, ifname: str | None, pkt: bytes, reason: str) -> None:
        flows: list[Flow] = []
        place_sa = None
        where = _locate(pkt) if pkt else None
        if where is not None:
            addresses, proto, offset = where
            if proto == 50 and len(pkt) >= offset + 8:
                packet = pkt[offset:offset + 8]
                esp = self.esp_flows.get(addresses + packet[:4])
                if esp is not None:
                    flows.append(esp)
                    if packet == self._delivered:
                        carried = self._delivered_flow
                    else:
                        carried = self.carried.get(packet) or self.carried_before.get(packet)
                    if carried is not None:
                        flows.append(carried)
                    place_sa = esp.key[2], esp.key[0], esp.key[1]
            elif proto != 50:
                fkey = _ip_fkey(pkt, addresses, proto, offset)
                flows.append(self.ip_flows.get(fkey) or self._ip_flow(fkey, host))
        for flow in flows:
            flow.lost += 1
            flow.lost_by_reason[reason] = flow.lost_by_reason.get(reason, 0) + 1
        place = (reason, host.name, ifname, place_sa)
        self.places[place] = self.places.get(place, 0) + 1

    # -- time series ----------------------------------------------------------------------

    def _sample(self, k: int) -> None:
        """One call per bin boundary (k * bin, not a running sum: no drift over a long run)."""
        self.samples.append(self._snapshot())
        self.clock.call_at((k + 1) * self.bin, self._sample, k + 1)

    def _snapshot(self) -> tuple:
        flows = [(f.tx_packets, f.tx_bytes, f.rx_packets, f.rx_bytes, f.lost, f.delay_sum, f.timed)
                 for f in self.order]
        interfaces = {f"{host.name}:{ifp.name}": (ifp.data.ibytes, ifp.data.obytes, ifp.data.ipackets,
                                                   ifp.data.opackets)
                      for host in self.net.hosts.values() for ifp in host.interfaces.values()}
        drops: dict[str, int] = {}
        for host in self.net.hosts.values():
            for reason, count in host.drops.items():
                drops[reason] = drops.get(reason, 0) + count
        return flows, interfaces, drops

    # -- results --------------------------------------------------------------------------

    def flow_stats(self) -> list[dict[str, Any]]:
        return [record(flow) for flow in self.order]

    def drops_by_place(self) -> list[dict[str, Any]]:
        rows = []
        for (reason, host, ifname, sa), packets in self.places.items():
            ifp = self.net.hosts[host].interfaces.get(ifname) if ifname else None
            link = next((l.name for l in self.net.links.values() if ifp is not None and ifp in (l.a, l.b)), None)
            sa_text = f"spi {sa[0]} {ip_address(sa[1])} -> {ip_address(sa[2])}" if sa else None
            rows.append({"reason": reason, "host": host, "interface": ifname, "link": link, "sa": sa_text,
                         "packets": packets})
        return sorted(rows, key=lambda r: (r["reason"], r["host"], r["interface"] or "", r["sa"] or ""))

    def timeseries(self) -> dict[str, Any]:
        return time_series(self.samples + [self._snapshot()], self.order, self.bin, self._env._now)
