"""What-if analysis without packets: each item's path, and what link and host failures do to it.

See docs/whatif.md. :func:`model_from_network` reads a built network; :func:`analyse` answers.
"""

from .analysis import Failure, FailureResult, ItemChange, WhatIf, analyse, item_path, parse_failures
from .engine import Path, State, Topology
from .model import Item, Model, model_from_network

__all__ = ["Failure", "FailureResult", "Item", "ItemChange", "Model", "Path", "State", "Topology", "WhatIf",
           "analyse", "item_path", "model_from_network", "parse_failures"]
