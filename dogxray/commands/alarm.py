"""Command: alarm (the Monitor lab's CloudWatch alarm on the function's errors)."""

from __future__ import annotations

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, Output, connect, registrar

app = typer.Typer()
command = registrar(app)


@command("alarm")
def alarm(
    ctx: typer.Context,
    threshold: int = typer.Option(1, "--threshold", help="errors per period that fire it"),
    period: str = typer.Option("1m", "--period", help="1m, 5m, 1h ..."),
    evaluation_periods: int = typer.Option(
        1, "--evaluation-periods", help="periods looked at each time"
    ),
    datapoints: int | None = typer.Option(
        None, "--datapoints", help="breaching periods among them that fire it (default: all)"
    ),
    email: str | None = typer.Option(
        None, "--email", help="notify this address through an SNS topic (confirm its email)"
    ),
    off: bool = typer.Option(False, "--off", help="remove the alarm and its topic"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the plan; change nothing"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """An alarm on the function's AWS/Lambda Errors: Sum >= threshold per period (missing
    data: not breaching), named from the lab and tagged; --email adds an SNS topic."""
    from dogxray.lab import alarm as service
    from dogxray.monitor.metrics import parse_period
    from dogxray.render import alarm as show
    from dogxray.render import lab as lab_show

    if off:
        doc = service.off(connect(ctx), dry_run=dry_run, reporter=lab_show.REPORTER)
    else:
        options = service.AlarmOptions(
            threshold=threshold,
            period_s=parse_period(period),
            evaluation_periods=evaluation_periods,
            datapoints=datapoints,
            email=email,
        ).check()
        doc = service.apply(connect(ctx), options, dry_run=dry_run, reporter=lab_show.REPORTER)
    if output is Output.json:
        render.json_doc(doc.to_json())
    else:
        show.result(doc, off=off)
