"""What IPv4 and IPv6 share above the IP layer: UDP delivery and ICMP error rate limits."""

from typing import TYPE_CHECKING, Callable

from ..packet import MalformedPacket, Udp
from .drops import DropReason

if TYPE_CHECKING:
    from .host import Host
    from .ifnet import Ifnet

__all__ = ["PerSecondLimit", "udp_input"]


class PerSecondLimit:
    """At most ``sysctl[knob]`` events per simulated second (badport_bandlim / ppsratecheck).

    A limit of 0 means no limit, as for FreeBSD's ``net.inet.icmp.icmplim``.
    """

    def __init__(self, host: "Host", knob: str):
        self._host = host
        self._knob = knob
        self._second = -1
        self._used = 0

    def allow(self) -> bool:
        limit = self._host.sysctl.get(self._knob)
        second = int(self._host.clock.now)
        if second != self._second:
            self._second, self._used = second, 0
        if limit and self._used >= limit:
            return False
        self._used += 1
        return True


def udp_input(host: "Host", ports: dict, ifp: "Ifnet", pkt: bytes, off: int, src, dst,
              port_unreachable: Callable[[], None]) -> None:
    """udp_input: check the datagram, hand it to the socket bound to its port, or refuse it."""
    try:
        udp = Udp.parse(pkt[off:], src, dst)
    except MalformedPacket as error:
        host.ipstat.udps_badsum += 1
        host.drop(DropReason(error.reason), pkt, ifp)
        return
    host.ipstat.udps_ipackets += 1
    handler = ports.get(udp.dport)
    if handler is None:
        host.ipstat.udps_noport += 1
        if not host.sysctl.get("net.inet.udp.blackhole"):
            port_unreachable()
        host.drop(DropReason.NOPORT, pkt, ifp)
        return
    handler(src, udp.sport, dst, udp.dport, udp.payload)
