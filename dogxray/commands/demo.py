"""`dogxray demo`: the whole lab (stages 1-6, and with --triage the triage lab), narrated
and verified; on AWS or another endpoint it asks first."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from dogxray.cli import registrar, settings
from dogxray.core.config import DEFAULT_TRACER, Settings, Tracer
from dogxray.core.errors import DogxrayError

if TYPE_CHECKING:
    from dogxray.demo.own_lab import DemoPlan

app = typer.Typer()
command = registrar(app)


def confirm_demo(demo_settings: Settings, plan: Callable[[], DemoPlan]) -> None:
    """The demo creates (and then deletes) resources on AWS or another endpoint: say
    exactly which, and ask first. `plan()` (the names, the account) is only called when
    there is a terminal to ask on; it also refuses an existing lab before asking."""
    from dogxray.render import demo as show

    if not sys.stdin.isatty():
        endpoint = demo_settings.endpoint_url
        where = f"the endpoint {endpoint}" if endpoint else "AWS"
        raise DogxrayError.usage(
            f"refusing to create resources in {where} without confirmation",
            hint="add --yes to run the demo there (it creates a lab of its own and deletes "
            "it again), or --local to run offline",
        )
    show.demo_warning(plan())
    if show.ask("continue? [y/N] ").strip().lower() not in ("y", "yes"):
        raise DogxrayError.usage("demo cancelled", hint="add --local to run it offline")


def _lab_given(ctx: typer.Context) -> bool:
    """Whether `--lab` was on the command line (the global option, before the command)."""
    root = ctx.find_root()
    source = root.get_parameter_source("lab")
    return source is not None and source.name == "COMMANDLINE"


def _interrupt(*_: object) -> None:
    """SIGTERM as Ctrl-C: the demo's cleanup stage and the emulator's shutdown still run."""
    raise KeyboardInterrupt


@command("demo")
def demo(
    ctx: typer.Context,
    local: bool = typer.Option(False, "--local", help="run in the embedded offline emulator"),
    yes: bool = typer.Option(False, "--yes", "-y", help="run against AWS without asking"),
    triage: bool = typer.Option(
        False, "--triage", help="also the triage lab: inject, load, analyze, metrics, off"
    ),
    tracer: Tracer = typer.Option(
        DEFAULT_TRACER,
        "--tracer",
        help="xray (the X-Ray SDK, as the console lab) or otel (OpenTelemetry)",
    ),
) -> None:
    """The whole lab end to end, narrated, verifying every stage. Except with --local, it
    runs under a new lab of its own (dog-photo-demo-<random>), or the --lab given, and
    refuses to start when that lab exists; on AWS or another endpoint it asks first."""
    from dogxray.core.aws import Aws, is_emulator
    from dogxray.demo import own_lab as demo_lab
    from dogxray.demo import run as lab_demo
    from dogxray.render import demo as show

    given = settings(ctx)
    demo_settings = demo_lab.lab_settings(given, lab_given=_lab_given(ctx), local=local)
    if not local and not yes and not (given.endpoint_url and is_emulator(given.endpoint_url)):

        def plan() -> DemoPlan:
            aws = Aws(demo_settings)
            demo_lab.check_new_lab(aws)
            return demo_lab.plan(aws)

        confirm_demo(demo_settings, plan)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # stop and clean up as on Ctrl-C
    try:
        report = lab_demo.run(
            demo_settings, local=local, triage=triage, tracer=tracer, reporter=show.REPORTER
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    show.summary(report)
    if not report.ok:
        raise typer.Exit(1)
