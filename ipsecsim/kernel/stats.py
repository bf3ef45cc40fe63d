"""Protocol counters of one host, with FreeBSD's field names (netinet/ip_var.h, icmp_var.h, udp_var.h)."""

from dataclasses import dataclass, field, fields
from typing import Final

__all__ = ["IpStat", "ICMP_MAXTYPE"]

ICMP_MAXTYPE: Final = 40  # netinet/ip_icmp.h: the histograms have a slot for each type 0..40


def _histogram() -> list[int]:
    return [0] * (ICMP_MAXTYPE + 1)


@dataclass(slots=True)
class IpStat:
    """IPv4 and IPv6 share this struct here; FreeBSD keeps ipstat and ip6stat apart."""

    ips_total: int = 0
    ips_badsum: int = 0
    ips_tooshort: int = 0
    ips_badhlen: int = 0
    ips_badlen: int = 0
    ips_fragments: int = 0
    ips_fragdropped: int = 0
    ips_fragtimeout: int = 0
    ips_forward: int = 0
    ips_fastforward: int = 0  # forwarded by ip_tryforward (netinet/ip_fastfwd.c)
    ips_cantforward: int = 0
    ips_noproto: int = 0
    ips_delivered: int = 0
    ips_localout: int = 0
    ips_odropped: int = 0
    ips_noroute: int = 0
    ips_fragmented: int = 0
    ips_ofragments: int = 0
    ips_cantfrag: int = 0
    ips_reassembled: int = 0
    ips_toosmall: int = 0
    icps_error: int = 0
    icps_oldicmp: int = 0
    icps_badsum: int = 0
    icps_reflect: int = 0
    icps_ratelimited: int = 0
    icps_outhist: list[int] = field(default_factory=_histogram)  # ICMP messages generated, by type
    icps_inhist: list[int] = field(default_factory=_histogram)  # ICMP messages received, by type
    udps_ipackets: int = 0
    udps_noport: int = 0
    udps_badsum: int = 0
    udps_opackets: int = 0
    ip6s_total: int = 0
    ip6s_forward: int = 0
    ip6s_cantforward: int = 0
    ip6s_noroute: int = 0
    ip6s_delivered: int = 0
    ip6s_localout: int = 0
    ip6s_fragments: int = 0
    ip6s_reassembled: int = 0
    ip6s_fragtimeout: int = 0
    ip6s_fragmented: int = 0
    ip6s_ofragments: int = 0
    ip6s_toobig: int = 0

    def zero(self, prefix: str) -> None:
        """Writing zeros to a protocol's stats sysctl (``netstat -z``): every counter whose name
        starts with ``prefix`` (``icps_`` is icmpstat, histograms included) back to 0."""
        for f in fields(self):
            name = f.name
            if name.startswith(prefix):
                value = getattr(self, name)
                if isinstance(value, list):
                    value[:] = [0] * len(value)
                else:
                    setattr(self, name, 0)
