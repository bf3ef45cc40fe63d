"""More than one observer on a host: the event log and the run's accounting both listen.

``Host.observer`` is one callable, so that a host nobody watches pays one ``is None``
test per event site. :func:`add_observer` keeps that: the first observer is installed
as is, and a second one turns the slot into a :class:`Observers` that calls each in turn.
"""

from typing import Any

from ..kernel import Host

__all__ = ["BpfTaps", "Observers", "add_bpf_tap", "add_observer"]


class Observers:
    """Calls each observer in the order they were added."""

    __slots__ = ("each",)

    def __init__(self, *observers):
        self.each = list(observers)

    def __call__(self, event: str, host: Host, ifname: str | None, pkt: bytes, reason: str | None,
                 related: Any = None) -> None:
        for observer in self.each:
            observer(event, host, ifname, pkt, reason, related)


def add_observer(host: Host, observer) -> None:
    """Let ``observer`` see ``host``'s events (see ``Observer`` in kernel/host.py) after those already there."""
    current = host.observer
    if current is None:
        host.observer = observer
    elif isinstance(current, Observers):
        current.each.append(observer)
    else:
        host.observer = Observers(current, observer)


class BpfTaps:
    """Calls each BPF tap of one interface in the order they were added (pcap files, then
    captures a notebook starts): ``ifp.bpf`` is one callable, as ``Host.observer`` is."""

    __slots__ = ("each",)

    def __init__(self, *taps):
        self.each = list(taps)

    def __call__(self, pkt: bytes, outbound: bool) -> None:
        for tap in self.each:
            tap(pkt, outbound)


def add_bpf_tap(ifp, tap) -> None:
    """Let ``tap(pkt, outbound)`` see what crosses ``ifp``, after the taps already there."""
    current = ifp.bpf
    if current is None:
        ifp.bpf = tap
    elif isinstance(current, BpfTaps):
        current.each.append(tap)
    else:
        ifp.bpf = BpfTaps(current, tap)
