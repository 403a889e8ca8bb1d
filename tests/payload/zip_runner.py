"""Run an unpacked deployment zip's handler as Lambda would, N times; print one JSON doc.

`run_zip()` (used by the packaging tests and bench/payload.py) unpacks the zip, builds a
directory holding only what the Lambda runtime provides (boto3 and its dependencies),
and runs this file as `python -S zip_runner.py N` on exactly those two directories.
RUNNER_TASK_ROOT switches on the X-Ray SDK's Lambda mode; its touch file goes to
RUNNER_TOUCH_DIR instead of the hard-coded /tmp/.aws-xray/ (so the SDK is imported
first, patched, then re-initialised). Standard library only.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def run_zip(
    zip_path: Path, workdir: Path, env: dict[str, str], count: int = 1, timeout: float = 120
) -> dict[str, Any]:
    """Unpack, run `count` invocations in a fresh `python -S`, return the runner's JSON."""
    # What the Lambda Python runtime has (imported here: the `-S` child has no dogxray).
    from dogxray.core.config import LAMBDA_RUNTIME_PACKAGES, RUNTIME_MODULES
    from dogxray.local.environment import dist_infos

    task_root, runtime, touch = workdir / "task", workdir / "runtime", workdir / "touch"
    for path in (task_root, runtime, touch):
        path.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(task_root)
    for name in RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec and spec.origin, f"{name} is not installed"
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = runtime / source.name
        if not link.exists():
            link.symlink_to(source)
    for info in dist_infos(LAMBDA_RUNTIME_PACKAGES):  # as in /var/runtime
        if not (runtime / info.name).exists():
            (runtime / info.name).symlink_to(info)
    full_env = {
        **env,
        "PYTHONPATH": f"{task_root}{os.pathsep}{runtime}",
        "RUNNER_TASK_ROOT": str(task_root),
        "RUNNER_TOUCH_DIR": str(touch),
    }
    proc = subprocess.run(
        [sys.executable, "-S", __file__, str(count)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=workdir,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"runner failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def main(count: int) -> None:
    started = time.perf_counter()
    task_root = os.environ.pop("RUNNER_TASK_ROOT", "")
    if task_root:
        os.environ["LAMBDA_TASK_ROOT"] = task_root
    if task_root and os.environ.get("DOGXRAY_TRACER") != "otel":  # the X-Ray SDK's zip
        import aws_xray_sdk.core as xray
        from aws_xray_sdk.core import lambda_launcher

        touch_dir = os.environ.pop("RUNNER_TOUCH_DIR")
        lambda_launcher.TOUCH_FILE_DIR = touch_dir + "/"
        lambda_launcher.TOUCH_FILE_PATH = os.path.join(touch_dir, "initialized")
        xray.xray_recorder.__init__()  # type: ignore[misc]

    import lambda_function

    init_ms = (time.perf_counter() - started) * 1000
    invocations = [_invoke(lambda_function, n) for n in range(count)]
    loaded = ("requests", "aws_xray_sdk", "opentelemetry.sdk", "boto3")
    modules = {name: sys.modules[name].__file__ for name in loaded if name in sys.modules}
    print(json.dumps({"init_ms": init_ms, "modules": modules, "invocations": invocations}))


def _invoke(module: Any, n: int) -> dict[str, Any]:
    root = f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"  # a new trace, as Lambda does
    os.environ["_X_AMZN_TRACE_ID"] = f"Root={root};Parent={os.urandom(8).hex()};Sampled=1"
    buffer = io.StringIO()
    response: dict[str, Any] = {}
    error = None
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buffer):
        try:
            response = module.lambda_handler(
                {"version": "2.0"}, SimpleNamespace(aws_request_id=f"req-{n}")
            )
        except Exception as exc:  # what Lambda turns into Internal Server Error
            error = f"{type(exc).__name__}: {exc}"
    latency_ms = (time.perf_counter() - t0) * 1000
    body = response.get("body", "")
    return {
        "trace_root": root,
        "latency_ms": latency_ms,
        "status": response.get("statusCode"),
        "headers": response.get("headers"),
        "body_sha256": hashlib.sha256(body.encode()).hexdigest(),
        "body": body if n == 0 else None,
        "error": error,
        "log": [json.loads(line) for line in buffer.getvalue().splitlines()],
    }


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
