"""``result.ike``: what every host's charon counted, and what the drop notes say of it.

A host powered off and booted again by the timeline gets a fresh charon; the figures of the
old one still happened, so a host's entry adds up every charon it ran (docs/results.md, ike).
"""

from typing import Any, Iterable

__all__ = ["ike_results", "merge_connection_stats", "acquire_note"]

_COUNTS = ("initiated", "established", "retransmissions", "rekeys", "expired")


def _empty() -> dict[str, Any]:
    return {"initiated": 0, "times_to_establish": [], "established": 0, "retransmissions": 0, "rekeys": 0,
            "expired": 0, "failures": []}


def merge_connection_stats(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """``into`` with ``more`` (a ``ConnectionStats.to_dict()``) added: counts summed, lists joined."""
    for key in _COUNTS:
        into[key] += more[key]
    into["times_to_establish"] += more["times_to_establish"]
    into["failures"] = sorted(into["failures"] + more["failures"], key=lambda f: f["time"])
    return into


def ike_results(daemons: Iterable[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """host -> connection -> figures, from every charon started (in order), connections in the
    order of the host's swanctl.conf; a connection nothing happened on has zeros."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for daemon in daemons:
        host = out.setdefault(daemon.host.name, {})
        for name in daemon.config.connections:
            host.setdefault(name, _empty())
        for name, stats in daemon.stats.items():
            merge_connection_stats(host.setdefault(name, _empty()), stats.to_dict())
    return out


def acquire_note(charons: list[Any], reqid: int, count: int) -> str:
    """The end of a note on packets dropped for lack of an SA on a host running charon: the
    kernel sent SADB_ACQUIRE, and what charon made of it."""
    packets = "the packet was" if count == 1 else "the packets were"
    names = [conn.name for charon in charons for conn in charon.config.connections.values()
             if any(child.reqid == reqid and child.start_action == "trap" for child in conn.children.values())]
    if not reqid or not names:
        return (f"the kernel sent SADB_ACQUIRE, but charon has no child with start_action = trap and "
                f"reqid {reqid} to answer it")
    stats = _empty()
    for charon in charons:
        for name in names:
            if name in charon.stats:
                merge_connection_stats(stats, charon.stats[name].to_dict())
    if stats["established"]:
        return (f"the kernel sent SADB_ACQUIRE and {packets} dropped while charon negotiated the SAs "
                f"({names[0]}), as on FreeBSD, which keeps no packet waiting for an SA")
    if stats["failures"]:
        return (f"the kernel sent SADB_ACQUIRE, but charon's negotiation ({names[0]}) failed: "
                f"{stats['failures'][-1]['reason']}")
    return f"the kernel sent SADB_ACQUIRE and charon was still negotiating the SAs ({names[0]}) at the end"
