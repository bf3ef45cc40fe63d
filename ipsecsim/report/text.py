"""The run summary as text (terminal) and HTML (Jupyter)."""

import html
import os

from .result import Result

__all__ = ["render_summary", "render_run_output", "render_html", "format_rate", "format_ms"]

COUNTER_COLUMNS = ("ipackets", "ierrors", "iqdrops", "ibytes", "opackets", "oerrors", "oqdrops", "obytes")
COUNTER_HEADERS = ("Ipkts", "Ierrs", "Idrop", "Ibytes", "Opkts", "Oerrs", "Odrop", "Obytes")


def format_rate(bps: float) -> str:
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("Kbit/s", 1e3)):
        if round(bps / scale, 2) >= 1:  # 999,999.9 bit/s reads 1.00 Mbit/s, not 1000.00 Kbit/s
            return f"{bps / scale:.2f} {unit}"
    return f"{bps:.0f} bit/s"


def format_ms(value) -> str:
    return "-" if value is None or value != value else f"{value:.3f}"


class _TableLines(list):
    """A table's text lines that keep their cells, so the HTML view draws a real table."""

    rows: list[list[str]]
    right_from: int


def _table(rows: list[list[str]], right_from: int = 1) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [c.ljust(w) if i < right_from else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  " + "  ".join(cells).rstrip())
    table = _TableLines(lines)
    table.rows, table.right_from = rows, right_from
    return table


def _sections(result: Result) -> list[tuple[str, list[str]]]:
    sections = []
    if result.pings:
        rows = [["ping", "from -> to", "sent", "recv", "loss", "rtt min/avg/max/stddev (ms)"]]
        for p in result.pings:  # by name: two pings between the same hosts are two rows
            rtt = "/".join(format_ms(_ms(p.get(k))) for k in ("rtt_min", "rtt_avg", "rtt_max", "rtt_stddev"))
            rows.append([p.get("name", ""), f"{p['from']} -> {p['to']}", str(p["transmitted"]), str(p["received"]),
                         f"{p['loss'] * 100:.1f}%", rtt])
        sections.append(("Pings", _table(rows, right_from=2)))
    if result.flows:
        rows = [["flow", "sent", "recv", "loss", "throughput", "delay avg/max (ms)", "jitter (ms)", "reordered"]]
        for name, f in result.flows.items():
            delay = f"{format_ms(_ms(f.get('delay_avg')))}/{format_ms(_ms(f.get('delay_max')))}"
            rows.append([name, str(f["sent"]), str(f["received"]), f"{f['loss'] * 100:.2f}%",
                         format_rate(f["throughput"]), delay, format_ms(_ms(f.get("jitter"))), str(f["reordered"])])
        sections.append(("UDP flows", _table(rows)))
    if result.flow_stats:
        sections.append(("Flow statistics", _flow_stats_table(result.flow_stats)))
    if result.counters:
        rows = [["interface", *COUNTER_HEADERS]]
        for name, data in result.counters.items():
            if any(data.get(c, 0) for c in COUNTER_COLUMNS):  # idle interfaces (lo0 mostly) add noise
                rows.append([name, *(str(data.get(c, 0)) for c in COUNTER_COLUMNS)])
        sections.append(("Interfaces", _table(rows)))
    if result.sas:
        rows = [["host", "SA", "spi", "mode", "reqid", "algorithms", "seq", "packets", "bytes", "state"]]
        for sa in result.sas:
            algorithms = sa["enc"] + (f" + {sa['auth']}" if sa["auth"] else "")
            rows.append([sa["host"], f"{sa['src']} -> {sa['dst']}", str(sa["spi"]), sa["mode"], str(sa["reqid"]),
                         algorithms, str(sa["seq"]), str(sa["packets"]), str(sa["bytes"]), sa["state"]])
        sections.append(("Security associations", _table(rows, right_from=2)))
    if result.ike:
        sections.append(("IKE", _ike_table(result.ike)))
        failures = _ike_failure_lines(result.ike)
        if failures:
            sections.append(("IKE failures", failures))
    if result.drops:
        rows = [["reason", "packets", "where"]]
        for reason, count in sorted(result.drops.items(), key=lambda item: (-item[1], item[0])):
            where = ", ".join(f"{host} {by[reason]}" for host, by in result.drops_by_host.items() if by.get(reason))
            rows.append([reason, str(count), where])
        sections.append(("Drops by reason", _table(rows, right_from=1)))
    if result.timeline:
        times = [f"{event['time']:.3f} s" for event in result.timeline]
        width = max(map(len, times))
        rows = [["time".rjust(width), "what"]] + [[t.rjust(width), e["what"]] for t, e in zip(times, result.timeline)]
        sections.append(("Timeline", _table(rows, right_from=2)))
    if result.route_changes:
        sections.append(("Route changes", _route_change_lines(result.route_changes)))
    if result.adjacency_changes:
        sections.append(("OSPF adjacencies", _adjacency_lines(result.adjacency_changes)))
    if result.outages:
        sections.append(("Outages", [f"  {_outage_line(o)}" for o in result.outages]))
    if result.command_errors:
        sections.append(("Command errors", ["  " + e for e in result.command_errors]))
    if result.notes:
        sections.append(("Notes", ["  " + n for n in result.notes]))
    if result.expectations:
        lines = [f"  {'ok  ' if e.holds else 'FAIL'}  {e.text}  (got {e.actual})" for e in result.expectations]
        sections.append(("Expectations", lines))
    return sections


MAX_ROUTE_CHANGES = 20  # lines of the summary's "Route changes"; the result holds them all


def _route_change_lines(changes: list[dict]) -> list[str]:
    """``20.004 s  A  delete  10.2.0.0/24  gw 172.16.0.5  ipsec0  UG1``: the first twenty."""
    shown = changes[:MAX_ROUTE_CHANGES]
    times = [f"{c['time']:.3f} s" for c in shown]
    width = max(map(len, times))
    rows = [["time".rjust(width), "host", "change", "destination", "gateway", "interface", "flags"]]
    for c, time in zip(shown, times):
        rows.append([time.rjust(width), c["host"], c["change"], c["destination"], c["gateway"] or "-",
                     c["interface"], c["flags"]])
    lines = _table(rows, right_from=7)
    if len(changes) > MAX_ROUTE_CHANGES:
        lines.append(f"  ... and {len(changes) - MAX_ROUTE_CHANGES} more")
    return lines


def _adjacency_lines(changes: list[dict]) -> list[str]:
    """``23.010 s  A  10.2.0.1  ipsec0  Full -> Down  InactivityTimer``: the first twenty."""
    shown = changes[:MAX_ROUTE_CHANGES]
    times = [f"{c['time']:.3f} s" for c in shown]
    width = max(map(len, times))
    rows = [["time".rjust(width), "host", "neighbor", "interface", "change", "event"]]
    for c, time in zip(shown, times):
        rows.append([time.rjust(width), c["host"], c["neighbor"], c["interface"], f"{c['from']} -> {c['to']}",
                     c["event"]])
    lines = _table(rows, right_from=6)
    if len(changes) > MAX_ROUTE_CHANGES:
        lines.append(f"  ... and {len(changes) - MAX_ROUTE_CHANGES} more")
    return lines


def _outage_line(outage: dict) -> str:
    """``main: 20.000s -> 24.512s, 4.512s, 451 datagrams lost`` (ping: echo requests)."""
    noun = "echo requests" if outage.get("kind") == "ping" else "datagrams"
    lost = f"{outage['lost']} {noun[:-1] if outage['lost'] == 1 else noun} lost"
    if outage["end"] is None:
        return f"{outage['flow']}: {outage['start']:.3f}s -> still out at the end, {lost}"
    return f"{outage['flow']}: {outage['start']:.3f}s -> {outage['end']:.3f}s, {outage['duration']:.3f}s, {lost}"


MAX_IKE_FAILURES = 20  # lines of the summary's "IKE failures" per host and connection


def _ike_table(ike: dict) -> list[str]:
    """One row per host and connection: IKE_SAs established, how long each took, rekeys, retransmits."""
    rows = [["host", "connection", "initiated", "established", "time to establish", "rekeys", "expired",
             "retransmits", "failures"]]
    for host, connections in ike.items():
        for name, c in connections.items():
            rows.append([host, name, str(c["initiated"]), str(c["established"]), _times(c["times_to_establish"]),
                         str(c["rekeys"]), str(c["expired"]), str(c["retransmissions"]), str(len(c["failures"]))])
    return _table(rows, right_from=2)


def _times(times: list[float]) -> str:
    """``0.004 s``, ``0.004 s, 4.012 s``, or the first three and how many more."""
    if not times:
        return "-"
    shown = ", ".join(f"{t:.3f} s" for t in times[:3])
    return shown + (f" (+{len(times) - 3} more)" if len(times) > 3 else "")


def _ike_failure_lines(ike: dict) -> list[str]:
    """``A host-a-b 0.004 s: AUTHENTICATION_FAILED: ...``, in time order per connection."""
    lines = []
    for host, connections in ike.items():
        for name, c in connections.items():
            for f in c["failures"][:MAX_IKE_FAILURES]:
                lines.append(f"  {host} {name} at {f['time']:.3f} s: {f['reason']}")
            if len(c["failures"]) > MAX_IKE_FAILURES:
                lines.append(f"  {host} {name}: ... and {len(c['failures']) - MAX_IKE_FAILURES} more")
    return lines


def _flow_stats_table(flow_stats: list[dict]) -> list[str]:
    """One row per flow the monitor saw: inner (ip) flows and the ESP flows that carried them."""
    rows = [["flow", "kind", "src -> dst", "tx", "rx", "lost", "delay avg/p99 (ms)", "jitter (ms)", "overhead"]]
    for f in flow_stats:
        ends = f"{f['src']} -> {f['dst']}" + (f" spi {f['spi']}" if f["spi"] is not None else "")
        delay = f"{format_ms(_ms(f['delay_mean']))}/{format_ms(_ms(f['delay_p99']))}"
        overhead = "-" if f["overhead"] is None else f"{f['overhead']:.3f}"
        rows.append([f["label"], f["kind"], ends, str(f["tx_packets"]), str(f["rx_packets"]), str(f["lost_packets"]),
                     delay, format_ms(_ms(f["jitter_mean"])), overhead])
    return _table(rows, right_from=3)


def _ms(seconds):
    """A result's seconds as the milliseconds the tables print."""
    return None if seconds is None else seconds * 1000


def interrupted_note(now: float, planned: float) -> str:
    """The note of an interrupted run; the summary's head repeats it in short."""
    return (f"interrupted (Ctrl-C) at {now:g} s of {planned:g} s: every figure covers the first {now:g} s; "
            "expectations are checked against that")


def render_summary(result: Result) -> str:
    head = f"{result.name}: {result.duration:g} s simulated, seed {result.seed}"
    out = [head, "=" * len(head)]
    if result.interrupted:
        planned = result.planned_duration
        out.append(f"interrupted at {result.duration:g} s" + (f" of {planned:g} s" if planned else ""))
    out += _ledger_lines(result.ledger)
    for title, lines in _sections(result):
        out += ["", title, *lines]
    if result.expectations:
        held = sum(e.holds for e in result.expectations)
        out += ["", f"{held}/{len(result.expectations)} expectations hold"]
    return "\n".join(out) + "\n"


def render_run_output(result: Result, quiet: bool = False) -> str:
    """What ``ipsecsim run`` prints on stdout, made from the result alone, so that
    ``ipsecsim report RUN.json`` prints the same bytes: summary, consoles, where the captures are."""
    out = [render_summary(result)]
    if not quiet:
        for host, entries in result.console.items():
            out.append(f"\nConsole of {host}\n")
            out += [f"  [{time:9.3f}] {line}\n" for time, line in entries]
    if result.files and not quiet:
        directory = os.path.dirname(result.files[0]) or "."
        out.append(f"\nCaptures: {directory}/<host>-<interface>.pcap (physical interfaces show ESP, "
                   "ipsecN the plaintext)\n")
    return "".join(out)


def _ledger_lines(ledger: dict) -> list[str]:
    """The run's books in one line (none for a format 2 file), and a loud one if they do not balance."""
    if not ledger:
        return []
    line = (f"Datagrams: {ledger['sent']:,} sent: {ledger['delivered']:,} delivered, "
            f"{sum(ledger['dropped'].values()):,} dropped, {ledger['in_flight']:,} in flight")
    if ledger["in_reassembly"]:
        line += f", {ledger['in_reassembly']:,} waiting in reassembly"
    lines = [line]
    if ledger["unaccounted"]:
        lines.append(f"WARNING: {ledger['unaccounted']:,} datagrams are unaccounted for: "
                     "this is a bug in ipsecsim; please report it")
    return lines


def render_html(result: Result) -> str:
    """Jupyter's view: the title, the ledger, then each section as a table (every text escaped)."""
    head = f"{result.name}: {result.duration:g} s simulated, seed {result.seed}"
    parts = [f"<h4>{html.escape(head)}</h4>"]
    if result.interrupted:
        parts.append("<p><b>interrupted</b>: the figures cover the run up to its stop</p>")
    ledger = _ledger_line(result.ledger)
    if ledger:
        parts.append(f"<p>{html.escape(ledger)}</p>")
    for title, lines in _sections(result):
        parts.append(f"<b>{html.escape(title)}</b>")
        rows = getattr(lines, "rows", None)
        if rows:
            right_from = getattr(lines, "right_from", 1)
            out = ["<table>", "<thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in rows[0]) + "</tr></thead>",
                   "<tbody>"]
            for row in rows[1:]:
                cells = "".join(f'<td style="text-align:{"left" if i < right_from else "right"}">{html.escape(c)}</td>'
                                for i, c in enumerate(row))
                out.append(f"<tr>{cells}</tr>")
            parts.append("\n".join(out + ["</tbody></table>"]))
        else:
            items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
    if result.expectations:
        held = sum(e.holds for e in result.expectations)
        parts.append(f"<p>{held}/{len(result.expectations)} expectations hold</p>")
    return "\n".join(parts)


def _ledger_line(ledger: dict) -> str:
    """``sent 120, delivered 118, dropped 2, in flight 0, unaccounted 0``; "" without a ledger."""
    if not ledger:
        return ""
    dropped = ledger.get("dropped") or {}
    parts = [f"sent {ledger.get('sent', 0)}", f"delivered {ledger.get('delivered', 0)}",
             f"dropped {sum(dropped.values()) if isinstance(dropped, dict) else dropped}"]
    for key, words in (("in_flight", "in flight"), ("in_reassembly", "in reassembly"), ("unaccounted", "unaccounted")):
        if key in ledger:
            parts.append(f"{words} {ledger[key]}")
    return "datagrams: " + ", ".join(parts)
