"""The Lambda runtime: runs the *deployed* zip (the bytes stored by moto) in a subprocess
per execution environment, warm between invocations, replaced when code or
configuration changes, killed at the configured timeout."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import math
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from dogxray.config import DUMMY_CREDENTIALS, RUNTIME_MODULES
from dogxray.local.bootstrap import END_MARKER
from dogxray.local.records import Invocation, new_trace_id, record_trace, write_logs
from dogxray.local.xray_daemon import XRayDaemon

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
INIT_LIMIT_S = 10.0  # Lambda's own limit for the init phase
# What Lambda's Python runtime provides besides the standard library (import names; one
# list in dogxray.config). Anything else must come from the deployed zip, as on Lambda.
RUNTIME_PACKAGES = RUNTIME_MODULES


@dataclass(frozen=True)
class FunctionSpec:
    """What decides whether a warm environment may be reused (plus the code itself)."""

    name: str
    arn: str
    account_id: str
    region: str
    handler: str
    runtime: str
    timeout: int
    memory: int
    env: tuple[tuple[str, str], ...]
    code_sha: str
    tracing_active: bool
    last_modified: str  # a re-created function (same name) must start cold
    code: bytes = field(compare=False, repr=False)

    @classmethod
    def from_moto(cls, fn: Any) -> FunctionSpec:
        return cls(
            name=fn.function_name,
            arn=fn.function_arn,
            account_id=fn.account_id,
            region=fn.region,
            handler=str(fn.handler),
            runtime=str(fn.run_time),
            timeout=int(fn.timeout),
            memory=int(fn.memory_size),
            env=tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items())),
            code_sha=str(fn.code_sha_256),
            tracing_active=(fn.tracing_config or {}).get("Mode") == "Active",
            last_modified=str(fn.last_modified),
            code=bytes(fn.code_bytes or b""),
        )

    @property
    def signature(self) -> tuple[Any, ...]:
        return (
            self.code_sha,
            self.handler,
            self.runtime,
            self.timeout,
            self.memory,
            self.env,
            self.tracing_active,  # moto keeps LastModified on configuration updates
            self.last_modified,
        )


def _now_ms() -> int:
    return int(time.time() * 1000)


class ExecutionEnvironment:
    """One subprocess running bootstrap.py, with its protocol and log pipes."""

    def __init__(self, spec: FunctionSpec, code_dir: Path, env: dict[str, str]) -> None:
        self.spec = spec
        self.log_stream = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.tmpdir = Path(env["TMPDIR"])
        self.proc = subprocess.Popen(
            # -S: no site-packages of ours; the zip and the runtime's SDK (PYTHONPATH) only
            # argv[1]: the emulator's pid; the environment exits when its parent changes
            [sys.executable, "-S", "-u", str(BOOTSTRAP), str(os.getpid())],
            cwd=code_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        # Binary pipes: the runtime writes one log event as lines joined by CR (no split).
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._outputs: queue.Queue[list[tuple[int, str]]] = queue.Queue()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for target, pipe in (
            (self._read_replies, self.proc.stdout),
            (self._read_logs, self.proc.stderr),
        ):
            threading.Thread(target=target, args=(pipe,), daemon=True).start()

    def _read_replies(self, pipe: IO[bytes]) -> None:
        for line in pipe:
            try:
                self._replies.put(json.loads(line))
            except ValueError:
                continue
        self._replies.put(None)

    def _read_logs(self, pipe: IO[bytes]) -> None:
        lines: list[tuple[int, str]] = []
        for raw in pipe:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith(END_MARKER):
                self._outputs.put(lines)
                lines = []
            else:
                lines.append((_now_ms(), line.replace("\r", "\n")))
        self._outputs.put(lines)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_reply(self, timeout: float) -> dict[str, Any] | bool | None:
        """The next protocol message; None if the process died; False on timeout."""
        try:
            return self._replies.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return False

    def output(self, timeout: float = 2.0) -> list[tuple[int, str]]:
        """The log lines up to the next end marker (or the end of the process)."""
        try:
            return self._outputs.get(timeout=timeout)
        except queue.Empty:
            return []

    def send(self, request: dict[str, Any]) -> bool:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def kill(self) -> None:
        if self.alive:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def _exit_error(request_id: str) -> dict[str, Any]:
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited without providing a reason",
    }


class Runtime:
    """Invokes functions stored in moto; one warm environment per function."""

    def __init__(
        self, workdir: Path, *, endpoint_url: str, daemon: XRayDaemon | None, dog_api_url: str
    ) -> None:
        self.workdir = workdir
        self.endpoint_url = endpoint_url
        self.daemon = daemon
        self.dog_api_url = dog_api_url
        self._envs: dict[str, ExecutionEnvironment] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._stale: set[str] = set()  # retired while an invocation was running
        self.cold_starts = 0
        self.invocations = 0

    def invoke(self, fn: Any, event: Any, *, received: float | None = None) -> Invocation:
        """Run one invocation of moto function `fn`; logs are written before returning."""
        spec = FunctionSpec.from_moto(fn)
        with self._lock:
            lock = self._locks.setdefault(spec.arn, threading.Lock())
        start = received or time.time()
        lock.acquire()
        try:
            inv = Invocation(
                function_name=spec.name,
                function_arn=spec.arn,
                account_id=spec.account_id,
                region=spec.region,
                request_id=str(uuid.uuid4()),
                trace_id=new_trace_id(start),
                sampled=spec.tracing_active,
                received=start,
            )
            if inv.sampled and self.daemon is not None:
                self.daemon.expect(inv.trace_id, spec.account_id, spec.region)
            env = self._environment(spec, inv)
            if env is not None:
                self._run(env, spec, inv, event)
            inv.done = time.time()
            self.invocations += 1
            write_logs(
                spec.account_id, spec.region, f"/aws/lambda/{spec.name}", inv.log_stream, inv.logs
            )
        finally:
            with self._lock:  # the stale check and the release are one step for retire()
                stale = spec.arn in self._stale
                self._stale.discard(spec.arn)
                lock.release()
            if stale:
                self._discard(spec.arn)
        return inv

    def retire(self, arn: str) -> None:
        """The function was deleted or changed: stop its environment now, or right after
        the invocation it is running (as Lambda lets in-flight invocations finish)."""
        with self._lock:
            lock = self._locks.setdefault(arn, threading.Lock())
            idle = lock.acquire(blocking=False)
            if not idle:
                self._stale.add(arn)
        if idle:
            try:
                self._discard(arn)
            finally:
                lock.release()

    @property
    def environments(self) -> int:
        """How many execution environments are alive (tests, `dogxray local` status)."""
        with self._lock:
            return sum(env.alive for env in self._envs.values())

    def record(self, inv: Invocation, status: int) -> None:
        """Store the service segments, then wait until the SDK's datagrams are stored too."""
        record_trace(inv, status)
        if inv.sampled and self.daemon is not None:
            self.daemon.flush()

    def _environment(self, spec: FunctionSpec, inv: Invocation) -> ExecutionEnvironment | None:
        """The warm environment, or a new one initialised now (None if init failed)."""
        env = self._envs.get(spec.arn)
        if env is not None and env.alive and env.spec.signature == spec.signature:
            inv.log_stream = env.log_stream
            return env
        self._discard(spec.arn)
        env = self._spawn(spec)
        inv.log_stream = env.log_stream
        inv.cold = True
        self.cold_starts += 1
        inv.init_start = time.time()
        inv.logs.append(
            (_now_ms(), f"INIT_START Runtime Version: {spec.runtime.replace('python', 'python:')}")
        )
        reply = env.wait_reply(max(INIT_LIMIT_S, spec.timeout))
        inv.init_end = time.time()
        inv.init_ms = (inv.init_end - inv.init_start) * 1000
        if isinstance(reply, dict) and reply.get("type") == "ready":
            inv.logs.extend(env.output())
            self._envs[spec.arn] = env
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
    ) -> None:
        inv.invoke_start = time.time()
        deadline = inv.invoke_start + spec.timeout
        inv.logs.append((_now_ms(), f"START RequestId: {inv.request_id} Version: $LATEST"))
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
            self._discard(spec.arn)
            inv.logs.extend(env.output())
            if reply is False:
                inv.timed_out = True
                duration_ms = spec.timeout * 1000.0
                message = f"Task timed out after {spec.timeout:.2f} seconds"
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                inv.logs.append((_now_ms(), f"{stamp} {inv.request_id} {message}"))
                inv.error = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {inv.request_id} Error: {message}",
                }
            else:
                inv.error = _exit_error(inv.request_id)
        self._report(inv, spec, duration_ms=duration_ms, max_mb=max_mb)

    def _report(
        self, inv: Invocation, spec: FunctionSpec, *, duration_ms: float, max_mb: int
    ) -> None:
        if not any(text.startswith("START RequestId") for _, text in inv.logs):
            inv.logs.append((_now_ms(), f"START RequestId: {inv.request_id} Version: $LATEST"))
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
        if inv.sampled:
            parts.append(
                f"\nXRAY TraceId: {inv.trace_id}\tSegmentId: {inv.function_segment_id}"
                "\tSampled: true"
            )
        if inv.timed_out:
            parts.append("Status: timeout")
        inv.logs.append((_now_ms(), f"END RequestId: {inv.request_id}"))
        inv.logs.append((_now_ms(), "\t".join(parts)))

    def _spawn(self, spec: FunctionSpec) -> ExecutionEnvironment:
        code_dir = self._unpack(spec)
        tmp = self.workdir / "env" / secrets.token_hex(6)
        tmp.mkdir(parents=True)
        stream = f"{datetime.now(timezone.utc):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"
        daemon = self.daemon.address if self.daemon else "127.0.0.1:2000"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8", "TZ": ":UTC"}
        env.update(dict(spec.env))
        env.update(
            {
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "AWS_REGION": spec.region,
                "AWS_DEFAULT_REGION": spec.region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "_HANDLER": spec.handler,
                "AWS_XRAY_DAEMON_ADDRESS": daemon,
                "_AWS_XRAY_DAEMON_ADDRESS": daemon.split(":")[0],
                "_AWS_XRAY_DAEMON_PORT": daemon.split(":")[1],
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
                **DUMMY_CREDENTIALS,
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "DOG_API_URL": self.dog_api_url,
                "TMPDIR": str(tmp),
                "HOME": str(tmp),
                "AWS_CONFIG_FILE": str(tmp / "aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws-credentials"),
                "PYTHONPATH": os.pathsep.join([str(code_dir), str(self._runtime_dir())]),
            }
        )
        return ExecutionEnvironment(spec, code_dir, env)

    def _runtime_dir(self) -> Path:
        """Links to the SDK packages Lambda's runtime has (made once per emulator)."""
        folder = self.workdir / "runtime"
        with self._lock:
            if not folder.exists():
                folder.mkdir()
                for name in RUNTIME_PACKAGES:
                    found = importlib.util.find_spec(name)
                    if found is None or found.origin is None:
                        continue
                    source = Path(found.origin)
                    source = source.parent if found.submodule_search_locations else source
                    (folder / source.name).symlink_to(source)
        return folder

    def _unpack(self, spec: FunctionSpec) -> Path:
        """The deployed zip, unpacked once per code version."""
        digest = hashlib.sha256(spec.code).hexdigest()[:20]
        code_dir = self.workdir / "code" / digest
        with self._lock:
            if not (code_dir / ".unpacked").exists():
                code_dir.mkdir(parents=True, exist_ok=True)
                with zipfile.ZipFile(io.BytesIO(spec.code)) as archive:
                    archive.extractall(code_dir)
                (code_dir / ".unpacked").touch()
        return code_dir

    def _discard(self, arn: str) -> None:
        env = self._envs.pop(arn, None)
        if env is not None:
            env.kill()

    def stop(self) -> None:
        """Kill every execution environment."""
        with self._lock:
            arns = list(self._envs)
        for arn in arns:
            self._discard(arn)
