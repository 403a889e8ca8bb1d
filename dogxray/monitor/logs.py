"""The function's CloudWatch logs: FilterLogEvents (paginated), one invocation by request
id or by trace, and `--follow` (polling, deduplicated by event id). Parsing and grouping
are pure and live in `logparse.py`.

Decisions:
- Missing log group: an empty result with a note (exit 0, as `traces` with nothing in
  the window); `--request-id`/`--trace` with no lines found fail (exit 1): the user asked
  for one thing and it is not there.
- `--follow` polls every 2 s like `aws logs tail --follow` (StartLiveTail is not used:
  moto and the emulator do not serve it), re-reading the last 10 s so late-ingested
  events of other streams are not missed; a missing group is waited for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dogxray.core.errors import DogxrayError
from dogxray.monitor.logparse import LogParser, invocations, iso_ms, select

if TYPE_CHECKING:
    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings
    from dogxray.traces.service import TraceDetail

# One parsed log line and one invocation's summary, in `logparse`'s shapes (the JSON's).
LogEvent = dict[str, Any]
Invocation = dict[str, Any]

POLL_SECONDS = 2.0  # as `aws logs tail --follow`
FOLLOW_LOOKBACK_MS = 10_000  # late-ingested events from other streams are still seen
_sleep = time.sleep  # looked up at call time: the CLI test replaces it


@dataclass
class Logs:
    """`logs`: the events of the window (newest last) and one summary per invocation;
    `note` says why there are none (not part of the JSON shape's data)."""

    log_group: str
    start: str
    end: str
    events: list[LogEvent] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "log_group": self.log_group,
            "window": {"start": self.start, "end": self.end},
            "events": self.events,
            "invocations": self.invocations,
        }
        if self.note is not None:
            doc["note"] = self.note
        return doc


@dataclass
class TraceLogs:
    """The log lines of a trace's invocation (under `trace ID`'s waterfall, in the
    report); `note` says why there are none."""

    request_id: str | None = None
    events: list[LogEvent] = field(default_factory=list)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "events": self.events, "note": self.note}


# --- CloudWatch Logs ---


def raw_events(
    client: Any,
    log_group: str,
    start_ms: int,
    end_ms: int | None = None,
    *,
    page_limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """FilterLogEvents over all pages (`page_limit` events a page; None: the API's)."""
    params: dict[str, Any] = {"logGroupName": log_group, "startTime": start_ms}
    if end_ms is not None:
        params["endTime"] = end_ms
    if page_limit is not None:
        params["limit"] = page_limit
    while True:
        page = client.filter_log_events(**params)
        yield from page.get("events") or []
        token = page.get("nextToken")
        if not token or token == params.get("nextToken"):
            return
        params["nextToken"] = token


def _ordered(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest last; within a millisecond, each stream keeps its own order."""
    return sorted(events, key=lambda e: int(e.get("timestamp") or 0))


def _is_missing(exc: BaseException) -> bool:
    from dogxray.core.aws import error_code

    return error_code(exc) == "ResourceNotFoundException"


def _ms_of(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def read_logs(
    aws: Aws,
    settings: Settings,
    *,
    since: str = "10m",
    errors_only: bool = False,
    request_id: str | None = None,
    trace_id: str | None = None,
    page_limit: int | None = None,
) -> Logs:
    """The window's events (newest last) and one summary per invocation."""
    from dogxray.core.window import is_recent, parse_since

    group = settings.log_group_name
    window = parse_since(since, limit=None)
    start_ms, end_ms = _ms_of(window[0]), _ms_of(window[1])
    if trace_id is not None:
        request_id, start_ms, end_ms = invocation_of_trace(aws, trace_id)
    client = aws.client("logs")
    result = Logs(group, iso_ms(start_ms), iso_ms(end_ms))
    try:
        found = _ordered(raw_events(client, group, start_ms, end_ms, page_limit=page_limit))
    except Exception as exc:
        if not _is_missing(exc):
            raise
        if request_id is not None:
            raise DogxrayError(
                f"no log group {group}: the function has not logged anything yet",
                where=f"CloudWatch Logs in {aws.region}",
                hint=f"run `{settings.command('setup')}` and `{settings.command('test')}` first",
            ) from None
        result.note = missing_note(aws, settings)
        return result
    events, summaries = select(
        LogParser().feed(found), errors_only=errors_only, request_id=request_id
    )
    if request_id is not None and not events:
        what = f"trace {trace_id} (request {request_id})" if trace_id else f"request {request_id}"
        raise DogxrayError(
            f"no log lines of {what} in {group}",
            where=f"{result.start} .. {result.end}",
            hint=(
                "CloudWatch needs a few seconds to receive new lines; re-run"
                if is_recent(end_ms / 1000)
                else "the request is not recent: its lines may be past the log group's retention"
            )
            + ("" if trace_id else ", or widen --since"),
        )
    result.events, result.invocations = events, summaries
    if not events:
        kind = "failed invocations" if errors_only else "log lines"
        result.note = (
            f"no {kind} in {group} in the window; invoke the function with "
            f"`{settings.command('test')}`, or widen --since"
        )
    return result


def missing_note(aws: Aws, settings: Settings) -> str:
    """Why the log group does not exist: the function is missing, or never ran."""
    try:
        aws.client("lambda").get_function_configuration(FunctionName=settings.function_name)
    except Exception as exc:
        if _is_missing(exc):
            return (
                f"nothing deployed: no function {settings.function_name} in {aws.region}; "
                f"run `{settings.command('setup')}`"
            )
    return (
        f"no log group {settings.log_group_name} yet: the function has not been invoked; "
        f"run `{settings.command('test')}`"
    )


def invocation_of_trace(aws: Aws, trace_id: str) -> tuple[str, int, int]:
    """(request id, window start ms, window end ms) of a trace's Lambda invocation, from
    its `AWS::Lambda` segment (`aws.request_id`); the window spans its segments."""
    from dogxray.core.window import validate_trace_id
    from dogxray.traces.fetch import Fetcher

    trace_id = validate_trace_id(trace_id, aws.settings)
    trace = Fetcher(aws).trace(trace_id)
    nodes = [node for node, _ in trace.walk()]
    ids = [n.aws.get("request_id") for n in nodes if n.origin == "AWS::Lambda"]
    ids += [n.aws.get("request_id") for n in nodes if n.origin == "AWS::Lambda::Function"]
    request_id = next((str(i) for i in ids if i), None)
    if request_id is None:
        raise DogxrayError(
            f"trace {trace_id} has no Lambda request id",
            where="no AWS::Lambda segment with aws.request_id",
            hint=f"is this a trace of the lab's function? see `{aws.settings.command('trace ID')}`",
        )
    # Lambda logs init and START just after the request reached it; give a small margin.
    return request_id, int(trace.start * 1000) - 1000, int(trace.end * 1000) + 5000


def trace_logs(aws: Aws, settings: Settings, detail: TraceDetail) -> TraceLogs:
    """The log lines of a trace's invocation, for under its waterfall (`trace ID`).
    Never fails the trace: a problem becomes a `note`."""
    from dogxray.traces.model import trace_id_time

    found = TraceLogs()
    ids: list[str | None] = []
    stack = list(detail.nodes)
    while stack:
        node = stack.pop()
        if node.get("origin") in ("AWS::Lambda", "AWS::Lambda::Function"):
            request_id = (node.get("aws") or {}).get("request_id")
            if node["origin"] == "AWS::Lambda":  # the service's segment names it first
                ids.insert(0, request_id)
            else:
                ids.append(request_id)
        stack.extend(node.get("children") or [])
    request_id = next((str(i) for i in ids if i), None)
    if request_id is None:
        found.note = "no log lines: the trace has no Lambda request id"
        return found
    found.request_id = request_id
    start_ms = int(trace_id_time(detail.id) * 1000) - 1000
    end_ms = start_ms + int(detail.duration_ms or 0) + 7000  # id time is whole seconds
    try:
        raw = _ordered(raw_events(aws.client("logs"), settings.log_group_name, start_ms, end_ms))
    except Exception as exc:
        from dogxray.core.aws import error_message

        found.note = f"no log lines: {error_message(exc)}"
        return found
    found.events, _ = select(LogParser().feed(raw), request_id=request_id)
    if not found.events:
        from dogxray.core.window import is_recent

        logs_command = settings.command(f"logs --trace {detail.id}")
        found.note = (
            f"no log lines of request {request_id} yet (CloudWatch needs a few seconds); "
            f"re-run, or `{logs_command}`"
            if is_recent(end_ms / 1000)
            else f"no log lines of request {request_id} in {settings.log_group_name} "
            "(they may be past the log group's retention)"
        )
    return found


def follow(
    aws: Aws,
    settings: Settings,
    emit: Callable[[list[dict[str, Any]]], None],
    *,
    since: str = "10m",
    errors_only: bool = False,
    request_id: str | None = None,
    sleep: Callable[[float], None] | None = None,
    interval: float = POLL_SECONDS,
    max_polls: int | None = None,
    page_limit: int | None = None,
    clock: Callable[[], float] = time.time,
    note: Callable[[str], None] | None = None,
) -> int:
    """Poll FilterLogEvents until Ctrl-C (or `max_polls`), handing only new events
    (deduplicated by event id) to `emit`. With `--errors`, an invocation's lines are
    held until its REPORT shows whether it failed. Returns the number of polls."""
    from dogxray.core.window import parse_since

    group = settings.log_group_name
    client = aws.client("logs")
    cursor = _ms_of(parse_since(since, limit=None)[0])
    seen: dict[str, int] = {}  # event id -> timestamp, pruned behind the lookback
    parser = LogParser()
    held: dict[str, list[dict[str, Any]]] = {}
    said_missing = False
    polls = 0
    while max_polls is None or polls < max_polls:
        if polls:
            (sleep or _sleep)(interval)
        polls += 1
        start = max(0, cursor - FOLLOW_LOOKBACK_MS) if seen else cursor
        try:
            fresh = [
                e
                for e in raw_events(client, group, start, page_limit=page_limit)
                if e.get("eventId") not in seen
            ]
        except Exception as exc:
            if not _is_missing(exc):
                raise
            if not said_missing and note is not None:
                note(missing_note(aws, settings) + " (waiting for it)")
            said_missing = True
            continue
        fresh = _ordered(fresh)
        for e in fresh:
            seen[str(e.get("eventId"))] = int(e.get("timestamp") or 0)
            cursor = max(cursor, int(e.get("timestamp") or 0))
        seen = {k: v for k, v in seen.items() if v >= cursor - FOLLOW_LOOKBACK_MS}
        events = parser.feed(fresh)
        if request_id is not None:
            events = [e for e in events if e["request_id"] == request_id]
        if errors_only:
            events = _release_failed(events, held)
        if events:
            emit(events)
    return polls


def _release_failed(
    events: list[dict[str, Any]], held: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Hold each invocation's lines until its REPORT; pass them on only if it failed."""
    out: list[dict[str, Any]] = []
    for event in events:
        rid = event["request_id"]
        if rid is None:
            continue
        held.setdefault(rid, []).append(event)
        if event["kind"] == "report":
            lines = held.pop(rid)
            if invocations(lines)[0]["failed"]:
                out.extend(lines)
    return out
