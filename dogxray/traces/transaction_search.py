"""Reading the lab's traces on a Transaction Search account (X-Ray's trace segment
destination is `CloudWatchLogs`).

There, BatchGetTraces finds no trace ("You cannot find traces through this API if
Transaction Search is enabled") and X-Ray indexes only a share of the spans as trace
summaries (the `Default` indexing rule: 1 % unless raised). So the lab's trace ids come
from the indexed summaries and from the `aws/spans` log group (FilterLogEvents over the
window for events that name the function; an id is read in X-Ray's form or as the
32-digit OpenTelemetry trace id), and the documents from StartTraceRetrieval then
ListRetrievedTraces in the XRAY format (the segment documents BatchGetTraces would give).

The account's destination is never changed: it is account-wide, and switching it back
to X-Ray would stop every other service's spans from reaching Transaction Search.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from dogxray.core.aws import ClientError, error_code
from dogxray.core.destination import destination as destination
from dogxray.traces.model import trace_id_time
from dogxray.traces.rules import xray_trace_id

SPANS_GROUP = "aws/spans"
RETRIEVAL_IDS = 100  # StartTraceRetrieval's TraceIds at most (botocore's model)
IN_FLIGHT = 4  # retrievals started before the first is read
LONGEST_S = 15 * 60  # Lambda's longest run: a trace's spans end at most this late
POLL_S = (0.2, 0.5, 1.0, 2.0)  # waits between ListRetrievedTraces reads, then the last
POLL_LIMIT_S = 60.0  # AWS's retrievals time out after 60 minutes; the lab's are small
DONE = "COMPLETE"
GIVEN_UP = ("FAILED", "CANCELLED", "TIMEOUT")
_XRAY_ID = re.compile(r"\b1-[0-9a-f]{8}-[0-9a-f]{24}\b")
_OTEL_ID = re.compile(r'"trace_?[iI]d"\s*:\s*"([0-9a-f]{32})"')


def indexed_percent(client: Any) -> float | None:
    """The `Default` indexing rule's percentage; None when it cannot be read."""
    try:
        rules = client.get_indexing_rules().get("IndexingRules") or []
    except ClientError:
        return None
    for rule in rules:
        if rule.get("Name") == "Default":
            found = ((rule.get("Rule") or {}).get("Probabilistic") or {}).get(
                "DesiredSamplingPercentage"
            )
            return None if found is None else float(found)
    return None


def advice(percent: float | None) -> str:
    """What the reader should know about a Transaction Search account, once."""
    share = "a share" if percent is None else f"{percent:g} %"
    return (
        "note: this account uses CloudWatch Transaction Search: X-Ray indexes "
        f"{share} of spans as trace summaries, so dogxray finds the lab's traces in the "
        "aws/spans log group and fetches them with StartTraceRetrieval. To index more "
        "of them (opt-in; AWS indexes 1 % free and charges for more, see CloudWatch "
        "pricing): `aws xray "
        "update-indexing-rule --name Default --rule "
        '\'{"Probabilistic": {"DesiredSamplingPercentage": 100}}\'`'
    )


def span_trace_ids(logs: Any, function: str, start: datetime, end: datetime) -> list[str]:
    """The trace ids of the `aws/spans` events in the window that name the function,
    newest first (none when the log group is not there yet)."""
    params: dict[str, Any] = {
        "logGroupName": SPANS_GROUP,
        "startTime": int(start.timestamp() * 1000),
        "endTime": int(end.timestamp() * 1000),
        "filterPattern": f'"{function}"',
    }
    found: dict[str, None] = {}
    try:
        while True:
            page = logs.filter_log_events(**params)
            for event in page.get("events") or []:
                message = str(event.get("message", ""))
                for match in _OTEL_ID.finditer(message):
                    found[xray_trace_id(match[1])] = None
                for match in _XRAY_ID.finditer(message):
                    found[match[0]] = None
            token = page.get("nextToken")
            if not token or token == params.get("nextToken"):
                break
            params["nextToken"] = token
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return []
        raise
    return sorted(found, reverse=True)


def retrieve(
    client: Any,
    ids: list[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[tuple[str, list[str] | None]]:
    """(trace id, its segment documents or None) for each id, in order: RETRIEVAL_IDS
    ids a retrieval, IN_FLIGHT retrievals started together (they run on AWS's side at
    once), each read when it is COMPLETE."""
    batches = [ids[i : i + RETRIEVAL_IDS] for i in range(0, len(ids), RETRIEVAL_IDS)]
    for g in range(0, len(batches), IN_FLIGHT):
        group = batches[g : g + IN_FLIGHT]
        tokens = [_start(client, batch) for batch in group]
        for batch, token in zip(group, tokens, strict=True):
            found = _read(client, token, sleep, clock)
            for trace_id in batch:
                yield trace_id, found.get(trace_id)


def _start(client: Any, ids: list[str]) -> str:
    """A retrieval of `ids` over the time their spans can have (from the ids' times)."""
    times = [trace_id_time(t) for t in ids]
    start = max(min(times) - 60, 0.0)
    end = max(min(max(times) + LONGEST_S + 60, time.time()), start)  # never in the future
    return str(
        client.start_trace_retrieval(
            TraceIds=ids,
            StartTime=datetime.fromtimestamp(start, timezone.utc),
            EndTime=datetime.fromtimestamp(end, timezone.utc),
        )["RetrievalToken"]
    )


def _read(
    client: Any, token: str, sleep: Callable[[float], None], clock: Callable[[], float]
) -> dict[str, list[str]]:
    """The retrieval's documents by trace id, once COMPLETE (polled; what a failed or
    timed-out retrieval never returned is missing)."""
    deadline = clock() + POLL_LIMIT_S
    params: dict[str, Any] = {"RetrievalToken": token, "TraceFormat": "XRAY"}
    found: dict[str, list[str]] = {}
    polls = 0
    while True:
        page = client.list_retrieved_traces(**params)
        status = page.get("RetrievalStatus")
        if status in GIVEN_UP:
            return found
        if status != DONE:
            if clock() >= deadline:
                return found
            sleep(POLL_S[min(polls, len(POLL_S) - 1)])
            polls += 1
            continue
        for trace in page.get("Traces") or []:
            docs = [s["Document"] for s in trace.get("Spans") or []]
            if trace.get("Id"):
                found.setdefault(str(trace["Id"]), []).extend(docs)
        if not page.get("NextToken"):
            return found
        params["NextToken"] = page["NextToken"]
