"""Statistics of a run (per ping, flow, interface, drop reason) and their rendering."""

from .result import ExpectationResult, Result

__all__ = ["Result", "ExpectationResult"]
