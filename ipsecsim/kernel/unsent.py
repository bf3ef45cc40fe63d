"""The datagram a socket would have sent, for the drop event of a send that fails before IP
output builds it (no route; a reject or blackhole route on the IPv6 path).

The event log describes each dropped packet from its bytes: a transport payload alone would
read as garbage there. The source is the one the socket gave, else the unspecified address
an unbound socket has (0.0.0.0, ::). Only drop paths call these.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from ..packet import IPv4, IPv6

__all__ = ["unsent_ipv4", "unsent_ipv6"]

_ANY4, _ANY6 = IPv4Address(0), IPv6Address(0)
_IPV4_MAX_PAYLOAD, _IPV6_MAX_PAYLOAD = 65535 - 20, 65535


def unsent_ipv4(dst: IPv4Address, proto: int, payload, *, src: IPv4Address | None, ttl: int, tos: int = 0,
                df: bool = False) -> bytes:
    """An IPv4 datagram as ``ip_output`` would have built it (IP id 0: none was allocated)."""
    src = _ANY4 if src is None else src
    data = payload(src, dst) if callable(payload) else payload
    # Too long to be sent, a payload is cut to the longest datagram: the event still reads as one.
    return IPv4(src, dst, proto, bytes(data[:_IPV4_MAX_PAYLOAD]), ttl=ttl, tos=tos, df=df).to_bytes()


def unsent_ipv6(dst: IPv6Address, proto: int, payload, *, src: IPv6Address | None, hlim: int,
                tclass: int = 0) -> bytes:
    """An IPv6 packet as ``ip6_output`` would have built it."""
    src = _ANY6 if src is None else src
    data = payload(src, dst) if callable(payload) else payload
    return IPv6(src, dst, proto, bytes(data[:_IPV6_MAX_PAYLOAD]), hop_limit=hlim, traffic_class=tclass).to_bytes()
