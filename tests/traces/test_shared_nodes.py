"""Two labs through one `aws-bucket` node (issue 15 item 5): the map's text, JSON and
Mermaid, `map --node` and the report's map give the lab's own figures, and mark the node
that the other lab's function calls too as `shared`, with every caller's figures as
`all_callers`. Fed through the emulator's GetServiceGraph (its front on loopback, over
moto in process), and through stubbed GetServiceGraph pages as real AWS answers them.

Also `map --node` at COLUMNS=80 (issue 15 item 23): no line wider than the terminal."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.local.front import Front
from dogxray.local.moto_server import loopback_moto_server, moto_app
from dogxray.local.wsgi import State
from dogxray.render import graph as show
from dogxray.traces.graph import Graph, graph_json
from dogxray.traces.model import build_trace
from dogxray.traces.service_graph import map_document, mark_shared
from dogxray.traces.service_map import MapNode, Stats
from tests.traces.tracedocs import FUNCTION, load, put

OTHER = "cat-photo-function"  # the other lab's function
END = datetime(2025, 11, 24, 16, 10, tzinfo=timezone.utc)
WINDOW = (END - timedelta(minutes=10), END)


def other_lab(name: str) -> dict[str, Any]:
    """A recording as the other lab's function made it."""
    return json.loads(json.dumps(load(name)).replace(FUNCTION, OTHER))


@pytest.fixture
def emulated_graph(aws_mock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The recordings go into moto in process; the commands read them through the
    emulator's front (GetServiceGraph, inferred segments) on loopback, over the same
    moto state."""
    state = State(concurrency=10, gateway_base="http://127.0.0.1:9")
    with loopback_moto_server(app=Front(moto_app(), state)) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        yield aws_mock


@pytest.fixture
def two_labs(emulated_graph: Any) -> list[str]:
    """dog-photo: a success and a break-bucket fault; cat-photo: a break-bucket fault.
    aws-bucket: 2 requests, 2 faults; 1 and 1 of them the dog-photo lab's."""
    return put(
        emulated_graph,
        [load("success_embedded"), load("fault_separate"), other_lab("fault_separate")],
    )


def cli(*args: str, columns: int = 80) -> Any:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result


def node_of(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in doc["nodes"] if n["name"] == name)


MAP_TEXT_80 = [
    "┌────────┐    ┌────────────────┐    ┌────────────────┐    ┌────────────────┐",
    "│client  │    │dog-photo-funct…│    │dog-photo-funct…│    │aws-bucket      │",
    "│        │    │Lambda service  │    │Lambda function │    │S3 bucket shared│",
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
    "                                                       │  │remote shared   │",
    "                                                       ├─▶│2 req 0.2/min   │",
    "                                                       │  │avg 138 ms      │",
    "                                                       │  │████████████████│",
    "                                                       │  └────────────────┘",
    "                                                       │  ┌────────────────┐",
    "                                                       │  │images.dog.ceo  │",
    "                                                       │  │remote shared   │",
    "                                                       └─▶│2 req 0.2/min   │",
    "                                                          │avg 269 ms      │",
    "                                                          │████████████████│",
    "                                                          └────────────────┘",
    "ring: █ ok  ▓ error  ▒ throttle  ░ fault",
    "shared: others call it too; the figures are the lab's own",
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
    "  -> images.dog.ceo  2 req  avg 269 ms",
    "aws-bucket (AWS::S3::Bucket)  shared",
    "  1 req  0.1/min  avg 93.0 ms",
    "  p50 93.0  p95 93.0  p99 93.0 ms",
    "  ░░░░░░░░░░░░░░░░░░░░  ok 0  error 0  throttle 0  fault 1",
    "  all callers: 2 req  avg 93.0 ms  fault 2",
    "lovely-dogs-123456789012-us-east-1 (AWS::S3::Bucket)",
    "  1 req  0.1/min  avg 93.0 ms",
    "  p50 93.0  p95 93.0  p99 93.0 ms",
    "  ████████████████████  ok 1  error 0  throttle 0  fault 0",
    "dog.ceo (remote)  shared",
    "  2 req  0.2/min  avg 138 ms",
    "  p50 138  p95 138  p99 138 ms",
    "  ████████████████████  ok 2  error 0  throttle 0  fault 0",
    "  all callers: 3 req  avg 138 ms",
    "images.dog.ceo (remote)  shared",
    "  2 req  0.2/min  avg 269 ms",
    "  p50 269  p95 269  p99 269 ms",
    "  ████████████████████  ok 2  error 0  throttle 0  fault 0",
    "  all callers: 3 req  avg 269 ms",
]


@pytest.mark.slow
def test_map_text_json_mermaid_and_node_agree_on_a_shared_bucket(two_labs: list[str]) -> None:
    doc = json.loads(cli("map", "--output", "json").stdout)
    assert doc["source"] == "service-graph"
    ids = {n["name"]: n["id"] for n in doc["nodes"] if n["type"] != "AWS::Lambda"}
    bucket = node_of(doc, "aws-bucket")
    assert (bucket["stats"]["requests"], bucket["stats"]["fault"]) == (1, 1)
    assert bucket["shared"] is True
    every = bucket["all_callers"]
    assert (every["requests"], every["fault"], every["avg_ms"]) == (2, 2, 93.0)
    [edge] = [e for e in doc["edges"] if e["target"] == ids["aws-bucket"]]
    assert edge["source"] == ids[FUNCTION]
    assert edge["stats"] == bucket["stats"]  # the node is what the lab's edge carried
    good = node_of(doc, "lovely-dogs-123456789012-us-east-1")
    assert (good["stats"]["requests"], good["shared"], good["all_callers"]) == (1, False, None)
    function = node_of(doc, FUNCTION)
    assert (function["stats"]["requests"], function["shared"]) == (2, False)

    text = cli("map").stdout.splitlines()
    assert text[0].startswith("X-Ray service graph since ")
    assert text[1:] == MAP_TEXT_80

    mermaid = cli("map", "--output", "mermaid").stdout.splitlines()
    assert (
        f'    n{bucket["id"]}["aws-bucket<br/>AWS::S3::Bucket<br/>1 req, avg 93.0 ms<br/>'
        'fault 1<br/>shared: all callers 2 req, fault 2"]'
    ) in mermaid
    assert "    classDef shared stroke-dasharray:5 5" in mermaid

    panel = cli("map", "--node", "aws-bucket").stdout.splitlines()
    assert panel == [
        "aws-bucket (AWS::S3::Bucket)  shared",
        "  1 req  0.1/min  avg 93.0 ms",
        "  p50 93.0  p95 93.0  p99 93.0 ms",
        "  ░░░░░░░░░░░░░░░░░░░░  ok 0  error 0  throttle 0  fault 1",
        "  all callers: 2 req  avg 93.0 ms  fault 2",
        "shared: others call it too; the figures are the lab's own",
        "status: ok 0  error 0  throttle 0  fault 1  (HTTP 404 x1)",
        "response time (ms)",
        "     93.0 ..    93.0  ██████████████████████████████ 1",
        "exceptions",
        "  1x NoSuchBucket: The specified bucket does not exist (remote)",
        f"     newest: {two_labs[1]}",
        "open one with `dogxray trace ID`",
    ]
    detail = json.loads(cli("map", "--node", "aws-bucket", "--output", "json").stdout)
    assert detail["node"]["stats"] == bucket["stats"]
    assert detail["status"] == {
        "ok": 0,
        "error": 0,
        "fault": 1,
        "throttle": 0,
        "http": {"404": 1},
    }
    assert (detail["node"]["shared"], detail["node"]["all_callers"]) == (True, every)
    own = json.loads(cli("map", "--node", "function", "-o", "json").stdout)["node"]
    assert (own["stats"]["requests"], own["shared"], own["all_callers"]) == (2, False, None)


@pytest.mark.slow
def test_the_other_lab_sees_its_own_figures(two_labs: list[str]) -> None:
    doc = json.loads(cli("--lab", "cat-photo", "map", "--output", "json").stdout)
    bucket = node_of(doc, "aws-bucket")
    assert (bucket["stats"]["requests"], bucket["stats"]["fault"], bucket["shared"]) == (1, 1, True)
    assert bucket["all_callers"]["requests"] == 2
    assert node_of(doc, OTHER)["stats"]["requests"] == 1
    assert "lovely-dogs-123456789012-us-east-1" not in {n["name"] for n in doc["nodes"]}


@pytest.mark.slow
def test_report_map_has_the_labs_figures_and_marks_shared(
    two_labs: list[str], tmp_path: Path
) -> None:
    result = cli("report", "--output", str(tmp_path))
    assert result.stdout.startswith("report of 2 traces (1 fault")
    html = (tmp_path / "report.html").read_text()
    start = html.index('<g class="map-node" data-name="aws-bucket"')
    tag = html[start : html.index(">", start)]
    assert 'data-requests="1"' in tag and 'data-fault="1"' in tag
    assert 'data-shared="true"' in tag
    assert "shared: others call it too (all callers: 2 requests, fault 2)" in html
    start = html.index('<g class="map-node" data-name="lovely-dogs-123456789012-us-east-1"')
    assert 'data-shared="false"' in html[start : html.index(">", start)]
    assert "shared: others call it too; the figures are the lab's own" in html


@pytest.mark.slow
def test_without_a_service_graph_nothing_is_marked(aws_mock: Any) -> None:
    """moto's own X-Ray answers an empty graph: the figures come from the lab's traces
    and whether a node is shared is unknown (null), not claimed."""
    put(aws_mock, [load("fault_separate"), other_lab("fault_separate")])
    doc = json.loads(cli("map", "--output", "json").stdout)
    assert doc["source"] == "traces"
    bucket = node_of(doc, "aws-bucket")
    assert (bucket["stats"]["requests"], bucket["shared"], bucket["all_callers"]) == (1, None, None)
    assert "shared" not in cli("map").stdout
    detail = json.loads(cli("map", "--node", "aws-bucket", "-o", "json").stdout)
    assert (detail["node"]["stats"]["requests"], detail["node"]["shared"]) == (1, None)


# ---- GetServiceGraph as real AWS answers it (account-wide nodes) ---------------------


def summary(ok: int, fault: int = 0, seconds: float = 0.0) -> dict[str, Any]:
    return {
        "OkCount": ok,
        "ErrorStatistics": {"ThrottleCount": 0, "OtherCount": 0, "TotalCount": 0},
        "FaultStatistics": {"OtherCount": fault, "TotalCount": fault},
        "TotalCount": ok + fault,
        "TotalResponseTime": seconds,
    }


def edge(ref: int, stats: dict[str, Any], *hist: tuple[float, int]) -> dict[str, Any]:
    return {
        "ReferenceId": ref,
        "SummaryStatistics": stats,
        "ResponseTimeHistogram": [{"Value": v, "Count": c} for v, c in hist],
    }


def service(ref: int, name: str, kind: str, edges: list, stats: dict, *hist: Any) -> dict:
    return {
        "ReferenceId": ref,
        "Name": name,
        "Names": [name],
        "Type": kind,
        "Edges": edges,
        "SummaryStatistics": stats,
        "ResponseTimeHistogram": [{"Value": v, "Count": c} for v, c in hist],
    }


def account_graph() -> list[dict[str, Any]]:
    """dog-photo: 3 requests, 1 fault to aws-bucket; cat-photo: 4 requests, 4 faults to
    aws-bucket, which then calls `audit` (a node reached through a shared one)."""
    return [
        service(1, FUNCTION, "AWS::Lambda::Function",
                [edge(3, summary(2, fault=1, seconds=0.3), (0.1, 3))],
                summary(3, fault=1, seconds=3.0), (1.0, 3)),
        service(2, OTHER, "AWS::Lambda::Function",
                [edge(3, summary(0, fault=4, seconds=0.8), (0.2, 4))],
                summary(0, fault=4, seconds=4.0), (1.0, 4)),
        service(3, "aws-bucket", "AWS::S3::Bucket",
                [edge(4, summary(7, seconds=0.07), (0.01, 7))],
                summary(2, fault=5, seconds=1.1), (0.1, 3), (0.2, 4)),
        service(4, "audit", "AWS::DynamoDB::Table", [], summary(7, seconds=0.07), (0.01, 7)),
        service(5, "dog.ceo", "remote", [], summary(1, seconds=0.1), (0.1, 1)),
    ]  # fmt: skip


def test_account_wide_nodes_are_scoped_to_the_labs_edges() -> None:
    services = account_graph()
    services[0]["Edges"].append(edge(5, summary(1, seconds=0.1), (0.1, 1)))
    found = map_document(services, FUNCTION, WINDOW)
    doc = found.to_json()
    names = [n["name"] for n in doc["nodes"]]
    assert names == ["client", FUNCTION, "audit", "aws-bucket", "dog.ceo"]
    bucket = node_of(doc, "aws-bucket")
    assert bucket["stats"] == {
        "requests": 3,
        "ok": 2,
        "error": 0,
        "fault": 1,
        "throttle": 0,
        "health": {"ok": 0.6667, "error": 0.0, "fault": 0.3333, "throttle": 0.0},
        "avg_ms": 100.0,
        "p50_ms": 100.0,
        "p95_ms": 100.0,
        "p99_ms": 100.0,
        "max_ms": 100.0,
        "per_minute": 0.3,
    }
    assert bucket["shared"] is True
    assert (bucket["all_callers"]["requests"], bucket["all_callers"]["fault"]) == (7, 5)
    assert bucket["all_callers"]["max_ms"] == 200.0
    # beyond a shared node the edges carry every caller's requests: shared too
    audit = node_of(doc, "audit")
    assert (audit["shared"], audit["all_callers"]["requests"]) == (True, 7)
    remote = node_of(doc, "dog.ceo")
    assert (remote["stats"]["requests"], remote["shared"], remote["all_callers"]) == (
        1,
        False,
        None,
    )
    lines = [line.plain for line in show.map_lines(found, 60)]
    assert "aws-bucket (AWS::S3::Bucket)  shared" in lines
    assert "  all callers: 7 req  avg 157 ms  fault 5" in lines
    assert "dog.ceo (remote)" in lines


def test_a_node_with_more_requests_than_the_labs_edges_is_shared() -> None:
    """X-Ray may not list the other caller (another account, an untraced client)."""
    services = [s for s in account_graph() if s["ReferenceId"] != 2]
    doc = map_document(services, FUNCTION, WINDOW).to_json()
    bucket = node_of(doc, "aws-bucket")
    assert (bucket["stats"]["requests"], bucket["shared"]) == (3, True)
    exact = copy.deepcopy(services)
    exact[1]["SummaryStatistics"] = summary(2, fault=1, seconds=0.3)
    alone = node_of(map_document(exact, FUNCTION, WINDOW).to_json(), "aws-bucket")
    assert (alone["stats"]["requests"], alone["shared"], alone["all_callers"]) == (3, False, None)


def test_mark_shared_on_a_map_from_traces() -> None:
    graph = Graph()
    for name in ("success_embedded", "fault_separate"):
        recording = load(name)
        graph.add(build_trace(recording["trace_id"], recording["documents"]))
    found = graph_json(graph, WINDOW)
    before = found.to_json()
    mark_shared(found, account_graph(), FUNCTION, 10.0)
    doc = found.to_json()
    bucket = node_of(doc, "aws-bucket")
    assert bucket["stats"] == node_of(before, "aws-bucket")["stats"]  # the traces' figures
    assert (bucket["shared"], bucket["all_callers"]["requests"]) == (True, 7)
    assert (node_of(doc, "dog.ceo")["shared"], node_of(doc, FUNCTION)["shared"]) == (False, False)
    untouched = graph_json(graph, WINDOW)
    mark_shared(untouched, account_graph(), "some-other-function", 10.0)
    assert (
        untouched.to_json() == before
    )  # the graph has nothing of the function: unknown stays None


# ---- widths (issue 15 item 23: `map --node`) ---------------------------------------

LONG_MESSAGE = (
    "User: arn:aws:sts::123456789012:assumed-role/dog-photo-role-us-east-1/"
    "dog-photo-function is not authorized to perform: s3:PutObject on resource: "
    '"arn:aws:s3:::aws-bucket/dogs/husky.jpg" because no identity-based policy allows '
    "the s3:PutObject action"
)


def long_denial() -> dict[str, Any]:
    recording = load("fault_embedded_accessdenied")
    return json.loads(json.dumps(recording).replace('"Access Denied"', json.dumps(LONG_MESSAGE)))


@pytest.mark.slow
@pytest.mark.parametrize("columns", [80, 60])
def test_map_node_fits_the_terminal(aws_mock: Any, columns: int) -> None:
    ids = put(aws_mock, [long_denial(), long_denial(), long_denial()])
    panel = cli("map", "--node", "aws-bucket", columns=columns).stdout.splitlines()
    assert max(len(line) for line in panel) <= columns, panel
    assert panel[0] == "aws-bucket (AWS::S3::Bucket)"
    assert "  3x AccessDenied: User:" in panel[panel.index("exceptions") + 1]
    # wrapped, not cut: all of the message and every trace id is there
    text = "".join("".join(panel).split())
    assert "".join(LONG_MESSAGE.split()) + "(remote)" in text
    assert all(trace_id in text for trace_id in ids)
    doc = json.loads(cli("map", "--node", "aws-bucket", "-o", "json", columns=columns).stdout)
    [group] = doc["exceptions"]
    assert group["message"] == LONG_MESSAGE  # JSON keeps the whole value
    assert group["trace_ids"] == list(reversed(ids))


@pytest.mark.slow
def test_map_node_at_80_columns_exact(aws_mock: Any) -> None:
    ids = put(aws_mock, [long_denial(), long_denial(), long_denial()])
    panel = cli("map", "--node", "aws-bucket").stdout.splitlines()
    assert panel[panel.index("exceptions") :] == [
        "exceptions",
        "  3x AccessDenied: User:",
        "     arn:aws:sts::123456789012:assumed-role/dog-photo-role-us-east-1/dog-photo-f",
        "     unction is not authorized to perform: s3:PutObject on resource:",
        '     "arn:aws:s3:::aws-bucket/dogs/husky.jpg" because no identity-based policy',
        "     allows the s3:PutObject action (remote)",
        f"     newest: {ids[2]}",
        f"             {ids[1]}",
        f"             {ids[0]}",
        "open one with `dogxray trace ID`",
    ]


def test_a_failing_service_graph_leaves_shared_unknown() -> None:
    """`--node` and the report ask GetServiceGraph only to mark shared nodes: an error
    there leaves `shared` unknown instead of failing the panel or the page."""
    from botocore.stub import Stubber

    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings
    from dogxray.traces import mapping

    settings = Settings.from_options(region="us-east-1")
    aws = Aws(settings)
    node = MapNode("aws-bucket", "AWS::S3::Bucket", Stats(requests=1))
    with Stubber(aws.client("xray")) as stubber:
        stubber.add_client_error("get_service_graph", "InvalidRequestException", "no")
        mapping.mark_shared(aws, settings, WINDOW, node)
        assert (node.shared, node.all_callers) == (None, None)
        stubber.add_response("get_service_graph", {"Services": account_graph()})
        mapping.mark_shared(aws, settings, WINDOW, node)
    assert node.shared is True and node.all_callers is not None
    assert node.all_callers.requests == 7
