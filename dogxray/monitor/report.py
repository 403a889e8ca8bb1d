"""What `dogxray report` (and the end of `demo`) calls: one pass over the lab's traces in
a window -> everything the HTML page shows.

One fetch feeds all parts (the map, the histogram, the table, the waterfalls), so the
page is consistent: the map is built from the same trace trees (`traces/graph.py`), not
from GetServiceGraph. Memory follows the traces kept: a compact row per trace, and
full trees only for the waterfall candidates (every fault trace, newest first, and the
slowest traces, up to `MAX_WATERFALLS` in all). Log lines are read only for those.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dogxray.core import files
from dogxray.core.window import iso, parse_since
from dogxray.monitor.invocations import requests_in
from dogxray.monitor.logs import TraceLogs
from dogxray.traces.analysis import TraceRow, analyse, passes_through
from dogxray.traces.fetch import Fetcher, Progress
from dogxray.traces.graph import Graph, graph_json, histogram
from dogxray.traces.mapping import mark_shared
from dogxray.traces.model import Trace, build_trace
from dogxray.traces.service import TraceDetail
from dogxray.traces.service_map import ServiceMap

if TYPE_CHECKING:
    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings

MAX_WATERFALLS = 20
SLOWEST = 5  # waterfalls kept for the slowest traces; faults get the other slots
REPORT_NAME = "report.html"


@dataclass
class Waterfall:
    """A trace the page draws in full: why (`fault`, `slowest`), its tree, its log lines
    (None until `gather` reads them)."""

    reason: str
    trace: TraceDetail
    logs: TraceLogs | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "trace": self.trace.to_json(),
            "logs": None if self.logs is None else self.logs.to_json(),
        }


@dataclass
class Report:
    """Everything the page shows (`to_json()`: the data the template gets)."""

    function: str
    generated: str
    start: str
    end: str
    since: str
    rows: list[TraceRow]
    map: ServiceMap  # from the same traces
    histogram: list[dict[str, Any]]
    waterfalls: list[Waterfall]
    region: str = ""
    backend: str = ""
    note: str | None = None
    requests: int | None = None  # the function's requests in the window (None: unknown)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def faults(self) -> int:
        return sum(1 for r in self.rows if r.fault)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "function": self.function,
            "generated": self.generated,
            "window": {"start": self.start, "end": self.end, "since": self.since},
            "count": self.count,
            "requests": self.requests,
            "faults": self.faults,
            "errors": sum(1 for r in self.rows if r.error),
            "map": self.map.to_json(),
            "histogram": self.histogram,
            "traces": [r.to_json() for r in self.rows],
            "waterfalls": [w.to_json() for w in self.waterfalls],
            "region": self.region,
            "backend": self.backend,
        }
        if self.note is not None:
            doc["note"] = self.note
        return doc


@dataclass
class _Candidates:
    """The waterfall candidates seen so far: bounded heaps of (key, id, detail)."""

    faults: list[tuple[float, str, TraceDetail]] = field(default_factory=list)
    slow: list[tuple[float, str, TraceDetail]] = field(default_factory=list)

    def offer(self, trace: Trace, fault: bool) -> None:
        heap, key, cap = (
            (self.faults, trace.start, MAX_WATERFALLS)
            if fault
            else (self.slow, trace.duration_ms, SLOWEST)
        )
        if len(heap) >= cap and (key, trace.id) <= heap[0][:2]:
            return  # older than the newest faults / faster than the slowest kept
        item = (key, trace.id, TraceDetail.of(trace))
        if len(heap) >= cap:
            heapq.heapreplace(heap, item)
        else:
            heapq.heappush(heap, item)

    def pick(self) -> list[Waterfall]:
        """The slowest (up to SLOWEST) and the newest faults filling the rest."""
        slow = sorted(self.slow, key=lambda item: item[:2], reverse=True)
        faults = sorted(self.faults, key=lambda item: item[:2], reverse=True)
        faults = faults[: MAX_WATERFALLS - len(slow)]
        return [Waterfall("fault", d) for _, _, d in faults] + [
            Waterfall("slowest", d) for _, _, d in slow
        ]


class Collector:
    """Everything the page shows, fed one trace tree at a time (pure; no AWS calls)."""

    def __init__(self, function: str) -> None:
        self.function = function
        self.graph = Graph()
        self.rows: list[TraceRow] = []
        self.candidates = _Candidates()

    def add(self, trace: Trace) -> None:
        if not passes_through(trace, self.function):
            return
        self.graph.add(trace)
        row = analyse(trace)
        self.rows.append(row)
        self.candidates.offer(trace, row.fault)

    def result(self, window: tuple[Any, Any], since: str) -> Report:
        """The report; the waterfalls' logs left None (see `gather`)."""
        rows = sorted(self.rows, key=lambda r: (r.start, r.id), reverse=True)
        return Report(
            function=self.function,
            generated=iso(time.time()),
            start=iso(window[0]),
            end=iso(window[1]),
            since=since,
            rows=rows,
            map=graph_json(self.graph, window),
            histogram=histogram([r.duration_ms for r in rows]),
            waterfalls=self.candidates.pick(),
        )


def gather(
    aws: Aws,
    settings: Settings,
    *,
    since: str = "1h",
    progress: Progress | None = None,
    logs: bool = True,
) -> Report:
    """The report's data: map, histogram, table rows, waterfalls with their log lines."""
    window = parse_since(since)
    function = settings.function_name
    fetcher = Fetcher(aws, progress=progress)
    fetcher.check_destination()
    collector = Collector(function)
    seen: set[str] = set()
    for found in fetcher.summaries(window[0], window[1], function):
        ids = [s.id for s in found if s.id not in seen and s.in_scope is not False]
        seen.update(ids)
        for trace_id, docs in fetcher.documents(ids):
            if docs:
                collector.add(build_trace(trace_id, docs))
    result = collector.result(window, since)
    mark_shared(aws, settings, window, result.map)  # the figures stay the lab's own
    result.region = aws.region
    result.backend = aws.backend
    result.requests = requests_in(aws, settings.log_group_name, *window)
    if logs:
        from dogxray.monitor.logs import trace_logs

        for item in result.waterfalls:
            item.logs = trace_logs(aws, settings, item.trace)
    if not result.count:
        from dogxray.traces.service import why_empty

        result.note = why_empty(aws, settings, since, False)
    return result


def output_path(output: Path) -> Path:
    """Where the report goes: a file, or `report.html` inside an existing directory
    (checked writable now, before any AWS call; `files` has the rules)."""
    return files.output_path(output, REPORT_NAME, option="--file")


def write(path: Path, html: str) -> int:
    """Write the page under `files`' rules (a browser never sees half a page); the size."""
    return files.write_file(path, html.encode("utf-8"), option="--file")
