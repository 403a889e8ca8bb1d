"""Commands: the emulator (`local`), lab stage 4 (`test`) and the whole lab (`demo`)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, Output, connect, registrar, settings
from dogxray.config import ENV_LOCAL_CONCURRENCY, LOCAL_CONCURRENCY, LOCAL_CONCURRENCY_MAX, Settings
from dogxray.errors import DogxrayError

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


def confirm_aws_demo(options: Settings, where: Callable[[], str] | None = None) -> None:
    """The demo creates (and then deletes) real resources: ask first. `where()` names the
    back end (e.g. "AWS account 123456789012, region us-east-1"); it is only called when
    there is a terminal to ask on."""
    from dogxray.render import demo as show

    asking = sys.stdin.isatty()
    show.demo_warning(options.lab, where() if asking and where is not None else "AWS")
    if not asking:
        raise DogxrayError.usage(
            "refusing to create AWS resources without confirmation",
            hint="add --yes to run against AWS, or --local to run offline",
        )
    if show.ask("continue? [y/N] ").strip().lower() not in ("y", "yes"):
        raise DogxrayError.usage("demo cancelled", hint="add --local to run it offline")


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
    """The whole lab end to end, narrated, verifying every stage."""
    from dogxray import demo as lab_demo
    from dogxray.render import demo as show

    if not local and not settings(ctx).endpoint_url and not yes:
        confirm_aws_demo(settings(ctx), where=lambda: connect(ctx).backend)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # stop and clean up as on Ctrl-C
    try:
        report = lab_demo.run(settings(ctx), local=local, triage=triage, reporter=show.REPORTER)
    finally:
        signal.signal(signal.SIGTERM, previous)
    show.summary(report)
    if not report.ok:
        raise typer.Exit(1)
