"""The service map: graph building from recorded documents (both forms), X-Ray's status
rules, the node panel, the JSON shape, exact text at 80 and 60 columns, Mermaid, and
the `map` command on moto."""

from __future__ import annotations

import copy
import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.render import graph as show
from dogxray.traces.graph import (
    Graph,
    find_node,
    graph_json,
    histogram,
    node_detail,
)
from dogxray.traces.model import build_trace
from dogxray.traces.service_map import (
    ServiceMap,
    Stats,
)
from tests.traces.tracedocs import load, put, separate

END = datetime(2025, 11, 24, 16, 10, tzinfo=timezone.utc)
WINDOW = (END - timedelta(minutes=10), END)
FUNCTION = ("dog-photo-function", "AWS::Lambda::Function")
BROKEN = ("aws-bucket", "AWS::S3::Bucket")
GOOD = ("lovely-dogs-123456789012-us-east-1", "AWS::S3::Bucket")


def drop(doc: dict[str, Any], name: str) -> dict[str, Any]:
    doc = dict(doc)
    if "subsegments" in doc:
        doc["subsegments"] = [drop(s, name) for s in doc["subsegments"] if s["name"] != name]
    return doc


def graph_of(*names: str, without: str | None = None) -> Graph:
    graph = Graph()
    for name in names:
        recording = load(name)
        docs = recording["documents"]
        if without:
            docs = [drop(d, without) for d in docs if d["name"] != without]
        graph.add(build_trace(recording["trace_id"], docs))
    return graph


def small() -> ServiceMap:
    """Two traces (success embedded, break-bucket separate), one Dog API host."""
    return graph_json(
        graph_of("success_embedded", "fault_separate", without="images.dog.ceo"), WINDOW
    )


def stats_of(result: ServiceMap, name: str, kind: str) -> dict[str, Any]:
    return next(n.stats.to_json() for n in result.nodes if n.key == (name, kind))


def test_nodes_and_edges_of_the_lab() -> None:
    result = graph_json(
        graph_of("success_embedded", "fault_separate", "fault_embedded_accessdenied"), WINDOW
    )
    assert [(n.id, n.name, n.type) for n in result.nodes] == [
        (0, "client", "client"),
        (1, "dog-photo-function", "AWS::Lambda"),
        (2, "dog-photo-function", "AWS::Lambda::Function"),
        (3, "aws-bucket", "AWS::S3::Bucket"),
        (4, "lovely-dogs-123456789012-us-east-1", "AWS::S3::Bucket"),
        (5, "dog.ceo", "remote"),
        (6, "images.dog.ceo", "remote"),
    ]
    assert [(e.source, e.target, e.stats.requests) for e in result.edges] == [
        (0, 1, 3),
        (1, 2, 3),
        (2, 3, 2),
        (2, 4, 1),
        (2, 5, 3),
        (2, 6, 3),
    ]
    function = stats_of(result, *FUNCTION)
    assert (function["ok"], function["fault"], function["error"]) == (1, 2, 0)
    assert function["health"] == {"ok": 0.3333, "error": 0.0, "fault": 0.6667, "throttle": 0.0}
    # the inferred AWS::S3 segment is merged into the call: one request, no extra node
    assert stats_of(result, *GOOD)["requests"] == 1
    broken = stats_of(result, *BROKEN)
    assert (broken["requests"], broken["fault"], broken["avg_ms"]) == (2, 2, 93.0)
    service = stats_of(result, "dog-photo-function", "AWS::Lambda")
    assert (service["p50_ms"], service["p95_ms"], service["max_ms"]) == (910.0, 1160.0, 1160.0)
    assert service["avg_ms"] == round((1160.0 + 910.0 + 710.0) / 3, 1)
    assert service["per_minute"] == 0.3  # 3 requests in 10 minutes


def test_both_document_forms_give_the_same_graph() -> None:
    recording = load("success_embedded")
    embedded, split = Graph(), Graph()
    embedded.add(build_trace(recording["trace_id"], recording["documents"]))
    split.add(build_trace(recording["trace_id"], separate(recording["documents"])))
    assert graph_json(split, WINDOW) == graph_json(embedded, WINDOW)


def test_a_throttled_s3_call_counts_as_throttle() -> None:
    recording = copy.deepcopy(load("success_embedded"))
    for doc in recording["documents"]:
        if doc.get("inferred"):
            doc.update(throttle=True, error=True, http={"response": {"status": 429}})
    graph = Graph()
    graph.add(build_trace(recording["trace_id"], recording["documents"]))
    stats = stats_of(graph_json(graph, WINDOW), *GOOD)
    assert (stats["ok"], stats["throttle"], stats["health"]["throttle"]) == (0, 1, 1.0)


def test_node_panel_of_the_broken_bucket() -> None:
    graph = graph_of("success_embedded", "fault_separate", "fault_embedded_accessdenied")
    detail = node_detail(graph, BROKEN, WINDOW).to_json()
    assert detail["status"] == {
        "ok": 0,
        "error": 0,
        "fault": 2,
        "throttle": 0,
        "http": {"403": 1, "404": 1},
    }
    assert detail["exceptions"] == [
        {
            "type": "AccessDenied",
            "message": "Access Denied",
            "remote": True,
            "count": 1,
            "trace_ids": ["1-69248103-0000000000005a17c0de0003"],
        },
        {
            "type": "NoSuchBucket",
            "message": "The specified bucket does not exist",
            "remote": True,
            "count": 1,
            "trace_ids": ["1-69248102-0000000000005a17c0de0002"],
        },
    ]
    assert detail["histogram"] == [{"from_ms": 93.0, "to_ms": 93.0, "count": 2}]
    # the function node shows the exceptions of its subsegments too
    function = node_detail(graph, FUNCTION, WINDOW)
    assert {(e.type, e.count) for e in function.exceptions} == {
        ("AccessDenied", 1),
        ("NoSuchBucket", 1),
    }


def test_function_status_is_its_own_not_its_calls() -> None:
    graph = graph_of("success_embedded", "fault_separate")
    detail = node_detail(graph, FUNCTION, WINDOW).to_json()
    assert detail["status"] == {
        "ok": 1,
        "error": 0,
        "fault": 1,
        "throttle": 0,
        "http": {"none": 2},
    }  # the inferred S3 segment's 200 is the bucket's, not the function's


def lines_of(lines: list[Any], width: int = 80) -> list[str]:
    buffer = io.StringIO()
    console = Console(width=width, file=buffer, color_system=None)
    for line in lines:
        console.print(line)
    return buffer.getvalue().splitlines()


def test_a_chain_is_drawn_with_straight_arrows() -> None:
    result = graph_json(graph_of("success_embedded", without="call_dog_api"), WINDOW)
    assert lines_of(show.picture(result, 80)) == [
        "┌────────┐    ┌────────────────┐    ┌────────────────┐    ┌────────────────┐",
        "│client  │    │dog-photo-funct…│    │dog-photo-funct…│    │lovely-dogs-123…│",
        "│        │    │Lambda service  │    │Lambda function │    │S3 bucket       │",
        "│1 req   │───▶│1 req 0.1/min   │───▶│1 req 0.1/min   │───▶│1 req 0.1/min   │",
        "│        │    │avg 1,160 ms    │    │avg 1,100 ms    │    │avg 93.0 ms     │",
        "│        │    │████████████████│    │████████████████│    │████████████████│",
        "└────────┘    └────────────────┘    └────────────────┘    └────────────────┘",
    ]
    assert show.picture(result, 79) is None


def test_node_panel_text_exact() -> None:
    graph = graph_of("success_embedded", "fault_separate", without="images.dog.ceo")
    assert lines_of(show.panel_lines(node_detail(graph, BROKEN, WINDOW))) == [
        "aws-bucket (AWS::S3::Bucket)",
        "  1 req  0.1/min  avg 93.0 ms",
        "  p50 93.0  p95 93.0  p99 93.0 ms",
        "  ░░░░░░░░░░░░░░░░░░░░  ok 0  error 0  throttle 0  fault 1",
        "status: ok 0  error 0  throttle 0  fault 1  (HTTP 404 x1)",
        "response time (ms)",
        "     93.0 ..    93.0  ██████████████████████████████ 1",
        "exceptions",
        "  1x NoSuchBucket: The specified bucket does not exist (remote)",
        "     newest: 1-69248102-0000000000005a17c0de0002",
        "open one with `dogxray trace ID`",
    ]
    function = lines_of(show.panel_lines(node_detail(graph, FUNCTION, WINDOW)))
    assert function[4] == "status: ok 1  error 0  throttle 0  fault 1"
    assert function[6:8] == [
        "      890 ..     911  ██████████████████████████████ 1",
        "      911 ..     932  0",
    ]


def test_exceptions_count_per_trace_and_keep_the_three_newest_ids() -> None:
    graph = Graph()
    recording = load("fault_separate")
    ids = [f"1-69248102-00000000000000000000000{i}" for i in range(4)]
    for i, trace_id in enumerate(ids):
        docs = [
            {**d, "start_time": d["start_time"] + 60 * i, "end_time": d["end_time"] + 60 * i}
            for d in recording["documents"]
        ]
        graph.add(build_trace(trace_id, docs))
    [group] = node_detail(graph, BROKEN, WINDOW).exceptions
    assert group.count == 4 and group.trace_ids == [ids[3], ids[2], ids[1]]


def test_histogram_bins() -> None:
    assert histogram([]) == []
    bins = histogram([10.0, 12.0, 30.0, 110.0], bins=5)
    assert [(b["from_ms"], b["to_ms"], b["count"]) for b in bins] == [
        (10.0, 30.0, 2),
        (30.0, 50.0, 1),
        (50.0, 70.0, 0),
        (70.0, 90.0, 0),
        (90.0, 110.0, 1),
    ]


def test_find_node() -> None:
    graph = graph_of("success_embedded", "fault_separate")
    assert find_node(graph, "dog-photo-function") == [FUNCTION]
    assert find_node(graph, "lambda") == [("dog-photo-function", "AWS::Lambda")]
    assert find_node(graph, "dog-photo-function (AWS::Lambda)") == [
        ("dog-photo-function", "AWS::Lambda")
    ]
    assert find_node(graph, "AWS-BUCKET") == [BROKEN]
    assert find_node(graph, "s3") == [BROKEN, GOOD]  # ambiguous: the command asks
    assert find_node(graph, "nope") == []


def check_stats(stats: dict[str, Any]) -> None:
    assert set(stats) == {
        "requests",
        "ok",
        "error",
        "fault",
        "throttle",
        "health",
        "avg_ms",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
        "per_minute",
    }
    assert set(stats["health"]) == {"ok", "error", "fault", "throttle"}
    assert stats["ok"] + stats["error"] + stats["fault"] + stats["throttle"] == stats["requests"]


def test_json_shape() -> None:
    result = small().to_json()
    assert set(result) == {"window", "source", "traces", "nodes", "edges"}
    assert result["source"] == "traces"
    assert result["window"] == {
        "start": "2025-11-24T16:00:00.000Z",
        "end": "2025-11-24T16:10:00.000Z",
        "minutes": 10.0,
    }
    for node in result["nodes"]:
        assert set(node) == {"id", "name", "type", "stats", "shared", "all_callers"}
        assert (node["shared"], node["all_callers"]) == (None, None)  # unknown from traces
        check_stats(node["stats"])
    for edge in result["edges"]:
        assert set(edge) == {"source", "target", "stats"}
        check_stats(edge["stats"])
    json.dumps(result)


def rendered(width: int) -> list[str]:
    buffer = io.StringIO()
    console = Console(width=width, file=buffer, color_system=None)
    for line in show.map_lines(small(), width):
        console.print(line)
    return buffer.getvalue().splitlines()


def test_text_at_80_columns_exact() -> None:
    assert rendered(80) == MAP_80
    assert max(len(line) for line in MAP_80) <= 80


def test_text_at_60_columns_is_a_list_exact() -> None:
    assert rendered(60) == MAP_60
    assert max(len(line) for line in MAP_60) <= 60


def test_mermaid_exact() -> None:
    assert show.mermaid(small()).splitlines() == MERMAID


def test_ring_shares() -> None:
    def bar(**counts: int) -> str:
        return show.ring(Stats(requests=sum(counts.values()), **counts), 10).plain

    assert bar(ok=1) == "█" * 10
    assert bar(ok=99, fault=1) == "█" * 9 + "░"  # a rare fault still shows
    assert bar(ok=1, error=1, throttle=1, fault=1) == "███▓▓▓▒▒░░"  # largest remainder
    assert bar(ok=3, fault=1) == "████████░░"
    assert bar() == "·" * 10


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.mark.slow
def test_map_command_on_moto(aws_mock: Any) -> None:
    put(aws_mock, ["success_embedded", "fault_separate", "other_service"])
    result = cli("map", "--output", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["traces"] == 2  # the other service's trace is not the lab's
    assert {(n["name"], n["type"]) for n in doc["nodes"]} >= {FUNCTION, BROKEN, GOOD}
    mermaid = cli("map", "--output", "mermaid")
    assert mermaid.exit_code == 0 and mermaid.stdout.startswith("flowchart LR\n")
    text = cli("map")
    assert text.exit_code == 0 and "│aws-bucket      │" in text.stdout


@pytest.mark.slow
def test_map_node_command_on_moto(aws_mock: Any) -> None:
    put(aws_mock, ["success_embedded", "fault_separate"])
    result = cli("map", "--node", "aws-bucket")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "aws-bucket (AWS::S3::Bucket)"
    assert "status: ok 0  error 0  throttle 0  fault 1  (HTTP 404 x1)" in lines
    assert "  1x NoSuchBucket: The specified bucket does not exist (remote)" in lines
    doc = json.loads(cli("map", "--node", "aws-bucket", "-o", "json").stdout)
    assert set(doc) == {"node", "histogram", "status", "exceptions"}
    assert doc["exceptions"][0]["count"] == 1


def test_map_empty_and_unknown_node(aws_mock: Any) -> None:
    empty = cli("map", "--output", "json")
    assert empty.exit_code == 0 and json.loads(empty.stdout)["nodes"] == []
    assert "note: the lab is not deployed" in empty.stderr
    unknown = cli("map", "--node", "nope")
    assert unknown.exit_code == 1
    assert "error: no node 'nope' in the map of the last 10m" in unknown.stderr


def test_map_ambiguous_node(aws_mock: Any) -> None:
    put(aws_mock, ["success_embedded", "fault_separate"])
    result = cli("map", "--node", "s3")
    assert result.exit_code == 2 and "--node 's3' matches 2 nodes" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "soon"], "invalid --since 'soon'"),
        (["--node", " "], "--node is empty"),
        (["--node", "s3", "--output", "mermaid"], "--output mermaid draws the whole map"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = cli("map", *args)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


MAP_80 = [
    "2 traces since 2025-11-24T16:00:00.000Z",
    "┌────────┐    ┌────────────────┐    ┌────────────────┐    ┌────────────────┐",
    "│client  │    │dog-photo-funct…│    │dog-photo-funct…│    │aws-bucket      │",
    "│        │    │Lambda service  │    │Lambda function │    │S3 bucket       │",
    "│2 req   │───▶│2 req 0.2/min   │───▶│2 req 0.2/min   │─┬─▶│1 req 0.1/min   │",
    "│        │    │avg 1,035 ms    │    │avg 995 ms      │ │  │avg 93.0 ms     │",
    "│        │    │████████░░░░░░░░│    │████████░░░░░░░░│ │  │░░░░░░░░░░░░░░░░│",
    "└────────┘    └────────────────┘    └────────────────┘ │  └────────────────┘",
    "                                                       │  ┌────────────────┐",
    "                                                       │  │lovely-dogs-123…│",
    "                                                       │  │S3 bucket       │",
    "                                                       ├─▶│1 req 0.1/min   │",
    "                                                       │  │avg 93.0 ms     │",
    "                                                       │  │████████████████│",
    "                                                       │  └────────────────┘",
    "                                                       │  ┌────────────────┐",
    "                                                       │  │dog.ceo         │",
    "                                                       │  │remote host     │",
    "                                                       └─▶│2 req 0.2/min   │",
    "                                                          │avg 138 ms      │",
    "                                                          │████████████████│",
    "                                                          └────────────────┘",
    "ring: █ ok  ▓ error  ▒ throttle  ░ fault",
    "",
    "client",
    "  -> dog-photo-function  2 req  avg 1,035 ms  fault 1",
    "dog-photo-function (AWS::Lambda)",
    "  2 req  0.2/min  avg 1,035 ms",
    "  p50 910  p95 1,160  p99 1,160 ms",
    "  ██████████░░░░░░░░░░  ok 1  error 0  throttle 0  fault 1",
    "  -> dog-photo-function  2 req  avg 995 ms  fault 1",
    "dog-photo-function (AWS::Lambda::Function)",
    "  2 req  0.2/min  avg 995 ms",
    "  p50 890  p95 1,100  p99 1,100 ms",
    "  ██████████░░░░░░░░░░  ok 1  error 0  throttle 0  fault 1",
    "  -> aws-bucket  1 req  avg 93.0 ms  fault 1",
    "  -> lovely-dogs-123456789012-us-east-1  1 req  avg 93.0 ms",
    "  -> dog.ceo  2 req  avg 138 ms",
    "aws-bucket (AWS::S3::Bucket)",
    "  1 req  0.1/min  avg 93.0 ms",
    "  p50 93.0  p95 93.0  p99 93.0 ms",
    "  ░░░░░░░░░░░░░░░░░░░░  ok 0  error 0  throttle 0  fault 1",
    "lovely-dogs-123456789012-us-east-1 (AWS::S3::Bucket)",
    "  1 req  0.1/min  avg 93.0 ms",
    "  p50 93.0  p95 93.0  p99 93.0 ms",
    "  ████████████████████  ok 1  error 0  throttle 0  fault 0",
    "dog.ceo (remote)",
    "  2 req  0.2/min  avg 138 ms",
    "  p50 138  p95 138  p99 138 ms",
    "  ████████████████████  ok 2  error 0  throttle 0  fault 0",
]
MAP_60 = [
    "2 traces since 2025-11-24T16:00:00.000Z",
    "client",
    "  -> dog-photo-function  2 req  avg 1,035 ms  fault 1",
    "dog-photo-function (AWS::Lambda)",
    "  2 req  0.2/min  avg 1,035 ms",
    "  p50 910  p95 1,160  p99 1,160 ms",
    "  ██████████░░░░░░░░░░  ok 1  error 0  throttle 0  fault 1",
    "  -> dog-photo-function  2 req  avg 995 ms  fault 1",
    "dog-photo-function (AWS::Lambda::Function)",
    "  2 req  0.2/min  avg 995 ms",
    "  p50 890  p95 1,100  p99 1,100 ms",
    "  ██████████░░░░░░░░░░  ok 1  error 0  throttle 0  fault 1",
    "  -> aws-bucket  1 req  avg 93.0 ms  fault 1",
    "  -> lovely-dogs-123456789012-us-east-1  1 req  avg 93.0 ms",
    "  -> dog.ceo  2 req  avg 138 ms",
    "aws-bucket (AWS::S3::Bucket)",
    "  1 req  0.1/min  avg 93.0 ms",
    "  p50 93.0  p95 93.0  p99 93.0 ms",
    "  ░░░░░░░░░░░░░░░░░░░░  ok 0  error 0  throttle 0  fault 1",
    "lovely-dogs-123456789012-us-east-1 (AWS::S3::Bucket)",
    "  1 req  0.1/min  avg 93.0 ms",
    "  p50 93.0  p95 93.0  p99 93.0 ms",
    "  ████████████████████  ok 1  error 0  throttle 0  fault 0",
    "dog.ceo (remote)",
    "  2 req  0.2/min  avg 138 ms",
    "  p50 138  p95 138  p99 138 ms",
    "  ████████████████████  ok 2  error 0  throttle 0  fault 0",
    "ring: █ ok  ▓ error  ▒ throttle  ░ fault",
]
MERMAID = [
    "flowchart LR",
    '    n0(["client"])',
    '    n1["dog-photo-function<br/>AWS::Lambda<br/>2 req, avg 1,035 ms<br/>fault 1"]',
    '    n2["dog-photo-function<br/>AWS::Lambda::Function<br/>2 req, avg 995 ms<br/>fault 1"]',
    '    n3["aws-bucket<br/>AWS::S3::Bucket<br/>1 req, avg 93.0 ms<br/>fault 1"]',
    '    n4["lovely-dogs-123456789012-us-east-1<br/>AWS::S3::Bucket<br/>1 req, avg 93.0 ms"]',
    '    n5["dog.ceo<br/>remote<br/>2 req, avg 138 ms"]',
    '    n0 -->|"2 req, avg 1,035 ms, fault 1"| n1',
    '    n1 -->|"2 req, avg 995 ms, fault 1"| n2',
    '    n2 -->|"1 req, avg 93.0 ms, fault 1"| n3',
    '    n2 -->|"1 req, avg 93.0 ms"| n4',
    '    n2 -->|"2 req, avg 138 ms"| n5',
    "    classDef fault stroke:#d62728,stroke-width:3px",
    "    classDef error stroke:#ff7f0e,stroke-width:3px",
    "    class n1,n2,n3 fault",
]


def test_opentelemetrys_handler_segment_is_the_functions_own_work() -> None:
    """OpenTelemetry's handler span is a segment named after the function, under Lambda's
    function segment: the calls beneath it are the function's, as with the X-Ray SDK."""
    t0, trace_id = 1_764_000_000.0, "1-69240000-0123456789abcdef01234567"

    def doc(id_: str, name: str, parent: str | None, **more: Any) -> dict[str, Any]:
        base = {"id": id_, "name": name, "trace_id": trace_id, "start_time": t0}
        return {**base, "end_time": t0 + 0.2, **({"parent_id": parent} if parent else {}), **more}

    docs = [
        doc("a" * 16, "dog-photo-function", None, origin="AWS::Lambda"),
        doc("b" * 16, "dog-photo-function", "a" * 16, origin="AWS::Lambda::Function"),
        doc("c" * 16, "dog-photo-function", "b" * 16, fault=True),  # the handler span
        doc("d" * 16, "save_dog_to_s3", "c" * 16, type="subsegment", fault=True),
        doc(
            "e" * 16,
            "S3",
            "d" * 16,
            type="subsegment",
            namespace="aws",
            aws={"operation": "PutObject"},
            error=True,
            http={"response": {"status": 404}},
        ),
    ]
    graph = Graph()
    graph.add(build_trace(trace_id, docs))
    [s3] = [key for key in graph.nodes if key[0] == "S3"]
    assert graph.edges[(FUNCTION, s3)].counts()["error"] == 1
    assert not [key for key in graph.nodes if key[0] == "save_dog_to_s3"]
