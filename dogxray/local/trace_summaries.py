"""GetTraceSummaries as X-Ray answers it, for the emulator: moto's summaries carry only
the id and the flags (an integer Duration, ResponseTime 1, no StartTime, Http,
ServiceIds, EntryPoint, annotations or root causes), and moto refuses every
FilterExpression with InternalFailure.

`summarize(trace_id, documents)` computes a summary from a trace's stored segment
documents (X-Ray's inferred segments included): start, duration, the entry segment's
response time and HTTP block, the flags, the services, the function ARNs, the
annotations with the services that recorded them, and the fault and error root causes
(the deepest failing entity of each failing service, with its exceptions).
`FilterExpression` parses and evaluates the subset of X-Ray's filter expression language
that dogxray uses or documents; anything else is refused with InvalidRequestException,
never silently ignored. docs/fidelity.md cites the API reference and the filter guide.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Summary = dict[str, Any]
Predicate = Callable[[Summary], bool]


class InvalidFilter(Exception):
    """A filter expression outside the subset the emulator evaluates."""


# ---- summaries ------------------------------------------------------------------------


def _service(doc: dict[str, Any]) -> dict[str, Any]:
    name = str(doc.get("name"))
    found: dict[str, Any] = {"Name": name, "Names": [name]}
    if doc.get("origin"):
        found["Type"] = doc["origin"]
    account = (doc.get("aws") or {}).get("account_id")
    if account:
        found["AccountId"] = str(account)
    return found


def _flat(documents: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str | None, bool]]:
    """Every segment and subsegment: (document, parent id, is a segment)."""
    out: list[tuple[dict[str, Any], str | None, bool]] = []

    def walk(doc: dict[str, Any], parent: str | None, segment: bool) -> None:
        out.append((doc, parent, segment))
        for sub in doc.get("subsegments") or []:
            walk(sub, str(doc.get("id")), False)

    for doc in documents:
        is_segment = doc.get("type") != "subsegment"
        walk(doc, doc.get("parent_id"), is_segment)
    return out


def _annotation(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BooleanValue": value}
    if isinstance(value, int | float):
        return {"NumberValue": float(value)}
    return {"StringValue": str(value)}


def summarize(trace_id: str, documents: list[dict[str, Any]]) -> Summary:
    """X-Ray's TraceSummary of a trace (its documents as BatchGetTraces returns them)."""
    nodes = _flat(documents)
    by_id = {str(d.get("id")): (d, parent, seg) for d, parent, seg in nodes}
    segments = [d for d, _, seg in nodes if seg]
    starts = [float(d["start_time"]) for d, _, _ in nodes if d.get("start_time") is not None]
    ends = [float(d["end_time"]) for d, _, _ in nodes if d.get("end_time") is not None]
    roots = [d for d in segments if not d.get("parent_id") and not d.get("inferred")]
    root = min(roots, key=lambda d: float(d.get("start_time") or 0)) if roots else None

    def owner(node_id: str | None) -> dict[str, Any] | None:
        while node_id is not None and node_id in by_id:
            doc, parent, seg = by_id[node_id]
            if seg:
                return doc
            node_id = parent
        return None

    services: dict[tuple[str, str], dict[str, Any]] = {}
    for seg in segments:
        sid = _service(seg)
        services.setdefault((sid["Name"], sid.get("Type", "")), sid)
    annotations: dict[str, list[dict[str, Any]]] = {}
    for doc, _, _ in nodes:
        for key, value in (doc.get("annotations") or {}).items():
            recorder = owner(str(doc.get("id")))
            entry: dict[str, Any] = {"AnnotationValue": _annotation(value)}
            if recorder is not None:
                entry["ServiceIds"] = [_service(recorder)]
            annotations.setdefault(key, []).append(entry)
    summary: Summary = {
        "Id": trace_id,
        "StartTime": min(starts) if starts else None,
        "Duration": round(max(ends) - min(starts), 3) if starts and ends else None,
        "HasFault": any(d.get("fault") for d, _, _ in nodes),
        "HasError": any(d.get("error") for d, _, _ in nodes),
        "HasThrottle": any(d.get("throttle") for d, _, _ in nodes),
        "IsPartial": any(d.get("in_progress") or d.get("end_time") is None for d in segments),
        "Annotations": annotations,
        "Users": [],
        "ServiceIds": list(services.values()),
        "ResourceARNs": [
            {"ARN": arn}
            for arn in dict.fromkeys(
                str((d.get("aws") or {}).get("function_arn"))
                for d in segments
                if (d.get("aws") or {}).get("function_arn")
            )
        ],
        "FaultRootCauses": _root_causes(nodes, by_id, owner, "fault"),
        "ErrorRootCauses": _root_causes(nodes, by_id, owner, "error"),
    }
    if root is not None:
        if root.get("end_time") is not None:
            summary["ResponseTime"] = round(float(root["end_time"]) - float(root["start_time"]), 3)
        summary["EntryPoint"] = _service(root)
        summary["Http"] = _http(root)
    return {k: v for k, v in summary.items() if v is not None}


def _http(doc: dict[str, Any]) -> dict[str, Any]:
    http = doc.get("http") or {}
    request, response = http.get("request") or {}, http.get("response") or {}
    found = {
        "HttpURL": request.get("url"),
        "HttpStatus": response.get("status"),
        "HttpMethod": request.get("method"),
        "UserAgent": request.get("user_agent"),
        "ClientIp": request.get("client_ip"),
    }
    return {k: v for k, v in found.items() if v is not None}


def _root_causes(
    nodes: list[tuple[dict[str, Any], str | None, bool]],
    by_id: dict[str, tuple[dict[str, Any], str | None, bool]],
    owner: Callable[[str | None], dict[str, Any] | None],
    flag: str,
) -> list[dict[str, Any]]:
    """One root cause per deepest failing entity (none of its children fails the same way):
    the path of entity names from its service's segment down to it, the exceptions on the
    last one. An inferred segment is no entity of its own: the remote subsegment it was
    inferred from carries the failure and the exceptions."""
    failing = {str(d.get("id")) for d, _, _ in nodes if d.get(flag) and not d.get("inferred")}
    parents = {parent for d, parent, _ in nodes if str(d.get("id")) in failing}
    recorded = {  # exception id -> exception, for a cause that is only an id
        str(e.get("id")): e
        for d, _, _ in nodes
        if isinstance(d.get("cause"), dict)
        for e in d["cause"].get("exceptions") or []
        if isinstance(e, dict) and e.get("id")
    }
    causes = []
    for doc, _, _ in nodes:
        node_id = str(doc.get("id"))
        if node_id not in failing or node_id in parents:
            continue
        path: list[dict[str, Any]] = []
        current: str | None = node_id
        while current is not None and current in by_id:
            entry, parent, seg = by_id[current]
            path.append({"Name": str(entry.get("name"))})
            if seg:
                break
            current = parent
        path.reverse()
        cause = doc.get("cause")  # or the id of an exception recorded on a child
        if isinstance(cause, str):
            raised = [recorded[cause]] if cause in recorded else []
        else:
            raised = [e for e in (cause or {}).get("exceptions") or [] if isinstance(e, dict)]
        if raised:
            path[-1]["Exceptions"] = [
                {"Name": str(e.get("type")), "Message": str(e.get("message", ""))} for e in raised
            ]
            path[-1]["Remote"] = any(e.get("remote") for e in raised)
        service = owner(node_id) or doc
        causes.append(
            {
                "Services": [
                    {
                        **_service(service),
                        "EntityPath": path,
                        "Inferred": bool(service.get("inferred")),
                    }
                ],
                "ClientImpacting": True,
            }
        )
    return causes


# ---- filter expressions ---------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<op>>=|<=|!=|=|>|<|\(|\)|!)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.\[\]]*)
    )""",
    re.VERBOSE,
)
_NUMERIC = {"responsetime": "ResponseTime", "duration": "Duration"}
_HTTP = {"http.status": "HttpStatus", "http.method": "HttpMethod", "http.url": "HttpURL"}
_FLAGS = {
    "fault": lambda s: bool(s.get("HasFault")),
    "error": lambda s: bool(s.get("HasError")),
    "throttle": lambda s: bool(s.get("HasThrottle")),
    "partial": lambda s: bool(s.get("IsPartial")),
    "ok": lambda s: not (s.get("HasFault") or s.get("HasError") or s.get("HasThrottle")),
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and a > b,
    "<": lambda a, b: a is not None and a < b,
    ">=": lambda a, b: a is not None and a >= b,
    "<=": lambda a, b: a is not None and a <= b,
}


@dataclass
class _Tokens:
    items: list[tuple[str, str]]
    at: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise InvalidFilter("the expression ends too early")
        self.at += 1
        return token


def _tokens(text: str) -> _Tokens:
    items: list[tuple[str, str]] = []
    at = 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise InvalidFilter(f"unexpected text at {at}: {text[at : at + 20]!r}")
        kind = match.lastgroup or ""
        items.append((kind, match[kind]))
        at = match.end()
    return _Tokens(items)


def parse(text: str) -> Predicate:
    """A predicate over summaries; `InvalidFilter` for anything outside the subset:
    `service("name")`, `ok`/`error`/`fault`/`throttle`/`partial`, `responsetime` and
    `duration` compared with a number (seconds), `http.status` and `http.method`/`http.url`
    compared with `=`/`!=`, `annotation.KEY` compared with a string, number or boolean,
    `!` before a keyword, combined with AND and OR (AND first) and parentheses."""
    tokens = _tokens(text)
    predicate = _or(tokens)
    if tokens.peek() is not None:
        raise InvalidFilter(f"unexpected {tokens.peek()[1]!r}")  # type: ignore[index]
    return predicate


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda s: a(s) or b(s)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda s: a(s) and b(s)


def _or(tokens: _Tokens) -> Predicate:
    left = _and(tokens)
    while (t := tokens.peek()) is not None and t[0] == "word" and t[1] in ("OR", "or"):
        tokens.take()
        left = _either(left, _and(tokens))
    return left


def _and(tokens: _Tokens) -> Predicate:
    left = _term(tokens)
    while (t := tokens.peek()) is not None and t[0] == "word" and t[1] in ("AND", "and"):
        tokens.take()
        left = _both(left, _term(tokens))
    return left


def _term(tokens: _Tokens) -> Predicate:
    kind, value = tokens.take()
    if (kind, value) == ("op", "("):
        inner = _or(tokens)
        if tokens.take() != ("op", ")"):
            raise InvalidFilter("a parenthesis is not closed")
        return inner
    if (kind, value) == ("op", "!"):
        negated = _term(tokens)
        return lambda s: not negated(s)
    if kind != "word":
        raise InvalidFilter(f"unexpected {value!r}")
    word = value.lower()
    if word in _FLAGS:
        return _FLAGS[word]
    if word == "service":
        name = _call_argument(tokens)
        return lambda s: any(
            name in (sid.get("Names") or [sid.get("Name")]) for sid in s.get("ServiceIds") or []
        )
    if word in _NUMERIC:
        op, number = _comparison(tokens, numeric=True)
        key = _NUMERIC[word]
        return lambda s: _COMPARE[op](s.get(key), number)
    if word in ("http.status", "http.method", "http.url"):
        key = _HTTP[word]
        op, expected = _comparison(tokens, numeric=word == "http.status")
        if word != "http.status" and op not in ("=", "!="):
            raise InvalidFilter(f"{value} takes = or !=")
        return lambda s: _COMPARE[op]((s.get("Http") or {}).get(key), expected)
    if word.startswith("annotation.") and len(value) > len("annotation."):
        key = value[len("annotation.") :]
        op, expected = _comparison(tokens, numeric=False, any_value=True)
        return lambda s: any(
            _COMPARE[op](_value(entry.get("AnnotationValue") or {}), expected)
            for entry in (s.get("Annotations") or {}).get(key, [])
        )
    raise InvalidFilter(f"the keyword {value!r} is not supported by the emulator")


def _call_argument(tokens: _Tokens) -> str:
    if tokens.take() != ("op", "("):
        raise InvalidFilter('service takes its name in parentheses: service("name")')
    kind, value = tokens.take()
    if kind != "string":
        raise InvalidFilter("service(...) takes a quoted name (id(...) is not supported)")
    if tokens.take() != ("op", ")"):
        raise InvalidFilter("a parenthesis is not closed")
    return _unquote(value)


def _comparison(tokens: _Tokens, *, numeric: bool, any_value: bool = False) -> tuple[str, Any]:
    kind, op = tokens.take()
    if kind != "op" or op not in _COMPARE:
        raise InvalidFilter(f"expected a comparison operator, not {op!r}")
    kind, raw = tokens.take()
    if kind == "number":
        return op, float(raw)
    if numeric:
        raise InvalidFilter(f"expected a number, not {raw!r}")
    if kind == "string":
        return op, _unquote(raw)
    if any_value and kind == "word" and raw.lower() in ("true", "false"):
        return op, raw.lower() == "true"
    raise InvalidFilter(f"expected a value, not {raw!r}")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _value(annotation: dict[str, Any]) -> Any:
    for key in ("StringValue", "NumberValue", "BooleanValue"):
        if key in annotation:
            return annotation[key]
    return None


# ---- the API --------------------------------------------------------------------------


class Encoded(dict):  # type: ignore[type-arg]
    """A cached summary with its JSON text, encoded once: a 1,000-trace answer is 1.4 MB
    of JSON, and encoding it on every call was most of the call's time."""

    text: str


def _encoded(summary: Summary) -> Encoded:
    done = Encoded(summary)
    done.text = json.dumps(summary)
    return done


def encode(doc: dict[str, Any]) -> bytes:
    """A GetTraceSummaries answer as JSON, each summary's cached text reused."""
    texts = (s.text if isinstance(s, Encoded) else json.dumps(s) for s in doc["TraceSummaries"])
    rest = json.dumps({k: v for k, v in doc.items() if k != "TraceSummaries"})
    tail = "}" if rest == "{}" else ", " + rest[1:]
    return ('{"TraceSummaries": [' + ", ".join(texts) + "]" + tail).encode()


_cache: dict[tuple[int, str], tuple[int, Encoded]] = {}
_cache_lock = threading.Lock()


def get_trace_summaries(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    """GetTraceSummaries over moto's X-Ray backend: the traces moto selects for the window,
    summarised from their documents (inferred segments included), those the filter
    expression keeps. Raises `InvalidFilter`."""
    from dogxray.local import xray_service

    predicate = parse(str(params["FilterExpression"])) if params.get("FilterExpression") else None
    traces = xray_service.window(backend, float(params["StartTime"]), float(params["EndTime"]))
    found = []
    for trace_id, segments in traces:
        key = (id(backend), trace_id)
        with _cache_lock:
            cached = _cache.get(key)
        if cached is None or cached[0] != len(segments):
            docs = [json.loads(segment.raw) for segment in segments]
            docs += xray_service.inferred_segments(trace_id, docs)
            cached = (len(segments), _encoded(summarize(trace_id, docs)))
            with _cache_lock:
                _cache[key] = cached
        if predicate is None or predicate(cached[1]):
            found.append(cached[1])
    found.sort(key=lambda s: (s.get("StartTime") or 0.0, s["Id"]), reverse=True)
    return {
        "TraceSummaries": found,
        "ApproximateTime": float(params["EndTime"]),
        "TracesProcessedCount": len(traces),
    }


def forget(backend: Any, trace_ids: list[str]) -> None:
    """The traces are gone (retention): drop their cached summaries."""
    with _cache_lock:
        for trace_id in trace_ids:
            _cache.pop((id(backend), trace_id), None)
