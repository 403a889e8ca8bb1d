"""`dogxray logs` output: one line per event, START/END folded into the REPORT line (one
line per invocation), the function's JSON line shown as fields, tracebacks indented.

`lines()` is pure (tests compare it exactly); the printers write through `render`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from dogxray import render
from dogxray.monitor.logs import Logs, TraceLogs

ID_WIDTH = 8


def _prefix(event: dict[str, Any]) -> str:
    rid = (event["request_id"] or "-")[:ID_WIDTH]
    return f"{event['time'][:23].replace('T', ' ')}  {rid:<{ID_WIDTH}}  "


def _report(fields: dict[str, Any]) -> list[str]:
    parts = [
        f"REPORT {render.duration(fields.get('duration_ms'))}",
        f"billed {render.duration(fields.get('billed_ms'), 0)}",
        f"memory {fields.get('max_memory_mb', '-')}/{fields.get('memory_mb', '-')} MB",
    ]
    if fields.get("init_ms") is not None:
        parts.append(f"init {render.duration(fields['init_ms'])}")
    if fields.get("status"):
        parts.append(f"status {fields['status']}")
    return parts


def _app(app: dict[str, Any]) -> list[str]:
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
        parts += [f"{k} {render.duration(v)}" for k, v in timings.items()]
    if app.get("error"):
        parts.append(f"error: {app['error']}")
    return parts


def lines(events: list[dict[str, Any]], limit: int | None = None) -> Iterator[str]:
    """Text lines for events (in order), each wrapped to `limit` columns (None: not
    wrapped): the continuation lines are indented under the message; a token longer
    than the room left (a URL in a message) is broken, so nothing is lost."""
    for line, indent in _raw_lines(events):
        if isinstance(line, tuple):  # (prefix, parts): wrapped between the parts
            yield from render.pack(line[1], limit, " " * (indent + 2), lead=line[0])
        else:
            yield from render.wrap(line, limit, " " * (indent + 2), hard=True)


def _raw_lines(events: list[dict[str, Any]]) -> Iterator[tuple[str | tuple[str, list[str]], int]]:
    """Each line (or its prefix and parts) and the column its text starts at."""
    for event in events:
        kind, fields = event["kind"], event["fields"]
        if kind in ("start", "end"):
            continue  # folded into the REPORT line
        prefix = _prefix(event)
        at = len(prefix)
        if kind == "report":
            yield (prefix, _report(fields)), at
        elif kind == "app":
            yield (prefix, _app(fields["app"])), at
        elif kind == "error" and "traceback" in fields and fields["error_type"] != "ERROR":
            yield prefix + f"[ERROR] {fields['error_type']}: {fields['error_message']}", at
            pad = " " * len(prefix)
            for line in fields["traceback"]:
                for part in line.splitlines():
                    if part.strip() and part.strip(" ^~"):  # not a caret-marker line
                        text = pad + "  " + part.rstrip()
                        yield text, len(text) - len(text.lstrip(" "))
        else:
            for number, part in enumerate(event["message"].replace("\r", "\n").splitlines()):
                text = (prefix if number == 0 else " " * len(prefix)) + part.rstrip()
                yield text, max(at, len(text) - len(text.lstrip(" ")))


def text(result: Logs) -> None:
    """`dogxray logs`: the events, then one summary line per invocation."""
    for line in lines(result.events, render.width()):
        render.data(line)
    if result.invocations:
        failed = sum(1 for inv in result.invocations if inv["failed"])
        counts = f"{render.plural(len(result.invocations), 'invocation')}, {failed} failed"
        for line in render.fit(f"{counts}  ({result.log_group})", hard=True):
            render.data(line)
    render.note(result.note)


def stream_text(events: list[dict[str, Any]]) -> None:
    """`--follow`: new events as they arrive."""
    for line in lines(events, render.width()):
        render.data(line)


def stream_json(events: list[dict[str, Any]]) -> None:
    """`--follow --output json`: one event a line (JSON Lines), as they arrive."""
    for event in events:
        render.data(json.dumps(event, default=str))


def under_waterfall(found: TraceLogs) -> None:
    """`dogxray trace ID`: the invocation's log lines below the waterfall."""
    if found.events:
        render.data("")
        render.data(f"log lines of request {found.request_id}:")
        for line in lines(found.events, render.width()):
            render.data(line)
    if found.note:
        render.progress(f"note: {found.note}")
