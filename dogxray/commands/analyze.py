"""Command: analyze (triage: what made the slow and the failed requests bad)."""

from __future__ import annotations

from dataclasses import replace

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, SINCE_OPTION, Output, connect, registrar, settings
from dogxray.core.window import parse_duration, parse_since

app = typer.Typer()
command = registrar(app)


@command("analyze")
def analyze(
    ctx: typer.Context,
    since: str = SINCE_OPTION,
    threshold: str | None = typer.Option(
        None, "--threshold", help="slower than this is slow, e.g. 1s (default: 2 x median)"
    ),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Slow vs normal and faulty vs ok traces: the node and the exceptions that explain
    the difference (X-Ray's trace analytics "compare")."""
    parse_since(since)
    threshold_ms = (
        parse_duration(threshold, option="--threshold", maximum_s=900) * 1000 if threshold else None
    )
    from dogxray.render import analyze as show
    from dogxray.render import traces as progress_view
    from dogxray.triage import analyze as triage

    aws = connect(ctx)
    with progress_view.fetch_progress() as progress:
        doc = triage.analyze(
            aws,
            settings(ctx),
            since=since,
            threshold_ms=threshold_ms,
            progress=progress,
            warn=render.progress,
        )
    if output is Output.json:
        if doc.note:
            render.progress(doc.note)
        render.json_doc(replace(doc, note=None).to_json())
    else:
        show.analysis(doc, settings(ctx).function_name)
