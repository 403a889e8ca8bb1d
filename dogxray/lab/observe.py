"""Read the lab's resources as they are: Get*/List*/Describe*/Head* calls only.

Missing resources are normal (a first setup, a partial lab after Ctrl-C) and come back as
`exists=False`; everything else an AWS call raises is left to the CLI to explain.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from dogxray.core.aws import Aws, ClientError, error_code
from dogxray.core.config import (
    ENV_BUCKET_NAME,
    TAG_BUCKET,
    TAG_CREATED,
    TAG_LAB,
    TAG_SETTINGS,
    Settings,
    default_bucket_name,
)
from dogxray.core.errors import DogxrayError
from dogxray.lab.desired import parse_settings
from dogxray.lab.models import (
    BucketUser,
    Deployed,
    Observed,
    ObservedBucket,
    ObservedFunction,
    ObservedLogGroup,
    ObservedRole,
)
from dogxray.lab.policies import parse_document, parse_permissions

T = TypeVar("T")
_MISSING = (
    "NoSuchEntity",
    "ResourceNotFoundException",
    "404",
    "NoSuchBucket",
    "NotFound",
    "NoSuchTagSet",
)


def _or_missing(call: Callable[[], T], missing: T) -> T:
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) in _MISSING:
            return missing
        raise


def tags_of(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def bucket(aws: Aws, name: str) -> ObservedBucket:
    s3 = aws.client("s3")
    try:
        head = s3.head_bucket(Bucket=name)
    except ClientError as exc:
        code = error_code(exc)
        if code in _MISSING:
            return ObservedBucket(name=name, exists=False, ours=False)
        if code in ("403", "AccessDenied", "Forbidden"):
            return ObservedBucket(name=name, exists=True, ours=False)
        raise
    tagging: dict[str, Any] = _or_missing(
        lambda: s3.get_bucket_tagging(Bucket=name), {"TagSet": []}
    )
    tags = tags_of(tagging.get("TagSet"))
    empty = None
    if not tags:  # interrupted before tagging (empty), or someone's own bucket: look inside
        listing = s3.list_object_versions(Bucket=name, MaxKeys=1)
        empty = not (listing.get("Versions") or listing.get("DeleteMarkers"))
    return ObservedBucket(
        name=name, exists=True, ours=True, tags=tags, empty=empty, region=_region_of(s3, name, head)
    )


def _region_of(s3: Any, name: str, head: dict[str, Any]) -> str:
    """HeadBucket's x-amz-bucket-region, else GetBucketLocation (None/"" means us-east-1)."""
    region = head.get("BucketRegion")
    if not region:
        region = s3.get_bucket_location(Bucket=name)["LocationConstraint"]
    return str(region or "us-east-1")


def _bucket_tags_or_none(aws: Aws, name: str) -> dict[str, str]:
    try:
        return tags_of(aws.client("s3").get_bucket_tagging(Bucket=name).get("TagSet"))
    except ClientError:
        return {}  # no tags, another region's redirect refused, or no permission


def lab_buckets(aws: Aws) -> list[str]:
    """Buckets dogxray created for this lab (tagged `dogxray:lab=<lab>` and created=true).

    One ListBuckets (this region only) plus a GetBucketTagging per bucket, in parallel: used
    only when the lab's function and role do not name the bucket, and by cleanup to catch
    orphans (e.g. a bucket left by `setup --bucket` before the lab moved to another)."""
    listing = aws.client("s3").list_buckets(BucketRegion=aws.region)  # lab buckets: this region
    names = [b["Name"] for b in listing.get("Buckets", [])]
    with ThreadPoolExecutor(max_workers=8) as pool:
        tagged = list(pool.map(lambda n: (n, _bucket_tags_or_none(aws, n)), names))
    lab = aws.settings.lab
    return [n for n, t in tagged if t.get(TAG_LAB) == lab and t.get(TAG_CREATED) == "true"]


def role(aws: Aws, name: str) -> ObservedRole:
    iam = aws.client("iam")
    found = _or_missing(lambda: iam.get_role(RoleName=name), None)
    if found is None:
        return ObservedRole(exists=False)
    info = found["Role"]
    inline = {}
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for pname in page["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"]
            inline[pname] = parse_document(doc)
    attached: list[str] = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        attached += [p["PolicyArn"] for p in page["AttachedPolicies"]]
    return ObservedRole(
        exists=True,
        arn=info["Arn"],
        trust_policy=parse_document(info.get("AssumeRolePolicyDocument", {})),
        inline=inline,
        attached=tuple(sorted(attached)),
        tags=tags_of(info.get("Tags")),
    )


def function(aws: Aws, name: str) -> ObservedFunction:
    lam = aws.client("lambda")
    found = _or_missing(lambda: lam.get_function(FunctionName=name), None)
    if found is None:
        return ObservedFunction(exists=False)
    cfg: dict[str, Any] = found["Configuration"]
    url: dict[str, Any] = _or_missing(lambda: lam.get_function_url_config(FunctionName=name), {})
    policy: dict[str, Any] = _or_missing(lambda: lam.get_policy(FunctionName=name), {})
    return ObservedFunction(
        exists=True,
        arn=cfg["FunctionArn"],
        runtime=cfg.get("Runtime"),
        arch=(cfg.get("Architectures") or ["x86_64"])[0],
        handler=cfg.get("Handler"),
        timeout=cfg.get("Timeout"),
        memory=cfg.get("MemorySize"),
        tracing=(cfg.get("TracingConfig") or {}).get("Mode") == "Active",
        env=dict((cfg.get("Environment") or {}).get("Variables") or {}),
        tags=dict(found.get("Tags") or {}),
        role_arn=cfg.get("Role"),
        code_sha256=cfg.get("CodeSha256"),
        state=cfg.get("State"),
        url=url.get("FunctionUrl"),
        url_auth_type=url.get("AuthType"),
        permissions=parse_permissions(policy.get("Policy")),
        reserved=_reserved(lam, name, found),
    )


def _reserved(lam: Any, name: str, found: dict[str, Any]) -> int | None:
    """The reserved concurrency GetFunction reports (`Concurrency`). moto leaves a
    reservation of 0 out of it, so when the lab recorded 0 and GetFunction shows none,
    GetFunctionConcurrency answers (on AWS it agrees with GetFunction)."""
    count = (found.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    recorded = parse_settings((found.get("Tags") or {}).get(TAG_SETTINGS)).get("reserved")
    if count is None and recorded == 0:
        count = lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
    return count


def log_group(aws: Aws, name: str) -> ObservedLogGroup:
    """The log group and its tags (cleanup deletes only one carrying the lab's tag)."""
    logs = aws.client("logs")
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for g in page.get("logGroups", []):
            if g["logGroupName"] == name:
                arn = g.get("logGroupArn") or str(g.get("arn", "")).removesuffix(":*")
                return ObservedLogGroup(exists=True, tags=_log_group_tags(logs, arn))
    return ObservedLogGroup(exists=False)


def _log_group_tags(logs: Any, arn: str) -> dict[str, str]:
    found: dict[str, Any] = _or_missing(lambda: logs.list_tags_for_resource(resourceArn=arn), {})
    return dict(found.get("tags") or {})


def bucket_users(aws: Aws, buckets: list[str]) -> dict[str, list[BucketUser]]:
    """Which other functions of this region write to `buckets`: their BUCKET_NAME, or the
    `dogxray:bucket` tag of a lab function (set while break-bucket points BUCKET_NAME away).
    Only functions named like a lab's (`*-function`) or naming a bucket have their tags read."""
    lam, own = aws.client("lambda"), aws.settings.function_name
    wanted = set(buckets)
    if not wanted:
        return {}
    candidates: list[tuple[str, str, str | None]] = []  # name, arn, BUCKET_NAME
    for page in lam.get_paginator("list_functions").paginate():
        for f in page.get("Functions", []):
            env = ((f.get("Environment") or {}).get("Variables") or {}).get(ENV_BUCKET_NAME)
            name = f["FunctionName"]
            if name != own and (env in wanted or name.endswith("-function")):
                candidates.append((name, f["FunctionArn"], env))

    def users(item: tuple[str, str, str | None]) -> list[tuple[str, BucketUser]]:
        name, arn, env = item
        reply: dict[str, Any] = _or_missing(lambda: lam.list_tags(Resource=arn), {})
        tags: dict[str, str] = reply.get("Tags") or {}
        user = BucketUser(function=name, lab=tags.get(TAG_LAB))
        named = {env, tags.get(TAG_BUCKET)}
        return [(b, user) for b in sorted(wanted) if b in named]

    found: dict[str, list[BucketUser]] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        for pairs in pool.map(users, candidates):
            for b, user in pairs:
                found.setdefault(b, []).append(user)
    return found


def resolve_bucket(aws: Aws, fn: ObservedFunction, rl: ObservedRole) -> str:
    """Which bucket is the lab's, without local state. In order: the `dogxray:bucket` tag
    of this lab's function (set by setup/deploy), of this lab's role in this region (set by
    create-role), a bucket dogxray created for this lab in this region (found by its tags,
    e.g. after a lone `create-bucket --bucket NAME`), else the lab's default name
    (`config.default_bucket_name`). Nothing of another lab or region is ever read, so a
    lab never adopts another's bucket. A pre-existing bucket (never tagged by dogxray) is
    remembered once the role or the function exists, so pass `--bucket` to `setup` for it."""
    lab = aws.settings.lab
    for tags in (fn.tags, rl.tags):
        if tags.get(TAG_BUCKET) and tags.get(TAG_LAB) == lab:
            return tags[TAG_BUCKET]
    default = default_bucket_name(lab, aws.account_id, aws.region)
    found = lab_buckets(aws)
    return default if default in found or not found else sorted(found)[0]


def observe(aws: Aws, bucket_name: str | None) -> tuple[Observed, str]:
    """Observe everything in parallel; returns the observation and the lab's bucket."""
    s = aws.settings
    for service in ("s3", "iam", "lambda", "logs", "sts"):
        aws.client(service)  # create clients before threads share them
    _ = aws.account_id
    with ThreadPoolExecutor(max_workers=3) as pool:
        fn_f = pool.submit(function, aws, s.function_name)
        role_f = pool.submit(role, aws, s.role_name(aws.region))
        logs_f = pool.submit(log_group, aws, s.log_group_name)
        fn, rl = fn_f.result(), role_f.result()
        name = bucket_name or resolve_bucket(aws, fn, rl)
        bk = bucket(aws, name)
        return Observed(bucket=bk, role=rl, function=fn, log_group=logs_f.result()), name


def nothing_deployed(settings: Settings) -> str:
    return f"nothing deployed; run `{settings.command('setup')}` first"


def deployed(aws: Aws) -> Deployed:
    """The deployed function, its URL and the lab's real bucket (from its tags)."""
    return deployed_of(aws, function(aws, aws.settings.function_name))


def deployed_of(aws: Aws, fn: ObservedFunction) -> Deployed:
    """`deployed` from a function already observed."""
    if not fn.exists or fn.tags.get(TAG_LAB) != aws.settings.lab:
        raise DogxrayError(
            nothing_deployed(aws.settings),
            where=f"lab {aws.settings.lab} in {aws.region}",
            hint=f"`{aws.settings.command('setup')}` builds the lab (or pass the right "
            "--lab / --region)",
        )
    real = fn.tags.get(TAG_BUCKET) or fn.env.get(ENV_BUCKET_NAME) or ""
    return Deployed(
        function_name=aws.settings.function_name,
        function_arn=str(fn.arn),
        function_url=fn.url,
        bucket=real,
        env_bucket=fn.env.get(ENV_BUCKET_NAME),
    )
