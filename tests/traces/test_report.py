"""`dogxray report`: the page's data (Collector), its geometry, escaping, the 2 MB bound
for 1,000 traces, and the command (output path rules, moto)."""

from __future__ import annotations

import itertools
import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.monitor.report import MAX_WATERFALLS, SLOWEST, Collector
from dogxray.render import report as page
from dogxray.traces.model import build_trace
from tests.traces.tracedocs import FUNCTION, load, put, rebase

WINDOW = (
    datetime(2025, 11, 24, 16, 0, tzinfo=timezone.utc),
    datetime(2025, 11, 24, 17, 0, tzinfo=timezone.utc),
)
MIX = ["success_embedded", "fault_separate", "success_embedded", "fault_embedded_accessdenied"]
MAX_BYTES = 2 * 1024 * 1024


def collect(count: int, names: list[str] = MIX) -> Collector:
    collector = Collector(FUNCTION)
    for serial in range(count):
        trace_id, docs = rebase(load(names[serial % len(names)]), start=1764000000.0 + serial,
                                serial=serial + 1)  # fmt: skip
        collector.add(build_trace(trace_id, [json.loads(d) for d in docs]))
    return collector


@pytest.mark.slow
def test_thousand_traces_stay_under_two_megabytes() -> None:
    report = collect(1000).result(WINDOW, "1h")
    assert (report.count, report.faults) == (1000, 500)
    assert len(report.waterfalls) == MAX_WATERFALLS
    html = page.html(report)
    size = len(html.encode())
    assert size < MAX_BYTES, size
    assert html.count('<tr class="fault">') == 500
    assert html.count('<article class="wf waterfall"') == MAX_WATERFALLS


def test_waterfalls_are_the_newest_faults_and_the_slowest() -> None:
    data = collect(40).result(WINDOW, "1h").to_json()
    reasons = [w["reason"] for w in data["waterfalls"]]
    assert reasons == ["fault"] * (MAX_WATERFALLS - SLOWEST) + ["slowest"] * SLOWEST
    faults = [w["trace"]["id"] for w in data["waterfalls"][: MAX_WATERFALLS - SLOWEST]]
    newest_faults = [t["id"] for t in data["traces"] if t["fault"]][: len(faults)]
    assert faults == newest_faults
    slow = [w["trace"]["duration_ms"] for w in data["waterfalls"] if w["reason"] == "slowest"]
    assert slow == [1160.0] * SLOWEST  # success_embedded is the slowest recording
    few = collect(3).result(WINDOW, "1h").to_json()  # fewer traces than slots: each shown once
    assert sorted(w["reason"] for w in few["waterfalls"]) == ["fault", "slowest", "slowest"]


def test_map_layout_left_to_right_with_ring_arcs() -> None:
    data = collect(4).result(WINDOW, "1h").to_json()
    layout = page.map_layout(data["map"])
    columns = {(b["type"], b["name"]): b["x"] for b in layout["boxes"]}
    step = page.BOX_W + page.COL_GAP
    assert columns[("client", "client")] == page.MARGIN
    assert columns[("AWS::Lambda", FUNCTION)] == page.MARGIN + step
    assert columns[("AWS::Lambda::Function", FUNCTION)] == page.MARGIN + 2 * step
    assert columns[("AWS::S3::Bucket", "aws-bucket")] == page.MARGIN + 3 * step
    assert len(layout["edges"]) == len(data["map"]["edges"])
    function = next(b for b in layout["boxes"] if b["type"] == "AWS::Lambda::Function")
    # 2 ok, 2 faults -> two half-circle arcs, ok first from 12 o'clock
    assert [a["status"] for a in function["ring"]] == ["ok", "fault"]
    cx, cy = function["x"] + 8 + page.RING_R, function["y"] + page.BOX_H / 2
    top, bottom = f"{cx:.2f},{cy - page.RING_R:.2f}", f"{cx:.2f},{cy + page.RING_R:.2f}"
    assert function["ring"][0]["d"] == f"M{top} A19,19 0 0 1 {bottom}"
    assert function["ring"][1]["d"] == f"M{bottom} A19,19 0 0 1 {top}"


def test_ring_is_a_circle_for_one_status_and_arcs_add_up() -> None:
    one = page.ring({"requests": 3, "ok": 3, "error": 0, "throttle": 0, "fault": 0}, 0, 0)
    assert one == [{"circle": True, "cx": 0, "cy": 0, "r": 19, "colour": "#3c9a3c", "status": "ok"}]
    stats = {"requests": 4, "ok": 1, "error": 1, "throttle": 1, "fault": 1}
    arcs = page.ring(stats, 50, 50)
    assert [a["status"] for a in arcs] == ["ok", "error", "throttle", "fault"]
    ends = [re.findall(r"-?\d+\.\d+", a["d"]) for a in arcs]
    for previous, current in itertools.pairwise(ends):
        assert previous[-2:] == current[:2]  # each arc starts where the last one ended
    assert ends[-1][-2:] == ends[0][:2]  # and the ring closes
    assert math.isclose(float(ends[0][0]), 50.0) and math.isclose(float(ends[0][1]), 31.0)


def test_names_and_messages_are_escaped() -> None:
    rec = load("fault_separate")
    docs = [json.dumps(d).replace("NoSuchBucket", "<script>alert(1)</script>") for d in
            rec["documents"]]  # fmt: skip
    collector = Collector(FUNCTION)
    collector.add(build_trace(rec["trace_id"], [json.loads(d) for d in docs]))
    html = page.html(collector.result(WINDOW, "1h"))
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_open_subsegment_bar_is_marked() -> None:
    rec = load("in_progress_separate")
    trace = build_trace(rec["trace_id"], rec["documents"])
    from dogxray.traces.service import TraceDetail

    rows = page.waterfall_rows(TraceDetail.of(trace).to_json())
    assert [(r["depth"], r["name"]) for r in rows][:2] == [(0, FUNCTION), (1, "get_dog_images")]
    assert "in progress" in rows[1]["flags"]
    assert rows[0]["left"] == "0.00" and rows[0]["width"] == "100.00"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_report_refuses_a_missing_directory(tmp_path: Path) -> None:
    result = run("report", "--file", str(tmp_path / "nope" / "r.html"))
    assert result.exit_code == 2
    assert f"cannot write {tmp_path / 'nope' / 'r.html'}" in result.stderr
    assert not (tmp_path / "nope").exists()
    assert run("report", "--since", "soon").exit_code == 2


@pytest.mark.slow
def test_report_on_moto_into_a_directory(aws_mock: Any, tmp_path: Path) -> None:
    ids = put(aws_mock, MIX)
    result = run("report", "--file", str(tmp_path))
    assert result.exit_code == 0, result.output
    target = tmp_path / "report.html"
    size = target.stat().st_size
    assert result.stdout.splitlines() == [
        f"report of 4 traces (2 faults), 4 waterfalls, {size / 1024:,.0f} kB",
        str(target),
    ]
    html = target.read_text()
    for trace_id in ids:
        assert f'id="t-{trace_id}"' in html
    assert 'data-type="AWS::S3::Bucket"' in html and "NoSuchBucket" in html
    # moto has no log group of the lab: the waterfalls say so instead of failing
    assert "no log lines" in html


def test_report_output_is_the_format_and_file_the_path(aws_mock: Any, tmp_path: Path) -> None:
    """`--output` means the format, as in every command: `--output json` is refused
    (it used to write HTML to a file named `json`)."""
    for value in ("json", "text", "report"):
        refused = run("report", "--output", value)
        assert refused.exit_code == 2
        assert refused.stderr == (
            f"error: --output {value}: report writes HTML; --output is the format (html only)\n"
            "hint: use --file PATH for where to write the page (default report.html)\n"
        )
    assert not list(Path.cwd().glob("json")) and not (tmp_path / "json").exists()
    both = run("report", "--output", str(tmp_path / "a.html"), "--file", str(tmp_path / "b.html"))
    assert both.exit_code == 2
    assert "two paths for one page" in both.stderr
    page = tmp_path / "p.html"
    ok = run("report", "-o", "html", "-f", str(page))
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.splitlines()[-1] == str(page) and "deprecated" not in ok.stderr


@pytest.mark.slow
def test_report_output_with_an_html_path_still_works_with_a_note(
    aws_mock: Any, tmp_path: Path
) -> None:
    page = tmp_path / "old.html"
    result = run("report", "--output", str(page))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == str(page) and page.is_file()
    assert result.stderr.startswith(
        f"note: `--output {page}` as a path is deprecated; use `--file {page}`\n"
    )


def test_report_over_a_symlink_writes_its_target(aws_mock: Any, tmp_path: Path) -> None:
    real = tmp_path / "real.html"
    real.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    result = run("report", "--file", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and real.read_text().startswith("<!DOCTYPE html>")
