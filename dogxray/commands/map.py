"""Command: map (the service graph) and map --node (one node's side panel)."""

from __future__ import annotations

from enum import Enum

import typer

from dogxray import render
from dogxray.cli import SINCE_OPTION, connect, registrar, settings
from dogxray.core.errors import DogxrayError
from dogxray.core.window import parse_since
from dogxray.render import graph as show

app = typer.Typer()
command = registrar(app)


class MapOutput(str, Enum):
    text = "text"
    json = "json"
    mermaid = "mermaid"


@command("map")
def service_map(
    ctx: typer.Context,
    since: str = SINCE_OPTION,
    node: str | None = typer.Option(
        None, "--node", help="one node's panel: histogram, status counts, exceptions"
    ),
    output: MapOutput = typer.Option(
        MapOutput.text, "--output", "-o", help="text, json (one document) or mermaid"
    ),
) -> None:
    """The service map of the lab's traces: client, Lambda, function, S3, Dog API."""
    parse_since(since)  # bad input -> exit 2 before any AWS call
    if node is not None and not node.strip():
        raise DogxrayError.usage("--node is empty", hint="e.g. --node s3 or --node function")
    if node is not None and output is MapOutput.mermaid:
        raise DogxrayError.usage(
            "--output mermaid draws the whole map", hint="drop --node, or use text or json"
        )
    from dogxray.render.traces import fetch_progress
    from dogxray.traces import mapping

    aws = connect(ctx)
    with fetch_progress() as progress:
        if node is not None:
            detail = mapping.node_panel(
                aws, settings(ctx), node, since=since, progress=progress, warn=render.progress
            )
        else:
            result = mapping.service_map(
                aws, settings(ctx), since=since, progress=progress, warn=render.progress
            )
    if node is not None:
        if output is MapOutput.json:
            render.json_doc(detail.to_json())
        else:
            show.panel(detail)
    elif output is MapOutput.json:
        render.json_with_note(result.to_json())
    elif output is MapOutput.mermaid:
        show.emit_mermaid(result)
    else:
        show.text(result)
