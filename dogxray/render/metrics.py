"""Output of `dogxray metrics`: one sparkline per metric, as the Monitor tab's graphs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dogxray.monitor.metrics import Durations, Metrics
from dogxray.render import command, err, out, pack, progress, width

if TYPE_CHECKING:
    from dogxray.lab.alarm import AlarmLine

BARS = "▁▂▃▄▅▆▇█"
LABEL = 22
TOTALS = 34  # room kept for the figures after the sparkline


def sparkline(points: list[float | None], width: int) -> str:
    """Values scaled to eight bar heights; a gap is a space; at most `width` columns
    (neighbouring points are merged, keeping their maximum)."""
    if width < 1 or not points:
        return ""
    step = max(1, -(-len(points) // width))
    merged: list[float | None] = []
    for i in range(0, len(points), step):
        chunk = [p for p in points[i : i + step] if p is not None]
        merged.append(max(chunk) if chunk else None)
    top = max((p for p in merged if p is not None), default=0.0)
    if top <= 0:
        return "".join(" " if p is None else BARS[0] for p in merged)
    return "".join(
        " " if p is None else BARS[min(len(BARS) - 1, int(p / top * (len(BARS) - 1) + 0.5))]
        for p in merged
    )


def threshold_marks(points: list[float | None], threshold: float, width: int) -> str:
    """Under the Errors sparkline, column for column: `!` where a period reached the
    alarm's threshold, `_` where it stayed below, a space where there was no data."""
    if width < 1 or not points:
        return ""
    step = max(1, -(-len(points) // width))
    marks = []
    for i in range(0, len(points), step):
        chunk = [p for p in points[i : i + step] if p is not None]
        marks.append(" " if not chunk else "!" if max(chunk) >= threshold else "_")
    return "".join(marks)


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:.1f}" if value % 1 else f"{value:.0f}"
    return f"{text}{unit}"


def _duration(d: Durations) -> str:
    """The window's p50/p99; when the endpoint gave only per-period ones, their maximum,
    labelled as such (a period's percentile is not the window's)."""
    figures = f"avg {_num(d.average)}"
    if d.has_window_percentiles:
        return f"{figures} p50 {_num(d.p50)} p99 {_num(d.p99)}"
    if d.p50_max is not None or d.p99_max is not None:
        return f"{figures} max p50 {_num(d.p50_max)} p99 {_num(d.p99_max)}"
    return f"{figures} p50 - p99 -"


def monitor(doc: Metrics, alarm: AlarmLine | None = None) -> None:
    """The sparklines; `alarm` (the lab's) adds its threshold under Errors."""
    d = doc.duration_ms
    rows = [
        ("Invocations", doc.invocations.points, f"total {_num(doc.invocations.total)}"),
        ("Errors", doc.errors.points, f"total {_num(doc.errors.total)}"),
        ("Throttles", doc.throttles.points, f"total {_num(doc.throttles.total)}"),
        ("Duration (ms)", d.average_points, _duration(d)),
        (
            "ConcurrentExecutions",
            doc.concurrent_executions.points,
            f"max {_num(doc.concurrent_executions.max)}",
        ),
    ]
    if alarm is not None:  # the alarm's threshold, under the Errors it watches
        a = alarm
        figures = f"{a.state or '?'} ({a.name})"
        rows.insert(2, (f"  alarm >= {_num(a.threshold)}", doc.errors.points, figures))
    limit = width() or out.width
    longest = max(len(figures) for _, _, figures in rows)
    # the sparklines get what the labels and the longest figures leave (at least 10
    # columns); figures that do not fit beside them go on the next line
    spark = max(10, min(limit - LABEL - TOTALS, limit - LABEL - 2 - longest))
    header = [
        f"{doc.function}: {doc.start}",
        f"to {doc.end},",
        f"per {doc.period_s} s",
    ]
    for line in pack(header, limit, sep=" "):
        out.print(line, markup=False)
    for label, points, figures in rows:
        if alarm is not None and label.startswith("  alarm >= "):
            line = threshold_marks(points, alarm.threshold, spark)
        else:
            line = sparkline(points, spark)
        text = f"{label:<{LABEL}}{line:<{min(spark, len(line))}}  {figures}"
        if len(text) > limit:
            text = f"{label:<{LABEL}}{line}"
            out.print(text.rstrip(), markup=False)
            text = " " * LABEL + figures
        out.print(text, markup=False)
    if not doc.times:
        progress(
            "no datapoints in the window: Lambda publishes metrics a minute or two after "
            f"the requests; send some with `{command('load')}`",
            hang="  ",
        )
    elif d.p50 is None and d.p50_max is None and d.average is not None:
        err.print("this endpoint computes no percentiles (p50/p99)", markup=False)
