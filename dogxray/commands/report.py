"""Command: report (one self-contained HTML page of the lab's traces: map, histogram,
trace table, waterfalls with exceptions and log lines)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from dogxray import render
from dogxray.cli import connect, registrar, settings
from dogxray.core.errors import DogxrayError
from dogxray.core.window import parse_since

app = typer.Typer()
command = registrar(app)

FORMAT = "html"  # the one format `report` writes
_PAGE_SUFFIXES = (".html", ".htm")


@command("report")
def report(
    ctx: typer.Context,
    since: str = typer.Option("1h", "--since", help="window: 10m, 2h, 1d or an ISO 8601 time"),
    file: Path | None = typer.Option(
        None,
        "--file",
        "-f",
        help="where to write the page: a file, or an existing directory for report.html "
        "[default: report.html]",
        show_default=False,
    ),
    output: str = typer.Option(
        FORMAT, "--output", "-o", help="the format: html (the only one; the path is --file)"
    ),
    open_page: bool = typer.Option(False, "--open", help="open the page in the web browser"),
) -> None:
    """One HTML page (no network requests) with the map, histogram, traces and waterfalls."""
    from dogxray.core import files
    from dogxray.render import report as show

    parse_since(since)  # bad input -> exit 2 before any AWS call
    path = page_path(file, output, note=render.note)
    from dogxray.monitor import report as service
    from dogxray.render.traces import fetch_progress

    target = service.output_path(path)
    aws = connect(ctx)
    with fetch_progress() as progress:
        data = service.gather(aws, settings(ctx), since=since, progress=progress)
    size = service.write(target, show.html(data))
    show.written(target, data, size, to_stderr=files.is_stdout(target))
    if open_page:
        if not files.is_regular_file(target):
            render.note(f"nothing to open in a browser: {target} is not a regular file")
            return
        from dogxray.render.browser import open_or_say

        resolved = target.resolve()
        open_or_say(resolved.as_uri(), shown=str(resolved))


def page_path(file: Path | None, output: str, *, note: Callable[[str], None]) -> Path:
    """The page's path from `--file`; `--output` is the format, as in every command.
    Before `--file` existed `--output` took the path: a value that is clearly one (ends
    in .html/.htm, or is an existing directory) is still taken, with a note."""
    if output.strip().lower() == FORMAT:
        return file if file is not None else Path("report.html")
    looks_like_path = output.lower().endswith(_PAGE_SUFFIXES) or Path(output).is_dir()
    if looks_like_path and file is None:
        note(f"`--output {output}` as a path is deprecated; use `--file {output}`")
        return Path(output)
    if looks_like_path:
        raise DogxrayError.usage(
            f"--output {output} and --file {file}: two paths for one page",
            hint="give the path with --file alone (--output is the format: html)",
        )
    raise DogxrayError.usage(
        f"--output {output}: report writes HTML; --output is the format (html only)",
        hint="use --file PATH for where to write the page (default report.html)",
    )
