"""Trace output: the listing table, the waterfall, the percentile table, progress.

Works on the service's JSON-shaped dicts so text and `--output json` show the same
facts. Plain fixed-width lines (no rich tables) keep the output exact and greppable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from dogxray import render

BAR_WIDTH = 32
PROGRESS_MIN = 10  # show progress only when fetching more than a handful of traces
CONSOLE_URL = (
    "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#xray:traces/{id}"
)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def _marker(doc: dict[str, Any]) -> str:
    flags = [name.upper() for name in ("fault", "error", "throttle") if doc.get(name)]
    if doc.get("in_progress"):
        flags.append("in progress")
    elif doc.get("partial"):
        flags.append("partial")
    return ",".join(flags)


def _cause(cause: dict[str, Any] | None) -> str:
    return "" if not cause else f"{cause['segment']}: {cause['exception']}"


def note(result: dict[str, Any]) -> None:
    """The reason for an empty (or incomplete) result, on stderr."""
    if result.get("note"):
        render.progress(f"note: {result['note']}")


def emit_json(result: dict[str, Any]) -> None:
    """The SPEC document on stdout; the note (not part of the shape) on stderr."""
    note(result)
    render.json_doc({k: v for k, v in result.items() if k != "note"})


def table(result: dict[str, Any]) -> None:
    """`dogxray traces`: one line per trace, newest first."""
    rows = result["traces"]
    if rows:
        render.data(
            f"{'TIME (UTC)':<19}  {'TRACE ID':<35}  {'STATUS':>6}  {'DURATION':>11}  "
            f"{'call_dog_api':>12}  {'save_dog_to_s3':>14}  {'FLAGS':<11}  ROOT CAUSE"
        )
    for row in rows:
        subs = row["subsegments"]
        status = "-" if row["status"] is None else str(row["status"])
        render.data(
            f"{row['start'][:19].replace('T', ' '):<19}  {row['id']:<35}  {status:>6}  "
            f"{_ms(row['duration_ms']):>11}  {_ms(subs.get('call_dog_api')):>12}  "
            f"{_ms(subs.get('save_dog_to_s3')):>14}  {_marker(row):<11}  "
            f"{_cause(row['root_cause'])}".rstrip()
        )
    note(result)


def _bar(offset: float, duration: float, total: float) -> str:
    scale = BAR_WIDTH / total if total > 0 else 0.0
    begin = min(BAR_WIDTH - 1, int(offset * scale))
    length = max(1, min(BAR_WIDTH - begin, round(duration * scale)))
    return (" " * begin + "#" * length).ljust(BAR_WIDTH)


def _exception_keys(node: dict[str, Any]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for child in node["children"]:
        keys |= {(e["type"], e["message"]) for e in child["exceptions"]}
        keys |= _exception_keys(child)
    return keys


def _detail(node: dict[str, Any]) -> str:
    parts = [node["name"]]
    if node["origin"]:
        parts.append(f"({node['origin']})")
    aws = node["aws"]
    if aws.get("operation"):
        target = "/".join(str(aws[k]) for k in ("bucket_name", "key") if aws.get(k))
        parts.append(f"{aws['operation']} {target}".rstrip())
    if node["http_status"] is not None:
        parts.append(f"HTTP {node['http_status']}")
    if _marker(node):
        parts.append(_marker(node))
    return "  ".join(parts)


def _lines(node: dict[str, Any], depth: int, total: float) -> Iterator[str]:
    indent = "  " * depth
    yield (
        f"{node['start_offset_ms']:>9.1f}  {node['duration_ms']:>9.1f}  "
        f"|{_bar(node['start_offset_ms'], node['duration_ms'], total)}|  {indent}{_detail(node)}"
    )
    below = _exception_keys(node)  # shown once, under the node that raised it
    for exc in node["exceptions"]:
        if (exc["type"], exc["message"]) not in below:
            remote = " (remote)" if exc["remote"] else ""
            pad = " " * (9 + 2 + 9 + 2 + BAR_WIDTH + 2 + 2)
            yield f"{pad}{indent}  ! {exc['type']}: {exc['message']}{remote}"
    for child in node["children"]:
        yield from _lines(child, depth + 1, total)


def waterfall(detail: dict[str, Any], *, region: str, is_local: bool) -> None:
    """`dogxray trace ID`: each node on its own line, indented by depth, on a time bar."""
    flags = _marker(detail)
    render.data(f"trace {detail['id']}  {_ms(detail['duration_ms'])}  {flags}".rstrip())
    if detail["root_cause"]:
        cause = detail["root_cause"]
        remote = " (remote)" if cause["remote"] else ""
        render.data(
            f"root cause: {cause['segment']}: {cause['exception']}: {cause['message']}{remote}"
        )
    render.data(f"{'START ms':>9}  {'DUR ms':>9}  {'':{BAR_WIDTH + 2}}  NODE")
    for node in detail["nodes"]:
        for line in _lines(node, 0, detail["duration_ms"]):
            render.data(line.rstrip())
    if not is_local:
        render.data("console: " + CONSOLE_URL.format(region=region, id=detail["id"]))


def stats_table(result: dict[str, Any]) -> None:
    """`dogxray traces --stats`: counts and latency percentiles per lab subsegment."""
    window = result["window"]
    render.data(
        f"{result['count']} traces, {result['faults']} faults, {result['errors']} errors "
        f"({window['start']} .. {window['end']})"
    )
    render.data(
        f"{'SUBSEGMENT':<16}  {'COUNT':>6}  {'P50':>11}  {'P95':>11}  {'P99':>11}  "
        f"{'MAX':>11}  {'FAULTS':>7}"
    )
    for name, row in result["subsegments"].items():
        render.data(
            f"{name:<16}  {row['count']:>6}  {_ms(row['p50_ms']):>11}  {_ms(row['p95_ms']):>11}  "
            f"{_ms(row['p99_ms']):>11}  {_ms(row['max_ms']):>11}  {row['fault_rate']:>7.1%}"
        )
    note(result)


@contextmanager
def fetch_progress() -> Iterator[Callable[[int, int], None]]:
    """A progress callback for the fetcher: a live bar on a terminal, else one line."""
    state: dict[str, Any] = {"bar": None, "task": None, "said": False}

    def update(done: int, total: int) -> None:
        if total <= PROGRESS_MIN:
            return
        if not render.err.is_terminal:
            if not state["said"]:
                render.progress(f"fetching {total} traces from X-Ray ...")
                state["said"] = True
            return
        if state["bar"] is None:
            from rich.progress import Progress

            state["bar"] = Progress(console=render.err, transient=True)
            state["bar"].start()
            state["task"] = state["bar"].add_task("fetching traces", total=total)
        state["bar"].update(state["task"], completed=done, total=total)

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].stop()
