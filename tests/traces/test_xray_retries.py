"""X-Ray throttling is retried by botocore's standard mode alone (one retry layer):
a throttled BatchGetTraces costs at most 1 + MAX_ATTEMPTS HTTP attempts, then one clear
error. Faults are injected below botocore's retry loop (`before-send`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

import dogxray.traces.fetch as fetch
from dogxray.core.aws import MAX_ATTEMPTS, Aws
from dogxray.core.explain import explain


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield json.dumps({"message": "Rate exceeded"}).encode()


def throttle(aws: Aws, times: int) -> list[int]:
    attempts: list[int] = []

    def send(request: Any, **_: Any) -> AWSResponse | None:
        attempts.append(1)
        if len(attempts) <= times:
            headers = {"x-amzn-ErrorType": "ThrottledException"}
            return AWSResponse(request.url, 429, headers, _Raw())
        return None

    aws.client("xray").meta.events.register("before-send.xray.BatchGetTraces", send)
    return attempts


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _s: None)


def test_a_few_throttles_are_absorbed(aws_mock: Aws) -> None:
    attempts = throttle(aws_mock, times=2)
    fetcher = fetch.Fetcher(aws_mock, sleep=lambda _s: None)
    got = list(fetcher.documents(["1-6922fa68-000000000000000000000001"], rounds=1))
    assert len(got) == 1 and len(attempts) == 3


@pytest.mark.slow
def test_endless_throttling_is_one_clear_error(aws_mock: Aws) -> None:
    attempts = throttle(aws_mock, times=100)
    fetcher = fetch.Fetcher(aws_mock, sleep=lambda _s: None)
    with pytest.raises(Exception) as info:
        list(fetcher.documents(["1-6922fa68-000000000000000000000001"], rounds=1))
    assert len(attempts) == 1 + MAX_ATTEMPTS
    error = explain(info.value)
    assert error is not None and error.what == "AWS kept throttling the request: Rate exceeded"
    assert error.hint == "wait a minute and re-run; the command is safe to repeat"
