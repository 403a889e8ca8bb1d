"""Command: report (one self-contained HTML page of the lab's traces: map, histogram,
trace table, waterfalls with exceptions and log lines)."""

from __future__ import annotations

from pathlib import Path

import typer

from dogxray.cli import connect, registrar, settings
from dogxray.traces.window import parse_since

app = typer.Typer()
command = registrar(app)


@command("report")
def report(
    ctx: typer.Context,
    since: str = typer.Option("1h", "--since", help="window: 10m, 2h, 1d or an ISO 8601 time"),
    output: Path = typer.Option(
        Path("report.html"), "--output", "-o", help="file, or existing directory for report.html"
    ),
    open_page: bool = typer.Option(False, "--open", help="open the page in the web browser"),
) -> None:
    """One HTML page (no network requests) with the map, histogram, traces and waterfalls."""
    parse_since(since)  # bad input -> exit 2 before any AWS call
    from dogxray import report as service
    from dogxray.render import report as show
    from dogxray.render.traces import fetch_progress

    target = service.output_path(output)
    aws = connect(ctx)
    with fetch_progress() as progress:
        data = service.gather(aws, settings(ctx), since=since, progress=progress)
    size = service.write(target, show.html(data))
    show.written(target, data, size)
    if open_page:
        import webbrowser

        webbrowser.open(target.resolve().as_uri())
