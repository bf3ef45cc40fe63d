"""Matplotlib figures of a run: ping round trips, flow delivery, drops by reason."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; notebooks use their own backend through result objects
import matplotlib.pyplot as plt  # noqa: E402

from .result import Result  # noqa: E402

__all__ = ["write_plots"]


def write_plots(result: Result, directory: str | Path, network=None) -> list[Path]:
    """Write PNG files into ``directory``; returns their paths. ``network`` adds topology.png."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    if network is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        network.draw(ax)
        ax.set_title("topology")
        written.append(_save(fig, directory / "topology.png"))
    pings = [p for p in result.pings if p.get("transmitted")]
    if pings:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        labels = [f"{p['from']} -> {p['to']}" for p in pings]
        ax.bar(labels, [p["received"] for p in pings], label="received")
        ax.bar(labels, [p["transmitted"] - p["received"] for p in pings], bottom=[p["received"] for p in pings],
               label="lost", color="#d9534f")
        ax.set_ylabel("echo requests")
        ax.legend()
        ax.set_title("pings")
        written.append(_save(fig, directory / "pings.png"))
    if result.flows:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        names = list(result.flows)
        ax.bar(names, [f["throughput"] / 1e6 for f in result.flows.values()])
        ax.set_ylabel("throughput (Mbit/s)")
        ax.set_title("UDP flows")
        written.append(_save(fig, directory / "flows.png"))
    if result.drops:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        reasons = sorted(result.drops, key=lambda reason: result.drops[reason], reverse=True)
        ax.barh(reasons, [result.drops[r] for r in reasons])
        ax.set_xlabel("packets")
        ax.set_title("drops by reason")
        written.append(_save(fig, directory / "drops.png"))
    return written


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})  # no version string: identical bytes per run
    plt.close(fig)
    return path
