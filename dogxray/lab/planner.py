"""Pure diff: (desired, observed) -> ordered steps. No AWS, no I/O.

Order is the lab's (bucket, role, log group, function, code, configuration, tags, URL,
permissions); an empty plan means the lab is up to date. `parts` restricts the plan to
what one stage command manages. Conflicts that no step can fix (a name owned by another
account or not created by dogxray) are `conflicts()`, a function of their own: the plan
has no step for a resource in conflict, `setup` refuses before anything is changed and
`status` shows them as drift. `split` cuts a plan into the phases `setup` runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from dogxray.lab.conflicts import (
    ALL_PARTS,
    bucket_conflict,
    function_conflict,
    role_conflict,
)
from dogxray.lab.models import (
    Action,
    Desired,
    FunctionSpec,
    Observed,
    Output,
    PolicyMode,
    Resource,
    Step,
    Wait,
)
from dogxray.lab.policies import same_document
from dogxray.lab.url_plan import url_steps

# Step names (several steps may share one); `setup` reports them as changed / unchanged.
STEP_NAMES = (
    "bucket",
    "role",
    "role-policy",
    "log-group",
    "function",
    "function-code",
    "function-configuration",
    "function-url",
    "url-permissions",
)


def plan(desired: Desired, observed: Observed, parts: Iterable[str] = ALL_PARTS) -> list[Step]:
    wanted = frozenset(parts)
    steps: list[Step] = []
    if "bucket" in wanted:
        steps += bucket_steps(desired, observed)
    if "role" in wanted:
        steps += role_steps(desired, observed)
    if "logs" in wanted and not observed.log_group.exists:
        lg = desired.log_group
        steps.append(
            Step(
                name="log-group",
                message=f"create log group {lg.name}",
                action=Action.create,
                resource=Resource("log-group", lg.name),
                operation="CreateLogGroup",
                params={"logGroupName": lg.name, "tags": dict(lg.tags)},
                tolerate=("ResourceAlreadyExistsException",),
            )
        )
    steps += function_steps(desired, observed, wanted)
    if "url" in wanted:
        steps += url_steps(desired, observed)
    return steps


def _tagset(tags: dict[str, str] | Any) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(dict(tags).items())]


def bucket_steps(d: Desired, o: Observed) -> list[Step]:
    b, ob = d.bucket, o.bucket
    tag_step = Step(
        name="bucket",
        message=f"tag bucket {b.name} as this lab's",
        action=Action.tag,
        resource=Resource("bucket", b.name),
        operation="PutBucketTagging",
        params={"Bucket": b.name, "Tagging": {"TagSet": _tagset(b.tags)}},
        changes=("not tagged as this lab's",),
    )
    if not ob.exists:
        params: dict[str, Any] = {"Bucket": b.name}
        if b.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            params["CreateBucketConfiguration"] = {"LocationConstraint": b.region}
        create = Step(
            name="bucket",
            message=f"create bucket {b.name} in {b.region}",
            action=Action.create,
            resource=Resource("bucket", b.name),
            operation="CreateBucket",
            params=params,
            tolerate=("BucketAlreadyOwnedByYou",),
        )
        return [create, tag_step]
    if bucket_conflict(d, o):
        return []
    if not ob.tags and b.adopt_untagged and ob.empty:
        # created by an interrupted run before it could tag it (so still empty); an untagged
        # bucket with objects under the default name is someone's own: used, never deleted
        return [tag_step]
    return []


def role_steps(d: Desired, o: Observed) -> list[Step]:
    r, orl = d.role, o.role
    steps: list[Step] = []
    if not orl.exists:
        steps.append(
            Step(
                name="role",
                message=f"create role {r.name} (trusted by lambda.amazonaws.com)",
                action=Action.create,
                resource=Resource("role", r.name),
                operation="CreateRole",
                params={
                    "RoleName": r.name,
                    "AssumeRolePolicyDocument": json.dumps(r.trust_policy),
                    "Description": f"dogxray lab {d.lab}: the Lambda function's role",
                    "Tags": _tagset(r.tags),
                },
                tolerate=("EntityAlreadyExists",),
            )
        )
    elif role_conflict(d, o):
        return []
    else:
        if not same_document(r.trust_policy, orl.trust_policy):
            steps.append(
                Step(
                    name="role",
                    message=f"restore the trust policy of role {r.name}",
                    action=Action.update,
                    resource=Resource("role", r.name),
                    operation="UpdateAssumeRolePolicy",
                    params={"RoleName": r.name, "PolicyDocument": json.dumps(r.trust_policy)},
                    changes=("trust policy differs",),
                )
            )
        changed = {k: v for k, v in r.tags.items() if orl.tags.get(k) != v}
        if changed:
            steps.append(
                Step(
                    name="role",
                    message=f"tag role {r.name}: {_kv(changed)}",
                    action=Action.tag,
                    resource=Resource("role", r.name),
                    operation="TagRole",
                    params={"RoleName": r.name, "Tags": _tagset(changed)},
                    changes=tuple(f"tag {k} is not {v}" for k, v in changed.items()),
                )
            )
    return steps + _policy_steps(d, o)


def _policy_steps(d: Desired, o: Observed) -> list[Step]:
    r, orl = d.role, o.role
    role = Resource("role", r.name)
    steps: list[Step] = []
    inline_ok = r.policy_name in orl.inline and same_document(
        r.inline_policy, orl.inline[r.policy_name]
    )
    if r.mode is PolicyMode.least_privilege and not inline_ok:
        missing = r.policy_name not in orl.inline
        steps.append(
            Step(
                name="role-policy",
                message=f"put least-privilege policy {r.policy_name} on role {r.name}",
                action=Action.create if missing else Action.update,
                resource=Resource("inline-policy", r.policy_name, of=role),
                operation="PutRolePolicy",
                params={
                    "RoleName": r.name,
                    "PolicyName": r.policy_name,
                    "PolicyDocument": json.dumps(r.inline_policy),
                },
                changes=(f"inline policy {r.policy_name} {'missing' if missing else 'differs'}",),
            )
        )
    if r.mode is PolicyMode.console and r.policy_name in orl.inline:
        steps.append(
            Step(
                name="role-policy",
                message=f"remove least-privilege policy {r.policy_name} from role {r.name}",
                action=Action.delete,
                resource=Resource("inline-policy", r.policy_name, of=role),
                operation="DeleteRolePolicy",
                params={"RoleName": r.name, "PolicyName": r.policy_name},
                tolerate=("NoSuchEntity",),
                changes=(f"inline policy {r.policy_name} present in console mode",),
            )
        )
    for arn in r.managed_arns:
        attached = arn in orl.attached
        if (r.mode is PolicyMode.console) != attached:
            verb = "attach" if not attached else "detach"
            steps.append(
                Step(
                    name="role-policy",
                    message=f"{verb} {arn.rsplit('/', 1)[-1]} {'to' if not attached else 'from'} "
                    f"role {r.name}",
                    action=Action.detach if attached else Action.attach,
                    resource=Resource("managed-policy", arn, of=role),
                    operation="DetachRolePolicy" if attached else "AttachRolePolicy",
                    params={"RoleName": r.name, "PolicyArn": arn},
                    tolerate=("NoSuchEntity",) if attached else (),
                    changes=(f"managed policy {arn} {'missing' if not attached else 'attached'}",),
                )
            )
    return steps


def config_diff(d: Desired, o: Observed) -> list[tuple[str, str, str]]:
    """(setting, deployed, desired) for each difference in the function configuration."""
    f, of = d.function, o.function
    pairs = [
        ("runtime", f.runtime, of.runtime),
        ("handler", f.handler, of.handler),
        ("timeout", f"{f.timeout} s", f"{of.timeout} s"),
        ("memory", f"{f.memory} MB", f"{of.memory} MB"),
        ("tracing", _mode(f.tracing), _mode(of.tracing)),
        ("role", f.role_arn, of.role_arn),
    ]
    out = [(k, str(have), str(want)) for k, want, have in pairs if want != have]
    for key in sorted(set(f.env) | set(of.env)):
        want, have = f.env.get(key), of.env.get(key)
        if want != have:
            out.append((key, "unset" if have is None else have, "unset" if want is None else want))
    return out


def _mode(active: bool) -> str:
    return "Active" if active else "PassThrough"


def _kv(tags: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def concurrency_steps(f: FunctionSpec, have: int | None) -> list[Step]:
    """The function's reserved concurrency: reserve (PutFunctionConcurrency) or release
    (DeleteFunctionConcurrency) when it differs from what is deployed."""
    want = f.reserved
    if want == have:
        return []
    params: dict[str, Any]
    if want is None:
        operation, params = "DeleteFunctionConcurrency", {"FunctionName": f.name}
        message = f"remove the reserved concurrency ({have}) of {f.name}"
    else:
        operation = "PutFunctionConcurrency"
        params = {"FunctionName": f.name, "ReservedConcurrentExecutions": want}
        stopped = " (0: every invocation is throttled)" if want == 0 else ""
        message = f"reserve {want} concurrent executions for {f.name}{stopped}"
    return [
        Step(
            name="function-configuration",
            message=message,
            action=Action.update,
            resource=Resource("function", f.name),
            operation=operation,
            params=params,
            function_name=f.name,
            changes=(f"reserved concurrency is {_reserved(have)}, expected {_reserved(want)}",),
        )
    ]


def _reserved(count: int | None) -> str:
    return "none" if count is None else str(count)


def function_steps(d: Desired, o: Observed, wanted: frozenset[str]) -> list[Step]:
    f, of = d.function, o.function
    config = {
        "FunctionName": f.name,
        "Role": f.role_arn,
        "Handler": f.handler,
        "Runtime": f.runtime,
        "Timeout": f.timeout,
        "MemorySize": f.memory,
        "TracingConfig": {"Mode": _mode(f.tracing)},
        "Environment": {"Variables": dict(f.env)},
    }
    if not of.exists:
        if "function" not in wanted:
            return []
        return [
            Step(
                name="function",
                message=f"create function {f.name} ({f.runtime}, {f.arch}, {f.memory} MB)",
                action=Action.create,
                resource=Resource("function", f.name),
                operation="CreateFunction",
                params={
                    **config,
                    "Code": {"ZipFile": f.zip_bytes},
                    "Architectures": [f.arch],
                    "Description": f"dogxray lab {d.lab}: saves a random dog photo to S3",
                    "Tags": dict(f.tags),
                },
                wait=Wait.function_active,
                function_name=f.name,
                produces=Output.function_arn,
            ),
            *concurrency_steps(f, None),
        ]
    if function_conflict(d, o):
        return []
    steps: list[Step] = []
    code_differs = f.code_sha256 is not None and f.code_sha256 != of.code_sha256
    if "code" in wanted and (code_differs or f.arch != of.arch):
        steps.append(
            Step(
                name="function-code",
                message=f"upload new code to {f.name}",
                action=Action.update,
                resource=Resource("function", f.name),
                operation="UpdateFunctionCode",
                params={"FunctionName": f.name, "ZipFile": f.zip_bytes, "Architectures": [f.arch]},
                wait=Wait.function_updated,
                function_name=f.name,
                changes=("code differs from the local package",)
                if code_differs
                else (f"architecture is {of.arch}, expected {f.arch}",),
            )
        )
    diff = config_diff(d, o)
    if "config" in wanted and diff:
        steps.append(
            Step(
                name="function-configuration",
                message=f"update {f.name}: " + "; ".join(f"{k} {a} -> {b}" for k, a, b in diff),
                action=Action.update,
                resource=Resource("function", f.name),
                operation="UpdateFunctionConfiguration",
                params=config,
                wait=Wait.function_updated,
                function_name=f.name,
                changes=tuple(f"{k} is {a}, expected {b}" for k, a, b in diff),
            )
        )
    if "config" in wanted:
        steps += concurrency_steps(f, of.reserved)
    tags = {k: v for k, v in f.tags.items() if of.tags.get(k) != v}
    if ("config" in wanted or "function" in wanted) and tags:
        steps.append(
            Step(
                name="function-configuration",
                message=f"tag function {f.name}: {_kv(tags)}",
                action=Action.tag,
                resource=Resource("function", f.name),
                operation="TagResource",
                params={"Resource": of.arn, "Tags": tags},
                changes=tuple(f"tag {k} is not {v}" for k, v in tags.items()),
            )
        )
    return steps
