"""Output of `dogxray test` and `dogxray demo`: probe results, stage narration, summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.progress import Progress
from rich.table import Table

from dogxray.lab.progress import Reporter
from dogxray.render import err, fit, out, pack, plural, progress, width
from dogxray.render.lab import REPORTER as LAB_REPORTER

if TYPE_CHECKING:
    from dogxray.core.aws import Aws
    from dogxray.demo.own_lab import DemoPlan
    from dogxray.demo.stages import DemoReport, Stage
    from dogxray.lab.probe import ProbeResult
    from dogxray.monitor.report import Report
    from dogxray.traces.service import TraceDetail


@contextmanager
def probe_progress(count: int) -> Iterator[Callable[[Any], None]]:
    """A progress bar on stderr for `test --count N` (none for a single request, nor when
    stderr is not a terminal: rich would leave a blank line there)."""
    if count == 1 or not err.is_terminal:
        yield lambda _result: None
        return
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("testing the Function URL", total=count)
        yield lambda _result: bar.advance(task)


def probe_results(results: list[ProbeResult], *, text: bool = True) -> None:
    """`dogxray test`: one line per request in text mode; failed checks always on stderr."""
    for result in results:
        if not text:
            if result.failure:
                for line in fit(f"check failed: {result.failure}", "  "):
                    err.print(line, markup=False, style="red")
            continue
        mark = "ok  " if result.ok else "FAIL"
        where = "-"  # the object compared: in full when the check failed
        if result.ok:
            where = f"s3://…/{result.s3_key}"
        elif result.s3_key:
            where = f"s3://{result.s3_bucket}/{result.s3_key}"
        elif result.status == 200 and result.content_type.startswith("image/"):
            where = f"s3://{result.s3_bucket}"
        parts = [
            f"{mark} HTTP {result.status} {result.content_type or '-'}",
            f"{plural(result.bytes, 'byte')} {result.latency_ms:.0f} ms",
            f"sha256 {result.sha256[:12] or '-'}",
            where,
            f"s3 match: {'yes' if result.s3_match else 'no'}",
        ]
        for line in pack(parts, width(), "     "):
            out.print(line, markup=False)
        if result.failure:
            for line in fit(f"check failed: {result.failure}", "  "):
                err.print(line, markup=False, style="red")


def demo_warning(plan: DemoPlan) -> None:
    """What `demo` is about to create and delete, before the command asks (on stderr)."""
    err.print(f"demo will create the lab {plan.lab!r} in {plan.backend}:", markup=False)
    for line in plan.resources():
        err.print(f"  {line}", markup=False)
    err.print(
        "then break it, fix it, and delete exactly these again; nothing else is touched.",
        markup=False,
    )


def ask(question: str) -> str:
    """One answer from the terminal; the question goes to stderr with the rest of the
    narration (stdout is data). End of input is an empty answer."""
    try:
        return str(err.input(question, markup=False))
    except EOFError:
        return ""


def stage_start(stage: Stage) -> None:
    err.print()
    err.print(f"Stage {stage.number}: {stage.title}", markup=False, style="bold")


def narrate(text: str) -> None:
    err.print(f"  {text}", markup=False, style="dim")


def evidence(line: str) -> None:
    err.print(f"  → {line}", markup=False)


def stage_end(stage: Stage) -> None:
    mark = "✔ passed" if stage.ok else "✘ failed"
    err.print(
        f"  {mark} in {stage.seconds:.1f} s", markup=False, style="green" if stage.ok else "red"
    )
    if not stage.ok:
        for line in stage.evidence[-2:]:
            err.print(f"  {line}", markup=False, style="red")


def waterfall(detail: TraceDetail, aws: Aws) -> None:
    from dogxray.render import traces

    traces.waterfall(detail, region=aws.region, is_local=aws.is_local)


class ConsoleDemoReporter:
    """What `dogxray demo` hands `dogxray.demo.run.run` (`dogxray.demo.stages.DemoReporter`)."""

    lab: Reporter = LAB_REPORTER

    def note(self, text: str) -> None:
        progress(text)

    def stage_start(self, stage: Stage) -> None:
        stage_start(stage)

    def stage_end(self, stage: Stage) -> None:
        stage_end(stage)

    def narrate(self, text: str) -> None:
        narrate(text)

    def evidence(self, line: str) -> None:
        evidence(line)

    def waterfall(self, detail: TraceDetail, aws: Aws) -> None:
        waterfall(detail, aws)

    def html_report(self, data: Report) -> str | None:
        from dogxray.render import report

        return report.html(data)


REPORTER = ConsoleDemoReporter()


def summary(report: DemoReport) -> None:
    """The closing table on stdout: every stage, its time and its verdict."""
    table = Table(title="dogxray demo", show_edge=False)
    table.add_column("stage")
    table.add_column("what")
    table.add_column("seconds", justify="right")
    table.add_column("check")
    for stage in report.stages:
        table.add_row(
            stage.number, stage.title, f"{stage.seconds:.1f}", "passed" if stage.ok else "FAILED"
        )
    out.print(table)
    verdict = "every stage checked" if report.ok else "some stage failed"
    out.print(f"demo {'passed' if report.ok else 'FAILED'}: {verdict}", markup=False)
    if report.html_path:
        out.print(f"HTML report: {report.html_path}", markup=False)
