"""The service graph of the lab, built from trace trees (pure; no AWS calls).

Nodes, as the X-Ray console draws them: the client; the Lambda service (`AWS::Lambda`
segment) and the function (`AWS::Lambda::Function` segment), both named after the
function; one `AWS::S3::Bucket` node per bucket the function's `aws` S3 subsegments
wrote to (`aws.bucket_name`); one `remote` node per URL host the function called;
other `aws` calls as `AWS::<name>`. Edges: client -> Lambda -> function -> downstream.

Counting (X-Ray's rules): a request is a fault (5xx or `fault`), else a throttle (429
or `throttle`), else an error (4xx or `error`), else ok. A node's statistics are its
own segments (service nodes) or the calls made to it (inferred downstream nodes); an
edge's are the calls over it as the caller saw them. An inferred segment under a call
(real X-Ray's `AWS::S3` document) is merged into that call. Exceptions are counted once
per trace per (type, message) on the node where they were recorded (the function node
also shows those of its subsegments, as the console's function node does).

Only the lab's traces are added, so every figure is the lab's own; whether another
caller uses a node too is not in them (`shared` is None until
`service_graph.mark_shared` sets it from X-Ray's service graph).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dogxray.traces import rules
from dogxray.traces.model import Node, Trace, ms
from dogxray.traces.rules import AWS_NAMESPACES
from dogxray.traces.service_map import (
    STATUSES,
    ExceptionGroup,
    Histogram,
    MapEdge,
    MapNode,
    NodePanel,
    ServiceMap,
    Stats,
)

CLIENT = ("client", "client")
HISTOGRAM_BINS = 10
MAX_TRACE_IDS = 3


@dataclass
class Sample:
    trace_id: str
    start: float
    duration_ms: float
    status: str  # ok | error | fault | throttle
    http_status: int | None
    exceptions: list[tuple[str, str, bool]] = field(default_factory=list)


@dataclass
class Tally:
    """Requests seen at a node or over an edge."""

    samples: list[Sample] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for x in self.samples if x.status == s) for s in STATUSES}

    def stats(self, minutes: float) -> Stats:
        times = sorted(x.duration_ms for x in self.samples)
        avg = round(sum(times) / len(times), 1) if times else None
        return Stats.of(self.counts(), times, minutes, avg_ms=avg)


@dataclass
class Graph:
    nodes: dict[tuple[str, str], Tally] = field(default_factory=dict)
    edges: dict[tuple[tuple[str, str], tuple[str, str]], Tally] = field(default_factory=dict)
    traces: int = 0

    def node(self, key: tuple[str, str]) -> Tally:
        return self.nodes.setdefault(key, Tally())

    def edge(self, source: tuple[str, str], target: tuple[str, str]) -> Tally:
        self.node(source)
        self.node(target)
        return self.edges.setdefault((source, target), Tally())

    def add(self, trace: Trace) -> None:
        """Count one trace (of the lab's function) into the graph."""
        self.traces += 1
        segments = [n for n, _ in trace.walk() if n.is_segment and not n.inferred]
        service = next((n for n in segments if n.origin == "AWS::Lambda"), None)
        functions = [n for n in segments if n.origin == "AWS::Lambda::Function"]
        caller = CLIENT
        if service is not None:
            key = (service.name, "AWS::Lambda")
            sample = _sample(trace, service, [service])
            self.node(key).samples.append(sample)
            self.node(CLIENT).samples.append(sample)  # the client: what it sent and saw
            self.edge(CLIENT, key).samples.append(sample)
            caller = key
        for function in functions:
            key = (function.name, "AWS::Lambda::Function")
            sample = _sample(trace, function, list(_subtree(function)))
            self.node(key).samples.append(sample)
            if caller == CLIENT:
                self.node(CLIENT).samples.append(sample)
            self.edge(caller, key).samples.append(sample)
            for call in _calls(function):
                target = downstream_key(call)
                merged = [c for c in call.children if c.inferred]
                down = _sample(trace, call, [call, *merged], merged)
                self.node(target).samples.append(down)
                self.edge(key, target).samples.append(down)


def _subtree(node: Node) -> Any:
    yield node
    for child in node.children:
        yield from _subtree(child)


def _calls(function: Node) -> Any:
    """The function's outermost downstream calls (namespace aws or remote). OpenTelemetry
    records the handler's span as a segment of its own, named after the function (its
    `service.name`), under Lambda's function segment: that is still the function's own
    work, so its calls are the function's."""
    stack = list(reversed(function.children))
    while stack:
        node = stack.pop()
        own = node.is_segment and node.name == function.name and not node.origin
        if node.inferred or (node.is_segment and not own):
            continue
        if node.namespace in AWS_NAMESPACES:
            yield node
            continue
        stack.extend(reversed(node.children))


def downstream_key(call: Node) -> tuple[str, str]:
    """The node a downstream call names (X-Ray's rule, `traces.rules.downstream`)."""
    return rules.downstream(call.namespace, call.name, call.aws)


def _sample(
    trace: Trace, node: Node, sources: list[Node], inferred: list[Node] | None = None
) -> Sample:
    """One request at `node`: its status (merged with the inferred segments of a call),
    its duration, and the exceptions recorded on `sources`."""
    parts = [node, *(inferred or [])]
    fault = any(p.fault for p in parts)
    error = any(p.error for p in parts)
    throttle = any(p.throttle for p in parts)
    # an inferred segment may carry the status the call's subsegment lacks
    status = next((p.http_status for p in parts if p.http_status is not None), None)
    seen: set[tuple[str, str]] = set()
    exceptions: list[tuple[str, str, bool]] = []
    for part in sources:
        for exc in part.exceptions if not part.propagated else []:
            key = (exc["type"], exc["message"])
            if key not in seen:
                seen.add(key)
                exceptions.append((exc["type"], exc["message"], bool(exc["remote"])))
    return Sample(
        trace_id=trace.id,
        start=trace.start,
        duration_ms=ms(trace.node_end(node) - node.start),
        status=rules.status(fault, error, throttle, status),
        http_status=status,
        exceptions=exceptions,
    )


def label(key: tuple[str, str]) -> str:
    return key[0] if key == CLIENT else f"{key[0]} ({key[1]})"


def _order(key: tuple[str, str]) -> tuple[int, str, str]:
    rank = {"client": 0, "AWS::Lambda": 1, "AWS::Lambda::Function": 2}.get(key[1], 3)
    return (rank, key[1], key[0])


def _minutes(window: tuple[Any, Any]) -> float:
    return max(float((window[1] - window[0]).total_seconds()) / 60.0, 0.0)


def graph_json(graph: Graph, window: tuple[Any, Any]) -> ServiceMap:
    """The map of the lab's traces (`shared` unknown: see `service_graph.mark_shared`)."""
    from dogxray.core.window import iso

    minutes = _minutes(window)
    keys = sorted(graph.nodes, key=_order)
    ids = {key: index for index, key in enumerate(keys)}
    return ServiceMap(
        start=iso(window[0]),
        end=iso(window[1]),
        minutes=round(minutes, 2),
        source="traces",
        traces=graph.traces,
        nodes=[
            MapNode(key[0], key[1], graph.nodes[key].stats(minutes), id=ids[key]) for key in keys
        ],
        edges=[
            MapEdge(ids[s], ids[t], tally.stats(minutes))
            for (s, t), tally in sorted(
                graph.edges.items(), key=lambda item: (ids[item[0][0]], ids[item[0][1]])
            )
        ],
    )


ALIASES = {
    "lambda": "AWS::Lambda",
    "function": "AWS::Lambda::Function",
    "s3": "AWS::S3::Bucket",
    "bucket": "AWS::S3::Bucket",
}


def find_node(graph: Graph, name: str) -> list[tuple[str, str]]:
    """Nodes matching `--node NAME`: a name, `name (type)`, a type, or an alias
    (lambda, function, s3/bucket). A function name alone means the function node."""
    wanted = name.strip().lower()
    keys = list(graph.nodes)
    for test in (
        lambda k: label(k).lower() == wanted,
        lambda k: k[0].lower() == wanted,
        lambda k: k[1].lower() == wanted or k[1].lower() == ALIASES.get(wanted, "").lower(),
    ):
        found = sorted((k for k in keys if test(k)), key=_order)
        if len(found) > 1 and all(k[0] == found[0][0] for k in found):
            preferred = [k for k in found if k[1] == "AWS::Lambda::Function"]
            found = preferred or found
        if found:
            return found
    return []


def node_detail(graph: Graph, key: tuple[str, str], window: tuple[Any, Any]) -> NodePanel:
    """One node's panel: stats, histogram, status counts, exceptions."""
    tally = graph.nodes[key]
    http: dict[str, int] = {}
    for sample in tally.samples:
        code = "none" if sample.http_status is None else str(sample.http_status)
        http[code] = http.get(code, 0) + 1
    return NodePanel(
        node=MapNode(key[0], key[1], tally.stats(_minutes(window))),
        histogram=histogram([s.duration_ms for s in tally.samples]),
        statuses=tally.counts(),
        http=dict(sorted(http.items())),
        exceptions=exceptions(tally.samples),
    )


def histogram(values: list[float], bins: int = HISTOGRAM_BINS) -> Histogram:
    """Equal-width bins from the fastest to the slowest response (the console's chart)."""
    if not values:
        return []
    low, high = min(values), max(values)
    width = (high - low) / bins if high > low else 1.0
    count = bins if high > low else 1
    counts = [0] * count
    for value in values:
        counts[min(count - 1, int((value - low) / width))] += 1
    return [
        {
            "from_ms": round(low + i * width, 1),
            "to_ms": round(low + (i + 1) * width, 1) if high > low else round(high, 1),
            "count": counts[i],
        }
        for i in range(count)
    ]


def exceptions(samples: list[Sample]) -> list[ExceptionGroup]:
    """Grouped by (type, message): traces seen, newest trace ids first."""
    groups: dict[tuple[str, str], list[tuple[float, str]]] = {}
    remote: dict[tuple[str, str], bool] = {}
    for sample in samples:
        for etype, message, is_remote in sample.exceptions:
            groups.setdefault((etype, message), []).append((sample.start, sample.trace_id))
            remote.setdefault((etype, message), is_remote)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        ExceptionGroup(
            type=etype,
            message=message,
            remote=remote[(etype, message)],
            count=len(seen),
            trace_ids=[tid for _, tid in sorted(seen, reverse=True)[:MAX_TRACE_IDS]],
        )
        for (etype, message), seen in ordered
    ]
