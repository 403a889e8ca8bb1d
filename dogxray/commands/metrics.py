"""Command: metrics (the Lambda Monitor tab)."""

from __future__ import annotations

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, Output, connect, registrar, settings

app = typer.Typer()
command = registrar(app)


@command("metrics")
def metrics(
    ctx: typer.Context,
    since: str = typer.Option("1h", "--since", help="window: 30m, 2h, 1d or an ISO 8601 time"),
    period: str = typer.Option("1m", "--period", help="one point per: 1m, 5m, 1h ..."),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Invocations, Errors, Throttles, Duration (avg, p50, p99) and ConcurrentExecutions
    of the lab's function, as sparklines (CloudWatch AWS/Lambda metrics)."""
    from dogxray.core.window import CLOUDWATCH_METRICS, parse_since
    from dogxray.lab import alarm
    from dogxray.monitor import metrics as service
    from dogxray.render import metrics as show

    parse_since(since, limit=CLOUDWATCH_METRICS)
    service.parse_period(period)
    aws = connect(ctx)
    doc = service.metrics(aws, settings(ctx).function_name, since=since, period=period)
    line = alarm.line(aws)  # the lab's alarm, drawn with the Errors it watches
    if output is Output.json:
        render.json_doc({**doc.to_json(), "alarm": line.to_json() if line else None})
    else:
        show.monitor(doc, alarm=line)
