"""Getting trace documents out of X-Ray: summaries over a window (chunked to the API's
24 h limit, paginated, scoped to the lab's function), then `BatchGetTraces` in batches
of 5 with several batches in flight, yielded in order so callers can analyse each
trace and drop its documents (memory follows the traces kept, not fetched).

Scoping: server-side `service("<function>")` on every endpoint first. One that refuses
the filter (moto answers every FilterExpression with InternalFailure) is detected on
its first answer, before botocore's retries, and scoped client-side from then on: by
the summaries' `ServiceIds` where they have them (which also catches an endpoint that
ignores the filter), else by the fetched trees. A response-time range
(`traces --min-duration/--max-duration`) and `--errors` join the same expression
(`responsetime > N AND responsetime < N`, seconds; `(fault OR error OR throttle)`);
callers always check them on the rows too, so the fallback only costs fetching more.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from dogxray.core.aws import Aws, ClientError, error_code
from dogxray.core.errors import DogxrayError
from dogxray.core.window import chunks, is_recent
from dogxray.traces import summary_row
from dogxray.traces import transaction_search as search
from dogxray.traces.analysis import TraceRow
from dogxray.traces.model import Trace, build_trace, trace_id_time

# A trace id and its segment documents (None: X-Ray did not return the trace).
Documents = tuple[str, list[str] | None]

BATCH_SIZE = 5  # BatchGetTraces maximum
WORKERS = 4
FILTER_REJECTED_CODES = ("InternalFailure", "InvalidRequestException")
NOT_IMPLEMENTED_CODES = (
    "404",
    "501",
    "UnknownOperationException",
    "UnknownOperation",
    "NotImplemented",
    "InvalidAction",
)
DENIED_CODES = ("AccessDeniedException", "AccessDenied")
Progress = Callable[[int, int], None]
Warn = Callable[[str], None]  # a warning line; the command layer passes `render.progress`


class FilterRejected(Exception):
    """The endpoint refused our FilterExpression (raised inside botocore's retry hook)."""


@dataclass(frozen=True)
class Summary:
    """What a trace summary tells us before fetching documents."""

    id: str
    start: float
    duration_ms: float | None
    status: int | None
    fault: bool
    error: bool
    throttle: bool
    partial: bool
    in_scope: bool | None  # None: the summary cannot tell (no ServiceIds)
    exact_start: bool = True  # False: no StartTime, `start` is the id's whole second
    flags_known: bool = True  # False: found in aws/spans, its outcome is in its documents
    row: TraceRow | None = None  # the listing row the summary alone gives (X-Ray's do)

    @property
    def latest_start(self) -> float:
        """The latest the trace can have started (the id's time is rounded down)."""
        return self.start if self.exact_start else self.start + 1.0

    @property
    def failed(self) -> bool:
        return self.fault or self.error or self.throttle

    @property
    def may_have_failed(self) -> bool:
        """Worth fetching for `--errors`: failed, or not known from the summary."""
        return self.failed or not self.flags_known


def _summary(raw: dict[str, Any], function_name: str, server_scoped: bool) -> Summary:
    services = raw.get("ServiceIds") or []
    if services:  # checked even when filtered: an endpoint may ignore the filter
        in_scope: bool | None = any(
            s.get("Name") == function_name or function_name in (s.get("Names") or [])
            for s in services
        )
    elif server_scoped:
        in_scope = True
    else:
        in_scope = None
    start = raw.get("StartTime")
    duration = raw.get("Duration")
    return Summary(
        id=raw["Id"],
        start=start.timestamp() if isinstance(start, datetime) else trace_id_time(raw["Id"]),
        duration_ms=round(float(duration) * 1000, 1) if duration is not None else None,
        status=(raw.get("Http") or {}).get("HttpStatus"),
        fault=bool(raw.get("HasFault")),
        error=bool(raw.get("HasError")),
        throttle=bool(raw.get("HasThrottle")),
        partial=bool(raw.get("IsPartial")),
        in_scope=in_scope,
        exact_start=isinstance(start, datetime),
        row=summary_row.row(raw),
    )


def _bare(trace_id: str) -> Summary:
    """A trace known only by its id (found in aws/spans): the rest is in its documents."""
    return Summary(
        id=trace_id,
        start=trace_id_time(trace_id),
        duration_ms=None,
        status=None,
        fault=False,
        error=False,
        throttle=False,
        partial=False,
        in_scope=None,
        exact_start=False,
        flags_known=False,
    )


def _reject_filter_before_retries(request_dict: dict[str, Any], response: Any, **_: Any) -> None:
    """botocore `needs-retry` hook: a filtered GetTraceSummaries that the endpoint answers
    with InternalFailure/InvalidRequest is not worth four attempts with backoff."""
    body = request_dict.get("body") or b""
    body = body.encode() if isinstance(body, str) else body
    if response is None or b"FilterExpression" not in body:
        return
    code = str((response[1] or {}).get("Error", {}).get("Code", ""))
    if code in FILTER_REJECTED_CODES:
        raise FilterRejected(code)


def _decode_summaries(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore `before-parse` hook of GetTraceSummaries: a page's summaries decoded by
    the json module. botocore's model-driven parser takes ~0.15 ms a summary, most of a
    1,000-trace listing's time; its answer is the same dicts, timestamps as UTC
    datetimes. What is left of the body (paging fields) botocore still parses."""
    if response_dict.get("status_code") != 200:
        return
    try:
        doc = json.loads(response_dict["body"])
    except (ValueError, TypeError, KeyError):
        return
    found = doc.pop("TraceSummaries", None) if isinstance(doc, dict) else None
    if not isinstance(found, list):
        return
    for summary in found:
        for key in ("StartTime", "MatchedEventTime"):
            if isinstance(summary.get(key), int | float):
                summary[key] = datetime.fromtimestamp(summary[key], timezone.utc)
    customized_response_dict["TraceSummaries"] = found
    response_dict["body"] = json.dumps(doc).encode()


def _silent(text: str) -> None:
    pass


class Fetcher:
    """X-Ray reads for one command. `warn` is how the command layer hears warnings
    (silent by default: service code does not print); `sleep` is injectable for tests."""

    def __init__(
        self,
        aws: Aws,
        *,
        sleep: Callable[[float], None] | None = None,
        workers: int | None = None,
        progress: Progress | None = None,
        warn: Warn | None = None,
    ) -> None:
        self.client = aws.client("xray")
        self.aws = aws
        self.settings = aws.settings
        self.warn = warn or _silent
        self.is_local = aws.is_local
        self.is_emulator = aws.is_emulator
        self.search: bool | None = None  # a Transaction Search account (None: not asked)
        self.region = aws.region
        self.sleep = sleep or time.sleep  # looked up now: tests may replace it
        self.workers = workers or WORKERS
        self.progress = progress
        self.server_scoped = True  # until the endpoint refuses the filter
        self.client.meta.events.register(
            "needs-retry.xray.GetTraceSummaries",
            _reject_filter_before_retries,
            unique_id="dogxray-filter-rejected",
        )
        self.client.meta.events.register(
            "before-parse.xray.GetTraceSummaries",
            _decode_summaries,
            unique_id="dogxray-decode-summaries",
        )

    def trace(self, trace_id: str) -> Trace:
        """One trace by its (validated) id as a tree, or "not found" with how to find one."""
        _, docs = next(self.documents([trace_id], rounds=2))
        if not docs:
            indexing = (
                " and needs ~30 s to index a new one" if is_recent(trace_id_time(trace_id)) else ""
            )
            raise DogxrayError(
                f"trace {trace_id} not found",
                where=f"X-Ray in {self.region}",
                hint=f"X-Ray keeps traces for 30 days{indexing}; check --region/--profile, or "
                f"list recent traces with `{self.settings.command('traces')}`",
            )
        return build_trace(trace_id, docs)

    # --- Transaction Search ---
    def check_destination(self) -> None:
        """Whether spans go to CloudWatch Logs (Transaction Search), asked once: then the
        trace ids come from the indexed summaries and the aws/spans log group, and the
        documents from the trace retrieval APIs (`transaction_search`)."""
        if self.search is not None:
            return
        self.search = False
        if self.is_local and not self.is_emulator:
            return  # moto and the like only have the X-Ray destination
        try:
            self.search = search.destination(self.client) == "CloudWatchLogs"
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error_code(exc) in NOT_IMPLEMENTED_CODES or status in (404, 501):
                return  # an endpoint without the API only has the X-Ray destination
            if error_code(exc) in DENIED_CODES:
                self.warn(
                    "warning: your identity lacks xray:GetTraceSegmentDestination, so dogxray "
                    "cannot check for Transaction Search; reading traces from X-Ray anyway"
                )
                return
            raise
        if self.search:
            self.warn(search.advice(search.indexed_percent(self.client)))

    # --- summaries ---
    def summaries(
        self,
        start: datetime,
        end: datetime,
        function_name: str,
        response_time: tuple[float | None, float | None] = (None, None),
        *,
        failed: bool = False,
    ) -> Iterator[list[Summary]]:
        """Per time chunk (newest first): that chunk's summaries, newest first.
        `response_time`: (above, below) in seconds, and `failed` (only traces with a
        fault, error or throttle), filtered server-side when scoped.
        On a Transaction Search account, the traces found in aws/spans join the indexed
        ones, as summaries that know only their id."""
        self.check_destination()
        for begin, stop in chunks(start, end):
            found = [
                _summary(r, function_name, self.server_scoped)
                for r in self._summary_pages(begin, stop, function_name, response_time, failed)
            ]
            if self.search:
                indexed = {s.id for s in found}
                found += [
                    _bare(trace_id)
                    for trace_id in search.span_trace_ids(
                        self.aws.client("logs"), function_name, begin, stop
                    )
                    if trace_id not in indexed
                ]
            found.sort(key=lambda s: (s.start, s.id), reverse=True)
            yield found

    def _summary_pages(
        self,
        begin: datetime,
        stop: datetime,
        function_name: str,
        response_time: tuple[float | None, float | None] = (None, None),
        failed: bool = False,
    ) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {
            "StartTime": begin.astimezone(timezone.utc),
            "EndTime": stop.astimezone(timezone.utc),
            "Sampling": False,
        }
        if self.server_scoped:
            params["FilterExpression"] = filter_expression(
                function_name, *response_time, failed=failed
            )
        while True:
            try:
                page = self.client.get_trace_summaries(**params)
            except (FilterRejected, ClientError) as exc:
                code = str(exc) if isinstance(exc, FilterRejected) else error_code(exc)
                if "FilterExpression" not in params or code not in FILTER_REJECTED_CODES:
                    raise
                self.server_scoped = False  # scope client-side from here on
                params.pop("FilterExpression")
                params.pop("NextToken", None)
                continue
            yield from page.get("TraceSummaries") or []
            token = page.get("NextToken")
            if not token:
                return
            params["NextToken"] = token

    # --- documents ---
    def documents(self, ids: list[str], *, rounds: int = 3) -> Iterator[Documents]:
        """(trace id, its segment documents) in the order of `ids`; None for a trace X-Ray
        still would not return after `rounds` attempts (UnprocessedTraceIds)."""
        self.check_destination()
        if self.search:
            for done, found in enumerate(search.retrieve(self.client, ids, sleep=self.sleep), 1):
                yield found
                self._report(done, len(ids))
            return
        batches = [ids[i : i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="xray")
        queue: list[Future[list[Documents]]] = []
        done = 0
        try:
            for index, batch in enumerate(batches):
                queue.append(pool.submit(self._batch, batch, rounds))
                last = index == len(batches) - 1
                while queue and (last or len(queue) >= self.workers * 2):  # bounded in flight
                    yield from queue.pop(0).result()
                    done = min(done + BATCH_SIZE, len(ids))
                    self._report(done, len(ids))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    def _batch(self, ids: list[str], rounds: int) -> list[Documents]:
        found: dict[str, list[str]] = {}
        pending = list(ids)
        for attempt in range(rounds):
            unprocessed: set[str] = set()
            params: dict[str, Any] = {"TraceIds": pending}
            while True:  # BatchGetTraces pages over the segments of big traces
                page = self.client.batch_get_traces(**params)
                for trace in page.get("Traces") or []:
                    docs = [s["Document"] for s in trace.get("Segments") or []]
                    tid = trace.get("Id") or _doc_trace_id(docs)
                    if tid:
                        found.setdefault(tid, []).extend(docs)
                unprocessed.update(page.get("UnprocessedTraceIds") or [])
                if not page.get("NextToken"):
                    break
                params["NextToken"] = page["NextToken"]
            pending = [t for t in pending if t in unprocessed and t not in found]
            if not pending:
                break
            if attempt + 1 < rounds:
                self.sleep(0.5 * 2**attempt)
        return [(tid, found.get(tid)) for tid in ids]


def filter_expression(
    function_name: str, above: float | None, below: float | None, *, failed: bool = False
) -> str:
    """X-Ray's filter for the function's traces, optionally within a response time
    (seconds, exclusive bounds as the operators say) and only the failed ones."""
    parts = [f'service("{function_name}")']
    for operator, bound in ((">", above), ("<", below)):
        if bound is not None:
            number = f"{bound:.3f}".rstrip("0").rstrip(".")  # no exponent: 0.001, not 1e-03
            parts.append(f"responsetime {operator} {number}")
    if failed:
        parts.append("(fault OR error OR throttle)")
    return " AND ".join(parts)


def _doc_trace_id(docs: list[str]) -> str | None:
    for doc in docs:
        try:
            found = json.loads(doc).get("trace_id")
            return str(found) if found is not None else None
        except (ValueError, AttributeError):
            continue
    return None
