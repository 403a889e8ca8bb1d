"""Global options, error handling and the `command` decorator the command modules use.

The typer app that assembles the commands is `dogxray.app` (the package root registers
the command modules, as hatch does); this module imports none of them, so there is no
cli ⇄ commands cycle. Nothing here imports botocore, moto or the emulator, so `--help` and
`--version` are instant; command bodies import what they need.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import typer

# typer 0.29 vendors click as `typer._click`: its exceptions are these, not click's.
from typer._click.exceptions import UsageError
from typer.core import TyperCommand

from dogxray import __version__, render
from dogxray.coercion import LeanOptions
from dogxray.core.config import (
    DEFAULT_LAB,
    ENV_DEFAULT_REGION,
    ENV_ENDPOINT_URL,
    ENV_PROFILE,
    ENV_REGION,
    Settings,
)
from dogxray.core.errors import DogxrayError

if TYPE_CHECKING:
    from dogxray.core.aws import Aws

F = TypeVar("F", bound=Callable[..., Any])


class Output(str, Enum):
    """`--output` of the commands that print data."""

    text = "text"
    json = "json"


OUTPUT_OPTION = typer.Option(Output.text, "--output", "-o", help="text or json (one document)")
# `--since` of the commands that read the last minutes of traces or logs.
SINCE_OPTION = typer.Option("10m", "--since", help="window: 10m, 2h, 1d or an ISO 8601 time")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dogxray {__version__}")
        raise typer.Exit()


def _explicit(ctx: typer.Context, name: str, value: str | None) -> str | None:
    """The value only when given on the command line: `Settings.from_options` reads the
    environment itself (one precedence rule, and its messages name the option only when
    the option was given). `envvar=` is there so `--help` lists the variables."""
    source = ctx.get_parameter_source(name)
    return value if source is not None and source.name == "COMMANDLINE" else None


def main_options(
    ctx: typer.Context,
    lab: str = typer.Option(DEFAULT_LAB, "--lab", help="lab name; derives every resource name"),
    profile: str | None = typer.Option(None, "--profile", envvar=ENV_PROFILE, help="AWS profile"),
    region: str | None = typer.Option(
        None,
        "--region",
        envvar=[ENV_REGION, ENV_DEFAULT_REGION],
        help="AWS region (else the profile's, else us-east-1)",
    ),
    endpoint_url: str | None = typer.Option(
        None,
        "--endpoint-url",
        envvar=ENV_ENDPOINT_URL,
        help="custom endpoint, e.g. the emulator",
    ),
    debug: bool = typer.Option(False, "--debug", help="show tracebacks and the API call log"),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """The global options; the command reads them from `ctx.obj` (a `Settings`)."""
    typed = {
        "profile": _explicit(ctx, "profile", profile),
        "region": _explicit(ctx, "region", region),
        "endpoint_url": _explicit(ctx, "endpoint_url", endpoint_url),
    }
    try:
        ctx.obj = Settings.from_options(
            lab=lab,
            profile=typed["profile"],
            region=typed["region"],
            endpoint_url=typed["endpoint_url"],
            debug=debug,
            given=frozenset(name for name, value in typed.items() if value is not None),
        )
    except DogxrayError as exc:
        render.error(exc)
        raise typer.Exit(exc.exit_code) from None
    render.use_settings(ctx.obj)


# The global options `hoist_global_options` accepts after the command name too.
HOISTED = ("--lab", "--profile", "--region", "--endpoint-url", "--debug")


def _option_names(params: list[Any]) -> tuple[set[str], set[str]]:
    """(every option name, the names of options that take a value) of click parameters."""
    names: set[str] = set()
    valued: set[str] = set()
    for param in params:
        if param.param_type_name == "option":
            names.update(param.opts, param.secondary_opts)
            if not param.is_flag and not param.count:
                valued.update(param.opts)
    return names, valued


def _width(token: str, valued: set[str]) -> int:
    """How many tokens an option occupies: 2 for `--lab b`, 1 for `--lab=b` or a flag."""
    return 2 if token in valued else 1


def hoist_global_options(group: Any, args: list[str]) -> list[str]:
    """Accept the global options after the command name too: `status --lab b` ->
    `--lab b status`. Only the command's own arguments are scanned, option by option (an
    option's value is never mistaken for an option), up to `--`; an option the command
    defines itself keeps its place."""
    _, root_valued = _option_names(group.params)
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += _width(args[i], root_valued)
    if i >= len(args) or args[i] not in group.commands:
        return args
    own, own_valued = _option_names(group.commands[args[i]].params)
    moved: list[str] = []
    kept: list[str] = []
    rest = args[i + 1 :]
    j = 0
    while j < len(rest):
        token = rest[j]
        if token == "--":
            kept += rest[j:]
            break
        name = token.split("=", 1)[0]
        if name in HOISTED and name not in own:
            width = _width(token, root_valued)
            moved += rest[j : j + width]
        else:
            width = _width(token, own_valued)
            kept += rest[j : j + width]
        j += width
    return [*args[:i], *moved, args[i], *kept]


def usage_error(exc: UsageError) -> DogxrayError:
    """click's and typer's own usage errors (a bad value, an unknown option, a missing
    argument) as dogxray's `error:`/`hint:` lines."""
    message = exc.format_message().strip().rstrip(".").replace("Value error, ", "")
    message = message[:1].lower() + message[1:]
    path = exc.ctx.command_path if exc.ctx is not None else "dogxray"
    return DogxrayError.usage(message, hint=f"see `{path} --help`")


def settings(ctx: typer.Context | None) -> Settings:
    """The global options of the running command (defaults when run without the app)."""
    found = ctx.find_object(Settings) if ctx is not None else None
    return found if isinstance(found, Settings) else Settings.from_options()


def connect(ctx: typer.Context | None) -> Aws:
    """The AWS session of the running command (imports botocore only now)."""
    from dogxray.core.aws import Aws

    return Aws(settings(ctx))


def _to_error(exc: BaseException, *values: Any) -> DogxrayError | None:
    """`exc` as one message; `values` are the command's arguments (its context)."""
    if isinstance(exc, DogxrayError):
        return exc
    if "botocore" in sys.modules:
        from dogxray.core.explain import explain

        return explain(exc, endpoint_url=_endpoint_url(*values))
    return None


def _endpoint_url(*values: Any) -> str | None:
    """--endpoint-url of the running command, from the context typer passed it."""
    for value in values:
        if callable(getattr(value, "find_object", None)):
            found = value.find_object(Settings)
            return found.endpoint_url if isinstance(found, Settings) else None
    return None


def _debug(*values: Any) -> bool:
    """--debug of the running command, from the context typer passed it (typer 0.29
    passes its vendored click `Context`, a base class of `typer.Context`: duck-typed)."""
    for value in values:
        if callable(getattr(value, "find_object", None)):
            found = value.find_object(Settings)
            return isinstance(found, Settings) and found.debug
    return False


def run_handled(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a command body; expected failures become one message and an exit code."""
    try:
        return fn(*args, **kwargs)
    except (typer.Exit, typer.Abort, typer.BadParameter):
        raise
    except KeyboardInterrupt:
        render.interrupted()
        raise typer.Exit(130) from None
    except Exception as exc:
        if _debug(*args, *kwargs.values()):
            traceback.print_exc()
        error = _to_error(exc, *args, *kwargs.values())
        if error is None:
            error = DogxrayError(
                f"internal error: {type(exc).__name__}: {exc}",
                hint="re-run with --debug for the traceback, and please report it",
            )
        render.error(error)
        raise typer.Exit(error.exit_code) from None


class DogxrayCommand(LeanOptions, TyperCommand):
    """A command whose option values skip pydantic where typer's result is the same."""


def registrar(app: typer.Typer) -> Callable[..., Callable[[F], F]]:
    """`command(name)`: `@app.command` with dogxray's error handling around the body, for
    a command module's own `typer.Typer` (merged into `dogxray.app.app`)."""

    def command(name: str | None = None, **kwargs: Any) -> Callable[[F], F]:
        def decorate(fn: F) -> F:
            @functools.wraps(fn)
            def wrapper(*args: Any, **kw: Any) -> Any:
                return run_handled(fn, *args, **kw)

            app.command(name, **{"cls": DogxrayCommand, **kwargs})(wrapper)
            return fn

        return decorate

    return command
