"""`dogxray metrics`: the Lambda console's Monitor tab, from CloudWatch's `AWS/Lambda`.

One GetMetricData call (paginated) for the lab's function: Invocations, Errors and
Throttles (Sum), Duration (Average) and ConcurrentExecutions (Maximum), per period over
the window. A second call asks Duration p50/p99 per period (the sparkline's series) and
over the whole window as one period: percentiles of periods cannot be combined, so the
window's p50/p99 are CloudWatch's own over every datapoint of the window. An endpoint
that cannot compute percentiles (plain moto) answers no values for them, or fails them
(moto's server answers 500): that call's failure leaves them null; they are never
invented.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from dogxray.core.aws import Aws, ClientError
from dogxray.core.errors import DogxrayError
from dogxray.core.window import CLOUDWATCH_METRICS, iso, parse_duration, parse_since

NAMESPACE = "AWS/Lambda"
MIN_PERIOD_S = 60  # Lambda's metrics are standard resolution: periods are whole minutes
MAX_PERIOD_S = 86_400
MAX_POINTS = 1440  # one day of minutes: a readable sparkline, a bounded answer


@dataclass(frozen=True)
class Series:
    """One metric over the window: its points (None: no datapoint) and their total or
    maximum."""

    points: list[float | None]
    total: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Durations:
    """Duration (ms): the window's average and percentiles, the periods' worst
    percentiles, and each period's average, p50 and p99."""

    average: float | None
    p50: float | None
    p99: float | None
    p50_max: float | None
    p99_max: float | None
    average_points: list[float | None]
    p50_points: list[float | None]
    p99_points: list[float | None]

    @property
    def has_window_percentiles(self) -> bool:
        return self.p50 is not None or self.p99 is not None


@dataclass(frozen=True)
class Metrics:
    """The Monitor tab's figures for one function (`to_json()`: `metrics --output json`)."""

    function: str
    start: str
    end: str
    period_s: int
    times: list[str]
    invocations: Series
    errors: Series
    throttles: Series
    duration_ms: Durations
    concurrent_executions: Series

    def to_json(self) -> dict[str, Any]:
        def counted(series: Series) -> dict[str, Any]:
            return {"total": series.total, "points": series.points}

        return {
            "function": self.function,
            "window": {"start": self.start, "end": self.end},
            "period_s": self.period_s,
            "times": self.times,
            "invocations": counted(self.invocations),
            "errors": counted(self.errors),
            "throttles": counted(self.throttles),
            "duration_ms": asdict(self.duration_ms),
            "concurrent_executions": {
                "max": self.concurrent_executions.max,
                "points": self.concurrent_executions.points,
            },
        }


@dataclass(frozen=True)
class Query:
    id: str
    metric: str
    stat: str


QUERIES = (
    Query("invocations", "Invocations", "Sum"),
    Query("errors", "Errors", "Sum"),
    Query("throttles", "Throttles", "Sum"),
    Query("duration_avg", "Duration", "Average"),
    Query("duration_p50", "Duration", "p50"),
    Query("duration_p99", "Duration", "p99"),
    Query("concurrency", "ConcurrentExecutions", "Maximum"),
)
# the window's percentiles: the same statistics over one period as long as the window
WINDOW_QUERIES = (
    Query("window_p50", "Duration", "p50"),
    Query("window_p99", "Duration", "p99"),
)


def parse_period(text: str) -> int:
    """`--period` -> whole seconds, a multiple of 60 (CloudWatch's standard resolution)."""
    seconds = parse_duration(
        text,
        option="--period",
        minimum_s=MIN_PERIOD_S,
        maximum_s=MAX_PERIOD_S,
        examples="1m, 5m or 1h",
    )
    if seconds < MIN_PERIOD_S or seconds % MIN_PERIOD_S:
        raise DogxrayError.usage(
            f"--period {text} is not a whole number of minutes",
            hint="Lambda publishes one-minute metrics: use 1m, 5m, 1h ...",
        )
    return int(seconds)


# The periods `shortest_period` suggests (minutes): each one `parse_period` accepts.
_NICE_PERIODS_MIN = (1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)


def shortest_period(window_s: float) -> str:
    """The shortest usual `--period` that keeps a window within MAX_POINTS points."""
    for minutes in _NICE_PERIODS_MIN:
        if window_s / (minutes * 60) <= MAX_POINTS:
            return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
    return f"{MAX_PERIOD_S // 3600}h"


def _percentile(query: Query) -> bool:
    return query.stat.startswith("p")


def window_period(start: datetime, end: datetime) -> int:
    """One period covering the whole window (`end` is now): CloudWatch rounds StartTime
    down to its resolution (a minute within 15 days, 5 minutes within 63, an hour
    beyond) and a period must be a multiple of it."""
    age = end - start
    unit = 60 if age <= timedelta(days=15) else 300 if age <= timedelta(days=63) else 3600
    floor = datetime.fromtimestamp(start.timestamp() // unit * unit, start.tzinfo)
    span = (end - floor).total_seconds()
    return max(unit, -int(-span // unit) * unit)


def _queries(function: str, period: int, queries: tuple[Query, ...]) -> list[dict[str, Any]]:
    return [
        {
            "Id": q.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": q.metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": function}],
                },
                "Period": period,
                "Stat": q.stat,
            },
            "ReturnData": True,
        }
        for q in queries
    ]


def _series(results: list[dict[str, Any]]) -> dict[str, dict[datetime, float]]:
    series: dict[str, dict[datetime, float]] = {q.id: {} for q in QUERIES + WINDOW_QUERIES}
    for result in results:
        points = series.setdefault(result["Id"], {})
        pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
        for when, value in pairs:
            try:
                points[when] = float(value)
            except (TypeError, ValueError):
                continue  # no value (plain moto answers percentiles it cannot compute)
    return series


def metrics(aws: Aws, function: str, *, since: str = "1h", period: str = "1m") -> Metrics:
    """The function's metrics over the window, one point per period."""
    start, end = parse_since(since, limit=CLOUDWATCH_METRICS)
    seconds = parse_period(period)
    if (end - start).total_seconds() / seconds > MAX_POINTS:
        raise DogxrayError.usage(
            f"--since {since} at --period {period} is over {MAX_POINTS} points",
            hint=f"use --period {shortest_period((end - start).total_seconds())} or longer "
            "for this window",
        )
    pages = aws.client("cloudwatch").get_paginator("get_metric_data")

    def fetch(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for page in pages.paginate(
            MetricDataQueries=queries,
            StartTime=start,
            EndTime=end,
            ScanBy="TimestampAscending",
        ):
            results += page.get("MetricDataResults", [])
        return results

    results = fetch(_queries(function, seconds, tuple(q for q in QUERIES if not _percentile(q))))
    try:
        results += fetch(
            _queries(function, seconds, tuple(q for q in QUERIES if _percentile(q)))
            + _queries(function, window_period(start, end), WINDOW_QUERIES)
        )
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) < 500:
            raise
    series = _series(results)
    times = sorted({t for q in QUERIES for t in series[q.id]})

    def column(query_id: str) -> list[float | None]:
        return [series[query_id].get(t) for t in times]

    def total(query_id: str) -> float:
        return round(sum(series[query_id].values()), 3)

    def worst(query_id: str) -> float | None:
        values = series[query_id].values()
        return round(max(values), 3) if values else None

    def whole(query_id: str) -> float | None:
        """The window's statistic: one value, or none (never a period's value)."""
        values = list(series[query_id].values())
        return round(values[0], 3) if len(values) == 1 else None

    invocations = column("invocations")
    # the window's average duration: each period's average weighted by its invocations
    pairs = [
        (avg, count or 0.0)
        for avg, count in zip(column("duration_avg"), invocations, strict=True)
        if avg is not None
    ]
    weight = sum(count for _, count in pairs)
    weighted = round(sum(a * c for a, c in pairs) / weight, 3) if weight else None
    return Metrics(
        function=function,
        start=iso(start),
        end=iso(end),
        period_s=seconds,
        times=[iso(t) for t in times],
        invocations=Series(invocations, total=total("invocations")),
        errors=Series(column("errors"), total=total("errors")),
        throttles=Series(column("throttles"), total=total("throttles")),
        duration_ms=Durations(
            average=weighted,
            p50=whole("window_p50"),
            p99=whole("window_p99"),
            p50_max=worst("duration_p50"),
            p99_max=worst("duration_p99"),
            average_points=column("duration_avg"),
            p50_points=column("duration_p50"),
            p99_points=column("duration_p99"),
        ),
        concurrent_executions=Series(column("concurrency"), max=worst("concurrency")),
    )
