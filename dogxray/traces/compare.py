"""`dogxray analyze`: what made the bad requests bad (X-Ray's trace analytics "compare").

Pure functions over trace trees. Two splits of the window's traces:
- slow vs normal, by a threshold given or derived (twice the median duration, so one
  injected 5 s hang stands out against ~20 ms requests whatever the mix). The node that
  explains the difference is the one whose median *self* time (its duration minus its
  children's) differs most between the groups: a parent that merely contains the slow
  child does not get the blame.
- faulty vs ok: where the faults start (each failed trace's root-cause node) and the
  exception clusters (type, message, node) with counts and the newest trace ids.
A node absent from a trace counts 0 ms there (an injection that hits 30 % of requests).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dogxray.traces.analysis import percentile, root_cause
from dogxray.traces.model import Node, Trace

EXAMPLES = 3  # trace ids shown per cluster
TOP_NODES = 5
MIN_THRESHOLD_MS = 1.0


@dataclass
class Profile:
    """What `analyze` needs of one trace (the trees themselves are not kept)."""

    id: str
    start: float
    duration_ms: float
    failed: bool
    self_ms: dict[str, float] = field(default_factory=dict)  # node label -> self time
    cause: dict[str, Any] | None = None


def label(node: Node) -> str:
    """A node's name as the waterfall shows it; segments also carry their origin."""
    if node.is_segment and node.origin:
        return f"{node.name} ({node.origin})"
    return node.name


def profile(trace: Trace) -> Profile:
    """Self time per node label, summed when a label repeats within the trace."""
    self_ms: dict[str, float] = defaultdict(float)
    for node, _ in trace.walk():
        end = trace.node_end(node)
        inside = sum(trace.node_end(c) - c.start for c in node.children)
        self_ms[label(node)] += max(0.0, (end - node.start) - inside) * 1000.0
    failed = any(n.fault or n.error or n.throttle for n, _ in trace.walk())
    return Profile(
        id=trace.id,
        start=trace.start,
        duration_ms=trace.duration_ms,
        failed=failed,
        self_ms=dict(self_ms),
        cause=root_cause(trace, own_name=True),
    )


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else 0.0


def _blame(group: list[Profile], others: list[Profile]) -> list[dict[str, Any]]:
    """Nodes ranked by how much more self time they take in `group` than in `others`."""
    labels = {name for p in group + others for name in p.self_ms}
    rows: list[dict[str, Any]] = []
    for name in labels:
        mine = [p.self_ms.get(name, 0.0) for p in group]
        theirs = [p.self_ms.get(name, 0.0) for p in others]
        rows.append(
            {
                "node": name,
                "median_ms": _median(mine),
                "others_median_ms": _median(theirs),
                "difference_ms": round(_median(mine) - _median(theirs), 1),
                "share": round(sum(1 for p in group if name in p.self_ms) / len(group), 3)
                if group
                else 0.0,
                "others_share": round(sum(1 for p in others if name in p.self_ms) / len(others), 3)
                if others
                else 0.0,
            }
        )
    rows.sort(key=lambda r: (-r["difference_ms"], r["node"]))
    return [r for r in rows if r["difference_ms"] > 0][:TOP_NODES]


def _newest(profiles: Iterable[Profile]) -> list[str]:
    ordered = sorted(profiles, key=lambda p: (p.start, p.id), reverse=True)
    return [p.id for p in ordered[:EXAMPLES]]


def compare(profiles: list[Profile], threshold_ms: float | None = None) -> dict[str, Any]:
    """The `analyze --output json` document (without the window)."""
    durations = sorted(p.duration_ms for p in profiles)
    median = percentile(durations, 50) or 0.0
    derived = threshold_ms is None
    threshold = max(MIN_THRESHOLD_MS, 2 * median) if derived else float(threshold_ms or 0)
    slow = [p for p in profiles if p.duration_ms > threshold]
    normal = [p for p in profiles if p.duration_ms <= threshold]
    faulty = [p for p in profiles if p.failed]
    ok = [p for p in profiles if not p.failed]
    clusters: dict[tuple[str, str, str], list[Profile]] = defaultdict(list)
    for p in faulty:
        if p.cause:
            key = (p.cause["exception"], p.cause["message"], p.cause["segment"])
            clusters[key].append(p)
    exceptions: list[dict[str, Any]] = [
        {"type": t, "message": m, "node": n, "count": len(ps), "traces": _newest(ps)}
        for (t, m, n), ps in clusters.items()
    ]
    exceptions.sort(key=lambda c: (-c["count"], c["type"], c["message"]))
    origins = Counter(p.cause["segment"] for p in faulty if p.cause)
    return {
        "traces": len(profiles),
        "slow": {
            "threshold_ms": round(threshold, 1),
            "derived": derived,
            "median_ms": round(median, 1),
            "count": len(slow),
            "others": len(normal),
            "nodes": _blame(slow, normal) if slow and normal else _blame(slow, []),
            "examples": _newest(slow),
        },
        "faulty": {
            "count": len(faulty),
            "others": len(ok),
            "origins": [{"node": n, "count": c} for n, c in origins.most_common()],
            "nodes": _blame(faulty, ok) if faulty else [],
            "exceptions": exceptions,
        },
    }
