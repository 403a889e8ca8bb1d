"""The `dogxray` typer app: the global options from `dogxray.cli`, then every command
module's commands, registered here at the package root (as hatch does) so that neither
`cli` nor a command module imports the other's importer."""

from __future__ import annotations

import typer

from dogxray.cli import main_options
from dogxray.commands import (
    analyze,
    inject,
    lab,
    labs,
    load,
    local,
    logs,
    map,
    metrics,
    package,
    report,
    traces,
)

app = typer.Typer(
    name="dogxray",
    help="The AWS 'Lambda X-Ray' lab as commands: build it, prove it, break it, "
    "see the failure in X-Ray traces, remove it. Add --local to `demo` to run it offline.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.callback()(main_options)
# The order is `--help`'s order.
COMMANDS = (analyze, inject, lab, labs, load, local, logs, map, metrics, package, report, traces)
for module in COMMANDS:
    app.add_typer(module.app)


def main() -> None:
    app()
