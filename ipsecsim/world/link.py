"""Point-to-point links: bandwidth, propagation delay, jitter, loss, a drop-tail queue, MTU.

Each direction is a :class:`Channel`. Its queue is computed, not simulated: the
channel knows when its transmitter becomes free (``busy_until``) and keeps the
finish times of the packets still queued, so a packet costs exactly one
scheduler event per hop: its arrival at the far end.
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
import random

from ..kernel import EtherIf
from ..kernel.drops import DropReason
from .engine import Engine

__all__ = ["Link", "Channel", "Bernoulli", "GilbertElliott", "LinkParams"]


class Bernoulli:
    """Each packet is lost independently with probability ``p``."""

    def __init__(self, p: float):
        self.p = p

    def lost(self, rng: random.Random) -> bool:
        return self.p > 0 and rng.random() < self.p

    def __repr__(self) -> str:
        return f"{self.p * 100:g}%"


class GilbertElliott:
    """Bursty loss: a good and a bad state (Gilbert-Elliott, 1960/1963).

    Per packet the state changes good->bad with probability ``p`` and bad->good
    with ``r``; a packet is lost with ``loss_good`` or ``loss_bad`` by state.
    The long-run loss rate is (r*loss_good + p*loss_bad) / (p + r).
    """

    def __init__(self, p: float, r: float, loss_good: float = 0.0, loss_bad: float = 1.0):
        self.p, self.r, self.loss_good, self.loss_bad = p, r, loss_good, loss_bad
        self.bad = False

    def lost(self, rng: random.Random) -> bool:
        if self.bad:
            if rng.random() < self.r:
                self.bad = False
        elif rng.random() < self.p:
            self.bad = True
        return rng.random() < (self.loss_bad if self.bad else self.loss_good)

    @property
    def mean_loss(self) -> float:
        total = self.p + self.r
        return (self.r * self.loss_good + self.p * self.loss_bad) / total if total else self.loss_good

    def __repr__(self) -> str:
        return f"gilbert-elliott(p={self.p:g}, r={self.r:g}, loss_good={self.loss_good:g}, loss_bad={self.loss_bad:g})"


@dataclass(slots=True)
class LinkParams:
    bandwidth: float = 1e9  # bit/s
    delay: float = 0.0  # s
    jitter: float = 0.0  # s; each packet's delay is uniform in [delay - jitter, delay + jitter]
    reorder: bool = False  # may jitter reorder packets?
    loss: Bernoulli | GilbertElliott | None = None
    queue_packets: int | None = 1000
    queue_bytes: int | None = None
    mtu: int = 1500


class _Arrival:
    """A packet reaching the far end: the one scheduler event a packet costs per hop.

    simpy calls ``callbacks[0](self)`` when its time comes; the event carries the
    packet itself, so no closure or argument tuple is built per packet.
    """

    __slots__ = ("callbacks", "channel", "pkt", "generation")
    _ok = True
    _value = None

    def __init__(self, channel: "Channel", pkt: bytes, generation: int):
        # simpy sets callbacks to None once they have run
        self.callbacks: tuple[Callable[[_Arrival], None], ...] | None = _ARRIVE
        self.channel = channel
        self.pkt = pkt
        self.generation = generation


def _arrive(event: _Arrival) -> None:
    channel = event.channel
    if event.generation != channel.generation:
        # Sent before the link went down or an end host powered off, or sent to a host that is off.
        ifp = channel.lost_at
        ifp.host.drop(channel.lost_reason, event.pkt, ifp)
        return
    channel.dst.receive(event.pkt)


_ARRIVE = (_arrive,)  # simpy swaps callbacks for None after the call; a shared tuple is never mutated


class Channel:
    """One direction of a link, from ``src`` to ``dst``."""

    __slots__ = ("link", "src", "dst", "rng", "loss", "busy_until", "backlog", "backlog_bytes",
                 "last_arrival", "engine", "generation", "stamp", "lost_reason", "lost_at")

    def __init__(self, link: "Link", src: EtherIf, dst: EtherIf, rng: random.Random, loss):
        self.link = link
        self.src = src
        self.dst = dst
        self.rng = rng
        self.loss = loss
        self.engine = link.engine
        self.busy_until = 0.0
        self.backlog: deque = deque()  # (finish time, size) of packets not yet serialised
        self.backlog_bytes = 0
        self.last_arrival = 0.0
        # A packet carries the stamp of its send; it arrives only if the stamp is still the
        # channel's generation. Bumping the generation loses what is on the wire; a stamp of
        # -1 (the far host is off) loses every packet sent, each counted as lost_reason at lost_at.
        self.generation = 0
        self.stamp = 0
        self.lost_reason = DropReason.LINK_DOWN
        self.lost_at = src

    def lose_in_flight(self, reason: DropReason, at: EtherIf) -> None:
        """What is on the wire or queued is lost, counted as ``reason`` on ``at``'s host."""
        self.generation += 1
        if self.stamp >= 0:
            self.stamp = self.generation
        self.lost_reason = reason
        self.lost_at = at
        self.reset()

    def set_receiver_powered(self, on: bool) -> None:
        """The far host powered off (each packet sent reaches a dead host) or on again."""
        self.stamp = self.generation if on else -1

    def reset(self) -> None:
        self.busy_until = 0.0
        self.backlog.clear()
        self.backlog_bytes = 0

    def send(self, pkt: bytes) -> DropReason | None:
        """Take a packet from ``src``'s driver. Returns None or why it was refused."""
        link = self.link
        if not link.up:
            return DropReason.LINK_DOWN
        size = len(pkt)
        params = link.params
        if size > params.mtu:
            return DropReason.LINK_MTU
        now = self.engine.env._now
        backlog = self.backlog
        while backlog and backlog[0][0] <= now:
            self.backlog_bytes -= backlog.popleft()[1]
        if (params.queue_packets is not None and len(backlog) >= params.queue_packets) or (
            params.queue_bytes is not None and self.backlog_bytes + size > params.queue_bytes
        ):
            return DropReason.QUEUE_FULL
        start = self.busy_until if self.busy_until > now else now
        finish = start + size * 8 / params.bandwidth
        self.busy_until = finish
        backlog.append((finish, size))
        self.backlog_bytes += size
        if self.loss is not None and self.loss.lost(self.rng):
            self.src.host.drop(DropReason.LINK_LOSS, pkt, self.src)
            return None
        arrival = finish + params.delay
        if params.jitter:
            arrival += self.rng.uniform(-params.jitter, params.jitter)
            arrival = max(arrival, finish)
            if not params.reorder:
                if arrival < self.last_arrival:
                    arrival = self.last_arrival
                self.last_arrival = arrival
        self.engine.schedule_event(_Arrival(self, pkt, self.stamp), arrival - now)
        return None


class Link:
    """A cable between two physical interfaces, with the same parameters both ways."""

    def __init__(self, engine: Engine, name: str, a: EtherIf, b: EtherIf, params: LinkParams,
                 up: bool = True):
        self.engine = engine
        self.name = name
        self.a = a
        self.b = b
        self.params = params
        self.up = up
        self.generation = 0  # bumped when the link goes down: packets in flight are lost
        self.powered_off: set[EtherIf] = set()  # ends whose host is off (timeline host state: down)
        self.ab = Channel(self, a, b, engine.rng("link", name, "ab"), _copy_loss(params.loss))
        self.ba = Channel(self, b, a, engine.rng("link", name, "ba"), _copy_loss(params.loss))
        a.attach(self.ab.send, params.mtu, params.bandwidth)
        b.attach(self.ba.send, params.mtu, params.bandwidth)
        self._set_carrier(up)

    def __repr__(self) -> str:
        return f"<Link {self.name} {'up' if self.up else 'down'}>"

    def _set_carrier(self, up: bool) -> None:
        self.a.set_carrier(up)
        self.b.set_carrier(up)

    @property
    def carrier(self) -> bool:
        """A signal on the cable: the link is up and the hosts at both ends are powered."""
        return self.up and not self.powered_off

    def set_state(self, up: bool) -> None:
        if up == self.up:
            return
        self.up = up
        if not up:
            self.generation += 1
            self.ab.lose_in_flight(DropReason.LINK_DOWN, self.a)
            self.ba.lose_in_flight(DropReason.LINK_DOWN, self.b)
        self._set_carrier(self.carrier)

    def set_end_power(self, end: EtherIf, on: bool) -> None:
        """The host of ``end`` powered off or on: as if its cable were unplugged, both ends lose
        carrier; what it had queued or on the wire is lost, as is what reaches it while off
        (each as "host down", counted on its host). The peer still transmits into the cable."""
        out, into = (self.ab, self.ba) if end is self.a else (self.ba, self.ab)
        if on:
            self.powered_off.discard(end)
        else:
            self.powered_off.add(end)
            out.lose_in_flight(DropReason.HOST_DOWN, end)
            into.lose_in_flight(DropReason.HOST_DOWN, end)
        into.set_receiver_powered(on)
        self._set_carrier(self.carrier)

    def set(self, **changes) -> None:
        """Change parameters mid-run (timeline ``set:``): bandwidth, delay, jitter, loss, queue, mtu."""
        for key, value in changes.items():
            if key == "loss":
                self.params.loss = value
                self.ab.loss, self.ba.loss = _copy_loss(value), _copy_loss(value)
            elif key == "queue":
                packets, octets = value
                self.params.queue_packets, self.params.queue_bytes = packets, octets
            elif key == "mtu":
                self.params.mtu = value
                self.a.mtu = self.b.mtu = value
            elif hasattr(self.params, key):
                setattr(self.params, key, value)
            else:
                raise KeyError(key)
        if "bandwidth" in changes:
            self.a.baudrate = self.b.baudrate = self.params.bandwidth

    def describe(self) -> dict:
        p = self.params
        return {
            "name": self.name, "a": f"{self.a.host.name}:{self.a.name}", "b": f"{self.b.host.name}:{self.b.name}",
            "bandwidth": p.bandwidth, "delay": p.delay, "jitter": p.jitter, "reorder": p.reorder,
            "loss": repr(p.loss) if p.loss is not None else "0%", "queue_packets": p.queue_packets,
            "queue_bytes": p.queue_bytes, "mtu": p.mtu, "up": self.up,
        }


def _copy_loss(model):
    """Each direction gets its own loss state (a Gilbert-Elliott chain per direction)."""
    if model is None or isinstance(model, Bernoulli):
        return model if model is None or model.p > 0 else None
    return GilbertElliott(model.p, model.r, model.loss_good, model.loss_bad)
