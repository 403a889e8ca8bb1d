"""Output of `dogxray load`: a live progress bar on stderr, the summary on stdout."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dogxray.render import command, err, out


@contextmanager
def load_progress(total: int) -> Iterator[Callable[[Any], None]]:
    """A bar that counts answers, with the non-2xx ones so far."""
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


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def load_summary(doc: dict[str, Any]) -> None:
    s, lat = doc["status"], doc["latency_ms"]
    stopped = ""
    if doc["interrupted"]:
        stopped = f" (interrupted: {doc['requests']} of {doc['asked']} sent)"
    elif doc["stopped_by_duration"]:
        stopped = f" (duration reached: {doc['requests']} of {doc['asked']} sent)"
    lines = [
        f"{doc['requests']} requests at concurrency {doc['concurrency']} in "
        f"{doc['duration_s']:.2f} s: {doc['throughput_rps']:.1f} req/s{stopped}",
        f"status: 2xx {s['2xx']}  3xx {s['3xx']}  4xx {s['4xx']}  429 {s['429']}  "
        f"5xx {s['5xx']}  no answer {s['failed']}",
        f"latency ms: p50 {_ms(lat['p50'])}  p95 {_ms(lat['p95'])}  p99 {_ms(lat['p99'])}  "
        f"max {_ms(lat['max'])}",
        f"cold starts: {'?' if doc['cold_starts'] is None else doc['cold_starts']}  "
        f"throttles: {doc['throttles']}",
    ]
    for line in lines:
        out.print(line, markup=False)
    if doc["status"]["5xx"]:
        err.print(f"hint: `{command('traces --errors')}` shows why requests failed", markup=False)
