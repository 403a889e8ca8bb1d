"""Steps are plain data: they compare with ==, print as JSON (`setup --dry-run --output
json`), and every operation the planner and cleanup can emit exists in botocore's model
of its service, with parameters that model accepts."""

from __future__ import annotations

import ast
import base64
import hashlib
import inspect
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from botocore.validate import ParamValidator
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.config import Settings
from dogxray.lab import alarm_plan, cleanup, executor, planner, policies, url_plan
from dogxray.lab.cleanup import Survey, plan_cleanup
from dogxray.lab.executor import COMPOSITES, UnknownOperation, method_of
from dogxray.lab.models import (
    Action,
    ObservedBucket,
    ObservedLogGroup,
    ObservedRole,
    Permission,
    PolicyMode,
    Resource,
    Step,
)
from dogxray.lab.planner import plan

from .conftest import Lab, make_zip, shared_session, tiny_zip
from .test_planner import BUCKET, FUNCTION, LOG_GROUP, NOTHING, ROLE, desired, matching

ZIP = make_zip()
ROLE_ARN = f"arn:aws:iam::123456789012:role/{ROLE}"


def planner_steps() -> Iterator[Step]:
    """Every kind of planned step: an empty account, each drift the planner repairs, both
    policy modes, the URL switched off."""
    d = desired()
    o = matching(d)
    fn = o.function
    yield from plan(d, NOTHING)
    yield from plan(desired(region="eu-west-1"), NOTHING)
    drifted = replace(
        fn,
        timeout=3,
        tracing=False,
        arch="arm64",
        code_sha256="other",
        tags={**fn.tags, "dogxray:settings": "old"},
        url_auth_type="AWS_IAM",
        permissions=(
            Permission(sid="open", action="lambda:InvokeFunction"),
            replace(policies.URL_PERMISSIONS[0], url_auth_type="AWS_IAM"),
        ),
    )
    role = replace(o.role, trust_policy={}, tags={"dogxray:lab": "dog-photo"})
    untagged = ObservedBucket(name=BUCKET, exists=True, ours=True, empty=True)
    yield from plan(d, replace(o, function=drifted, role=role, bucket=untagged))
    console = desired(policy=PolicyMode.console)
    yield from plan(console, o)
    attached = replace(o.role, inline={}, attached=console.role.managed_arns)
    yield from plan(d, replace(o, role=attached))
    yield from plan(desired(url=False), o)
    reserve = replace(d, function=replace(d.function, reserved=3))
    yield from plan(reserve, o)  # PutFunctionConcurrency
    yield from plan(d, replace(o, function=replace(fn, reserved=3)))  # DeleteFunctionConcurrency


def cleanup_steps() -> list[Step]:
    """A full cleanup, of a console-mode role with an extra inline policy."""
    o = matching(desired())
    console = desired(policy=PolicyMode.console)
    role = ObservedRole(
        exists=True, inline={"extra": {}}, attached=console.role.managed_arns, tags=o.role.tags
    )
    seen = Survey(o.function, role, ObservedLogGroup(exists=True), (o.bucket,))
    steps, _ = plan_cleanup(seen, Settings.from_options(), "us-east-1")
    return steps


def alarm_steps() -> list[Step]:
    """The `alarm` command's steps: everything made (with an email), then removed."""
    from dogxray.lab import alarm_plan as ap

    s = Settings.from_options()
    arn = "arn:aws:sns:us-east-1:123456789012:dog-photo-function-alarms"
    nothing = ap.Observed(ap.ObservedAlarm(exists=False), ap.ObservedTopic(False, arn))
    made = ap.plan(s, ap.AlarmOptions(email="me@example.com"), nothing)
    ours = {"dogxray:lab": "dog-photo"}
    seen = ap.Observed(
        ap.ObservedAlarm(exists=True, tags=ours), ap.ObservedTopic(True, arn, tags=ours)
    )
    return [*made, *ap.off_steps(s, seen)]


def every_step() -> list[Step]:
    return [*planner_steps(), *cleanup_steps(), *alarm_steps()]


def operations_in_source(clients: dict[str, Any]) -> set[str]:
    """Every string in planner.py, url_plan.py, cleanup.py and alarm_plan.py that names an
    operation of a service the lab uses: the walk above must reach each of them."""
    known: set[str] = set()
    for client in clients.values():
        known |= set(client.meta.service_model.operation_names)
    found: set[str] = set()
    for module in (planner, url_plan, cleanup, alarm_plan):
        tree = ast.parse(Path(str(module.__file__)).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in known:
                found.add(node.value)
    return found


def test_every_operation_is_dispatched_and_its_params_validate() -> None:
    steps = list(every_step())
    clients = {
        s: shared_session().create_client(s, region_name="us-east-1")
        for s in {"s3", "iam", "logs", "lambda", "cloudwatch", "sns"}
    }
    validator = ParamValidator()
    walked: set[str] = set()
    for st in steps:
        client = clients[st.service]
        if st.operation is None:
            composite = COMPOSITES[(st.resource.kind, st.action)]
            inspect.signature(composite.run).bind(client, Settings(), **st.params)
            for op in composite.operations:
                assert callable(method_of(client, op)), op
            continue
        walked.add(st.operation)
        assert callable(method_of(client, st.operation)), st.message
        shape = client.meta.service_model.operation_model(st.operation).input_shape
        report = validator.validate(dict(st.params), shape)
        assert not report.has_errors(), f"{st.message}: {report.generate_report()}"
    assert walked == operations_in_source(clients)  # the walk reaches every operation
    assert len(walked) == 30
    assert {st.action for st in steps} == set(Action)


def test_every_repair_says_what_it_repairs() -> None:
    """`status` reports a step's `changes`: every planned step but the creation of a
    missing lab resource (which `status` shows as missing) carries them."""
    creations = {"bucket", "role", "log-group", "function"}
    for st in planner_steps():
        if st.action is Action.create and st.resource.kind in creations:
            assert st.changes == (), st.message
        else:
            assert st.changes, st.message


def test_unknown_operation_is_a_programming_error(lab: Lab) -> None:
    bad = Step(
        name="function",
        message="create function f",
        action=Action.create,
        resource=Resource("function", "f"),
        operation="CreateFunctions",
        params={"FunctionName": "f"},
    )
    with pytest.raises(UnknownOperation, match="lambda has no operation 'CreateFunctions'"):
        lab.executor.run_one(bad)
    no_composite = replace(bad, operation=None, action=Action.empty)
    with pytest.raises(UnknownOperation, match="no composite step empty for kind 'function'"):
        lab.executor.run_one(no_composite)
    assert lab.calls.mutating == []


def test_dispatch_uses_botocores_own_names() -> None:
    lam = shared_session().create_client("lambda", region_name="us-east-1")
    assert method_of(lam, "CreateFunctionUrlConfig") == lam.create_function_url_config
    s3 = shared_session().create_client("s3", region_name="us-east-1")
    assert method_of(s3, "PutBucketTagging") == s3.put_bucket_tagging
    with pytest.raises(UnknownOperation):
        method_of(s3, "put_bucket_tagging")  # python names are not operations
    assert executor.empty_bucket.__name__ == "empty_bucket"


def test_plans_compare_and_round_trip_through_json() -> None:
    d, o = desired(), NOTHING
    assert plan(d, o) == plan(d, o)
    assert plan(d, o) != plan(desired(timeout=20), o)
    docs = [st.to_json() for st in every_step()]
    text = json.dumps(docs)
    assert json.loads(text) == docs
    assert base64.b64encode(ZIP).decode() not in text and "PK\\u0003" not in text
    [create] = [doc for doc in docs if doc["operation"] == "CreateFunction"][:1]
    assert create["params"]["Code"] == {"ZipFile": _zip_summary()}
    [code] = [doc for doc in docs if doc["operation"] == "UpdateFunctionCode"][:1]
    assert code["params"]["ZipFile"] == _zip_summary()


def _zip_summary() -> dict[str, Any]:
    digest = base64.b64encode(hashlib.sha256(ZIP).digest()).decode()
    return {"size": len(ZIP), "sha256": digest}


def _step(
    name: str,
    message: str,
    action: str,
    resource: dict[str, Any],
    service: str,
    operation: str,
    params: dict[str, Any],
    *,
    tolerate: list[str] | None = None,
    changes: list[str] | None = None,
    wait: str | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "message": message,
        "action": action,
        "resource": resource,
        "service": service,
        "operation": operation,
        "params": params,
        "wait": wait,
        "function_name": FUNCTION if wait else None,
        "tolerate": tolerate or [],
        "changes": changes or [],
    }


def test_setup_dry_run_prints_the_plan_as_data(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    monkeypatch.setattr("dogxray.commands.lab.connect", lambda _ctx: lab.aws)
    result = CliRunner().invoke(app, ["setup", "--dry-run", "--output", "json"])
    assert result.exit_code == 0, result.stderr
    assert lab.calls.mutating == []
    assert result.stdout.endswith("}\n") and result.stdout.count("\n}\n") == 1
    role = {"kind": "role", "name": ROLE}
    url = {"kind": "function-url", "name": FUNCTION}
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LabBucketObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
            {
                "Sid": "FunctionLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [
                    f"arn:aws:logs:us-east-1:123456789012:log-group:{LOG_GROUP}",
                    f"arn:aws:logs:us-east-1:123456789012:log-group:{LOG_GROUP}:*",
                ],
            },
            {
                "Sid": "XRayWrite",
                "Effect": "Allow",
                "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                "Resource": "*",
            },
        ],
    }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    assert json.loads(result.stdout) == {
        "lab": "dog-photo",
        "region": "us-east-1",
        "bucket": BUCKET,
        "role_arn": ROLE_ARN,
        "function_arn": f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}",
        "function_url": None,
        "changed": [
            "bucket",
            "role",
            "role-policy",
            "log-group",
            "function",
            "function-url",
            "url-permissions",
        ],
        "unchanged": [],
        "plan": [
            _step(
                "bucket",
                f"create bucket {BUCKET} in us-east-1",
                "create",
                {"kind": "bucket", "name": BUCKET},
                "s3",
                "CreateBucket",
                {"Bucket": BUCKET},
                tolerate=["BucketAlreadyOwnedByYou"],
            ),
            _step(
                "bucket",
                f"tag bucket {BUCKET} as this lab's",
                "tag",
                {"kind": "bucket", "name": BUCKET},
                "s3",
                "PutBucketTagging",
                {
                    "Bucket": BUCKET,
                    "Tagging": {
                        "TagSet": [
                            {"Key": "dogxray:created", "Value": "true"},
                            {"Key": "dogxray:lab", "Value": "dog-photo"},
                        ]
                    },
                },
                changes=["not tagged as this lab's"],
            ),
            _step(
                "role",
                f"create role {ROLE} (trusted by lambda.amazonaws.com)",
                "create",
                role,
                "iam",
                "CreateRole",
                {
                    "RoleName": ROLE,
                    "AssumeRolePolicyDocument": json.dumps(trust),
                    "Description": "dogxray lab dog-photo: the Lambda function's role",
                    "Tags": [
                        {"Key": "dogxray:bucket", "Value": BUCKET},
                        {"Key": "dogxray:lab", "Value": "dog-photo"},
                        {"Key": "dogxray:region", "Value": "us-east-1"},
                    ],
                },
                tolerate=["EntityAlreadyExists"],
            ),
            _step(
                "role-policy",
                f"put least-privilege policy dog-photo-function-policy on role {ROLE}",
                "create",
                {"kind": "inline-policy", "name": "dog-photo-function-policy", "of": role},
                "iam",
                "PutRolePolicy",
                {
                    "RoleName": ROLE,
                    "PolicyName": "dog-photo-function-policy",
                    "PolicyDocument": json.dumps(policy),
                },
                changes=["inline policy dog-photo-function-policy missing"],
            ),
            _step(
                "log-group",
                f"create log group {LOG_GROUP}",
                "create",
                {"kind": "log-group", "name": LOG_GROUP},
                "logs",
                "CreateLogGroup",
                {"logGroupName": LOG_GROUP, "tags": {"dogxray:lab": "dog-photo"}},
                tolerate=["ResourceAlreadyExistsException"],
            ),
            _step(
                "function",
                f"create function {FUNCTION} (python3.13, x86_64, 128 MB)",
                "create",
                {"kind": "function", "name": FUNCTION},
                "lambda",
                "CreateFunction",
                {
                    "FunctionName": FUNCTION,
                    "Role": ROLE_ARN,
                    "Handler": "lambda_function.lambda_handler",
                    "Runtime": "python3.13",
                    "Timeout": 15,
                    "MemorySize": 128,
                    "TracingConfig": {"Mode": "Active"},
                    "Environment": {"Variables": {"BUCKET_NAME": BUCKET}},
                    "Code": {"ZipFile": _zip_summary()},
                    "Architectures": ["x86_64"],
                    "Description": "dogxray lab dog-photo: saves a random dog photo to S3",
                    "Tags": {
                        "dogxray:lab": "dog-photo",
                        "dogxray:bucket": BUCKET,
                        "dogxray:settings": "runtime=python3.13 arch=x86_64 memory=128 "
                        "timeout=15 tracing=on url=on tracer=xray reserved=none",
                    },
                },
                wait="function_active_v2",
            ),
            _step(
                "function-url",
                f"create the Function URL of {FUNCTION} (auth NONE)",
                "create",
                url,
                "lambda",
                "CreateFunctionUrlConfig",
                {"FunctionName": FUNCTION, "AuthType": "NONE"},
                changes=["no Function URL"],
            ),
            _step(
                "url-permissions",
                "allow lambda:InvokeFunctionUrl by anyone through the Function URL "
                "(FunctionURLAllowPublicAccess)",
                "create",
                {"kind": "permission", "name": "FunctionURLAllowPublicAccess", "of": url},
                "lambda",
                "AddPermission",
                {
                    "FunctionName": FUNCTION,
                    "StatementId": "FunctionURLAllowPublicAccess",
                    "Action": "lambda:InvokeFunctionUrl",
                    "Principal": "*",
                    "FunctionUrlAuthType": "NONE",
                },
                changes=[
                    "permission FunctionURLAllowPublicAccess (lambda:InvokeFunctionUrl) missing"
                ],
            ),
            _step(
                "url-permissions",
                "allow lambda:InvokeFunction by anyone through the Function URL "
                "(FunctionURLAllowInvokeAction)",
                "create",
                {"kind": "permission", "name": "FunctionURLAllowInvokeAction", "of": url},
                "lambda",
                "AddPermission",
                {
                    "FunctionName": FUNCTION,
                    "StatementId": "FunctionURLAllowInvokeAction",
                    "Action": "lambda:InvokeFunction",
                    "Principal": "*",
                    "InvokedViaFunctionUrl": True,
                },
                changes=["permission FunctionURLAllowInvokeAction (lambda:InvokeFunction) missing"],
            ),
        ],
    }


def test_cleanup_exposes_its_steps_as_data(lab: Lab) -> None:
    from dogxray.lab import service
    from dogxray.lab.models import SetupOptions

    service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor).to_json()
    dry = service.cleanup(lab.aws, dry_run=True).to_json()
    assert [(st["action"], st["operation"]) for st in dry["plan"]] == [
        ("delete", "DeleteFunctionUrlConfig"),
        ("delete", "DeleteFunction"),
        ("delete", "DeleteLogGroup"),
        ("delete", "DeleteRolePolicy"),
        ("delete", "DeleteRole"),
        ("empty", None),
        ("delete", "DeleteBucket"),
    ]
    assert dry["deleted"] == [
        f"the Function URL of {FUNCTION}",
        f"function {FUNCTION}",
        f"log group {LOG_GROUP}",
        f"inline policy dog-photo-function-policy of role {ROLE}",
        f"role {ROLE}",
        f"bucket {BUCKET}",
    ]
    lab.client("s3").put_object(Bucket=BUCKET, Key="dog.jpg", Body=b"woof")
    lab.calls.clear()
    done = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert done["plan"] == dry["plan"] and done["remaining"] == []
    assert ("s3", "ListObjectVersions") in lab.calls.seen
    assert ("s3", "DeleteObjects") in lab.calls.mutating
