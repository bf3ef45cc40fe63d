"""Which forwarding path FreeBSD would take for an IPv4 packet, and what each path counts.

FreeBSD forwards IPv4 on one of two paths (netinet/ip_input.c ip_input):

* ``ip_tryforward`` (netinet/ip_fastfwd.c), the fast path, when
  ``net.inet.ip.forwarding`` is on and IPsec has no security policy in the SPD
  (``IPSEC_CAP_OPERABLE``: ``key_havesp`` in either direction; if_ipsec's policies
  are not in it), for a packet without IP options, not received on a loopback
  interface, and with neither address broadcast, multicast, link-local
  (169.254/16) or 0.0.0.0;
* ``ip_forward`` (netinet/ip_input.c), the slow path, for everything else.

Both make the same forwarding decision here, so the simulator forwards on one path
and only the counters differ:

=====================  ===============================  ===============================
                       ip_tryforward                    ip_forward
=====================  ===============================  ===============================
sent                   ips_forward, ips_fastforward     ips_forward
output error           ips_odropped                     ips_cantforward, ICMP host
                                                        unreachable (not for ENOBUFS)
DF and too big         ips_cantfrag (ICMP need-frag)    ips_cantfrag twice (ip_output,
                                                        ip_forward), ips_cantforward
reject or blackhole    ips_cantforward                  as an output error (a blackhole
route                                                   route's loopback output reports
                                                        success: ips_forward)
=====================  ===============================  ===============================

``ip_tryforward`` also counts ``ips_total`` once more for the packet, which
``ip_input`` already counted: a fast-forwarded packet appears twice in ``netstat -s``'s
"total packets received".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ifnet import IFF_LOOPBACK
from .route import RTF_BLACKHOLE, RTF_REJECT

if TYPE_CHECKING:
    from .ifnet import Ifnet
    from .route import Route
    from .stats import IpStat

__all__ = ["tryforward_takes", "count_fast", "count_slow", "SLOW_PATH_SILENT_ERRORS", "SUSPECT_OCTET"]

# First octets that need the full address test: 0/8, 169.254/16, 224/4 and above.
SUSPECT_OCTET = frozenset((0, 169, *range(224, 256)))
# Output errors for which ip_forward sends no ICMP host unreachable: ENOBUFS and EACCES
# (its switch frees the copy), EMSGSIZE (need-frag was sent already), and the errors of
# a reject route, which looutput answered already.
SLOW_PATH_SILENT_ERRORS = frozenset(("ENOBUFS", "EACCES", "EMSGSIZE"))


def _plain(addr: bytes) -> bool:
    """Not 255.255.255.255, multicast, link-local or 0.0.0.0 (ip_tryforward's address test)."""
    first = addr[0]
    if first not in SUSPECT_OCTET:
        return True
    return not (first >= 224 or (first == 169 and addr[1] == 254) or addr == b"\0\0\0\0")


def tryforward_takes(ifp: Ifnet, pkt: bytes, hlen: int) -> bool:
    """Would ``ip_tryforward`` handle this packet, rather than hand it back to ``ip_input``?

    The caller has checked that forwarding is on, that the SPD is empty and that the
    destination is not local. ``net.inet.ip.process_options`` is 1: options go slow.
    """
    return hlen == 20 and not ifp.flags & IFF_LOOPBACK and _plain(pkt[12:16]) and _plain(pkt[16:20])


def count_fast(st: IpStat, route: Route, error: str | None) -> None:
    """ip_tryforward's counters once the packet has been handed to ``route``."""
    if route.flags & (RTF_REJECT | RTF_BLACKHOLE):
        st.ips_cantforward += 1  # ip_findroute
    elif error is None:
        st.ips_forward += 1
        st.ips_fastforward += 1
    elif error != "EMSGSIZE":  # DF and too big: ips_cantfrag only ("goto consumed")
        st.ips_odropped += 1


def count_slow(st: IpStat, error: str | None) -> None:
    """ip_forward's counters once ip_output returned ``error``."""
    if error is None:
        st.ips_forward += 1
        return
    st.ips_cantforward += 1
    if error == "EMSGSIZE":
        st.ips_cantfrag += 1  # ip_forward counts it again after ip_output did
