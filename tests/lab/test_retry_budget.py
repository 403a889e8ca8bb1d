"""One retry layer: throttling and 5xx are retried by botocore's standard mode alone
(1 + MAX_ATTEMPTS HTTP attempts in all), the executor adds only what botocore cannot know.

Faults are injected at `before-send`, below botocore's retry loop, so the real loop runs
(a Stubber or a `before-call` answer would skip it); its back-off sleeps are recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from dogxray.core.aws import MAX_ATTEMPTS, ClientError, error_code
from dogxray.lab import service
from dogxray.lab.models import Action, Resource, SetupOptions, Step, Wait

from .conftest import Lab, tiny_zip


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class HttpFaults:
    """Answer the first `times` HTTP attempts of an operation with an error status."""

    def __init__(self, lab: Lab, service_name: str, op: str) -> None:
        self.attempts = 0
        self.plan: list[tuple[int, str, str]] = []
        lab.client(service_name).meta.events.register(
            f"before-send.{service_name}.{op}", self._send
        )

    def fail(self, status: int, code: str, times: int, message: str = "") -> None:
        self.plan += [(status, code, message or f"injected {code}")] * times

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        self.attempts += 1
        if not self.plan:
            return None  # let moto answer
        status, code, message = self.plan.pop(0)
        body = json.dumps({"message": message}).encode()
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json"}
        return AWSResponse(request.url, status, headers, _Raw(body))


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's own back-off sleeps, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    return slept


def update_step(lab: Lab) -> Step:
    name = lab.aws.settings.function_name
    return Step(
        name="function-configuration",
        message=f"update {name}",
        action=Action.update,
        resource=Resource("function", name),
        operation="UpdateFunctionConfiguration",
        params={"FunctionName": name, "Timeout": 20},
        wait=Wait.function_updated,
        function_name=name,
    )


@pytest.fixture
def deployed(lab: Lab) -> Lab:
    service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor).to_json()
    return lab


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "TooManyRequestsException"), (500, "ServiceException"), (503, "ServiceException")],
)
def test_a_few_throttles_or_5xx_are_botocores_alone(
    deployed: Lab, backoffs: list[float], status: int, code: str
) -> None:
    faults = HttpFaults(deployed, "lambda", "UpdateFunctionConfiguration")
    faults.fail(status, code, times=MAX_ATTEMPTS - 1)
    deployed.executor.run_one(update_step(deployed))
    assert faults.attempts == MAX_ATTEMPTS  # three refused, the fourth through
    assert len(backoffs) == MAX_ATTEMPTS - 1  # botocore backed off between them
    assert deployed.sleeps == []  # and the executor did not retry on top


def test_endless_throttling_costs_max_attempts_then_fails(
    deployed: Lab, backoffs: list[float]
) -> None:
    faults = HttpFaults(deployed, "lambda", "UpdateFunctionConfiguration")
    faults.fail(429, "TooManyRequestsException", times=50)
    with pytest.raises(ClientError) as info:
        deployed.executor.run_one(update_step(deployed))
    assert error_code(info.value) == "TooManyRequestsException"
    # botocore's `max_attempts` counts the retries after the first attempt
    assert faults.attempts == MAX_ATTEMPTS + 1  # not that times another layer's retries
    assert len(backoffs) == MAX_ATTEMPTS and deployed.sleeps == []


def test_conflicts_are_the_executors_each_one_http_attempt(
    deployed: Lab, backoffs: list[float]
) -> None:
    """An update in progress: botocore does not retry a 409, the executor does."""
    faults = HttpFaults(deployed, "lambda", "UpdateFunctionConfiguration")
    faults.fail(
        409,
        "ResourceConflictException",
        times=3,
        message="The operation cannot be performed at this time. An update is in progress "
        "for resource: arn:aws:lambda:us-east-1:123456789012:function:dog-photo-function",
    )
    deployed.executor.run_one(update_step(deployed))
    assert faults.attempts == 4 and backoffs == []
    assert deployed.sleeps == [2.0, 2.0, 2.0]


def test_throttled_setup_still_converges(deployed: Lab, backoffs: list[float]) -> None:
    faults = HttpFaults(deployed, "lambda", "GetFunction")
    faults.fail(429, "TooManyRequestsException", times=2)
    doc = service.setup(
        deployed.aws, SetupOptions(), zip_provider=tiny_zip, executor=deployed.executor
    ).to_json()
    assert doc["changed"] == [] and faults.attempts == 3 and len(backoffs) == 2
