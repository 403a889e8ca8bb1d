"""The window's traces of the lab's function as trees, one at a time (bounded memory).

Summaries newest chunk first, documents in batches of 5, scoping as `Fetcher` decides
(server-side filter on AWS, client-side on other endpoints). Traces X-Ray will not
return yet are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from dogxray.aws import Aws
from dogxray.config import Settings
from dogxray.traces.analysis import passes_through
from dogxray.traces.fetch import Fetcher, Progress
from dogxray.traces.model import Trace, build_trace


class Collected:
    """Iterate for the trees; `skipped` counts the traces X-Ray did not return."""

    def __init__(
        self,
        aws: Aws,
        settings: Settings,
        window: tuple[datetime, datetime],
        progress: Progress | None = None,
    ) -> None:
        self.fetcher = Fetcher(aws, progress=progress)
        self.function = settings.function_name
        self.window = window
        self.skipped = 0

    def __iter__(self) -> Iterator[Trace]:
        self.fetcher.check_destination()
        seen: set[str] = set()
        start, end = self.window
        for found in self.fetcher.summaries(start, end, self.function):
            candidates = {s.id: s for s in found if s.id not in seen and s.in_scope is not False}
            seen.update(candidates)
            for trace_id, docs in self.fetcher.documents(list(candidates)):
                if docs is None:
                    self.skipped += 1
                    continue
                trace = build_trace(trace_id, docs)
                unsure = candidates[trace_id].in_scope is None and not self.fetcher.server_scoped
                if unsure and not passes_through(trace, self.function):
                    continue
                yield trace
