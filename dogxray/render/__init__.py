"""All terminal output. Two consoles: stdout for data, stderr for progress and errors.

`markup=False` wherever ARNs or AWS error text are printed (they contain brackets).
NO_COLOR is honoured by rich. Topic renderers live beside this file (lab, traces,
package, demo) and use only these consoles and helpers.

Width (one set of helpers for every renderer): `width()` is COLUMNS, else the terminal's,
else None (piped: nothing is cut or wrapped). Text is wrapped between words with a
hanging indent (`wrap`, `fit`, `pack`, or `data(..., hang=)`), names in table cells are
cut with an ellipsis (`cut`), and a URL or ARN is never cut (`labelled`: on its own line
when needed). `--output json` never depends on the width. Counts read `plural(n, word)`.
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
    for line in [text] if hang is None else fit(text, hang):
        out.print(line, markup=False)


def progress(text: str, *, hang: str | None = None) -> None:
    """A progress line on stderr, printed verbatim (with `hang`: wrapped, as `data`)."""
    for line in [text] if hang is None else fit(text, hang):
        err.print(line, markup=False)


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
