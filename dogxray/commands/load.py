"""Command: load (traffic to the Function URL, for the triage lab)."""

from __future__ import annotations

import sys

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, Output, connect, registrar
from dogxray.core.errors import DogxrayError

app = typer.Typer()
command = registrar(app)


@command("load")
def load(
    ctx: typer.Context,
    requests_count: int = typer.Option(100, "--requests", "-n", help="how many, 1-10000"),
    concurrency: int = typer.Option(5, "--concurrency", "-c", help="in flight at once, 1-100"),
    duration: str | None = typer.Option(
        None, "--duration", help="stop after this long even if requests remain, e.g. 30s"
    ),
    rate: float | None = typer.Option(
        None,
        "--rate",
        help="at most this many requests a second; Lambda traces 1 request a second, so "
        "a slower load gets more of its requests traced",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask before large runs on AWS"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Send traffic to the Function URL; live progress, then status counts, throughput,
    latency percentiles (every request), cold starts, throttles and how many requests
    X-Ray traced (Lambda samples them). Ctrl-C stops with what was measured.
    Exits 1 when no request got an answer."""
    from dogxray.render import load as show
    from dogxray.triage import load as service

    service.check_bounds(requests_count, concurrency, rate)
    duration_s = service.parse_duration(duration) if duration else None
    aws = connect(ctx)
    if not aws.is_local and requests_count > service.ASK_ABOVE and not yes:
        if not sys.stdin.isatty():
            raise DogxrayError.usage(
                f"{requests_count} requests to AWS cost money and need confirmation, but "
                "there is no terminal",
                hint="re-run with --yes",
            )
        if not typer.confirm(
            f"send {requests_count} requests to the function on AWS?", default=False, err=True
        ):
            render.progress("cancelled: nothing sent")
            raise typer.Exit(1)
    with show.load_progress(requests_count) as advance:
        doc = service.load(
            aws,
            requests_count=requests_count,
            concurrency=concurrency,
            duration_s=duration_s,
            rate=rate,
            on_shot=advance,
        )
    if output is Output.json:
        render.json_doc(doc.to_json())
        show.notes(doc)
    else:
        show.load_summary(doc)
    if doc.interrupted:
        raise typer.Exit(130)
    failure = service.unanswered(aws, doc)
    if failure is not None:
        raise failure
