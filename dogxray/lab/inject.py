"""`dogxray inject`: latency and failures in the deployed function (the triage lab).

The payload reads `DOGXRAY_INJECT_*` from its environment (lambda_payload/injection.py);
this sets or removes them through the ordinary configuration stage, so the update is
planned, applied and waited for as every mutation is. `setup` keeps an active injection
(extra environment variables are the user's), `status` shows it, `inject --off` and
`cleanup` end it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dogxray.aws import Aws
from dogxray.config import (
    ENV_INJECT_AT,
    ENV_INJECT_FAILURE_RATE,
    ENV_INJECT_LATENCY_MS,
    ENV_INJECT_LATENCY_RATE,
    ENV_INJECT_SEED,
    INJECT_ENV,
    INJECT_STEPS,
)
from dogxray.errors import DogxrayError
from dogxray.lab.models import SetupOptions
from dogxray.lab.report import SILENT, Reporter

MAX_LATENCY_MS = 900_000


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


def active(aws: Aws) -> Injection | None:
    """The injection on the deployed function, if any (one GetFunction)."""
    from dogxray.lab import observe

    fn = observe.function(aws, aws.settings.function_name)
    return from_env(fn.env) if fn.exists else None


def check(latency_ms: int, failure_rate: float, latency_rate: float | None, at: str) -> Injection:
    """Validate before any AWS call (exit 2 on bad input)."""
    if not 0 <= latency_ms <= MAX_LATENCY_MS:
        raise DogxrayError.usage(
            f"--latency {latency_ms} ms is outside 0-{MAX_LATENCY_MS // 1000} s",
            hint="e.g. --latency 5s",
        )
    for name, rate in (("--failure-rate", failure_rate), ("--rate", latency_rate)):
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise DogxrayError.usage(f"{name} {rate:g} is outside 0-1", hint="e.g. 0.3")
    if at not in INJECT_STEPS:
        raise DogxrayError.usage(
            f"--at {at!r} is not a step of the lab", hint=f"use {' or '.join(INJECT_STEPS)}"
        )
    if not latency_ms and not failure_rate:
        raise DogxrayError.usage(
            "nothing to inject", hint="give --latency and/or --failure-rate, or --off"
        )
    rate = latency_rate if latency_rate is not None else (failure_rate or 1.0)
    return Injection(latency_ms=latency_ms, latency_rate=rate, failure_rate=failure_rate, at=at)


def inject(aws: Aws, wanted: Injection | None, *, reporter: Reporter = SILENT) -> dict[str, Any]:
    """Set (or with None remove) the injection on the deployed function; waits for the
    update like every configuration change."""
    from dogxray.lab import observe, service

    lab = service.deployed(aws)
    fn_timeout = observe.function(aws, lab.function_name).timeout or 0
    if wanted is not None and wanted.latency_ms >= fn_timeout * 1000:
        raise DogxrayError.usage(
            f"--latency {wanted.latency_ms} ms would hit the function's {fn_timeout} s timeout",
            hint=f"inject less, or raise it first: `dogxray configure --timeout "
            f"{wanted.latency_ms // 1000 + 10}`",
        )
    options = (
        SetupOptions(env_remove=frozenset(INJECT_ENV))
        if wanted is None
        else SetupOptions(
            env=wanted.to_env(), env_remove=frozenset(INJECT_ENV) - wanted.to_env().keys()
        )
    )
    doc = service.stage(aws, options, ["config"], reporter=reporter)
    return {
        "function": lab.function_name,
        "injection": None if wanted is None else wanted.to_json(),
        "changed": bool(doc.changed),
    }
