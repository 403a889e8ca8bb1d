"""Commands: the emulator (`local`), lab stage 4 (`test`) and the whole lab (`demo`)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, Output, connect, registrar, settings
from dogxray.config import ENV_LOCAL_CONCURRENCY, LOCAL_CONCURRENCY, LOCAL_CONCURRENCY_MAX, Settings
from dogxray.errors import DogxrayError

if TYPE_CHECKING:
    from dogxray.demo_lab import DemoPlan

app = typer.Typer()
command = registrar(app)

# --- `dogxray local`: the embedded emulator in the foreground -------------------------


@command("local")
def local(
    ctx: typer.Context,
    port: int = typer.Option(
        4566, "--port", min=0, max=65535, help="AWS endpoint port on 127.0.0.1 (0 = any free)"
    ),
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        min=1,
        max=LOCAL_CONCURRENCY_MAX,
        help="account limit of busy execution environments; more requests get 429 "
        f"[default: ${ENV_LOCAL_CONCURRENCY} or {LOCAL_CONCURRENCY}]",
    ),
) -> None:
    """Run the offline emulator until Ctrl-C; point other commands at it with the printed
    `export` lines (AWS endpoint, dummy credentials)."""
    from dogxray.local import Emulator

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        emu = Emulator(port=port, concurrency=concurrency).start()
        try:
            for name, value in emu.client_env.items():
                render.data(f"export {name}={value}")
            render.progress(
                f"dogxray emulator on 127.0.0.1: AWS endpoint {emu.endpoint_url}, "
                f"Function URLs under {emu.gateway_url}/, Dog API {emu.dog_api_url}; "
                f"up to {emu.concurrency} concurrent execution environments"
            )
            render.progress("run the export lines above in another shell; Ctrl-C stops")
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
        finally:
            # A second Ctrl-C must not cut the shutdown short (it is bounded).
            interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                emu.stop()
            finally:
                signal.signal(signal.SIGINT, interrupt)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if emu.leftover is None:
        render.progress("emulator stopped; its temporary files are removed")
    else:
        render.progress(
            f"emulator stopped; could not remove its temporary folder {emu.leftover} "
            f"({emu.leftover_reason}); the next `dogxray local` removes it"
        )


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


# --- `dogxray test` (lab stage 4) and `dogxray demo` (stages 1-6) ----------------------
@command("test")
def test(
    ctx: typer.Context,
    count: int = typer.Option(1, "--count", min=1, max=1000, help="requests to make"),
    open_browser: bool = typer.Option(False, "--open", help="also open the URL in a browser"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """GET the Function URL: check for an image and the same bytes in the bucket."""
    from dogxray import probe
    from dogxray.lab import service
    from dogxray.render import demo as show

    aws = connect(ctx)
    lab = service.deployed(aws)
    if not lab.function_url:
        raise DogxrayError(
            f"the function {lab.function_name} has no Function URL to test",
            where=f"lab {aws.settings.lab} in {aws.backend}",
            hint=f"add one with `{render.command('configure --url')}`, then re-run "
            f"`{render.command('test')}`",
        )
    probe.check_runs_functions(aws, lab.function_url)
    if open_browser:
        from dogxray.render.browser import open_or_say

        open_or_say(lab.function_url)
    with show.probe_progress(count) as advance:
        results = probe.run(aws, lab.function_url, lab.bucket, count=count, on_result=advance)
    if output is Output.json:
        render.json_doc([result.to_json() for result in results])
    show.probe_results(results, text=output is Output.text)
    if not all(result.ok for result in results):
        raise typer.Exit(1)


@command("demo")
def demo(
    ctx: typer.Context,
    local: bool = typer.Option(False, "--local", help="run in the embedded offline emulator"),
    yes: bool = typer.Option(False, "--yes", "-y", help="run against AWS without asking"),
    triage: bool = typer.Option(
        False, "--triage", help="also the triage lab: inject, load, analyze, metrics, off"
    ),
) -> None:
    """The whole lab end to end, narrated, verifying every stage. Except with --local, it
    runs under a new lab of its own (dog-photo-demo-<random>), or the --lab given, and
    refuses to start when that lab exists; on AWS or another endpoint it asks first."""
    from dogxray import demo as lab_demo
    from dogxray import demo_lab
    from dogxray.aws import Aws, is_emulator
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
        report = lab_demo.run(demo_settings, local=local, triage=triage, reporter=show.REPORTER)
    finally:
        signal.signal(signal.SIGTERM, previous)
    show.summary(report)
    if not report.ok:
        raise typer.Exit(1)
