"""`dogxray logs` output: one line per event, START/END folded into the REPORT line (one
line per invocation), the function's JSON line shown as fields, tracebacks indented.

`lines()` is pure (tests compare it exactly); the printers write through `render`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from dogxray import render

ID_WIDTH = 8


def _ms(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.1f} ms"


def _whole_ms(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.0f} ms"


def _prefix(event: dict[str, Any]) -> str:
    rid = (event["request_id"] or "-")[:ID_WIDTH]
    return f"{event['time'][:23].replace('T', ' ')}  {rid:<{ID_WIDTH}}  "


def _report(fields: dict[str, Any]) -> str:
    parts = [
        f"REPORT {_ms(fields.get('duration_ms'))}",
        f"billed {_whole_ms(fields.get('billed_ms'))}",
        f"memory {fields.get('max_memory_mb', '-')}/{fields.get('memory_mb', '-')} MB",
    ]
    if fields.get("init_ms") is not None:
        parts.append(f"init {_ms(fields['init_ms'])}")
    if fields.get("status"):
        parts.append(f"status {fields['status']}")
    return "  ".join(parts)


def _app(app: dict[str, Any]) -> str:
    outcome = str(app.get("outcome", "?"))
    parts = [outcome.upper() if outcome not in ("ok", "redirect") else outcome]
    if app.get("status") is not None:
        parts.append(str(app["status"]))
    if app.get("breed"):
        parts.append(str(app["breed"]))
    if app.get("key"):
        parts.append(str(app["key"]))
    if app.get("bytes") is not None:
        parts.append(f"{app['bytes']:,} B")
    timings = app.get("timings_ms") or {}
    if timings:
        parts.append(" ".join(f"{k} {_ms(v)}" for k, v in timings.items()))
    if app.get("error"):
        parts.append(f"error: {app['error']}")
    return "  ".join(parts)


def lines(events: list[dict[str, Any]]) -> Iterator[str]:
    """Text lines for events (in order)."""
    for event in events:
        kind, fields = event["kind"], event["fields"]
        if kind in ("start", "end"):
            continue  # folded into the REPORT line
        prefix = _prefix(event)
        if kind == "report":
            yield prefix + _report(fields)
        elif kind == "app":
            yield prefix + _app(fields["app"])
        elif kind == "error" and "traceback" in fields and fields["error_type"] != "ERROR":
            yield prefix + f"[ERROR] {fields['error_type']}: {fields['error_message']}"
            pad = " " * len(prefix)
            for line in fields["traceback"]:
                for part in line.splitlines():
                    if part.strip() and part.strip(" ^~"):  # not a caret-marker line
                        yield pad + "  " + part.rstrip()
        else:
            for number, part in enumerate(event["message"].replace("\r", "\n").splitlines()):
                yield (prefix if number == 0 else " " * len(prefix)) + part.rstrip()


def summary_line(inv: dict[str, Any]) -> str:
    flag = "FAILED" if inv["failed"] else "ok"
    cold = "  cold start" if inv["cold_start"] else ""
    return f"{inv['request_id']}  {flag}  {_ms(inv['duration_ms'])}{cold}"


def note(result: dict[str, Any]) -> None:
    if result.get("note"):
        render.progress(f"note: {result['note']}")


def text(result: dict[str, Any]) -> None:
    """`dogxray logs`: the events, then one summary line per invocation."""
    for line in lines(result["events"]):
        render.data(line)
    if result["invocations"]:
        failed = sum(1 for inv in result["invocations"] if inv["failed"])
        render.data(
            f"{len(result['invocations'])} invocation(s), {failed} failed  ({result['log_group']})"
        )
    note(result)


def emit_json(result: dict[str, Any]) -> None:
    note(result)
    render.json_doc({k: v for k, v in result.items() if k != "note"})


def stream_text(events: list[dict[str, Any]]) -> None:
    """`--follow`: new events as they arrive."""
    for line in lines(events):
        render.data(line)


def stream_json(events: list[dict[str, Any]]) -> None:
    """`--follow --output json`: one event a line (JSON Lines), as they arrive."""
    for event in events:
        render.data(json.dumps(event, default=str))


def under_waterfall(found: dict[str, Any]) -> None:
    """`dogxray trace ID`: the invocation's log lines below the waterfall."""
    if found["events"]:
        render.data("")
        render.data(f"log lines of request {found['request_id']}:")
        for line in lines(found["events"]):
            render.data(line)
    if found["note"]:
        render.progress(f"note: {found['note']}")
