"""A progress bar for long runs: simulated time done, events a second, time left.

The run advances in steps of a hundredth of the span still to simulate. Each step is simpy's
``run(until=...)``: the queue is left as it was between steps, so the results are the same
bytes as one run to the end. The bar only reads the clock and the event count between steps;
nothing inside the simulation sees the wall clock.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from .world import Network

__all__ = ["progress_wanted", "run_with_bar"]

STEPS = 100


def in_notebook() -> bool:
    """Running in a Jupyter kernel (its stderr is no terminal, yet the bar is welcome there)."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    ipython = getattr(shell, "get_ipython", lambda: None)()
    return ipython is not None and type(ipython).__name__ == "ZMQInteractiveShell"


def progress_wanted() -> bool:
    """The default: a bar when someone watches stderr (a terminal) or a notebook."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        tty = False
    return tty or in_notebook()


def _widgets() -> bool:
    return importlib.util.find_spec("ipywidgets") is not None


def _columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0


def run_with_bar(network: Network, end: float) -> None:
    if in_notebook() and _widgets():
        from tqdm.auto import tqdm  # type: ignore[import-untyped]
    else:  # text, which a notebook shows too (tqdm.auto would warn without ipywidgets)
        from tqdm import tqdm  # type: ignore[import-untyped]
    start = network.now
    span = end - start
    events = network.engine.scheduled
    # mininterval=0: a redraw per step (100 a run) costs nothing and a short run still shows its rate
    bar = tqdm(total=round(span, 6), file=sys.stderr, leave=False, desc="simulated", mininterval=0,
               **({} if _columns() else {"ncols": 80, "nrows": 24}),  # a new pty says 0 x 0: tqdm would draw nothing
               bar_format="{desc} {n:.1f}/{total:.1f} s |{bar}| {percentage:3.0f}%{postfix} [{elapsed}<{remaining}]")
    try:
        for i in range(1, STEPS + 1):
            target = end if i == STEPS else start + span * i / STEPS
            network.run(target)
            elapsed = bar.format_dict.get("elapsed") or 0
            done = network.engine.scheduled - events
            bar.set_postfix_str(f"{done / elapsed:,.0f} events/s" if elapsed else "", refresh=False)
            bar.update(round(network.now - start, 6) - bar.n)
    finally:
        bar.close()
