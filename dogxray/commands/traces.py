"""Commands: traces (listing, --stats) and trace (one waterfall)."""

from __future__ import annotations

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, SINCE_OPTION, Output, connect, registrar, settings
from dogxray.core.errors import DogxrayError
from dogxray.core.window import parse_duration, parse_since, validate_trace_id
from dogxray.render import traces as show

MAX_DURATION_S = 3600.0

app = typer.Typer()
command = registrar(app)


@command("traces")
def traces(
    ctx: typer.Context,
    since: str = SINCE_OPTION,
    limit: int = typer.Option(20, "--limit", help="at most this many traces (newest first)"),
    errors: bool = typer.Option(False, "--errors", help="only traces with a fault or error"),
    stats: bool = typer.Option(False, "--stats", help="latency percentiles instead of a list"),
    min_duration: str = typer.Option(
        None, "--min-duration", help="only traces slower than this, e.g. 500ms or 2s"
    ),
    max_duration: str = typer.Option(
        None, "--max-duration", help="only traces faster than this, e.g. 3s"
    ),
    subsegments: bool = typer.Option(
        None,
        "--subsegments/--no-subsegments",
        help="also each trace's call_dog_api and save_dog_to_s3 times (reads the traces' "
        "documents; the default with --output json, whose shape has them)",
        show_default=False,
    ),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Recent traces of this lab's function, with durations and root causes."""
    parse_since(since)  # bad input -> exit 2 before any AWS call
    duration = response_time(min_duration, max_duration)
    if limit < 1:
        raise DogxrayError.usage(f"--limit must be at least 1, not {limit}", hint="e.g. --limit 50")
    if stats and errors:
        raise DogxrayError.usage(
            "--stats and --errors do not combine", hint="--stats already counts faults and errors"
        )
    if stats and subsegments is not None:
        raise DogxrayError.usage(
            "--stats and --subsegments/--no-subsegments do not combine",
            hint="--stats already gives each subsegment's percentiles",
        )
    from dogxray.traces import service
    from dogxray.traces.analysis import TraceStats

    aws = connect(ctx)
    with show.fetch_progress() as progress:
        if stats:
            result: TraceStats | service.TraceList = service.trace_stats(
                aws,
                settings(ctx),
                since=since,
                progress=progress,
                warn=render.progress,
                duration=duration,
            )
        else:
            result = service.list_traces(
                aws,
                settings(ctx),
                since=since,
                limit=limit,
                errors_only=errors,
                progress=progress,
                warn=render.progress,
                duration=duration,
                subsegments=output is Output.json if subsegments is None else subsegments,
            )
    if output is Output.json:
        render.json_with_note(result.to_json())
    elif isinstance(result, TraceStats):
        show.stats_table(result)
    else:
        show.table(result)


def response_time(
    min_duration: str | None, max_duration: str | None
) -> tuple[float | None, float | None]:
    """`--min-duration/--max-duration` -> (above, below) in seconds; exit 2 when empty."""
    above, below = (
        None if text is None else parse_duration(text, option=option, maximum_s=MAX_DURATION_S)
        for text, option in ((min_duration, "--min-duration"), (max_duration, "--max-duration"))
    )
    if above is not None and below is not None and above >= below:
        raise DogxrayError.usage(
            f"--min-duration {min_duration} is not below --max-duration {max_duration}",
            hint="the range keeps traces slower than the minimum and faster than the maximum",
        )
    return above, below


@command("trace")
def trace(
    ctx: typer.Context,
    trace_id: str = typer.Argument(..., help="an X-Ray trace id, e.g. from `dogxray traces`"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """One trace as a waterfall, with exceptions and the root cause."""
    validate_trace_id(trace_id, settings(ctx))
    from dogxray.traces import service

    aws = connect(ctx)
    detail = service.trace_detail(aws, trace_id, warn=render.progress)
    if output is Output.json:
        render.json_with_note(detail.to_json())
    else:
        show.waterfall(detail, region=aws.region, is_local=aws.is_local)
        from dogxray.monitor import logs
        from dogxray.render.logs import under_waterfall

        under_waterfall(logs.trace_logs(aws, settings(ctx), detail))
