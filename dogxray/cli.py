"""The typer app: global options, error handling, and the command modules' registry.

Commands live in `dogxray/commands/` (one small function each: parse, one service
call, render). Nothing here imports boto3, moto or the emulator, so `--help` and
`--version` are instant; command bodies import what they need.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from dogxray import __version__, render
from dogxray.config import DEFAULT_LAB, Settings
from dogxray.errors import DogxrayError

if TYPE_CHECKING:
    from dogxray.aws import Aws

app = typer.Typer(
    name="dogxray",
    help="The AWS 'Lambda X-Ray' lab as commands: build it, prove it, break it, "
    "see the failure in X-Ray traces, remove it. Add --local to `demo` to run it offline.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])
# The global options of the running invocation (set by the callback; typer >= 0.29 no
# longer exposes click's context stack, and commands stay free of a ctx parameter).
_current: ContextVar[Settings | None] = ContextVar("dogxray_settings", default=None)


class Output(str, Enum):
    """`--output` of the commands that print data."""

    text = "text"
    json = "json"


OUTPUT_OPTION = typer.Option(Output.text, "--output", "-o", help="text or json (one document)")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dogxray {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    lab: str = typer.Option(DEFAULT_LAB, "--lab", help="lab name; derives every resource name"),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile (else AWS_PROFILE)"),
    region: str | None = typer.Option(
        None,
        "--region",
        help="AWS region (else AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1)",
    ),
    endpoint_url: str | None = typer.Option(
        None, "--endpoint-url", help="custom endpoint, e.g. the emulator (else AWS_ENDPOINT_URL)"
    ),
    debug: bool = typer.Option(False, "--debug", help="show tracebacks and the API call log"),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    try:
        _current.set(
            Settings.from_options(
                lab=lab, profile=profile, region=region, endpoint_url=endpoint_url, debug=debug
            )
        )
    except DogxrayError as exc:
        render.error(exc)
        raise typer.Exit(exc.exit_code) from None


def settings() -> Settings:
    """The global options of the running command."""
    return _current.get() or Settings.from_options()


def connect() -> Aws:
    """A boto3 session for the running command (imports boto3 only now)."""
    from dogxray.aws import Aws

    return Aws(settings())


def _to_error(exc: BaseException) -> DogxrayError | None:
    if isinstance(exc, DogxrayError):
        return exc
    if "botocore" in sys.modules:
        from dogxray.aws import explain

        return explain(exc)
    return None


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
        if settings().debug:
            traceback.print_exc()
        error = _to_error(exc)
        if error is None:
            error = DogxrayError(
                f"internal error: {type(exc).__name__}: {exc}",
                hint="re-run with --debug for the traceback, and please report it",
            )
        render.error(error)
        raise typer.Exit(error.exit_code) from None


def command(name: str | None = None, **kwargs: Any) -> Callable[[F], F]:
    """`@app.command` with dogxray's error handling around the body."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            return run_handled(fn, *args, **kw)

        app.command(name, **kwargs)(wrapper)
        return fn

    return decorate


def main() -> None:
    app()


# Register the command modules (they import `command` from here).
import dogxray.commands.analyze  # noqa: E402
import dogxray.commands.inject  # noqa: E402
import dogxray.commands.lab  # noqa: E402
import dogxray.commands.load  # noqa: E402
import dogxray.commands.local  # noqa: E402
import dogxray.commands.logs  # noqa: E402
import dogxray.commands.map  # noqa: E402
import dogxray.commands.metrics  # noqa: E402
import dogxray.commands.package  # noqa: E402
import dogxray.commands.report  # noqa: E402
import dogxray.commands.traces  # noqa: E402, F401
