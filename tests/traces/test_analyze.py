"""`analyze` on hand-written lab traces of both document forms: three of ten requests
hit by an injected 5 s hang that ends in `InjectedFailure`; the answer names the
injected subsegment and the exception, with exact output."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.traces.model import build_trace
from dogxray.triage import analyze as triage
from dogxray.triage.compare import compare, profile
from dogxray.triage.results import Analysis

T0 = 1_763_900_000.0  # 2025-11-23T12:53:20Z
MESSAGE = "injected failure before call_dog_api (DOGXRAY_INJECT_FAILURE_RATE=0.3)"


def lab_trace(
    n: int, *, injected: bool, embedded: bool, base: float = T0, invocation: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """The Lambda service segment, the function segment and the lab's subsegments;
    `injected` adds the 5 s `injected_fault` that raises. Embedded (as real X-Ray
    returns it) or as separate documents linked by parent_id (as moto returns it)."""
    tid = f"1-{int(base) + n:08x}-{n:024x}"
    t = base + n
    hang = 5.0 if injected else 0.0
    api_end = t + 0.010 + hang + 0.008
    inner = []
    if injected:
        inner.append(
            {
                "id": f"{n:04x}00000000inj",
                "name": "injected_fault",
                "start_time": t + 0.010,
                "end_time": t + 0.010 + hang,
                "fault": True,
                "cause": {
                    "exceptions": [
                        {"id": f"{n:04x}exc", "type": "InjectedFailure", "message": MESSAGE}
                    ]
                },
            }
        )
    else:
        inner += [
            {
                "id": f"{n:04x}00000000api",
                "name": "call_dog_api",
                "start_time": t + 0.010,
                "end_time": api_end,
            },
            {
                "id": f"{n:04x}00000000sav",
                "name": "save_dog_to_s3",
                "start_time": api_end,
                "end_time": api_end + 0.004,
            },
        ]
    end = (t + 0.010 + hang) if injected else api_end + 0.004
    handler = {
        "id": f"{n:04x}00000000get",
        "name": "get_dog_images",
        "start_time": t + 0.010,
        "end_time": end,
        "fault": injected,
        "cause": {
            "exceptions": [{"id": f"{n:04x}exc2", "type": "InjectedFailure", "message": MESSAGE}]
        }
        if injected
        else None,
        "subsegments": inner,
    }
    function = {
        "id": f"{n:04x}000000fn",
        "trace_id": tid,
        "name": "dog-photo-function",
        "origin": "AWS::Lambda::Function",
        "start_time": t + 0.002,
        "end_time": end + 0.001,
        "parent_id": f"{n:04x}0000000svc",
        "fault": injected,
    }
    service = {
        "id": f"{n:04x}0000000svc",
        "trace_id": tid,
        "name": "dog-photo-function",
        "origin": "AWS::Lambda",
        "start_time": t,
        "end_time": end + 0.002,
        "http": {"response": {"status": 200}},
    }
    subsegments = [handler]
    if invocation:  # as Lambda records it: a sibling spanning the handler's own work
        subsegments.insert(
            0,
            {
                "id": f"{n:04x}00000000ivk",
                "name": "Invocation",
                "start_time": t + 0.003,
                "end_time": end + 0.0005,
            },
        )
    if embedded:
        return tid, [service, {**function, "subsegments": subsegments}]
    docs = [service, function]

    def separate(sub: dict[str, Any], parent: str) -> None:
        children = sub.get("subsegments", [])
        doc = {k: v for k, v in sub.items() if k != "subsegments" and v is not None}
        docs.append({**doc, "type": "subsegment", "trace_id": tid, "parent_id": parent})
        for child in children:
            separate(child, sub["id"])

    for sub in subsegments:
        separate(sub, function["id"])
    return tid, docs


HIT = {2, 5, 8}


def ten_traces() -> list[Any]:
    return [build_trace(*lab_trace(n, injected=n in HIT, embedded=n % 2 == 0)) for n in range(10)]


def test_through_moto_xray_with_both_forms(aws_mock: Any) -> None:
    """The service fetches, scopes and profiles what X-Ray holds (moto keeps documents as
    they were sent, so both forms come back)."""
    base = float(int(time.time()) - 120)
    xray = aws_mock.client("xray")
    for n in range(10):
        _, docs = lab_trace(n, injected=n in HIT, embedded=n % 2 == 0, base=base)
        xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in docs])
    doc = triage.analyze(aws_mock, aws_mock.settings, since="10m").to_json()
    assert (doc["traces"], doc["slow"]["count"], doc["faulty"]["count"]) == (10, 3, 3)
    assert doc["slow"]["nodes"][0]["node"] == "injected_fault"
    assert doc["faulty"]["exceptions"][0]["type"] == "InjectedFailure"


def test_the_comparison_names_the_injected_node_and_exception() -> None:
    doc = compare([profile(t) for t in ten_traces()]).to_json()
    slow, faulty = doc["slow"], doc["faulty"]
    assert (doc["traces"], slow["count"], slow["others"]) == (10, 3, 7)
    assert slow["derived"] and slow["median_ms"] == 24.0 and slow["threshold_ms"] == 48.0
    top = slow["nodes"][0]
    assert top["node"] == "injected_fault"
    assert (top["median_ms"], top["others_median_ms"], top["share"]) == (5000.0, 0.0, 1.0)
    assert [o["node"] for o in faulty["origins"]] == ["injected_fault"]
    [cluster] = faulty["exceptions"]
    assert (cluster["type"], cluster["node"], cluster["count"]) == (
        "InjectedFailure",
        "injected_fault",
        3,
    )
    assert cluster["message"] == MESSAGE
    assert cluster["traces"] == [f"1-{int(T0) + n:08x}-{n:024x}" for n in (8, 5, 2)]


def test_lambdas_invocation_subsegment_does_not_take_the_blame() -> None:
    """Lambda's `Invocation` spans the handler's own subsegments as a sibling: the hang
    is the innermost node's own time, not Invocation's."""
    traces = [
        build_trace(*lab_trace(n, injected=n in HIT, embedded=n % 2 == 0, invocation=True))
        for n in range(10)
    ]
    doc = compare([profile(t) for t in traces]).to_json()
    top = doc["slow"]["nodes"][0]
    assert (top["node"], top["mean_ms"], top["others_mean_ms"]) == ("injected_fault", 5000.0, 0.0)
    invocation = [r for r in doc["slow"]["nodes"] if r["node"] == "Invocation"]
    assert not invocation or invocation[0]["difference_ms"] < 1.0


def test_a_given_threshold_is_used() -> None:
    doc = compare([profile(t) for t in ten_traces()], threshold_ms=10_000).to_json()
    assert doc["slow"]["count"] == 0 and not doc["slow"]["derived"]
    assert doc["slow"]["nodes"] == []


EXPECTED = """\
10 traces of dog-photo-function from 2026-11-23T09:00:00Z to 2026-11-23T09:10:00Z
slow: 3 of 10 took over 48.0 ms (twice the median 24.0 ms)
  1. injected_fault: +5000.0 ms on average in slow traces (median 5000.0 vs 0.0 ms; in 100% of slow, 0% of the others)
faulty: 3 of 10 failed; the faults start at injected_fault (3)
  InjectedFailure on injected_fault x3: injected failure before call_dog_api (DOGXRAY_INJECT_FAILURE_RATE=0.3)
     newest: 1-6922fa68-000000000000000000000008, 1-6922fa65-000000000000000000000005,
             1-6922fa62-000000000000000000000002
"""  # noqa: E501 (COLUMNS=120: the longest lines fit, the trace ids wrap)


def test_cli_output_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    from dogxray.app import app

    def fake(aws: Any, settings: Any, **_: Any) -> Analysis:
        found = compare([profile(t) for t in ten_traces()])
        return replace(found, start="2026-11-23T09:00:00Z", end="2026-11-23T09:10:00Z")

    monkeypatch.setattr(triage, "analyze", fake)
    monkeypatch.setattr("dogxray.commands.analyze.connect", lambda _ctx: None)
    result = CliRunner().invoke(app, ["analyze"])
    assert result.exit_code == 0, result.output
    assert result.stdout == EXPECTED
    assert result.stderr == (
        "next: `dogxray trace 1-6922fa68-000000000000000000000008` shows one of them\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "fast"], "error: invalid --threshold 'fast'"),
        (["--since", "yesterday"], "error: invalid --since 'yesterday'"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    from dogxray.app import app

    result = CliRunner().invoke(app, ["analyze", *args])
    assert result.exit_code == 2 and result.stderr.splitlines()[0] == message
