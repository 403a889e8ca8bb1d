"""The planner is pure: desired + observed in, steps out. No AWS, not even moto."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.lab import policies
from dogxray.lab.cleanup import Survey, deleted, plan_cleanup
from dogxray.lab.conflicts import conflicts
from dogxray.lab.desired import build_desired
from dogxray.lab.models import (
    Action,
    Conflict,
    Desired,
    Observed,
    ObservedBucket,
    ObservedFunction,
    ObservedLogGroup,
    ObservedRole,
    Permission,
    PolicyMode,
    Resource,
    SetupOptions,
)
from dogxray.lab.planner import plan

from .conftest import make_zip

BUCKET = "lovely-dogs-123456789012-us-east-1"
FUNCTION = "dog-photo-function"
ROLE = "dog-photo-function-role-us-east-1"
LOG_GROUP = "/aws/lambda/dog-photo-function"


SETTINGS = Settings.from_options()


NOTHING = Observed(
    bucket=ObservedBucket(name=BUCKET, exists=False, ours=False),
    role=ObservedRole(exists=False),
    function=ObservedFunction(exists=False),
    log_group=ObservedLogGroup(exists=False),
)


def desired(observed: Observed = NOTHING, region: str = "us-east-1", **options: Any) -> Desired:
    bucket = f"lovely-dogs-123456789012-{region}"
    return build_desired(
        Settings.from_options(region=region),
        SetupOptions(**options),
        observed,
        bucket,
        region=region,
        account_id="123456789012",
        zip_bytes=make_zip(),
        keep_deployed=False,
    )


def matching(d: Desired) -> Observed:
    """The observation of a lab exactly as desired (moto-style permission statements)."""
    f = d.function
    return Observed(
        bucket=ObservedBucket(name=d.bucket.name, exists=True, ours=True, tags=dict(d.bucket.tags)),
        role=ObservedRole(
            exists=True,
            arn=d.role.arn,
            trust_policy=json.loads(json.dumps(d.role.trust_policy)),
            inline={d.role.policy_name: json.loads(json.dumps(d.role.inline_policy))},
            tags=dict(d.role.tags),
        ),
        function=ObservedFunction(
            exists=True,
            arn="arn:aws:lambda:us-east-1:123456789012:function:dog-photo-function",
            runtime=f.runtime,
            arch=f.arch,
            handler=f.handler,
            timeout=f.timeout,
            memory=f.memory,
            tracing=f.tracing,
            env=dict(f.env),
            tags=dict(f.tags),
            role_arn=f.role_arn,
            code_sha256=f.code_sha256,
            state="Active",
            url="https://x.lambda-url.us-east-1.on.aws/",
            url_auth_type="NONE",
            permissions=policies.URL_PERMISSIONS,
        ),
        log_group=ObservedLogGroup(exists=True),
    )


def test_empty_account_plans_the_whole_lab_in_order() -> None:
    steps = plan(desired(), NOTHING)
    assert [(s.name, s.service, s.operation, s.action, str(s.resource)) for s in steps] == [
        ("bucket", "s3", "CreateBucket", Action.create, f"bucket {BUCKET}"),
        ("bucket", "s3", "PutBucketTagging", Action.tag, f"bucket {BUCKET}"),
        ("role", "iam", "CreateRole", Action.create, f"role {ROLE}"),
        (
            "role-policy",
            "iam",
            "PutRolePolicy",
            Action.create,
            f"inline policy dog-photo-function-policy of role {ROLE}",
        ),
        ("log-group", "logs", "CreateLogGroup", Action.create, f"log group {LOG_GROUP}"),
        ("function", "lambda", "CreateFunction", Action.create, f"function {FUNCTION}"),
        (
            "function-url",
            "lambda",
            "CreateFunctionUrlConfig",
            Action.create,
            f"the Function URL of {FUNCTION}",
        ),
        (
            "url-permissions",
            "lambda",
            "AddPermission",
            Action.create,
            f"permission FunctionURLAllowPublicAccess of the Function URL of {FUNCTION}",
        ),
        (
            "url-permissions",
            "lambda",
            "AddPermission",
            Action.create,
            f"permission FunctionURLAllowInvokeAction of the Function URL of {FUNCTION}",
        ),
    ]
    assert [s.kind for s in steps] == [
        "bucket",
        "bucket",
        "role",
        "role",
        "log-group",
        "function",
        "function-url",
        "function-url",
        "function-url",
    ]
    create = steps[5]
    assert create.params["TracingConfig"] == {"Mode": "Active"}
    assert create.params["Timeout"] == 15 and create.params["Runtime"] == "python3.13"
    assert "ReservedConcurrentExecutions" not in json.dumps(str(create.params))
    assert steps[7].params == {
        "FunctionName": "dog-photo-function",
        "StatementId": "FunctionURLAllowPublicAccess",
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    }
    assert steps[8].params == {
        "FunctionName": "dog-photo-function",
        "StatementId": "FunctionURLAllowInvokeAction",
        "Action": "lambda:InvokeFunction",
        "Principal": "*",
        "InvokedViaFunctionUrl": True,
    }


def test_location_constraint_only_outside_us_east_1() -> None:
    assert plan(desired(), NOTHING, ["bucket"])[0].params == {"Bucket": BUCKET}
    eu = plan(desired(region="eu-west-1"), NOTHING, ["bucket"])[0]
    assert eu.params["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}


def test_lab_as_desired_needs_no_step() -> None:
    d = desired()
    assert plan(d, matching(d)) == []


def test_aws_style_url_conditions_count_as_the_same_permissions() -> None:
    statements = [
        {
            "Sid": "FunctionURLAllowPublicAccess",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:InvokeFunctionUrl",
            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        },
        {
            "Sid": "FunctionURLAllowInvokeAction",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:InvokeFunction",
            "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
        },
    ]
    parsed = policies.parse_permissions(json.dumps({"Statement": statements}))
    assert parsed == policies.URL_PERMISSIONS


def test_drift_becomes_targeted_updates() -> None:
    d = desired()
    o = matching(d)
    fn = replace(
        o.function,
        timeout=3,
        tracing=False,
        env={"BUCKET_NAME": "aws-bucket"},
        permissions=(
            *policies.URL_PERMISSIONS[:1],
            Permission(sid="open", action="lambda:InvokeFunction"),
        ),
    )
    steps = plan(d, replace(o, function=fn))
    assert [s.name for s in steps] == [
        "function-configuration",
        "url-permissions",
        "url-permissions",
    ]
    assert steps[0].message == (
        "update dog-photo-function: timeout 3 s -> 15 s; tracing PassThrough -> Active; "
        f"BUCKET_NAME aws-bucket -> {BUCKET}"
    )
    assert steps[0].changes == (
        "timeout is 3 s, expected 15 s",
        "tracing is PassThrough, expected Active",
        f"BUCKET_NAME is aws-bucket, expected {BUCKET}",
    )
    assert (steps[1].operation, steps[1].action) == ("RemovePermission", Action.delete)
    assert steps[1].params == {  # an unconditioned public invoke
        "FunctionName": FUNCTION,
        "StatementId": "open",
    }
    assert steps[2].params["StatementId"] == "FunctionURLAllowInvokeAction"


def test_new_code_only_when_the_sha_differs() -> None:
    d = desired()
    o = matching(d)
    assert plan(d, replace(o, function=replace(o.function, code_sha256="other")))[0].name == (
        "function-code"
    )
    keep = replace(d, function=replace(d.function, code_sha256=None))
    assert plan(keep, replace(o, function=replace(o.function, code_sha256="other"))) == []


def test_policy_mode_switch() -> None:
    d = desired(policy=PolicyMode.console)
    steps = plan(d, matching(desired()), ["role"])
    assert [(s.operation, dict(s.params)) for s in steps] == [
        ("DeleteRolePolicy", {"RoleName": ROLE, "PolicyName": "dog-photo-function-policy"}),
        *[
            ("AttachRolePolicy", {"RoleName": ROLE, "PolicyArn": arn})
            for arn in d.role.managed_arns
        ],
    ]
    assert len(d.role.managed_arns) == 3
    o = matching(desired())
    console = replace(o, role=replace(o.role, inline={}, attached=d.role.managed_arns))
    back = plan(desired(), console, ["role"])  # console -> least-privilege
    assert [(s.operation, s.action) for s in back] == [
        ("PutRolePolicy", Action.create),
        *[("DetachRolePolicy", Action.detach)] * 3,
    ]


def test_bucket_of_another_account_is_a_conflict_not_a_step() -> None:
    o = replace(NOTHING, bucket=ObservedBucket(name=BUCKET, exists=True, ours=False))
    [found] = conflicts(desired(), o)
    assert found == Conflict(
        "bucket",
        f"bucket {BUCKET} already exists and belongs to another AWS account",
        hint="bucket names are global: choose another with `--bucket NAME`",
    )
    assert found.error().exit_code == 1
    kinds = [s.kind for s in plan(desired(), o)]
    assert "bucket" not in kinds and kinds[:4] == ["role", "role", "log-group", "function"]


def test_bucket_in_another_region_is_a_usage_conflict() -> None:
    o = replace(
        NOTHING,
        bucket=ObservedBucket(name=BUCKET, exists=True, ours=True, tags={}, region="eu-west-1"),
    )
    [found] = conflicts(desired(), o)
    assert found.kind == "bucket" and found.usage and found.error().exit_code == 2
    assert "is in eu-west-1, not in the lab's region us-east-1" in found.message
    assert conflicts(desired(), o, ["role", "config"]) == []  # not a part the stage plans


def test_conflicts_is_pure_and_ordered_like_the_plan() -> None:
    """Every conflict at once, bucket, role, function; the function's for every part;
    none for a lab exactly as desired; the same answer twice (no state)."""
    d = desired()
    o = matching(d)
    assert conflicts(d, o) == []
    foreign = replace(
        o,
        bucket=replace(o.bucket, ours=False, tags={}),
        role=replace(o.role, tags={}),
        function=replace(o.function, tags={}),
    )
    found = conflicts(d, foreign)
    assert [c.kind for c in found] == ["bucket", "role", "function"]
    assert found == conflicts(d, foreign)
    assert [c.kind for c in conflicts(d, foreign, ["url"])] == ["function"]
    assert plan(d, foreign) == []  # no step for a resource in conflict


def test_untagged_bucket_adopted_only_under_the_default_name_and_when_empty() -> None:
    own = replace(NOTHING, bucket=ObservedBucket(name=BUCKET, exists=True, ours=True, empty=True))
    [tag] = plan(desired(), own, ["bucket"])
    assert (tag.operation, tag.action, tag.changes) == (
        "PutBucketTagging",
        Action.tag,
        ("not tagged as this lab's",),
    )
    full = replace(own, bucket=replace(own.bucket, empty=False))
    assert plan(desired(), full, ["bucket"]) == []  # someone's own photos: never adopted
    d = replace(desired(), bucket=replace(desired().bucket, name="mine", adopt_untagged=False))
    mine = replace(NOTHING, bucket=ObservedBucket(name="mine", exists=True, ours=True))
    assert plan(d, mine, ["bucket"]) == []


def test_foreign_function_with_the_lab_name_is_a_conflict() -> None:
    o = replace(NOTHING, function=ObservedFunction(exists=True, tags={}))
    [found] = conflicts(desired(), o, ["config"])
    assert found.kind == "function" and "dogxray did not create it" in found.message
    with pytest.raises(DogxrayError, match="dogxray did not create it"):
        raise found.error()
    assert plan(desired(), o, ["config"]) == []


def test_build_desired_is_pure() -> None:
    """No client, no session: settings, region and account in; equal results twice."""
    first, again = desired(region="eu-west-1"), desired(region="eu-west-1")
    assert first == again
    assert first.role.arn == ("arn:aws:iam::123456789012:role/dog-photo-function-role-eu-west-1")
    assert first.bucket.adopt_untagged  # the default name of that account and region


def test_cleanup_plan_keeps_what_dogxray_did_not_create() -> None:
    d = desired()
    o = matching(d)
    foreign = ObservedBucket(name="mine", exists=True, ours=True, tags={})
    seen = Survey(o.function, o.role, ObservedLogGroup(exists=True), (o.bucket, foreign))
    steps, kept = plan_cleanup(seen, SETTINGS, "us-east-1")
    notes = [k.note for k in kept]
    assert [(s.service, s.operation, dict(s.params)) for s in steps] == [
        ("lambda", "DeleteFunctionUrlConfig", {"FunctionName": FUNCTION}),
        ("lambda", "DeleteFunction", {"FunctionName": FUNCTION}),
        ("logs", "DeleteLogGroup", {"logGroupName": LOG_GROUP}),
        ("iam", "DeleteRolePolicy", {"RoleName": ROLE, "PolicyName": "dog-photo-function-policy"}),
        ("iam", "DeleteRole", {"RoleName": ROLE}),
        ("s3", None, {"Bucket": BUCKET}),  # composite: every version and delete marker
        ("s3", "DeleteBucket", {"Bucket": BUCKET}),
    ]
    assert steps[5].action is Action.empty and steps[5].resource == Resource("bucket", BUCKET)
    assert deleted(steps) == [
        f"the Function URL of {FUNCTION}",
        f"function {FUNCTION}",
        f"log group {LOG_GROUP}",
        f"inline policy dog-photo-function-policy of role {ROLE}",
        f"role {ROLE}",
        f"bucket {BUCKET}",
    ]
    assert notes == ["kept bucket mine: dogxray did not create it"]
