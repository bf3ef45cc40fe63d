"""The simulated network on simpy: engine, links, captures, the Network that owns a run."""

from .engine import Engine
from .link import Bernoulli, GilbertElliott, Link, LinkParams
from .network import Network, NetworkError

__all__ = ["Engine", "Link", "LinkParams", "Bernoulli", "GilbertElliott", "Network", "NetworkError"]
