"""Output of `dogxray load`: a live progress bar on stderr, the summary on stdout."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dogxray import render
from dogxray.monitor.invocations import SAMPLING
from dogxray.render import command, err, out
from dogxray.triage.load import LoadSummary


@contextmanager
def load_progress(total: int) -> Iterator[Callable[[Any], None]]:
    """A bar that counts answers, with the non-2xx ones so far; on a terminal only (a
    bar on a file or pipe would leave a blank line behind)."""
    if not err.is_terminal:
        yield lambda _shot: None
        return
    with Progress(
        TextColumn("load"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[bad]} not 2xx"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("load", total=total, bad=0)
        bad = [0]

        def advance(shot: Any) -> None:
            if not 200 <= shot.status < 300:
                bad[0] += 1
            bar.update(task, advance=1, bad=bad[0])

        yield advance


def load_summary(doc: LoadSummary) -> None:
    s, lat = doc.status, doc.latency_ms
    stopped = ""
    if doc.interrupted:
        stopped = f" (interrupted: {doc.requests} of {doc.asked} sent)"
    elif doc.stopped_by_duration:
        stopped = f" (duration reached: {doc.requests} of {doc.asked} sent)"
    elif doc.stopped_by_no_answer:
        stopped = f" (no answer any more: {doc.requests} of {doc.asked} sent)"
    lines = [
        f"{render.plural(doc.requests, 'request')} at concurrency {doc.concurrency} in "
        f"{doc.duration_s:.2f} s: {doc.throughput_rps:.1f} req/s{stopped}",
        f"status: 2xx {s['2xx']}  3xx {s['3xx']}  4xx {s['4xx']}  429 {s['429']}  "
        f"5xx {s['5xx']}  no answer {s['no_answer']}",
        "latency ms: "
        + "  ".join(f"{k} {render.ms(lat[k], decimals=1)}" for k in ("p50", "p95", "p99", "max")),
        f"cold starts: {'?' if doc.cold_starts is None else doc.cold_starts}  "
        f"throttles: {doc.throttles}",
    ]
    for line in lines:
        out.print(line, markup=False)
    traced = "?" if doc.traced is None else doc.traced
    render.data(
        f"traced by X-Ray: {traced} of {render.plural(doc.requests, 'request')} ({SAMPLING}; "
        "the figures above cover every request)",
        hang="  ",
    )
    notes(doc)
    if s["5xx"] and not doc.stopped_by_no_answer:
        err.print(f"hint: `{command('traces --errors')}` shows why requests failed", markup=False)


def notes(doc: LoadSummary) -> None:
    """What the summary could not measure, and requests that got no answer (when some
    did: none at all is the command's error)."""
    for note in doc.notes:
        err.print(f"note: {note}", markup=False)
    lost, sent = doc.status["no_answer"], doc.requests
    if 0 < lost < sent:
        reasons = ", ".join(doc.no_answer_reasons) or "no answer"
        err.print(
            f"note: {lost} of {render.plural(sent, 'request')} got no answer ({reasons})",
            markup=False,
        )
