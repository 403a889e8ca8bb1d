"""All terminal output. Two consoles: stdout for data, stderr for progress and errors.

`markup=False` wherever ARNs or AWS error text are printed (they contain brackets).
NO_COLOR is honoured by rich. Topic renderers live beside this file (lab, traces,
package, demo) and use only these consoles and helpers.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from dogxray.config import Settings
from dogxray.errors import DogxrayError

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


def data(text: str) -> None:
    """A line of data on stdout, printed verbatim."""
    out.print(text, markup=False)


def progress(text: str) -> None:
    """A progress line on stderr, printed verbatim."""
    err.print(text, markup=False)


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
