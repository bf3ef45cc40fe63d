"""Scenario files: YAML with line marks, validated into typed values in SI units.

``load_scenario(path)`` returns a :class:`Scenario` or raises :class:`ScenarioError` whose
``str()`` is one ``FILE:LINE:COL: path: what is wrong`` line per problem. The schema is
DESIGN.md's "Scenario file (YAML)"; the models in ``models.py``, ``tunnels.py`` and
``expect.py`` are its exact shape, and ``docs/scenario.md`` describes every key.
``explain(scenario)`` shows what each host runs at time 0 (``tunnels:`` expanded).
"""

from .comparison import Comparison, parse_comparison
from .errors import Diagnostic, ScenarioError
from .expect import CounterExpect, DropsExpect, Expectation, FlowExpect, PingExpect, PingSubject
from .fields import Endpoint, QueueLimit, Script
from .loader import load_scenario, parse_scenario
from .models import (
    GilbertElliott, HostSpec, Link, LinkChanges, LinkSet, LinkState, PingTraffic, RunCommand, Scenario,
    TimelineEvent, UdpFlow,
)  # fmt: skip
from .node import Node
from .tunnels import SaKey, Tunnel, TunnelEnd, TunnelKeys, TunnelSpis, derive_key, explain, host_scripts
from .units import UnitError, parse_duration, parse_percent, parse_rate, parse_size

__all__ = [
    "Comparison", "CounterExpect", "Diagnostic", "DropsExpect", "Endpoint", "Expectation", "FlowExpect",
    "GilbertElliott", "HostSpec", "Link", "LinkChanges", "LinkSet", "LinkState", "Node", "PingExpect",
    "PingSubject", "PingTraffic", "QueueLimit", "RunCommand", "SaKey", "Scenario", "ScenarioError", "Script",
    "TimelineEvent", "Tunnel", "TunnelEnd", "TunnelKeys", "TunnelSpis", "UdpFlow", "UnitError", "derive_key",
    "explain", "host_scripts", "load_scenario", "parse_comparison", "parse_duration", "parse_percent",
    "parse_rate", "parse_scenario", "parse_size",
]  # fmt: skip
