"""`dogxray report` output: one self-contained HTML page (inline CSS and SVG, no script,
no network request) from the data `dogxray.monitor.report.gather` returns.

The page is a Jinja2 template (`dogxray/templates/report.html.j2`, autoescaped: trace
names, exception messages and log lines are data, never markup). Python computes the
geometry the template draws:
- the service map, left to right: a node's column is its longest path from a source
  (client -> Lambda -> function -> S3 bucket and Dog API hosts), rows in map order.
  Hand-written layout: the lab's graph is a short chain that fans out at the end, which
  a layered layout places without crossings; a layout library (graphviz, ELK) would add
  a native or JavaScript dependency for a handful of boxes.
- health rings as SVG arcs (each status's share of the circle, the console's colours);
- the response-time histogram as SVG bars; waterfalls as HTML bars positioned in
  percent of the trace's duration.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

from dogxray import render
from dogxray.monitor.invocations import of_requests
from dogxray.monitor.report import Report
from dogxray.render.logs import lines as log_lines

BOX_W, BOX_H = 200, 66
COL_GAP, ROW_GAP = 104, 26
MARGIN = 16
RING_R, RING_STROKE = 19, 7
COLOURS = {"ok": "#3c9a3c", "error": "#e0a800", "throttle": "#8e44ad", "fault": "#d0312d"}
HIST_W, HIST_H, HIST_PAD = 640, 170, 34


def _arc(cx: float, cy: float, r: float, start: float, sweep: float) -> str:
    """An SVG path for a circular arc from angle `start` over `sweep` (radians)."""
    x1, y1 = cx + r * math.cos(start), cy + r * math.sin(start)
    x2, y2 = cx + r * math.cos(start + sweep), cy + r * math.sin(start + sweep)
    large = 1 if sweep > math.pi else 0
    return f"M{x1:.2f},{y1:.2f} A{r},{r} 0 {large} 1 {x2:.2f},{y2:.2f}"


def ring(stats: dict[str, Any], cx: float, cy: float) -> list[dict[str, Any]]:
    """The health ring: one arc per status that happened (a full circle when only one)."""
    total = stats["requests"]
    shares = [(s, stats[s] / total) for s in COLOURS if total and stats[s]]
    if len(shares) <= 1:
        colour = COLOURS[shares[0][0]] if shares else "#bbbbbb"
        status = shares[0][0] if shares else "none"
        return [
            {"circle": True, "cx": cx, "cy": cy, "r": RING_R, "colour": colour, "status": status}
        ]
    arcs, angle = [], -math.pi / 2
    for status, share in shares:
        sweep = share * 2 * math.pi
        arcs.append(
            {"circle": False, "d": _arc(cx, cy, RING_R, angle, sweep), "colour": COLOURS[status],
             "status": status}
        )  # fmt: skip
        angle += sweep
    return arcs


def map_layout(doc: dict[str, Any]) -> dict[str, Any]:
    """Boxes, rings and edge curves of the service map, in SVG user units."""
    nodes = doc["nodes"]
    incoming: dict[int, list[int]] = {n["id"]: [] for n in nodes}
    for edge in doc["edges"]:
        incoming[edge["target"]].append(edge["source"])
    column: dict[int, int] = {}

    def depth(node_id: int, path: frozenset[int] = frozenset()) -> int:
        if node_id not in column:
            parents = [p for p in incoming[node_id] if p not in path]
            column[node_id] = 1 + max((depth(p, path | {node_id}) for p in parents), default=-1)
        return column[node_id]

    rows: dict[int, int] = {}
    per_column: dict[int, int] = {}
    for node in nodes:  # map order: client, Lambda, function, downstream by type and name
        col = depth(node["id"])
        rows[node["id"]] = per_column.get(col, 0)
        per_column[col] = rows[node["id"]] + 1
    tallest = max(per_column.values(), default=1)
    height = MARGIN * 2 + tallest * BOX_H + (tallest - 1) * ROW_GAP
    boxes = {}
    for node in nodes:
        col, row = column[node["id"]], rows[node["id"]]
        in_col = per_column[col]
        top = (height - (in_col * BOX_H + (in_col - 1) * ROW_GAP)) / 2 + row * (BOX_H + ROW_GAP)
        x, y = MARGIN + col * (BOX_W + COL_GAP), top
        stats = node["stats"]
        boxes[node["id"]] = {
            "x": x,
            "y": y,
            "name": node["name"],
            "label": render.cut(node["name"], 20),
            "type": node["type"],
            "short_type": render.type_label(node["type"])
            + (" · shared" if node.get("shared") else ""),
            "shared": bool(node.get("shared")),
            "all_callers": node.get("all_callers"),
            "stats": stats,
            "avg": render.ms(stats["avg_ms"]),
            "ring": ring(stats, x + 8 + RING_R, y + BOX_H / 2),
        }
    edges = []
    for edge in doc["edges"]:
        a, b = boxes[edge["source"]], boxes[edge["target"]]
        x1, y1 = a["x"] + BOX_W, a["y"] + BOX_H / 2
        x2, y2 = b["x"] - 4, b["y"] + BOX_H / 2
        mid = (x1 + x2) / 2
        edges.append(
            {
                "d": f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}",
                "lx": x2 - COL_GAP / 2 + 4,  # above the curve's flat end: fanned labels part
                "ly": y2 - 6,
                "stats": edge["stats"],
                "avg": render.ms(edge["stats"]["avg_ms"]),
                "source": a["name"],
                "target": b["name"],
                "fault": edge["stats"]["fault"] > 0,
            }
        )
    columns = max(column.values(), default=0) + 1
    width = MARGIN * 2 + columns * BOX_W + (columns - 1) * COL_GAP
    return {"width": width, "height": height, "boxes": list(boxes.values()), "edges": edges,
            "box_w": BOX_W, "box_h": BOX_H, "ring_stroke": RING_STROKE}  # fmt: skip


def histogram_layout(bins: list[dict[str, Any]]) -> dict[str, Any]:
    """SVG bars of the response-time histogram, scaled to the fullest bin."""
    top = max((b["count"] for b in bins), default=0)
    inner_w, inner_h = HIST_W - 2 * HIST_PAD, HIST_H - 2 * HIST_PAD
    step = inner_w / len(bins) if bins else inner_w
    bars = []
    for index, b in enumerate(bins):
        h = (b["count"] / top) * inner_h if top else 0.0
        x = HIST_PAD + index * step
        bars.append(
            {
                "x": x + 1,
                "y": HIST_PAD + inner_h - h,
                "w": max(step - 2, 1),
                "h": h,
                "cx": x + step / 2,
                "count": b["count"],
                "from": render.ms(b["from_ms"]),
                "to": render.ms(b["to_ms"]),
            }
        )
    return {"width": HIST_W, "height": HIST_H, "pad": HIST_PAD, "base": HIST_PAD + inner_h,
            "bars": bars}  # fmt: skip


def _flags(doc: dict[str, Any]) -> list[str]:
    flags = [name for name in ("fault", "error", "throttle") if doc.get(name)]
    if doc.get("in_progress"):
        flags.append("in progress")
    elif doc.get("partial"):
        flags.append("partial")
    return flags


def _below(node: dict[str, Any]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for child in node["children"]:
        keys |= {(e["type"], e["message"]) for e in child["exceptions"]} | _below(child)
    return keys


def waterfall_rows(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per node, depth-first, with its bar in percent of the trace and the
    exceptions it raised (shown once, under the node that recorded them)."""
    total = detail["duration_ms"] or 1.0
    out: list[dict[str, Any]] = []
    stack = [(node, 0) for node in reversed(detail["nodes"])]
    while stack:
        node, depth = stack.pop()
        left = min(100.0, max(0.0, node["start_offset_ms"] / total * 100))
        aws = node["aws"]
        target = "/".join(str(aws[k]) for k in ("bucket_name", "key") if aws.get(k))
        below = _below(node)
        out.append(
            {
                "depth": depth,
                "name": node["name"],
                "origin": node["origin"],
                "operation": f"{aws.get('operation', '')} {target}".strip(),
                "http": node["http_status"],
                "start": f"{node['start_offset_ms']:.1f}",
                "duration": f"{node['duration_ms']:.1f}",
                "left": f"{left:.2f}",
                "width": f"{max(0.25, min(100.0 - left, node['duration_ms'] / total * 100)):.2f}",
                "flags": _flags(node),
                "exceptions": [
                    e for e in node["exceptions"] if (e["type"], e["message"]) not in below
                ],
            }
        )
        stack.extend((child, depth + 1) for child in reversed(node["children"]))
    return out


def _waterfall(item: dict[str, Any]) -> dict[str, Any]:
    detail = item["trace"]
    found = item.get("logs") or {}
    return {
        "reason": item["reason"],
        "id": detail["id"],
        "duration_ms": detail["duration_ms"],
        "flags": _flags(detail),
        "root_cause": detail["root_cause"],
        "rows": waterfall_rows(detail),
        "request_id": found.get("request_id"),
        "log_lines": list(log_lines(found.get("events") or [])),
        "log_note": found.get("note"),
    }


def html(report: Report) -> str:
    """The whole page."""
    from jinja2 import Environment, StrictUndefined

    source = resources.files("dogxray").joinpath("templates/report.html.j2").read_text("utf-8")
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)  # fmt: skip
    template = env.from_string(source)
    data = report.to_json()
    data["backend"] = data["backend"] or data["region"]
    waterfalls = [_waterfall(item) for item in data["waterfalls"]]
    return template.render(
        data=data,
        map=map_layout(data["map"]),
        histogram=histogram_layout(data["histogram"]),
        waterfalls=waterfalls,
        linked={w["id"] for w in waterfalls},
        colours=COLOURS,
        ms=render.ms,
        flags=_flags,
    )


def written(path: Any, data: Report, size: int, *, to_stderr: bool = False) -> None:
    """What was written, on stdout (the path alone on the last line, for scripts); on
    stderr when the page itself went to stdout (`--file /dev/stdout`)."""
    line = render.progress if to_stderr else render.data
    line(
        f"report of {render.plural(data.count, 'trace')} "
        f"({render.plural(data.faults, 'fault')}), "
        f"{render.plural(len(data.waterfalls), 'waterfall')}, {size / 1024:,.0f} kB"
        + of_requests(data.requests)
    )
    line(str(path))
    if data.note:
        render.progress(f"note: {data.note}")
