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
from dogxray.commands import (
    alarm,
    analyze,
    demo,
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
    test,
    traces,
)
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError

# `--help`'s order: the lab as it runs (stages 1-6), the triage lab, then the rest;
# a command not named here comes last, in the order it was registered.
HELP_ORDER = (
    "create-bucket",  # stage 1
    "create-role",  # stage 2
    "deploy-function",  # stage 3
    "configure",
    "setup",  # stages 1-3
    "status",
    "test",  # stage 4
    "break-bucket",  # stage 5
    "traces",
    "trace",
    "map",
    "logs",
    "report",
    "fix-bucket",
    "cleanup",  # stage 6
    "inject",  # triage
    "load",
    "analyze",
    "metrics",
    "alarm",
    "local",
    "demo",
    "package",
    "labs",
)


class DogxrayGroup(TyperGroup):
    """The root command: global options accepted after the command name too, usage
    errors printed as dogxray's `error:`/`hint:` lines (exit 2), and `--help` listing the
    commands in the lab's order (`HELP_ORDER`)."""

    def list_commands(self, ctx: Any) -> list[str]:
        rank = {name: i for i, name in enumerate(HELP_ORDER)}
        return sorted(self.commands, key=lambda name: rank.get(name, len(rank)))

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
        finally:
            render.use_settings(Settings())  # the next run in this process starts afresh
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
for module in (
    alarm,
    analyze,
    demo,
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
    test,
    traces,
):
    app.add_typer(module.app)


def main() -> None:
    app()
