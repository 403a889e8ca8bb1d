"""Trace output: the listing table, the waterfall, the percentile table, progress.

Takes the services' results (`TraceList`, `TraceDetail`, `TraceStats`); a trace's nodes
are their SPEC JSON shape, so text and `--output json` show the same facts. Plain
fixed-width lines (no rich tables) keep the output exact and greppable.

Width: the terminal's (or COLUMNS); piped output without COLUMNS is not cut. Down to 80
columns every line fits (compact columns, a second line per trace, scaled bars, names
shortened with an ellipsis, text wrapped between words); narrower, the layouts keep the
tree indentation and only unbreakable tokens (a trace id, a URL) may overflow. JSON output
never changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dogxray import render
from dogxray.core.window import iso
from dogxray.traces.analysis import ROW_SUBSEGMENTS, SubsegmentStats, TraceRow, TraceStats

if TYPE_CHECKING:  # the service module imports botocore; `--help` imports none of it
    from dogxray.traces.service import TraceDetail, TraceList

BAR_WIDTH = 32
MIN_BAR_WIDTH = 8
LABEL_ROOM = 44  # on a narrow terminal, node labels get this much before the bar shrinks
PROGRESS_MIN = 10  # show progress only when fetching more than a handful of traces
CONSOLE_URL = (
    "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#xray:traces/{id}"
)


def _flags(
    fault: bool, error: bool, throttle: bool, *, in_progress: bool = False, partial: bool = False
) -> str:
    flags = [
        n.upper() for n, on in (("fault", fault), ("error", error), ("throttle", throttle)) if on
    ]
    if in_progress:
        flags.append("in progress")
    elif partial:
        flags.append("partial")
    return ",".join(flags)


def _marker(node: dict[str, Any]) -> str:
    """A waterfall node's flags."""
    return _flags(
        bool(node.get("fault")),
        bool(node.get("error")),
        bool(node.get("throttle")),
        in_progress=bool(node.get("in_progress")),
    )


def _row_flags(row: TraceRow) -> str:
    return _flags(row.fault, row.error, row.throttle, partial=row.partial)


def _cause(cause: dict[str, Any] | None) -> str:
    return "" if not cause else f"{cause['segment']}: {cause['exception']}"


def table(result: TraceList) -> None:
    """`dogxray traces`: one line per trace, newest first (two when the terminal is
    narrow: the flags and root cause go on the second)."""
    rows = result.traces
    limit = render.width()
    if rows:
        header, lines = _full_table(rows)
        fixed = len(header) - len("ROOT CAUSE")
        if limit is None or max(len(line) for line in [header, *lines]) <= limit:
            render.data_lines([header, *lines])
        elif limit >= fixed + 12:
            render.data_lines([render.cut(line, limit) for line in [header, *lines]])
        else:
            render.data_lines(_compact_table(rows, limit))
    render.note(result.note)


def _with_steps(rows: list[TraceRow]) -> bool:
    """Whether the subsegment columns show: some row was built from its documents."""
    return any(row.timings is not None for row in rows)


def _full_table(rows: list[TraceRow]) -> tuple[str, list[str]]:
    dog_api, s3 = ROW_SUBSEGMENTS
    steps = _with_steps(rows)
    header = (
        f"{'TIME (UTC)':<19}  {'TRACE ID':<35}  {'STATUS':>6}  {'DURATION':>11}  "
        + (f"{dog_api:>12}  {s3:>14}  " if steps else "")
        + f"{'FLAGS':<11}  ROOT CAUSE"
    )
    lines = []
    for row in rows:
        status = "-" if row.status is None else str(row.status)
        timings = (
            f"{render.duration(row.timing(dog_api)):>12}  {render.duration(row.timing(s3)):>14}  "
            if steps
            else ""
        )
        lines.append(
            f"{iso(row.start)[:19].replace('T', ' '):<19}  {row.id:<35}  {status:>6}  "
            f"{render.duration(row.duration_ms):>11}  {timings}{_row_flags(row):<11}  "
            f"{_cause(row.root_cause)}".rstrip()
        )
    return header, lines


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _compact_table(rows: list[TraceRow], limit: int) -> list[str]:
    """Time of day (a date line when the day changes), durations in ms without units;
    flags and root cause on one line if they fit, else on a second, indented line.
    Narrower than the five columns, the subsegment times move to the second line too."""
    dog_api, s3 = ROW_SUBSEGMENTS
    steps = _with_steps(rows)
    cells = []
    for row in rows:
        cells.append(
            [
                iso(row.start)[11:19],
                row.id,
                "-" if row.status is None else str(row.status),
                _num(row.duration_ms),
                _num(row.timing(dog_api)),
                _num(row.timing(s3)),
            ]
        )
    titles = ["TIME UTC", "TRACE ID", "HTTP", "TOTAL ms", "DOG API", "S3 SAVE"]
    left = {0, 1}
    widths = [max(len(titles[i]), *(len(c[i]) for c in cells)) for i in range(len(titles))]

    def line(values: list[str], count: int, gap: str) -> str:
        return gap.join(
            v.ljust(widths[i]) if i in left else v.rjust(widths[i])
            for i, v in enumerate(values[:count])
        )

    count, gap = (6, "  ") if steps else (4, "  ")
    if len(line(titles, count, gap)) > limit:
        count, gap = 4, " "  # subsegment times join the second line
    tails = []
    for row, cell in zip(rows, cells, strict=True):
        extra = []
        if count == 4 and steps:
            extra.append(f"api {cell[4]}  s3 {cell[5]}")
        extra += [x for x in (_row_flags(row), _cause(row.root_cause)) if x]
        tails.append("  ".join(extra))
    first = [line(c, count, gap) for c in cells]
    flags = max(len(_row_flags(row)) for row in rows)
    one_line = (count == 6 or not steps) and all(
        len(f) + 2 + flags + 2 + len(_cause(r.root_cause)) <= limit
        for f, r in zip(first, rows, strict=True)
    )
    out = [line(titles, count, gap) + (f"  {'FLAGS':<{flags}}  ROOT CAUSE" if one_line else "")]
    indent = " " * (widths[0] + len(gap))
    day = ""
    for row, head, tail in zip(rows, first, tails, strict=True):
        if iso(row.start)[:10] != day:
            day = iso(row.start)[:10]
            out.append(day)
        if one_line:
            rest = f"{_row_flags(row):<{flags}}  {_cause(row.root_cause)}".rstrip()
            out.append(render.cut(f"{head}  {rest}".rstrip(), limit))
            continue
        out.append(head)
        if tail:
            out += render.wrap(indent + tail, limit, indent + "  ")
    return out


def _bar(offset: float, duration: float, total: float, bar_width: int = BAR_WIDTH) -> str:
    scale = bar_width / total if total > 0 else 0.0
    begin = min(bar_width - 1, int(offset * scale))
    length = max(1, min(bar_width - begin, round(duration * scale)))
    return (" " * begin + "#" * length).ljust(bar_width)


def _exception_keys(node: dict[str, Any]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for child in node["children"]:
        keys |= {(e["type"], e["message"]) for e in child["exceptions"]}
        keys |= _exception_keys(child)
    return keys


def _detail(node: dict[str, Any], *, room: int | None = None) -> str:
    """The node's label. With `room`: what matters most first (name, flags, status),
    then whole parts while they fit; a part that does not is cut with an ellipsis only
    if enough of it shows."""
    name, origin = node["name"], f"({node['origin']})" if node["origin"] else ""
    aws = node["aws"]
    operation = ""
    if aws.get("operation"):
        target = "/".join(str(aws[k]) for k in ("bucket_name", "key") if aws.get(k))
        operation = f"{aws['operation']} {target}".rstrip()
    status = f"HTTP {node['http_status']}" if node["http_status"] is not None else ""
    full = "  ".join(p for p in (name, origin, operation, status, _marker(node)) if p)
    if room is None or len(full) <= room:
        return full
    label = ""
    for part in (p for p in (name, _marker(node), status, operation, origin) if p):
        joined = f"{label}  {part}" if label else part
        if len(joined) <= room:
            label = joined
            continue
        if not label or room - len(label) - 2 >= 12:
            label = render.cut(joined, room)
        break
    return label


def _flatten(node: dict[str, Any], depth: int) -> Iterator[tuple[dict[str, Any], int]]:
    yield node, depth
    for child in node["children"]:
        yield from _flatten(child, depth + 1)


def _lines(nodes: list[dict[str, Any]], total: float, limit: int | None) -> tuple[str, list[str]]:
    """The column header and one line per node (plus its exceptions), fitted to
    `limit`: full labels on a 32-column bar when they fit, else a shorter bar (down to
    MIN_BAR_WIDTH) and labels cut with an ellipsis; indentation is always kept."""
    flat = [pair for node in nodes for pair in _flatten(node, 0)]
    longest = max((2 * depth + len(_detail(node)) for node, depth in flat), default=0)
    num = 9  # START and DUR columns
    prefix = num + 2 + num + 2 + 2 + 2  # the bar's two '|' and the gaps
    bar_width = BAR_WIDTH
    if limit is not None and prefix + BAR_WIDTH + longest > limit:
        values = [f"{n[k]:.1f}" for n, _ in flat for k in ("start_offset_ms", "duration_ms")]
        num = max(len("START ms"), *(len(v) for v in values))
        prefix = num + 2 + num + 2 + 2 + 2
        wanted = min(longest, LABEL_ROOM)
        bar_width = max(MIN_BAR_WIDTH, min(BAR_WIDTH, limit - prefix - wanted))
    room = None if limit is None else limit - prefix - bar_width
    pad = " " * (prefix + bar_width)
    out = []
    for node, depth in flat:
        indent = "  " * depth
        label = indent + _detail(node, room=None if room is None else room - len(indent))
        out.append(
            f"{node['start_offset_ms']:>{num}.1f}  {node['duration_ms']:>{num}.1f}  "
            f"|{_bar(node['start_offset_ms'], node['duration_ms'], total, bar_width)}|  "
            f"{label}".rstrip()
        )
        below = _exception_keys(node)  # shown once, under the node that raised it
        for exc in node["exceptions"]:
            if (exc["type"], exc["message"]) not in below:
                remote = " (remote)" if exc["remote"] else ""
                text = f"{indent}  ! {exc['type']}: {exc['message']}{remote}"
                out += [pad + line for line in render.wrap(text, room, indent + "    ")]
    header = f"{'START ms':>{num}}  {'DUR ms':>{num}}  {'':{bar_width + 2}}  NODE"
    return header, out


def waterfall(detail: TraceDetail, *, region: str, is_local: bool) -> None:
    """`dogxray trace ID`: each node on its own line, indented by depth, on a time bar."""
    limit = render.width()
    flags = "partial" if detail.partial else ""
    render.data(f"trace {detail.id}  {render.duration(detail.duration_ms)}  {flags}".rstrip())
    if detail.root_cause:
        cause = detail.root_cause
        remote = " (remote)" if cause["remote"] else ""
        text = f"root cause: {cause['segment']}: {cause['exception']}: {cause['message']}{remote}"
        for line in render.wrap(text, limit):
            render.data(line)
    header, lines = _lines(detail.nodes, detail.duration_ms, limit)
    render.data(header)
    for line in lines:
        render.data(line)
    if not is_local:
        link = CONSOLE_URL.format(region=region, id=detail.id)
        if limit is None or len(link) + 9 <= limit:
            render.data("console: " + link)
        else:  # a URL is never cut: on its own line
            render.data("console:")
            render.data(link)


def stats_table(result: TraceStats) -> None:
    """`dogxray traces --stats`: counts and latency percentiles per lab subsegment."""
    limit = render.width()
    counts = ", ".join(
        render.plural(n, word)
        for n, word in ((result.count, "trace"), (result.faults, "fault"), (result.errors, "error"))
    )
    span = f"({result.window[0]} .. {result.window[1]})"
    if limit is None or len(counts) + 1 + len(span) <= limit:
        render.data(f"{counts} {span}")
    else:
        render.data(counts)
        render.data(f"window {span[1:-1]}")
    header, lines = _stats_lines(result.subsegments, limit)
    for line in [header, *lines]:
        render.data(line)
    for line in histogram_lines(result.histogram, limit):
        render.data(line)
    render.note(result.note)


def histogram_lines(bins: list[dict[str, Any]], limit: int | None) -> list[str]:
    """The response-time histogram as text bars (`traces --stats`), within `limit`."""
    rows = render.histogram_rows(bins, limit)
    if not rows:
        return []
    bars = [
        f"{label}{'#' * size} {count}" if size else f"{label}{count}" for label, size, count in rows
    ]
    return ["response time (ms)", *bars]


def _stats_lines(
    subsegments: dict[str, SubsegmentStats], limit: int | None
) -> tuple[str, list[str]]:
    header = (
        f"{'SUBSEGMENT':<16}  {'COUNT':>6}  {'P50':>11}  {'P95':>11}  {'P99':>11}  "
        f"{'MAX':>11}  {'FAULTS':>7}"
    )

    def times(row: SubsegmentStats) -> list[float | None]:
        return [row.p50_ms, row.p95_ms, row.p99_ms, row.max_ms]

    full = [
        f"{name:<16}  {row.count:>6}  "
        + "  ".join(f"{render.duration(t):>11}" for t in times(row))
        + f"  {row.fault_rate:>7.1%}"
        for name, row in subsegments.items()
    ]
    if limit is None or max(len(line) for line in [header, *full]) <= limit:
        return header, full
    # compact: times in ms without units; P95 dropped if still too wide; names cut last
    cells = {
        name: [str(row.count), *(_num(t) for t in times(row)), f"{row.fault_rate:.1%}"]
        for name, row in subsegments.items()
    }
    titles = ["COUNT", "P50 ms", "P95 ms", "P99 ms", "MAX ms", "FAULTS"]
    widths = [max(len(t), *(len(c[i]) for c in cells.values())) for i, t in enumerate(titles)]
    names = max([len("SUBSEGMENT"), *(len(n) for n in cells)])
    keep = list(range(len(titles)))
    if names + sum(widths[i] + 2 for i in keep) > limit:
        keep.remove(2)  # P95: P50, P99 and MAX still show the spread
    name_width = max(len("SUBSEGMENT"), min(names, limit - sum(widths[i] + 2 for i in keep)))

    def line(first: str, values: list[str]) -> str:
        return f"{render.cut(first, name_width):<{name_width}}" + "".join(
            f"  {values[i]:>{widths[i]}}" for i in keep
        )

    return line("SUBSEGMENT", titles), [line(name, c) for name, c in cells.items()]


@contextmanager
def fetch_progress() -> Iterator[Callable[[int, int], None]]:
    """A progress callback for the fetcher: a live bar on a terminal, else one line."""
    state: dict[str, Any] = {"bar": None, "task": None, "said": False}
    terminal = render.err.is_terminal  # asked once, not on every batch

    def update(done: int, total: int) -> None:
        if total <= PROGRESS_MIN:
            return
        if not terminal:
            if not state["said"]:
                render.progress(f"fetching {total} traces from X-Ray ...")
                state["said"] = True
            return
        if state["bar"] is None:
            from rich.progress import Progress

            bar = Progress(console=render.err, transient=True)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task("fetching traces", total=total)
        state["bar"].update(state["task"], completed=done, total=total)

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].stop()
