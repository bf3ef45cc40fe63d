"""A what-if answer as text (one section per failure) and as JSON ("format": 1, docs/whatif.md)."""

from __future__ import annotations

import json
from typing import Any

from .analysis import WhatIf
from .engine import Path

__all__ = ["FORMAT", "render_text", "to_json", "write_json"]

FORMAT = 1


def _route(path: Path) -> str:
    hops = " > ".join(path.hops) if path.hops else "-"
    if path.reachable:
        text = f"{hops} > {path.end}" if path.hops else f"{path.end} (its own address)"
    else:
        text = f"{hops} LOST: {path.reason} at {path.end}"
    if path.reply is not None:
        text += f"; reply {_route(path.reply)}"
    return text


def _measure(path: Path) -> str:
    cost = "-" if path.cost is None else str(path.cost)
    count = len(path.hops)
    return f"{count} hop{'' if count == 1 else 's'}, cost {cost}"


def render_text(answer: WhatIf, *, quiet: bool = False) -> str:
    title = f"What if: {answer.model.name}" if answer.model.name else "What if"
    lines = [title, "=" * len(title)]
    for note in answer.model.notes:
        lines.append(f"note: {note}")
    if not quiet:
        lines += ["", "Paths without failures"]
        width = max((len(item.name) for item, _ in answer.base), default=4)
        for item, path in answer.base:
            state = "ok" if path.ok else "UNREACHABLE"
            lines.append(f"  {item.kind:6} {item.name:{width}}  {state:11}  {_measure(path):20}  {_route(path)}")
    quiet_failures = 0
    for result in answer.results:
        if not result.changes and quiet:
            quiet_failures += 1
            continue
        lines += ["", f"Failure: {result.failure.label}"]
        for change in result.changes:
            item = change.item
            lines.append(f"  {change.status:8} {item.kind} {item.name}")
            lines.append(f"           before: {_measure(change.before)}: {_route(change.before)}")
            lines.append(f"           after:  {_measure(change.after)}: {_route(change.after)}")
        lines.append(f"  {result.unaffected} unaffected")
    if quiet_failures:
        lines += ["", f"{quiet_failures} failures affect nothing"]
    return "\n".join(lines) + "\n"


def _path_json(path: Path) -> dict[str, Any]:
    return {
        "reachable": path.reachable,
        "reason": path.reason,
        "hops": list(path.hops),
        "end": path.end,
        "hop_count": len(path.hops),
        "cost": path.cost,
        "reply": _path_json(path.reply) if path.reply is not None else None,
    }


def to_json(answer: WhatIf) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "scenario": answer.model.name,
        "notes": list(answer.model.notes),
        "items": [{"kind": item.kind, "name": item.name, "from": item.host, "to": str(item.dst),
                   "path": _path_json(path)} for item, path in answer.base],
        "failures": [{
            "links": list(result.failure.links),
            "hosts": list(result.failure.hosts),
            "unaffected": result.unaffected,
            "affected": [{"name": change.item.name, "kind": change.item.kind, "status": change.status,
                          "before": _path_json(change.before), "after": _path_json(change.after)}
                         for change in result.changes],
        } for result in answer.results],
    }


def write_json(answer: WhatIf, path) -> None:
    with open(path, "w") as out:
        json.dump(to_json(answer), out, indent=1)
        out.write("\n")
