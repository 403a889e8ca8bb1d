"""One tree per trace, from either form X-Ray documents come in.

Real AWS returns each segment document with its subsegments embedded; moto and the
emulator return independently sent subsegment documents (`type: "subsegment"`) linked
by `parent_id`. Inferred segments (`inferred: true`, e.g. `AWS::S3`) carry the id of the
subsegment that called the service as `parent_id`, so the same linking places them under
that subsegment. A `cause` that is only an exception id is resolved to the exception
object recorded elsewhere in the trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

UNRESOLVED = "Unknown"


@dataclass
class Node:
    """A segment or subsegment, times in epoch seconds."""

    id: str
    name: str
    start: float
    end: float | None
    parent_id: str | None = None
    is_segment: bool = False
    origin: str | None = None
    namespace: str | None = None
    inferred: bool = False
    in_progress: bool = False
    fault: bool = False
    error: bool = False
    throttle: bool = False
    http_status: int | None = None
    aws: dict[str, Any] = field(default_factory=dict)
    own_exceptions: list[dict[str, Any]] = field(default_factory=list)
    cause_ref: str | None = None
    exceptions: list[dict[str, Any]] = field(default_factory=list)  # own or resolved
    propagated: bool = False  # exceptions came from a cause id, not raised here
    drawn_end: float | None = None  # an open subsegment of a closed segment: its last child
    children: list[Node] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False)


@dataclass
class Trace:
    id: str
    roots: list[Node]
    start: float
    end: float
    partial: bool = False

    @property
    def duration_ms(self) -> float:
        return ms(self.end - self.start)

    def walk(self) -> Iterator[tuple[Node, int]]:
        """Every node with its depth, depth-first in start order."""
        stack = [(node, 0) for node in reversed(self.roots)]
        while stack:
            node, depth = stack.pop()
            yield node, depth
            stack.extend((child, depth + 1) for child in reversed(node.children))

    def node_end(self, node: Node) -> float:
        """An in-progress node is drawn up to its last child's end when its segment has
        ended (X-Ray keeps such subsegments of managed services open), else up to the
        latest time the trace knows of (the trace is still being recorded)."""
        if node.end is not None:
            return node.end
        return node.drawn_end if node.drawn_end is not None else self.end


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


def _as_doc(document: dict[str, Any] | str) -> dict[str, Any]:
    return json.loads(document) if isinstance(document, str) else document


def _http_status(doc: dict[str, Any]) -> int | None:
    status = ((doc.get("http") or {}).get("response") or {}).get("status")
    return int(status) if isinstance(status, int | float | str) and str(status).isdigit() else None


def _aws_block(doc: dict[str, Any]) -> dict[str, Any]:
    """Scalar fields of the `aws` block (operation, bucket_name, key, request_id, ...);
    nested SDK/agent details are left out."""
    block = doc.get("aws") or {}
    return {k: v for k, v in block.items() if isinstance(v, str | int | float | bool)}


def _exception(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": raw.get("id"),
        "type": str(raw.get("type") or UNRESOLVED),
        "message": str(raw.get("message") or ""),
        "remote": bool(raw.get("remote", False)),
    }


def _node(doc: dict[str, Any], parent_id: str | None, is_segment: bool) -> Node:
    end = doc.get("end_time")
    node = Node(
        id=str(doc.get("id")),
        name=str(doc.get("name", "?")),
        start=float(doc.get("start_time") or 0.0),
        end=float(end) if end is not None else None,
        parent_id=parent_id,
        is_segment=is_segment,
        origin=doc.get("origin"),
        namespace=doc.get("namespace"),
        inferred=bool(doc.get("inferred", False)),
        in_progress=bool(doc.get("in_progress", False)) or end is None,
        fault=bool(doc.get("fault", False)),
        error=bool(doc.get("error", False)),
        throttle=bool(doc.get("throttle", False)),
        http_status=_http_status(doc),
        aws=_aws_block(doc),
    )
    cause = doc.get("cause")
    if isinstance(cause, dict):
        node.own_exceptions = [_exception(e) for e in cause.get("exceptions") or []]
    elif isinstance(cause, str) and cause:
        node.cause_ref = cause
    return node


def _collect(
    doc: dict[str, Any], parent_id: str | None, is_segment: bool, nodes: dict[str, Node]
) -> None:
    """Flatten a document (and its embedded subsegments) into `nodes` by id. A completed
    copy wins over an in-progress one sent earlier for the same id."""
    node = _node(doc, parent_id, is_segment)
    known = nodes.get(node.id)
    if known is None or (known.in_progress and not node.in_progress):
        nodes[node.id] = node
    for sub in doc.get("subsegments") or []:
        _collect(sub, node.id, False, nodes)


def build_trace(trace_id: str, documents: Iterable[dict[str, Any] | str]) -> Trace:
    """Build the tree of one trace from its segment documents (either form)."""
    nodes: dict[str, Node] = {}
    for raw in documents:
        doc = _as_doc(raw)
        separate_sub = doc.get("type") == "subsegment"
        _collect(doc, doc.get("parent_id"), not separate_sub, nodes)

    roots: list[Node] = []
    orphan = False
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        if parent is not None and parent is not node:
            node.parent = parent
            parent.children.append(node)
        else:
            roots.append(node)
            # a subsegment whose segment is missing, or a segment whose parent is
            orphan = orphan or not node.is_segment or bool(node.parent_id)
    _resolve_exceptions(nodes.values())

    for node in nodes.values():
        node.children.sort(key=lambda n: (n.start, n.name))
    roots.sort(key=lambda n: (n.start, n.name))
    starts = [n.start for n in nodes.values()] or [0.0]
    ends = [n.end for n in nodes.values() if n.end is not None] or starts
    start = min(starts)
    for root in roots:
        _close_open_subsegments(root, None)
    return Trace(
        id=trace_id,
        roots=roots,
        start=start,
        end=max(max(ends), start),
        # open subsegments under ended segments do not make a trace partial; an open
        # segment (the trace is still being recorded) does
        partial=orphan or any(n.in_progress and n.drawn_end is None for n in nodes.values()),
    )


def _close_open_subsegments(node: Node, segment: Node | None) -> float:
    """Set `drawn_end` on every open subsegment whose segment has ended: its last
    child's end, or its own start without children. Returns the node's known end."""
    segment = node if node.is_segment else segment
    child_ends = [_close_open_subsegments(child, segment) for child in node.children]
    if node.end is not None:
        return node.end
    if not node.is_segment and segment is not None and segment.end is not None:
        node.drawn_end = max([node.start, *child_ends])
        return node.drawn_end
    return max([node.start, *child_ends])


def _resolve_exceptions(nodes: Iterable[Node]) -> None:
    """Give every node its exceptions; a cause id points at an exception recorded on
    another node (usually a child), anywhere in the trace."""
    all_nodes = list(nodes)
    by_id = {e["id"]: e for n in all_nodes for e in n.own_exceptions if e.get("id")}
    for node in all_nodes:
        if node.own_exceptions:
            node.exceptions = node.own_exceptions
        elif node.cause_ref:
            found = by_id.get(node.cause_ref)
            node.exceptions = [found] if found else [_unresolved(node.cause_ref)]
            node.propagated = True


def _unresolved(ref: str) -> dict[str, Any]:
    return {
        "id": ref,
        "type": UNRESOLVED,
        "message": f"exception {ref} is not recorded in this trace",
        "remote": False,
    }


def node_json(node: Node, trace: Trace) -> dict[str, Any]:
    """A node in the SPEC `trace --output json` shape (plus `in_progress` when true)."""
    doc: dict[str, Any] = {
        "name": node.name,
        "origin": node.origin,
        "namespace": node.namespace,
        "start_offset_ms": ms(node.start - trace.start),
        "duration_ms": ms(trace.node_end(node) - node.start),
        "fault": node.fault,
        "error": node.error,
        "throttle": node.throttle,
        "http_status": node.http_status,
        "aws": dict(node.aws),
        "exceptions": [
            {"type": e["type"], "message": e["message"], "remote": e["remote"]}
            for e in node.exceptions
        ],
        "children": [node_json(child, trace) for child in node.children],
    }
    if node.in_progress:
        doc["in_progress"] = True
    return doc


def trace_id_time(trace_id: str) -> float:
    """The request time encoded in an X-Ray trace id (1-<hex epoch>-<random>)."""
    try:
        return float(int(trace_id.split("-")[1], 16))
    except (IndexError, ValueError):
        return 0.0
