"""Which invocations Lambda traces, as Lambda decides it (sources: docs/fidelity.md).

`Active`: an upstream decision in the request's `X-Amzn-Trace-Id` (`Sampled=1` or
`Sampled=0`) is respected and the trace joins the caller's; without one, Lambda's fixed
rule applies: the first request each second (the reservoir, per function here) and 5 %
of the others. `PassThrough` (and no tracing config at all): Lambda records nothing of
its own; the function is traced only when the caller sent `Sampled=1`, and otherwise
gets a header with the root alone, which the X-Ray SDKs read as "do not record".
`trace_all` (`dogxray local --trace-all`) traces every `Active` request, for those who
want every request in X-Ray rather than what AWS would keep.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dogxray.core.config import ENV_LOCAL_TRACE_ALL, env_flag

RESERVOIR_PER_S = 1
RATE = 0.05


@dataclass(frozen=True)
class TraceHeader:
    """The parts of an `X-Amzn-Trace-Id` value that sampling reads."""

    root: str | None = None
    parent: str | None = None
    sampled: bool | None = None  # None: no decision (absent, `?`)

    @classmethod
    def parse(cls, text: str | None) -> TraceHeader | None:
        """None for no header; unknown or malformed parts are ignored, as the SDKs do."""
        if not text:
            return None
        parts: dict[str, str] = {}
        for item in text.split(";"):
            key, _, value = item.strip().partition("=")
            parts[key.strip().lower()] = value.strip()
        root = parts.get("root") or None
        if root is not None and not _valid_root(root):
            root = None
        sampled = {"1": True, "0": False}.get(parts.get("sampled", ""))
        return cls(root=root, parent=parts.get("parent") or None, sampled=sampled)


def _valid_root(root: str) -> bool:
    version, _, rest = root.partition("-")
    epoch, _, unique = rest.partition("-")
    hexdigits = set("0123456789abcdef")
    return (
        version == "1"
        and len(epoch) == 8
        and len(unique) == 24
        and set(epoch + unique) <= hexdigits
    )


@dataclass(frozen=True)
class Decision:
    """`recorded`: Lambda emits its own segments; `sampled`: the function's SDK records
    (the `Sampled` it is handed); `root`/`parent`: an upstream trace to join, if any;
    `passthrough`: the function gets the root alone."""

    recorded: bool
    sampled: bool
    root: str | None = None
    parent: str | None = None
    passthrough: bool = False


class Sampler:
    """Lambda's decision per invocation. `clock` and `chance` are injectable so tests
    can place requests in chosen seconds and draw a known sequence."""

    def __init__(
        self,
        *,
        trace_all: bool = False,
        rate: float = RATE,
        reservoir_per_s: int = RESERVOIR_PER_S,
        clock: Callable[[], float] = time.time,
        chance: Callable[[], float] | None = None,
    ) -> None:
        self.trace_all = trace_all
        self.rate = rate
        self.reservoir_per_s = reservoir_per_s
        self.clock = clock
        self.chance = chance or random.SystemRandom().random
        self._lock = threading.Lock()
        self._second: dict[str, tuple[int, int]] = {}  # function arn -> (second, taken)

    def decide(self, arn: str, mode: str | None, upstream: TraceHeader | None) -> Decision:
        root = upstream.root if upstream else None
        parent = upstream.parent if upstream and root else None
        told = upstream.sampled if upstream and root else None
        if mode != "Active":
            if told:
                return Decision(False, True, root, parent)
            return Decision(False, False, root, passthrough=True)
        if told is not None:
            return Decision(told, told, root, parent)
        traced = self.trace_all or self._by_rule(arn)
        return Decision(traced, traced, root, parent)

    def _by_rule(self, arn: str) -> bool:
        second = int(self.clock())
        with self._lock:
            current, taken = self._second.get(arn, (second, 0))
            if current != second:
                taken = 0
            if taken < self.reservoir_per_s:
                self._second[arn] = (second, taken + 1)
                return True
            self._second[arn] = (second, taken)
        return self.chance() < self.rate


def parse_trace_all(value: bool | None, environ: Mapping[str, str] | None = None) -> bool:
    """`--trace-all`, else $DOGXRAY_LOCAL_TRACE_ALL, else off (Lambda's sampling)."""
    hint = "set it to 1 to trace every request, or 0 (the default) to sample as Lambda"
    return env_flag(value, ENV_LOCAL_TRACE_ALL, hint, environ)
