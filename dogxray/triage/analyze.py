"""What `dogxray analyze` calls: the window's traces -> profiles -> the comparison."""

from __future__ import annotations

from dataclasses import replace

from dogxray.core.aws import Aws, BotoCoreError, ClientError, error_code, error_message
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.core.window import iso, parse_since
from dogxray.monitor.invocations import requests_in
from dogxray.traces.collect import Collected
from dogxray.traces.fetch import Progress, Warn
from dogxray.triage.compare import compare, profile
from dogxray.triage.results import Analysis, Concurrency


def analyze(
    aws: Aws,
    settings: Settings,
    *,
    since: str = "10m",
    threshold_ms: float | None = None,
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> Analysis:
    """Slow vs normal and faulty vs ok over the window (see `dogxray.triage.compare`)."""
    window = parse_since(since)
    if threshold_ms is not None and threshold_ms <= 0:
        raise DogxrayError.usage(
            f"--threshold must be above 0 ms, not {threshold_ms:g}", hint="e.g. --threshold 1s"
        )
    collected = Collected(aws, settings, window, progress, warn=warn)
    found = compare([profile(trace) for trace in collected], threshold_ms)
    note = None
    if not found.traces:
        from dogxray.traces.service import why_empty

        note = why_empty(aws, settings, since, False)
    elif collected.skipped:
        note = f"{collected.skipped} trace(s) could not be fetched yet; re-run"
    throttled = found.throttled
    if throttled.by_lambda:
        throttled = replace(throttled, concurrency=concurrency(aws, settings.function_name))
    requests = requests_in(aws, settings.log_group_name, *window)
    return replace(
        found,
        start=iso(window[0]),
        end=iso(window[1]),
        note=note,
        throttled=throttled,
        requests=requests,
    )


def concurrency(aws: Aws, function: str) -> Concurrency:
    """What caps the function's concurrent requests, Lambda's throttles' cause: its
    reserved concurrency (GetFunctionConcurrency) if set, else the account's limit
    (GetAccountSettings: ConcurrentExecutions, and what no function reserved; not read
    when the function reserves its own). `limit`
    names the cap in force ("reserved", "account", or None when it cannot be read);
    `unknown` says what could not be read and why."""
    lam = aws.client("lambda")
    unknown: list[str] = []
    reserved, limit = None, None
    try:
        answer = lam.get_function_concurrency(FunctionName=function)
        reserved = answer.get("ReservedConcurrentExecutions")
    except (ClientError, BotoCoreError) as exc:
        unknown.append(_failed("GetFunctionConcurrency", exc))
    else:
        limit = "reserved" if reserved is not None else "account"
    if limit == "reserved":
        return Concurrency(reserved=reserved, limit=limit)  # whatever the account allows
    account_limit, unreserved = None, None
    try:
        limits = lam.get_account_settings().get("AccountLimit", {})
        account_limit = limits.get("ConcurrentExecutions")
        unreserved = limits.get("UnreservedConcurrentExecutions")
    except (ClientError, BotoCoreError) as exc:
        unknown.append(_failed("GetAccountSettings", exc))
    return Concurrency(reserved, account_limit, unreserved, limit, unknown)


def _failed(operation: str, exc: Exception) -> str:
    code = error_code(exc)
    return f"{operation}: {code} {error_message(exc)}" if code else f"{operation}: {exc}"
