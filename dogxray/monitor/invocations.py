"""How many requests the function served in a window, and how many X-Ray traced.

Read from Lambda's REPORT lines, one per invocation, which reach CloudWatch Logs within
seconds (the metrics take a minute or two). A cold start's line has `Init Duration`; a
traced invocation's names its trace (`XRAY TraceId: ..  SegmentId: ..  Sampled: true`).
Lambda traces only a sample (1 request a second and 5 % of the rest), so the trace
commands say how many traces they saw of how many requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dogxray.core.aws import Aws, BotoCoreError, ClientError, error_code, error_message
from dogxray.core.errors import DogxrayError

SAMPLING = "Lambda traces 1 request a second and 5 % of the rest"


@dataclass(frozen=True)
class Served:
    """`traced` is None when no line names a trace: the lines then cannot tell (we
    found no AWS page that gives the `XRAY TraceId` part's exact form)."""

    requests: int
    cold_starts: int
    traced: int | None


def served(aws: Aws, log_group: str, start_ms: int, end_ms: int) -> Served | None:
    """The REPORT lines in the window, counted. None when the log group cannot be read
    (no permission, not there yet); other failures raise (`counted` makes them a note)."""
    pages = aws.client("logs").get_paginator("filter_log_events")
    requests = cold = traced = named = 0
    try:
        for page in pages.paginate(
            logGroupName=log_group,
            startTime=start_ms,
            endTime=end_ms,
            filterPattern='"REPORT RequestId"',
        ):
            for event in page.get("events", []):
                message = str(event.get("message", ""))
                if not message.startswith("REPORT RequestId"):
                    continue
                requests += 1
                cold += "Init Duration" in message
                named += "XRAY TraceId" in message
                traced += "XRAY TraceId" in message and "Sampled: true" in message
    except ClientError as exc:
        if error_code(exc) in ("ResourceNotFoundException", "AccessDeniedException"):
            return None
        raise
    return Served(requests, cold, traced if named else None)


def counted(
    aws: Aws, log_group: str, start_ms: int, end_ms: int
) -> tuple[Served | None, str | None]:
    """`served`, or None and why when the logs cannot be read (the endpoint went away,
    throttled, ...): what else was measured stands without it."""
    try:
        return served(aws, log_group, start_ms, end_ms), None
    except (ClientError, BotoCoreError, DogxrayError) as exc:
        if isinstance(exc, DogxrayError):
            why = exc.what
        elif error_code(exc):
            why = f"{error_code(exc)}: {error_message(exc)}"
        else:
            why = str(exc)
        return None, (why.strip().splitlines() or ["no reason given"])[0]


def requests_in(aws: Aws, log_group: str, start: datetime, end: datetime) -> int | None:
    """How many requests the function served from `start` to `end`, for "N traces of M
    requests"; None when its logs cannot be read (the traces stand without it)."""
    start_ms, end_ms = (int(moment.timestamp() * 1000) for moment in (start, end))
    found, _why = counted(aws, log_group, start_ms, end_ms)
    return None if found is None else found.requests


def of_requests(requests: int | None) -> str:
    """` of M requests (sampled)` after a trace count; empty when M is unknown."""
    if requests is None:
        return ""
    return f" (of {requests} request{'' if requests == 1 else 's'}: {SAMPLING})"
