"""An execution environment: one subprocess running bootstrap.py with the deployed zip,
Lambda's environment variables and its own temporary directory; `Spawner` makes them."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from dogxray.core.config import DUMMY_CREDENTIALS, LAMBDA_RUNTIME_PACKAGES, RUNTIME_MODULES
from dogxray.local.bootstrap import END_MARKER

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
# What Lambda's Python runtime provides besides the standard library (import names; one
# list in dogxray.core.config). Anything else must come from the deployed zip, as on Lambda.
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
    tracing: str  # TracingConfig Mode: Active | PassThrough (Lambda's default)
    last_modified: str  # a re-created function (same name) must start cold
    code: bytes = field(compare=False, repr=False)
    reserved: int | None = field(default=None, compare=False)  # reserved concurrency

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
            tracing=str((fn.tracing_config or {}).get("Mode") or "PassThrough"),
            last_modified=str(fn.last_modified),
            code=bytes(fn.code_bytes or b""),
            reserved=_reserved(fn),
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
            self.tracing,  # moto keeps LastModified on configuration updates
            self.last_modified,
        )


def _reserved(fn: Any) -> int | None:
    """PutFunctionConcurrency's value as moto stores it (None: not reserved; 0 is valid)."""
    value = getattr(fn, "reserved_concurrency", None)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def now_ms() -> int:
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
        for line in _lines(pipe):
            try:
                self._replies.put(json.loads(line))
            except ValueError:
                continue
        self._replies.put(None)

    def _read_logs(self, pipe: IO[bytes]) -> None:
        lines: list[tuple[int, str]] = []
        for raw in _lines(pipe):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith(END_MARKER):
                self._outputs.put(lines)
                lines = []
            else:
                lines.append((now_ms(), line.replace("\r", "\n")))
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


def _lines(pipe: IO[bytes]) -> Iterator[bytes]:
    """A child's pipe, line by line, to its end, or until `kill` closes it under the
    reader (a stop under load): then the reader ends quietly, as at end of output."""
    try:
        yield from pipe
    except (OSError, ValueError):  # ValueError: read of a closed file
        return


class Stopping(Exception):
    """The emulator is stopping: no new execution environment (nor files) any more."""


class Spawner:
    """Starts execution environments: unpacks each code version once, links the runtime's
    SDK once, and gives every environment Lambda's variables and a private TMPDIR.

    Nothing here re-creates the emulator's folder: after `close()` (the emulator is
    stopping and about to remove it) `spawn` raises `Stopping` and writes nothing."""

    def __init__(
        self, workdir: Path, *, endpoint_url: str, daemon_address: str, dog_api_url: str
    ) -> None:
        self.workdir = workdir
        self.endpoint_url = endpoint_url
        self.daemon_address = daemon_address
        self.dog_api_url = dog_api_url
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """No more environments: waits for a spawn that is writing files to finish."""
        with self._lock:
            self._closed = True

    def spawn(self, spec: FunctionSpec) -> ExecutionEnvironment:
        code_dir = self._unpack(spec)
        runtime_dir = self._runtime_dir()
        with self._lock:
            self._check_open()
            tmp = self.workdir / "env" / secrets.token_hex(6)
            tmp.parent.mkdir(exist_ok=True)  # the emulator's folder itself must exist
            tmp.mkdir()
        stream = f"{datetime.now(timezone.utc):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"
        daemon = self.daemon_address
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
                "PYTHONPATH": os.pathsep.join([str(code_dir), str(runtime_dir)]),
            }
        )
        return ExecutionEnvironment(spec, code_dir, env)

    def _check_open(self) -> None:
        """Under the lock: refuse once closed (or when the folder is gone)."""
        if self._closed or not self.workdir.is_dir():
            raise Stopping("the emulator is stopping")

    def _runtime_dir(self) -> Path:
        """Links to the SDK packages Lambda's runtime has, with their `.dist-info` as in
        Lambda's /var/runtime (OpenTelemetry's botocore instrumentation checks the
        installed botocore version before it patches); made once per emulator."""
        folder = self.workdir / "runtime"
        with self._lock:
            self._check_open()
            if not folder.exists():
                folder.mkdir()
                for name in RUNTIME_PACKAGES:
                    found = importlib.util.find_spec(name)
                    if found is None or found.origin is None:
                        continue
                    source = Path(found.origin)
                    source = source.parent if found.submodule_search_locations else source
                    (folder / source.name).symlink_to(source)
                for info in dist_infos(LAMBDA_RUNTIME_PACKAGES):
                    (folder / info.name).symlink_to(info)
        return folder

    def _unpack(self, spec: FunctionSpec) -> Path:
        """The deployed zip, unpacked once per code version."""
        digest = hashlib.sha256(spec.code).hexdigest()[:20]
        code_dir = self.workdir / "code" / digest
        with self._lock:
            self._check_open()
            if not (code_dir / ".unpacked").exists():
                code_dir.parent.mkdir(exist_ok=True)
                code_dir.mkdir(exist_ok=True)
                with zipfile.ZipFile(io.BytesIO(spec.code)) as archive:
                    archive.extractall(code_dir)
                (code_dir / ".unpacked").touch()
        return code_dir


def dist_infos(names: Iterable[str]) -> Iterator[Path]:
    """The installed metadata folders of these distributions (those this interpreter has)."""
    for name in names:
        try:
            files = importlib.metadata.distribution(name).files or ()
        except importlib.metadata.PackageNotFoundError:
            continue
        record = next((f for f in files if f.name == "METADATA"), None)
        if record is not None:
            folder = Path(str(record.locate())).parent
            if folder.name.endswith(".dist-info"):
                yield folder
