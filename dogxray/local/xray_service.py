"""X-Ray as the service, for the emulator: what moto's X-Ray lacks (moto answers
GetServiceGraph and GetTraceGraph with an empty graph and returns only the documents it
was sent).

- `BatchGetTraces` adds the inferred segments X-Ray generates for downstream AWS calls:
  one per subsegment with namespace `aws` (`inferred: true`, `parent_id` = the calling
  subsegment, its times, `aws` block, http status, fault/error/throttle and `cause`). An
  S3 call with a bucket is an `AWS::S3::Bucket` named after the bucket (X-Ray since
  2023), a DynamoDB call with a table an `AWS::DynamoDB::Table`, others `AWS::<Service>`.
- `GetServiceGraph` (window, paginated) and `GetTraceGraph` (trace ids, paginated),
  aggregated from the received segments with X-Ray's rules: a node per service name and
  type (segment `name` + `origin`); a `client` node in front of each root service; a
  downstream node per outermost `aws` call (the inferred segment's name and type) and per
  `remote` call (named after the host, type `remote`), unless an instrumented segment
  answered the call (then the edge goes to that service); an edge per caller -> callee.
  Statistics as the API's `ServiceStatistics` / `EdgeStatistics`: a request is a fault
  (`fault` or 5xx), else a throttle (`throttle` or 429), else an error (`error` or 4xx),
  else ok; `TotalResponseTime` and histograms in seconds (`[{Value, Count}]`, millisecond
  bins). `ReferenceId`s are stable for the life of the emulator.

`apply()` / `detach()` install and remove the patches (the emulator's start and stop).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from dogxray.traces import rules
from dogxray.traces.rules import AWS_NAMESPACES

SERVICES_PER_PAGE = 20  # a page of GetServiceGraph / GetTraceGraph (X-Ray pages too)
CLIENT = "client"
_originals: dict[str, Any] = {}
_lock = threading.Lock()
_refs: dict[tuple[str, str], int] = {}  # (name, type) -> ReferenceId, never reused
_cache: dict[tuple[int, str], tuple[int, list[Call]]] = {}  # (backend, trace) -> calls


@dataclass
class Call:
    """One request over an edge: caller -> callee, as X-Ray counts it."""

    source: tuple[str, str]
    target: tuple[str, str]
    start: float
    end: float
    status: str  # ok | error | fault | throttle
    target_is_service: bool  # the callee recorded its own segment
    account: str | None = None


@dataclass
class _Tally:
    start: float = float("inf")
    end: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    times: dict[float, int] = field(default_factory=lambda: defaultdict(int))
    total_time: float = 0.0

    def add(self, call: Call) -> None:
        self.start = min(self.start, call.start)
        self.end = max(self.end, call.end)
        self.counts[call.status] += 1
        seconds = max(call.end - call.start, 0.0)
        self.times[round(seconds, 3)] += 1
        self.total_time += seconds

    def statistics(self) -> dict[str, Any]:
        c = self.counts
        return {
            "OkCount": c["ok"],
            "ErrorStatistics": {
                "ThrottleCount": c["throttle"],
                "OtherCount": c["error"],
                "TotalCount": c["throttle"] + c["error"],
            },
            "FaultStatistics": {"OtherCount": c["fault"], "TotalCount": c["fault"]},
            "TotalCount": sum(c.values()),
            "TotalResponseTime": round(self.total_time, 6),
        }

    def histogram(self) -> list[dict[str, Any]]:
        return [{"Value": v, "Count": n} for v, n in sorted(self.times.items())]


# ---- one trace: its documents -> inferred segments and calls ----------------------


def _status(doc: dict[str, Any]) -> str:
    code = ((doc.get("http") or {}).get("response") or {}).get("status")
    http = int(code) if isinstance(code, int | float) else None
    return rules.status(
        bool(doc.get("fault")), bool(doc.get("error")), bool(doc.get("throttle")), http
    )


def downstream(sub: dict[str, Any]) -> tuple[str, str]:
    """The node an `aws` or `remote` subsegment calls: (name, type)."""
    return rules.downstream(sub.get("namespace"), str(sub.get("name") or "?"), sub.get("aws") or {})


def _inferred_id(trace_id: str, sub_id: str) -> str:
    return hashlib.sha1(f"{trace_id}/{sub_id}".encode()).hexdigest()[:16]


def inferred_segment(trace_id: str, sub: dict[str, Any]) -> dict[str, Any]:
    """The segment X-Ray infers for the AWS service an `aws` subsegment called."""
    name, origin = downstream(sub)
    doc: dict[str, Any] = {
        "id": _inferred_id(trace_id, str(sub.get("id"))),
        "name": name,
        "start_time": sub.get("start_time"),
        "trace_id": trace_id,
        "end_time": sub.get("end_time"),
        "parent_id": sub.get("id"),
        "inferred": True,
        "origin": origin,
    }
    if sub.get("aws"):
        doc["aws"] = sub["aws"]
    status = ((sub.get("http") or {}).get("response") or {}).get("status")
    if status is not None:
        doc["http"] = {"response": {"status": status}}
    for flag in ("error", "throttle", "fault"):
        if sub.get(flag):
            doc[flag] = True
    cause = sub.get("cause")
    if isinstance(cause, dict) and cause.get("exceptions"):
        doc["cause"] = {
            "exceptions": [
                {k: e[k] for k in ("id", "message", "type", "remote") if k in e}
                for e in cause["exceptions"]
            ]
        }
    return doc


@dataclass
class _Doc:
    doc: dict[str, Any]
    parent_id: str | None
    is_segment: bool
    children: list[_Doc] = field(default_factory=list)


def _index(documents: list[dict[str, Any]]) -> tuple[list[_Doc], dict[str, _Doc]]:
    """Every segment and subsegment by id (embedded or sent separately), linked."""
    by_id: dict[str, _Doc] = {}
    segments: list[_Doc] = []

    def collect(doc: dict[str, Any], parent_id: str | None, is_segment: bool) -> None:
        node = _Doc(doc, parent_id, is_segment)
        known = by_id.get(str(doc.get("id")))
        if known is None or (known.doc.get("end_time") is None and doc.get("end_time")):
            by_id[str(doc.get("id"))] = node
        for sub in doc.get("subsegments") or []:
            collect(sub, node.doc.get("id"), False)

    for doc in documents:
        if doc.get("inferred"):
            continue
        collect(doc, doc.get("parent_id"), doc.get("type") != "subsegment")
    for node in by_id.values():
        parent = by_id.get(node.parent_id) if node.parent_id else None
        if parent is not None and parent is not node:
            parent.children.append(node)
        if node.is_segment:
            segments.append(node)
    return segments, by_id


def _owner(node: _Doc | None, by_id: dict[str, _Doc]) -> _Doc | None:
    """The segment a (sub)segment belongs to."""
    seen = 0
    while node is not None and not node.is_segment and seen < 1000:
        node = by_id.get(node.parent_id) if node.parent_id else None
        seen += 1
    return node


def _key(segment: dict[str, Any]) -> tuple[str, str]:
    return (str(segment.get("name") or "?"), str(segment.get("origin") or ""))


def _account(segment: dict[str, Any]) -> str | None:
    account = (segment.get("aws") or {}).get("account_id")
    if account:
        return str(account)
    arn = str(segment.get("resource_arn") or "").split(":")
    return arn[4] if len(arn) > 4 and arn[4] else None


def trace_calls(trace_id: str, documents: list[dict[str, Any]]) -> list[Call]:
    """The requests one trace made: client -> roots, service -> service, service ->
    downstream (outermost aws/remote calls)."""
    segments, by_id = _index(documents)
    calls: list[Call] = []
    for node in segments:
        seg = node.doc
        if seg.get("end_time") is None:
            continue
        key = _key(seg)
        parent = _owner(by_id.get(node.parent_id), by_id) if node.parent_id else None
        source = _key(parent.doc) if parent is not None else (key[0], CLIENT)
        calls.append(
            Call(source, key, seg["start_time"], seg["end_time"], _status(seg), True, _account(seg))
        )
        stack = list(node.children)
        while stack:
            child = stack.pop()
            if child.is_segment:
                continue  # its own service: counted from its segment
            sub = child.doc
            if sub.get("namespace") in AWS_NAMESPACES:
                answered = any(c.is_segment for c in child.children)
                if not answered and sub.get("end_time") is not None:
                    calls.append(
                        Call(
                            key,
                            downstream(sub),
                            float(sub.get("start_time") or 0.0),
                            float(sub["end_time"]),
                            _status(sub),
                            False,
                        )
                    )
                continue
            stack.extend(child.children)
    return calls


def inferred_segments(trace_id: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inferred segments X-Ray adds to a trace (outermost `aws` calls not answered by
    an instrumented segment)."""
    _, by_id = _index(documents)
    sent = {str(d.get("parent_id")) for d in documents if d.get("inferred")}
    result = []
    for node in by_id.values():
        sub = node.doc
        if node.is_segment or sub.get("namespace") != "aws" or sub.get("end_time") is None:
            continue
        if any(c.is_segment for c in node.children) or str(sub.get("id")) in sent:
            continue  # answered by an instrumented service, or already inferred
        ancestor = by_id.get(node.parent_id) if node.parent_id else None
        nested = False
        while ancestor is not None and not ancestor.is_segment:
            nested = nested or ancestor.doc.get("namespace") in AWS_NAMESPACES
            ancestor = by_id.get(ancestor.parent_id) if ancestor.parent_id else None
        if not nested:
            result.append(inferred_segment(trace_id, sub))
    return result


# ---- the graph ----------------------------------------------------------------------


def _stored(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """A trace's documents from moto's parsed segments (no second JSON parse)."""
    return [
        {
            **segment.misc,
            "id": segment.id,
            "name": segment.name,
            "trace_id": segment.trace_id,
            "start_time": segment.start_time,
            "end_time": segment.end_time,
            "parent_id": segment.parent_id,
            "origin": segment.origin,
            "http": segment.http,
            "aws": segment.aws,
            "subsegments": segment.subsegments,
        }
        for segment in list(trace["segments"])
    ]


def _calls_of(backend: Any, trace_id: str, trace: dict[str, Any]) -> list[Call]:
    """A trace's calls, cached until another of its documents arrives."""
    key = (id(backend), trace_id)
    count = len(trace["segments"])
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == count:
        return cached[1]
    calls = trace_calls(trace_id, _stored(trace))
    with _lock:
        _cache[key] = (count, calls)
    return calls


def forget(backend: Any, trace_ids: list[str]) -> None:
    """The traces are gone from `backend` (retention): drop their cached calls."""
    with _lock:
        for trace_id in trace_ids:
            _cache.pop((id(backend), trace_id), None)


def _ref(key: tuple[str, str]) -> int:
    with _lock:
        if key not in _refs:
            _refs[key] = len(_refs)
        return _refs[key]


def service_graph(calls: list[Call]) -> list[dict[str, Any]]:
    """X-Ray's `Services` (each with its `Edges`) from the calls, ordered by ReferenceId."""
    nodes: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    durations: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    edges: dict[tuple[str, str], dict[tuple[str, str], _Tally]] = defaultdict(
        lambda: defaultdict(_Tally)
    )
    active: set[tuple[str, str]] = set()
    roots: set[tuple[str, str]] = set()
    accounts: dict[tuple[str, str], str] = {}
    clients: set[tuple[str, str]] = set()
    for call in calls:
        nodes[call.target].add(call)
        durations[call.target].add(call)
        edges[call.source][call.target].add(call)
        if call.target_is_service:
            active.add(call.target)
        if call.account:
            accounts[call.target] = call.account
        if call.source[1] == CLIENT:
            roots.add(call.target)
            clients.add(call.source)
    for client in clients:
        tally = nodes[client]
        for edge in edges[client].values():
            tally.start, tally.end = min(tally.start, edge.start), max(tally.end, edge.end)
    services = []
    for key in sorted(nodes, key=_ref):
        tally = nodes[key]
        service: dict[str, Any] = {
            "ReferenceId": _ref(key),
            "Name": key[0],
            "Names": [key[0]],
        }
        if key in roots:
            service["Root"] = True
        if key in accounts:
            service["AccountId"] = accounts[key]
        if key[1]:
            service["Type"] = key[1]
        service["State"] = "active" if key in active else "unknown"
        service["StartTime"] = tally.start
        service["EndTime"] = tally.end
        service["Edges"] = [
            {
                "ReferenceId": _ref(target),
                "StartTime": edge.start,
                "EndTime": edge.end,
                "SummaryStatistics": edge.statistics(),
                "ResponseTimeHistogram": edge.histogram(),
                "Aliases": [],
            }
            for target, edge in sorted(edges[key].items(), key=lambda item: _ref(item[0]))
        ]
        if key not in clients:
            service["SummaryStatistics"] = tally.statistics()
            service["DurationHistogram"] = durations[key].histogram()
            service["ResponseTimeHistogram"] = tally.histogram()
        services.append(service)
    return services


def _page(
    services: list[dict[str, Any]], token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    offset = 0
    if token:
        try:
            offset = int(json.loads(base64.b64decode(token))["offset"])
        except (ValueError, KeyError, TypeError):
            raise _invalid("the NextToken is not valid") from None
    end = offset + SERVICES_PER_PAGE
    more = end < len(services)
    next_token = base64.b64encode(json.dumps({"offset": end}).encode()).decode() if more else None
    return services[offset:end], next_token


def _invalid(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("InvalidRequestException", message)


def _epoch(value: Any) -> float:
    """A request timestamp: the JSON protocol sends epoch seconds."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _invalid(f"not a timestamp: {value!r}") from None


def get_service_graph(response: Any) -> str:
    params = response.request_params
    if params.get("StartTime") is None or params.get("EndTime") is None:
        raise _invalid("StartTime and EndTime are required")
    start, end = _epoch(params["StartTime"]), _epoch(params["EndTime"])
    if end < start:
        raise _invalid("EndTime is before StartTime")
    backend = response.xray_backend
    calls: list[Call] = []
    for trace_id, trace in list(backend._segment_collection._traces.items()):
        calls.extend(c for c in _calls_of(backend, trace_id, trace) if start <= c.start <= end)
    services, token = _page(service_graph(calls), params.get("NextToken"))
    result: dict[str, Any] = {"StartTime": start, "EndTime": end, "Services": services}
    result["ContainsOldGroupVersions"] = False
    if token:
        result["NextToken"] = token
    return json.dumps(result)


def get_trace_graph(response: Any) -> str:
    params = response.request_params
    trace_ids = params.get("TraceIds")
    if not isinstance(trace_ids, list):
        raise _invalid("TraceIds is required")
    backend = response.xray_backend
    traces = backend._segment_collection._traces
    calls = []
    for trace_id in dict.fromkeys(trace_ids):
        if trace_id in traces:  # a defaultdict: do not create empty traces
            calls.extend(_calls_of(backend, trace_id, traces[trace_id]))
    services, token = _page(service_graph(calls), params.get("NextToken"))
    result: dict[str, Any] = {"Services": services}
    if token:
        result["NextToken"] = token
    return json.dumps(result)


def _with_inferred(backend: Any, trace_ids: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = _originals["get_trace_ids"](backend, trace_ids)
    for trace in result["Traces"]:
        documents = [json.loads(s["Document"]) for s in trace["Segments"]]
        for doc in inferred_segments(trace["Id"], documents):
            trace["Segments"].append({"Id": doc["id"], "Document": json.dumps(doc)})
    return result


def apply() -> None:
    """Install the patches on moto's X-Ray (idempotent)."""
    from moto.xray.models import XRayBackend
    from moto.xray.responses import XRayResponse

    if _originals:
        return
    _originals["service_graph"] = XRayResponse.service_graph
    _originals["trace_graph"] = XRayResponse.trace_graph
    _originals["get_trace_ids"] = XRayBackend.get_trace_ids
    XRayResponse.service_graph = get_service_graph  # type: ignore[method-assign,assignment]
    XRayResponse.trace_graph = get_trace_graph  # type: ignore[method-assign,assignment]
    XRayBackend.get_trace_ids = _with_inferred  # type: ignore[method-assign,assignment]


def detach() -> None:
    """moto's own X-Ray again (the emulator stopped)."""
    from moto.xray.models import XRayBackend
    from moto.xray.responses import XRayResponse

    if not _originals:
        return
    XRayResponse.service_graph = _originals.pop("service_graph")  # type: ignore[method-assign]
    XRayResponse.trace_graph = _originals.pop("trace_graph")  # type: ignore[method-assign]
    XRayBackend.get_trace_ids = _originals.pop("get_trace_ids")  # type: ignore[method-assign]
    with _lock:
        _cache.clear()
        _refs.clear()
