"""CLI output of `traces`, `traces --stats` and `trace`: exact text and SPEC JSON shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.render import traces as show
from dogxray.traces.analysis import analyse, root_cause, stats
from dogxray.traces.model import build_trace, node_json
from dogxray.traces.service import TraceDetail, TraceList
from tests.traces.tracedocs import NAMES, load, put, with_durations

NUMBER = (int, float)


def check(value: Any, spec: Any, where: str = "$") -> None:
    """An explicit key/type check: dict specs must match keys exactly (extra keys
    listed in `OPTIONAL`), tuples are allowed types, lists hold one item spec."""
    if isinstance(spec, dict):
        assert isinstance(value, dict), where
        optional = spec.get("OPTIONAL", {})
        required = {k: v for k, v in spec.items() if k != "OPTIONAL"}
        assert set(required) <= set(value) <= set(required) | set(optional), (where, value.keys())
        for key, sub in {**required, **optional}.items():
            if key in value:
                check(value[key], sub, f"{where}.{key}")
    elif isinstance(spec, list):
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            check(item, spec[0], f"{where}[{i}]")
    elif callable(spec) and not isinstance(spec, type | tuple):
        spec(value, where)
    else:
        allowed = spec if isinstance(spec, tuple) else (spec,)
        assert isinstance(value, allowed), (where, value)
        if bool not in allowed:
            assert not isinstance(value, bool), f"{where}: bool where a number was expected"


def any_map(value: Any, where: str) -> None:
    assert isinstance(value, dict), where


ROOT_CAUSE = (type(None), dict)
CAUSE = {"segment": str, "exception": str, "message": str, "remote": bool}
TRACE_ROW = {
    "id": str,
    "start": str,
    "duration_ms": NUMBER,
    "status": (int, type(None)),
    "fault": bool,
    "error": bool,
    "throttle": bool,
    "subsegments": {"call_dog_api": (*NUMBER, type(None)), "save_dog_to_s3": (*NUMBER, type(None))},
    "root_cause": ROOT_CAUSE,
    "OPTIONAL": {"partial": bool},
}
SUB_STATS = {
    "count": int,
    "p50_ms": (*NUMBER, type(None)),
    "p95_ms": (*NUMBER, type(None)),
    "p99_ms": (*NUMBER, type(None)),
    "max_ms": (*NUMBER, type(None)),
    "fault_rate": float,
}
STATS = {
    "count": int,
    "faults": int,
    "errors": int,
    "window": {"start": str, "end": str},
    "subsegments": {
        "get_dog_images": SUB_STATS,
        "call_dog_api": SUB_STATS,
        "save_dog_to_s3": SUB_STATS,
    },
    "histogram": [{"from_ms": NUMBER, "to_ms": NUMBER, "count": int}],
}


def node_spec() -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": str,
        "origin": (str, type(None)),
        "namespace": (str, type(None)),
        "start_offset_ms": NUMBER,
        "duration_ms": NUMBER,
        "fault": bool,
        "error": bool,
        "throttle": bool,
        "http_status": (int, type(None)),
        "aws": any_map,
        "exceptions": [{"type": str, "message": str, "remote": bool}],
        "OPTIONAL": {"in_progress": bool},
    }
    spec["children"] = lambda value, where: check(value, [spec], where)
    return spec


TRACE = {
    "id": str,
    "duration_ms": NUMBER,
    "root_cause": ROOT_CAUSE,
    "nodes": [node_spec()],
    "OPTIONAL": {"partial": bool},
}


def run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    return result


def test_traces_json_matches_the_spec_shape(aws_mock: Any) -> None:
    ids = put(aws_mock, list(NAMES))
    result = run("traces", "--since", "10m", "--output", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    check(doc, {"traces": [TRACE_ROW]})
    assert [t["id"] for t in doc["traces"]] == ids[3::-1]
    for row in doc["traces"]:
        if row["root_cause"]:
            check(row["root_cause"], CAUSE)


def _timed_rows() -> list[Any]:
    """101 successful traces whose subsegments all last differently (i = 1..101):
    call_dog_api 10*i ms, save_dog_to_s3 5*i + 0.5 ms, get_dog_images 15*i + 20.5 ms; by
    nearest rank over these and one fault trace (410, 95 and 790 ms), p50 is the 51st of
    102, p95 the 97th, p99 the 101st, max the 102nd."""
    base = load("success_embedded")
    return [
        with_durations(
            base,
            {
                "call_dog_api": 10.0 * i,
                "save_dog_to_s3": 5.0 * i + 0.5,
                "get_dog_images": 15.0 * i + 20.5,
            },
        )
        for i in range(1, 102)
    ]


@pytest.mark.slow
def test_stats_percentiles_differ_and_are_exact(aws_mock: Any) -> None:
    put(aws_mock, [*_timed_rows(), load("fault_separate")], ago=30)
    doc = json.loads(run("traces", "--stats", "-o", "json").stdout)
    assert (doc["count"], doc["faults"]) == (102, 1)
    assert doc["subsegments"] == {
        "get_dog_images": {
            "count": 102,
            "p50_ms": 785.5,
            "p95_ms": 1460.5,
            "p99_ms": 1520.5,
            "max_ms": 1535.5,
            "fault_rate": 0.0098,
        },
        "call_dog_api": {
            "count": 102,
            "p50_ms": 500.0,
            "p95_ms": 960.0,
            "p99_ms": 1000.0,
            "max_ms": 1010.0,
            "fault_rate": 0.0,
        },
        "save_dog_to_s3": {
            "count": 102,
            "p50_ms": 250.5,
            "p95_ms": 480.5,
            "p99_ms": 500.5,
            "max_ms": 505.5,
            "fault_rate": 0.0098,
        },
    }
    lines = run("traces", "--stats").stdout.splitlines()
    assert lines[1:6] == [
        "SUBSEGMENT         COUNT          P50          P95          P99          MAX   FAULTS",
        "get_dog_images       102     785.5 ms   1,460.5 ms   1,520.5 ms   1,535.5 ms     1.0%",
        "call_dog_api         102     500.0 ms     960.0 ms   1,000.0 ms   1,010.0 ms     0.0%",
        "save_dog_to_s3       102     250.5 ms     480.5 ms     500.5 ms     505.5 ms     1.0%",
        "response time (ms)",  # the histogram follows the table
    ]


@pytest.mark.slow
def test_stats_json_and_text(aws_mock: Any) -> None:
    put(aws_mock, ["fault_separate", "success_embedded", "other_service"])
    result = run("traces", "--stats", "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    check(doc, STATS)
    assert (doc["count"], doc["faults"], doc["subsegments"]["save_dog_to_s3"]["fault_rate"]) == (
        2,
        1,
        0.5,
    )
    text = run("traces", "--stats")  # exact numbers: test_stats_percentiles_differ_...
    assert text.stdout.splitlines()[0].startswith("2 traces, 1 fault, 1 error (")


@pytest.mark.slow
def test_trace_json_and_waterfall_with_console_link(
    aws_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # wide enough for the link on one line
    (tid,) = put(aws_mock, ["fault_separate"])
    result = run("trace", "1-00000001-000000000000000000000001", "-o", "json")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines()[0].startswith(
        "error: trace 1-00000001-000000000000000000000001 not found"
    )
    result = run("trace", tid, "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    check(doc, TRACE)
    check(doc["root_cause"], CAUSE)
    text = run("trace", tid).stdout.splitlines()
    assert text[1] == (
        "root cause: save_dog_to_s3: NoSuchBucket: The specified bucket does not exist (remote)"
    )
    assert text[-1] == (
        "console: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        f"#xray:traces/{tid}"
    )


@pytest.mark.slow
def test_against_a_moto_server_endpoint(moto_server: str) -> None:
    """Local mode via --endpoint-url: separate documents, client-side scoping, no link."""
    import requests

    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings

    requests.post(moto_server + "/moto-api/reset", timeout=10)
    aws = Aws(Settings.from_options(region="us-east-1", endpoint_url=moto_server))
    ids = put(aws, ["fault_separate", "other_service", "success_embedded"])
    listing = run("--endpoint-url", moto_server, "traces", "--errors", "-o", "json")
    assert listing.exit_code == 0, listing.output
    assert [t["id"] for t in json.loads(listing.stdout)["traces"]] == [ids[0]]
    text = run("--endpoint-url", moto_server, "trace", ids[0])
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[1].startswith("root cause: save_dog_to_s3: NoSuchBucket")
    assert "console:" not in text.stdout


@pytest.mark.slow
def test_empty_listing_explains_why(aws_mock: Any) -> None:
    text = run("traces")
    assert (text.exit_code, text.stdout) == (0, "")
    assert text.stderr.startswith("note: the lab is not deployed: no function dog-photo-function")
    data = run("traces", "-o", "json")
    assert json.loads(data.stdout) == {"traces": []}
    assert "not deployed" in data.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["traces", "--since", "yesterday"], "invalid --since 'yesterday'"),
        (["traces", "--limit", "0"], "--limit must be at least 1, not 0"),
        (["traces", "--stats", "--errors"], "--stats and --errors do not combine"),
        (
            ["traces", "--stats", "--subsegments"],
            "--stats and --subsegments/--no-subsegments do not combine",
        ),
        (["trace", "1-abc"], "invalid trace id '1-abc'"),
    ],
)
def test_bad_input_exits_2_before_any_call(args: list[str], message: str) -> None:
    result = run("--endpoint-url", "http://127.0.0.1:9", *args)  # nothing listens there
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {message}"
    assert result.stderr.splitlines()[1].startswith("hint: ")


RECORDED_TABLE = """\
TIME (UTC)           TRACE ID                             STATUS     DURATION  call_dog_api  save_dog_to_s3  FLAGS        ROOT CAUSE
2025-11-24 16:03:00  1-69248104-0000000000005a17c0de0004       -     431.0 ms      410.0 ms               -  partial
2025-11-24 16:02:00  1-69248103-0000000000005a17c0de0003     502     820.0 ms      410.0 ms         95.0 ms  FAULT,ERROR  save_dog_to_s3: AccessDenied
2025-11-24 16:01:00  1-69248102-0000000000005a17c0de0002     502     910.0 ms      410.0 ms         95.0 ms  FAULT,ERROR  save_dog_to_s3: NoSuchBucket
2025-11-24 16:00:00  1-69248101-0000000000005a17c0de0001     200   1,160.0 ms      410.0 ms         95.0 ms
"""  # noqa: E501

RECORDED_WATERFALL = """\
trace 1-69248102-0000000000005a17c0de0002  910.0 ms
root cause: save_dog_to_s3: NoSuchBucket: The specified bucket does not exist (remote)
 START ms     DUR ms                                      NODE
      0.0      910.0  |################################|  dog-photo-function  (AWS::Lambda)  HTTP 502  FAULT
     10.0      890.0  |############################### |    dog-photo-function  (AWS::Lambda::Function)  FAULT
     20.0      860.0  |##############################  |      Invocation
     30.0      790.0  | ############################   |      get_dog_images  FAULT
     31.0      410.0  | ##############                 |        call_dog_api
     32.0      138.0  | #####                          |          dog.ceo  HTTP 200
    171.0      269.0  |      #########                 |          images.dog.ceo  HTTP 200
    442.0       95.0  |               ###              |        save_dog_to_s3  FAULT
    443.0       93.0  |               ###              |          S3  PutObject aws-bucket/husky/n02110185_1469.jpg  HTTP 404  FAULT,ERROR
                                                                    ! NoSuchBucket: The specified bucket does not exist (remote)
"""  # noqa: E501


def _rows() -> list[Any]:
    rows = [analyse(build_trace(load(n)["trace_id"], load(n)["documents"])) for n in NAMES[:4]]
    return sorted(rows, key=lambda r: r.start, reverse=True)


def test_table_text_exact(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the full layout (narrower: test_widths.py)
    show.table(TraceList(_rows()))
    assert capsys.readouterr().out == RECORDED_TABLE


SUMMARY_TABLE = """\
TIME (UTC)           TRACE ID                             STATUS     DURATION  FLAGS        ROOT CAUSE
2025-11-24 16:02:00  1-69248103-0000000000005a17c0de0003     502     820.0 ms  FAULT,ERROR  save_dog_to_s3: AccessDenied
2025-11-24 16:00:00  1-69248101-0000000000005a17c0de0001     200   1,160.0 ms
"""  # noqa: E501


def test_table_from_summaries_has_no_subsegment_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    rows = [r for r in _rows() if r.id.endswith(("3", "1"))]
    for row in rows:
        row.timings = None  # as built from a summary
    show.table(TraceList(rows))
    assert capsys.readouterr().out == SUMMARY_TABLE


def test_waterfall_text_exact_local_has_no_link(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the full layout (narrower: test_widths.py)
    rec = load("fault_separate")
    trace = build_trace(rec["trace_id"], rec["documents"])
    detail = TraceDetail(
        trace.id, trace.duration_ms, root_cause(trace), [node_json(n, trace) for n in trace.roots]
    )
    show.waterfall(detail, region="eu-west-1", is_local=True)
    assert capsys.readouterr().out == RECORDED_WATERFALL


def test_in_progress_nodes_are_labelled(capsys: pytest.CaptureFixture[str]) -> None:
    rec = load("in_progress_separate")
    trace = build_trace(rec["trace_id"], rec["documents"])
    detail = TraceDetail(
        trace.id, trace.duration_ms, None, [node_json(n, trace) for n in trace.roots], partial=True
    )
    show.waterfall(detail, region="us-east-1", is_local=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"trace {trace.id}  431.0 ms  partial"
    assert lines[2].endswith("dog-photo-function  (AWS::Lambda::Function)  in progress")


def test_stats_text_exact(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the full layout (narrower: test_widths.py)
    rows = [analyse(build_trace(r["trace_id"], r["documents"])) for r in _timed_rows()]
    rows += _rows()  # + 1 ok, 2 faults, 1 partial: 410/95/790 ms, save_dog_to_s3 missing once
    show.stats_table(stats(rows, (1764000000.0, 1764003600.0)))
    # 105 values (save_dog_to_s3: 104): p50 = 53rd (52nd), p95 = 100th (99th), p99 = 104th (103rd).
    assert capsys.readouterr().out.splitlines() == [
        "105 traces, 2 faults, 2 errors (2025-11-24T16:00:00.000Z .. 2025-11-24T17:00:00.000Z)",
        "SUBSEGMENT         COUNT          P50          P95          P99          MAX   FAULTS",
        "get_dog_images       105     790.0 ms   1,460.5 ms   1,520.5 ms   1,535.5 ms     1.9%",
        "call_dog_api         105     490.0 ms     960.0 ms   1,000.0 ms   1,010.0 ms     0.0%",
        "save_dog_to_s3       104     245.5 ms     480.5 ms     500.5 ms     505.5 ms     1.9%",
    ]


def test_progress_line_only_beyond_a_handful(capsys: pytest.CaptureFixture[str]) -> None:
    with show.fetch_progress() as progress:
        progress(5, 5)
    assert capsys.readouterr().err == ""
    with show.fetch_progress() as progress:
        progress(5, 40)
        progress(40, 40)
    assert capsys.readouterr().err == "fetching 40 traces from X-Ray ...\n"
