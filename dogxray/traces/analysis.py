"""What a trace means for the lab: scope, timings, client status, root cause; and
latency percentiles across traces.

Decisions:
- `subsegments` always has both lab keys (`call_dog_api`, `save_dog_to_s3`); a value is
  null when the trace never reached that step (a stable shape for scripts).
- The root cause is the deepest node that faulted (else errored) and carries an
  exception; it is reported under the nearest lab subsegment that contains it (the
  S3 `PutObject` failure of the break-bucket demo -> `save_dog_to_s3`), else under the
  node's own name.
- Percentiles use the nearest-rank method (every value reported was observed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dogxray.core.stats import percentile
from dogxray.core.window import iso
from dogxray.traces.model import Node, Trace, ms

ROW_SUBSEGMENTS = ("call_dog_api", "save_dog_to_s3")
LAB_SUBSEGMENTS = ("get_dog_images", *ROW_SUBSEGMENTS)


@dataclass
class TraceRow:
    """A compact, analysed trace: all a listing or the statistics need."""

    id: str
    start: float
    duration_ms: float
    status: int | None
    fault: bool
    error: bool
    throttle: bool
    root_cause: dict[str, Any] | None
    partial: bool = False
    # name -> (ms, fault); None: built from the trace's summary, its documents not fetched
    timings: dict[str, tuple[float, bool]] | None = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.fault or self.error or self.throttle

    def timing(self, name: str) -> float | None:
        """A lab subsegment's time in ms (None: not reached, or documents not read)."""
        found = (self.timings or {}).get(name)
        return None if found is None else found[0]

    def to_json(self) -> dict[str, Any]:
        """The SPEC `traces --output json` entry (`partial: true` added only when so;
        `subsegments` null when the trace's documents were not read)."""
        doc: dict[str, Any] = {
            "id": self.id,
            "start": iso(self.start),
            "duration_ms": self.duration_ms,
            "status": self.status,
            "fault": self.fault,
            "error": self.error,
            "throttle": self.throttle,
        }
        doc["subsegments"] = (
            None if self.timings is None else {name: self.timing(name) for name in ROW_SUBSEGMENTS}
        )
        doc["root_cause"] = self.root_cause
        if self.partial:
            doc["partial"] = True
        return doc


def passes_through(trace: Trace, function_name: str) -> bool:
    """True when the trace has a (non-inferred) segment of the lab's function."""
    return any(
        node.is_segment and not node.inferred and node.name == function_name
        for node, _ in trace.walk()
    )


def client_status(trace: Trace) -> int | None:
    """The HTTP status the caller saw: the Lambda service's segment, else the function's.

    The `AWS::Lambda` segment records the invoke's own status, which stays 200 (or is
    absent) when the function itself failed; a Function URL answers such a function
    error with 502, so that is what the caller saw. The function failed when its segment,
    Lambda's `Invocation` subsegment or a handler subsegment directly under them faulted
    (or errored) with an exception: real unhandled-error traces may carry it only on the
    handler's subsegment. A failed downstream call alone does not count (the handler may
    have caught it)."""
    segments = [n for n, _ in trace.walk() if n.is_segment and not n.inferred]
    with_status = [n for n in segments if n.http_status is not None]
    status = with_status[0].http_status if with_status else None
    for origin in ("AWS::Lambda::Function", "AWS::Lambda"):
        status = next((n.http_status for n in with_status if n.origin == origin), status)
    function_failed = any(
        (n.fault or n.error) and n.exceptions
        for segment in segments
        if segment.origin == "AWS::Lambda::Function"
        for n in _handler_level(segment)
    )
    if function_failed and (status is None or status < 400):
        return 502
    return status


RUNTIME_SUBSEGMENTS = ("Invocation",)


def _handler_level(function: Node) -> list[Node]:
    """The function's segment, its `Invocation` subsegment(s) and the handler's own
    subsegments directly under either (not downstream calls, not inferred segments)."""
    found = [function]
    for child in function.children:
        if child.inferred or child.is_segment or child.namespace in ("aws", "remote"):
            continue
        found.append(child)
        if child.name in RUNTIME_SUBSEGMENTS:
            found += [
                c
                for c in child.children
                if not (c.inferred or c.is_segment or c.namespace in ("aws", "remote"))
            ]
    return found


def _lab_name(node: Node) -> str:
    current: Node | None = node
    while current is not None:
        if current.name in LAB_SUBSEGMENTS:
            return current.name
        current = current.parent
    return node.name


def root_cause(trace: Trace, *, own_name: bool = False) -> dict[str, Any] | None:
    """The deepest failed node with an exception, reported under the lab subsegment that
    contains it (or, with `own_name`, under the node's own name: `analyze`)."""
    best: tuple[tuple[bool, int, bool], Node] | None = None
    for node, depth in trace.walk():
        if not node.exceptions or not (node.fault or node.error or node.throttle):
            continue
        rank = (node.fault, depth, not node.propagated)
        if best is None or rank > best[0]:
            best = (rank, node)
    if best is None:
        return None
    node = best[1]
    exc = node.exceptions[0]
    return {
        "segment": node.name if own_name else _lab_name(node),
        "exception": exc["type"],
        "message": exc["message"],
        "remote": exc["remote"],
    }


def analyse(trace: Trace) -> TraceRow:
    timings: dict[str, tuple[float, bool]] = {}
    fault = error = throttle = False
    for node, _ in trace.walk():
        fault, error, throttle = fault or node.fault, error or node.error, throttle or node.throttle
        if node.name in LAB_SUBSEGMENTS and not node.is_segment and node.name not in timings:
            timings[node.name] = (ms(trace.node_end(node) - node.start), node.fault)
    return TraceRow(
        id=trace.id,
        start=trace.start,
        duration_ms=trace.duration_ms,
        status=client_status(trace),
        fault=fault,
        error=error,
        throttle=throttle,
        root_cause=root_cause(trace),
        partial=trace.partial,
        timings=timings,
    )


@dataclass(frozen=True)
class SubsegmentStats:
    """One lab subsegment's latency over the window (nearest-rank percentiles)."""

    count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    fault_rate: float

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "fault_rate": self.fault_rate,
        }


@dataclass
class TraceStats:
    """`traces --stats`: counts and per-subsegment percentiles; `note` says why it is
    empty or incomplete (on stderr, not in the JSON shape's fields)."""

    count: int
    faults: int
    errors: int
    window: tuple[str | None, str | None]  # ISO 8601 start, end
    subsegments: dict[str, SubsegmentStats]
    histogram: list[dict[str, Any]] = field(default_factory=list)  # response-time bins
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The SPEC `traces --stats --output json` document, plus the response-time
        `histogram` (and `note` when set)."""
        doc: dict[str, Any] = {
            "count": self.count,
            "faults": self.faults,
            "errors": self.errors,
            "window": {"start": self.window[0], "end": self.window[1]},
            "subsegments": {name: sub.to_json() for name, sub in self.subsegments.items()},
            "histogram": self.histogram,
        }
        if self.note is not None:
            doc["note"] = self.note
        return doc


def stats(rows: list[TraceRow], window: tuple[Any, Any]) -> TraceStats:
    """Counts and per-subsegment percentiles over `rows`."""
    subsegments: dict[str, SubsegmentStats] = {}
    for name in LAB_SUBSEGMENTS:
        seen = [row.timings[name] for row in rows if row.timings and name in row.timings]
        values = sorted(value for value, _ in seen)
        faults = sum(1 for _, faulted in seen if faulted)
        subsegments[name] = SubsegmentStats(
            count=len(values),
            p50_ms=percentile(values, 50),
            p95_ms=percentile(values, 95),
            p99_ms=percentile(values, 99),
            max_ms=values[-1] if values else None,
            fault_rate=round(faults / len(values), 4) if values else 0.0,
        )
    return TraceStats(
        count=len(rows),
        faults=sum(1 for row in rows if row.fault),
        errors=sum(1 for row in rows if row.error),
        window=(iso(window[0]), iso(window[1])),
        subsegments=subsegments,
    )
