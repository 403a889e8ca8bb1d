"""The control plane against in-process moto: every field of the lab, idempotency,
drift repair, break/fix, cleanup, pre-existing buckets, dry runs and regions."""

from __future__ import annotations

import json

import pytest

from dogxray.lab import service
from dogxray.lab.models import PolicyMode, SetupOptions
from dogxray.lab.observe import parse_permissions

from .conftest import Lab, make_zip, new_lab, tiny_zip

BUCKET = "lovely-dogs-123456789012-us-east-1"
FUNCTION = "dog-photo-function"
ROLE = "dog-photo-function-role-us-east-1"
LOG_GROUP = "/aws/lambda/dog-photo-function"


def run_setup(lab: Lab, **options: object) -> dict:
    return service.setup(
        lab.aws, SetupOptions(**options), zip_provider=tiny_zip, executor=lab.executor
    ).to_json()


def test_setup_creates_every_resource_exactly(lab: Lab) -> None:
    doc = run_setup(lab)
    assert doc["lab"] == "dog-photo" and doc["region"] == "us-east-1"
    assert doc["bucket"] == BUCKET
    assert doc["role_arn"] == f"arn:aws:iam::123456789012:role/{ROLE}"
    assert doc["function_arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
    assert doc["function_url"].startswith("https://")
    assert doc["changed"] == [
        "bucket",
        "role",
        "role-policy",
        "log-group",
        "function",
        "function-url",
        "url-permissions",
    ]
    s3, iam, lam, logs = (lab.client(s) for s in ("s3", "iam", "lambda", "logs"))

    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags == {"dogxray:lab": "dog-photo", "dogxray:created": "true"}
    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] is None

    role = iam.get_role(RoleName=ROLE)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == {
        "dogxray:lab": "dog-photo",
        "dogxray:bucket": BUCKET,
        "dogxray:region": "us-east-1",
    }
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    policy = iam.get_role_policy(RoleName=ROLE, PolicyName="dog-photo-function-policy")
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["LabBucketObjects"]["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert statements["LabBucketObjects"]["Resource"] == f"arn:aws:s3:::{BUCKET}/*"
    log_arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{LOG_GROUP}"
    assert statements["FunctionLogs"]["Resource"] == [log_arn, f"{log_arn}:*"]
    assert set(statements["FunctionLogs"]["Action"]) == {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert "xray:PutTraceSegments" in statements["XRayWrite"]["Action"]
    assert "xray:PutTelemetryRecords" in statements["XRayWrite"]["Action"]

    fn = lam.get_function(FunctionName=FUNCTION)
    cfg = fn["Configuration"]
    assert cfg["Runtime"] == "python3.13"
    assert cfg["Handler"] == "lambda_function.lambda_handler"
    assert cfg["Timeout"] == 15
    assert cfg["MemorySize"] == 128
    assert cfg["Architectures"] == ["x86_64"]
    assert cfg["TracingConfig"] == {"Mode": "Active"}
    assert cfg["Environment"]["Variables"] == {"BUCKET_NAME": BUCKET}
    assert cfg["Role"] == doc["role_arn"]
    assert cfg["CodeSha256"] == service.code_sha256(make_zip())
    assert fn["Tags"] == {
        "dogxray:lab": "dog-photo",
        "dogxray:bucket": BUCKET,
        "dogxray:settings": "runtime=python3.13 arch=x86_64 memory=128 timeout=15 tracing=on "
        "url=on tracer=xray reserved=none",
    }
    assert "Concurrency" not in fn  # never reserved concurrency

    url = lam.get_function_url_config(FunctionName=FUNCTION)
    assert url["AuthType"] == "NONE" and url["FunctionUrl"] == doc["function_url"]
    raw = json.loads(lam.get_policy(FunctionName=FUNCTION)["Policy"])["Statement"]
    assert len(raw) == 2
    perms = {p.sid: p for p in parse_permissions(json.dumps({"Statement": raw}))}
    public = perms["FunctionURLAllowPublicAccess"]
    assert (public.action, public.principal, public.url_auth_type, public.via_url) == (
        "lambda:InvokeFunctionUrl",
        "*",
        "NONE",
        None,
    )
    invoke = perms["FunctionURLAllowInvokeAction"]
    assert (invoke.action, invoke.principal, invoke.url_auth_type, invoke.via_url) == (
        "lambda:InvokeFunction",
        "*",
        None,
        True,
    )
    groups = logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [LOG_GROUP]
    assert logs.list_tags_log_group(logGroupName=LOG_GROUP)["tags"] == {"dogxray:lab": "dog-photo"}


def test_second_setup_makes_no_mutating_call(lab: Lab) -> None:
    run_setup(lab)
    lab.calls.clear()
    doc = run_setup(lab)
    assert lab.calls.seen, "the second setup must still observe"
    assert lab.calls.mutating == []
    assert doc["changed"] == []
    assert "function-code" in doc["unchanged"] and "url-permissions" in doc["unchanged"]


def test_setup_repairs_drift(lab: Lab) -> None:
    run_setup(lab)
    lam, iam = lab.client("lambda"), lab.client("iam")
    lam.update_function_configuration(
        FunctionName=FUNCTION, Timeout=3, Environment={"Variables": {"BUCKET_NAME": "x", "K": "v"}}
    )
    lam.remove_permission(FunctionName=FUNCTION, StatementId="FunctionURLAllowInvokeAction")
    lam.delete_function_url_config(FunctionName=FUNCTION)
    iam.delete_role_policy(RoleName=ROLE, PolicyName="dog-photo-function-policy")

    drift = {r["kind"]: r for r in service.status(lab.aws).to_json()["resources"]}
    assert "timeout is 3 s, expected 15 s" in drift["function"]["drift"]
    assert (
        f"BUCKET_NAME is x, expected {BUCKET} (broken: run `dogxray fix-bucket`)"
        in drift["function"]["drift"]
    )
    assert "inline policy dog-photo-function-policy missing" in drift["role"]["drift"]
    assert drift["function-url"]["exists"] is False

    doc = run_setup(lab)
    assert doc["changed"] == [
        "role-policy",
        "function-configuration",
        "function-url",
        "url-permissions",
    ]
    cfg = lam.get_function_configuration(FunctionName=FUNCTION)
    assert cfg["Timeout"] == 15
    assert cfg["Environment"]["Variables"] == {"BUCKET_NAME": BUCKET, "K": "v"}
    assert len(json.loads(lam.get_policy(FunctionName=FUNCTION)["Policy"])["Statement"]) == 2
    lab.calls.clear()
    assert run_setup(lab)["changed"] == [] and lab.calls.mutating == []
    assert all(not r["drift"] for r in service.status(lab.aws).to_json()["resources"])


def test_changed_code_is_uploaded_only_when_the_sha_differs(lab: Lab) -> None:
    run_setup(lab)
    lab.calls.clear()
    doc = service.setup(
        lab.aws,
        SetupOptions(),
        zip_provider=lambda *_, **__: make_zip("def lambda_handler(e, c):\n    return 2\n"),
        executor=lab.executor,
    ).to_json()
    assert doc["changed"] == ["function-code"]
    assert lab.calls.mutating == [("lambda", "UpdateFunctionCode")]


def test_break_and_fix_bucket(lab: Lab) -> None:
    run_setup(lab)
    lam = lab.client("lambda")
    broken = service.break_bucket(lab.aws, executor=lab.executor).to_json()
    assert broken["changed"] is True and broken["real_bucket"] == BUCKET
    env = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    assert env == {"BUCKET_NAME": "aws-bucket"}
    assert service.deployed(lab.aws).bucket == BUCKET  # remembered on the tag
    fn_row = service.status(lab.aws).to_json()["resources"][2]
    assert fn_row["drift"] == [
        f"BUCKET_NAME is aws-bucket, expected {BUCKET} (broken: run `dogxray fix-bucket`)"
    ]
    again = service.break_bucket(lab.aws, "someone-elses-bucket", executor=lab.executor).to_json()
    assert again["changed"] is True
    fixed = service.fix_bucket(lab.aws, executor=lab.executor).to_json()
    assert fixed["changed"] is True
    env = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    assert env == {"BUCKET_NAME": BUCKET}
    lab.calls.clear()
    assert service.fix_bucket(lab.aws, executor=lab.executor).to_json()["changed"] is False
    assert lab.calls.mutating == []


def _lab_leftovers(lab: Lab) -> list[str]:
    left = []
    s3 = lab.client("s3")
    for b in s3.list_buckets()["Buckets"]:
        try:
            tags = s3.get_bucket_tagging(Bucket=b["Name"])["TagSet"]
        except Exception:
            tags = []
        if {"Key": "dogxray:lab", "Value": "dog-photo"} in tags:
            left.append(b["Name"])
    left += [f["FunctionName"] for f in lab.client("lambda").list_functions()["Functions"]]
    left += [
        r["RoleName"] for r in lab.client("iam").list_roles()["Roles"] if r["RoleName"] == ROLE
    ]
    groups = lab.client("logs").describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    return left + [g["logGroupName"] for g in groups]


@pytest.mark.slow
def test_cleanup_removes_everything_including_object_versions(console_lab: Lab) -> None:
    lab = console_lab
    run_setup(lab, policy=PolicyMode.console)
    s3 = lab.client("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key="dog.jpg", Body=b"woof%d" % i)
    s3.delete_object(Bucket=BUCKET, Key="dog.jpg")  # a delete marker
    versions = s3.list_object_versions(Bucket=BUCKET)
    assert len(versions["Versions"]) == 3 and len(versions["DeleteMarkers"]) == 1
    lab.calls.clear()
    preview = service.cleanup(lab.aws, dry_run=True).to_json()
    assert f"bucket {BUCKET}" in preview["deleted"]
    assert lab.calls.seen and lab.calls.mutating == []  # the preview only looked
    doc = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert doc["remaining"] == []
    assert doc["deleted"][:3] == [
        f"the Function URL of {FUNCTION}",
        f"function {FUNCTION}",
        f"log group {LOG_GROUP}",
    ]
    assert f"role {ROLE}" in doc["deleted"] and f"bucket {BUCKET}" in doc["deleted"]
    assert any("30 days" in n for n in doc["notes"])
    assert _lab_leftovers(lab) == []
    assert service.cleanup(lab.aws, executor=lab.executor).to_json() == {
        "deleted": [],
        "remaining": [],
        "notes": [],
        "kept": [],
        "plan": [],
    }


def test_preexisting_untagged_bucket_is_used_and_survives_cleanup(lab: Lab) -> None:
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="my-own-dogs")
    s3.put_object(Bucket="my-own-dogs", Key="keep.txt", Body=b"mine")
    doc = run_setup(lab, bucket="my-own-dogs")
    assert doc["bucket"] == "my-own-dogs"
    assert service.deployed(lab.aws).bucket == "my-own-dogs"
    assert run_setup(lab)["bucket"] == "my-own-dogs"  # found again from the function's tag
    result = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert result["remaining"] == []
    assert "kept bucket my-own-dogs: dogxray did not create it" in result["notes"]
    assert s3.get_object(Bucket="my-own-dogs", Key="keep.txt")["Body"].read() == b"mine"
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket="my-own-dogs")  # never tagged as the lab's
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["my-own-dogs"]


def test_dry_run_mutates_nothing(lab: Lab) -> None:
    doc = service.setup(
        lab.aws, SetupOptions(), dry_run=True, zip_provider=tiny_zip, executor=lab.executor
    ).to_json()
    assert lab.calls.mutating == []
    assert doc["changed"][0] == "bucket" and doc["plan"][0]["operation"] == "CreateBucket"
    assert lab.client("s3").list_buckets()["Buckets"] == []
    run_setup(lab)
    lab.calls.clear()
    service.cleanup(lab.aws, dry_run=True).to_json()
    assert lab.calls.mutating == []
    assert lab.client("lambda").list_functions()["Functions"]


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_regions(make_lab, region: str) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(region)
    doc = run_setup(lab)
    bucket = f"lovely-dogs-123456789012-{region}"
    assert doc["bucket"] == bucket
    location = lab.client("s3").get_bucket_location(Bucket=bucket)["LocationConstraint"]
    assert location == (None if region == "us-east-1" else region)
    assert f":{region}:" in doc["function_arn"]
    lab.calls.clear()
    assert run_setup(lab)["changed"] == [] and lab.calls.mutating == []
    assert service.cleanup(lab.aws, executor=lab.executor).to_json()["remaining"] == []


@pytest.mark.slow
def test_policy_mode_switches_and_is_read_back(console_lab: Lab) -> None:
    lab = console_lab
    run_setup(lab, policy=PolicyMode.console)
    iam = lab.client("iam")
    attached = {
        p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    }
    assert attached == {"AmazonS3FullAccess", "CloudWatchFullAccess", "AWSXRayDaemonWriteAccess"}
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == []
    lab.calls.clear()
    assert run_setup(lab)["changed"] == []  # console mode read back from the role
    run_setup(lab, policy=PolicyMode.least_privilege)
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["dog-photo-function-policy"]


def test_stage_commands_build_the_same_lab(lab: Lab) -> None:
    ex = lab.executor
    assert service.create_bucket(lab.aws, executor=ex).to_json()["changed"] == ["bucket"]
    assert service.create_role(lab.aws, executor=ex).to_json()["changed"] == ["role", "role-policy"]
    service.deploy_function(
        lab.aws, SetupOptions(memory=256), zip_provider=tiny_zip, executor=ex
    ).to_json()
    service.configure(
        lab.aws, SetupOptions(timeout=15, tracing=True, url=True, env={"DOG": "hound"}), executor=ex
    ).to_json()
    cfg = lab.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    assert cfg["MemorySize"] == 256
    assert cfg["Environment"]["Variables"] == {"BUCKET_NAME": BUCKET, "DOG": "hound"}
    lab.calls.clear()
    doc = run_setup(lab)  # keeps the chosen memory and extra variable
    assert doc["changed"] == [] and lab.calls.mutating == []


def test_setup_refuses_resources_of_another_lab_or_account(lab: Lab) -> None:
    from dogxray.core.errors import DogxrayError

    lab.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument="{}")
    with pytest.raises(DogxrayError, match="dogxray did not create it"):
        run_setup(lab)


def test_deployed_before_setup_says_so(lab: Lab) -> None:
    from dogxray.core.errors import DogxrayError

    with pytest.raises(DogxrayError) as info:
        service.deployed(lab.aws)
    assert info.value.what == "nothing deployed; run `dogxray setup` first"
    assert info.value.exit_code == 1


def test_new_lab_name_isolates_resources(make_lab) -> None:  # type: ignore[no-untyped-def]
    a, b = make_lab(lab="one"), new_lab(lab="two")
    run_setup(a, bucket="bucket-one-lab")
    run_setup(b, bucket="bucket-two-lab")
    assert service.cleanup(a.aws, executor=a.executor).to_json()["remaining"] == []
    assert b.client("lambda").get_function(FunctionName="two-function")
    assert b.client("s3").head_bucket(Bucket="bucket-two-lab")


def test_bucket_found_again_by_its_lab_tags(lab: Lab) -> None:
    ex = lab.executor
    assert service.create_bucket(lab.aws, "custom-dogs-bucket", executor=ex).to_json()["changed"]
    service.create_role(lab.aws, executor=ex).to_json()  # no --bucket: found by its tags
    role = lab.client("iam").get_role(RoleName=ROLE)["Role"]
    assert {"Key": "dogxray:bucket", "Value": "custom-dogs-bucket"} in role["Tags"]
    assert run_setup(lab)["bucket"] == "custom-dogs-bucket"


def test_switching_buckets_leaves_no_orphan(lab: Lab) -> None:
    run_setup(lab, bucket="first-dogs-bucket")
    doc = run_setup(lab, bucket="second-dogs-bucket")
    assert doc["changed"] == ["bucket", "role", "role-policy", "function-configuration"]
    env = lab.client("lambda").get_function_configuration(FunctionName=FUNCTION)["Environment"]
    assert env["Variables"] == {"BUCKET_NAME": "second-dogs-bucket"}
    assert service.deployed(lab.aws).bucket == "second-dogs-bucket"
    deleted = service.cleanup(lab.aws, executor=lab.executor).to_json()["deleted"]
    assert {"bucket first-dogs-bucket", "bucket second-dogs-bucket"} <= set(deleted)
    assert lab.client("s3").list_buckets()["Buckets"] == []


def test_status_names_a_missing_url_permission_and_setup_restores_it(lab: Lab) -> None:
    run_setup(lab)
    lam = lab.client("lambda")
    lam.remove_permission(FunctionName=FUNCTION, StatementId="FunctionURLAllowInvokeAction")
    lam.add_permission(  # a public, unconditioned invoke: never wanted
        FunctionName=FUNCTION,
        StatementId="wide-open",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    rows = {r["kind"]: r for r in service.status(lab.aws).to_json()["resources"]}
    assert rows["function-url"]["drift"] == [
        "permission wide-open: lets anyone invoke the function directly",
        "permission FunctionURLAllowInvokeAction (lambda:InvokeFunction) missing",
    ]
    lab.calls.clear()
    assert run_setup(lab)["changed"] == ["url-permissions"]
    assert lab.calls.mutating == [("lambda", "RemovePermission"), ("lambda", "AddPermission")]
    sids = {
        s["Sid"] for s in json.loads(lam.get_policy(FunctionName=FUNCTION)["Policy"])["Statement"]
    }
    assert sids == {"FunctionURLAllowPublicAccess", "FunctionURLAllowInvokeAction"}


def test_untagged_default_bucket_with_objects_is_used_but_never_deleted(lab: Lab) -> None:
    """Someone who did the console lab by hand may own the default name: dogxray must not
    adopt it (and empty it at cleanup) just because it is untagged."""
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="my-dog.jpg", Body=b"mine")
    assert run_setup(lab)["bucket"] == BUCKET
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket=BUCKET)
    rows = {r["kind"]: r for r in service.status(lab.aws).to_json()["resources"]}
    assert rows["bucket"]["drift"] == ["not created by dogxray: used, never deleted"]
    result = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert result["remaining"] == []
    assert f"kept bucket {BUCKET}: dogxray did not create it" in result["notes"]
    assert s3.get_object(Bucket=BUCKET, Key="my-dog.jpg")["Body"].read() == b"mine"


def test_untagged_empty_default_bucket_is_adopted(lab: Lab) -> None:
    """What an interrupted setup leaves between CreateBucket and PutBucketTagging."""
    lab.client("s3").create_bucket(Bucket=BUCKET)
    assert run_setup(lab)["changed"][0] == "bucket"
    tags = lab.client("s3").get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    assert {"Key": "dogxray:created", "Value": "true"} in tags
    assert service.cleanup(lab.aws, executor=lab.executor).to_json()["remaining"] == []
    assert lab.client("s3").list_buckets()["Buckets"] == []


def test_setup_builds_the_zip_once_for_the_kept_runtime(lab: Lab) -> None:
    run_setup(lab, runtime="python3.12", arch="arm64")
    builds: list[tuple[str, str, bool]] = []

    def provider(runtime: str, arch: str, from_env: bool, *, tracer: str) -> bytes:
        builds.append((runtime, arch, from_env))
        return make_zip()

    service.setup(lab.aws, SetupOptions(), zip_provider=provider, executor=lab.executor).to_json()
    assert builds == [("python3.12", "arm64", False)]  # no wasted build for the default


def test_unfixable_conflict_fails_before_the_zip_is_built(lab: Lab) -> None:
    from dogxray.core.errors import DogxrayError

    lab.faults.fail("s3", "HeadBucket", "403", "Forbidden", status=403)  # another account's
    builds: list[str] = []

    def provider(runtime: str, arch: str, from_env: bool, *, tracer: str) -> bytes:
        builds.append(runtime)
        return make_zip()

    with pytest.raises(DogxrayError, match="belongs to another AWS account"):
        service.setup(
            lab.aws, SetupOptions(), zip_provider=provider, executor=lab.executor
        ).to_json()
    assert builds == [] and lab.calls.mutating == []
