"""Lambda's scaling for the emulator: one execution environment per concurrent request.

A request takes a *slot* (a busy environment). It reuses the function's most recently
used idle environment when one is warm, else it gets a new one (a cold start). Requests
beyond the function's reserved concurrency, or beyond the account limit of busy
environments, are throttled, as Lambda throttles them (reservations are caps here, not
guarantees: no other function is held back to keep them). Live subprocesses never pass
the limit: a new environment first stops the longest-idle one of any function when the
limit is reached. Idle environments are reclaimed after `idle_timeout_s` by a sweeper
thread; the clock is injectable so tests do not wait minutes.

The pool knows environments only as objects with `alive` and `kill()`: the runtime
spawns them, so this module is plain Python and testable with stand-ins.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from dogxray.core.config import (
    ENV_LOCAL_CONCURRENCY,
    ENV_LOCAL_IDLE_TIMEOUT,
    LOCAL_CONCURRENCY,
    LOCAL_CONCURRENCY_MAX,
    LOCAL_IDLE_TIMEOUT_S,
)
from dogxray.core.errors import DogxrayError

# TooManyRequestsException reasons, as Lambda's Invoke API names them
RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT = "ConcurrentInvocationLimitExceeded"
MAX_SWEEP_INTERVAL_S = 30.0


class Environment(Protocol):
    @property
    def alive(self) -> bool: ...

    def kill(self) -> None: ...


URL_RATE = "ReservedFunctionInvocationRateLimitExceeded"
URL_RATE_PER_RESERVED = 10  # Function URL requests a second per unit of reserved concurrency


class UrlRate:
    """Lambda's request-rate cap on a Function URL: "Your function's maximum request
    rate per second (RPS) is equivalent to 10 times the configured reserved
    concurrency" (docs/fidelity.md). Counted per function in whole seconds of `clock`."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._seconds: dict[str, tuple[int, int]] = {}  # arn -> (second, requests)

    def allow(self, arn: str, reserved: int | None) -> bool:
        if reserved is None:
            return True
        second = int(self.clock())
        with self._lock:
            current, seen = self._seconds.get(arn, (second, 0))
            seen = seen if current == second else 0
            if seen >= reserved * URL_RATE_PER_RESERVED:
                return False
            self._seconds[arn] = (second, seen + 1)
            return True


class Throttled(Exception):
    """No slot for this request; `reason` is Lambda's TooManyRequestsException reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Lease:
    """One busy slot. `env` is a warm environment, or None until the caller adopts the
    new one it starts; `concurrent` counts the function's busy slots, this one included."""

    arn: str
    signature: Any
    epoch: int
    concurrent: int
    env: Any = None
    cold: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.cold = self.env is None


@dataclass
class _Idle:
    env: Any
    signature: Any
    epoch: int
    since: float


def parse_limit(value: int | str | None, environ: Mapping[str, str] | None = None) -> int:
    """The account concurrency limit: `value`, else $DOGXRAY_LOCAL_CONCURRENCY, else 10."""
    env = os.environ if environ is None else environ
    raw = value if value is not None else env.get(ENV_LOCAL_CONCURRENCY) or LOCAL_CONCURRENCY
    where = "--concurrency" if value is not None else ENV_LOCAL_CONCURRENCY
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= LOCAL_CONCURRENCY_MAX:
        raise DogxrayError.usage(
            f"{where} {raw!s} is not a concurrency limit",
            hint=f"give a whole number from 1 to {LOCAL_CONCURRENCY_MAX} "
            f"(default {LOCAL_CONCURRENCY})",
        )
    return limit


def parse_idle_timeout(value: float | None, environ: Mapping[str, str] | None = None) -> float:
    """Seconds an environment may stay idle: `value`, else $DOGXRAY_LOCAL_IDLE_TIMEOUT,
    else 300."""
    env = os.environ if environ is None else environ
    raw: Any = value if value is not None else env.get(ENV_LOCAL_IDLE_TIMEOUT)
    if raw is None or raw == "":
        return LOCAL_IDLE_TIMEOUT_S
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 86_400:
        raise DogxrayError.usage(
            f"{ENV_LOCAL_IDLE_TIMEOUT} {raw!s} is not a number of seconds",
            hint=f"give seconds from 0 to 86400 (default {LOCAL_IDLE_TIMEOUT_S:g})",
        )
    return seconds


class Pool:
    """Busy slots and idle environments of every function, under one lock."""

    def __init__(
        self,
        *,
        limit: int = LOCAL_CONCURRENCY,
        idle_timeout_s: float = LOCAL_IDLE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.idle_timeout_s = idle_timeout_s
        self.clock = clock
        self.sweep_interval_s = min(MAX_SWEEP_INTERVAL_S, idle_timeout_s / 10)
        self.sweeps = 0  # completed sweeps (tests wait on it)
        self.reclaimed = 0
        self._lock = threading.Lock()
        self._busy: dict[str, int] = {}  # arn -> busy slots
        self._busy_envs: set[Any] = set()
        self._idle: dict[str, list[_Idle]] = {}  # arn -> oldest first
        self._epochs: dict[str, int] = {}  # bumped when a function changes or goes
        self._closed = False
        self._stopped = threading.Event()
        self._sweeper: threading.Thread | None = None

    # --- taking and giving back slots ---------------------------------------------------
    def acquire(self, arn: str, signature: Any, reserved: int | None = None) -> Lease:
        """A slot for one request of function `arn`; raises Throttled when there is none."""
        doomed: list[Any] = []
        with self._lock:
            busy = self._busy.get(arn, 0)
            if reserved is not None and busy >= reserved:
                raise Throttled(RESERVED)
            if sum(self._busy.values()) >= self.limit:
                raise Throttled(ACCOUNT)
            self._busy[arn] = busy + 1
            epoch = self._epochs.get(arn, 0)
            warm = None
            idle = self._idle.get(arn, [])
            while idle and warm is None:
                candidate = idle.pop()  # the most recently used: the rest may go idle
                if candidate.signature == signature and candidate.epoch == epoch:
                    warm = candidate.env if candidate.env.alive else None
                if warm is None:
                    doomed.append(candidate.env)
            if not idle:
                self._idle.pop(arn, None)
            if warm is not None:
                self._busy_envs.add(warm)
            else:
                doomed += self._make_room()
            lease = Lease(arn, signature, epoch, busy + 1, warm)
        for env in doomed:
            env.kill()
        return lease

    def adopt(self, lease: Lease, env: Environment) -> bool:
        """Count the new environment `env` of a cold lease; False when the pool has
        stopped meanwhile (the caller kills it)."""
        with self._lock:
            if self._closed:
                return False
            lease.env = env
            self._busy_envs.add(env)
        return True

    def release(self, lease: Lease, *, reusable: bool) -> None:
        """Free the slot; a reusable environment of the current code goes idle, any
        other is stopped."""
        env = lease.env
        keep = False
        with self._lock:
            left = self._busy.get(lease.arn, 1) - 1
            if left > 0:
                self._busy[lease.arn] = left
            else:
                self._busy.pop(lease.arn, None)
            if env is not None:
                self._busy_envs.discard(env)
                keep = (
                    reusable
                    and not self._closed
                    and env.alive
                    and lease.epoch == self._epochs.get(lease.arn, 0)
                )
                if keep:
                    entry = _Idle(env, lease.signature, lease.epoch, self.clock())
                    self._idle.setdefault(lease.arn, []).append(entry)
        if env is not None and not keep:
            env.kill()

    def retire(self, arn: str) -> None:
        """The function changed or was deleted: stop its idle environments now and its
        busy ones when their invocation ends (Lambda lets in-flight invocations finish)."""
        with self._lock:
            self._epochs[arn] = self._epochs.get(arn, 0) + 1
            doomed = [entry.env for entry in self._idle.pop(arn, [])]
        for env in doomed:
            env.kill()

    def _make_room(self) -> list[Any]:
        """Under the lock, for a new environment: take the longest-idle ones off the
        books until the live count (busy slots + idle) is within the limit."""
        doomed = []
        while sum(self._busy.values()) + self._idle_count() > self.limit:
            arn, entry = min(
                ((arn, idle[0]) for arn, idle in self._idle.items()),
                key=lambda pair: pair[1].since,
            )
            self._idle[arn].pop(0)
            if not self._idle[arn]:
                del self._idle[arn]
            doomed.append(entry.env)
        return doomed

    def _idle_count(self) -> int:
        return sum(len(idle) for idle in self._idle.values())

    # --- reclaiming -----------------------------------------------------------------------
    def reclaim(self) -> int:
        """Stop environments idle for `idle_timeout_s` or more (and dead ones)."""
        now = self.clock()
        doomed: list[_Idle] = []
        with self._lock:
            for arn in list(self._idle):
                keep: list[_Idle] = []
                for entry in self._idle[arn]:
                    expired = now - entry.since >= self.idle_timeout_s
                    (doomed if expired or not entry.env.alive else keep).append(entry)
                if keep:
                    self._idle[arn] = keep
                else:
                    del self._idle[arn]
            self.reclaimed += len(doomed)  # counted before they go: tests wait on either
        for entry in doomed:
            entry.env.kill()
        return len(doomed)

    def start(self) -> Pool:
        """Run the idle sweeper (a daemon thread) until `stop()`."""
        self._sweeper = threading.Thread(target=self._sweep, name="dogxray-reclaim", daemon=True)
        self._sweeper.start()
        return self

    def _sweep(self) -> None:
        while not self._stopped.wait(self.sweep_interval_s):
            self.reclaim()
            self.sweeps += 1

    # --- state --------------------------------------------------------------------------
    @property
    def live(self) -> int:
        """Environments alive now, busy or idle."""
        with self._lock:
            envs = [e.env for idle in self._idle.values() for e in idle] + list(self._busy_envs)
        return sum(env.alive for env in envs)

    def busy(self, arn: str | None = None) -> int:
        """Busy slots of one function, or of all."""
        with self._lock:
            return self._busy.get(arn, 0) if arn else sum(self._busy.values())

    def stop(self) -> None:
        """Stop the sweeper and every environment, busy ones included."""
        self._stopped.set()
        with self._lock:
            self._closed = True
            doomed = [e.env for idle in self._idle.values() for e in idle]
            doomed += list(self._busy_envs)
            self._idle.clear()
        for env in doomed:
            env.kill()
        if self._sweeper is not None and self._sweeper is not threading.current_thread():
            self._sweeper.join(timeout=5)
