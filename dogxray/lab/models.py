"""Desired and observed state as plain frozen data, and the `Step` the planner emits.

Nothing here talks to AWS: the planner compares a `Desired` with an `Observed` and the
executor runs the resulting steps. Names and tags on the deployed resources are the
only state; nothing is recorded locally.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from dogxray.core.errors import DogxrayError


class PolicyMode(str, Enum):
    """How the role gets its permissions (readable back from the role: inline vs attached)."""

    least_privilege = "least-privilege"
    console = "console"


class Output(str, Enum):
    """What a step produces for the steps and the result after it (read from its reply by
    the executor: `OUTPUT_KEYS`), e.g. the new function's ARN or its Function URL."""

    function_arn = "function_arn"
    function_url = "function_url"


# The reply key each output is read from.
OUTPUT_KEYS = {Output.function_arn: "FunctionArn", Output.function_url: "FunctionUrl"}


@dataclass
class Outputs:
    """The typed outputs of the steps run so far (None: no step produced it)."""

    function_arn: str | None = None
    function_url: str | None = None

    def record(self, output: Output, reply: object) -> None:
        """Keep what `reply` (an API call's response) holds for `output`."""
        if isinstance(reply, Mapping) and reply.get(OUTPUT_KEYS[output]):
            setattr(self, output.value, str(reply[OUTPUT_KEYS[output]]))

    def merge(self, other: Outputs) -> None:
        """Take every output `other` produced (a parallel lane's)."""
        for output in Output:
            value = getattr(other, output.value)
            if value is not None:
                setattr(self, output.value, value)


@dataclass(frozen=True)
class Conflict:
    """What no step can fix (a name owned by another account, a resource dogxray did not
    create for this lab): `setup` and the stages refuse, `status` shows it as drift."""

    kind: str  # the status row: bucket, role, function
    message: str
    hint: str
    usage: bool = False  # a usage error (exit 2): the options point at the wrong place

    def error(self) -> DogxrayError:
        if self.usage:
            return DogxrayError.usage(self.message, hint=self.hint)
        return DogxrayError(self.message, hint=self.hint)


class Wait(str, Enum):
    """What the executor waits for after a step."""

    none = "none"
    function_active = "function_active_v2"
    function_updated = "function_updated_v2"


@dataclass(frozen=True)
class Permission:
    """One statement of the function's resource policy, normalised."""

    sid: str
    action: str
    principal: str = "*"
    url_auth_type: str | None = None  # condition lambda:FunctionUrlAuthType
    via_url: bool | None = None  # condition lambda:InvokedViaFunctionUrl


@dataclass(frozen=True)
class BucketSpec:
    name: str
    region: str
    tags: Mapping[str, str]
    adopt_untagged: bool = False  # the default name: an owned, untagged, empty one is ours


@dataclass(frozen=True)
class RoleSpec:
    name: str
    arn: str
    trust_policy: Mapping[str, Any]
    mode: PolicyMode
    policy_name: str
    inline_policy: Mapping[str, Any]  # used in least-privilege mode
    managed_arns: tuple[str, ...]  # used in console mode
    tags: Mapping[str, str]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    runtime: str
    arch: str
    handler: str
    timeout: int
    memory: int
    tracing: bool
    tracer: str  # what the zip carries (`Tracer`); OpenTelemetry's sets DOGXRAY_TRACER
    env: Mapping[str, str]
    tags: Mapping[str, str]
    role_arn: str
    code_sha256: str | None  # None: keep the deployed code (configure, break/fix)
    zip_bytes: bytes = field(default=b"", repr=False)
    reserved: int | None = None  # reserved concurrency; None: the account's unreserved pool


@dataclass(frozen=True)
class UrlSpec:
    enabled: bool
    auth_type: str
    permissions: tuple[Permission, ...]


@dataclass(frozen=True)
class LogGroupSpec:
    name: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Desired:
    lab: str
    region: str
    bucket: BucketSpec
    role: RoleSpec
    function: FunctionSpec
    url: UrlSpec
    log_group: LogGroupSpec


@dataclass(frozen=True)
class ObservedBucket:
    name: str
    exists: bool
    ours: bool  # HeadBucket succeeded (exists=True, ours=False: another account owns it)
    tags: Mapping[str, str] = field(default_factory=dict)
    empty: bool | None = None  # checked only for an untagged bucket of ours (adoption)
    region: str | None = None  # where it lives (HeadBucket's x-amz-bucket-region)


@dataclass(frozen=True)
class ObservedRole:
    exists: bool
    arn: str | None = None
    trust_policy: Mapping[str, Any] = field(default_factory=dict)
    inline: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    attached: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObservedFunction:
    exists: bool
    arn: str | None = None
    runtime: str | None = None
    arch: str | None = None
    handler: str | None = None
    timeout: int | None = None
    memory: int | None = None
    tracing: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    role_arn: str | None = None
    code_sha256: str | None = None
    state: str | None = None
    url: str | None = None
    url_auth_type: str | None = None
    permissions: tuple[Permission, ...] = ()
    reserved: int | None = None  # GetFunction's Concurrency.ReservedConcurrentExecutions


@dataclass(frozen=True)
class ObservedLogGroup:
    exists: bool
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BucketUser:
    """Another function of the region that writes to a bucket (keeps it at cleanup)."""

    function: str
    lab: str | None  # its `dogxray:lab` tag; None for a function dogxray did not make


@dataclass(frozen=True)
class Observed:
    bucket: ObservedBucket
    role: ObservedRole
    function: ObservedFunction
    log_group: ObservedLogGroup


SERVICE_OF_KIND = {
    "bucket": "s3",
    "role": "iam",
    "log-group": "logs",
    "function": "lambda",
    "function-url": "lambda",
    "alarm": "cloudwatch",  # `alarm` (dogxray.lab.alarm)
    "topic": "sns",
}
# How `Resource.__str__` names each kind ("the Function URL of dog-photo-function").
_NOUN = {
    "function-url": "the Function URL of",
    "topic": "SNS topic",
    "subscription": "email subscription",
    "log-group": "log group",
    "inline-policy": "inline policy",
    "managed-policy": "managed policy",
}


class Action(str, Enum):
    """What a step does to its resource (cleanup's `deleted` list is the `delete` steps)."""

    create = "create"
    update = "update"
    tag = "tag"
    attach = "attach"
    detach = "detach"
    delete = "delete"
    empty = "empty"  # composite: every object version and delete marker of a bucket


@dataclass(frozen=True)
class Resource:
    """What a step acts on: one of the lab's resources (`kind` in SERVICE_OF_KIND, the same
    kinds `status` reports), or a named part of one (`of`: an inline policy of a role, a
    permission statement of a Function URL)."""

    kind: str
    name: str
    of: Resource | None = None

    @property
    def lab_kind(self) -> str:
        """The kind of the lab resource this belongs to (its `status` row and service)."""
        return self.of.lab_kind if self.of else self.kind

    def __str__(self) -> str:
        text = f"{_NOUN.get(self.kind, self.kind)} {self.name}"
        return f"{text} of {self.of}" if self.of else text

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.of:
            doc["of"] = self.of.to_json()
        return doc


@dataclass(frozen=True)
class Step:
    """One API call as data (as chalice's `APICall`): `operation` as AWS spells it
    ("CreateFunction") with its `params`, on `resource`, doing `action`. The executor maps
    the operation to the client's method through botocore's service model; `operation`
    None is a composite step the executor runs with a named function (`empty` a bucket).
    Plans compare with ==, and `to_json()` prints them."""

    name: str  # the step group `setup` reports as changed / unchanged (planner.STEP_NAMES)
    message: str
    action: Action
    resource: Resource
    operation: str | None
    params: Mapping[str, Any] = field(default_factory=dict, repr=False)
    service: str = ""  # "" = the lab resource's service (SERVICE_OF_KIND)
    wait: Wait = Wait.none
    function_name: str | None = None  # what to wait on / retry conflicts for
    tolerate: tuple[str, ...] = ()  # error codes that mean "already done"
    changes: tuple[str, ...] = ()  # the individual differences it repairs (for `status`)
    produces: Output | None = None  # what later steps and the result read from its reply

    def __post_init__(self) -> None:
        if not self.service:
            object.__setattr__(self, "service", SERVICE_OF_KIND[self.resource.lab_kind])

    @property
    def kind(self) -> str:
        """The lab resource it changes: bucket, role, function, function-url, log-group."""
        return self.resource.lab_kind

    def to_json(self) -> dict[str, Any]:
        """JSON-safe: bytes (the zip) become their size and SHA-256, never the bytes."""
        return {
            "name": self.name,
            "message": self.message,
            "action": self.action.value,
            "resource": self.resource.to_json(),
            "service": self.service,
            "operation": self.operation,
            "params": json_safe(self.params),
            "wait": None if self.wait is Wait.none else self.wait.value,
            "function_name": self.function_name,
            "tolerate": list(self.tolerate),
            "changes": list(self.changes),
        }


def json_safe(value: Any) -> Any:
    """Parameters as JSON: bytes as {"size", "sha256"} (base64, as Lambda's CodeSha256)."""
    if isinstance(value, bytes):
        digest = base64.b64encode(hashlib.sha256(value).digest()).decode("ascii")
        return {"size": len(value), "sha256": digest}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


@dataclass(frozen=True)
class Deployed:
    """What commands after `setup` need, read back from the function and its tags."""

    function_name: str
    function_arn: str
    function_url: str | None
    bucket: str
    env_bucket: str | None  # BUCKET_NAME as configured (differs after break-bucket)


@dataclass(frozen=True)
class SetupOptions:
    """`setup` (and stage-command) options; None means: keep what the lab recorded (the
    function's `dogxray:settings` tag), else the lab's default."""

    bucket: str | None = None
    policy: PolicyMode | None = None
    runtime: str | None = None
    arch: str | None = None
    memory: int | None = None
    timeout: int | None = None
    tracing: bool | None = None
    url: bool | None = None
    tracer: str | None = None
    reserved: int | None = None  # reserved concurrency to set
    unreserved: bool = False  # remove the reserved concurrency
    env: Mapping[str, str] = field(default_factory=dict)
    env_remove: frozenset[str] = frozenset()  # variables to drop (e.g. `inject --off`)
    from_env: bool = False
