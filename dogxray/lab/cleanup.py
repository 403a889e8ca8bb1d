"""Remove the lab in a safe order, then prove nothing is left.

Resources are found by their derived names and the `dogxray:lab` tag, so cleanup works
after an interrupted setup (no function, or no role) too. Order: the `alarm` command's
alarm and SNS topic, Function URL, function, log group, role (inline + attached policies
first), buckets dogxray created (every object version and delete marker first). Each is
deleted only when it carries this lab's tag (a log group also when it has no tag at all
and this lab's function exists: Lambda creates it untagged on the first invocation). A
bucket dogxray did not create for this lab, or that another function of the region still
writes to, is kept with a note that says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from dogxray.core.aws import Aws
from dogxray.core.config import TAG_BUCKET, TAG_CREATED, TAG_LAB, Settings
from dogxray.lab import alarm_plan
from dogxray.lab import observe as obs
from dogxray.lab.executor import Executor
from dogxray.lab.models import (
    Action,
    BucketUser,
    ObservedBucket,
    ObservedFunction,
    ObservedLogGroup,
    ObservedRole,
    Resource,
    Step,
)
from dogxray.lab.progress import SILENT, Reporter
from dogxray.lab.results import CleanupResult, Kept

VERIFY_RETRIES = 3
VERIFY_INTERVAL_S = 2.0
XRAY_NOTE = "X-Ray traces cannot be deleted: they expire by themselves after 30 days"


def _step(
    name: str,
    message: str,
    action: Action,
    resource: Resource,
    operation: str | None,
    **params: Any,
) -> Step:
    missing = ("ResourceNotFoundException", "NoSuchEntity", "NoSuchBucket")
    return Step(
        name=name,
        message=message,
        action=action,
        resource=resource,
        operation=operation,
        params=params,
        tolerate=missing,
    )


def _user_text(user: BucketUser) -> str:
    if user.lab:
        return f"lab {user.lab} (function {user.function})"
    return f"function {user.function}"


def cleanup_command(lab: str, settings: Settings) -> str:
    """The command that cleans `lab` up, with the global options this run was given (the
    global `--lab` only for a lab not the default)."""
    return f"`{replace(settings, lab=lab).command('cleanup')}`"


def _writers_removal(lab: str, writers: list[BucketUser], settings: Settings) -> str:
    labs = [u.lab for u in writers if u.lab]
    others = [u.function for u in writers if not u.lab]
    first = [cleanup_command(other, settings) for other in dict.fromkeys(labs)]
    first += [f"point function {f} at another bucket (or delete it)" for f in others]
    return f"{', then '.join(first)}, then {cleanup_command(lab, settings)} again"


@dataclass(frozen=True)
class Survey:
    """What cleanup observed of the lab: its function, role and log group by their names,
    the buckets named by its tags, and which other functions write to those buckets."""

    function: ObservedFunction
    role: ObservedRole
    log_group: ObservedLogGroup
    buckets: tuple[ObservedBucket, ...] = ()
    users: Mapping[str, list[BucketUser]] = field(default_factory=dict)
    alarm: alarm_plan.Observed | None = None  # the `alarm` command's alarm and topic


Planned = tuple[list[Step], list[Kept]]  # deletion steps, and what is deliberately kept


def plan_cleanup(seen: Survey, settings: Settings, region: str) -> Planned:
    """Pure: the deletion steps in a safe order (Function URL, function, log group, role,
    buckets), and what is deliberately kept (why, and how to remove it with `settings`'
    global options)."""
    steps: list[Step] = alarm_plan.off_steps(settings, seen.alarm) if seen.alarm else []
    kept: list[Kept] = []
    for kind_steps, kind_kept in (
        _function_plan(seen, settings),
        _log_group_plan(seen, settings),
        _role_plan(seen, settings, settings.role_name(region)),
        _bucket_plan(seen, settings),
    ):
        steps += kind_steps
        kept += kind_kept
    return steps, kept


def _ours(fn: ObservedFunction, lab: str) -> bool:
    return fn.exists and fn.tags.get(TAG_LAB) == lab


def _function_plan(seen: Survey, s: Settings) -> Planned:
    fn, name = seen.function, s.function_name
    if fn.exists and not _ours(fn, s.lab):
        return [], [Kept(f"function {name}", f"it is not tagged {TAG_LAB}={s.lab}")]
    if not fn.exists:
        return [], []
    function = Resource("function", name)
    delete = _step(
        "function",
        f"delete function {name}",
        Action.delete,
        function,
        "DeleteFunction",
        FunctionName=name,
    )
    if not fn.url:
        return [delete], []
    url = _step(
        "function-url",
        f"delete the Function URL of {name}",
        Action.delete,
        Resource("function-url", name),
        "DeleteFunctionUrlConfig",
        FunctionName=name,
    )
    return [url, delete], []


def _log_group_plan(seen: Survey, s: Settings) -> Planned:
    """Deleted when tagged for this lab, or untagged while this lab's function exists
    (Lambda creates it untagged on the first invocation)."""
    if not seen.log_group.exists:
        return [], []
    name, tags = s.log_group_name, seen.log_group.tags
    owner = tags.get(TAG_LAB)
    if owner == s.lab or (not tags and _ours(seen.function, s.lab)):
        return [
            _step(
                "log-group",
                f"delete log group {name}",
                Action.delete,
                Resource("log-group", name),
                "DeleteLogGroup",
                logGroupName=name,
            )
        ], []
    remove = None
    if owner:
        why, remove = f"it belongs to lab {owner}", cleanup_command(owner, s)
    elif tags:
        why = f"it is not tagged {TAG_LAB}={s.lab}"
    else:
        why = f"it is not tagged {TAG_LAB}={s.lab} and this lab has no function"
        remove = f"`aws logs delete-log-group --log-group-name {name}` if it is yours"
    return [], [Kept(f"log group {name}", why, remove)]


def _role_plan(seen: Survey, s: Settings, name: str) -> Planned:
    """Its inline and attached policies first, then the role."""
    role = seen.role
    if not role.exists:
        return [], []
    if role.tags.get(TAG_LAB) != s.lab:
        return [], [Kept(f"role {name}", f"it is not tagged {TAG_LAB}={s.lab}")]
    the_role = Resource("role", name)
    steps = [
        _step(
            "role",
            f"delete inline policy {pname} of role {name}",
            Action.delete,
            Resource("inline-policy", pname, of=the_role),
            "DeleteRolePolicy",
            RoleName=name,
            PolicyName=pname,
        )
        for pname in sorted(role.inline)
    ]
    steps += [
        _step(
            "role",
            f"detach {arn.rsplit('/', 1)[-1]} from role {name}",
            Action.detach,
            Resource("managed-policy", arn, of=the_role),
            "DetachRolePolicy",
            RoleName=name,
            PolicyArn=arn,
        )
        for arn in role.attached
    ]
    steps.append(
        _step("role", f"delete role {name}", Action.delete, the_role, "DeleteRole", RoleName=name)
    )
    return steps, []


def _bucket_plan(seen: Survey, s: Settings) -> Planned:
    """Each bucket dogxray created for this lab that no other function writes to:
    emptied (every object version and delete marker), then deleted."""
    steps: list[Step] = []
    kept: list[Kept] = []
    for b in seen.buckets:
        if not b.exists or not b.ours:
            continue
        why = _bucket_kept(b, seen.users.get(b.name), s)
        if why is not None:
            kept.append(why)
            continue
        bucket = Resource("bucket", b.name)
        steps += [
            _step(
                "bucket",
                f"empty bucket {b.name} (every object version and delete marker)",
                Action.empty,
                bucket,
                None,
                Bucket=b.name,
            ),  # composite: `empty_bucket`
            _step(
                "bucket",
                f"delete bucket {b.name}",
                Action.delete,
                bucket,
                "DeleteBucket",
                Bucket=b.name,
            ),
        ]
    return steps, kept


def _bucket_kept(b: ObservedBucket, writers: list[BucketUser] | None, s: Settings) -> Kept | None:
    """Why a bucket of ours stays: not created by dogxray, another lab's, or still used."""
    owner = b.tags.get(TAG_LAB)
    if b.tags.get(TAG_CREATED) != "true":
        return Kept(f"bucket {b.name}", "dogxray did not create it")
    if owner != s.lab:
        remove = cleanup_command(owner, s) if owner else None
        return Kept(f"bucket {b.name}", f"it belongs to lab {owner}", remove)
    if writers:
        why = ", ".join(_user_text(u) for u in writers) + " still write(s) to it"
        return Kept(f"bucket {b.name}", why, _writers_removal(s.lab, writers, s))
    return None


def survey(aws: Aws) -> Survey:
    """One read of everything cleanup may delete: by name, in parallel, then the buckets
    the lab's tags name and their other writers."""
    s = aws.settings
    with ThreadPoolExecutor(max_workers=5) as pool:
        fn_f = pool.submit(obs.function, aws, s.function_name)
        role_f = pool.submit(obs.role, aws, s.role_name(aws.region))
        logs_f = pool.submit(obs.log_group, aws, s.log_group_name)
        scan_f = pool.submit(obs.lab_buckets, aws)
        alarm_f = pool.submit(alarm_plan.observe, aws)
        fn, role = fn_f.result(), role_f.result()
        names = list(scan_f.result())
    for tags in (fn.tags, role.tags):
        if tags.get(TAG_BUCKET) and tags.get(TAG_LAB) == s.lab and tags[TAG_BUCKET] not in names:
            names.append(tags[TAG_BUCKET])
    buckets = tuple(obs.bucket(aws, n) for n in names)
    users = obs.bucket_users(aws, [b.name for b in buckets if b.exists and b.ours])
    return Survey(fn, role, logs_f.result(), buckets, users, alarm_f.result())


def _plan(aws: Aws) -> Planned:
    return plan_cleanup(survey(aws), aws.settings, aws.region)


def deleted(steps: list[Step]) -> list[str]:
    """What the steps delete, named from their resources ("role dog-photo-function-role")."""
    return list(dict.fromkeys(str(st.resource) for st in steps if st.action is Action.delete))


def cleanup(
    aws: Aws,
    *,
    dry_run: bool = False,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> CleanupResult:
    """Delete what this lab created; `remaining` lists what still exists afterwards, and
    `plan` the steps as data (`Step.to_json`)."""
    for service in ("s3", "iam", "lambda", "logs", "sts", "cloudwatch", "sns"):
        aws.client(service)
    steps, kept = _plan(aws)
    notes = [k.note for k in kept]
    plan = [st.to_json() for st in steps]
    if dry_run:
        return CleanupResult(deleted(steps), [], notes, plan, dry_run=True, kept=kept)
    if not steps:
        return CleanupResult([], [], notes, [], kept=kept)
    runner = executor or Executor(aws, reporter=reporter)
    for st in steps:
        runner.reporter.progress(st.message)
        runner.run_one(st)
    remaining = _remaining(aws)
    for _ in range(VERIFY_RETRIES):  # IAM and S3 listings are eventually consistent
        if not remaining:
            break
        runner.sleep(VERIFY_INTERVAL_S)
        remaining = _remaining(aws)
    return CleanupResult(deleted(steps), remaining, [*notes, XRAY_NOTE], plan, kept=kept)


def _remaining(aws: Aws) -> list[str]:
    """What a cleanup would still delete: the proof that nothing is left."""
    left, _ = _plan(aws)
    return deleted(left)
