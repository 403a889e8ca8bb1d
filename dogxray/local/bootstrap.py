"""The Lambda runtime loop inside one execution environment (a subprocess).

Run as a script by `dogxray.local.runtime` (stdlib only, never imports dogxray). Protocol:
invocations arrive as JSON lines on stdin; results leave as JSON lines on the original
stdout, which is moved to a private descriptor so the function's own `print` output and
logging go to stderr, where the parent collects them as log lines. A marker line on
stderr closes each invocation's output.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import json
import logging
import os
import resource
import shutil
import sys
import threading
import time
import traceback
from typing import Any

END_MARKER = "\x1edogxray-end"
XRAY_LAUNCHER = "aws_xray_sdk.core.lambda_launcher"


class _TouchFileRedirect(importlib.abc.MetaPathFinder):
    """Point the X-Ray SDK's hard-coded `/tmp/.aws-xray/` touch file into our TMPDIR."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != XRAY_LAUNCHER:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            folder = os.path.join(os.environ.get("TMPDIR", "/tmp"), ".aws-xray")
            module.TOUCH_FILE_DIR = folder + os.sep
            module.TOUCH_FILE_PATH = os.path.join(folder, "initialized")

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


class LambdaContext:
    """The `context` argument, as the Python runtime builds it."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_arn: str) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.invoked_function_arn = invoked_arn
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def error_doc(
    exc: BaseException, error_type: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """Lambda's error payload, plus the frames the X-Ray `cause` needs."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    return {
        "errorMessage": str(exc) if message is None else message,
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(frames),
        "frames": [{"path": f.filename, "line": f.lineno, "label": f.name} for f in frames],
    }


def log_error(doc: dict[str, Any]) -> None:
    """`[ERROR] Type: message` + traceback as one log event (newlines become CR, as Lambda)."""
    text = f"[ERROR] {doc['errorType']}: {doc['errorMessage']}"
    if doc["stackTrace"]:
        text += "\nTraceback (most recent call last):\n" + "".join(doc["stackTrace"])
    sys.stderr.write(text.rstrip("\n").replace("\n", "\r") + "\n")


def load_handler(handler: str) -> Any:
    """Import the handler the way the Python runtime does, with its error types."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from exc
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise _Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{modname}': {exc}"
        ) from exc
    except SyntaxError as exc:
        raise _Fault(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {exc}"
        ) from exc
    function = getattr(module, fname, None)
    if function is None:
        raise _Fault("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'")
    return function


class _Fault(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def max_memory_mb() -> int:
    """Peak RSS of this process since exec (ru_maxrss would include the forking parent)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def send(channel: Any, doc: dict[str, Any]) -> None:
    channel.write(json.dumps(doc) + "\n")
    channel.flush()


def invoke(handler: Any, request: dict[str, Any], ids: _RequestIdFilter) -> dict[str, Any]:
    request_id = request["id"]
    ids.request_id = request_id
    os.environ["_X_AMZN_TRACE_ID"] = request["trace"]
    context = LambdaContext(request_id, request["deadline_ms"], request["arn"])
    started = time.perf_counter()
    try:
        result = handler(request["event"], context)
        try:
            reply: dict[str, Any] = {"ok": True, "payload": json.dumps(result)}
        except (TypeError, ValueError) as exc:
            raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc
    except Exception as exc:
        error_type = exc.error_type if isinstance(exc, _Fault) else None
        doc = error_doc(exc, error_type)
        doc["requestId"] = request_id
        log_error(doc)
        reply = {"ok": False, "error": doc}
    reply["duration_ms"] = (time.perf_counter() - started) * 1000
    reply["max_rss_mb"] = max_memory_mb()
    reply["id"] = request_id
    return reply


def watch_parent(parent: int, tmpdir: str | None, interval: float = 0.5) -> None:
    """Exit when the emulator that started us is gone (even SIGKILLed, mid-invocation),
    removing our own temporary directory. A thread polling getppid(): prctl's
    PDEATHSIG would fire when the *thread* that spawned us ends (a request thread)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        os._exit(0)

    threading.Thread(target=watch, name="dogxray-parent-watch", daemon=True).start()


def main() -> None:
    tmpdir = os.environ.get("TMPDIR")
    if len(sys.argv) > 1:
        watch_parent(int(sys.argv[1]), tmpdir)
    try:
        serve()
    finally:  # stdin closed (the emulator is gone or stopping), or a write to it failed
        if tmpdir:  # (the emulator killed mid-init: a broken pipe before the watch saw it)
            shutil.rmtree(tmpdir, ignore_errors=True)


def serve() -> None:
    """Load the handler, say ready, then one invocation per line of stdin."""
    channel = os.fdopen(os.dup(1), "w")  # the protocol keeps the real stdout
    os.dup2(2, 1)  # the function's print() goes to stderr, i.e. the log
    sys.meta_path.insert(0, _TouchFileRedirect())
    ids = _RequestIdFilter()
    log_handler = logging.StreamHandler(sys.stderr)
    log_handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    logging.Formatter.converter = time.gmtime
    log_handler.addFilter(ids)
    logging.getLogger().addHandler(log_handler)

    started = time.perf_counter()
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as exc:
        doc = error_doc(exc, getattr(exc, "error_type", None))
        log_error(doc)
        sys.stderr.flush()
        send(channel, {"type": "init_error", "error": doc})
        return
    init_ms = (time.perf_counter() - started) * 1000
    sys.stdout.flush()
    sys.stderr.write(f"{END_MARKER} init\n")
    sys.stderr.flush()
    send(channel, {"type": "ready", "init_ms": init_ms})
    for line in sys.stdin:
        reply = invoke(handler, json.loads(line), ids)
        sys.stdout.flush()
        sys.stderr.write(f"{END_MARKER} {reply['id']}\n")
        sys.stderr.flush()
        reply["type"] = "result"
        send(channel, reply)


if __name__ == "__main__":
    main()
