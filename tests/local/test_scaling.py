"""The emulator scales like Lambda: concurrent requests get their own execution environments
(each a cold start), warm ones are reused, requests beyond the account limit or the
function's reserved concurrency get the Function URL's 429 and a throttled `AWS::Lambda`
segment, idle environments are reclaimed, and the live ones stay within the limit.

Requests overlap deterministically: held requests wait in the handler for a gate file
that the test creates once every slot it expects is busy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
import requests

from dogxray.local.pool import Pool
from tests.helpers import wait_for
from tests.local.conftest import Lab
from tests.local.test_cleanup import environment_pids

HOLD = """
import os, time
def handler(event, context):
    if event["rawPath"] == "/fail":
        raise ValueError("asked to fail")
    if event["rawPath"] == "/hold" or event.get("hold"):
        deadline = time.time() + 30
        while not os.path.exists(os.environ["GATE"]) and time.time() < deadline:
            time.sleep(0.01)
    return {"statusCode": 200, "body": str(os.getpid())}
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


class Held:
    """`count` GETs of `url` + "hold" in threads, answered once `open()` makes the gate."""

    def __init__(self, url: str, gate: Path, count: int) -> None:
        self.gate = gate
        self.responses: list[requests.Response] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._get, args=(url,)) for _ in range(count)]
        for thread in self._threads:
            thread.start()

    def _get(self, url: str) -> None:
        response = requests.get(url + "hold", timeout=60)
        with self._lock:
            self.responses.append(response)

    def statuses(self) -> list[int]:
        with self._lock:
            return sorted(r.status_code for r in self.responses)

    def open(self) -> list[requests.Response]:
        self.gate.touch()
        for thread in self._threads:
            thread.join(60)
        return self.responses


@pytest.fixture
def use_pool(lab: Lab) -> Iterator[Callable[..., Pool]]:
    """Give the running emulator a fresh pool (its own limit and clock) for one test."""
    runtime = lab.emu.runtime
    original = runtime.pool
    made: list[Pool] = []

    def make(**options: Any) -> Pool:
        pool = Pool(**options).start()
        made.append(pool)
        runtime.pool = pool
        return pool

    yield make
    runtime.pool = original
    for pool in made:
        pool.stop()


def deploy(lab: Lab, gate: Path) -> tuple[str, str, str]:
    name, url = lab.deploy({"app.py": HOLD}, timeout=60, env={"GATE": str(gate)})
    arn = lab.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    return name, url, arn


def function_subsegments(lab: Lab, response: requests.Response) -> list[str]:
    segments = lab.segments(response)
    function = [s for s in segments if s["origin"] == "AWS::Lambda::Function"]
    return [sub["name"] for sub in function[0]["subsegments"]]


def cold_reports(lab: Lab, name: str) -> int:
    return sum(m.startswith("REPORT") and "Init Duration" in m for m in lab.log_messages(name))


def test_concurrent_requests_scale_out_with_one_cold_start_each(
    lab: Lab, tmp_path: Path, use_pool: Callable[..., Pool]
) -> None:
    pool = use_pool(limit=4)
    before = environment_pids()
    name, url, arn = deploy(lab, tmp_path / "gate")
    held = Held(url, tmp_path / "gate", 4)
    assert wait_for(lambda: pool.busy(arn) == 4)
    first = held.open()
    assert [r.status_code for r in first] == [200] * 4
    pids = {r.text for r in first}
    assert len(pids) == 4  # four environments, one per concurrent request
    assert {int(p) for p in pids} == environment_pids() - before
    assert all(function_subsegments(lab, r)[0] == "Initialization" for r in first)
    assert cold_reports(lab, name) == 4
    streams = lab.client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")
    assert len(streams["logStreams"]) == 4  # one log stream per environment, as Lambda

    (tmp_path / "gate").unlink()
    again = Held(url, tmp_path / "gate", 4)
    assert wait_for(lambda: pool.busy(arn) == 4)
    second = again.open()
    assert {r.text for r in second} == pids  # all four warm: reused, no new cold start
    assert all(function_subsegments(lab, r) == ["Invocation", "Overhead"] for r in second)
    assert cold_reports(lab, name) == 4
    lab.client("lambda").delete_function(FunctionName=name)
    assert environment_pids() - before == set()


def test_beyond_the_account_limit_requests_get_429_and_throttled_traces(
    lab: Lab, tmp_path: Path, use_pool: Callable[..., Pool]
) -> None:
    pool = use_pool(limit=3)
    before = environment_pids()
    name, url, arn = deploy(lab, tmp_path / "gate")
    held = Held(url, tmp_path / "gate", 5)  # 3 + 2 at once
    assert wait_for(lambda: held.statuses() == [429, 429] and len(environment_pids() - before) == 3)
    assert pool.busy(arn) == 3
    responses = held.open()
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 429, 429]
    for response in (r for r in responses if r.status_code == 429):
        assert response.json() == {"Message": "Rate Exceeded."}
        assert response.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
        (segment,) = lab.segments(response)  # Lambda never reached the function
        assert segment["origin"] == "AWS::Lambda"
        assert segment["throttle"] is True and segment["error"] is True
        assert segment["http"]["response"]["status"] == 429
    assert cold_reports(lab, name) == 3  # a throttle writes no log lines
    lab.client("lambda").delete_function(FunctionName=name)


def test_reserved_concurrency_throttles_the_function_and_the_invoke_api(
    lab: Lab, tmp_path: Path
) -> None:
    name, url, arn = deploy(lab, tmp_path / "gate")
    lam = lab.client("lambda")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    pool = lab.emu.runtime.pool
    held = Held(url, tmp_path / "gate", 5)
    assert wait_for(lambda: pool.busy(arn) == 2 and held.statuses() == [429, 429, 429])
    no_retry = botocore.config.Config(retries={"total_max_attempts": 1})
    api = boto3.client(  # no retries: each attempt would be one more throttle
        "lambda", endpoint_url=lab.emu.endpoint_url, region_name="us-east-1", config=no_retry
    )
    with pytest.raises(api.exceptions.TooManyRequestsException) as info:
        api.invoke(FunctionName=name, Payload=b"{}")
    error = info.value.response
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert sorted(r.status_code for r in held.open()) == [200, 200, 429, 429, 429]
    lam.delete_function_concurrency(FunctionName=name)
    assert requests.get(url, timeout=30).status_code == 200
    lam.delete_function(FunctionName=name)


def test_idle_environments_are_reclaimed_on_the_injected_clock(
    lab: Lab, tmp_path: Path, use_pool: Callable[..., Pool]
) -> None:
    now = [time.monotonic()]
    pool = use_pool(limit=3, idle_timeout_s=1.0, clock=lambda: now[0])  # sweeps every 0.1 s
    before = environment_pids()
    name, url, _ = deploy(lab, tmp_path / "gate")
    (tmp_path / "gate").touch()
    pid = int(requests.get(url, timeout=30).text)
    assert environment_pids() - before == {pid}
    sweeps = pool.sweeps
    assert wait_for(lambda: pool.sweeps >= sweeps + 2)
    assert environment_pids() - before == {pid}  # the clock has not moved: kept warm
    now[0] += 1.0
    assert wait_for(lambda: environment_pids() - before == set(), 10)
    assert pool.live == 0 and pool.reclaimed == 1
    assert int(requests.get(url, timeout=30).text) != pid  # the next request starts cold
    lab.client("lambda").delete_function(FunctionName=name)


def test_live_environments_stay_within_the_limit_across_functions(
    lab: Lab, tmp_path: Path, use_pool: Callable[..., Pool]
) -> None:
    pool = use_pool(limit=2)
    before = environment_pids()
    first, first_url, first_arn = deploy(lab, tmp_path / "gate")
    held = Held(first_url, tmp_path / "gate", 2)
    assert wait_for(lambda: pool.busy(first_arn) == 2)
    old = {int(r.text) for r in held.open()}
    assert environment_pids() - before == old  # two idle environments: the limit
    second, second_url, _ = deploy(lab, tmp_path / "gate")
    new = int(requests.get(second_url, timeout=30).text)
    live = environment_pids() - before
    assert len(live) == 2 and new in live  # the longest-idle one made room
    assert len(live & old) == 1
    for name in (first, second):
        lab.client("lambda").delete_function(FunctionName=name)


def test_a_function_url_is_capped_at_ten_requests_a_second_per_reserved_unit(lab: Lab) -> None:
    """Lambda: a Function URL's maximum request rate is 10 times the function's reserved
    concurrency. The cap's clock is held in one second, so the count is exact."""
    name, url = lab.deploy({"app.py": "def handler(event, context):\n    return 'ok'\n"})
    lam = lab.client("lambda")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    rate = lab.emu.runtime.url_rate
    saved = rate.clock
    rate.clock = lambda: 1_000.5
    try:
        with requests.Session() as session:
            statuses = [session.get(url, timeout=10).status_code for _ in range(12)]
        assert statuses == [200] * 10 + [429, 429]
        rate.clock = lambda: 1_001.0  # the next second: allowed again
        assert requests.get(url, timeout=10).status_code == 200
        # the Invoke API is not capped by the URL's rate
        rate.clock = lambda: 1_001.5
        for _ in range(10):
            requests.get(url, timeout=10)
        assert lam.invoke(FunctionName=name)["StatusCode"] == 200
    finally:
        rate.clock = saved
        lam.delete_function(FunctionName=name)


def test_url_rate_counts_whole_seconds_per_function() -> None:
    from dogxray.local.pool import UrlRate

    now = [5.2]
    rate = UrlRate(clock=lambda: now[0])
    assert all(rate.allow("f", 2) for _ in range(20))
    assert not rate.allow("f", 2)
    assert rate.allow("g", 2)  # another function's own count
    assert rate.allow("f", None)  # no reserved concurrency: no cap
    now[0] = 6.0
    assert rate.allow("f", 2)
