"""`dogxray map` output: a left-to-right picture of the service graph (boxes, arrows, the
health ring as a coloured bar), a per-node list, the node panel, and Mermaid.

The lab's graph is a chain that fans out at the end (client -> Lambda -> function ->
S3 bucket and Dog API hosts); that shape is drawn as boxes when it fits the width
(80 columns), otherwise (narrower terminal, another shape) only the vertical list is
printed. Functions return rich `Text` lines (pure; tests render them at a fixed width);
the list and the node panel wrap their long lines (exception messages, trace ids, long
names) at the width, the JSON keeps every value whole.

A node other callers use too (another lab's function writing to the same bucket) is
marked `shared`: its figures are the lab's own, as everywhere; the line `all callers:`
gives X-Ray's figures for every caller.
"""

from __future__ import annotations

import os

from rich.text import Text

from dogxray import render
from dogxray.traces.service_map import MapNode, NodePanel, ServiceMap, Stats

PICTURE_MIN_WIDTH = 80
INNER = 16  # a box's inner width
CLIENT_INNER = 8
ARROW = 4
LIST_BAR = 20
RING = (  # status, glyph, colour (glyphs differ so the ring reads without colour)
    ("ok", "█", "green"),
    ("error", "▓", "yellow"),
    ("throttle", "▒", "magenta"),
    ("fault", "░", "red"),
)
SHARED_TYPES = {  # a shared node's type line in a box (16 columns)
    "AWS::Lambda": "Lambda shared",
    "AWS::Lambda::Function": "Function shared",
    "AWS::S3::Bucket": "S3 bucket shared",
    "remote": "remote shared",
}
SHARED_NOTE = "shared: others call it too; the figures are the lab's own"
MIN_WIDTH = 40  # narrower terminals wrap as if 40 columns wide


def ring(stats: Stats, width: int) -> Text:
    """The health ring as a bar: each status's share of `width` cells (largest
    remainder; a status that happened gets at least one cell)."""
    total = stats.requests
    if not total:
        return Text("·" * width, style="dim")
    raw = {s: stats.count(s) * width / total for s, _, _ in RING}
    cells = {s: int(v) for s, v in raw.items()}
    for s in raw:
        if stats.count(s) and not cells[s]:
            cells[s] = 1
    while sum(cells.values()) > width:
        biggest = max(cells, key=lambda s: cells[s])
        cells[biggest] -= 1
    for s in sorted(raw, key=lambda s: raw[s] - int(raw[s]), reverse=True):
        if sum(cells.values()) >= width:
            break
        if stats.count(s):
            cells[s] += 1
    bar = Text()
    for status, glyph, colour in RING:
        bar.append(glyph * cells[status], style=colour)
    return bar


def legend() -> Text:
    line = Text("ring: ")
    for number, (status, glyph, colour) in enumerate(RING):
        line.append(("  " if number else "") + glyph, style=colour)
        line.append(f" {status}")
    return line


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrap(text: str, width: int, indent: str = "", style: str = "") -> list[Text]:
    """`text` in lines of at most `width` columns, continuation lines indented; a word
    longer than a line (an ARN) is cut into pieces that start lines of their own."""
    width = max(width, MIN_WIDTH)
    if len(text) <= width:
        return [Text(text, style=style)]
    room = width - len(indent)
    words: list[tuple[str, bool]] = []  # (word or piece, continues the previous piece)
    for word in text.split():
        glued = False
        while len(word) > room:
            words.append((word[:room], glued))
            word, glued = word[room:], True
        words.append((word, glued))
    lines: list[str] = []
    line = text[: len(text) - len(text.lstrip(" "))]  # the first line's own indent
    for word, glued in words:
        if not line.strip():
            line += word
        elif glued or len(line) + 1 + len(word) > width:
            lines.append(line)
            line = indent + word
        else:
            line += " " + word
    lines.append(line)
    return [Text(line, style=style) for line in lines]


def _type_line(node: MapNode, inner: int) -> str:
    short = render.type_label(node.type)
    if not node.shared:
        return short
    return SHARED_TYPES.get(node.type) or _fit(short, inner - 7) + " shared"


def _box(node: MapNode | None, inner: int) -> list[Text]:
    """7 lines: border, name, type, requests, latency, ring, border."""
    top, bottom = "┌" + "─" * inner + "┐", "└" + "─" * inner + "┘"
    if node is None:
        return [Text(" " * (inner + 2)) for _ in range(7)]
    stats = node.stats
    if node.type == "client":
        body = [node.name, "", f"{stats.requests} req", "", ""]
    else:
        body = [
            node.name,
            _type_line(node, inner),
            f"{stats.requests} req {stats.per_minute or 0:.1f}/min",
            f"avg {render.ms(stats.avg_ms)} ms",
        ]
    lines = [Text(top)]
    for text in body[:4]:
        lines.append(Text.assemble("│", _fit(text, inner).ljust(inner), "│"))
    if node.type == "client":
        lines.append(Text("│" + " " * inner + "│"))
    else:
        lines.append(Text.assemble("│", ring(stats, inner), "│"))
    lines.append(Text(bottom))
    return lines


def _columns(result: ServiceMap) -> list[list[MapNode]] | None:
    """Nodes by column when the graph is a chain that fans out only at its end."""
    nodes = {n.id: n for n in result.nodes}
    out: dict[int | None, list[int]] = {}
    for edge in result.edges:
        out.setdefault(edge.source, []).append(edge.target)
    targets = {e.target for e in result.edges}
    roots = [i for i in nodes if i not in targets]
    if len(roots) != 1:
        return None
    columns, current = [[nodes[roots[0]]]], roots[0]
    while len(out.get(current, [])) == 1:
        current = out[current][0]
        columns.append([nodes[current]])
    if out.get(current):
        leaves = out[current]
        if any(out.get(leaf) for leaf in leaves):
            return None
        columns.append([nodes[leaf] for leaf in leaves])
    placed = sum(len(c) for c in columns)
    return columns if placed == len(nodes) else None


def picture(result: ServiceMap, width: int) -> list[Text] | None:
    """Boxes left to right, or None when the graph does not fit `width` columns."""
    columns = _columns(result)
    if columns is None or width < PICTURE_MIN_WIDTH:
        return None
    inners = [CLIENT_INNER if col[0].type == "client" else INNER for col in columns]
    needed = sum(i + 2 for i in inners) + ARROW * (len(columns) - 1)
    if needed > width:
        return None
    last = columns[-1]
    height = 7 * len(last)
    rows = [Text() for _ in range(height)]
    mid = 3
    for index, column in enumerate(columns):
        boxes = [_box(node, inners[index]) for node in column]
        for row in range(height):
            which, line = divmod(row, 7)
            box = boxes[which] if which < len(boxes) else _box(None, inners[index])
            rows[row].append_text(box[line])
        if index == len(columns) - 1:
            break
        fan = len(columns[index + 1]) if index + 1 == len(columns) - 1 else 1
        stacked = fan > 1
        for row in range(height):
            which, line = divmod(row, 7)
            if not stacked:
                rows[row].append("───▶" if row == mid else " " * ARROW)
            elif line != mid or which >= fan:
                down = which < fan - 1 or (which == fan - 1 and line < mid)
                rows[row].append(" │  " if down and row > mid else " " * ARROW)
            elif which == 0:
                rows[row].append("─┬─▶")
            elif which == fan - 1:
                rows[row].append(" └─▶")
            else:
                rows[row].append(" ├─▶")
    for text in rows:
        text.rstrip()
    return rows


def _label(node: MapNode) -> str:
    label = node.name if node.type == "client" else f"{node.name} ({node.type})"
    return label + "  shared" if node.shared else label


def _all_callers(node: MapNode, width: int, indent: str = "  ") -> list[Text]:
    """A shared node's figures for every caller (X-Ray's), under the lab's own."""
    every = node.all_callers
    if not node.shared or not every:
        return []
    text = (
        f"{indent}all callers: {every.requests} req  avg {render.ms(every.avg_ms)} ms"
        f"{_failures(every)}"
    )
    return _wrap(text, width, indent + "  ")


def _stats_lines(stats: Stats, indent: str = "  ") -> list[Text]:
    """Three lines that fit 60 columns: volume and mean, percentiles, the ring."""
    counts = "  ".join(f"{s} {stats.count(s)}" for s, _, _ in RING)
    return [
        Text(
            f"{indent}{stats.requests} req  {stats.per_minute or 0:.1f}/min  "
            f"avg {render.ms(stats.avg_ms)} ms"
        ),
        Text(
            f"{indent}p50 {render.ms(stats.p50_ms)}  p95 {render.ms(stats.p95_ms)}  "
            f"p99 {render.ms(stats.p99_ms)} ms"
        ),
        Text.assemble(indent, ring(stats, LIST_BAR), "  " + counts),
    ]


def _failures(stats: Stats) -> str:
    return "".join(f"  {s} {n}" for s, n in stats.failures)


def node_list(result: ServiceMap, width: int = PICTURE_MIN_WIDTH) -> list[Text]:
    """Every node with its statistics and its outgoing edges (any width, any shape)."""
    nodes = {n.id: n for n in result.nodes}
    lines: list[Text] = []
    for node in result.nodes:
        lines.extend(_wrap(_label(node), width, "  ", style="bold"))
        if node.type != "client":
            lines.extend(_stats_lines(node.stats))
            lines.extend(_all_callers(node, width))
        for edge in result.edges:
            if edge.source == node.id:
                stats = edge.stats
                text = (
                    f"  -> {nodes[edge.target].name}  {stats.requests} req  "
                    f"avg {render.ms(stats.avg_ms)} ms{_failures(stats)}"
                )
                lines.extend(_wrap(text, width, "       "))
    return lines


def map_lines(result: ServiceMap, width: int) -> list[Text]:
    if result.traces is None:  # GetServiceGraph counts requests, not traces
        head = f"X-Ray service graph since {result.start}"
    else:
        head = f"{render.plural(result.traces, 'trace')} since {result.start}"
    lines = [Text(head)]
    if not result.nodes:
        return lines
    drawn = picture(result, width)
    shared = [Text(SHARED_NOTE)] if any(n.shared for n in result.nodes) else []
    if drawn is not None:
        lines.extend(drawn)
        lines.append(legend())
        lines.extend(shared)
        lines.append(Text(""))
    lines.extend(node_list(result, width))
    if drawn is None:
        lines.append(legend())
        lines.extend(shared)
    return lines


def panel_lines(detail: NodePanel, width: int = PICTURE_MIN_WIDTH) -> list[Text]:
    """`map --node`: statistics, status counts, histogram, exceptions; no line wider
    than `width` (long names, messages and trace ids wrap)."""
    node = detail.node
    lines = [*_wrap(_label(node), width, "  ", style="bold"), *_stats_lines(node.stats)]
    lines.extend(_all_callers(node, width))
    if node.shared:
        lines.append(Text(SHARED_NOTE))
    http = ", ".join(f"{code} x{n}" for code, n in detail.http.items() if code != "none")
    text = (
        "status: "
        + "  ".join(f"{s} {detail.statuses[s]}" for s, _, _ in RING)
        + (f"  (HTTP {http})" if http else "")
    )
    lines.extend(_wrap(text, width, "  "))
    lines.append(Text("response time (ms)"))
    for label, size, count in render.histogram_rows(detail.histogram, None):
        lines.append(Text.assemble(label, ("█" * size, "cyan"), f" {count}" if size else count))
    if not detail.exceptions:
        lines.append(Text("exceptions: none"))
    else:
        lines.append(Text("exceptions"))
    for exc in detail.exceptions:
        remote = " (remote)" if exc.remote else ""
        text = f"  {exc.count}x {exc.type}: {exc.message}{remote}"
        lines.extend(_wrap(text, width, "     "))
        lines.extend(_wrap("     newest: " + " ".join(exc.trace_ids), width, " " * 13))
    if detail.exceptions:
        lines.append(Text(f"open one with `{render.command('trace ID')}`"))
    return lines


def mermaid(result: ServiceMap) -> str:
    """A `flowchart LR` for Markdown; nodes with faults/errors get a coloured border."""
    lines = ["flowchart LR"]
    marked: dict[str, list[str]] = {"fault": [], "error": [], "shared": []}
    for node in result.nodes:
        stats, ident = node.stats, f"n{node.id}"
        name = node.name.replace('"', "#quot;")
        if node.type == "client":
            lines.append(f'    {ident}(["{name}"])')
            continue
        failures = _failures(stats).strip().replace("  ", ", ")
        avg = render.ms(stats.avg_ms)
        text = f"{name}<br/>{node.type}<br/>{stats.requests} req, avg {avg} ms"
        if failures:
            text += f"<br/>{failures}"
        every = node.all_callers
        if node.shared:
            text += "<br/>shared"
            if every:
                text += f": all callers {every.requests} req{_failures(every)}".replace("  ", ", ")
            marked["shared"].append(ident)
        lines.append(f'    {ident}["{text}"]')
        if stats.fault:
            marked["fault"].append(ident)
        elif stats.error or stats.throttle:
            marked["error"].append(ident)
    for edge in result.edges:
        stats = edge.stats
        label = f"{stats.requests} req, avg {render.ms(stats.avg_ms)} ms{_failures(stats)}"
        lines.append(f'    n{edge.source} -->|"{label.replace("  ", ", ")}"| n{edge.target}')
    lines.append("    classDef fault stroke:#d62728,stroke-width:3px")
    lines.append("    classDef error stroke:#ff7f0e,stroke-width:3px")
    if marked["shared"]:
        lines.append("    classDef shared stroke-dasharray:5 5")
    for kind, idents in marked.items():
        if idents:
            lines.append(f"    class {','.join(idents)} {kind}")
    return "\n".join(lines)


def columns() -> int:
    """The width to fit: COLUMNS when set (read at each call, as `render.traces` does),
    else the console's (the terminal's; 80 when piped)."""
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) > 0 else render.out.width


def _print(lines: list[Text]) -> None:
    for line in lines:
        render.out.print(line, soft_wrap=True, markup=False)


def text(result: ServiceMap) -> None:
    _print(map_lines(result, columns()))
    render.note(result.note)


def panel(detail: NodePanel) -> None:
    _print(panel_lines(detail, columns()))


def emit_mermaid(result: ServiceMap) -> None:
    render.data(mermaid(result))
    render.note(result.note)
