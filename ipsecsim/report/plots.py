"""Figures of a run, made from its :class:`Result` alone (a saved run plots as a live one).

Each ``*_figure`` function returns a :class:`matplotlib.figure.Figure`, or ``None`` when the
result lacks what it needs (a format 2 file has no time series). Figures are made without
pyplot, so no backend is chosen here: a notebook shows them with its own, and
:func:`write_plots` saves them with Agg (PNG) and the SVG writer, with no date or version in
the files, so the same run gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
import random
import textwrap
from typing import Any, Callable

import matplotlib
from matplotlib.figure import Figure

from .result import Result

__all__ = ["write_plots", "PLOTS", "throughput_figure", "delay_figure", "rtt_figure", "delay_cdf_figure",
           "drops_figure", "overhead_figure", "topology_figure"]

# Algorithms drawn in the overhead plot when the run used no SA: the usual setkey choices.
REPRESENTATIVE_ALGORITHMS = (("aes-gcm-16", None), ("aes-cbc", "hmac-sha2-256"), ("aes-cbc", "hmac-sha1"),
                             ("chacha20-poly1305", None), ("null", "hmac-sha2-256"))
OVERHEAD_SIZES = range(64, 1501)


class PlotFigure(Figure):
    """A Figure that shows itself in Jupyter even when pyplot (and so the inline backend)
    was never imported."""

    def _repr_png_(self) -> bytes:
        out = io.BytesIO()
        self.savefig(out, format="png", dpi=100, metadata={"Software": None})
        return out.getvalue()


def _figure(width: float = 8.0, height: float = 4.0) -> Figure:
    return PlotFigure(figsize=(width, height), layout="constrained")


def _title(ax, result: Result, what: str) -> None:
    ax.set_title("\n".join(textwrap.wrap(f"{result.name}: {what}", 90)), fontsize=10)


def _legend(ax) -> None:
    """Below the axes, never over the data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=min(3, len(handles)),
                  fontsize=8, frameon=False)


def _mark_timeline(ax, result: Result) -> None:
    """A dotted vertical line at each timeline event, with a short label along it."""
    for event in result.timeline:
        what = str(event["what"])
        ax.axvline(event["time"], color="0.45", linestyle=":", linewidth=0.9, zorder=0)
        ax.text(event["time"], 0.98, (what if len(what) <= 24 else what[:23] + "…"), rotation=90,
                va="top", ha="right", fontsize=7, color="0.35", transform=ax.get_xaxis_transform())


def _steps(times: list[float], values: list, end: float | None) -> tuple[list[float], list]:
    """Per-bin values drawn as steps: the last bin held to the series' end."""
    times, values = list(times[:len(values)]), list(values[:len(times)])
    if values and end is not None and end > times[-1]:
        times.append(end)
        values.append(values[-1])
    return times, values


def _series(result: Result) -> tuple[list[float], dict[str, Any]]:
    """The bins' start times and the series of the flows worth a line: the scenario's UDP flows
    when it has any (pings have their own plot, ESP flows repeat them with overhead), else every
    flow the monitor saw."""
    ts = result.timeseries or {}
    flows = dict(ts.get("flows") or {})
    chosen = {label: series for label, series in flows.items() if label in result.flows}
    return list(ts.get("times") or []), chosen or flows


def throughput_figure(result: Result) -> Figure | None:
    """Received throughput of each flow over time, its offered rate dashed in the same colour."""
    times, flows = _series(result)
    end = (result.timeseries or {}).get("end")
    flows = {label: f for label, f in flows.items() if f.get("throughput")}
    if not times or not flows:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    for index, (label, f) in enumerate(flows.items()):
        colour = f"C{index % 10}"
        if f.get("offered"):  # wide and pale underneath, so that a flow getting all it offers shows both
            x, y = _steps(times, [v / 1e6 for v in f["offered"]], end)
            ax.plot(x, y, color=colour, linestyle="--", linewidth=3, alpha=0.35, label=f"{label} offered",
                    drawstyle="steps-post")
        x, y = _steps(times, [v / 1e6 for v in f["throughput"]], end)
        ax.plot(x, y, color=colour, label=f"{label} received", drawstyle="steps-post")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("throughput (Mbit/s)")
    ax.set_ylim(bottom=0)
    _title(ax, result, "throughput per flow")
    _mark_timeline(ax, result)
    _legend(ax)
    return fig


def delay_figure(result: Result) -> Figure | None:
    """Mean one-way delay of each flow per time bin."""
    times, flows = _series(result)
    flows = {label: f for label, f in flows.items() if any(v is not None for v in f.get("delay_mean") or [])}
    if not times or not flows:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    for label, f in flows.items():
        points = [(t, v * 1e3) for t, v in zip(times, f["delay_mean"]) if v is not None]
        ax.plot([t for t, _ in points], [v for _, v in points], marker=".", markersize=3, label=label)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("one-way delay (ms)")
    _title(ax, result, "one-way delay per flow")
    _mark_timeline(ax, result)
    _legend(ax)
    return fig


def rtt_figure(result: Result) -> Figure | None:
    """Round-trip time of each echo reply, by the time its request was sent."""
    pings = [p for p in result.pings if p.get("rtts")]
    if not pings:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    for p in pings:
        label = p.get("name") or f"{p['from']} -> {p['to']}"
        ax.plot([t for t, _ in p["rtts"]], [rtt * 1e3 for _, rtt in p["rtts"]], marker=".", markersize=3,
                label=label)
    ax.set_xlabel("time sent (s)")
    ax.set_ylabel("round-trip time (ms)")
    _title(ax, result, "ping round-trip times")
    _mark_timeline(ax, result)
    _legend(ax)
    return fig


def delay_cdf_figure(result: Result) -> Figure | None:
    """The distribution of one-way delays of each flow (fraction of packets at or under a delay)."""
    stats = [s for s in result.flow_stats if s.get("delay_cdf")]
    if not stats:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    for s in stats:
        ax.plot([d * 1e3 for d, _ in s["delay_cdf"]], [f for _, f in s["delay_cdf"]], drawstyle="steps-post",
                label=s.get("label") or s.get("name") or str(s.get("id")))
    ax.set_xlabel("one-way delay (ms)")
    ax.set_ylabel("fraction of packets")
    ax.set_ylim(0, 1.02)
    _title(ax, result, "delay distribution (CDF)")
    _legend(ax)
    return fig


def drops_figure(result: Result) -> Figure | None:
    """Drops per time bin by reason; a saved run without time series gets the totals as bars."""
    times = list((result.timeseries or {}).get("times") or [])
    drops = {r: c for r, c in ((result.timeseries or {}).get("drops") or {}).items() if any(c)}
    fig = _figure()
    ax = fig.add_subplot()
    if times and drops:
        for reason, counts in drops.items():
            x, y = _steps(times, counts, (result.timeseries or {}).get("end"))
            ax.plot(x, y, drawstyle="steps-post", label=reason)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("packets dropped per bin")
        _mark_timeline(ax, result)
        _legend(ax)
    elif result.drops:
        reasons = sorted(result.drops, key=lambda reason: (-result.drops[reason], reason))
        ax.barh(reasons, [result.drops[r] for r in reasons])
        ax.invert_yaxis()
        ax.set_xlabel("packets dropped")
        ax.set_ylabel("reason")
    else:
        return None
    _title(ax, result, "drops by reason")
    return fig


def _algorithms(result: Result) -> list[tuple[str, str | None]]:
    used = sorted({(sa["enc"], sa["auth"]) for sa in result.sas if sa.get("enc")}, key=lambda a: (a[0], a[1] or ""))
    return used or list(REPRESENTATIVE_ALGORITHMS)


def esp_overhead(enc: str, auth: str | None, sizes=OVERHEAD_SIZES) -> list[int]:
    """Bytes tunnel-mode ESP adds (outer IPv4 header, ESP header, IV, padding, ICV) to an
    IPv4 packet of each size, measured by netipsec's own ``esp_output``."""
    from ..netipsec.algorithms import AUTH_ALGORITHMS, ENC_ALGORITHMS, enc_algorithm
    from ..netipsec.esp import esp_output
    from ..netipsec.sa import SecurityAssociation

    cipher = enc_algorithm(enc) if enc not in ENC_ALGORITHMS else ENC_ALGORITHMS[enc]
    key = bytes((cipher.kernel_keys or (cipher.key_min,))[0] + cipher.salt)
    auth_key = bytes(AUTH_ALGORITHMS[auth].key_len) if auth else b""
    sa = SecurityAssociation(src="192.0.2.1", dst="192.0.2.2", spi=0x1000, enc=enc, enc_key=key, auth=auth,
                             auth_key=auth_key, mode="tunnel", rng=random.Random(1))
    overhead = []
    for size in sizes:
        inner = bytearray(size)
        inner[0], inner[2:4], inner[9] = 0x45, size.to_bytes(2, "big"), 17
        overhead.append(len(esp_output(sa, bytes(inner))) - size)
    return overhead


def overhead_figure(result: Result) -> Figure | None:
    """ESP overhead against the inner packet's size, for each algorithm the run's SAs use."""
    fig = _figure()
    ax = fig.add_subplot()
    sizes = list(OVERHEAD_SIZES)
    for enc, auth in _algorithms(result):
        try:
            overhead = esp_overhead(enc, auth, sizes)
        except (KeyError, ValueError):  # an algorithm this version cannot run: leave it out
            continue
        label = enc + (f" + {auth}" if auth else "") + f" ({min(overhead)}-{max(overhead)} bytes)"
        ax.plot(sizes, [100 * o / n for o, n in zip(overhead, sizes)], linewidth=0.8, label=label)
    if not ax.lines:
        return None
    ax.set_xlabel("inner IPv4 packet (bytes)")
    ax.set_ylabel("ESP tunnel overhead (% of packet)")
    _title(ax, result, "ESP overhead by packet size")
    _legend(ax)
    return fig


def topology_figure(result: Result) -> Figure | None:
    """Hosts, cables coloured by utilisation, if_ipsec tunnels dashed over them."""
    import networkx as nx
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    topo = result.topology or {}
    hosts = topo.get("hosts") or {}
    if not hosts:
        return None
    graph: nx.MultiGraph = nx.MultiGraph()
    graph.add_nodes_from(hosts)
    links = topo.get("links") or []
    for link in links:
        graph.add_edge(link["a"].split(":")[0], link["b"].split(":")[0])
    positions = _layout(graph, list(hosts))
    xs, ys = [x for x, _ in positions.values()], [y for _, y in positions.values()]
    flat = max(ys) - min(ys) < 1e-9
    fig = _figure(max(8.0, 3.2 * (max(xs) - min(xs)) + 1.5) if flat else 9.0, 3.4 if flat else 7.0)
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["viridis"]
    top = max([1.0] + [link.get("utilisation") or 0.0 for link in links])
    norm = Normalize(0.0, top)
    for link in links:
        a, b = link["a"].split(":"), link["b"].split(":")
        (x1, y1), (x2, y2) = positions[a[0]], positions[b[0]]
        ax.plot([x1, x2], [y1, y2], color=cmap(norm(link.get("utilisation") or 0.0)), linewidth=4,
                linestyle="-" if link.get("up", True) else ":", zorder=1)
        for (host, ifname), (x, y), (ox, oy) in ((a, (x1, y1), (x2, y2)), (b, (x2, y2), (x1, y1))):
            ax.annotate(_interface_label(hosts, host, ifname), (x + (ox - x) * 0.3, y + (oy - y) * 0.3),
                        xytext=(0, 8), textcoords="offset points", fontsize=7, ha="center", va="bottom", zorder=3,
                        bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
        ax.annotate(f"{link['bandwidth'] / 1e6:g} Mbit/s, {link['delay'] * 1e3:g} ms", ((x1 + x2) / 2, (y1 + y2) / 2),
                    xytext=(0, -8), textcoords="offset points", fontsize=6, ha="center", va="top", color="0.25",
                    zorder=3)
    between: dict[frozenset[str], int] = {}  # tunnels already drawn between two hosts
    for a_name, host_b, label_b in _tunnel_pairs(topo, hosts):
        host_a, if_a = a_name.split(":")
        if host_a not in positions or host_b not in positions or host_a == host_b:
            continue
        # A quadratic curve bent off the cable; a second tunnel between the same hosts bends further.
        nth = between[frozenset((host_a, host_b))] = between.get(frozenset((host_a, host_b)), -1) + 1
        (x1, y1), (x2, y2) = sorted([positions[host_a], positions[host_b]])
        bend = (0.8 if flat else 0.3) * (1 + 0.7 * nth)
        control = ((x1 + x2) / 2 + bend * (y2 - y1), (y1 + y2) / 2 - bend * (x2 - x1))
        curve = MplPath([(x1, y1), control, (x2, y2)], [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3])
        ax.add_patch(PathPatch(curve, fill=False, linestyle="--", linewidth=1.6, edgecolor="#c0392b", zorder=2))
        apex = ((x1 + x2) / 4 + control[0] / 2, (y1 + y2) / 4 + control[1] / 2)
        ax.text(*apex, f"{_interface_label(hosts, host_a, if_a)} ⇄ {label_b}".replace("\n", " "),
                fontsize=7, ha="center", va="center", color="#c0392b", zorder=3,
                bbox={"boxstyle": "round", "fc": "white", "ec": "none", "alpha": 0.85})
    for name, (x, y) in positions.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=9, zorder=5,
                bbox={"boxstyle": "round,pad=0.6", "fc": "#cfe3f7", "ec": "#336699"})
    if flat:
        ax.set_ylim(-1.0 if topo.get("tunnels") else -0.6, 0.6)
        ax.margins(x=0.08)
    else:
        ax.margins(0.2)
    ax.set_axis_off()
    if links:
        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="link utilisation (busiest direction)",
                     shrink=0.5 if flat else 0.7, location="bottom" if flat else "right", aspect=40 if flat else 20)
    _title(ax, result, "topology (dashed: if_ipsec tunnels)" if topo.get("tunnels") else "topology")
    return fig


def _layout(graph, names: list[str]) -> dict[str, tuple[float, float]]:
    """Hosts in a chain (the usual A - router - B) on one line, in order; others by spring layout."""
    import networkx as nx

    simple: nx.Graph = nx.Graph(graph)
    if len(names) == 1:
        return {names[0]: (0.0, 0.0)}
    if nx.is_connected(simple) and nx.is_tree(simple) and max(d for _, d in simple.degree()) <= 2:
        start = min((n for n in names if simple.degree(n) == 1), key=names.index)
        order = list(nx.dfs_preorder_nodes(simple, start))
        return {name: (float(i), 0.0) for i, name in enumerate(order)}
    return {name: (float(x), float(y)) for name, (x, y) in nx.spring_layout(graph, seed=1).items()}


def _interface_label(hosts: dict, host: str, ifname: str) -> str:
    addresses = (hosts.get(host, {}).get("interfaces", {}).get(ifname) or {}).get("addresses") or []
    return "\n".join([ifname, *[a for a in addresses if not a.startswith("fe80:")]])


def _tunnel_pairs(topo: dict, hosts: dict) -> list[tuple[str, str, str]]:
    """Each tunnel once: its if_ipsec interface, the far host and the far end's label (the
    peer's if_ipsec interface, or the tunnel's destination address when none mirrors it)."""
    owner = {a.split("/")[0]: host for host, h in hosts.items() for i in h.get("interfaces", {}).values()
             for a in i.get("addresses") or []}
    pairs: list[tuple[str, str, str]] = []
    drawn: set[frozenset[str]] = set()
    for tunnel in topo.get("tunnels") or []:
        peer = tunnel.get("b")
        if peer:
            if frozenset((tunnel["a"], peer)) in drawn:
                continue
            drawn.add(frozenset((tunnel["a"], peer)))
            host, ifname = peer.split(":")
            pairs.append((tunnel["a"], host, _interface_label(hosts, host, ifname)))
        elif tunnel.get("dst") in owner:
            pairs.append((tunnel["a"], owner[tunnel["dst"]], f"{tunnel['dst']} (no if_ipsec peer)"))
    return pairs


# name -> figure builder; write_plots writes them in this order.
PLOTS: dict[str, Callable[[Result], Figure | None]] = {
    "topology": topology_figure,
    "throughput": throughput_figure,
    "delay": delay_figure,
    "delay_cdf": delay_cdf_figure,
    "rtt": rtt_figure,
    "drops": drops_figure,
    "overhead": overhead_figure,
}


def write_plots(result: Result, directory: str | Path) -> list[Path]:
    """Write NAME.png and NAME.svg for every plot the result has data for into ``directory``
    (created if missing); returns their paths. The same run gives the same bytes."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context({"svg.hashsalt": "ipsecsim", "svg.fonttype": "path"}):
        for name, build in PLOTS.items():
            fig = build(result)
            if fig is None:
                continue
            png, svg = directory / f"{name}.png", directory / f"{name}.svg"
            fig.savefig(png, dpi=100, metadata={"Software": None})
            fig.savefig(svg, metadata={"Date": None, "Creator": None})
            written += [png, svg]
    return written
