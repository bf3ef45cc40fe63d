"""``netstat -s -p icmp``: icmpstat in usr.bin/netstat/inet.c icmp_stats()'s words and order,
with its output and input histograms (one line per ICMP type seen, named from icmpnames[]).

The histograms print only their non-zero types and are left out entirely when empty, whatever
the number of ``-s``; the plain counters print when non-zero or with a single ``-s``.
"""

__all__ = ["icmp_stats"]

# inet.c icmpnames[ICMP_MAXTYPE + 1], indexed by ICMP type.
ICMP_NAMES = (
    "echo reply", "#1", "#2", "destination unreachable", "source quench", "routing redirect", "#6", "#7", "echo",
    "router advertisement", "router solicitation", "time exceeded", "parameter problem", "time stamp",
    "time stamp reply", "information request", "information request reply", "address mask request",
    "address mask reply", "#19", "#20", "#21", "#22", "#23", "#24", "#25", "#26", "#27", "#28", "#29",
    "icmp traceroute", "datagram conversion error", "mobile host redirect", "IPv6 where-are-you",
    "IPv6 i-am-here", "mobile registration req", "mobile registration reply", "domain name request",
    "domain name reply", "icmp SKIP", "icmp photuris",
)


def _plural(n: int, many: str = "s") -> str:
    return "" if n == 1 else many


def _counters(st, every: bool, rows) -> list[str]:
    lines = []
    for field, text in rows:
        value = getattr(st, field, 0)
        if value or every:
            lines.append(f"\t{value} " + text.replace("{s}", _plural(value)).replace("{es}", _plural(value, "es")))
    return lines


def _histogram(title: str, counts: list[int]) -> list[str]:
    rows = [f"\t\t{ICMP_NAMES[t]}: {n}" for t, n in enumerate(counts) if n]
    return [f"\t{title} histogram:", *rows] if rows else []


def icmp_stats(st, every: bool) -> list[str]:
    """icmp_stats(): ``every`` is a single ``-s`` (zero counters shown too)."""
    return [
        "icmp:",
        *_counters(st, every, (("icps_error", "call{s} to icmp_error"),
                               ("icps_oldicmp", "error{s} not generated in response to an icmp message"))),
        *_histogram("Output", st.icps_outhist),
        *_counters(st, every, (
            ("icps_badcode", "message{s} with bad code fields"),
            ("icps_tooshort", "message{s} less than the minimum length"),
            ("icps_badsum", "message{s} with bad checksum"),  # FreeBSD's icps_checksum
            ("icps_badlen", "message{s} with bad length"),
            ("icps_bmcastecho", "multicast echo requests ignored"),
            ("icps_bmcasttstamp", "multicast timestamp requests ignored"),
        )),
        *_histogram("Input", st.icps_inhist),
        *_counters(st, every, (("icps_reflect", "message response{s} generated"),
                               ("icps_badaddr", "invalid return address{es}"),
                               ("icps_noroute", "no return route{s}"))),
        "\tICMP address mask responses are disabled",  # net.inet.icmp.maskrepl is 0
    ]
