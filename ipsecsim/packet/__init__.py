"""Wire formats, sans-IO: bytes <-> small frozen dataclasses. No simulation state.

Every ``parse`` raises :class:`MalformedPacket` and nothing else on bad bytes.
"""

from .checksum import checksum_adjust16, internet_checksum
from .errors import MalformedPacket
from .icmp import *  # noqa: F403 - constants named as in FreeBSD's headers
from .icmp import Icmp, Icmp6
from .ipv4 import IP_DF, IP_MF, IPv4
from .ipv6 import IPv6, IPv6Fragment
from .ipversion import IPV4, IPV6, IpVersion
from .ospf import OspfPacket, parse_ospf
from .pseudo import pseudo_header_sum
from .udp import Udp

IPPROTO_ICMP = 1
IPPROTO_IPIP = 4
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_IPV6 = 41
IPPROTO_FRAGMENT = 44
IPPROTO_ESP = 50
IPPROTO_ICMPV6 = 58
IPPROTO_NONE = 59
IPPROTO_OSPFIGP = 89

__all__ = [
    "MalformedPacket", "internet_checksum", "checksum_adjust16", "pseudo_header_sum",
    "IPv4", "IPv6", "IPv6Fragment", "Icmp", "Icmp6", "Udp", "IP_DF", "IP_MF",
    "IPPROTO_ICMP", "IPPROTO_IPIP", "IPPROTO_TCP", "IPPROTO_UDP", "IPPROTO_IPV6",
    "IPPROTO_FRAGMENT", "IPPROTO_ESP", "IPPROTO_ICMPV6", "IPPROTO_NONE", "IpVersion", "IPV4", "IPV6",
    "IPPROTO_OSPFIGP", "OspfPacket", "parse_ospf",
]
__all__ += [n for n in dir() if n.startswith("ICMP")]
