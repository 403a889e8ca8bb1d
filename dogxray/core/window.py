"""Input validation for the trace commands: `--since` windows and trace ids.

Pure functions (no boto3) so the commands can reject bad input before any AWS call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import overload

from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError

MAX_CHUNK = timedelta(hours=24)  # GetTraceSummaries refuses longer ranges
# A window ending this close to now may miss what the services have not indexed yet.
RECENT = timedelta(minutes=2)


@dataclass(frozen=True)
class Retention:
    """How far back a service keeps what a command reads (`parse_since`'s limit)."""

    what: str  # "X-Ray keeps traces"
    days: int
    note: str = ""  # e.g. " (15 months)"

    @property
    def age(self) -> timedelta:
        return timedelta(days=self.days)


XRAY = Retention("X-Ray keeps traces", 30)  # the trace commands
CLOUDWATCH_METRICS = Retention("CloudWatch keeps metrics", 455, " (15 months)")  # `metrics`
TRACE_ID_RE = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
_RELATIVE_RE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_SINCE_HINT = "use a duration such as 10m, 2h or 1d, or an ISO 8601 time such as 2026-01-31T09:00Z"


_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(
    text: str,
    *,
    option: str,
    maximum_s: float,
    minimum_s: float = 0.0,
    examples: str = "500ms, 30s or 2m",
) -> float:
    """A duration option (`500ms`, `30s`, `2m`, `1h`) -> seconds: above 0 (at least
    `minimum_s` when given) and at most `maximum_s`. `examples` must all be accepted."""
    hint = f"use e.g. {examples}"
    match = _DURATION_RE.match(text.strip().lower())
    if not match:
        raise DogxrayError.usage(f"invalid {option} {text!r}", hint=hint)
    value = float(match[1]) * _DURATION_UNITS[match[2]]
    span = (
        f"from {minimum_s:g} s to {maximum_s:g} s"
        if minimum_s
        else f"more than 0 s and at most {maximum_s:g} s"
    )
    if value <= 0 or value < minimum_s:
        raise DogxrayError.usage(f"{option} {text} is too short: it must be {span}", hint=hint)
    if value > maximum_s:
        raise DogxrayError.usage(f"{option} {text} is too long: it must be {span}", hint=hint)
    return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def is_relative(text: str) -> bool:
    return bool(_RELATIVE_RE.match(text.strip().lower()))


def is_recent(end: datetime | float | None, now: datetime | None = None) -> bool:
    """Whether a window ends close enough to now that "wait for indexing" can apply
    (`end`: a datetime or epoch seconds; None counts as now)."""
    if end is None:
        return True
    if not isinstance(end, datetime):
        end = datetime.fromtimestamp(end, timezone.utc)
    return (now or utcnow()) - end <= RECENT


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_since(
    text: str, now: datetime | None = None, *, limit: Retention | None = XRAY
) -> tuple[datetime, datetime]:
    """`--since` -> (start, end) in UTC. Relative (`10m`) or absolute ISO 8601 (naive = UTC).

    `limit`: how far back the caller's service keeps data (X-Ray's 30 days by default,
    `CLOUDWATCH_METRICS` for metrics); None for no limit (logs: a log group keeps what its
    retention says, possibly forever), the start is then at most back to 1970."""
    now = _ceil_second(now or utcnow())
    value = text.strip()
    match = _RELATIVE_RE.match(value.lower())
    if match:
        amount = int(match.group(1))
        if amount == 0:
            raise DogxrayError.usage(f"--since {text!r} is an empty window", hint=_SINCE_HINT)
        try:
            start = now - timedelta(**{_UNITS[match.group(2)]: amount})
        except OverflowError:
            start = _EPOCH - timedelta(days=1)
    else:
        try:
            start = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise DogxrayError.usage(f"invalid --since {text!r}", hint=_SINCE_HINT) from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        start = start.astimezone(timezone.utc)
        if start >= now:
            raise DogxrayError.usage(f"--since {text!r} is in the future", hint=_SINCE_HINT)
    if limit is not None and now - start > limit.age:
        raise DogxrayError.usage(
            f"--since {text!r} reaches further back than {limit.what}",
            hint=f"{limit.what} for {limit.days} days{limit.note}; use at most {limit.days}d",
        )
    return max(start, _EPOCH), now


def _ceil_second(moment: datetime) -> datetime:
    """botocore sends X-Ray times in whole seconds (truncated): without rounding the end
    up, a request made in the current second would fall outside the window."""
    if moment.microsecond == 0:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def chunks(
    start: datetime, end: datetime, size: timedelta = MAX_CHUNK
) -> Iterator[tuple[datetime, datetime]]:
    """Split [start, end) into ranges the API accepts, newest first (so a `--limit`
    listing can stop after the most recent ones)."""
    stop = end
    while stop > start:
        begin = max(start, stop - size)
        yield begin, stop
        stop = begin


def validate_trace_id(trace_id: str, settings: Settings | None = None) -> str:
    """A trace id, normalized; `settings` for the hint's command line."""
    value = trace_id.strip().lower()
    if not TRACE_ID_RE.match(value):
        listing = (settings or Settings()).command("traces")
        raise DogxrayError.usage(
            f"invalid trace id {trace_id!r}",
            hint="an X-Ray trace id looks like 1-5f84c7a1-8b0e2c3f4d5a6b7c8d9e0f1a; "
            f"list recent ones with `{listing}`",
        )
    return value


@overload
def iso(ts: float | datetime) -> str: ...
@overload
def iso(ts: None) -> None: ...
@overload
def iso(ts: float | datetime | None) -> str | None: ...
def iso(ts: float | datetime | None) -> str | None:
    """Epoch seconds or datetime -> ISO 8601 UTC with milliseconds and a `Z`."""
    if ts is None:
        return None
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
