"""`dogxray analyze`: what made the bad requests bad (X-Ray's trace analytics "compare").

Pure functions over trace trees. Two splits of the window's traces, and the throttles:
- slow vs normal (of the requests that ran: not the throttled ones), by a threshold
  given or derived (twice the median duration, so one injected 5 s hang stands out
  against ~20 ms requests whatever the mix). Each moment of
  a trace is the *own* time of the innermost node running then (the latest started of
  those covering it): a parent that merely contains a slow child, or Lambda's
  `Invocation` subsegment that spans the handler's own subsegments, gets no blame. The
  node that explains the difference is the one whose mean own time differs most between
  the groups (these differences add up to the difference in mean duration; medians are
  shown too, but a cause that hits fewer than half of the slow requests has median 0).
- faulty vs ok: where the faults start (each failed trace's root-cause node) and the
  exception clusters (type, message, node) with counts and the newest trace ids.
- throttled: a request refused with a throttle (HTTP 429; Lambda's TooManyRequests
  when more requests run at once than the concurrency allows) is no fault of the code:
  it is counted apart, with the node that throttled it (`analyze` adds the function's
  reserved and the account's concurrency when Lambda did).
A node absent from a trace counts 0 ms there (an injection that hits 30 % of requests).
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dogxray.core.stats import percentile
from dogxray.traces.analysis import root_cause
from dogxray.traces.model import Node, Trace
from dogxray.triage.results import (
    Analysis,
    ExceptionCluster,
    Faulty,
    NodeBlame,
    NodeCount,
    Slow,
    Throttled,
)

EXAMPLES = 3  # trace ids shown per cluster
TOP_NODES = 5
MIN_THRESHOLD_MS = 1.0
LAMBDA_ORIGIN = "AWS::Lambda"  # the service segment: Lambda itself refused the request


@dataclass
class Profile:
    """What `analyze` needs of one trace (the trees themselves are not kept)."""

    id: str
    start: float
    duration_ms: float
    failed: bool  # a fault or an error that is not a throttle
    self_ms: dict[str, float] = field(default_factory=dict)  # node label -> own time
    present: frozenset[str] = frozenset()  # every node label in the trace
    cause: dict[str, Any] | None = None
    throttled_at: str | None = None  # the node that throttled it (and nothing failed)
    lambda_throttle: bool = False  # that node is Lambda's service segment


def label(node: Node) -> str:
    """A node's name as the waterfall shows it; segments also carry their origin."""
    if node.is_segment and node.origin:
        return f"{node.name} ({node.origin})"
    return node.name


def own_time(trace: Trace) -> dict[str, float]:
    """Milliseconds per node label: every moment goes to the latest-started node that
    covers it (the deepest on a tie), so overlapping siblings are not counted twice."""
    spans = sorted(
        ((node.start, trace.node_end(node), depth, label(node)) for node, depth in trace.walk()),
        key=lambda span: (span[0], span[2]),
        reverse=True,
    )
    points = sorted({t for start, end, _, _ in spans for t in (start, end)})
    own: dict[str, float] = defaultdict(float)
    for begin, finish in itertools.pairwise(points):
        for start, end, _, name in spans:  # latest start first
            if start <= begin and end >= finish:
                own[name] += (finish - begin) * 1000.0
                break
    return dict(own)


def _throttled(node: Node) -> bool:
    return node.throttle or node.http_status == 429


def profile(trace: Trace) -> Profile:
    """Own time per node label (see `own_time`); a trace whose only failure is a
    throttle is `throttled_at` its deepest throttled node, not `failed`."""
    nodes = list(trace.walk())
    failed = any(n.fault or (n.error and not _throttled(n)) for n, _ in nodes)
    throttles = [(depth, n) for n, depth in nodes if _throttled(n)]
    at = max(throttles, key=lambda pair: pair[0])[1] if throttles and not failed else None
    return Profile(
        id=trace.id,
        start=trace.start,
        duration_ms=trace.duration_ms,
        failed=failed,
        self_ms=own_time(trace),
        present=frozenset(label(node) for node, _ in trace.walk()),
        cause=root_cause(trace, own_name=True) if failed else None,
        throttled_at=label(at) if at is not None else None,
        lambda_throttle=at is not None and at.origin == LAMBDA_ORIGIN,
    )


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else 0.0


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 1) if values else 0.0


def _blame(group: list[Profile], others: list[Profile]) -> list[NodeBlame]:
    """Nodes ranked by how much more own time they take in `group` than in `others`
    (mean difference; medians alongside)."""
    labels = {name for p in group + others for name in p.self_ms}

    def share(profiles: list[Profile], name: str) -> float:
        hits = sum(1 for p in profiles if name in p.present)
        return round(hits / len(profiles), 3) if profiles else 0.0

    rows: list[NodeBlame] = []
    for name in labels:
        mine = [p.self_ms.get(name, 0.0) for p in group]
        theirs = [p.self_ms.get(name, 0.0) for p in others]
        rows.append(
            NodeBlame(
                node=name,
                mean_ms=_mean(mine),
                others_mean_ms=_mean(theirs),
                median_ms=_median(mine),
                others_median_ms=_median(theirs),
                difference_ms=round(_mean(mine) - _mean(theirs), 1),
                share=share(group, name),
                others_share=share(others, name),
            )
        )
    rows.sort(key=lambda r: (-r.difference_ms, r.node))
    return [r for r in rows if r.difference_ms > 0][:TOP_NODES]


def _newest(profiles: Iterable[Profile]) -> list[str]:
    ordered = sorted(profiles, key=lambda p: (p.start, p.id), reverse=True)
    return [p.id for p in ordered[:EXAMPLES]]


def compare(profiles: list[Profile], threshold_ms: float | None = None) -> Analysis:
    """The comparison (without the window, the concurrency and the note)."""
    ran = [p for p in profiles if p.throttled_at is None]  # a throttle never ran
    durations = sorted(p.duration_ms for p in ran)
    median = percentile(durations, 50) or 0.0
    derived = threshold_ms is None
    threshold = max(MIN_THRESHOLD_MS, 2 * median) if derived else float(threshold_ms or 0)
    slow = [p for p in ran if p.duration_ms > threshold]
    normal = [p for p in ran if p.duration_ms <= threshold]
    faulty = [p for p in profiles if p.failed]
    throttled = [p for p in profiles if p.throttled_at is not None]
    ok = [p for p in profiles if not p.failed and p.throttled_at is None]
    clusters: dict[tuple[str, str, str], list[Profile]] = defaultdict(list)
    for p in faulty:
        if p.cause:
            key = (p.cause["exception"], p.cause["message"], p.cause["segment"])
            clusters[key].append(p)
    exceptions = [
        ExceptionCluster(type=t, message=m, node=n, count=len(ps), traces=_newest(ps))
        for (t, m, n), ps in clusters.items()
    ]
    exceptions.sort(key=lambda c: (-c.count, c.type, c.message))
    origins = Counter(p.cause["segment"] for p in faulty if p.cause)
    throttlers = Counter(p.throttled_at for p in throttled)
    return Analysis(
        traces=len(profiles),
        slow=Slow(
            threshold_ms=round(threshold, 1),
            derived=derived,
            median_ms=round(median, 1),
            count=len(slow),
            others=len(normal),
            nodes=_blame(slow, normal) if slow and normal else _blame(slow, []),
            examples=_newest(slow),
        ),
        faulty=Faulty(
            count=len(faulty),
            others=len(ok),
            origins=[NodeCount(n, c) for n, c in origins.most_common()],
            nodes=_blame(faulty, ok) if faulty else [],
            exceptions=exceptions,
        ),
        throttled=Throttled(
            count=len(throttled),
            nodes=[NodeCount(str(n), c) for n, c in throttlers.most_common()],
            by_lambda=sum(1 for p in throttled if p.lambda_throttle),
            examples=_newest(throttled),
        ),
    )
