"""The embedded emulator: moto server + Function URL gateway + Lambda runtime + X-Ray
daemon + offline Dog API, all on 127.0.0.1, everything under one temporary directory."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from dogxray.core.config import OFFLINE_ENV
from dogxray.core.errors import DogxrayError

if TYPE_CHECKING:
    from dogxray.local.retention import Bounds
    from dogxray.local.wsgi import State

HOST = "127.0.0.1"
REGION = "us-east-1"
# What every client of the emulator needs (printed by `dogxray local`).
CLIENT_ENV = {**OFFLINE_ENV, "AWS_DEFAULT_REGION": REGION}
_PROCESS_ENV = {**CLIENT_ENV, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
WORKDIR_PREFIX = "dogxray-local-"  # then the owner's pid and "-": dogxray-local-<pid>-xxxx
OWNER_FILE = "owner.pid"
_OWNER_IN_NAME = re.compile(re.escape(WORKDIR_PREFIX) + r"(\d+)-")
REMOVE_ATTEMPTS = 5  # removing the folder: tries, 0.2 s apart (a child may still write)


class Emulator:
    """`with Emulator(port=0) as emu:` -> `emu.endpoint_url` is the AWS endpoint.

    moto keeps its state in process-wide globals: `fresh=True` empties it at start (do not
    run `mock_aws` in the same process while an emulator is up: it resets that state).
    `concurrency` is the account limit of busy execution environments (default
    $DOGXRAY_LOCAL_CONCURRENCY or 10), `idle_timeout_s` how long an idle one lives
    (default $DOGXRAY_LOCAL_IDLE_TIMEOUT or 300), measured on `clock` (tests inject one).
    `retention`: how many traces, log events and datapoints it keeps (default: from
    $DOGXRAY_LOCAL_KEEP_* or dogxray.core.config's LOCAL_KEEP_*).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        fresh: bool = True,
        concurrency: int | None = None,
        idle_timeout_s: float | None = None,
        clock: Callable[[], float] | None = None,
        retention: Bounds | None = None,
        trace_all: bool | None = None,
        transaction_search: bool | None = None,
        indexed_percent: float | None = None,
    ) -> None:
        from dogxray.local.pool import parse_idle_timeout, parse_limit
        from dogxray.local.retention import parse_bounds
        from dogxray.local.sampling import parse_trace_all
        from dogxray.local.transaction_search import parse_options

        self.port = port
        self.fresh = fresh
        self.concurrency = parse_limit(concurrency)  # bad input fails before anything starts
        self.idle_timeout_s = parse_idle_timeout(idle_timeout_s)
        self.retention = retention or parse_bounds()
        self.trace_all = parse_trace_all(trace_all)  # else Lambda's sampling
        # a Transaction Search account (spans to CloudWatch Logs, a share indexed)
        self.transaction_search, self.indexed_percent = parse_options(
            transaction_search, indexed_percent
        )
        self.clock = clock
        self.endpoint_url = ""
        self.gateway_url = ""
        self.dog_api_url = ""
        self.workdir: Path | None = None
        self.runtime: Any = None
        # After stop(): the folder that could not be removed and why (None: all removed).
        self.leftover: Path | None = None
        self.leftover_reason = ""
        self._parts: list[Any] = []  # stopped last to first, after the front doors
        self._doors: list[Any] = []  # what accepts requests: stopped first
        self._saved_env: dict[str, str | None] = {}
        self.state: State | None = None  # what the front's handlers read
        self._patches: object | None = None
        self._sink: Any = None  # the span writer told of every stored document

    @property
    def client_env(self) -> dict[str, str]:
        """The environment variables that point AWS tools at this emulator."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, **CLIENT_ENV}

    def start(self) -> Emulator:
        """Start every part; on any failure stop what already started."""
        self._saved_env = {name: os.environ.get(name) for name in _PROCESS_ENV}
        os.environ.update(_PROCESS_ENV)  # before moto is imported: managed policies
        sweep_stale_workdirs()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
        (self.workdir / OWNER_FILE).write_text(str(os.getpid()))
        try:
            self._start_parts()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_parts(self) -> None:
        from dogxray.local import moto_surface

        moto_surface.check()  # before any patch: a moto that lacks a part names it
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on stderr

        from dogxray.local import patches
        from dogxray.local.alarms import Evaluator, parse_interval
        from dogxray.local.dog_api import DogApi
        from dogxray.local.front import Front
        from dogxray.local.gateway import Gateway
        from dogxray.local.moto_server import WsgiServer, moto_app
        from dogxray.local.pool import Pool
        from dogxray.local.retention import Retention
        from dogxray.local.runtime import Runtime
        from dogxray.local.sampling import Sampler
        from dogxray.local.transaction_search import Account, SpanWriter
        from dogxray.local.wsgi import State
        from dogxray.local.xray_daemon import SINKS, XRayDaemon

        assert self.workdir is not None
        dog_api = DogApi().start()
        self._parts.append(dog_api)
        self.dog_api_url = dog_api.random_url
        daemon = XRayDaemon(REGION).start()
        self._parts.append(daemon)
        self._parts.append(Retention(self.retention).start())
        gateway = Gateway(None)
        self.gateway_url = gateway.url
        self._patches = patches.install()
        self._doors.append(gateway)  # stopped even if it never served
        _check_port(self.port)
        account = Account(
            destination="CloudWatchLogs" if self.transaction_search else "XRay",
            percent=self.indexed_percent,
        )
        alarms = Evaluator(parse_interval())  # wall-clock time, as CloudWatch's datapoints
        self._parts.append(alarms.start())
        self.state = State(
            concurrency=self.concurrency, gateway_base=gateway.url, search=account, alarms=alarms
        )
        self._sink = SpanWriter(account)
        SINKS.append(self._sink)
        moto = WsgiServer(Front(moto_app(), self.state), self.port).start()
        self._doors.append(moto)
        if self.fresh:  # moto's state is per process: start from an empty account
            _reset_moto(moto.url)
        self.endpoint_url = moto.url
        gateway.endpoint_url = self.endpoint_url
        self.runtime = Runtime(
            self.workdir,
            endpoint_url=self.endpoint_url,
            daemon=daemon,
            dog_api_url=self.dog_api_url,
            pool=Pool(
                limit=self.concurrency,
                idle_timeout_s=self.idle_timeout_s,
                **({"clock": self.clock} if self.clock else {}),
            ).start(),
            sampler=Sampler(trace_all=self.trace_all),
        )
        self._parts.append(self.runtime)
        gateway.runtime = self.runtime
        self.state.runtime = self.runtime
        gateway.start()
        _warm_backends(self.endpoint_url)

    def stop(self) -> None:
        """Stop accepting requests, stop the runtime (no new environment; every one
        killed; in-flight invocations wound down), then the other parts; remove the temp
        dir (what could not be removed: `leftover`, `leftover_reason`); restore env."""
        for door in self._doors:  # first: no new request starts from here on
            _quietly(door.stop)
        self._doors = []
        if self.runtime is not None and self.runtime in self._parts:
            self._parts.remove(self.runtime)
            _quietly(self.runtime.stop)
        if self.state is not None:
            self.state.runtime = None  # moto's own Invoke for a request still in flight
        if self._sink is not None:
            from dogxray.local.xray_daemon import SINKS

            if self._sink in SINKS:
                SINKS.remove(self._sink)
            self._sink = None
        if self._patches is not None:
            from dogxray.local import patches, xray_service

            patches.uninstall(self._patches)
            if not patches.installed():
                xray_service.reset()
            self._patches = None
        while self._parts:
            _quietly(self._parts.pop().stop)
        if self.workdir is not None:
            reason = remove_workdir(self.workdir)
            self.leftover, self.leftover_reason = (self.workdir, reason) if reason else (None, "")
            self.workdir = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def sweep_stale_workdirs(root: Path | None = None) -> list[Path]:
    """Remove the temporary directories of emulators that died without stopping (SIGKILL)
    or could not remove them: those whose owner pid (its owner file, else the pid in the
    folder's name) is no longer running. Returns what was removed."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        owner = _owner(folder)
        if owner is None or owner == os.getpid() or _running(owner):
            continue  # not recognisably ours, or its emulator still runs
        if not remove_workdir(folder):
            removed.append(folder)
    return removed


def _owner(folder: Path) -> int | None:
    """The pid of the emulator that made `folder`; None if it is not recognisably an
    emulator's folder of this user."""
    try:
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return None
    try:
        return int((folder / OWNER_FILE).read_text())
    except (OSError, ValueError):
        match = _OWNER_IN_NAME.match(folder.name)
        return int(match[1]) if match else None  # else: still being created, or not ours


def remove_workdir(folder: Path, attempts: int = REMOVE_ATTEMPTS) -> str:
    """Remove an emulator's folder, its owner file last (so a folder that cannot be
    removed stays recognisable); tries again while something still writes in it.
    Returns '' when it is gone, else why not."""
    problem = "it is still there"
    for attempt in range(attempts):
        try:
            for entry in list(folder.iterdir()):
                if entry.name == OWNER_FILE:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink(missing_ok=True)
            (folder / OWNER_FILE).unlink(missing_ok=True)
            folder.rmdir()
        except FileNotFoundError:
            pass
        except OSError as exc:
            problem = f"{exc.filename or folder}: {exc.strerror or exc}"
        if not folder.exists():
            return ""
        if attempt + 1 < attempts:
            time.sleep(0.2)
    return problem


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _quietly(stop: Callable[[], Any]) -> None:
    try:
        stop()
    except Exception:
        return


def _check_port(port: int) -> None:
    """Fail with one clear message if the AWS endpoint port is taken."""
    if port == 0:
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise DogxrayError(
                f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
                hint="another process uses the port: stop it, or pick another with --port "
                "(0 = any free port)",
            ) from exc


def _reset_moto(url: str) -> None:
    """moto's documented reset (`POST /moto-api/reset`), before anyone knows the URL."""
    import urllib.request

    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


def _warm_backends(endpoint_url: str) -> None:
    """One cheap call per service the lab uses, so no first command pays the set-up cost
    (IAM loads the AWS-managed policies; each service's routes are built on first use)."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    calls: dict[str, Callable[[Any], Any]] = {
        "iam": lambda c: c.list_roles(MaxItems=1),
        "xray": lambda c: c.get_trace_summaries(StartTime=0, EndTime=1),
        "lambda": lambda c: c.list_functions(MaxItems=1),
        "s3": lambda c: c.list_buckets(),
        "logs": lambda c: c.describe_log_groups(limit=1),
        "sts": lambda c: c.get_caller_identity(),
    }
    for service, call in calls.items():
        call(session.client(service, endpoint_url=endpoint_url))
