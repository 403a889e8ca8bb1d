"""What `dogxray map` calls: the lab's traces in a window -> the service graph.

The map comes from X-Ray's GetServiceGraph (`service_graph.py`: paginated, scoped to what
connects to the function) wherever it has the function: AWS, and an emulator that
implements it. Otherwise (moto's empty graph, no such API, access denied) it is built
from the trace trees: the trace fetcher as `traces` uses it (summaries scoped to the
function, documents in batches of 5).
`--node` always uses the traces: the exceptions and the histogram need them.

Every figure is the lab's own: from the traces they are by construction (only the
function's traces are read); from the service graph, `service_graph.Scope` takes a
downstream node's figures from the lab's edges into it. A node other callers use too is
marked `shared` (with X-Ray's figures for every caller as `all_callers`) wherever the
service graph answers: the map, `--node`'s panel and the report's map (`mark_shared`).
"""

from __future__ import annotations

from typing import Any

from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.core.window import parse_since
from dogxray.traces.collect import Collected
from dogxray.traces.fetch import Progress, Warn
from dogxray.traces.graph import Graph, find_node, graph_json, label, node_detail
from dogxray.traces.service_graph import Service
from dogxray.traces.service_map import MapNode, NodePanel, ServiceMap


def build_graph(
    aws: Aws,
    settings: Settings,
    window: tuple[Any, Any],
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> Graph:
    graph = Graph()
    for trace in Collected(aws, settings, window, progress, warn=warn):
        graph.add(trace)
    return graph


def service_map(
    aws: Aws,
    settings: Settings,
    *,
    since: str = "10m",
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> ServiceMap:
    """The map (nodes, edges, statistics); a note when it is empty. From
    GetServiceGraph (one or a few calls); from the traces when the endpoint's graph has
    nothing of the function (moto answers an empty graph), lacks the API, or the
    identity may not read it."""
    window = parse_since(since)
    result = _from_service_graph(aws, settings, window)
    if result is not None:
        return result
    graph = build_graph(aws, settings, window, progress, warn)
    found = graph_json(graph, window)
    if not graph.traces:
        from dogxray.traces.service import why_empty

        found.note = why_empty(aws, settings, since, False)
    return found


def _services(aws: Aws, window: tuple[Any, Any]) -> list[Service] | None:
    """GetServiceGraph's services of the window; None where the endpoint lacks the API or
    the identity may not read it."""
    from dogxray.core.aws import ClientError, error_code
    from dogxray.traces import service_graph
    from dogxray.traces.fetch import DENIED_CODES, NOT_IMPLEMENTED_CODES

    try:
        return service_graph.fetch(aws.client("xray"), window[0], window[1])
    except ClientError as exc:
        if error_code(exc) in NOT_IMPLEMENTED_CODES + DENIED_CODES:
            return None
        raise


def _from_service_graph(aws: Aws, settings: Settings, window: tuple[Any, Any]) -> ServiceMap | None:
    from dogxray.traces import service_graph

    services = _services(aws, window)
    if services is None:
        return None
    result = service_graph.map_document(services, settings.function_name, window)
    return result if result.nodes else None


def mark_shared(
    aws: Aws, settings: Settings, window: tuple[Any, Any], doc: ServiceMap | MapNode
) -> None:
    """Mark the nodes of a document built from the lab's traces (a map, or a panel's
    `node`) that other callers use too, from the service graph where it answers; where
    it does not (any X-Ray error: the figures are the traces' anyway), `shared` stays
    None, unknown."""
    from dogxray.core.aws import ClientError
    from dogxray.traces import service_graph

    try:
        services = _services(aws, window)
    except ClientError:
        return
    if services:
        minutes = max((window[1] - window[0]).total_seconds() / 60.0, 0.0)
        service_graph.mark_shared(doc, services, settings.function_name, minutes)


def node_panel(
    aws: Aws,
    settings: Settings,
    name: str,
    *,
    since: str = "10m",
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> NodePanel:
    """`map --node NAME`: the console's side panel for one node."""
    window = parse_since(since)
    graph = build_graph(aws, settings, window, progress, warn)
    found = find_node(graph, name)
    if not found:
        known = ", ".join(label(k) for k in graph.nodes) or "none (no traces in the window)"
        raise DogxrayError(
            f"no node {name!r} in the map of the last {since}",
            where=f"nodes: {known}",
            hint=f"use a node name from `{settings.command('map')}`, or lambda, function, s3",
        )
    if len(found) > 1:
        raise DogxrayError.usage(
            f"--node {name!r} matches {len(found)} nodes: " + ", ".join(label(k) for k in found),
            hint="use the full label, e.g. --node 'NAME (TYPE)'",
        )
    detail = node_detail(graph, found[0], window)
    mark_shared(aws, settings, window, detail.node)
    return detail
