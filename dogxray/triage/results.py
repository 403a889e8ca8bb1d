"""What `analyze` returns: the comparison of the window's traces (`compare`), with the
window, the concurrency behind Lambda's throttles and a note (`analyze`). `to_json()`
gives the `analyze --output json` document."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class NodeBlame:
    """How much more own time a node takes in one group of traces than in the others."""

    node: str
    mean_ms: float
    others_mean_ms: float
    median_ms: float
    others_median_ms: float
    difference_ms: float
    share: float  # of the group's traces that have the node
    others_share: float


@dataclass(frozen=True)
class NodeCount:
    node: str
    count: int


@dataclass(frozen=True)
class ExceptionCluster:
    """Failed traces with one exception (type, message) on one node; the newest ids."""

    type: str
    message: str
    node: str
    count: int
    traces: list[str]


@dataclass(frozen=True)
class Slow:
    threshold_ms: float
    derived: bool  # twice the median (else the threshold given)
    median_ms: float
    count: int
    others: int
    nodes: list[NodeBlame]
    examples: list[str]


@dataclass(frozen=True)
class Faulty:
    count: int
    others: int
    origins: list[NodeCount]  # where the faults start
    nodes: list[NodeBlame]
    exceptions: list[ExceptionCluster]


@dataclass(frozen=True)
class Concurrency:
    """What caps the function's concurrent requests: `limit` names the cap in force
    ("reserved", "account", or None when it cannot be read); `unknown`: what could not
    be read, and why."""

    reserved: int | None = None
    account_limit: int | None = None
    unreserved: int | None = None
    limit: str | None = None
    unknown: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Throttled:
    count: int
    nodes: list[NodeCount]  # who refused them
    by_lambda: int  # refused by Lambda's service segment
    examples: list[str]
    concurrency: Concurrency | None = None  # read when Lambda throttled

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "count": self.count,
            "nodes": [asdict(n) for n in self.nodes],
            "lambda": self.by_lambda,
            "examples": self.examples,
        }
        if self.concurrency is not None:
            doc["concurrency"] = self.concurrency.to_json()
        return doc


@dataclass(frozen=True)
class Analysis:
    """Slow vs normal, faulty vs ok, and the throttles, over `traces` traces."""

    traces: int
    slow: Slow
    faulty: Faulty
    throttled: Throttled
    start: str | None = None  # the window (`analyze`; None from `compare` alone)
    end: str | None = None
    note: str | None = None  # why there is nothing, or what is missing
    requests: int | None = None  # the function's requests in the window (None: unknown)

    @property
    def examples(self) -> list[str]:
        """Trace ids worth opening: slow ones, each cluster's newest, throttled ones."""
        return (
            self.slow.examples
            + [c.traces[0] for c in self.faulty.exceptions]
            + self.throttled.examples
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "traces": self.traces,
            "slow": asdict(self.slow),
            "faulty": asdict(self.faulty),
            "throttled": self.throttled.to_json(),
        }
        if self.start is not None:
            doc["window"] = {"start": self.start, "end": self.end}
            doc["requests"] = self.requests
        if self.note is not None:
            doc["note"] = self.note
        return doc
