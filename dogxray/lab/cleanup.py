"""Remove the lab in a safe order, then prove nothing is left.

Resources are found by their derived names and the `dogxray:lab` tag, so cleanup works
after an interrupted setup (no function, or no role) too. Order: Function URL, function,
log group, role (inline + attached policies first), buckets dogxray created (every object
version and delete marker first). Each is deleted only when it carries this lab's tag (a
log group also when it has no tag at all and this lab's function exists: Lambda creates it
untagged on the first invocation). A bucket dogxray did not create for this lab, or that
another function of the region still writes to, is kept with a note that says why.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from dogxray.core.aws import Aws
from dogxray.core.config import TAG_BUCKET, TAG_CREATED, TAG_LAB, Settings
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


def cleanup_command(lab: str, settings: Settings | None = None) -> str:
    """The command that cleans `lab` up, with the global options this run was given (the
    global `--lab` only for a lab not the default)."""
    return f"`{replace(settings or Settings(), lab=lab).command('cleanup')}`"


def _writers_removal(lab: str, writers: list[BucketUser], settings: Settings | None) -> str:
    labs = [u.lab for u in writers if u.lab]
    others = [u.function for u in writers if not u.lab]
    first = [cleanup_command(other, settings) for other in dict.fromkeys(labs)]
    first += [f"point function {f} at another bucket (or delete it)" for f in others]
    return f"{', then '.join(first)}, then {cleanup_command(lab, settings)} again"


def plan_cleanup(
    lab: str,
    fn: ObservedFunction,
    role: ObservedRole,
    log_group: str | None,
    buckets: list[ObservedBucket],
    function_name: str,
    role_name: str,
    log_group_seen: ObservedLogGroup | None = None,
    users: dict[str, list[BucketUser]] | None = None,
) -> tuple[list[Step], list[str]]:
    """Pure: the deletion steps, and notes about what is deliberately kept."""
    steps, kept = plan_with_kept(
        lab, fn, role, log_group, buckets, function_name, role_name, log_group_seen, users
    )
    return steps, [k.note for k in kept]


def plan_with_kept(
    lab: str,
    fn: ObservedFunction,
    role: ObservedRole,
    log_group: str | None,
    buckets: list[ObservedBucket],
    function_name: str,
    role_name: str,
    log_group_seen: ObservedLogGroup | None = None,
    users: dict[str, list[BucketUser]] | None = None,
    settings: Settings | None = None,
) -> tuple[list[Step], list[Kept]]:
    """Pure: the deletion steps, and what is deliberately kept (why, how to remove it;
    the commands with `settings`' global options)."""
    steps: list[Step] = []
    kept: list[Kept] = []
    fn_ours = fn.exists and fn.tags.get(TAG_LAB) == lab
    if fn.exists and not fn_ours:
        kept.append(Kept(f"function {function_name}", f"it is not tagged {TAG_LAB}={lab}"))
    if fn_ours and fn.url:
        steps.append(
            _step(
                "function-url",
                f"delete the Function URL of {function_name}",
                Action.delete,
                Resource("function-url", function_name),
                "DeleteFunctionUrlConfig",
                FunctionName=function_name,
            )
        )
    if fn_ours:
        steps.append(
            _step(
                "function",
                f"delete function {function_name}",
                Action.delete,
                Resource("function", function_name),
                "DeleteFunction",
                FunctionName=function_name,
            )
        )
    lg_tags = log_group_seen.tags if log_group_seen else {}
    lg_lab = lg_tags.get(TAG_LAB)
    if log_group and (lg_lab == lab or (not lg_tags and fn_ours)):
        steps.append(
            _step(
                "log-group",
                f"delete log group {log_group}",
                Action.delete,
                Resource("log-group", log_group),
                "DeleteLogGroup",
                logGroupName=log_group,
            )
        )
    elif log_group:
        remove = None
        if lg_lab:
            why, remove = f"it belongs to lab {lg_lab}", cleanup_command(lg_lab, settings)
        elif lg_tags:
            why = f"it is not tagged {TAG_LAB}={lab}"
        else:
            why = f"it is not tagged {TAG_LAB}={lab} and this lab has no function"
            remove = f"`aws logs delete-log-group --log-group-name {log_group}` if it is yours"
        kept.append(Kept(f"log group {log_group}", why, remove))
    if role.exists and role.tags.get(TAG_LAB) == lab:
        the_role = Resource("role", role_name)
        for pname in sorted(role.inline):
            steps.append(
                _step(
                    "role",
                    f"delete inline policy {pname} of role {role_name}",
                    Action.delete,
                    Resource("inline-policy", pname, of=the_role),
                    "DeleteRolePolicy",
                    RoleName=role_name,
                    PolicyName=pname,
                )
            )
        for arn in role.attached:
            steps.append(
                _step(
                    "role",
                    f"detach {arn.rsplit('/', 1)[-1]} from role {role_name}",
                    Action.detach,
                    Resource("managed-policy", arn, of=the_role),
                    "DetachRolePolicy",
                    RoleName=role_name,
                    PolicyArn=arn,
                )
            )
        steps.append(
            _step(
                "role",
                f"delete role {role_name}",
                Action.delete,
                the_role,
                "DeleteRole",
                RoleName=role_name,
            )
        )
    elif role.exists:
        kept.append(Kept(f"role {role_name}", f"it is not tagged {TAG_LAB}={lab}"))
    for b in buckets:
        if not b.exists or not b.ours:
            continue
        owner = b.tags.get(TAG_LAB)
        if b.tags.get(TAG_CREATED) != "true":
            kept.append(Kept(f"bucket {b.name}", "dogxray did not create it"))
            continue
        if owner != lab:
            remove = cleanup_command(owner, settings) if owner else None
            kept.append(Kept(f"bucket {b.name}", f"it belongs to lab {owner}", remove))
            continue
        writers = (users or {}).get(b.name)
        if writers:
            why = ", ".join(_user_text(u) for u in writers) + " still write(s) to it"
            kept.append(Kept(f"bucket {b.name}", why, _writers_removal(lab, writers, settings)))
            continue
        steps.append(
            _step(
                "bucket",
                f"empty bucket {b.name} (every object version and delete marker)",
                Action.empty,
                Resource("bucket", b.name),
                None,  # composite: the executor's `empty_bucket`
                Bucket=b.name,
            )
        )
        steps.append(
            _step(
                "bucket",
                f"delete bucket {b.name}",
                Action.delete,
                Resource("bucket", b.name),
                "DeleteBucket",
                Bucket=b.name,
            )
        )
    return steps, kept


Survey = tuple[
    ObservedFunction,
    ObservedRole,
    ObservedLogGroup,
    list[ObservedBucket],
    dict[str, list[BucketUser]],
    ObservedRole,  # the role dogxray 0.1 shared between regions
]


def _survey(aws: Aws) -> Survey:
    s = aws.settings
    with ThreadPoolExecutor(max_workers=4) as pool:
        fn_f = pool.submit(obs.function, aws, s.function_name)
        role_f = pool.submit(obs.role, aws, s.role_name(aws.region))
        logs_f = pool.submit(obs.log_group, aws, s.log_group_name)
        scan_f = pool.submit(obs.lab_buckets, aws)
        shared_f = pool.submit(obs.role, aws, s.shared_role_name)
        fn, role = fn_f.result(), role_f.result()
        names = list(scan_f.result())
    for tags in (fn.tags, role.tags):
        if tags.get(TAG_BUCKET) and tags.get(TAG_LAB) == s.lab and tags[TAG_BUCKET] not in names:
            names.append(tags[TAG_BUCKET])
    buckets = [obs.bucket(aws, n) for n in names]
    users = obs.bucket_users(aws, [b.name for b in buckets if b.exists and b.ours])
    return fn, role, logs_f.result(), buckets, users, shared_f.result()


def _plan(aws: Aws, survey: Survey) -> tuple[list[Step], list[Kept]]:
    s = aws.settings
    fn, role, logs, buckets, users, shared = survey
    steps, kept = plan_with_kept(
        s.lab,
        fn,
        role,
        s.log_group_name if logs.exists else None,
        buckets,
        s.function_name,
        s.role_name(aws.region),
        log_group_seen=logs,
        users=users,
        settings=s,
    )
    if shared.exists and shared.tags.get(TAG_LAB) == s.lab:
        setup = replace(s, given=s.given - {"region"}).command("setup")
        kept.append(
            Kept(
                f"role {s.shared_role_name}",
                f"dogxray 0.1 shared it between regions; run `{setup}` in each region the "
                "lab uses (each gets a role of its own), then delete it by hand",
                f"`{setup}` in each region the lab uses, then "
                f"`aws iam delete-role --role-name {s.shared_role_name}` (after its policies)",
            )
        )
    return steps, kept


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
    for service in ("s3", "iam", "lambda", "logs", "sts"):
        aws.client(service)
    steps, kept = _plan(aws, _survey(aws))
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
    left, _ = _plan(aws, _survey(aws))
    return deleted(left)
