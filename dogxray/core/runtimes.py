"""Lambda's Python runtimes and their lifecycle: the one table dogxray checks against.

Source: the AWS Lambda runtimes table ("Supported runtimes" and "Deprecated runtimes",
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html), as of 2026-11-23; the
same dates are mirrored in cfn-lint's `LmbdRuntimeLifecycle.json` (1.58). AWS moves these
dates now and then: update the table, not the code.

Rules: a runtime whose create-block date has passed is refused (Lambda would refuse it);
a deprecated one is accepted with a one-line warning naming its dates; a `python3.N`
newer than the table (the Lambda API may already list it) is accepted, since Lambda is
the judge; anything else is unknown. Validation happens before any AWS call because moto
accepts every runtime string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dogxray.core.errors import DogxrayError

DEFAULT_RUNTIME = "python3.13"


@dataclass(frozen=True)
class Lifecycle:
    """Dates of the AWS table: deprecation, then create blocked, then update blocked."""

    deprecated: date
    create_blocked: date
    update_blocked: date


LIFECYCLE: dict[str, Lifecycle] = {
    "python2.7": Lifecycle(date(2021, 7, 15), date(2021, 7, 15), date(2022, 5, 30)),
    "python3.6": Lifecycle(date(2022, 7, 18), date(2022, 7, 18), date(2022, 8, 29)),
    "python3.7": Lifecycle(date(2023, 12, 4), date(2024, 1, 9), date(2027, 3, 3)),
    "python3.8": Lifecycle(date(2024, 10, 14), date(2027, 2, 1), date(2027, 3, 3)),
    "python3.9": Lifecycle(date(2025, 12, 15), date(2027, 2, 1), date(2027, 3, 3)),
    "python3.10": Lifecycle(date(2026, 10, 31), date(2027, 2, 1), date(2027, 3, 3)),
    "python3.11": Lifecycle(date(2027, 6, 30), date(2027, 7, 31), date(2027, 8, 31)),
    "python3.12": Lifecycle(date(2028, 10, 31), date(2028, 11, 30), date(2029, 1, 10)),
    "python3.13": Lifecycle(date(2029, 6, 30), date(2029, 7, 31), date(2029, 8, 31)),
    "python3.14": Lifecycle(date(2029, 6, 30), date(2029, 7, 31), date(2029, 8, 31)),
}
_PYTHON_RE = re.compile(r"^python3\.(\d{1,2})$")
_NEWEST_MINOR = max(int(m[1]) for m in map(_PYTHON_RE.match, LIFECYCLE) if m)


def _minor(runtime: str) -> int | None:
    match = _PYTHON_RE.match(runtime)
    return int(match[1]) if match else None


def creatable(today: date | None = None) -> list[str]:
    """The table's runtimes Lambda still creates functions with, oldest first."""
    day = today or date.today()
    return [name for name, life in LIFECYCLE.items() if life.create_blocked > day]


def validate(runtime: str, today: date | None = None) -> str:
    """Refuse what Lambda refuses or does not know (exit 2); accept everything else."""
    day = today or date.today()
    life = LIFECYCLE.get(runtime)
    if life is not None:
        if life.create_blocked <= day:
            raise DogxrayError.usage(
                f"Lambda no longer creates functions with {runtime}: creation is blocked "
                f"since {life.create_blocked.isoformat()} (deprecated "
                f"{life.deprecated.isoformat()})",
                hint=f"use {DEFAULT_RUNTIME} (the default) or another of "
                f"{', '.join(creatable(day))}",
            )
        return runtime
    minor = _minor(runtime)
    if minor is not None and minor > _NEWEST_MINOR:
        return runtime  # newer than our table: Lambda decides
    raise DogxrayError.usage(
        f"unknown runtime {runtime!r}",
        hint=f"use a Python runtime Lambda offers, e.g. {DEFAULT_RUNTIME} (the default); "
        f"creatable today: {', '.join(creatable(day))}",
    )


def warning(runtime: str, today: date | None = None) -> str | None:
    """One line for a deprecated (still creatable) runtime, None otherwise."""
    day = today or date.today()
    life = LIFECYCLE.get(runtime)
    if life is None or life.deprecated > day:
        return None
    return (
        f"warning: {runtime} is deprecated since {life.deprecated.isoformat()} (no more "
        f"security patches); Lambda blocks creating functions with it from "
        f"{life.create_blocked.isoformat()} and updating them from "
        f"{life.update_blocked.isoformat()}; {DEFAULT_RUNTIME} is the default"
    )


def _span(names: list[str]) -> str:
    """["python3.12", "python3.13", "python3.14"] -> "python3.12-3.14"."""
    if len(names) == 1:
        return names[0]
    return f"{names[0]}-{names[-1].removeprefix('python')}"


def help_text(today: date | None = None) -> str:
    """`--runtime`'s help, from the table: the supported runtimes, the default, and the
    deprecated ones Lambda still creates (accepted with a warning)."""
    day = today or date.today()
    names = creatable(day)
    current = [n for n in names if LIFECYCLE[n].deprecated > day]
    old = [n for n in names if LIFECYCLE[n].deprecated <= day]
    text = f"{_span(current or names)} (default {DEFAULT_RUNTIME})"
    if current and old:
        text += f"; {_span(old)} deprecated, still accepted"
    return text
