"""Fault injection for the triage lab: added latency and random failures, off by default.

Read once per execution environment from the function's environment (a configuration
change starts new environments). When off, a request pays one attribute check. When a
request is hit, the injected work is its own subsegment `injected_fault`, annotated,
and a failure raises `InjectedFailure`, so traces show plainly where time went and what
broke, as the lab's `hangingException` does. This module never imports dogxray.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import tracing

ENV_LATENCY_MS = "DOGXRAY_INJECT_LATENCY_MS"  # added latency per hit request
ENV_LATENCY_RATE = "DOGXRAY_INJECT_LATENCY_RATE"  # share of requests delayed (default 1)
ENV_FAILURE_RATE = "DOGXRAY_INJECT_FAILURE_RATE"  # share of requests that fail
ENV_AT = "DOGXRAY_INJECT_AT"  # the lab step it runs before: call_dog_api | save_dog_to_s3
ENV_SEED = "DOGXRAY_INJECT_SEED"  # fixed random sequence (tests, reproducible demos)
STEPS = ("call_dog_api", "save_dog_to_s3")
SUBSEGMENT = "injected_fault"
MAX_LATENCY_MS = 900_000


class InjectedFailure(Exception):
    """The failure `dogxray inject --failure-rate` asked for."""


@dataclass(frozen=True)
class Injection:
    latency_ms: int = 0
    latency_rate: float = 1.0
    failure_rate: float = 0.0
    at: str = STEPS[0]
    seed: int | None = None

    @property
    def active(self) -> bool:
        return self.latency_ms > 0 or self.failure_rate > 0


def _rate(text: str, name: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1")
    return value


def from_env(env: Mapping[str, str]) -> Injection:
    """The injection the environment asks for; a bad value turns it off, with a log line
    (a typo must not take the lab down)."""
    if not any(name in env for name in (ENV_LATENCY_MS, ENV_FAILURE_RATE)):
        return Injection()
    try:
        latency = int(env.get(ENV_LATENCY_MS, "0"))
        if not 0 <= latency <= MAX_LATENCY_MS:
            raise ValueError(f"{ENV_LATENCY_MS} must be 0-{MAX_LATENCY_MS}")
        at = env.get(ENV_AT, STEPS[0])
        if at not in STEPS:
            raise ValueError(f"{ENV_AT} must be one of {', '.join(STEPS)}")
        seed = env.get(ENV_SEED)
        return Injection(
            latency_ms=latency,
            latency_rate=_rate(env.get(ENV_LATENCY_RATE, "1"), ENV_LATENCY_RATE),
            failure_rate=_rate(env.get(ENV_FAILURE_RATE, "0"), ENV_FAILURE_RATE),
            at=at,
            seed=int(seed) if seed else None,
        )
    except ValueError as exc:
        print(json.dumps({"injection": "off", "error": str(exc)}), flush=True)
        return Injection()


SETTINGS = from_env(os.environ)
_RANDOM = random.Random(SETTINGS.seed)


def before(step: str, settings: Injection | None = None) -> dict[str, object] | None:
    """Run the injection due before `step`; returns what was injected (for the log line).

    One draw per request decides both: with equal rates the same requests are slow and
    fail, as in the X-Ray triage lab."""
    active = settings or SETTINGS
    if not active.active or active.at != step:
        return None
    draw = _RANDOM.random()
    delay_ms = active.latency_ms if draw < active.latency_rate else 0
    fail = draw < active.failure_rate
    if not delay_ms and not fail:
        return None
    with tracing.subsegment(SUBSEGMENT) as sub:
        tracing.annotate(sub, injected_latency_ms=delay_ms, injected_failure=fail)
        if delay_ms:
            time.sleep(delay_ms / 1000)
        if fail:
            raise InjectedFailure(
                f"injected failure before {step} ({ENV_FAILURE_RATE}={active.failure_rate:g})"
            )
    return {"latency_ms": delay_ms, "failure": fail}
