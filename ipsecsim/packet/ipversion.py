"""The one convention for address families inside the kernel and netipsec: the IP version.

A packet's family is the number in its version nibble, 4 or 6, so the code that
receives a packet, a header or an ``ipaddress`` object (``.version``) already holds
it without a lookup. Functions on the packet path that take a family (interface
output, the IPsec output and inbound checks, if_ipsec's policy slots and attribution
hook) take an :class:`IpVersion`; being an ``IntEnum`` it compares equal to the plain
``4``/``6`` read from bytes, so no conversion happens per packet.

FreeBSD's own numbers stay where FreeBSD's wire values are meant: ``AF_INET`` (2) and
``AF_INET6`` (28) in a DLT_NULL capture's 4-byte family header (``trace.pcap``); the words
``inet``/``inet6`` stay in userland, where FreeBSD's commands print them.
"""

from enum import IntEnum

__all__ = ["IpVersion", "IPV4", "IPV6"]


class IpVersion(IntEnum):
    """An address family named by its IP version number."""

    V4 = 4
    V6 = 6


# Module-level names for call sites on the per-packet path: a global read, not an enum lookup.
IPV4 = IpVersion.V4
IPV6 = IpVersion.V6
