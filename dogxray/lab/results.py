"""What the control plane returns: typed results whose `to_json()` is the SPEC section 4
document (key order included), so the commands print them and tests compare them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dogxray.lab.alarm import AlarmResult


@dataclass
class LabResult:
    """`setup` and each stage (create-bucket ... configure): the lab's names and what
    changed. `plan` only for `setup --dry-run`; `bucket_preexisting` only for stages."""

    lab: str
    region: str
    bucket: str
    role_arn: str
    function_arn: str
    function_url: str | None
    changed: list[str]
    unchanged: list[str]
    plan: list[dict[str, Any]] | None = None
    bucket_preexisting: bool | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "lab": self.lab,
            "region": self.region,
            "bucket": self.bucket,
            "role_arn": self.role_arn,
            "function_arn": self.function_arn,
            "function_url": self.function_url,
            "changed": self.changed,
            "unchanged": self.unchanged,
        }
        if self.plan is not None:
            doc["plan"] = self.plan
        if self.bucket_preexisting is not None:
            doc["bucket_preexisting"] = self.bucket_preexisting
        return doc


@dataclass
class BucketSwitch:
    """`break-bucket` / `fix-bucket`: where BUCKET_NAME points now."""

    function: str
    bucket_name: str
    real_bucket: str
    changed: bool
    message: str
    hint: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "bucket_name": self.bucket_name,
            "real_bucket": self.real_bucket,
            "changed": self.changed,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class ResourceStatus:
    kind: str
    name: str
    exists: bool
    drift: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "exists": self.exists, "drift": self.drift}


@dataclass
class LabStatus:
    """`status`: each resource, whether it exists, and its drift from the lab."""

    lab: str
    region: str
    resources: list[ResourceStatus]
    function_url: str | None
    # the function's variables (None: no function), for `inject`'s line; not in the JSON
    function_env: dict[str, str] | None = field(default=None, repr=False)
    # where the account's spans go: XRay, CloudWatchLogs (Transaction Search), None unknown
    trace_destination: str | None = None
    # what the deployed function traces with: xray or otel (`Tracer`); None: no function
    tracer: str | None = None
    reserved_concurrency: int | None = None  # None: none reserved (or no function)
    alarm: AlarmResult | None = None  # the `alarm` command's alarm, when there is one

    def to_json(self) -> dict[str, Any]:
        return {
            "lab": self.lab,
            "region": self.region,
            "resources": [r.to_json() for r in self.resources],
            "function_url": self.function_url,
            "trace_destination": self.trace_destination,
            "tracer": self.tracer,
            "reserved_concurrency": self.reserved_concurrency,
            "alarm": _alarm_json(self.alarm),
        }


def _alarm_json(doc: AlarmResult | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    full = doc.to_json()
    return {key: full[key] for key in ("alarm", "state", "reason", "threshold", "topic_arn")}


@dataclass(frozen=True)
class Kept:
    """A resource cleanup found under the lab's names or tags and left in place on
    purpose: what it is, why, and how to remove it (None: it is not dogxray's to remove)."""

    resource: str  # "bucket lovely-dogs-...", as `deleted` names resources
    why: str
    remove: str | None = None

    @property
    def note(self) -> str:
        return f"kept {self.resource}: {self.why}"

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "why": self.why, "remove": self.remove}


@dataclass
class CleanupResult:
    """`cleanup`: what was (or, with `dry_run`, would be) deleted, what is still there,
    notes (each kept resource's `note` among them), what was kept and how to remove it,
    and the steps as data. "Nothing remains" is true only when `remaining` and `kept` are
    both empty."""

    deleted: list[str]
    remaining: list[str]
    notes: list[str]
    plan: list[dict[str, Any]]
    dry_run: bool = False
    kept: list[Kept] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "deleted": self.deleted,
            "remaining": self.remaining,
            "notes": self.notes,
            "kept": [k.to_json() for k in self.kept],
        }
        if self.dry_run:
            doc["dry_run"] = True
        doc["plan"] = self.plan
        return doc
