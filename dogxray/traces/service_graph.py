"""The map from X-Ray's own `GetServiceGraph` (real AWS): paginated, scoped to what the
lab's function connects to, converted to the `map` document that `graph.graph_json`
builds from traces (same keys, so text, JSON and Mermaid do not care which source).

Scope: the function's services (`AWS::Lambda`, `AWS::Lambda::Function` named after it)
and everything downstream of them along the graph's edges; a `client` node in front of
the root ones (X-Ray draws the client; the API lists it only sometimes). Statistics:
`SummaryStatistics` (counts; `TotalResponseTime` in seconds) and `ResponseTimeHistogram`
(`Value` in seconds, `Count`) for the percentiles, with the project's nearest-rank rule.

The lab's own figures: X-Ray's node statistics are account-wide (a bucket another lab's
function also writes to counts both labs' requests), so a node downstream of the
function gets the sum of its in-scope incoming edges instead: what the lab sent it, the
figures its edges and `map --node` (from the lab's traces) show. A node that others call
too (an edge from outside the scope, or more requests than the lab's edges carry) is
`shared`, with X-Ray's own figures as `all_callers`; so is a node reached only through
a shared one (the edges beyond it cannot tell the lab's calls from the others').
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from dogxray.core.window import iso
from dogxray.traces.service_map import MapEdge, MapNode, ServiceMap, Stats

# X-Ray's `Services` (and an edge's statistics) as GetServiceGraph answers them
Service = dict[str, Any]

FUNCTION_TYPES = ("AWS::Lambda", "AWS::Lambda::Function")


def fetch(client: Any, start: datetime, end: datetime) -> list[Service]:
    """Every service of the window, over all pages (a service split across pages keeps
    its first copy, with the edges of all copies)."""
    params: dict[str, Any] = {
        "StartTime": start.astimezone(timezone.utc),
        "EndTime": end.astimezone(timezone.utc),
    }
    services: dict[int, dict[str, Any]] = {}
    while True:
        page = client.get_service_graph(**params)
        for service in page.get("Services") or []:
            known = services.get(service["ReferenceId"])
            if known is None:
                services[service["ReferenceId"]] = {
                    **service,
                    "Edges": list(service.get("Edges") or []),
                }
            else:
                known["Edges"].extend(service.get("Edges") or [])
        token = page.get("NextToken")
        if not token or token == params.get("NextToken"):
            return list(services.values())
        params["NextToken"] = token


def _times(histogram: Iterable[dict[str, Any]]) -> list[float]:
    values: list[float] = []
    for entry in histogram:
        values.extend(
            [round(float(entry.get("Value", 0.0)) * 1000.0, 1)] * int(entry.get("Count", 0))
        )
    return sorted(values)


def stats(summary: dict[str, Any] | None, histogram: Any, minutes: float) -> Stats:
    """X-Ray's SummaryStatistics + ResponseTimeHistogram -> the `map` statistics."""
    summary = summary or {}
    errors = summary.get("ErrorStatistics") or {}
    faults = summary.get("FaultStatistics") or {}
    counts = {
        "ok": int(summary.get("OkCount") or 0),
        "error": int(errors.get("OtherCount") or 0),
        "fault": int(faults.get("TotalCount") or 0),
        "throttle": int(errors.get("ThrottleCount") or 0),
    }
    total = int(summary.get("TotalCount") or sum(counts.values()))
    seconds = summary.get("TotalResponseTime")
    avg = round(float(seconds) * 1000.0 / total, 1) if total and seconds is not None else None
    return Stats.of(counts, _times(histogram or []), minutes, total=total, avg_ms=avg)


def _sum(parts: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Summary statistics and histogram of several services or edges added up."""
    total: dict[str, Any] = {
        "OkCount": 0,
        "ErrorStatistics": {"ThrottleCount": 0, "OtherCount": 0},
        "FaultStatistics": {"TotalCount": 0},
        "TotalCount": 0,
        "TotalResponseTime": 0.0,
    }
    histogram: list[dict[str, Any]] = []
    for part in parts:
        summary = part.get("SummaryStatistics") or {}
        total["OkCount"] += int(summary.get("OkCount") or 0)
        for group, key in (
            ("ErrorStatistics", "ThrottleCount"),
            ("ErrorStatistics", "OtherCount"),
            ("FaultStatistics", "TotalCount"),
        ):
            total[group][key] += int((summary.get(group) or {}).get(key) or 0)
        total["TotalCount"] += int(summary.get("TotalCount") or 0)
        total["TotalResponseTime"] += float(summary.get("TotalResponseTime") or 0.0)
        histogram.extend(part.get("ResponseTimeHistogram") or [])
    return total, histogram


def _is_function(service: dict[str, Any], function: str) -> bool:
    names = {service.get("Name"), *(service.get("Names") or [])}
    return service.get("Type") in FUNCTION_TYPES and function in names


def _rank(service: dict[str, Any]) -> tuple[int, str, str]:
    kind = str(service.get("Type") or "")
    rank = {"client": 0, "AWS::Lambda": 1, "AWS::Lambda::Function": 2}.get(kind, 3)
    return (rank, kind, str(service.get("Name") or ""))


class Scope:
    """The lab's part of the graph: its function's services, what is downstream of them,
    the lab's figures of each and which nodes others call too."""

    def __init__(self, services: list[dict[str, Any]], function: str) -> None:
        self.by_ref = {s["ReferenceId"]: s for s in services}
        self.ours = {s["ReferenceId"] for s in services if _is_function(s, function)}
        self.keep, stack = set(self.ours), list(self.ours)
        while stack:  # everything downstream of the function
            for edge in self.by_ref[stack.pop()].get("Edges") or []:
                target = edge.get("ReferenceId")
                if target in self.by_ref and target not in self.keep:
                    self.keep.add(target)
                    stack.append(target)
        self.incoming: dict[Any, list[dict[str, Any]]] = {r: [] for r in self.keep}
        self.callers: dict[Any, set[Any]] = {r: set() for r in self.keep}
        for service in services:
            for edge in service.get("Edges") or []:
                target = edge.get("ReferenceId")
                if target in self.keep:
                    self.callers[target].add(service["ReferenceId"])
                    if service["ReferenceId"] in self.keep:
                        self.incoming[target].append(edge)
        self.shared = self._shared()

    def _shared(self) -> set[Any]:
        shared: set[Any] = set()
        for ref in self.keep - self.ours:
            outside = {c for c in self.callers[ref] if c not in self.keep}
            sent = _sum(self.incoming[ref])[0]["TotalCount"]
            total = int((self.by_ref[ref].get("SummaryStatistics") or {}).get("TotalCount") or 0)
            if self.incoming[ref] and (outside or total > sent):
                shared.add(ref)
        changed = True
        while changed:  # what is reached only through a shared node is shared too
            changed = False
            for ref in self.keep - self.ours - shared:
                if any(c in shared for c in self.callers[ref] if c in self.keep):
                    shared.add(ref)
                    changed = True
        return shared

    def stats(self, ref: Any, minutes: float) -> Stats:
        """The lab's figures of a node: its own (the function's services, a root) or the
        sum of the lab's edges into it."""
        service = self.by_ref[ref]
        if ref in self.ours or not self.incoming[ref]:
            return stats(
                service.get("SummaryStatistics"), service.get("ResponseTimeHistogram"), minutes
            )
        return stats(*_sum(self.incoming[ref]), minutes)

    def all_callers(self, ref: Any, minutes: float) -> Stats | None:
        """X-Ray's own figures of a shared node (every caller's requests), else None."""
        if ref not in self.shared:
            return None
        service = self.by_ref[ref]
        return stats(
            service.get("SummaryStatistics"), service.get("ResponseTimeHistogram"), minutes
        )

    def key(self, ref: Any) -> tuple[str, str]:
        service = self.by_ref[ref]
        return (str(service.get("Name")), str(service.get("Type") or "remote"))


def map_document(
    services: list[Service], function: str, window: tuple[datetime, datetime]
) -> ServiceMap:
    """The lab's part of the service graph as the map."""
    minutes = max((window[1] - window[0]).total_seconds() / 60.0, 0.0)
    scope = Scope(services, function)
    by_ref, keep = scope.by_ref, scope.keep
    targets = {e.get("ReferenceId") for r in keep for e in by_ref[r].get("Edges") or []}
    roots = sorted((r for r in keep if r not in targets), key=lambda r: _rank(by_ref[r]))
    chosen = sorted((by_ref[r] for r in keep), key=_rank)
    nodes: list[MapNode] = []
    ids: dict[Any, int] = {}
    client_edges: dict[Any, dict[str, Any]] = {}  # X-Ray may list a client per root
    for client in (s for s in services if s.get("Type") == "client"):
        for edge in client.get("Edges") or []:
            client_edges.setdefault(edge.get("ReferenceId"), edge)
    into_roots = [client_edges.get(r) or by_ref[r] for r in roots]  # what the client saw
    if roots:
        nodes.append(MapNode("client", "client", stats(*_sum(into_roots), minutes), 0, False))
    for service in chosen:
        ref = service["ReferenceId"]
        ids[ref] = len(nodes)
        name, kind = scope.key(ref)
        nodes.append(
            MapNode(
                name,
                kind,
                scope.stats(ref, minutes),
                id=len(nodes),
                shared=ref in scope.shared,
                all_callers=scope.all_callers(ref, minutes),
            )
        )

    def edge_stats(part: dict[str, Any]) -> Stats:
        return stats(part.get("SummaryStatistics"), part.get("ResponseTimeHistogram"), minutes)

    # the client calls the roots; then every edge between kept services
    edges = [
        MapEdge(0, ids[root], edge_stats(s)) for root, s in zip(roots, into_roots, strict=True)
    ]
    for service in chosen:
        for edge in service.get("Edges") or []:
            if edge.get("ReferenceId") in ids:
                edges.append(
                    MapEdge(ids[service["ReferenceId"]], ids[edge["ReferenceId"]], edge_stats(edge))
                )
    edges.sort(key=lambda e: (e.source, e.target))
    return ServiceMap(
        start=iso(window[0]),
        end=iso(window[1]),
        minutes=round(minutes, 2),
        source="service-graph",
        traces=None,
        nodes=nodes,
        edges=edges,
    )


def mark_shared(
    doc: ServiceMap | MapNode, services: list[Service], function: str, minutes: float
) -> None:
    """Set `shared` and `all_callers` of a map built from the lab's traces (or of one
    node panel's node) from the service graph; the figures stay the traces'."""
    scope = Scope(services, function)
    if not scope.ours:
        return  # the graph has nothing of the function: who else calls is unknown
    refs = {scope.key(r): r for r in scope.keep}
    for node in doc.nodes if isinstance(doc, ServiceMap) else [doc]:
        ref = refs.get(node.key)
        node.shared = ref is not None and ref in scope.shared
        node.all_callers = None if ref is None else scope.all_callers(ref, minutes)
