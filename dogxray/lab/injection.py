"""The injection rules: what `DOGXRAY_INJECT_*` in the function's environment means
and which values are allowed (the triage lab's latency and failures).

The payload reads the variables (lambda_payload/injection.py). One set of rules (`check`)
for both ways in: `inject`'s options and `configure --env DOGXRAY_INJECT_*=...`
(`check_env`, on the function's environment as it will be). The function's timeout is
checked where it is known, when any stage plans the function's configuration (`fits`): an
injected latency must leave `MARGIN_MS` of the timeout for the request's own work, or
every hit request would time out. The control plane (lab) checks them; `dogxray inject`
(triage) sets them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from dogxray.core.config import (
    ENV_INJECT_AT,
    ENV_INJECT_FAILURE_RATE,
    ENV_INJECT_LATENCY_MS,
    ENV_INJECT_LATENCY_RATE,
    ENV_INJECT_SEED,
    INJECT_STEPS,
    Settings,
)
from dogxray.core.errors import DogxrayError

MAX_LATENCY_MS = 900_000  # Lambda's longest timeout
MARGIN_MS = 2_000  # of the timeout, left for the request's own work (Dog API, S3)
_LATENCY_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)$")
_LATENCY_HINT = "e.g. --latency 5s (ms, s or m)"


@dataclass(frozen=True)
class Names:
    """How the user spelled each setting, for messages: options or variables."""

    latency: str
    rate: str
    failure: str
    at: str
    seed: str
    latency_hint: str


OPTIONS = Names("--latency", "--rate", "--failure-rate", "--at", "--seed", _LATENCY_HINT)


def _variables(settings: Settings) -> Names:
    """The names `check` uses for `configure --env DOGXRAY_INJECT_*`."""
    return Names(
        ENV_INJECT_LATENCY_MS,
        ENV_INJECT_LATENCY_RATE,
        ENV_INJECT_FAILURE_RATE,
        ENV_INJECT_AT,
        ENV_INJECT_SEED,
        f"{ENV_INJECT_LATENCY_MS} is in milliseconds; "
        f"`{settings.command('inject --latency 5s')}` sets it",
    )


@dataclass(frozen=True)
class Injection:
    latency_ms: int = 0
    latency_rate: float = 1.0
    failure_rate: float = 0.0
    at: str = INJECT_STEPS[0]
    seed: int | None = None

    def to_env(self) -> dict[str, str]:
        env = {
            ENV_INJECT_LATENCY_MS: str(self.latency_ms),
            ENV_INJECT_LATENCY_RATE: f"{self.latency_rate:g}",
            ENV_INJECT_FAILURE_RATE: f"{self.failure_rate:g}",
            ENV_INJECT_AT: self.at,
        }
        if self.seed is not None:
            env[ENV_INJECT_SEED] = str(self.seed)
        return env

    def to_json(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "latency_rate": self.latency_rate,
            "failure_rate": self.failure_rate,
            "at": self.at,
            "seed": self.seed,
        }

    def describe(self) -> str:
        parts = []
        if self.latency_ms:
            parts.append(f"+{self.latency_ms} ms on {self.latency_rate:.0%} of requests")
        if self.failure_rate:
            parts.append(f"{self.failure_rate:.0%} of requests fail")
        return f"{', '.join(parts)} (before {self.at})"


def from_env(env: dict[str, str] | Any) -> Injection | None:
    """The injection a function's environment carries; None when off."""
    if not any(name in env for name in (ENV_INJECT_LATENCY_MS, ENV_INJECT_FAILURE_RATE)):
        return None
    try:
        found = Injection(
            latency_ms=int(env.get(ENV_INJECT_LATENCY_MS, "0")),
            latency_rate=float(env.get(ENV_INJECT_LATENCY_RATE, "1")),
            failure_rate=float(env.get(ENV_INJECT_FAILURE_RATE, "0")),
            at=env.get(ENV_INJECT_AT, INJECT_STEPS[0]),
            seed=int(env[ENV_INJECT_SEED]) if env.get(ENV_INJECT_SEED) else None,
        )
    except ValueError:
        return Injection(at="(unreadable settings)")
    return found if found.latency_ms or found.failure_rate else None


def parse_latency(text: str) -> int:
    """`--latency` (`5s`, `800ms`, `1.5m`, `0s`) -> whole milliseconds, 0-MAX_LATENCY_MS."""
    match = _LATENCY_RE.match(text.strip().lower())
    if not match:
        raise DogxrayError.usage(f"invalid --latency {text!r}", hint=_LATENCY_HINT)
    ms = round(float(match[1]) * {"ms": 1, "s": 1000, "m": 60_000}[match[2]])
    if ms > MAX_LATENCY_MS:
        raise DogxrayError.usage(
            f"--latency {text} is above {MAX_LATENCY_MS // 1000} s, Lambda's longest timeout",
            hint=_LATENCY_HINT,
        )
    return ms


def check(
    latency_ms: int = 0,
    failure_rate: float = 0.0,
    latency_rate: float | None = None,
    at: str | None = None,
    *,
    seed: int | None = None,
    names: Names = OPTIONS,
) -> Injection | None:
    """The one validation of an injection (exit 2 on bad input), before any change.
    None when nothing is injected (`inject` itself refuses that; a configuration whose
    variables ask for nothing is simply off)."""
    if not 0 <= latency_ms <= MAX_LATENCY_MS:
        raise DogxrayError.usage(
            f"{names.latency} {latency_ms} ms is outside 0-{MAX_LATENCY_MS} ms",
            hint=names.latency_hint,
        )
    for name, rate in ((names.failure, failure_rate), (names.rate, latency_rate)):
        if rate is not None and not (math.isfinite(rate) and 0.0 <= rate <= 1.0):
            raise DogxrayError.usage(f"{name} {rate:g} is outside 0-1", hint="e.g. 0.3")
    at = INJECT_STEPS[0] if at is None else at
    if at not in INJECT_STEPS:
        raise DogxrayError.usage(
            f"{names.at} {at!r} is not a step of the lab", hint=f"use {' or '.join(INJECT_STEPS)}"
        )
    if latency_ms and latency_rate == 0:
        raise DogxrayError.usage(
            f"{names.rate} 0 delays no request: the {latency_ms} ms latency would do nothing",
            hint=f"give {names.rate} above 0 (1 delays every request)",
        )
    if not latency_ms and latency_rate is not None and names is OPTIONS:
        raise DogxrayError.usage(
            "--rate is the share of requests --latency delays, and no --latency is given",
            hint="add --latency, e.g. --latency 5s --rate 0.3",
        )
    if not latency_ms and not failure_rate:
        return None
    rate = latency_rate if latency_rate is not None else (failure_rate or 1.0)
    return Injection(
        latency_ms=latency_ms, latency_rate=rate, failure_rate=failure_rate, at=at, seed=seed
    )


def check_env(env: dict[str, str], settings: Settings) -> Injection | None:
    """`check` on a function environment's DOGXRAY_INJECT_* variables (what `configure
    --env` sets, merged with what the function has): exit 2 on a value that is not a
    number, or out of range."""

    def number(name: str, kind: type[int] | type[float], default: str) -> Any:
        text = env.get(name, default)
        try:
            return kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise DogxrayError.usage(
                f"{name}={text!r} is not {what}",
                hint=f"`{settings.command('inject')}` sets these variables, "
                f"e.g. `{settings.command('inject --latency 5s')}`",
            ) from None

    latency_ms = number(ENV_INJECT_LATENCY_MS, int, "0")
    rate = number(ENV_INJECT_LATENCY_RATE, float, "1") if ENV_INJECT_LATENCY_RATE in env else None
    seed = number(ENV_INJECT_SEED, int, "0") if env.get(ENV_INJECT_SEED) else None
    return check(
        latency_ms,
        number(ENV_INJECT_FAILURE_RATE, float, "0"),
        rate,
        env.get(ENV_INJECT_AT),
        seed=seed,
        names=_variables(settings),
    )


def max_latency_ms(timeout_s: int) -> int:
    """The largest latency a function with this timeout can take and still answer."""
    return max(0, timeout_s * 1000 - MARGIN_MS)


def fits(injection: Injection | None, timeout_s: int, settings: Settings) -> None:
    """An injected latency must leave the request room inside the function's timeout."""
    if injection is None or not injection.latency_ms:
        return
    allowed = max_latency_ms(timeout_s)
    if injection.latency_ms <= allowed:
        return
    needed = math.ceil((injection.latency_ms + MARGIN_MS) / 1000)
    raise DogxrayError.usage(
        f"an injected latency of {injection.latency_ms} ms leaves no room in the function's "
        f"{timeout_s} s timeout: at most {allowed} ms ({MARGIN_MS // 1000} s are kept for "
        "the request's own work)",
        hint=f"inject at most {allowed} ms, or raise the timeout first: "
        f"`{settings.command(f'configure --timeout {needed}')}`",
    )
