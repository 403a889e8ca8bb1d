"""Fixtures for the control-plane tests: in-process moto, a tiny zip instead of the real
package, an executor that never sleeps, an API-call recorder and fault injection."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from moto import mock_aws

from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.lab.executor import Executor, Timing

READ_PREFIXES = ("Get", "List", "Describe", "Head")
HANDLER_SOURCE = "def lambda_handler(event, context):\n    return {'statusCode': 200}\n"


def make_zip(source: str = HANDLER_SOURCE) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("lambda_function.py", date_time=(1980, 1, 1, 0, 0, 0))
        zf.writestr(info, source)
    return buf.getvalue()


def tiny_zip(runtime: str, arch: str, from_env: bool, **_reporter: Any) -> bytes:
    """Stands in for `service.build_zip` (which also takes the reporter)."""
    return make_zip()


@dataclass
class Calls:
    """Every API call made through one Aws, as (service, operation)."""

    seen: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, service: str, operation: str) -> None:
        self.seen.append((service, operation))

    @property
    def mutating(self) -> list[tuple[str, str]]:
        return [c for c in self.seen if not c[1].startswith(READ_PREFIXES)]

    def clear(self) -> None:
        self.seen.clear()


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


@dataclass
class Faults:
    """Make chosen operations fail: `fail("lambda", "CreateFunction", code, times=n)`;
    `interrupt(...)` raises KeyboardInterrupt (Ctrl-C) instead."""

    aws: Aws
    plans: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.aws.session.register("before-call", self._before)

    def fail(
        self,
        service: str,
        op: str,
        code: str,
        message: str = "injected",
        *,
        times: int = 1,
        status: int = 400,
    ) -> None:
        self.plans.setdefault((service, op), []).extend([(code, message, status)] * times)

    def interrupt(self, service: str, op: str) -> None:
        self.plans.setdefault((service, op), []).append(KeyboardInterrupt)

    def pending(self, service: str, op: str) -> int:
        return len(self.plans.get((service, op), []))

    def _before(self, model: Any, **_: Any) -> Any:
        queue = self.plans.get((model.service_model.service_name, model.name))
        if not queue:
            return None
        fault = queue.pop(0)
        if fault is KeyboardInterrupt:
            raise KeyboardInterrupt
        code, message, status = fault
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return _Http(status), parsed


@dataclass
class Lab:
    aws: Aws
    calls: Calls
    faults: Faults
    executor: Executor
    sleeps: list[float]

    def client(self, service: str) -> Any:
        return self.aws.client(service)


_LOADER = botocore.loaders.create_loader()


def shared_session() -> botocore.session.Session:
    """A fresh session that shares parsed service models (client creation in ms)."""
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session


def new_lab(region: str = "us-east-1", lab: str = "dog-photo") -> Lab:
    aws = Aws(Settings.from_options(region=region, lab=lab), session=shared_session())
    calls = Calls()
    aws.on_call(calls)
    sleeps: list[float] = []
    executor = Executor(
        aws,
        timing=Timing(waiter_delay=0),
        sleep=sleeps.append,
        clock=lambda: float(sum(sleeps)),
    )
    return Lab(aws, calls, Faults(aws), executor, sleeps)


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto without AWS-managed IAM policies (loading them costs ~2 s per test)."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    with mock_aws():
        yield


@pytest.fixture
def console_lab(monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    """moto with the AWS-managed policies, for `--policy console`."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    with mock_aws():
        yield new_lab()


@pytest.fixture
def lab(moto: None) -> Lab:
    return new_lab()


@pytest.fixture
def make_lab(moto: None) -> Callable[..., Lab]:
    return new_lab
