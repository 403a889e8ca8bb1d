"""X-Ray as the service, for the emulator: what moto's X-Ray lacks (moto answers
GetServiceGraph and GetTraceGraph with an empty graph and returns only the documents it
was sent).

- `BatchGetTraces` adds the inferred segments X-Ray generates for downstream AWS calls:
  one per subsegment with namespace `aws` (`inferred: true`, `parent_id` = the calling
  subsegment, its times, `aws` block, its whole `http` block and fault/error/throttle;
  the exception stays on the caller's subsegment). An
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

They are answered in front of moto (`local/front.py`): the window's traces and their
documents straight from the X-Ray backend's trace store (the field retention prunes),
selected as moto's GetTraceSummaries selects them (`window`), without its summaries
or its `get_trace_ids` (which copies the store's keys and searches that list for each
id, quadratic over a full store); each trace parsed once until another of its
documents arrives. BatchGetTraces is answered the same way, with
X-Ray's inferred segments added.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dogxray.local.wsgi import Reply, Request, State
from dogxray.traces import rules
from dogxray.traces.rules import AWS_NAMESPACES

LONGEST_S = 15 * 60  # Lambda's longest run: a trace that began before a window
SERVICES_PER_PAGE = 20  # a page of GetServiceGraph / GetTraceGraph (X-Ray pages too)
CLIENT = "client"
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
    if isinstance(sub.get("http"), dict):
        doc["http"] = json.loads(json.dumps(sub["http"]))  # the whole block, a copy
    for flag in ("error", "throttle", "fault"):
        if sub.get(flag):
            doc[flag] = True
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


def _stored(backend: Any, trace_ids: list[str]) -> list[tuple[str, list[Any]]]:
    """moto's stored traces among `trace_ids`, in order (a dict lookup each), with their
    segments. Keyed by the id asked for: moto names a trace only once it is finished."""
    store = backend._segment_collection._traces  # a defaultdict: `in` adds nothing
    return [(t, store[t]["segments"]) for t in dict.fromkeys(trace_ids) if t in store]


def documents(backend: Any, trace_ids: list[str]) -> dict[str, list[str]]:
    """The raw documents of the traces X-Ray holds among `trace_ids` (BatchGetTraces)."""
    return {t: [s.raw for s in segments] for t, segments in _stored(backend, trace_ids)}


def _duration(documents: list[dict[str, Any]]) -> float | None:
    """`Trace.Duration`: seconds from the root segment's start to the last end."""
    starts = [float(d["start_time"]) for d in documents if d.get("start_time") is not None]
    roots = [
        float(d["start_time"])
        for d in documents
        if not d.get("parent_id") and d.get("start_time") is not None
    ]
    ends = [float(d["end_time"]) for d in documents if d.get("end_time") is not None]
    if not starts or not ends:
        return None
    return round(max(ends) - min(roots or starts), 3)


def batch_get_traces(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    """BatchGetTraces: each trace's stored documents plus X-Ray's inferred segments;
    the ids X-Ray does not hold as `UnprocessedTraceIds`."""
    ids = params.get("TraceIds")
    if not isinstance(ids, list) or not all(isinstance(t, str) for t in ids):
        raise Invalid("TraceIds must be a list of trace ids")
    traces = []
    for trace_id, stored in _stored(backend, ids):
        segments = [{"Id": s.id, "Document": s.raw} for s in stored]
        parsed = [json.loads(s.raw) for s in stored]
        for inferred in inferred_segments(trace_id, parsed):
            segments.append({"Id": inferred["id"], "Document": json.dumps(inferred)})
        traces.append({"Id": trace_id, "Duration": _duration(parsed), "Segments": segments})
    found = {t["Id"] for t in traces}
    return {"Traces": traces, "UnprocessedTraceIds": [t for t in ids if t not in found]}


def moto_time(epoch: float) -> Any:
    """An epoch time as moto's X-Ray dates segments (a naive local datetime)."""
    from datetime import datetime

    return datetime.fromtimestamp(min(max(epoch, 0.0), 32503680000.0))


def window(backend: Any, start: float, end: float) -> list[tuple[str, list[Any]]]:
    """The traces moto's GetTraceSummaries selects for [start, end] (finished, begun
    after `start` and ended before `end`), with their stored segments; read from its
    store, as moto's summaries (built for every trace of the window, then dropped) cost
    most of a 1,000-trace GetTraceSummaries."""
    low, high = moto_time(start), moto_time(end)
    return [
        (trace_id, trace["segments"])
        for trace_id, trace in list(backend._segment_collection._traces.items())
        if trace["finished"] and low < trace["start_date"] and trace["end_date"] < high
    ]


def _in_window(backend: Any, start: float, end: float) -> list[tuple[str, list[Any]]]:
    """The traces that may have a call in [start, end] (the window widened by Lambda's
    longest run, so a trace that began before it is not missed), with their segments."""
    return window(backend, start - LONGEST_S, end + LONGEST_S)


def _calls(backend: Any, traces: list[tuple[str, list[Any]]]) -> list[Call]:
    """The calls of the traces, each parsed once until another of its documents arrives
    (a cached trace's documents are not touched)."""
    result: list[Call] = []
    for trace_id, segments in traces:
        key = (id(backend), trace_id)
        with _lock:
            cached = _cache.get(key)
        if cached is None or cached[0] != len(segments):
            docs = [json.loads(segment.raw) for segment in segments]
            cached = (len(segments), trace_calls(trace_id, docs))
            with _lock:
                _cache[key] = cached
        result.extend(cached[1])
    return result


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
            raise Invalid("the NextToken is not valid") from None
    end = offset + SERVICES_PER_PAGE
    more = end < len(services)
    next_token = base64.b64encode(json.dumps({"offset": end}).encode()).decode() if more else None
    return services[offset:end], next_token


class Invalid(Exception):
    """X-Ray's answer to a request it cannot serve (HTTP 400)."""

    kind = "InvalidRequestException"


def _epoch(value: Any) -> float:
    """A request timestamp: the JSON protocol sends epoch seconds."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Invalid(f"not a timestamp: {value!r}") from None


def _backend(req: Request) -> Any:
    from moto.xray.models import xray_backends

    scope = req.scope()
    if scope is None:
        raise Invalid("the request is not signed")
    return xray_backends[scope[0]][scope[1]]


def answer(req: Request, answer: Any, encode: Callable[[Any], bytes] | None = None) -> Reply:
    """`answer(backend, params)` as the JSON reply (`encode`: how, else `json.dumps`);
    X-Ray's error for a bad request."""
    params = req.document()
    try:
        if not isinstance(params, dict):
            raise Invalid("the request body is not a JSON object")
        return Reply.json(answer(_backend(req), params), encode=encode)
    except Invalid as exc:
        return Reply.error(400, exc.kind, str(exc))


def service_graph_api(state: State, req: Request) -> Reply:
    """GetServiceGraph (POST /ServiceGraph)."""
    return answer(req, get_service_graph) if state.graph else req.forward()


def trace_graph_api(state: State, req: Request) -> Reply:
    """GetTraceGraph (POST /TraceGraph)."""
    return answer(req, get_trace_graph) if state.graph else req.forward()


def batch_get_traces_api(state: State, req: Request) -> Reply:
    """BatchGetTraces (POST /Traces)."""
    return answer(req, batch_get_traces)


def get_service_graph(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("StartTime") is None or params.get("EndTime") is None:
        raise Invalid("StartTime and EndTime are required")
    start, end = _epoch(params["StartTime"]), _epoch(params["EndTime"])
    if end < start:
        raise Invalid("EndTime is before StartTime")
    calls = [c for c in _calls(backend, _in_window(backend, start, end)) if start <= c.start <= end]
    services, token = _page(service_graph(calls), params.get("NextToken"))
    result: dict[str, Any] = {"StartTime": start, "EndTime": end, "Services": services}
    result["ContainsOldGroupVersions"] = False
    if token:
        result["NextToken"] = token
    return result


def get_trace_graph(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    trace_ids = params.get("TraceIds")
    if not isinstance(trace_ids, list):
        raise Invalid("TraceIds is required")
    calls = _calls(backend, _stored(backend, [str(t) for t in trace_ids]))
    services, token = _page(service_graph(calls), params.get("NextToken"))
    result: dict[str, Any] = {"Services": services}
    if token:
        result["NextToken"] = token
    return result


def reset() -> None:
    """Forget every cached trace and ReferenceId (the emulator stopped)."""
    with _lock:
        _cache.clear()
        _refs.clear()
