"""Input validation for the trace commands: `--since` windows and trace ids.

Pure functions (no boto3) so the commands can reject bad input before any AWS call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from dogxray.errors import DogxrayError

MAX_CHUNK = timedelta(hours=24)  # GetTraceSummaries refuses longer ranges
RETENTION = timedelta(days=30)  # X-Ray keeps traces for 30 days
TRACE_ID_RE = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
_RELATIVE_RE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_SINCE_HINT = "use a duration such as 10m, 2h or 1d, or an ISO 8601 time such as 2026-01-31T09:00Z"


_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)$")


def parse_duration(text: str, *, option: str, maximum_s: float) -> float:
    """A duration option (`500ms`, `30s`, `2m`) -> seconds, above 0 and at most `maximum_s`."""
    match = _DURATION_RE.match(text.strip().lower())
    if not match:
        raise DogxrayError.usage(f"invalid {option} {text!r}", hint="use e.g. 500ms, 30s or 2m")
    value = float(match[1]) * {"ms": 0.001, "s": 1.0, "m": 60.0}[match[2]]
    if not 0 < value <= maximum_s:
        raise DogxrayError.usage(
            f"{option} {text} is outside 0-{maximum_s:g} s", hint="use e.g. 500ms, 30s or 2m"
        )
    return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def is_relative(text: str) -> bool:
    return bool(_RELATIVE_RE.match(text.strip().lower()))


def parse_since(text: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """`--since` -> (start, end) in UTC. Relative (`10m`) or absolute ISO 8601 (naive = UTC)."""
    now = _ceil_second(now or utcnow())
    value = text.strip()
    match = _RELATIVE_RE.match(value.lower())
    if match:
        amount = int(match.group(1))
        start = now - timedelta(**{_UNITS[match.group(2)]: amount})
        if amount == 0:
            raise DogxrayError.usage(f"--since {text!r} is an empty window", hint=_SINCE_HINT)
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
    if now - start > RETENTION:
        raise DogxrayError.usage(
            f"--since {text!r} reaches further back than X-Ray keeps traces",
            hint="X-Ray keeps traces for 30 days; use at most 30d",
        )
    return start, now


def _ceil_second(moment: datetime) -> datetime:
    """botocore sends X-Ray times in whole seconds (truncated): without rounding the end
    up, a request made in the current second would fall outside the window."""
    if moment.microsecond == 0:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def chunks(start: datetime, end: datetime, size: timedelta = MAX_CHUNK) -> Iterator[tuple]:
    """Split [start, end) into ranges the API accepts, newest first (so a `--limit`
    listing can stop after the most recent ones)."""
    stop = end
    while stop > start:
        begin = max(start, stop - size)
        yield begin, stop
        stop = begin


def validate_trace_id(trace_id: str) -> str:
    value = trace_id.strip().lower()
    if not TRACE_ID_RE.match(value):
        raise DogxrayError.usage(
            f"invalid trace id {trace_id!r}",
            hint="an X-Ray trace id looks like 1-5f84c7a1-8b0e2c3f4d5a6b7c8d9e0f1a; "
            "list recent ones with `dogxray traces`",
        )
    return value


def iso(ts: float | datetime | None) -> str | None:
    """Epoch seconds or datetime -> ISO 8601 UTC with milliseconds and a `Z`."""
    if ts is None:
        return None
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
