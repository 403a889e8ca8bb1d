"""The only module that creates AWS sessions and clients (botocore's: boto3's session adds
its resources and S3 transfer manager, which dogxray never uses, and ~15 ms of imports to
every command).

It resolves profile, region and endpoint (explicit option > env var > profile > default),
sets standard retries with short connect and read timeouts so an unreachable or hung
endpoint fails in seconds: the read-timeout budget is one per `Aws` (one per command), not
per call: a call that timed out is tried twice, and once one call has spent that budget
every later or parallel call of the same `Aws` fails at once, so any command, however many
calls it makes, fails within ~2 x READ_TIMEOUT_S (or $DOGXRAY_READ_TIMEOUT). It logs API
calls under `--debug`, and turns botocore's exceptions into one `DogxrayError` with a hint.
Long operations (IAM propagation, function waiters) are loops of such bounded calls, so they
still keep going with progress.
"""

from __future__ import annotations

import re
import socket
import sys
import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import botocore.exceptions as bex
import botocore.session
from botocore.config import Config

from dogxray.core.config import (
    DEFAULT_REGION,
    EMULATOR_MARKER,
    EMULATOR_MARKER_PATH,
    Settings,
    read_timeout_s,
)
from dogxray.core.errors import DogxrayError

_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
CONNECT_TIMEOUT_S = 3
MAX_ATTEMPTS = 4  # throttling and 5xx (botocore's standard mode)
TIMEOUT_ATTEMPTS = 2  # a call that timed out is retried once, not MAX_ATTEMPTS times

ClientError = bex.ClientError
BotoCoreError = bex.BotoCoreError


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, '' for anything else."""
    if isinstance(exc, bex.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


_REQUEST_ID_HEADERS = ("x-amzn-requestid", "x-amz-request-id", "x-amz-id-2")


def aws_error(exc: bex.ClientError) -> bool:
    """Whether a ClientError is AWS's answer: an error code, or AWS's request id headers
    (an S3 HEAD's 404 has no body)."""
    code = error_code(exc)
    if code and not code.isdigit() and code != "Unknown":
        return True
    headers = (exc.response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    return any(str(name).lower() in _REQUEST_ID_HEADERS for name in headers)


def error_message(exc: BaseException) -> str:
    if isinstance(exc, bex.ClientError):
        return str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
    return str(exc)


class Aws:
    """A botocore session for one Settings; clients are created once and cached."""

    def __init__(
        self, settings: Settings, *, session: Any = None, read_timeout: float | None = None
    ) -> None:
        self.settings = settings
        # None: $DOGXRAY_READ_TIMEOUT, else READ_TIMEOUT_S (read now, once per command)
        self.read_timeout = read_timeout_s() if read_timeout is None else read_timeout
        self._hung: bex.ReadTimeoutError | None = None  # the timeout that spent the budget
        self._budget_lock = threading.Lock()
        self._client_lock = threading.RLock()
        try:
            self.session = session or botocore.session.Session(profile=settings.profile)
            self.session.get_scoped_config()  # a missing profile fails here, not on a call
        except bex.ProfileNotFound as exc:
            raise DogxrayError.usage(
                f"AWS profile {settings.profile!r} not found",
                hint="check `aws configure list-profiles`, or drop --profile / AWS_PROFILE",
            ) from exc
        self._clients: dict[str, Any] = {}
        if settings.debug:
            self.session.register("after-call", _log_call)
        self.session.register("needs-retry", self._timeout_budget)
        self.session.register("before-send", self._fail_when_hung)
        self._config = Config(
            region_name=self.region,
            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=self.read_timeout,
        )

    def _timeout_budget(self, attempts: int, caught_exception: Any = None, **_: Any) -> None:
        """botocore `needs-retry` hook: standard mode would retry a read timeout
        MAX_ATTEMPTS times (4 x the read timeout plus backoff); this Aws gives up after
        TIMEOUT_ATTEMPTS timed-out waits in a row of one call, and after the first call that
        spent them, every other call of this Aws gives up on its first timeout too."""
        if not isinstance(caught_exception, bex.ReadTimeoutError):
            return
        with self._budget_lock:
            if self._hung is None and attempts < TIMEOUT_ATTEMPTS:
                return  # let botocore retry this call once
            if self._hung is None:
                self._hung = caught_exception
        caught_exception.waited_s = self.read_timeout  # for `explain`'s message
        raise caught_exception

    def _fail_when_hung(self, request: Any = None, **_: Any) -> None:
        """botocore `before-send` hook: once the endpoint has not answered a call twice,
        a later request is not sent to wait for it again: it fails with the same timeout."""
        if self._hung is not None:
            url = getattr(request, "url", None) or self._hung.kwargs.get("endpoint_url", "")
            raise bex.ReadTimeoutError(endpoint_url=url, error="the endpoint did not answer")

    @cached_property
    def region(self) -> str:
        region = (
            self.settings.region or self.session.get_config_variable("region") or DEFAULT_REGION
        )
        validate_region(region, self.session, strict=self.settings.endpoint_url is None)
        return region

    @property
    def endpoint_url(self) -> str | None:
        return self.settings.endpoint_url

    @property
    def backend(self) -> str:
        """What this session talks to, for messages: AWS, dogxray's emulator, or another
        endpoint (a moto server, LocalStack) named by its URL."""
        if self.endpoint_url:
            if self.is_emulator:
                return f"dogxray's emulator at {self.endpoint_url}"
            return f"the endpoint {self.endpoint_url}"
        return f"AWS account {self.account_id}, region {self.region}"

    @property
    def is_local(self) -> bool:
        """True when talking to an endpoint other than AWS (the emulator, a moto server)."""
        return self.settings.endpoint_url is not None

    @cached_property
    def is_emulator(self) -> bool:
        """True only for dogxray's own emulator (it answers a marker); functions there run
        on this interpreter, everywhere else on the Lambda platform."""
        return self.endpoint_url is not None and is_emulator(self.endpoint_url)

    def client(self, service: str, region: str | None = None) -> Any:
        """The cached client of `service`, in this session's region unless `region` (another
        region, e.g. `labs --all-regions`) is given."""
        key = service if region is None or region == self.region else f"{service}@{region}"
        with self._client_lock:  # botocore does not make clients safely from several threads
            return self._client(service, region, key)

    def _client(self, service: str, region: str | None, key: str) -> Any:
        if key not in self._clients:
            if self.endpoint_url:
                check_endpoint(self.endpoint_url)
            config = self._config
            if key != service:
                config = config.merge(Config(region_name=region))
            self._clients[key] = self.session.create_client(
                service, config=config, endpoint_url=self.endpoint_url
            )
        return self._clients[key]

    @cached_property
    def account_id(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])

    def on_call(self, callback: Callable[[str, str], None]) -> None:
        """Call `callback(service, operation)` before every API call (benchmarks, tests)."""

        def _before(model: Any, **_: Any) -> None:
            callback(model.service_model.service_name, model.name)

        self.session.register("before-call", _before)


def validate_region(region: str, session: Any, *, strict: bool) -> None:
    if not _REGION_RE.match(region):
        raise DogxrayError.usage(
            f"unknown region {region!r}", hint="use a region code such as us-east-1 or eu-west-1"
        )
    if not strict:
        return
    known: set[str] = set()
    for partition in session.get_available_partitions():
        known.update(session.get_available_regions("lambda", partition_name=partition))
    if known and region not in known:
        raise DogxrayError.usage(
            f"unknown region {region!r}",
            hint="use a region code such as us-east-1 or eu-west-1 (`aws ec2 describe-regions`)",
        )


_checked_endpoints: set[str] = set()


def check_endpoint(url: str) -> None:
    """Fail in seconds, with a hint, when a custom endpoint is not listening."""
    if url in _checked_endpoints:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise DogxrayError(
            f"cannot reach the endpoint {url}",
            where=str(exc),
            hint="start the emulator with `dogxray local`, or unset AWS_ENDPOINT_URL / "
            "--endpoint-url to use AWS",
        ) from exc
    _checked_endpoints.add(url)


def is_emulator(url: str, timeout: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether `url` is dogxray's emulator (GET its marker path; anything else: no)."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(url.rstrip("/") + EMULATOR_MARKER_PATH, timeout=timeout) as r:
            answer = json.loads(r.read(4096))
    except (OSError, ValueError):
        return False
    return isinstance(answer, dict) and all(answer.get(k) == v for k, v in EMULATOR_MARKER.items())


def speaks_aws(url: str) -> bool:
    """Whether `url` answers an AWS API call as AWS does (STS GetCallerIdentity, dummy
    credentials: any AWS error code is an AWS answer too)."""
    client = botocore.session.Session().create_client(
        "sts",
        endpoint_url=url,
        region_name=DEFAULT_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=CONNECT_TIMEOUT_S,
        ),
    )
    try:
        client.get_caller_identity()
    except bex.ClientError as exc:
        return aws_error(exc)
    except Exception:
        return False
    return True


def _log_call(http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
    status = getattr(http_response, "status_code", "?")
    service = model.service_model.service_name
    print(f"[api] {service}.{model.name} -> {status}", file=sys.stderr)
