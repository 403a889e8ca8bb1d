"""The `dogxray` typer app: the global options from `dogxray.cli`, then every command
module's commands, registered here at the package root (as hatch does) so that neither
`cli` nor a command module imports the other's importer. A command's module is imported
when the command runs or `--help` lists it (click's lazy group), not on every start."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

import typer
import typer.main
from typer._click.core import Command
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from dogxray import render
from dogxray.cli import hoist_global_options, main_options, usage_error
from dogxray.coercion import LeanOptions
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError

# Every command and the module of `dogxray.commands` that defines it, in `--help`'s
# order: the lab as it runs (stages 1-6), the triage lab, then the rest.
COMMANDS: dict[str, str] = {
    "create-bucket": "lab",  # stage 1
    "create-role": "lab",  # stage 2
    "deploy-function": "lab",  # stage 3
    "configure": "lab",
    "setup": "lab",  # stages 1-3
    "status": "lab",
    "test": "test",  # stage 4
    "break-bucket": "lab",  # stage 5
    "traces": "traces",
    "trace": "traces",
    "map": "map",
    "logs": "logs",
    "report": "report",
    "fix-bucket": "lab",
    "cleanup": "lab",  # stage 6
    "inject": "inject",  # triage
    "load": "load",
    "analyze": "analyze",
    "metrics": "metrics",
    "alarm": "alarm",
    "local": "local",
    "demo": "demo",
    "package": "package",
    "labs": "labs",
}


def module_commands(module: str, root: typer.Typer) -> dict[str, Command]:
    """The click commands of one `dogxray.commands` module, built as typer builds a
    module merged into `root` (`add_typer` without a name): `root`'s markup and
    exception settings."""
    holder = typer.Typer(
        rich_markup_mode=root.rich_markup_mode,
        pretty_exceptions_short=root.pretty_exceptions_short,
        suggest_commands=root.suggest_commands,
    )
    holder.add_typer(importlib.import_module(f"dogxray.commands.{module}").app)
    return dict(typer.main.get_group(holder).commands)


class LazyCommands(MutableMapping[str, Command]):
    """A group's `commands`: every name of `COMMANDS` is listed, and its module imported
    on the first look-up of one of its commands (`in` and listing import nothing)."""

    def __init__(self, loaded: dict[str, Command]) -> None:
        self._loaded = loaded

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded and name in COMMANDS:
            self._loaded.update(module_commands(COMMANDS[name], app))
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._loaded

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._loaded]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._loaded))

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]


class DogxrayGroup(LeanOptions, TyperGroup):
    """The root command: global options accepted after the command name too, option
    values converted without pydantic where typer's result is the same (`LeanOptions`),
    usage errors printed as dogxray's `error:`/`hint:` lines (exit 2), and `--help`
    listing the commands in the lab's order (`COMMANDS`), each module imported on use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(dict(self.commands))

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


def main() -> None:
    app()
