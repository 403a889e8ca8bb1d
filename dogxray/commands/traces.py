"""Commands: traces (listing, --stats) and trace (one waterfall)."""

from __future__ import annotations

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, SINCE_OPTION, Output, connect, registrar, settings
from dogxray.errors import DogxrayError
from dogxray.render import traces as show
from dogxray.traces.window import parse_since, validate_trace_id

app = typer.Typer()
command = registrar(app)


@command("traces")
def traces(
    ctx: typer.Context,
    since: str = SINCE_OPTION,
    limit: int = typer.Option(20, "--limit", help="at most this many traces (newest first)"),
    errors: bool = typer.Option(False, "--errors", help="only traces with a fault or error"),
    stats: bool = typer.Option(False, "--stats", help="latency percentiles instead of a list"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Recent traces of this lab's function, with timings and root causes."""
    parse_since(since)  # bad input -> exit 2 before any AWS call
    if limit < 1:
        raise DogxrayError.usage(f"--limit must be at least 1, not {limit}", hint="e.g. --limit 50")
    if stats and errors:
        raise DogxrayError.usage(
            "--stats and --errors do not combine", hint="--stats already counts faults and errors"
        )
    from dogxray.traces import service

    aws = connect(ctx)
    with show.fetch_progress() as progress:
        if stats:
            result: service.TraceStats | service.TraceList = service.trace_stats(
                aws, settings(ctx), since=since, progress=progress, warn=render.progress
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
            )
    doc = result.to_json()
    if output is Output.json:
        show.emit_json(doc)
    elif stats:
        show.stats_table(doc)
    else:
        show.table(doc)


@command("trace")
def trace(
    ctx: typer.Context,
    trace_id: str = typer.Argument(..., help="an X-Ray trace id, e.g. from `dogxray traces`"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """One trace as a waterfall, with exceptions and the root cause."""
    validate_trace_id(trace_id)
    from dogxray.traces import service

    aws = connect(ctx)
    detail = service.trace_detail(aws, trace_id, warn=render.progress)
    doc = detail.to_json()
    if output is Output.json:
        show.emit_json(doc)
    else:
        show.waterfall(doc, region=aws.region, is_local=aws.is_local)
        from dogxray import logs
        from dogxray.render.logs import under_waterfall

        under_waterfall(logs.trace_logs(aws, settings(ctx), doc))
