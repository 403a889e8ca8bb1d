"""Lambda's sampling in the emulator: 1 request a second per function and 5 % of the
rest for an Active function, an upstream decision respected, PassThrough honoured
(sources: docs/fidelity.md, rows "TracingConfig Active" and "PassThrough")."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from dogxray.core.errors import DogxrayError
from dogxray.local.sampling import Sampler, TraceHeader, parse_trace_all
from tests.local.conftest import Lab
from tests.local.test_xray import TRACED_ZIP


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_reservoir_takes_the_first_request_of_each_second_per_function() -> None:
    clock = Clock(1000.2)
    sampler = Sampler(clock=clock, chance=lambda: 0.99)  # the 5 % never draws
    assert sampler.decide("f", "Active", None).recorded
    assert not sampler.decide("f", "Active", None).recorded  # same second
    assert sampler.decide("g", "Active", None).recorded  # another function's reservoir
    clock.now = 1000.99
    assert not sampler.decide("f", "Active", None).recorded
    clock.now = 1001.0  # a new second
    assert sampler.decide("f", "Active", None).sampled
    assert not sampler.decide("f", "Active", None).sampled


def test_five_percent_of_the_other_requests_are_traced() -> None:
    draws = random.Random(4)
    sampler = Sampler(clock=Clock(), chance=draws.random)
    decisions = [sampler.decide("f", "Active", None).recorded for _ in range(10_001)]
    assert decisions[0]  # the reservoir
    extra = sum(decisions[1:])
    assert 400 <= extra <= 600  # 5 % of 10,000, within ~4.6 standard deviations


def test_trace_all_traces_every_active_request_but_not_pass_through() -> None:
    sampler = Sampler(trace_all=True, clock=Clock(), chance=lambda: 0.99)
    assert all(sampler.decide("f", "Active", None).recorded for _ in range(20))
    assert not sampler.decide("f", "PassThrough", None).sampled


def test_an_upstream_decision_is_respected_in_active_mode() -> None:
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    sampler = Sampler(clock=Clock(), chance=lambda: 0.0)
    told_yes = TraceHeader.parse(f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1")
    told_no = TraceHeader.parse(f"Root={root};Parent=53995c3f42cd8ad8;Sampled=0")
    yes = sampler.decide("f", "Active", told_yes)
    assert (yes.recorded, yes.sampled, yes.root, yes.parent) == (
        True,
        True,
        root,
        "53995c3f42cd8ad8",
    )
    no = sampler.decide("f", "Active", told_no)  # chance 0.0 would trace it: told not to
    assert (no.recorded, no.sampled, no.root) == (False, False, root)
    undecided = sampler.decide("f", "Active", TraceHeader.parse(f"Root={root};Sampled=?"))
    assert undecided.recorded and undecided.root == root  # the rule decides, same trace


def test_pass_through_traces_only_what_the_caller_sampled() -> None:
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    sampler = Sampler(clock=Clock(), chance=lambda: 0.0)
    alone = sampler.decide("f", "PassThrough", None)
    assert (alone.recorded, alone.sampled, alone.passthrough) == (False, False, True)
    joined = sampler.decide(
        "f", "PassThrough", TraceHeader.parse(f"Root={root};Parent=aaaaaaaaaaaaaaaa;Sampled=1")
    )
    assert (joined.recorded, joined.sampled, joined.root) == (False, True, root)
    refused = sampler.decide("f", "PassThrough", TraceHeader.parse(f"Root={root};Sampled=0"))
    assert (refused.sampled, refused.root, refused.passthrough) == (False, root, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", True),
        ("root=1-5759e988-bd862e3fe1be46a994272793; sampled=0", False),
        ("Root=1-5759e988-bd862e3fe1be46a994272793", None),
    ],
)
def test_trace_headers_are_read_as_the_sdks_read_them(text: str | None, expected: Any) -> None:
    header = TraceHeader.parse(text)
    if text:
        assert header is not None and header.sampled is expected
        assert header.root == "1-5759e988-bd862e3fe1be46a994272793"
    else:
        assert header is None


def test_a_malformed_root_starts_a_new_trace() -> None:
    header = TraceHeader.parse("Root=not-a-trace-id;Sampled=1")
    assert header is not None and header.root is None
    decision = Sampler(clock=Clock(), chance=lambda: 0.99).decide("f", "Active", header)
    assert decision.root is None  # no trace to join: the rule decides on a new one


def test_trace_all_from_the_environment() -> None:
    assert parse_trace_all(None, {}) is False
    assert parse_trace_all(None, {"DOGXRAY_LOCAL_TRACE_ALL": "1"}) is True
    assert parse_trace_all(False, {"DOGXRAY_LOCAL_TRACE_ALL": "1"}) is False  # the option wins
    with pytest.raises(DogxrayError) as caught:
        parse_trace_all(None, {"DOGXRAY_LOCAL_TRACE_ALL": "yes please"})
    assert caught.value.exit_code == 2
    assert "DOGXRAY_LOCAL_TRACE_ALL=yes please" in caught.value.what


# --- on the running emulator, through its Function URLs and the Invoke API ---


@pytest.fixture
def sampling(lab: Lab) -> Iterator[Lab]:
    """The package's emulator with Lambda's sampling (it traces every request otherwise);
    a seeded draw keeps the 5 % reproducible."""
    runtime = lab.emu.runtime
    saved = runtime.sampler
    runtime.sampler = Sampler(chance=random.Random(11).random)
    try:
        yield lab
    finally:
        runtime.sampler = saved


def _reports(lab: Lab, name: str) -> list[str]:
    return [m for m in lab.log_messages(name) if m.startswith("REPORT")]


def test_sixty_quick_requests_are_sampled_as_lambda_samples(sampling: Lab) -> None:
    name, url = sampling.deploy({}, code=TRACED_ZIP)
    seconds: set[int] = set()
    traced: list[str] = []
    untraced: list[str] = []
    with requests.Session() as session:
        for _ in range(60):
            seconds.add(int(time.time()))
            response = session.get(url, timeout=10)
            assert response.status_code == 200
            header = TraceHeader.parse(response.headers["X-Amzn-Trace-Id"])
            assert header is not None and header.root is not None
            (traced if header.sampled else untraced).append(header.root)
    assert len(seconds) <= 10  # "a few seconds": the reservoir alone keeps few
    # the first request of each second (a request can straddle a second's end), and
    # 5 % of the ~55 others (a seeded draw)
    assert len(seconds) - 1 <= len(traced) <= len(seconds) + 9
    assert len(traced) + len(untraced) == 60
    reported = [line for line in _reports(sampling, name) if "Sampled: true" in line]
    assert len(reported) == len(traced)
    assert {t for line in reported for t in traced if t in line} == set(traced)
    assert len(_traces(sampling, traced)) == len(traced)
    assert _traces(sampling, untraced) == []


def _traces(lab: Lab, ids: list[str]) -> list[dict[str, Any]]:
    xray = lab.client("xray")
    found: list[dict[str, Any]] = []
    for i in range(0, len(ids), 5):
        found += xray.batch_get_traces(TraceIds=ids[i : i + 5])["Traces"]
    return found


def _invoke_with_header(lab: Lab, name: str, header: str) -> dict[str, Any]:
    lam = lab.client("lambda")

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = header

    lam.meta.events.register_first("before-sign.lambda.Invoke", add_header)
    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"rawPath": "/"}).encode())
    return json.loads(answer["Payload"].read())


def _segments(lab: Lab, trace_id: str) -> list[dict[str, Any]]:
    traces = lab.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"]
    return [json.loads(s["Document"]) for t in traces for s in t["Segments"]]


def test_invoke_joins_a_sampled_callers_trace(sampling: Lab) -> None:
    name, _ = sampling.deploy({}, code=TRACED_ZIP)
    time.sleep(1.1)  # the reservoir is not what traces it
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    assert _invoke_with_header(sampling, name, f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1")
    segments = _segments(sampling, root)
    service = next(s for s in segments if s.get("origin") == "AWS::Lambda")
    assert service["parent_id"] == "53995c3f42cd8ad8"
    assert any(s.get("name") == "work" for s in segments)  # the function's SDK joined too


def test_invoke_told_not_to_sample_records_nothing(sampling: Lab) -> None:
    name, _ = sampling.deploy({}, code=TRACED_ZIP)
    time.sleep(1.1)  # the reservoir would trace it: the caller's decision must win
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    assert _invoke_with_header(sampling, name, f"Root={root};Parent=53995c3f42cd8ad8;Sampled=0")
    assert _segments(sampling, root) == []
    assert not any("Sampled: true" in line for line in _reports(sampling, name))


def test_pass_through_joins_only_a_sampled_caller(sampling: Lab) -> None:
    name, url = sampling.deploy({}, code=TRACED_ZIP, tracing="PassThrough")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["X-Amzn-Trace-Id"].endswith("Sampled=0")
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    assert _invoke_with_header(sampling, name, f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1")
    segments = _segments(sampling, root)
    assert segments, "the function's SDK records under the caller's trace"
    assert not any(s.get("origin", "").startswith("AWS::Lambda") for s in segments)
    work = next(s for s in segments if s.get("name") == "work")
    assert work["parent_id"] == "53995c3f42cd8ad8"


def test_analyze_and_report_say_how_many_requests_the_traces_sample(sampling: Lab) -> None:
    from typer.testing import CliRunner

    from dogxray.app import app
    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings
    from dogxray.monitor import report
    from dogxray.triage import analyze as triage

    settings = Settings.from_options(
        lab="sampled", endpoint_url=sampling.emu.endpoint_url, region="us-east-1"
    )
    _, url = sampling.deploy({}, code=TRACED_ZIP, name=settings.function_name)
    traced = 0
    with requests.Session() as session:
        for _ in range(20):
            response = session.get(url, timeout=10)
            traced += response.headers["X-Amzn-Trace-Id"].endswith("Sampled=1")
    aws = Aws(settings)
    doc = triage.analyze(aws, settings, since="5m")
    assert (doc.traces, doc.requests) == (traced, 20)
    assert doc.to_json()["requests"] == 20
    page = report.gather(aws, settings, since="5m", logs=False)
    assert (page.count, page.requests) == (traced, 20)
    text = CliRunner().invoke(
        app,
        ["--endpoint-url", sampling.emu.endpoint_url, "--lab", "sampled", "analyze"],
        env={"COLUMNS": "200"},
    )
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[0].endswith(
        "(of 20 requests: Lambda traces 1 request a second and 5 % of the rest)"
    )
