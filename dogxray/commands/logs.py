"""Command: logs (the function's CloudWatch log group, one invocation, or follow)."""

from __future__ import annotations

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, SINCE_OPTION, Output, connect, registrar, settings
from dogxray.core.errors import DogxrayError
from dogxray.core.window import parse_since, validate_trace_id
from dogxray.render import logs as show

app = typer.Typer()
command = registrar(app)


@command("logs")
def logs(
    ctx: typer.Context,
    since: str = SINCE_OPTION,
    follow: bool = typer.Option(False, "--follow", "-f", help="keep printing new lines (Ctrl-C)"),
    errors: bool = typer.Option(False, "--errors", help="only invocations that failed"),
    request_id: str | None = typer.Option(None, "--request-id", help="one invocation's lines"),
    trace: str | None = typer.Option(None, "--trace", help="the invocation of this X-Ray trace"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """The function's logs: one line per invocation (REPORT), its JSON line, errors."""
    parse_since(since, limit=None)  # bad input -> exit 2 before any AWS call; logs are
    # CloudWatch's, kept as long as the log group's retention says
    if trace is not None:
        trace = validate_trace_id(trace, settings(ctx))
        if request_id is not None or follow:
            raise DogxrayError.usage(
                "--trace does not combine with --request-id or --follow",
                hint="--trace finds the request id itself; it shows one finished invocation",
            )
    if request_id is not None and not request_id.strip():
        raise DogxrayError.usage("--request-id is empty", hint="e.g. --request-id c0ffee00-...")
    from dogxray.monitor import logs as service

    aws = connect(ctx)
    if follow:
        try:
            service.follow(
                aws,
                settings(ctx),
                show.stream_json if output is Output.json else show.stream_text,
                since=since,
                errors_only=errors,
                request_id=request_id,
                note=render.note,
            )
        except KeyboardInterrupt:
            return  # Ctrl-C is how --follow ends: exit 0, nothing to report
        return
    result = service.read_logs(
        aws, settings(ctx), since=since, errors_only=errors, request_id=request_id, trace_id=trace
    )
    if output is Output.json:
        render.json_with_note(result.to_json())
    else:
        show.text(result)
