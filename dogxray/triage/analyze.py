"""What `dogxray analyze` calls: the window's traces -> profiles -> the comparison."""

from __future__ import annotations

from typing import Any

from dogxray.core.aws import Aws, BotoCoreError, ClientError, error_code, error_message
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.core.window import iso, parse_since
from dogxray.traces.collect import Collected
from dogxray.traces.fetch import Progress, Warn
from dogxray.triage.compare import compare, profile


def analyze(
    aws: Aws,
    settings: Settings,
    *,
    since: str = "10m",
    threshold_ms: float | None = None,
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> dict[str, Any]:
    """Slow vs normal and faulty vs ok over the window (see `dogxray.triage.compare`)."""
    window = parse_since(since)
    if threshold_ms is not None and threshold_ms <= 0:
        raise DogxrayError.usage(
            f"--threshold must be above 0 ms, not {threshold_ms:g}", hint="e.g. --threshold 1s"
        )
    collected = Collected(aws, settings, window, progress, warn=warn)
    doc = compare([profile(trace) for trace in collected], threshold_ms)
    doc["window"] = {"start": iso(window[0]), "end": iso(window[1])}
    if not doc["traces"]:
        from dogxray.traces.service import why_empty

        doc["note"] = why_empty(aws, settings, since, False)
    elif collected.skipped:
        doc["note"] = f"{collected.skipped} trace(s) could not be fetched yet; re-run"
    if doc["throttled"]["lambda"]:
        doc["throttled"]["concurrency"] = concurrency(aws, settings.function_name)
    return doc


def concurrency(aws: Aws, function: str) -> dict[str, Any]:
    """What caps the function's concurrent requests, Lambda's throttles' cause: its
    reserved concurrency (GetFunctionConcurrency) if set, else the account's limit
    (GetAccountSettings: ConcurrentExecutions, and what no function reserved; not read
    when the function reserves its own). `limit`
    names the cap in force ("reserved", "account", or None when it cannot be read);
    `unknown` says what could not be read and why."""
    lam = aws.client("lambda")
    doc: dict[str, Any] = {
        "reserved": None,
        "account_limit": None,
        "unreserved": None,
        "limit": None,
        "unknown": [],
    }
    try:
        reserved = lam.get_function_concurrency(FunctionName=function)
        doc["reserved"] = reserved.get("ReservedConcurrentExecutions")
    except (ClientError, BotoCoreError) as exc:
        doc["unknown"].append(_failed("GetFunctionConcurrency", exc))
    else:
        doc["limit"] = "reserved" if doc["reserved"] is not None else "account"
    if doc["limit"] == "reserved":
        return doc  # the function's own cap, whatever the account allows
    try:
        limits = lam.get_account_settings().get("AccountLimit", {})
        doc["account_limit"] = limits.get("ConcurrentExecutions")
        doc["unreserved"] = limits.get("UnreservedConcurrentExecutions")
    except (ClientError, BotoCoreError) as exc:
        doc["unknown"].append(_failed("GetAccountSettings", exc))
    return doc


def _failed(operation: str, exc: Exception) -> str:
    code = error_code(exc)
    return f"{operation}: {code} {error_message(exc)}" if code else f"{operation}: {exc}"
