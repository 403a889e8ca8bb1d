"""Commands: traces (listing, --stats) and trace (one waterfall)."""

from __future__ import annotations

import typer

from dogxray.cli import OUTPUT_OPTION, Output, command, connect, settings
from dogxray.errors import DogxrayError
from dogxray.render import traces as show
from dogxray.traces.window import parse_duration, parse_since, validate_trace_id

MAX_DURATION_S = 3600.0


@command("traces")
def traces(
    since: str = typer.Option("10m", "--since", help="window: 10m, 2h, 1d or an ISO 8601 time"),
    limit: int = typer.Option(20, "--limit", help="at most this many traces (newest first)"),
    errors: bool = typer.Option(False, "--errors", help="only traces with a fault or error"),
    stats: bool = typer.Option(False, "--stats", help="latency percentiles instead of a list"),
    min_duration: str = typer.Option(
        None, "--min-duration", help="only traces slower than this, e.g. 500ms or 2s"
    ),
    max_duration: str = typer.Option(
        None, "--max-duration", help="only traces faster than this, e.g. 3s"
    ),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Recent traces of this lab's function, with timings and root causes."""
    parse_since(since)  # bad input -> exit 2 before any AWS call
    duration = response_time(min_duration, max_duration)
    if limit < 1:
        raise DogxrayError.usage(f"--limit must be at least 1, not {limit}", hint="e.g. --limit 50")
    if stats and errors:
        raise DogxrayError.usage(
            "--stats and --errors do not combine", hint="--stats already counts faults and errors"
        )
    from dogxray.traces import service

    aws = connect()
    with show.fetch_progress() as progress:
        if stats:
            result = service.trace_stats(
                aws, settings(), since=since, progress=progress, duration=duration
            )
        else:
            result = service.list_traces(
                aws,
                settings(),
                since=since,
                limit=limit,
                errors_only=errors,
                progress=progress,
                duration=duration,
            )
    if output is Output.json:
        show.emit_json(result)
    elif stats:
        show.stats_table(result)
    else:
        show.table(result)


def response_time(
    min_duration: str | None, max_duration: str | None
) -> tuple[float | None, float | None]:
    """`--min-duration/--max-duration` -> (above, below) in seconds; exit 2 when empty."""
    bounds = tuple(
        None if text is None else parse_duration(text, option=option, maximum_s=MAX_DURATION_S)
        for text, option in ((min_duration, "--min-duration"), (max_duration, "--max-duration"))
    )
    above, below = bounds
    if above is not None and below is not None and above >= below:
        raise DogxrayError.usage(
            f"--min-duration {min_duration} is not below --max-duration {max_duration}",
            hint="the range keeps traces slower than the minimum and faster than the maximum",
        )
    return above, below


@command("trace")
def trace(
    trace_id: str = typer.Argument(..., help="an X-Ray trace id, e.g. from `dogxray traces`"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """One trace as a waterfall, with exceptions and the root cause."""
    validate_trace_id(trace_id)
    from dogxray.traces import service

    aws = connect()
    detail = service.trace_detail(aws, trace_id)
    if output is Output.json:
        show.emit_json(detail)
    else:
        show.waterfall(detail, region=aws.region, is_local=aws.is_local)
        from dogxray import logs
        from dogxray.render.logs import under_waterfall

        under_waterfall(logs.trace_logs(aws, settings(), detail))
