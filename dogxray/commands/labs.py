"""Command: `labs`, every dogxray lab of the account found by its tags."""

from __future__ import annotations

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, Output, connect, registrar
from dogxray.render import lab as show

app = typer.Typer()
command = registrar(app)


@command("labs")
def labs(
    ctx: typer.Context,
    all_regions: bool = typer.Option(
        False, "--all-regions", help="every region, not only the current one"
    ),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Every dogxray lab in the region (tag dogxray:lab): resources, age, and whether it
    is complete, broken or half-made."""
    from dogxray.lab.labs import find_labs

    found = find_labs(connect(ctx), all_regions=all_regions)
    if output is Output.json:
        render.json_doc(found.to_json())
    else:
        show.labs(found)
