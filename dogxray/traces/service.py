"""What the `traces`/`trace` commands and the demo call.

Each function validates its input first (bad `--since` or trace id -> exit 2 before any
AWS call), then streams: summaries -> batches of documents -> one compact row per
trace. An empty result carries a `note` saying why (nothing in the window, the lab not
deployed, tracing off); the commands print it on stderr and leave it out of JSON.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from dogxray.core.aws import Aws, ClientError, error_code
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.core.window import is_relative, parse_since, validate_trace_id
from dogxray.traces.analysis import TraceRow, TraceStats, analyse, root_cause, stats
from dogxray.traces.collect import Collected, Fetched, Range
from dogxray.traces.fetch import Fetcher, Progress, Summary, Warn
from dogxray.traces.graph import histogram
from dogxray.traces.model import Trace, build_trace, node_json


@dataclass
class TraceList:
    """`traces`: the rows, newest first; `note` says why it is empty or incomplete."""

    traces: list[TraceRow]
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The SPEC `traces --output json` document (plus `note` when set)."""
        doc: dict[str, Any] = {"traces": [row.to_json() for row in self.traces]}
        if self.note is not None:
            doc["note"] = self.note
        return doc


@dataclass
class TraceDetail:
    """`trace ID`: one trace as a tree of nodes (`node_json` dicts) with its root cause."""

    id: str
    duration_ms: float
    root_cause: dict[str, Any] | None
    nodes: list[dict[str, Any]]
    partial: bool = False

    @classmethod
    def of(cls, trace: Trace) -> TraceDetail:
        """A trace tree with its root cause."""
        return cls(
            id=trace.id,
            duration_ms=trace.duration_ms,
            root_cause=root_cause(trace),
            nodes=[node_json(node, trace) for node in trace.roots],
            partial=trace.partial,
        )

    def to_json(self) -> dict[str, Any]:
        """The SPEC `trace --output json` document (`partial` only when so)."""
        doc: dict[str, Any] = {
            "id": self.id,
            "duration_ms": self.duration_ms,
            "root_cause": self.root_cause,
            "nodes": self.nodes,
        }
        if self.partial:
            doc["partial"] = True
        return doc


def list_traces(
    aws: Aws,
    settings: Settings,
    *,
    since: str = "10m",
    limit: int = 20,
    errors_only: bool = False,
    progress: Progress | None = None,
    warn: Warn | None = None,
    duration: Range = (None, None),
    subsegments: bool = False,
) -> TraceList:
    """The newest `limit` traces of the lab's function (SPEC `traces` shape); with
    `duration` (seconds above, below), only traces within that response time.

    Rows come from the trace summaries where they say enough (X-Ray's do); documents
    are fetched only for the rest and, with `subsegments` (the lab subsegments' times),
    for the rows returned."""
    window = parse_since(since)
    if limit < 1:
        raise DogxrayError.usage(f"--limit must be at least 1, not {limit}", hint="e.g. --limit 50")
    collected = Collected(
        aws, settings, window, progress, warn=warn, duration=duration, failed=errors_only
    )
    rows, skipped = _rows(collected, limit, errors_only, from_summaries=True)
    if subsegments:
        rows = _with_documents(collected, rows)
    rows.sort(key=lambda r: (r.start, r.id), reverse=True)
    result = TraceList(rows)
    if not rows:
        result.note = why_empty(aws, settings, since, errors_only)
    elif skipped:
        result.note = _skipped_note(skipped)
    return result


def trace_stats(
    aws: Aws,
    settings: Settings,
    *,
    since: str = "10m",
    progress: Progress | None = None,
    warn: Warn | None = None,
    duration: Range = (None, None),
) -> TraceStats:
    """Counts and per-subsegment percentiles over the window (SPEC `--stats` shape),
    plus `histogram`: the traces' response times in equal-width bins."""
    window = parse_since(since)
    collected = Collected(aws, settings, window, progress, warn=warn, duration=duration)
    rows, skipped = _rows(collected, None, False)
    result = stats(rows, window)
    result.histogram = histogram([row.duration_ms for row in rows])
    if not rows:
        result.note = why_empty(aws, settings, since, False)
    elif skipped:
        result.note = _skipped_note(skipped)
    return result


def trace_detail(aws: Aws, trace_id: str, *, warn: Warn | None = None) -> TraceDetail:
    """One trace as a tree with its root cause (SPEC `trace` shape)."""
    trace_id = validate_trace_id(trace_id, aws.settings)
    fetcher = Fetcher(aws, warn=warn)
    fetcher.check_destination()
    return TraceDetail.of(fetcher.trace(trace_id))


def _rows(
    collected: Collected,
    limit: int | None,
    errors_only: bool,
    *,
    from_summaries: bool = False,
) -> tuple[list[TraceRow], int]:
    """Rows of in-scope traces, newest first; with `limit`, the `limit` newest. Also the
    number of traces X-Ray would not return (their rows are kept, marked partial, when
    the summary proves they are ours). `from_summaries`: a summary that gives a row is
    not fetched (the listing); otherwise every row is analysed from its documents.

    Candidates are fetched newest first by their summary's start time, so a limit saves
    work: fetching stops once the next candidate cannot be newer than the `limit`-th
    newest row (a summary without StartTime, as moto's, only knows the id's whole
    second, so traces of that second are all fetched before the cut)."""
    rows: list[TraceRow] = []
    skipped = 0
    want = (lambda s: s.may_have_failed) if errors_only else None
    duration = collected.duration
    for candidates, fetched in collected.chunks(want=want, newest_first=True):
        if from_summaries:  # `fetched` is lazy: nothing was fetched yet
            for summary in candidates.values():
                row = summary.row
                if row is None or (errors_only and not row.failed):
                    continue
                if within(row.duration_ms, duration):
                    rows.append(row)
            candidates = {
                i: s
                for i, s in candidates.items()
                if s.row is None and (limit is None or not _enough(rows, limit, s))
            }
            fetched = collected.trees(candidates)
        pending = list(candidates)  # newest first; results may come in any order
        received: set[str] = set()
        for one in fetched:
            summary = one.summary
            received.add(summary.id)
            while pending and pending[0] in received:
                pending.pop(0)
            if limit is not None and _enough(rows, limit, summary):
                if not pending or _enough(rows, limit, candidates[pending[0]]):
                    break  # nothing still to come can be newer: stop fetching
                continue
            row = _row(one, collected.server_scoped)
            if row is None:
                skipped += one.trace is None
                continue
            if (errors_only and not row.failed) or not within(row.duration_ms, duration):
                continue
            rows.append(row)
        if limit is not None and len(rows) >= limit:
            break  # older chunks hold only older traces
    rows.sort(key=lambda r: (r.start, r.id), reverse=True)
    return (rows if limit is None else rows[:limit]), skipped


def _with_documents(collected: Collected, rows: list[TraceRow]) -> list[TraceRow]:
    """`rows` with those built from summaries analysed from their documents (fetched in
    parallel batches) for the subsegments' times; a trace X-Ray would not return keeps
    its summary's row."""
    wanted = [row.id for row in rows if row.timings is None]
    analysed: dict[str, TraceRow] = {}
    for trace_id, docs in collected.fetcher.documents(wanted):
        if docs:
            analysed[trace_id] = analyse(build_trace(trace_id, docs))
    for row in rows:
        if row.id in analysed:
            analysed[row.id].partial = analysed[row.id].partial or row.partial
    return [analysed.get(row.id, row) for row in rows]


def within(duration_ms: float, bounds: Range) -> bool:
    """The client-side twin of `responsetime > above AND responsetime < below`."""
    above, below = bounds
    seconds = duration_ms / 1000.0
    return (above is None or seconds > above) and (below is None or seconds < below)


def _enough(rows: list[TraceRow], limit: int, nxt: Summary) -> bool:
    """True when `nxt` (and every candidate after it) cannot enter the `limit` newest."""
    if len(rows) < limit:
        return False
    kth = heapq.nlargest(limit, (r.start for r in rows))[-1]
    return nxt.latest_start <= kth


def _row(one: Fetched, server_scoped: bool) -> TraceRow | None:
    summary = one.summary
    if one.trace is None:  # X-Ray would not return it: keep what the summary proves
        if summary.in_scope or (server_scoped and summary.flags_known):
            return _summary_row(summary)
        return None
    if not one.in_scope:
        return None
    row = analyse(one.trace)
    row.partial = row.partial or summary.partial
    return row


def _summary_row(summary: Summary) -> TraceRow:
    return TraceRow(
        id=summary.id,
        start=summary.start,
        duration_ms=summary.duration_ms or 0.0,
        status=summary.status,
        fault=summary.fault,
        error=summary.error,
        throttle=summary.throttle,
        root_cause=None,
        partial=True,
    )


def _skipped_note(skipped: int) -> str:
    return f"{skipped} trace(s) could not be fetched from X-Ray (still being processed); re-run"


def why_empty(aws: Aws, settings: Settings, since: str, errors_only: bool) -> str:
    """Why there is nothing to show: the function is missing, tracing is off, or there
    simply was no (failed) request in the window."""
    function = settings.function_name
    try:
        config = aws.client("lambda").get_function_configuration(FunctionName=function)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return (
                f"the lab is not deployed: no function {function} in {aws.region}; "
                f"run `{settings.command('setup')}`"
            )
        config = {}
    if config and (config.get("TracingConfig") or {}).get("Mode") != "Active":
        return (
            f"active tracing is off on {function}; run `{settings.command('configure --tracing')}`"
        )
    kind = "failed traces" if errors_only else "traces"
    when = f"in the last {since}" if is_relative(since) else f"since {since}"
    return (
        f"no {kind} of {function} {when} (X-Ray needs ~30 s to index a "
        f"request); invoke it with `{settings.command('test')}`, or widen --since"
    )
