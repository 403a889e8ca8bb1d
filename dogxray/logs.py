"""The function's CloudWatch logs: fetch (FilterLogEvents, paginated), parse, group by
invocation, follow.

Parsing is pure (`parse_message`, `LogParser`) so every Lambda line form is tested alone.
A line without a request id (an unhandled error's `[ERROR]` + traceback, init output)
belongs to the invocation running on its log stream: one execution environment (one
stream) runs one request at a time, so the stream's last `START` names it; lines before
the first `START` of a stream (the init phase) go to the invocation that follows.

Decisions:
- Missing log group: an empty result with a note (exit 0, as `traces` with nothing in
  the window); `--request-id`/`--trace` with no lines found fail (exit 1): the user asked
  for one thing and it is not there.
- An invocation failed when its JSON line's outcome is not ok/redirect, its status is
  >= 500, an error line (`[ERROR]`, an `errorType` document, a timeout) was logged, or
  its REPORT says `Status: timeout|error`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dogxray.errors import DogxrayError

POLL_SECONDS = 2.0  # as `aws logs tail --follow`
FOLLOW_LOOKBACK_MS = 10_000  # late-ingested events from other streams are still seen
OK_OUTCOMES = ("ok", "redirect")
_sleep = time.sleep  # looked up at call time: the CLI test replaces it
KINDS = ("start", "end", "report", "app", "error", "other")

_START_RE = re.compile(r"^START RequestId: (?P<id>[\w-]+)(?: Version: (?P<version>\S+))?")
_END_RE = re.compile(r"^END RequestId: (?P<id>[\w-]+)")
_REPORT_RE = re.compile(r"^REPORT RequestId: (?P<id>[\w-]+)")
_REPORT_FIELDS = {
    "Duration": ("duration_ms", float),
    "Billed Duration": ("billed_ms", float),
    "Memory Size": ("memory_mb", int),
    "Max Memory Used": ("max_memory_mb", int),
    "Init Duration": ("init_ms", float),
    "XRAY TraceId": ("trace_id", str),
    "Status": ("status", str),
}
_ERROR_RE = re.compile(r"^\[ERROR\] (?P<type>[\w.]+): ?(?P<message>.*)$")
_LEVEL_RE = re.compile(
    r"^\[(?P<level>[A-Z]+)\]\t(?P<time>\S+)\t(?P<id>[0-9a-f-]{36})\t(?P<message>.*)$", re.S
)
_TIMEOUT_RE = re.compile(r"^\S+ (?P<id>[0-9a-f-]{36}) (?P<message>Task timed out after .*)$")


def _number(kind: type, text: str) -> Any:
    value = text.split()[0] if kind is not str else text.strip()
    return kind(float(value)) if kind is int else kind(value)


def parse_message(message: str) -> dict[str, Any]:
    """One log message -> {kind, request_id, fields}. Lambda joins a multi-line event
    with CR; both CR and LF split lines."""
    text = message.rstrip("\r\n")
    if m := _START_RE.match(text):
        return _line("start", m["id"], {"version": m["version"]})
    if m := _END_RE.match(text):
        return _line("end", m["id"], {})
    if m := _REPORT_RE.match(text):
        fields: dict[str, Any] = {name: None for name, _ in _REPORT_FIELDS.values()}
        for part in re.split(r"[\t\r\n]+", text)[1:]:
            key, _, value = part.partition(":")
            if key.strip() in _REPORT_FIELDS and value.strip():
                name, kind = _REPORT_FIELDS[key.strip()]
                try:
                    fields[name] = _number(kind, value)
                except ValueError:
                    continue
        return _line("report", m["id"], fields)
    lines = re.split(r"\r\n|\r|\n", text)
    if m := _ERROR_RE.match(lines[0]):
        return _line("error", None, _error_fields(m["type"], m["message"], lines[1:]))
    if m := _TIMEOUT_RE.match(text):
        return _line("error", m["id"], _error_fields("Sandbox.Timedout", m["message"], []))
    if text.startswith("{"):
        doc = _json(text)
        if doc is not None and "errorType" in doc:
            trace = doc.get("stackTrace") or []
            return _line(
                "error",
                doc.get("requestId") or None,
                _error_fields(
                    str(doc["errorType"]),
                    str(doc.get("errorMessage", "")),
                    [str(t).rstrip("\n") for t in trace] if isinstance(trace, list) else [],
                ),
            )
        if doc is not None and "request_id" in doc:
            return _line("app", str(doc["request_id"]), {"app": doc})
    if m := _LEVEL_RE.match(text):
        kind = "error" if m["level"] in ("ERROR", "CRITICAL") else "other"
        fields = {"level": m["level"]}
        if kind == "error":
            fields.update(_error_fields("ERROR", m["message"].splitlines()[0], []))
        return _line(kind, m["id"], fields)
    return _line("other", None, {})


def _json(text: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _error_fields(error_type: str, message: str, traceback: list[str]) -> dict[str, Any]:
    return {"error_type": error_type, "error_message": message, "traceback": traceback}


def _line(kind: str, request_id: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "request_id": request_id, "fields": fields}


def iso_ms(timestamp_ms: int) -> str:
    from dogxray.traces.window import iso

    return str(iso(timestamp_ms / 1000.0))


@dataclass
class LogParser:
    """Turns raw FilterLogEvents events into parsed events, attributing lines without a
    request id to the invocation running on their stream. Keeps its state between calls
    so `--follow` feeds it poll after poll."""

    current: dict[str, str | None] = field(default_factory=dict)  # stream -> request id
    pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # before START

    def feed(self, raw_events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for raw in raw_events:
            stream = str(raw.get("logStreamName") or "")
            parsed = parse_message(str(raw.get("message") or ""))
            event = {
                "time": iso_ms(int(raw.get("timestamp") or 0)),
                "timestamp": int(raw.get("timestamp") or 0),
                "event_id": raw.get("eventId"),
                "stream": stream,
                "request_id": parsed["request_id"],
                "kind": parsed["kind"],
                "message": str(raw.get("message") or "").rstrip("\r\n"),
                "fields": parsed["fields"],
            }
            if event["kind"] == "start":
                self.current[stream] = event["request_id"]
                for early in self.pending.pop(stream, []):
                    early["request_id"] = event["request_id"]
            elif event["request_id"] is None:
                event["request_id"] = self.current.get(stream)
                if event["request_id"] is None:
                    self.pending.setdefault(stream, []).append(event)
            out.append(event)
            if event["kind"] == "report":
                self.current[stream] = None
        return out


def invocations(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One summary per request id, in order of first appearance."""
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        rid = event["request_id"]
        if rid is None:
            continue
        inv = found.setdefault(rid, _empty_invocation(rid, event["time"]))
        inv["end"] = event["time"]
        fields = event["fields"]
        kind = event["kind"]
        if kind == "start":
            inv["start"] = event["time"]
        elif kind == "report":
            for key in ("duration_ms", "billed_ms", "memory_mb", "max_memory_mb", "init_ms"):
                inv[key] = fields.get(key)
            inv["cold_start"] = fields.get("init_ms") is not None
            inv["trace_id"] = inv["trace_id"] or fields.get("trace_id")
            if fields.get("status") in ("timeout", "error"):
                inv["error"] = inv["error"] or f"Status: {fields['status']}"
        elif kind == "app":
            app = fields["app"]
            for key in ("outcome", "status", "breed", "key", "bytes"):
                inv[key] = app.get(key, inv[key])
            inv["timings_ms"] = app.get("timings_ms") or {}
            inv["trace_id"] = inv["trace_id"] or app.get("trace_id")
            if app.get("error"):
                inv["error"] = str(app["error"])
        elif kind == "error":
            inv["error"] = inv["error"] or f"{fields['error_type']}: {fields['error_message']}"
            inv["error_logged"] = True
        inv["lines"] += 1
    for inv in found.values():
        inv["failed"] = _failed(inv)
        inv.pop("error_logged")
    return list(found.values())


def _empty_invocation(request_id: str, time_iso: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "start": time_iso,
        "end": time_iso,
        "duration_ms": None,
        "billed_ms": None,
        "memory_mb": None,
        "max_memory_mb": None,
        "init_ms": None,
        "cold_start": False,
        "trace_id": None,
        "outcome": None,
        "status": None,
        "breed": None,
        "key": None,
        "bytes": None,
        "timings_ms": {},
        "error": None,
        "error_logged": False,
        "lines": 0,
        "failed": False,
    }


def _failed(inv: dict[str, Any]) -> bool:
    status = inv["status"]
    return bool(
        inv["error_logged"]
        or (inv["outcome"] is not None and inv["outcome"] not in OK_OUTCOMES)
        or (isinstance(status, int) and status >= 500)
        or (inv["error"] and inv["error"].startswith("Status:"))
    )


def select(
    events: list[dict[str, Any]], *, errors_only: bool = False, request_id: str | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(events, invocations) kept by `--errors` / `--request-id`."""
    summaries = invocations(events)
    if request_id is not None:
        summaries = [inv for inv in summaries if inv["request_id"] == request_id]
    if errors_only:
        summaries = [inv for inv in summaries if inv["failed"]]
    if request_id is not None or errors_only:
        keep = {inv["request_id"] for inv in summaries}
        events = [e for e in events if e["request_id"] in keep]
    return events, summaries


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
    from dogxray.aws import error_code

    return error_code(exc) == "ResourceNotFoundException"


def _ms_of(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def read_logs(
    aws: Any,
    settings: Any,
    *,
    since: str = "10m",
    errors_only: bool = False,
    request_id: str | None = None,
    trace_id: str | None = None,
    page_limit: int | None = None,
) -> dict[str, Any]:
    """The `logs` document: events (newest last) and one summary per invocation."""
    from dogxray.traces.window import parse_since

    group = settings.log_group_name
    window = parse_since(since)
    start_ms, end_ms = _ms_of(window[0]), _ms_of(window[1])
    if trace_id is not None:
        request_id, start_ms, end_ms = invocation_of_trace(aws, trace_id)
    client = aws.client("logs")
    result: dict[str, Any] = {
        "log_group": group,
        "window": {"start": iso_ms(start_ms), "end": iso_ms(end_ms)},
        "events": [],
        "invocations": [],
    }
    try:
        found = _ordered(raw_events(client, group, start_ms, end_ms, page_limit=page_limit))
    except Exception as exc:
        if not _is_missing(exc):
            raise
        if request_id is not None:
            raise DogxrayError(
                f"no log group {group}: the function has not logged anything yet",
                where=f"CloudWatch Logs in {aws.region}",
                hint="run `dogxray setup` and `dogxray test` first",
            ) from None
        result["note"] = missing_note(aws, settings)
        return result
    events, summaries = select(
        LogParser().feed(found), errors_only=errors_only, request_id=request_id
    )
    if request_id is not None and not events:
        what = f"trace {trace_id} (request {request_id})" if trace_id else f"request {request_id}"
        raise DogxrayError(
            f"no log lines of {what} in {group}",
            where=f"{result['window']['start']} .. {result['window']['end']}",
            hint="CloudWatch needs a few seconds to receive new lines; re-run, or widen --since",
        )
    result["events"], result["invocations"] = events, summaries
    if not events:
        kind = "failed invocations" if errors_only else "log lines"
        result["note"] = (
            f"no {kind} in {group} in the window; invoke the function with `dogxray test`, "
            "or widen --since"
        )
    return result


def missing_note(aws: Any, settings: Any) -> str:
    """Why the log group does not exist: the function is missing, or never ran."""
    try:
        aws.client("lambda").get_function_configuration(FunctionName=settings.function_name)
    except Exception as exc:
        if _is_missing(exc):
            return (
                f"nothing deployed: no function {settings.function_name} in {aws.region}; "
                "run `dogxray setup`"
            )
    return (
        f"no log group {settings.log_group_name} yet: the function has not been invoked; "
        "run `dogxray test`"
    )


def invocation_of_trace(aws: Any, trace_id: str) -> tuple[str, int, int]:
    """(request id, window start ms, window end ms) of a trace's Lambda invocation, from
    its `AWS::Lambda` segment (`aws.request_id`); the window spans its segments."""
    from dogxray.traces.fetch import Fetcher
    from dogxray.traces.model import build_trace
    from dogxray.traces.window import validate_trace_id

    trace_id = validate_trace_id(trace_id)
    _, docs = next(Fetcher(aws).documents([trace_id], rounds=2))
    if not docs:
        raise DogxrayError(
            f"trace {trace_id} not found",
            where=f"X-Ray in {aws.region}",
            hint="X-Ray keeps traces for 30 days and needs ~30 s to index a new one; "
            "list recent ones with `dogxray traces`",
        )
    trace = build_trace(trace_id, docs)
    nodes = [node for node, _ in trace.walk()]
    ids = [n.aws.get("request_id") for n in nodes if n.origin == "AWS::Lambda"]
    ids += [n.aws.get("request_id") for n in nodes if n.origin == "AWS::Lambda::Function"]
    request_id = next((str(i) for i in ids if i), None)
    if request_id is None:
        raise DogxrayError(
            f"trace {trace_id} has no Lambda request id",
            where="no AWS::Lambda segment with aws.request_id",
            hint="is this a trace of the lab's function? see `dogxray trace ID`",
        )
    # Lambda logs init and START just after the request reached it; give a small margin.
    return request_id, int(trace.start * 1000) - 1000, int(trace.end * 1000) + 5000


def trace_logs(aws: Any, settings: Any, detail: dict[str, Any]) -> dict[str, Any]:
    """The log lines of a trace's invocation, for under its waterfall (`trace ID`).
    Never fails the trace: a problem becomes a `note`."""
    from dogxray.traces.fetch import trace_id_time

    found: dict[str, Any] = {"request_id": None, "events": [], "note": None}
    ids: list[str] = []
    stack = list(detail.get("nodes") or [])
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
        found["note"] = "no log lines: the trace has no Lambda request id"
        return found
    found["request_id"] = request_id
    start_ms = int(trace_id_time(detail["id"]) * 1000) - 1000
    end_ms = start_ms + int(detail.get("duration_ms") or 0) + 7000  # id time is whole seconds
    try:
        raw = _ordered(raw_events(aws.client("logs"), settings.log_group_name, start_ms, end_ms))
    except Exception as exc:
        from dogxray.aws import error_message

        found["note"] = f"no log lines: {error_message(exc)}"
        return found
    found["events"], _ = select(LogParser().feed(raw), request_id=request_id)
    if not found["events"]:
        found["note"] = (
            f"no log lines of request {request_id} yet (CloudWatch needs a few seconds); "
            f"re-run, or `dogxray logs --trace {detail['id']}`"
        )
    return found


def follow(
    aws: Any,
    settings: Any,
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
    from dogxray.traces.window import parse_since

    group = settings.log_group_name
    client = aws.client("logs")
    cursor = _ms_of(parse_since(since)[0])
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
