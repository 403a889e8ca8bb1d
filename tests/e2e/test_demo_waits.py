"""The demo's trace stages as they behave on real AWS: X-Ray indexes a trace ~30-60 s
after the request, a trace can be listed before all its documents arrive, and the
account may hold traces of earlier runs. X-Ray is replaced by a fake `list_traces`
that filters by the requested window like GetTraceSummaries does."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.core.window import iso
from dogxray.demo import run as demo
from dogxray.demo import stages
from dogxray.traces import service as traces

PROBED_AT = 1_764_000_600.0  # the wall-clock time of the demo's request


@dataclass
class FakeAws:
    is_local: bool = False
    region: str = "us-east-1"


def row(
    trace_id: str,
    start: float,
    *,
    s3: float | None = 95.0,
    fault: bool = False,
    cause: bool = False,
    partial: bool = False,
    documents: bool = True,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": trace_id,
        "start": iso(start),
        "status": 502 if fault else 200,
        "fault": fault,
        "error": False,
        "throttle": False,
        "subsegments": {"call_dog_api": 410.0, "save_dog_to_s3": s3} if documents else None,
        "root_cause": (
            {
                "segment": "save_dog_to_s3",
                "exception": "AccessDenied",
                "message": "Access Denied",
                "remote": True,
            }
            if cause
            else None
        ),
    }
    if partial:
        doc["partial"] = True
    return doc


class _Listed(traces.TraceList):
    """A listing of rows already in their JSON form (what the demo reads)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        super().__init__([])
        self.doc = doc

    def to_json(self) -> dict[str, Any]:
        return self.doc


@dataclass
class FakeXRay:
    """Answers poll number n with `polls[min(n, last)]`, inside the requested window."""

    polls: list[list[dict[str, Any]]]
    calls: list[str] = field(default_factory=list)

    def list_traces(
        self, aws: Any, settings: Any, *, since: str, errors_only: bool, **_: Any
    ) -> traces.TraceList:
        self.calls.append(since)
        start = datetime.fromisoformat(since.replace("Z", "+00:00"))
        rows = self.polls[min(len(self.calls) - 1, len(self.polls) - 1)]
        return _Listed(
            {
                "traces": [
                    r
                    for r in rows
                    if datetime.fromisoformat(r["start"].replace("Z", "+00:00")) >= start
                    and (r["fault"] or not errors_only)
                ]
            }
        )


def runner(monkeypatch: pytest.MonkeyPatch, xray: FakeXRay, *, local: bool = False) -> Any:
    monkeypatch.setattr(traces, "list_traces", xray.list_traces)
    slept: list[float] = []
    run = demo.LabDemo(
        FakeAws(is_local=local),
        Settings.from_options(region="us-east-1"),
        stages.DemoReport(),
        sleep=slept.append,
        clock=lambda: float(sum(slept)),  # time passes only while the demo sleeps
        now=lambda: PROBED_AT,
    )
    run.probed_at = PROBED_AT
    run.slept = slept
    return run


def test_trace_stage_waits_for_this_requests_complete_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    earlier_run = row("1-old", PROBED_AT - 300)  # complete, but not ours
    listed_early = row("1-new", PROBED_AT + 0.2, s3=None, partial=True)
    complete = row("1-new", PROBED_AT + 0.2)
    xray = FakeXRay([[earlier_run], [earlier_run, listed_early], [earlier_run, complete]])
    run = runner(monkeypatch, xray)
    stage = stages.Stage("5a", "Read the traces")
    run.traces_ok(stage)
    assert stage.evidence == ["trace 1-new: call_dog_api 410 ms, save_dog_to_s3 95 ms"]
    assert xray.calls == [iso(PROBED_AT - stages.CLOCK_SKEW_S)] * 3
    assert run.slept == [stages.TRACE_POLL_S] * 2


def test_trace_stage_waits_while_xray_returns_a_listed_traces_documents_not_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The listing comes from the summaries; X-Ray may list a trace before BatchGetTraces
    returns it: the row has no subsegments (null), and the stage polls again."""
    summary_only = row("1-new", PROBED_AT + 0.2, documents=False)
    complete = row("1-new", PROBED_AT + 0.2)
    xray = FakeXRay([[summary_only], [complete]])
    run = runner(monkeypatch, xray)
    stage = stages.Stage("5a", "Read the traces")
    run.traces_ok(stage)
    assert stage.evidence == ["trace 1-new: call_dog_api 410 ms, save_dog_to_s3 95 ms"]
    assert run.slept == [stages.TRACE_POLL_S]


def test_fault_stage_skips_earlier_faults_and_waits_for_the_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    earlier_fault = row("1-old", PROBED_AT - 120, fault=True, cause=True)
    no_cause_yet = row("1-new", PROBED_AT + 0.1, s3=None, fault=True)
    explained = row("1-new", PROBED_AT + 0.1, fault=True, cause=True)
    xray = FakeXRay([[earlier_fault, no_cause_yet], [earlier_fault, explained]])
    run = runner(monkeypatch, xray)
    monkeypatch.setattr(
        traces,
        "trace_detail",
        lambda aws, tid, **_: traces.TraceDetail(tid, 900.0, explained["root_cause"], []),
    )
    stage = stages.Stage("5c", "Find the failure in X-Ray")
    run.find_fault(stage)
    assert run.fault_trace_id == "1-new"
    assert stage.evidence == ["root cause: save_dog_to_s3 raised AccessDenied: Access Denied"]


def test_waiting_gives_up_after_the_deadline_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    xray = FakeXRay([[row("1-old", PROBED_AT - 300)]])
    run = runner(monkeypatch, xray)
    with pytest.raises(DogxrayError) as failed:
        run.traces_ok(stages.Stage("5a", "Read the traces"))
    assert failed.value.what == "no complete trace of the test request was found in X-Ray"
    assert "in a minute" in (failed.value.hint or "")
    assert sum(run.slept) == stages.TRACE_WAIT_S


def test_the_emulator_is_not_waited_for_long(monkeypatch: pytest.MonkeyPatch) -> None:
    run = runner(monkeypatch, FakeXRay([[]]), local=True)
    with pytest.raises(DogxrayError):
        run.find_fault(stages.Stage("5c", "Find the failure in X-Ray"))
    assert 0 < sum(run.slept) < stages.LOCAL_TRACE_WAIT_S + stages.TRACE_POLL_S


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "proceeds"), [("y\n", True), ("\n", False), ("", False)])
def test_aws_confirmation_asks_on_stderr_and_treats_eof_as_no(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], typed: str, proceeds: bool
) -> None:
    from dogxray.commands.demo import confirm_demo
    from dogxray.demo.own_lab import DemoPlan

    monkeypatch.setattr(sys, "stdin", _Terminal(typed))
    settings = Settings.from_options(region="us-east-1", lab="dog-photo-demo-abc123")
    plan = DemoPlan(
        "dog-photo-demo-abc123", "AWS account 123456789012, region us-east-1", "b", "r", "f", "l"
    )
    if proceeds:
        confirm_demo(settings, lambda: plan)
    else:
        with pytest.raises(DogxrayError) as cancelled:
            confirm_demo(settings, lambda: plan)
        assert cancelled.value.exit_code == 2 and cancelled.value.what == "demo cancelled"
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays for data
    assert captured.err.rstrip().endswith("continue? [y/N]")


def test_probes_are_spaced_past_lambdas_one_a_second_reservoir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lambda traces the first request of each second: the demo's next request waits
    until SAMPLING_GAP_S after the previous one ended, so each probe is traced."""
    from dogxray.lab import probe

    run = runner(monkeypatch, FakeXRay([[]]))
    sent: list[float] = []
    monkeypatch.setattr(probe, "check_runs_functions", lambda *_: None)
    monkeypatch.setattr(probe, "probe", lambda *_: sent.append(run.clock()) or "result")
    assert run.probe() == "result"
    assert run.probe() == "result"
    run.slept.append(5.0)  # a stage that took long: no wait needed
    run.probe()
    assert run.slept == [stages.SAMPLING_GAP_S, 5.0]
    assert sent == [0.0, stages.SAMPLING_GAP_S, stages.SAMPLING_GAP_S + 5.0]
