"""What `map` returns, from the lab's traces (`graph.py`) or from X-Ray's service graph
(`service_graph.py`): the map (nodes, edges, statistics) and one node's panel. `to_json()`
gives the `map --output json` documents."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dogxray.core.stats import percentile

STATUSES = ("ok", "error", "fault", "throttle")
# one bar of a latency histogram: {"from_ms", "to_ms", "count"} (the JSON's rows)
Histogram = list[dict[str, Any]]


@dataclass(frozen=True)
class Stats:
    """Requests at a node or over an edge, counted by X-Ray's rules (a request is a
    fault, else a throttle, else an error, else ok), with latency figures in ms."""

    requests: int
    ok: int = 0
    error: int = 0
    fault: int = 0
    throttle: int = 0
    avg_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    per_minute: float | None = None

    @classmethod
    def of(
        cls,
        counts: dict[str, int],
        times: list[float],
        minutes: float,
        *,
        total: int | None = None,
        avg_ms: float | None = None,
    ) -> Stats:
        """From the counts per status and the sorted response times (ms); `total` and
        `avg_ms` when known apart from them (X-Ray's summary statistics)."""
        requests = sum(counts.values()) if total is None else total
        return cls(
            requests=requests,
            **{s: counts.get(s, 0) for s in STATUSES},
            avg_ms=avg_ms,
            p50_ms=percentile(times, 50),
            p95_ms=percentile(times, 95),
            p99_ms=percentile(times, 99),
            max_ms=times[-1] if times else None,
            per_minute=round(requests / minutes, 2) if minutes > 0 else None,
        )

    def count(self, status: str) -> int:
        return int(getattr(self, status))

    @property
    def failures(self) -> list[tuple[str, int]]:
        """(status, count) of the errors, throttles and faults that happened."""
        return [(s, self.count(s)) for s in ("error", "throttle", "fault") if self.count(s)]

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"requests": self.requests}
        doc.update((s, self.count(s)) for s in STATUSES)
        doc["health"] = {
            s: (round(self.count(s) / self.requests, 4) if self.requests else 0.0) for s in STATUSES
        }
        doc.update(
            avg_ms=self.avg_ms,
            p50_ms=self.p50_ms,
            p95_ms=self.p95_ms,
            p99_ms=self.p99_ms,
            max_ms=self.max_ms,
            per_minute=self.per_minute,
        )
        return doc


@dataclass
class MapNode:
    """A node: its figures are the lab's own; `shared` (None: unknown) says whether other
    callers use it too, `all_callers` their figures and the lab's together (X-Ray's)."""

    name: str
    type: str
    stats: Stats
    id: int | None = None  # its place in the map (None: a panel's node)
    shared: bool | None = None
    all_callers: Stats | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.type)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {} if self.id is None else {"id": self.id}
        doc.update(
            name=self.name,
            type=self.type,
            stats=self.stats.to_json(),
            shared=self.shared,
            all_callers=None if self.all_callers is None else self.all_callers.to_json(),
        )
        return doc


@dataclass(frozen=True)
class MapEdge:
    source: int
    target: int
    stats: Stats

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "stats": self.stats.to_json()}


@dataclass
class ServiceMap:
    """The map of a window; `traces` is None when it comes from X-Ray's service graph
    (which counts requests, not traces); `note` says why it is empty."""

    start: str
    end: str
    minutes: float
    source: str  # "traces" | "service-graph"
    traces: int | None
    nodes: list[MapNode] = field(default_factory=list)
    edges: list[MapEdge] = field(default_factory=list)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "window": {"start": self.start, "end": self.end, "minutes": self.minutes},
            "source": self.source,
            "traces": self.traces,
            "nodes": [n.to_json() for n in self.nodes],
            "edges": [e.to_json() for e in self.edges],
        }
        if self.note is not None:
            doc["note"] = self.note
        return doc


@dataclass(frozen=True)
class ExceptionGroup:
    """Traces with one exception (type, message) at a node; the newest ids first."""

    type: str
    message: str
    remote: bool
    count: int
    trace_ids: list[str]


@dataclass
class NodePanel:
    """`map --node`: one node's figures, histogram, status counts (and HTTP statuses),
    exceptions."""

    node: MapNode
    histogram: Histogram
    statuses: dict[str, int]
    http: dict[str, int]  # HTTP status (or "none") -> requests
    exceptions: list[ExceptionGroup]

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node.to_json(),
            "histogram": self.histogram,
            "status": {**self.statuses, "http": self.http},
            "exceptions": [asdict(e) for e in self.exceptions],
        }
