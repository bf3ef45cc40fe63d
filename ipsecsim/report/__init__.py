"""Statistics of a run (per ping, flow, interface, drop reason) and their rendering."""

from .result import FORMAT, ExpectationResult, Result, ResultFormatError

__all__ = ["Result", "ExpectationResult", "ResultFormatError", "FORMAT"]
