"""A listing row from a trace summary alone: what `traces` prints without fetching the
trace's documents.

X-Ray's TraceSummary carries the start, duration, the entry point's HTTP status, the
flags, the services and, per failing service, the entity path down to the failing
entity with its exceptions (`FaultRootCauses`, `ErrorRootCauses`). The row follows the
rules `analysis.analyse` applies to the documents:
- status: the entry point's, except that a function error (a root cause at the
  function's handler level: its segment, `Invocation` or a subsegment directly under
  either) is what a Function URL answers with 502;
- root cause: the deepest failing entity with an exception, faults before errors,
  reported under the lab subsegment on its path (`save_dog_to_s3`), else its own name.
A summary without `StartTime`, `Duration` or `ServiceIds` (moto's) gives no row, nor
does a failed trace whose summary names no exception (real summaries can say
`HasError` with empty root causes): the trace's documents decide.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dogxray.traces.analysis import LAB_SUBSEGMENTS, RUNTIME_SUBSEGMENTS, TraceRow

FUNCTION_ORIGIN = "AWS::Lambda::Function"
LAMBDA_ERROR_STATUS = 502  # what a Function URL answers a function error with


def complete(raw: dict[str, Any]) -> bool:
    """Whether the summary holds all a row needs (X-Ray's do; moto's do not)."""
    return (
        isinstance(raw.get("StartTime"), datetime)
        and raw.get("Duration") is not None
        and raw.get("ServiceIds") is not None
    )


def row(raw: dict[str, Any]) -> TraceRow | None:
    """The listing row of a complete summary (None: the documents must tell)."""
    if not complete(raw):
        return None
    causes = [(True, c) for c in raw.get("FaultRootCauses") or []] + [
        (False, c) for c in raw.get("ErrorRootCauses") or []
    ]
    status = (raw.get("Http") or {}).get("HttpStatus")
    cause = _root_cause(causes)
    if cause is None and (raw.get("HasFault") or raw.get("HasError")) and status != 429:
        return None  # failed, but the summary does not say why
    if any(_function_error(cause) for _, cause in causes) and (status is None or status < 400):
        status = LAMBDA_ERROR_STATUS
    return TraceRow(
        id=raw["Id"],
        start=raw["StartTime"].timestamp(),
        duration_ms=round(float(raw["Duration"]) * 1000, 1),
        status=status,
        fault=bool(raw.get("HasFault")),
        error=bool(raw.get("HasError")),
        throttle=bool(raw.get("HasThrottle")),
        root_cause=cause,
        partial=bool(raw.get("IsPartial")),
        timings=None,
    )


def _function_error(cause: dict[str, Any]) -> bool:
    """A root cause on the function's own segment, its `Invocation` subsegment or a
    handler subsegment directly under either: the function itself failed."""
    for service in cause.get("Services") or []:
        if service.get("Type") != FUNCTION_ORIGIN:
            continue
        names = [entity.get("Name") for entity in service.get("EntityPath") or []]
        if len(names) <= 2 or (len(names) == 3 and names[1] in RUNTIME_SUBSEGMENTS):
            return True
    return False


def _root_cause(causes: list[tuple[bool, dict[str, Any]]]) -> dict[str, Any] | None:
    best: tuple[tuple[bool, int], list[dict[str, Any]], int] | None = None
    for fault, cause in causes:
        for service in cause.get("Services") or []:
            path = service.get("EntityPath") or []
            for depth, entity in enumerate(path):
                if not entity.get("Exceptions"):
                    continue
                rank = (fault, depth)
                if best is None or rank > best[0]:
                    best = (rank, path, depth)
    if best is None:
        return None
    _, path, depth = best
    entity = path[depth]
    exception = entity["Exceptions"][0]
    names = [str(e.get("Name")) for e in path[: depth + 1]]
    return {
        "segment": next((n for n in reversed(names) if n in LAB_SUBSEGMENTS), names[-1]),
        "exception": str(exception.get("Name")),
        "message": str(exception.get("Message", "")),
        "remote": bool(entity.get("Remote")),
    }
