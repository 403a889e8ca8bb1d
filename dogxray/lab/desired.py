"""The lab's desired state: options, else what is deployed, else the lab's defaults.

`setup` declares the lab: timeout, tracing, URL, handler, role and BUCKET_NAME are
restored when they drift. Runtime, architecture and memory are the user's choice and are
kept from the deployed function unless given. Extra environment variables are kept.
"""

from __future__ import annotations

from typing import Any

from dogxray.aws import Aws
from dogxray.config import (
    DEFAULT_ARCH,
    DEFAULT_MEMORY_MB,
    DEFAULT_RUNTIME,
    DEFAULT_TIMEOUT_S,
    ENV_BUCKET_NAME,
    HANDLER,
    TAG_BUCKET,
    TAG_CREATED,
    TAG_LAB,
    default_bucket_name,
    validate_arch,
    validate_runtime,
)
from dogxray.lab import policies, validate
from dogxray.lab.models import (
    BucketSpec,
    Desired,
    FunctionSpec,
    LogGroupSpec,
    Observed,
    PolicyMode,
    RoleSpec,
    SetupOptions,
    UrlSpec,
)
from dogxray.package import code_sha256


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def check_options(o: SetupOptions) -> SetupOptions:
    """Validate every option before any AWS call (exit 2 on bad input)."""
    if o.bucket is not None:
        validate.bucket_name(o.bucket)
    if o.runtime is not None:
        validate_runtime(o.runtime)
    if o.arch is not None:
        validate_arch(o.arch)
    if o.memory is not None:
        validate.memory(o.memory)
    if o.timeout is not None:
        validate.timeout(o.timeout)
    return o


def _policy_mode(o: SetupOptions, observed: Observed, inline_name: str) -> PolicyMode:
    if o.policy is not None:
        return PolicyMode(o.policy)
    if inline_name not in observed.role.inline and set(policies.managed_arns()) & set(
        observed.role.attached
    ):
        return PolicyMode.console
    return PolicyMode.least_privilege


def build_desired(
    aws: Aws,
    o: SetupOptions,
    observed: Observed,
    bucket: str,
    *,
    zip_bytes: bytes | None,
    keep_deployed: bool,
    env_bucket: str | None = None,
) -> Desired:
    """Options, else (stage commands) what is deployed, else the lab's defaults."""
    s, region, account = aws.settings, aws.region, aws.account_id
    part = partition(region)
    fn = observed.function

    def pick(option: Any, deployed: Any, default: Any, keep: bool = keep_deployed) -> Any:
        """Runtime, arch and memory are the user's choice and kept; timeout, tracing and
        URL are the lab's configuration, restored by `setup` (drift repair)."""
        if option is not None:
            return option
        return deployed if keep and fn.exists and deployed is not None else default

    role_arn = f"arn:{part}:iam::{account}:role/{s.role_name}"
    lab_tags = {TAG_LAB: s.lab, TAG_BUCKET: bucket}
    env = {**fn.env, **o.env, ENV_BUCKET_NAME: env_bucket or o.env.get(ENV_BUCKET_NAME) or bucket}
    return Desired(
        lab=s.lab,
        region=region,
        bucket=BucketSpec(
            name=bucket,
            region=region,
            tags={TAG_LAB: s.lab, TAG_CREATED: "true"},
            adopt_untagged=bucket == default_bucket_name(account, region),
        ),
        role=RoleSpec(
            name=s.role_name,
            arn=role_arn,
            trust_policy=policies.TRUST_POLICY,
            mode=_policy_mode(o, observed, s.policy_name),
            policy_name=s.policy_name,
            inline_policy=policies.least_privilege_policy(
                bucket=bucket,
                region=region,
                account=account,
                log_group=s.log_group_name,
                partition=part,
            ),
            managed_arns=policies.managed_arns(part),
            tags=lab_tags,
        ),
        function=FunctionSpec(
            name=s.function_name,
            runtime=pick(o.runtime, fn.runtime, DEFAULT_RUNTIME, True),
            arch=pick(o.arch, fn.arch, DEFAULT_ARCH, True),
            handler=HANDLER,
            timeout=pick(o.timeout, fn.timeout, DEFAULT_TIMEOUT_S),
            memory=pick(o.memory, fn.memory, DEFAULT_MEMORY_MB, True),
            tracing=pick(o.tracing, fn.tracing, True),
            env=env,
            tags=lab_tags,
            role_arn=role_arn,
            code_sha256=code_sha256(zip_bytes) if zip_bytes is not None else None,
            zip_bytes=zip_bytes or b"",
        ),
        url=UrlSpec(
            enabled=pick(o.url, fn.url is not None, True),
            auth_type="NONE",
            permissions=policies.URL_PERMISSIONS,
        ),
        log_group=LogGroupSpec(name=s.log_group_name, tags={TAG_LAB: s.lab}),
    )
