"""`dogxray test` (lab stage 4): GET the Function URL and check the photo."""

from __future__ import annotations

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, Output, connect, registrar
from dogxray.core.errors import DogxrayError

app = typer.Typer()
command = registrar(app)


@command("test")
def test(
    ctx: typer.Context,
    count: int = typer.Option(1, "--count", min=1, max=1000, help="requests to make"),
    open_browser: bool = typer.Option(False, "--open", help="also open the URL in a browser"),
    output: Output = OUTPUT_OPTION,
) -> None:
    """GET the Function URL: check for an image and the same bytes in the bucket."""
    from dogxray.lab import probe, service
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
    if len(results) > 1:
        from dogxray.monitor.invocations import SAMPLING

        render.progress(f"note: {SAMPLING}; X-Ray keeps a sample of these requests")
    if not all(result.ok for result in results):
        raise typer.Exit(1)
