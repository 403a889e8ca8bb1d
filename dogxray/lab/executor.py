"""Runs planned steps: one API call each, then the waiter the step asks for.

A step names its operation as AWS spells it ("CreateFunction"); `method_of` maps it to
the client's method through botocore's service model (an unknown name is a programming
error, `UnknownOperation`). A step without an operation is a composite one, run by the
named function `COMPOSITES` lists for its resource kind and action (emptying a bucket).

Retries only what botocore cannot know is transient: IAM propagation right after
CreateRole (every ~5 s, up to ~3 min, with a visible spinner) and
`ResourceConflictException` while a function update is in progress. Throttling and 5xx
are botocore's (standard retry mode, `dogxray.core.aws`): one retry layer, one budget.
`sleep` and `clock` are injectable so tests run in milliseconds.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ParamValidationError, WaiterError

from dogxray.core.aws import Aws, ClientError, error_code, error_message
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.lab.models import Action, Step, Wait
from dogxray.lab.progress import SILENT, Reporter

ASSUME_MESSAGE = "cannot be assumed by Lambda"
XRAY_MESSAGE = "does not have permissions to call PutTraceSegments"
PROPAGATION_MESSAGES = (ASSUME_MESSAGE, XRAY_MESSAGE)
# A role created (or changed by this run) longer ago than this has reached Lambda: an
# X-Ray permission error then means the permission really is missing.
ROLE_SETTLED_S = 300.0
CONFLICT_MESSAGES = ("cannot be performed at this time", "in progress", "pending")


@dataclass(frozen=True)
class Timing:
    """Retry and wait budgets (tests shrink them)."""

    propagation_interval: float = 5.0
    propagation_limit: float = 180.0
    conflict_interval: float = 2.0
    conflict_attempts: int = 30
    waiter_delay: int = 1
    waiter_attempts: int = 300


class UnknownOperation(LookupError):
    """A step names an operation its service does not have: a bug in the planner."""


def empty_bucket(s3: Any, settings: Settings, Bucket: str) -> int:
    """Delete every object version and delete marker (1000 per call); returns the count."""
    count = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=Bucket):
        items = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if items:
            reply = s3.delete_objects(Bucket=Bucket, Delete={"Objects": items, "Quiet": True})
            if reply.get("Errors"):  # per-object refusals arrive in a 200 reply
                first = reply["Errors"][0]
                raise DogxrayError(
                    f"could not empty bucket {Bucket}: {len(reply['Errors'])} object version(s) "
                    f"refused, e.g. {first.get('Key')}: {first.get('Code')} {first.get('Message')}",
                    hint="check object lock / legal holds and your s3:DeleteObjectVersion "
                    f"permission, then re-run `{settings.command('cleanup --yes')}`",
                )
            count += len(items)
    return count


@dataclass(frozen=True)
class Composite:
    """A step of several calls: `run(client, settings, **params)` (`settings` for its
    messages), and the AWS operations it makes (the dispatch test checks they exist)."""

    run: Callable[..., Any]
    operations: tuple[str, ...]


COMPOSITES: dict[tuple[str, Action], Composite] = {
    ("bucket", Action.empty): Composite(empty_bucket, ("ListObjectVersions", "DeleteObjects")),
}
_METHODS: dict[str, dict[str, str]] = {}  # service -> {operation: python method name}


def method_of(client: Any, operation: str) -> Callable[..., Any]:
    """The client's method for an operation as AWS spells it, from botocore's own table
    (`method_to_api_mapping`, inverted): no method names built from strings."""
    service = client.meta.service_model.service_name
    names = _METHODS.get(service)
    if names is None:
        names = {api: py for py, api in client.meta.method_to_api_mapping.items()}
        _METHODS[service] = names
    if operation not in names:
        raise UnknownOperation(f"{service} has no operation {operation!r}")
    method: Callable[..., Any] = getattr(client, names[operation])
    return method


def call_of(step: Step, client: Any, settings: Settings | None = None) -> Callable[..., Any]:
    """What runs the step: the operation's method, or the composite's function."""
    if step.operation is None:
        composite = COMPOSITES.get((step.resource.kind, step.action))
        if composite is None:
            raise UnknownOperation(
                f"no composite step {step.action.value} for kind {step.resource.kind!r}"
            )
        return functools.partial(composite.run, client, settings or Settings())
    return method_of(client, step.operation)


class Executor:
    def __init__(
        self,
        aws: Aws,
        *,
        timing: Timing | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        reporter: Reporter = SILENT,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.aws = aws
        self.now = now
        self.role_changed_at: float | None = None  # clock() of this run's last role change
        self._role_created: dict[str, datetime | None] = {}
        self.timing = timing or Timing()
        self.sleep = sleep
        self.clock = clock
        self.reporter = reporter

    def run_one(self, step: Step) -> Any:
        client = self.aws.client(step.service)
        result = self._call(step, call_of(step, client, self.aws.settings))
        if step.kind == "role":
            self.role_changed_at = self.clock()
        if step.wait is not Wait.none and step.function_name:
            self.wait(step.wait, step.function_name)
        return result

    def _call(self, step: Step, call: Callable[..., Any]) -> Any:
        start = self.clock()
        conflicts = 0
        with ExitStack() as stack:
            update: Callable[[str], None] | None = None
            while True:
                try:
                    return call(**step.params)
                except ParamValidationError as exc:
                    if "InvokedViaFunctionUrl" in str(exc):  # botocore before Oct 2025
                        raise DogxrayError(
                            "this botocore cannot add the Function URL's second permission "
                            "(InvokedViaFunctionUrl)",
                            where=step.message,
                            hint="upgrade it: pip install -U boto3 botocore",
                        ) from exc
                    raise
                except ClientError as exc:
                    code, message = error_code(exc), error_message(exc)
                    if code in step.tolerate:
                        return None
                    if code == "InvalidParameterValueException" and any(
                        m in message for m in PROPAGATION_MESSAGES
                    ):
                        if XRAY_MESSAGE in message and self._role_settled(step):
                            raise _missing_xray_permission(
                                step, message, self.aws.settings
                            ) from exc
                        elapsed = self.clock() - start
                        if elapsed >= self.timing.propagation_limit:
                            raise _propagation_error(
                                step, elapsed, message, self.aws.settings
                            ) from exc
                        text = "waiting for the new IAM role to reach Lambda"
                        if update is None:
                            update = stack.enter_context(self.reporter.spinner(text))
                        update(
                            f"{text} ({elapsed:.0f} s; retrying every "
                            f"{self.timing.propagation_interval:.0f} s, up to "
                            f"{self.timing.propagation_limit / 60:.0f} min)"
                        )
                        self.sleep(self.timing.propagation_interval)
                        continue
                    if (  # any Lambda call: URL and permission steps too (function Pending)
                        code == "ResourceConflictException"
                        and step.service == "lambda"
                        and any(m in message.lower() for m in CONFLICT_MESSAGES)
                        and conflicts < self.timing.conflict_attempts
                    ):
                        conflicts += 1
                        self.sleep(self.timing.conflict_interval)
                        continue
                    known = _known_error(step, code, message)
                    if known is not None:
                        raise known from exc
                    raise

    def _role_settled(self, step: Step) -> bool:
        """True when the role had time to propagate: this run did not change it lately,
        and IAM says it was created more than ROLE_SETTLED_S ago."""
        if self.role_changed_at is not None and (
            self.clock() - self.role_changed_at < ROLE_SETTLED_S
        ):
            return False
        role_name = str(step.params.get("Role", "")).rsplit("/", 1)[-1]
        if role_name and role_name not in self._role_created:
            try:
                role = self.aws.client("iam").get_role(RoleName=role_name)["Role"]
                self._role_created[role_name] = role["CreateDate"]
            except ClientError:
                self._role_created[role_name] = None
        created = self._role_created.get(role_name)
        return created is not None and (self.now() - created).total_seconds() > ROLE_SETTLED_S

    def wait(self, wait: Wait, function_name: str) -> None:
        """Block until the function is Active (after create) / updated (after a change)."""
        waiter = self.aws.client("lambda").get_waiter(wait.value)
        try:
            waiter.wait(
                FunctionName=function_name,
                WaiterConfig={
                    "Delay": self.timing.waiter_delay,
                    "MaxAttempts": self.timing.waiter_attempts,
                },
            )
        except WaiterError as exc:
            cfg = (exc.last_response or {}).get("Configuration", {})
            reason = cfg.get("StateReason") or cfg.get("LastUpdateStatusReason") or str(exc)
            raise DogxrayError(
                f"function {function_name} did not become ready: {reason}",
                where=wait.value,
                hint="check the function in the Lambda console, then re-run "
                f"`{self.aws.settings.command('setup')}`",
            ) from exc


def _propagation_error(
    step: Step, elapsed: float, message: str, settings: Settings
) -> DogxrayError:
    return DogxrayError(
        f"Lambda still cannot use the role after {elapsed:.0f} s: {message}",
        where=step.message,
        hint="IAM changes usually reach Lambda within a minute; wait and re-run "
        f"`{settings.command('setup')}` (it continues where it stopped), or check the "
        "role's trust policy",
    )


def _missing_xray_permission(step: Step, message: str, settings: Settings) -> DogxrayError:
    return DogxrayError(
        "the function's role lacks xray:PutTraceSegments, which active tracing needs "
        f"(the role is older than {ROLE_SETTLED_S / 60:.0f} min, so this is not IAM "
        f"propagation): {message}",
        where=step.message,
        hint=f"run `{settings.command('setup')}` or `{settings.command('create-role')}`: "
        "they restore the role's policy "
        "(least-privilege: xray:PutTraceSegments and xray:PutTelemetryRecords; console: "
        "AWSXRayDaemonWriteAccess)",
    )


def _known_error(step: Step, code: str, message: str) -> DogxrayError | None:
    """AWS refusals that deserve their own explanation."""
    if code == "BucketAlreadyExists":
        name = step.params.get("Bucket")
        return DogxrayError(
            f"bucket {name} already exists and belongs to another AWS account",
            where=step.message,
            hint="bucket names are global across all accounts: choose another with `--bucket NAME`",
        )
    if code == "InvalidBucketName":
        return DogxrayError.usage(
            f"S3 rejected the bucket name: {message}", where=step.message, hint="see --bucket"
        )
    return None
