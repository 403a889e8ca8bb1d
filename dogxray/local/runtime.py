"""The Lambda runtime: runs the *deployed* zip (the bytes stored by moto) in execution
environments (subprocesses, `environment.py`), as many as there are concurrent requests
up to the account limit (`pool.py`), warm between invocations, replaced when code or
configuration changes, killed at the configured timeout."""

from __future__ import annotations

import math
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dogxray.local.environment import BOOTSTRAP as BOOTSTRAP  # re-exported (tests)
from dogxray.local.environment import (
    ExecutionEnvironment,
    FunctionSpec,
    Spawner,
    Stopping,
    now_ms,
)
from dogxray.local.pool import URL_RATE, Lease, Pool, Throttled, UrlRate
from dogxray.local.records import (
    Invocation,
    new_trace_id,
    publish_metrics,
    record_trace,
    write_logs,
)
from dogxray.local.sampling import Sampler, TraceHeader
from dogxray.local.xray_daemon import XRayDaemon

INIT_LIMIT_S = 10.0  # Lambda's own limit for the init phase
DRAIN_S = 10.0  # at stop: how long in-flight invocations may take to wind down


def _exit_error(request_id: str) -> dict[str, Any]:
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited without providing a reason",
    }


class Runtime:
    """Invokes functions stored in moto, one execution environment per concurrent request."""

    def __init__(
        self,
        workdir: Path,
        *,
        endpoint_url: str,
        daemon: XRayDaemon | None,
        dog_api_url: str,
        pool: Pool | None = None,
        sampler: Sampler | None = None,
    ) -> None:
        self.daemon = daemon
        self.sampler = sampler or Sampler()
        self.spawner = Spawner(
            workdir,
            endpoint_url=endpoint_url,
            daemon_address=daemon.address if daemon else "127.0.0.1:2000",
            dog_api_url=dog_api_url,
        )
        self.pool = pool or Pool()
        self.url_rate = UrlRate()
        self._counts = threading.Lock()
        self.cold_starts = 0
        self.invocations = 0
        self.throttles = 0
        self._in_flight = 0
        self._drained = threading.Condition()

    def invoke(
        self,
        fn: Any,
        event: Any,
        *,
        received: float | None = None,
        upstream: TraceHeader | None = None,
        via_url: bool = False,
    ) -> Invocation:
        """Run one invocation of moto function `fn` (or throttle it: `inv.throttled`);
        logs and metrics are written before returning. `upstream`: the caller's trace
        header, which Lambda's sampling decision respects; `via_url`: a Function URL
        request, also capped in rate by the function's reserved concurrency."""
        with self._drained:
            self._in_flight += 1
        try:
            return self._invoke(fn, event, received=received, upstream=upstream, via_url=via_url)
        finally:
            with self._drained:
                self._in_flight -= 1
                self._drained.notify_all()

    def _invoke(
        self,
        fn: Any,
        event: Any,
        *,
        received: float | None,
        upstream: TraceHeader | None,
        via_url: bool,
    ) -> Invocation:
        spec = FunctionSpec.from_moto(fn)
        start = received or time.time()
        decision = self.sampler.decide(spec.arn, spec.tracing, upstream)
        inv = Invocation(
            function_name=spec.name,
            function_arn=spec.arn,
            account_id=spec.account_id,
            region=spec.region,
            request_id=str(uuid.uuid4()),
            trace_id=decision.root or new_trace_id(start),
            sampled=decision.sampled,
            received=start,
            recorded=decision.recorded,
            upstream_parent=decision.parent,
            passthrough=decision.passthrough,
        )
        try:
            if via_url and not self.url_rate.allow(spec.arn, spec.reserved):
                raise Throttled(URL_RATE)
            lease = self.pool.acquire(spec.arn, spec.signature, spec.reserved)
        except Throttled as exc:
            inv.throttled = exc.reason
            inv.done = time.time()
            with self._counts:
                self.throttles += 1
            publish_metrics(inv)
            return inv
        inv.concurrent = lease.concurrent
        reusable = False
        try:
            if inv.sampled and self.daemon is not None:
                self.daemon.expect(inv.trace_id, spec.account_id, spec.region)
            try:
                warm = lease.env is not None
                env = self._warm(lease, inv) if warm else self._cold(lease, spec, inv)
            except Stopping:  # the emulator is shutting down: no new environment
                env, inv.error = None, _exit_error(inv.request_id)
            if env is not None:
                reusable = self._run(env, spec, inv, event)
            inv.done = time.time()
            with self._counts:
                self.invocations += 1
            write_logs(
                spec.account_id, spec.region, f"/aws/lambda/{spec.name}", inv.log_stream, inv.logs
            )
            publish_metrics(inv)
        finally:
            self.pool.release(lease, reusable=reusable)
        return inv

    def retire(self, arn: str) -> None:
        """The function was deleted or changed: stop its environments now, or right after
        the invocations they are running (as Lambda lets in-flight invocations finish)."""
        self.pool.retire(arn)

    @property
    def environments(self) -> int:
        """How many execution environments are alive (tests, `dogxray local` status)."""
        return self.pool.live

    def record(self, inv: Invocation) -> None:
        """Store the service segments, then wait until the SDK's datagrams are stored too."""
        record_trace(inv)
        if inv.sampled and not inv.throttled and self.daemon is not None:
            self.daemon.flush()

    def _warm(self, lease: Lease, inv: Invocation) -> ExecutionEnvironment:
        env: ExecutionEnvironment = lease.env
        inv.log_stream = env.log_stream
        return env

    def _cold(
        self, lease: Lease, spec: FunctionSpec, inv: Invocation
    ) -> ExecutionEnvironment | None:
        """A new environment initialised now (None if init failed)."""
        env = self.spawner.spawn(spec)
        inv.log_stream = env.log_stream
        inv.cold = True
        with self._counts:
            self.cold_starts += 1
        inv.init_start = time.time()
        inv.logs.append(
            (now_ms(), f"INIT_START Runtime Version: {spec.runtime.replace('python', 'python:')}")
        )
        adopted = self.pool.adopt(lease, env)
        reply = env.wait_reply(max(INIT_LIMIT_S, spec.timeout)) if adopted else None
        inv.init_end = time.time()
        inv.init_ms = (inv.init_end - inv.init_start) * 1000
        if isinstance(reply, dict) and reply.get("type") == "ready":
            inv.logs.extend(env.output())
            return env
        env.kill()
        inv.logs.extend(env.output())
        if reply is False:
            inv.error = {"errorType": "Sandbox.Timedout", "errorMessage": "Init phase timed out"}
        elif isinstance(reply, dict) and reply.get("type") == "init_error":
            inv.error = reply["error"]
        else:
            inv.error = _exit_error(inv.request_id)
        inv.invoke_start = inv.invoke_end = time.time()
        self._report(inv, spec, duration_ms=0.0, max_mb=0)
        return None

    def _run(
        self, env: ExecutionEnvironment, spec: FunctionSpec, inv: Invocation, event: Any
    ) -> bool:
        """One invocation in `env`; True if the environment may serve another."""
        inv.invoke_start = time.time()
        deadline = inv.invoke_start + spec.timeout
        inv.logs.append((now_ms(), f"START RequestId: {inv.request_id} Version: $LATEST"))
        request = {
            "id": inv.request_id,
            "event": event,
            "trace": inv.trace_header,
            "deadline_ms": int(deadline * 1000),
            "arn": spec.arn,
        }
        reply = env.wait_reply(spec.timeout) if env.send(request) else None
        inv.invoke_end = time.time()
        duration_ms, max_mb = (inv.invoke_end - inv.invoke_start) * 1000, 0
        if isinstance(reply, dict):
            inv.logs.extend(env.output())
            duration_ms, max_mb = float(reply["duration_ms"]), int(reply["max_rss_mb"])
            if reply.get("ok"):
                inv.payload = reply["payload"]
            else:
                inv.error = reply["error"]
        else:
            env.kill()  # timed out or died: the next request starts cold
            inv.logs.extend(env.output())
            if reply is False:
                inv.timed_out = True
                duration_ms = spec.timeout * 1000.0
                message = f"Task timed out after {spec.timeout:.2f} seconds"
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                inv.logs.append((now_ms(), f"{stamp} {inv.request_id} {message}"))
                inv.error = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {inv.request_id} Error: {message}",
                }
            else:
                inv.error = _exit_error(inv.request_id)
        self._report(inv, spec, duration_ms=duration_ms, max_mb=max_mb)
        return isinstance(reply, dict)

    def _report(
        self, inv: Invocation, spec: FunctionSpec, *, duration_ms: float, max_mb: int
    ) -> None:
        if not any(text.startswith("START RequestId") for _, text in inv.logs):
            inv.logs.append((now_ms(), f"START RequestId: {inv.request_id} Version: $LATEST"))
        inv.duration_ms = duration_ms
        parts = [
            f"REPORT RequestId: {inv.request_id}",
            f"Duration: {duration_ms:.2f} ms",
            f"Billed Duration: {max(1, math.ceil(duration_ms))} ms",
            f"Memory Size: {spec.memory} MB",
            f"Max Memory Used: {max_mb} MB",
        ]
        if inv.cold:
            parts.append(f"Init Duration: {inv.init_ms:.2f} ms")
        if inv.recorded:
            parts.append(
                f"\nXRAY TraceId: {inv.trace_id}\tSegmentId: {inv.function_segment_id}"
                "\tSampled: true"
            )
        if inv.timed_out:
            parts.append("Status: timeout")
        inv.logs.append((now_ms(), f"END RequestId: {inv.request_id}"))
        inv.logs.append((now_ms(), "\t".join(parts)))

    def stop(self, drain_s: float = DRAIN_S) -> bool:
        """Start no environment any more, kill every one, and wait (at most `drain_s`)
        for the invocations in flight to end; False if some are still running."""
        self.spawner.close()
        self.pool.stop()
        with self._drained:
            return self._drained.wait_for(lambda: self._in_flight == 0, timeout=drain_s)
