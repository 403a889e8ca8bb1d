"""The window's in-scope traces of the lab's function as trees, one at a time (bounded
memory): what `traces`, `traces --stats`, `map` and `analyze` all read.

Summaries newest chunk first, documents in batches of 5, scoping as `Fetcher` decides
(server-side filter on AWS, client-side on other endpoints: a summary that cannot tell
is checked on the tree). Traces X-Ray will not return yet come as `None` trees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.traces.analysis import passes_through
from dogxray.traces.fetch import Fetcher, Progress, Summary, Warn
from dogxray.traces.model import Trace, build_trace


@dataclass(frozen=True)
class Fetched:
    """One candidate's outcome."""

    summary: Summary
    trace: Trace | None  # None: X-Ray did not return it (yet)
    in_scope: bool = True  # False: its tree shows it never passed through the function


# One chunk of the window: its candidates (in fetch order) and their outcomes as the
# documents arrive (in any order).
Range = tuple[float | None, float | None]  # response time in seconds: (above, below)
Chunk = tuple[dict[str, Summary], Iterator[Fetched]]


class Collected:
    """Iterate for the trees; `skipped` counts the traces X-Ray did not return.
    `chunks()` is the lower level for callers that stop early (`traces --limit`)."""

    def __init__(
        self,
        aws: Aws,
        settings: Settings,
        window: tuple[datetime, datetime],
        progress: Progress | None = None,
        *,
        warn: Warn | None = None,
        duration: Range = (None, None),
        failed: bool = False,
    ) -> None:
        self.fetcher = Fetcher(aws, progress=progress, warn=warn)
        self.function = settings.function_name
        self.window = window
        self.duration = duration  # response time in seconds (above, below)
        self.failed = failed  # only traces with a fault, error or throttle
        self.skipped = 0

    @property
    def server_scoped(self) -> bool:
        return self.fetcher.server_scoped

    def chunks(
        self,
        *,
        want: Callable[[Summary], bool] | None = None,
        newest_first: bool = False,
    ) -> Iterator[Chunk]:
        """Per chunk of the window (newest chunk first): the candidates (in scope, not
        seen, `want`ed; newest first within the chunk with `newest_first`) and their
        trees as they arrive."""
        self.fetcher.check_destination()
        seen: set[str] = set()
        start, end = self.window
        for found in self.fetcher.summaries(
            start, end, self.function, self.duration, failed=self.failed
        ):
            if newest_first:
                found = sorted(found, key=lambda s: (s.latest_start, s.start, s.id), reverse=True)
            candidates = {
                s.id: s
                for s in found
                if s.id not in seen and s.in_scope is not False and (want is None or want(s))
            }
            seen.update(candidates)
            yield candidates, self.trees(candidates)

    def trees(self, candidates: dict[str, Summary]) -> Iterator[Fetched]:
        """The candidates' trees (fetched in parallel batches), as they arrive."""
        for trace_id, docs in self.fetcher.documents(list(candidates)):
            summary = candidates[trace_id]
            if docs is None:
                yield Fetched(summary, None)
                continue
            trace = build_trace(trace_id, docs)
            unsure = summary.in_scope is None  # the summary could not tell: the tree can
            yield Fetched(summary, trace, not unsure or passes_through(trace, self.function))

    def __iter__(self) -> Iterator[Trace]:
        for _candidates, fetched in self.chunks():
            for one in fetched:
                if one.trace is None:
                    self.skipped += 1
                elif one.in_scope:
                    yield one.trace
