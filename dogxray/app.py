"""The `dogxray` typer app: the global options from `dogxray.cli`, then every command
module's commands, registered here at the package root (as hatch does) so that neither
`cli` nor a command module imports the other's importer."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from dogxray import render
from dogxray.cli import hoist_global_options, main_options, usage_error
from dogxray.errors import DogxrayError
from dogxray.commands import (
    analyze,
    inject,
    lab,
    load,
    local,
    logs,
    map,
    metrics,
    package,
    report,
    traces,
)



class DogxrayGroup(TyperGroup):
    """The root command: global options accepted after the command name too, usage
    errors printed as dogxray's `error:`/`hint:` lines (exit 2), and `--help` listing the
    commands in the lab's order (the order they are registered below)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = hoist_global_options(self, list(sys.argv[1:] if args is None else args))
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:
            if not standalone_mode:
                raise
            exc.show()
            sys.exit(exc.exit_code)
        except UsageError as exc:
            if not standalone_mode:
                raise
            render.error(usage_error(exc))
            sys.exit(exc.exit_code)
        except ClickException as exc:
            if not standalone_mode:
                raise
            render.error(DogxrayError(exc.format_message()))
            sys.exit(exc.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            render.progress("aborted")
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    name="dogxray",
    cls=DogxrayGroup,
    help="The AWS 'Lambda X-Ray' lab as commands: build it, prove it, break it, "
    "see the failure in X-Ray traces, remove it. Add --local to `demo` to run it offline.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.callback()(main_options)
# The order is `--help`'s order.
for module in (analyze, inject, lab, load, local, logs, map, metrics, package, report, traces):
    app.add_typer(module.app)


def main() -> None:
    app()
