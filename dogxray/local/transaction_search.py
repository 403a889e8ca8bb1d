"""A Transaction Search account, for the emulator (`dogxray local --transaction-search`).

What AWS documents (sources and tests: docs/fidelity.md): the account's trace segment
destination is `CloudWatchLogs`; every span is ingested into the `aws/spans` log group;
X-Ray indexes a percentage of them as trace summaries (the `Default` indexing rule, 1 %
unless changed with UpdateIndexingRule); `BatchGetTraces` cannot find the traces ("You
cannot find traces through this API if Transaction Search is enabled"); the traces are
read with StartTraceRetrieval -> ListRetrievedTraces / GetRetrievedTracesGraph.

The emulator keeps storing every document in moto's X-Ray, where the retrieval APIs read
them back; GetTraceSummaries answers only the indexed share (chosen per trace, from the
trace id, so a trace is indexed or not for good), BatchGetTraces nothing. A retrieval is
`RUNNING` for its first RUNNING_S and `COMPLETE` afterwards, so clients poll as on AWS.
AWS publishes no example of an `aws/spans` event that we found: the emulator writes one
JSON event per segment and subsegment with OTLP's field names (`traceId` as 32 hex
digits, `spanId`, `parentSpanId`, `name`, `kind`, `startTimeUnixNano`,
`endTimeUnixNano`, `durationNano`, `attributes`, `resource.attributes`, `status`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dogxray.core.config import ENV_LOCAL_INDEXED_PERCENT, ENV_LOCAL_TRANSACTION_SEARCH, env_flag
from dogxray.core.errors import DogxrayError
from dogxray.local.wsgi import Reply, Request, State
from dogxray.traces.rules import otel_trace_id

SPANS_GROUP = "aws/spans"
SPANS_STREAM = "default"
DEFAULT_RULE = "Default"
DEFAULT_PERCENT = 1.0
MAX_RETRIEVAL_IDS = 100  # StartTraceRetrieval's TraceIds (botocore's model)


def parse_options(
    on: bool | None, percent: float | None, environ: Mapping[str, str] | None = None
) -> tuple[bool, float]:
    """`--transaction-search` and `--indexed-percent`, else their variables, else off and
    1 % (AWS's default indexing rule)."""
    env = os.environ if environ is None else environ
    hint = "set it to 1 for a Transaction Search account, or 0 (the default) for X-Ray"
    enabled = env_flag(on, ENV_LOCAL_TRANSACTION_SEARCH, hint, env)
    where = "--indexed-percent" if percent is not None else ENV_LOCAL_INDEXED_PERCENT
    raw: Any = percent if percent is not None else env.get(ENV_LOCAL_INDEXED_PERCENT) or None
    if raw is None:
        return enabled, DEFAULT_PERCENT
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if not 0 <= value <= 100:
        raise DogxrayError.usage(
            f"{where} {raw} is not a percentage",
            hint="give a number from 0 to 100 (AWS indexes 1 % by default)",
        )
    return enabled, value


RUNNING_S = 0.1  # a retrieval answers RUNNING this long after it started, as a job would


@dataclass
class Retrieval:
    trace_ids: list[str]
    start: float
    end: float
    started: float = field(default_factory=time.monotonic)


@dataclass
class Account:
    """The account's trace settings, for the emulator's life (one account, one region:
    the emulator's)."""

    destination: str = "XRay"
    percent: float = DEFAULT_PERCENT
    modified: float = field(default_factory=time.time)
    retrievals: dict[str, Retrieval] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def on(self) -> bool:
        return self.destination == "CloudWatchLogs"

    def indexed(self, trace_id: str) -> bool:
        """Whether the `Default` rule indexes this trace: a stable draw per trace id."""
        draw = int(hashlib.sha256(trace_id.encode()).hexdigest()[:8], 16) % 10_000
        return draw < self.percent * 100


class Invalid(Exception):
    kind = "InvalidRequestException"


_XRAY_ACCOUNT = Account()  # for a front without an account (plain X-Ray)


def _of(state: State) -> Account:
    """The account the running emulator set; a plain X-Ray account otherwise."""
    found = state.search
    return found if isinstance(found, Account) else _XRAY_ACCOUNT


def _params(req: Request) -> dict[str, Any]:
    doc = req.document()
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise Invalid("the request body is not a JSON object")
    return doc


def _answer(state: State, req: Request, answer: Any) -> Reply:
    try:
        return Reply.json(answer(_of(state), _params(req), req))
    except Invalid as exc:
        return Reply.error(400, exc.kind, str(exc))


# --- the account's destination and indexing rule ---


def get_destination(state: State, req: Request) -> Reply:
    return _answer(state, req, lambda a, _p, _r: {"Destination": a.destination, "Status": "ACTIVE"})


def update_destination(state: State, req: Request) -> Reply:
    def answer(account: Account, params: dict[str, Any], _req: Request) -> dict[str, Any]:
        wanted = params.get("Destination")
        if wanted not in ("XRay", "CloudWatchLogs"):
            raise Invalid("Destination must be XRay or CloudWatchLogs")
        account.destination = str(wanted)
        return {"Destination": account.destination, "Status": "ACTIVE"}

    return _answer(state, req, answer)


def _rule(account: Account) -> dict[str, Any]:
    return {
        "Name": DEFAULT_RULE,
        "ModifiedAt": account.modified,
        "Rule": {
            "Probabilistic": {
                "DesiredSamplingPercentage": account.percent,
                "ActualSamplingPercentage": account.percent,
            }
        },
    }


def get_indexing_rules(state: State, req: Request) -> Reply:
    return _answer(state, req, lambda a, _p, _r: {"IndexingRules": [_rule(a)]})


def update_indexing_rule(state: State, req: Request) -> Reply:
    def answer(account: Account, params: dict[str, Any], _req: Request) -> dict[str, Any]:
        if params.get("Name") != DEFAULT_RULE:
            raise Invalid(f"no indexing rule named {params.get('Name')!r}")
        rule = (params.get("Rule") or {}).get("Probabilistic") or {}
        percent = rule.get("DesiredSamplingPercentage")
        if not isinstance(percent, (int, float)) or not 0 <= percent <= 100:
            raise Invalid("DesiredSamplingPercentage must be a number from 0 to 100")
        account.percent, account.modified = float(percent), time.time()
        return {"IndexingRule": _rule(account)}

    return _answer(state, req, answer)


# --- what changes for reads ---


def summaries(state: State, req: Request) -> Reply:
    """GetTraceSummaries (POST /TraceSummaries): X-Ray's summaries and filter expressions
    (`local/trace_summaries.py`); on a Transaction Search account only the indexed traces."""
    from dogxray.local import trace_summaries, xray_service

    if not state.graph:  # moto's own answer (the emulator's graph switched off)
        return req.forward()

    def answer(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
        try:
            doc = trace_summaries.get_trace_summaries(backend, params)
        except trace_summaries.InvalidFilter as exc:
            raise xray_service.Invalid(f"Invalid filter expression: {exc}") from None
        except (KeyError, TypeError, ValueError):
            raise xray_service.Invalid("StartTime and EndTime are required") from None
        if _of(state).on:
            doc["TraceSummaries"] = [
                s for s in doc["TraceSummaries"] if _of(state).indexed(str(s.get("Id")))
            ]
        return doc

    return xray_service.answer(req, answer, encode=trace_summaries.encode)


def batch_get_traces(state: State, req: Request) -> Reply:
    """BatchGetTraces (POST /Traces): nothing on a Transaction Search account."""
    from dogxray.local.xray_service import batch_get_traces_api

    if not _of(state).on:
        return batch_get_traces_api(state, req)
    return Reply.json({"Traces": [], "UnprocessedTraceIds": []})


def put_segments(state: State, req: Request) -> Reply:
    """PutTraceSegments (POST /TraceSegments): stored as moto stores them; on a
    Transaction Search account their spans also go to aws/spans, as the SDK's do."""
    reply = req.forward()
    scope = req.scope()
    if not _of(state).on or not reply.ok or scope is None:
        return reply
    params, answer = req.document() or {}, reply.document() or {}
    refused = {str(u.get("Id")) for u in answer.get("UnprocessedTraceSegments") or []}
    writer = SpanWriter(_of(state))
    for document in params.get("TraceSegmentDocuments") or []:
        try:
            segment_id = str(json.loads(document).get("id"))
        except (ValueError, AttributeError):
            continue
        if segment_id not in refused:
            writer(document, *scope)
    return reply


# --- trace retrieval ---


def start_retrieval(state: State, req: Request) -> Reply:
    def answer(account: Account, params: dict[str, Any], _req: Request) -> dict[str, Any]:
        if not account.on:
            raise Invalid(
                "trace retrieval reads the Transaction Search log group: the account's "
                "trace segment destination is XRay"
            )
        ids = params.get("TraceIds")
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_RETRIEVAL_IDS:
            raise Invalid(f"TraceIds must hold 1 to {MAX_RETRIEVAL_IDS} trace ids")
        try:
            start, end = float(params["StartTime"]), float(params["EndTime"])
        except (KeyError, TypeError, ValueError):
            raise Invalid("StartTime and EndTime are required") from None
        if end < start:
            raise Invalid("EndTime is before StartTime")
        token = uuid.uuid4().hex
        with account.lock:
            account.retrievals[token] = Retrieval([str(t) for t in ids], start, end)
        return {"RetrievalToken": token}

    return _answer(state, req, answer)


def _retrieval(account: Account, params: dict[str, Any]) -> Retrieval | None:
    """The retrieval the token names; None while it is RUNNING."""
    with account.lock:
        found = account.retrievals.get(str(params.get("RetrievalToken")))
    if found is None:
        raise Invalid("no trace retrieval has that RetrievalToken")
    return found if time.monotonic() - found.started >= RUNNING_S else None


def _retrieved(req: Request, found: Retrieval) -> dict[str, list[dict[str, Any]]]:
    """The documents (with X-Ray's inferred segments) of the retrieval's traces that
    started within its time range."""
    from dogxray.local.xray_service import _backend, documents, inferred_segments

    result: dict[str, list[dict[str, Any]]] = {}
    for trace_id, raw in documents(_backend(req), found.trace_ids).items():
        docs = [json.loads(d) for d in raw]
        begin = min((float(d.get("start_time") or 0) for d in docs), default=0.0)
        if found.start <= begin <= found.end:
            result[trace_id] = docs + inferred_segments(trace_id, docs)
    return result


def list_retrieved(state: State, req: Request) -> Reply:
    def answer(account: Account, params: dict[str, Any], req: Request) -> dict[str, Any]:
        form = params.get("TraceFormat") or "XRAY"
        if form not in ("XRAY", "OTEL"):
            raise Invalid("TraceFormat must be XRAY or OTEL")
        found = _retrieval(account, params)
        if found is None:
            return {"RetrievalStatus": "RUNNING", "TraceFormat": form, "Traces": []}
        traces = []
        for trace_id, docs in _retrieved(req, found).items():
            begin = min(float(d.get("start_time") or 0) for d in docs)
            end = max(float(d.get("end_time") or 0) for d in docs)
            spans = [
                {"Id": d["id"], "Document": json.dumps(d if form == "XRAY" else span(d))}
                for d in docs
            ]
            traces.append({"Id": trace_id, "Duration": max(end - begin, 0.0), "Spans": spans})
        return {"RetrievalStatus": "COMPLETE", "TraceFormat": form, "Traces": traces}

    return _answer(state, req, answer)


def retrieved_graph(state: State, req: Request) -> Reply:
    def answer(account: Account, params: dict[str, Any], req: Request) -> dict[str, Any]:
        from dogxray.local.xray_service import _backend, get_trace_graph

        found = _retrieval(account, params)
        if found is None:
            return {"RetrievalStatus": "RUNNING", "Services": []}
        ids = list(_retrieved(req, found))
        graph = get_trace_graph(_backend(req), {"TraceIds": ids}) if ids else {"Services": []}
        services = [{"Service": s, "Links": []} for s in graph["Services"]]
        return {"RetrievalStatus": "COMPLETE", "Services": services}

    return _answer(state, req, answer)


def cancel_retrieval(state: State, req: Request) -> Reply:
    def answer(account: Account, params: dict[str, Any], _req: Request) -> dict[str, Any]:
        with account.lock:
            if account.retrievals.pop(str(params.get("RetrievalToken")), None) is None:
                raise Invalid("no trace retrieval has that RetrievalToken")
        return {}

    return _answer(state, req, answer)


# --- the spans log group ---


def span(doc: dict[str, Any], parent: str | None = None) -> dict[str, Any]:
    """One segment or subsegment as an OTLP-style span (its subsegments left out)."""
    start, end = float(doc.get("start_time") or 0.0), float(doc.get("end_time") or 0.0)
    status = ((doc.get("http") or {}).get("response") or {}).get("status")
    attributes: dict[str, Any] = {}
    if doc.get("origin"):
        attributes["aws.xray.origin"] = doc["origin"]
    if status is not None:
        attributes["http.response.status_code"] = status
    for flag in ("fault", "error", "throttle"):
        if doc.get(flag):
            attributes[f"aws.xray.{flag}"] = True
    for name, value in (doc.get("annotations") or {}).items():
        attributes[f"aws.xray.annotation.{name}"] = value
    resource: dict[str, Any] = {"cloud.provider": "aws"}
    if doc.get("resource_arn"):
        resource["cloud.resource_id"] = doc["resource_arn"]
        resource["service.name"] = doc.get("name")
    failed = doc.get("fault") or doc.get("error")
    return {
        "resource": {"attributes": resource},
        "traceId": otel_trace_id(str(doc.get("trace_id", ""))),
        "spanId": doc.get("id"),
        "parentSpanId": parent or doc.get("parent_id"),
        "name": doc.get("name"),
        "kind": _kind(doc, parent),
        "startTimeUnixNano": int(start * 1e9),
        "endTimeUnixNano": int(end * 1e9),
        "durationNano": max(int(end * 1e9) - int(start * 1e9), 0),
        "attributes": attributes,
        "status": {"code": "ERROR" if failed else "UNSET"},
    }


def _kind(doc: dict[str, Any], parent: str | None) -> str:
    if doc.get("namespace") in ("aws", "remote"):
        return "CLIENT"
    return "SERVER" if parent is None and doc.get("type") != "subsegment" else "INTERNAL"


def spans(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A document and its nested subsegments, each a span, with the trace id each needs."""
    trace_id = doc.get("trace_id")
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], parent: str | None) -> None:
        found.append(span({**node, "trace_id": trace_id}, parent))
        for child in node.get("subsegments") or []:
            walk(child, str(node.get("id")))

    walk(doc, None)
    return found


class SpanWriter:
    """Called for every document the emulator stores: on a Transaction Search account,
    its spans go to `aws/spans` (one log event each)."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def __call__(self, document: str, account_id: str, region: str) -> None:
        if not self.account.on:
            return
        from dogxray.local.records import write_logs

        try:
            doc = json.loads(document)
        except ValueError:
            return
        if not isinstance(doc, dict) or not doc.get("trace_id"):
            return
        stamp = int(float(doc.get("start_time") or time.time()) * 1000)
        events = [(stamp, json.dumps(s, separators=(",", ":"))) for s in spans(doc)]
        write_logs(account_id, region, SPANS_GROUP, SPANS_STREAM, events)
