"""Lambda log lines, parsed (pure: no AWS calls, each line form tested alone).

Forms: `START RequestId: <id> Version: <v>`, `END RequestId: <id>`, `REPORT RequestId:
<id>\tDuration: .. ms\tBilled Duration: .. ms\tMemory Size: .. MB\tMax Memory Used: ..
MB[\tInit Duration: .. ms][\tXRAY TraceId: ..\tSegmentId: ..\tSampled: ..][\tStatus: ..]`,
the function's JSON line (one per request: request_id, outcome, status, timings_ms, ...),
an unhandled error as `[ERROR] Type: message` + traceback (one event, lines joined by CR)
or an `errorType`/`errorMessage` document, a timeout line, and the runtime's
`[LEVEL]\t<time>\t<request id>\t<message>` logging lines.

A line without a request id (an unhandled error's `[ERROR]` + traceback, init output)
belongs to the invocation running on its log stream: one execution environment (one
stream) runs one request at a time, so the stream's last `START` names it; lines before
the first `START` of a stream (the init phase) go to the invocation that follows.

An invocation failed when its JSON line's outcome is not ok/redirect, its status is
>= 500, an error line (`[ERROR]`, an `errorType` document, a timeout) was logged, or
its REPORT says `Status: timeout|error`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

OK_OUTCOMES = ("ok", "redirect")
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
                name, as_type = _REPORT_FIELDS[key.strip()]
                try:
                    fields[name] = _number(as_type, value)
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
    from dogxray.core.window import iso

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
