"""Command: inject (latency and failures in the deployed function, for the triage lab)."""

from __future__ import annotations

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, Output, connect, registrar
from dogxray.core.config import INJECT_STEPS
from dogxray.core.errors import DogxrayError

app = typer.Typer()
command = registrar(app)


@command("inject")
def inject(
    ctx: typer.Context,
    latency: str | None = typer.Option(None, "--latency", help="added latency, e.g. 5s"),
    failure_rate: float | None = typer.Option(
        None, "--failure-rate", help="share of requests that fail, 0-1"
    ),
    rate: float | None = typer.Option(
        None, "--rate", help="share of requests delayed (default: the failure rate, else 1)"
    ),
    at: str | None = typer.Option(
        None,
        "--at",
        help=f"the step it runs before: {' or '.join(INJECT_STEPS)} (default {INJECT_STEPS[0]})",
    ),
    off: bool = typer.Option(False, "--off", help="remove the injection"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Make the function slow and/or fail on a share of requests (an `injected_fault`
    subsegment and `InjectedFailure` in the traces); --off ends it."""
    from dogxray.lab import injection
    from dogxray.render.lab import REPORTER
    from dogxray.triage import inject as service

    given = {"--latency": latency, "--failure-rate": failure_rate, "--rate": rate, "--at": at}
    wanted = None
    if off:
        others = [name for name, value in given.items() if value is not None]
        if others:
            raise DogxrayError.usage(
                f"--off removes the injection; it takes no {' or '.join(others)}",
                hint="use --off alone, or the options alone to change the injection",
            )
    else:
        latency_ms = injection.parse_latency(latency) if latency is not None else 0
        wanted = injection.check(latency_ms, failure_rate or 0.0, rate, at)
        if wanted is None:
            zero = f": --latency {latency} adds no latency" if latency is not None else ""
            raise DogxrayError.usage(
                f"nothing to inject{zero}",
                hint="give --latency above 0 (e.g. 5s) and/or --failure-rate, or --off",
            )
    done = service.inject(connect(ctx), wanted, reporter=REPORTER)
    if output is Output.json:
        render.json_doc(done.to_json())
        return
    if wanted is None:
        render.data(
            f"injection {'removed from' if done.changed else 'already off on'} {done.function}"
        )
    else:
        state = "now" if done.changed else "already"
        render.data(f"{done.function} {state} injects: {wanted.describe()}")
        render.progress(
            f"next: `{render.command('load --requests 100')}`, then "
            f"`{render.command('analyze')}` and `{render.command('map')}`"
        )
