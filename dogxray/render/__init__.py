"""All terminal output. Two consoles: stdout for data, stderr for progress and errors.

`markup=False` wherever ARNs or AWS error text are printed (they contain brackets).
NO_COLOR is honoured by rich. Topic renderers live beside this file (lab, traces,
package, demo) and use only these consoles and helpers.

Width (one set of helpers for every renderer): `width()` is COLUMNS, else the terminal's,
else None (piped: nothing is cut or wrapped). Text is wrapped between words with a
hanging indent (`wrap`, `fit`, `pack`, or `data(..., hang=)`), names in table cells are
cut with an ellipsis (`cut`), and a URL or ARN is never cut (`labelled`: on its own line
when needed). `--output json` never depends on the width. Counts read `plural(n, word)`.

The rest of the toolkit, so no topic renderer keeps a copy: `ms` and `duration`
(milliseconds, one format family), `type_label` (X-Ray node types as people say them),
`histogram_rows` (response-time bars scaled to the fullest bin and the room left), `note`
and `json_with_note` (a result's note goes to stderr, never into the JSON document).
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from typing import Any

from rich.console import Console

from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError

# The running command's global options (set by `cli.main_options`), for `command`.
_settings = Settings()


def use_settings(settings: Settings) -> None:
    global _settings
    _settings = settings


def command(args: str, *, lab: bool = True) -> str:
    """A dogxray command line for a hint, with this run's global options
    (`Settings.command`): `command("test")` -> "dogxray --lab a test"."""
    return _settings.command(args, lab=lab)


# file=None: rich resolves sys.stdout/sys.stderr at print time (CliRunner swaps them).
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


ELLIPSIS = "\u2026"


def width() -> int | None:
    """Columns to fit: COLUMNS, else the terminal's; None (no limit) when piped."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return out.width if out.is_terminal else None


def cut(text: str, limit: int | None) -> str:
    """`text` shortened to `limit` columns with an ellipsis (never wrapped)."""
    if limit is None or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def _indent(indent: str, limit: int) -> str:
    """`indent`, shortened to leave a third of the line (at least 10 columns) for text."""
    return indent[: max(0, min(len(indent), limit - max(10, limit // 3)))]


def wrap(text: str, limit: int | None, indent: str = "  ", *, hard: bool = False) -> list[str]:
    """`text` wrapped between words onto lines of `limit` columns, the later ones
    indented by `indent` (never so far that under a third of the line is left).
    A token longer than a line (a URL, an ARN) stays whole, or with `hard` is broken."""
    if limit is None or len(text) <= limit:
        return [text]
    body = text.lstrip(" ")
    lead = _indent(text[: len(text) - len(body)], limit)
    return textwrap.wrap(
        body,
        limit,
        initial_indent=lead,
        subsequent_indent=_indent(indent, limit),
        break_long_words=hard,
        break_on_hyphens=False,
    ) or [text]


def pack(
    parts: list[str], limit: int | None, indent: str = "  ", *, lead: str = "", sep: str = "  "
) -> list[str]:
    """`lead` then `parts` joined by `sep`, onto lines of `limit` columns: a part moves
    whole to the next line (indented by `indent`) when it does not fit; only a part
    longer than a whole line is wrapped between words (its long tokens broken)."""
    text = lead + sep.join(parts)
    if limit is None or len(text) <= limit:
        return [text]
    indent = _indent(indent, limit)
    lines: list[str] = []
    line, empty = lead, True  # `empty`: no part on this line yet
    for part in parts:
        joined = line + part if empty else f"{line}{sep}{part}"
        if len(joined) <= limit:
            line, empty = joined, False
            continue
        if not empty:
            lines.append(line)
            line, empty = indent, True
            if len(indent + part) <= limit:
                line, empty = indent + part, False
                continue
        *done, line = wrap(line + part, limit, indent, hard=True)
        lines += done
        empty = False
    lines.append(line)
    return lines


def fit(text: str, indent: str = "  ", *, hard: bool = False) -> list[str]:
    """`text` wrapped to the console width (`width()`); see `wrap`."""
    return wrap(text, width(), indent, hard=hard)


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 trace`, `2 traces`, `0 traces` (`many` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def labelled(label: str, value: str, indent: str = "  ") -> list[str]:
    """`label value` on one line when it fits the console width, else the value on its
    own line, indented under the label. The value (a URL, an ARN) is never cut: one
    longer than a whole line starts the line and is left for the terminal to fold, so
    it copies whole."""
    limit = width()
    if limit is None or len(label) + 1 + len(value) <= limit:
        return [f"{label} {value}"]
    lead = " " * (len(label) - len(label.lstrip(" "))) + indent
    return [label, lead + value if len(lead + value) <= limit else value]


def data(text: str, *, hang: str | None = None) -> None:
    """A line of data on stdout, printed verbatim; with `hang`, wrapped between words
    to the console width, the continuation lines indented by `hang`."""
    data_lines([text] if hang is None else fit(text, hang))


def data_lines(lines: list[str]) -> None:
    """Lines of data on stdout, verbatim, in one write: they carry no style, so rich's
    renderer (it splits and measures every line: ~17 ms for 1,000 rows) has nothing to
    add. `out.file` is stdout as of now (CliRunner swaps it)."""
    if lines:
        stream = out.file
        stream.write("\n".join(lines) + "\n")
        stream.flush()


def progress(text: str, *, hang: str | None = None) -> None:
    """A progress line on stderr, printed verbatim (with `hang`: wrapped, as `data`)."""
    for line in [text] if hang is None else fit(text, hang):
        err.print(line, markup=False)


def note(text: str | None) -> None:
    """A result's note (why it is empty or incomplete) on stderr; nothing without one."""
    if text:
        progress(f"note: {text}")


def json_with_note(doc: dict[str, Any]) -> None:
    """A result's JSON document on stdout and its note (not part of the shape) on stderr."""
    note(doc.get("note"))
    json_doc({key: value for key, value in doc.items() if key != "note"})


def ms(value: float | None, *, decimals: int | None = None, unit: bool = False) -> str:
    """Milliseconds as every renderer writes them: "-" when unknown; by default whole from
    100 ms and one decimal below (maps, histograms, the report), else `decimals` places
    with thousands separators; `unit` adds " ms"."""
    if value is None:
        return "-"
    value = float(value)
    if decimals is None:
        text = f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    else:
        text = f"{value:,.{decimals}f}"
    return f"{text} ms" if unit else text


def duration(value: float | None, decimals: int = 1) -> str:
    """A duration with its unit, for lines people read: "1,234.5 ms"; "-" when unknown."""
    return ms(value, decimals=decimals, unit=True)


TYPE_LABELS = {
    "AWS::Lambda": "Lambda service",
    "AWS::Lambda::Function": "Lambda function",
    "AWS::S3::Bucket": "S3 bucket",
    "remote": "remote host",
}


def type_label(node_type: str) -> str:
    """An X-Ray node type as people say it ("AWS::S3::Bucket" -> "S3 bucket")."""
    return TYPE_LABELS.get(node_type, node_type)


HIST_BAR = 30  # the longest histogram bar


def histogram_rows(bins: list[dict[str, Any]], limit: int | None) -> list[tuple[str, int, str]]:
    """The response-time histogram as (range label, bar length, count) rows: bars scaled
    to the fullest bin and to the room `limit` leaves beside the labels (HIST_BAR when
    None); each renderer draws the bars its own way."""
    if not bins:
        return []
    labels = [f"  {ms(b['from_ms']):>7} .. {ms(b['to_ms']):>7}  " for b in bins]
    counts = [str(b["count"]) for b in bins]
    room = HIST_BAR
    if limit is not None:
        room = max(4, min(HIST_BAR, limit - max(map(len, labels)) - 1 - max(map(len, counts))))
    top = max(b["count"] for b in bins)
    return [
        (label, round(b["count"] * room / top) if top else 0, count)
        for label, count, b in zip(labels, counts, bins, strict=True)
    ]


def json_doc(doc: Any) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    sys.stdout.flush()


def error(exc: DogxrayError) -> None:
    """One clear message with a hint, no traceback."""
    where = f" ({exc.where})" if exc.where else ""
    err.print(f"error: {exc.what}{where}", markup=False, style="bold red")
    if exc.hint:
        err.print(f"hint: {exc.hint}", markup=False)


def interrupted() -> None:
    err.print(
        "interrupted: nothing is lost; re-run the same command to finish, "
        f"or `{command('cleanup')}` to remove what was made",
        markup=False,
        style="yellow",
    )
