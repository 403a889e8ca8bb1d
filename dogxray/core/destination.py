"""Where the account's X-Ray spans go (GetTraceSegmentDestination): `XRay`, or
`CloudWatchLogs` on a Transaction Search account. `status` shows it; the trace readers
(`traces/transaction_search.py`) change how they read traces by it."""

from __future__ import annotations

from typing import Any

from dogxray.core.aws import Aws, ClientError


def destination(client: Any) -> str:
    """GetTraceSegmentDestination's `Destination` (`XRay` or `CloudWatchLogs`)."""
    return str(client.get_trace_segment_destination().get("Destination") or "XRay")


def account_destination(aws: Aws) -> str | None:
    """The account's destination; `XRay` on an endpoint that only has X-Ray (moto); None
    when it cannot be read (not allowed, an error)."""
    if aws.is_local and not aws.is_emulator:
        return "XRay"
    try:
        return destination(aws.client("xray"))
    except ClientError:
        return None
