"""Counts of one read in the singular in every renderer that prints a count (issue 15,
item 23): `render.plural` instead of "1 faults", "1 traces", "change(s)"."""

from __future__ import annotations

import pytest

from dogxray.monitor.logs import Logs
from dogxray.monitor.report import Report, Waterfall
from dogxray.render import analyze, demo, graph, lab, logs, report, traces
from dogxray.traces.analysis import TraceRow, TraceStats
from dogxray.traces.service import TraceDetail
from dogxray.traces.service_map import ServiceMap
from dogxray.triage.results import Analysis, Faulty, Slow, Throttled

WINDOW = {"start": "2025-11-24T16:00:00.000Z", "end": "2025-11-24T17:00:00.000Z"}


def test_traces_stats_counts(capsys: pytest.CaptureFixture[str]) -> None:
    traces.stats_table(TraceStats(1, 1, 1, (WINDOW["start"], WINDOW["end"]), {}))
    assert capsys.readouterr().out.splitlines()[0].startswith("1 trace, 1 fault, 1 error (")


def test_map_head(capsys: pytest.CaptureFixture[str]) -> None:
    lines = graph.map_lines(ServiceMap(WINDOW["start"], WINDOW["end"], 60.0, "traces", 1), 80)
    assert [str(line) for line in lines] == [f"1 trace since {WINDOW['start']}"]


def test_report_written(capsys: pytest.CaptureFixture[str]) -> None:
    row = TraceRow("t", 0.0, 1.0, 502, fault=True, error=False, throttle=False, root_cause=None)
    detail = TraceDetail("t", 1.0, None, [])
    empty = ServiceMap("s", "e", 60.0, "traces", 1)
    data = Report("f", "g", "s", "e", "1h", [row], empty, [], [Waterfall("fault", detail)])
    report.written("r.html", data, 2048)
    assert capsys.readouterr().out == "report of 1 trace (1 fault), 1 waterfall, 2 kB\nr.html\n"


def test_lab_plan(capsys: pytest.CaptureFixture[str]) -> None:
    lab.plan([{"message": "create bucket b"}], what="setup of lab x")
    assert capsys.readouterr().out == (
        "setup of lab x: 1 change would be made (dry run, nothing changed):\n  - create bucket b\n"
    )


def test_logs_summary(capsys: pytest.CaptureFixture[str]) -> None:
    invocation = {"failed": False}
    logs.text(Logs("/aws/lambda/f", "s", "e", invocations=[invocation]))
    assert capsys.readouterr().out == "1 invocation, 0 failed  (/aws/lambda/f)\n"


def test_analyze_head(capsys: pytest.CaptureFixture[str]) -> None:
    doc = Analysis(
        traces=1,
        slow=Slow(2.0, True, 1.0, 0, 1, [], []),
        faulty=Faulty(0, 1, [], [], []),
        throttled=Throttled(0, [], 0, []),
        start=WINDOW["start"],
        end=WINDOW["end"],
    )
    analyze.analysis(doc, "f")
    assert capsys.readouterr().out.startswith(f"1 trace of f from {WINDOW['start']} to ")


def test_probe_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    from dogxray.lab.probe import ProbeResult

    demo.probe_results([ProbeResult(True, 200, "image/png", 1, "ab" * 32, "k.png", True, 3.0)])
    assert "image/png  1 byte 3 ms" in capsys.readouterr().out
