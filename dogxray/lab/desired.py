"""The lab's desired state: options, else what the lab recorded, else the lab's defaults.

The options a user gives (runtime, architecture, memory, timeout, tracing, URL, tracer,
reserved concurrency) become the lab: they are recorded on the function's
`dogxray:settings` tag, so `status` does not call them drift and a plain `setup` keeps
them; a change made outside dogxray (the console) is drift and `setup` restores the
recorded value. Stage commands (configure, deploy-function) change only the settings
they are given. Extra environment variables are kept.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from dogxray.core.aws import Aws
from dogxray.core.config import (
    DEFAULT_ARCH,
    DEFAULT_MEMORY_MB,
    DEFAULT_RUNTIME,
    DEFAULT_TIMEOUT_S,
    DEFAULT_TRACER,
    ENV_BUCKET_NAME,
    ENV_TRACER,
    HANDLER,
    TAG_BUCKET,
    TAG_CREATED,
    TAG_LAB,
    TAG_REGION,
    TAG_SETTINGS,
    Settings,
    Tracer,
    default_bucket_name,
    tracer_of,
    validate_arch,
    validate_tracer,
)
from dogxray.core.runtimes import validate as validate_runtime
from dogxray.lab import policies, validate
from dogxray.lab.models import (
    BucketSpec,
    Desired,
    FunctionSpec,
    LogGroupSpec,
    Observed,
    ObservedFunction,
    PolicyMode,
    RoleSpec,
    SetupOptions,
    UrlSpec,
)
from dogxray.packaging.build import code_sha256


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
    if o.tracer is not None:
        validate_tracer(o.tracer)
    if o.reserved is not None:
        validate.reserved_concurrency(o.reserved)
    return o


def _policy_mode(o: SetupOptions, observed: Observed, inline_name: str) -> PolicyMode:
    if o.policy is not None:
        return PolicyMode(o.policy)
    if inline_name not in observed.role.inline and set(policies.managed_arns()) & set(
        observed.role.attached
    ):
        return PolicyMode.console
    return PolicyMode.least_privilege


TRACERS = frozenset(t.value for t in Tracer)
# The recorded options, in the tag's order; the value is legal for Lambda tags
# (letters, digits, spaces, `_ . : / = + - @`; at most 256 characters).
SETTING_KEYS = ("runtime", "arch", "memory", "timeout", "tracing", "url", "tracer", "reserved")


@dataclass(frozen=True)
class LabValues:
    """The settings the lab records on its function (`dogxray:settings`), in SETTING_KEYS'
    order."""

    runtime: str = DEFAULT_RUNTIME
    arch: str = DEFAULT_ARCH
    memory: int = DEFAULT_MEMORY_MB
    timeout: int = DEFAULT_TIMEOUT_S
    tracing: bool = True
    url: bool = True
    tracer: str = DEFAULT_TRACER.value
    reserved: int | None = None  # reserved concurrency; None: none reserved


def format_settings(values: dict[str, Any]) -> str:
    def text(v: Any) -> str:
        if v is None:
            return "none"
        return ("on" if v else "off") if isinstance(v, bool) else str(v)

    return " ".join(f"{k}={text(values[k])}" for k in SETTING_KEYS)


def parse_settings(tag: str | None) -> dict[str, Any]:
    """The recorded options; anything unreadable (hand-edited tag) is ignored."""
    found: dict[str, Any] = {}
    for item in (tag or "").split():
        key, _, value = item.partition("=")
        if key in ("memory", "timeout") and value.isdigit():
            found[key] = int(value)
        elif key in ("tracing", "url") and value in ("on", "off"):
            found[key] = value == "on"
        elif (key in ("runtime", "arch") and value) or (key == "tracer" and value in TRACERS):
            found[key] = value
        elif key == "reserved" and (value.isdigit() or value == "none"):
            found[key] = int(value) if value.isdigit() else None
    return found


def lab_values(o: SetupOptions, fn: ObservedFunction, *, keep_deployed: bool) -> LabValues:
    """Each setting: the option given, else the one recorded on the function, else (stage
    commands; `setup` only for runtime, arch, memory, tracer and reserved concurrency) what
    is deployed, for a function deployed before settings were recorded, else the lab's
    default. `unreserved` gives "no reserved concurrency" as an option."""
    recorded = parse_settings(fn.tags.get(TAG_SETTINGS)) if fn.exists else {}
    deployed = {
        "runtime": fn.runtime,
        "arch": fn.arch,
        "memory": fn.memory,
        "timeout": fn.timeout,
        "tracing": fn.tracing,
        "url": fn.url is not None,
        "tracer": tracer_of(fn.env).value,
        "reserved": fn.reserved,
    }
    defaults = asdict(LabValues())
    kept = set(defaults) if keep_deployed else {"runtime", "arch", "memory", "tracer", "reserved"}
    values: dict[str, Any] = {}
    for key in (f.name for f in fields(LabValues)):
        given, have = getattr(o, key), deployed[key] if fn.exists else None
        if key == "reserved" and o.unreserved:
            values[key] = None
        elif given is not None:
            values[key] = given
        elif key in recorded:
            values[key] = recorded[key]
        elif key in kept and have is not None:
            values[key] = have
        else:
            values[key] = defaults[key]
    return LabValues(**values)


def function_env(
    o: SetupOptions,
    fn: ObservedFunction,
    bucket: str,
    *,
    keep_deployed: bool,
    env_bucket: str | None,
) -> dict[str, str]:
    """The deployed variables, the options' on top, BUCKET_NAME set. A stage command keeps
    a BUCKET_NAME that `break-bucket` switched (the lab's bucket still on the function's
    tag): only `fix-bucket` and `setup` restore it."""
    switched = (
        fn.env.get(ENV_BUCKET_NAME) if fn.exists and fn.tags.get(TAG_BUCKET) == bucket else None
    )
    broken = switched if keep_deployed else None
    env = {
        **fn.env,
        **o.env,
        ENV_BUCKET_NAME: env_bucket or o.env.get(ENV_BUCKET_NAME) or broken or bucket,
    }
    for name in o.env_remove:
        env.pop(name, None)
    env.pop(ENV_TRACER, None)  # function_spec sets it from the lab's tracer
    return env


def role_spec(
    s: Settings, o: SetupOptions, observed: Observed, bucket: str, region: str, account_id: str
) -> RoleSpec:
    part = partition(region)
    role_name = s.role_name(region)
    return RoleSpec(
        name=role_name,
        arn=f"arn:{part}:iam::{account_id}:role/{role_name}",
        trust_policy=policies.TRUST_POLICY,
        mode=_policy_mode(o, observed, s.policy_name),
        policy_name=s.policy_name,
        inline_policy=policies.least_privilege_policy(
            bucket=bucket,
            region=region,
            account=account_id,
            log_group=s.log_group_name,
            partition=part,
        ),
        managed_arns=policies.managed_arns(part),
        tags={TAG_LAB: s.lab, TAG_BUCKET: bucket, TAG_REGION: region},
    )


def function_spec(
    s: Settings,
    values: LabValues,
    env: dict[str, str],
    bucket: str,
    role_arn: str,
    zip_bytes: bytes | None,
) -> FunctionSpec:
    if values.tracer != DEFAULT_TRACER.value:
        env = {**env, ENV_TRACER: values.tracer}
    return FunctionSpec(
        name=s.function_name,
        runtime=values.runtime,
        arch=values.arch,
        handler=HANDLER,
        timeout=values.timeout,
        memory=values.memory,
        tracing=values.tracing,
        tracer=values.tracer,
        reserved=values.reserved,
        env=env,
        tags={TAG_LAB: s.lab, TAG_BUCKET: bucket, TAG_SETTINGS: format_settings(asdict(values))},
        role_arn=role_arn,
        code_sha256=code_sha256(zip_bytes) if zip_bytes is not None else None,
        zip_bytes=zip_bytes or b"",
    )


def build_desired(
    settings: Settings,
    o: SetupOptions,
    observed: Observed,
    bucket: str,
    *,
    region: str,
    account_id: str,
    keep_deployed: bool,
    zip_bytes: bytes | None = None,
    env_bucket: str | None = None,
) -> Desired:
    """Pure (no AWS call: the caller gives the region and account): options, else the
    options recorded on the function, else the lab's defaults; the result is recorded
    again. A stage command given no option for a setting leaves it as the lab recorded it
    (so `configure --env K=V` keeps `setup --timeout 30`)."""
    s, fn = settings, observed.function
    values = lab_values(o, fn, keep_deployed=keep_deployed)
    env = function_env(o, fn, bucket, keep_deployed=keep_deployed, env_bucket=env_bucket)
    role = role_spec(s, o, observed, bucket, region, account_id)
    return Desired(
        lab=s.lab,
        region=region,
        bucket=BucketSpec(
            name=bucket,
            region=region,
            tags={TAG_LAB: s.lab, TAG_CREATED: "true"},
            adopt_untagged=bucket == default_bucket_name(s.lab, account_id, region),
        ),
        role=role,
        function=function_spec(s, values, env, bucket, role.arn, zip_bytes),
        url=UrlSpec(enabled=values.url, auth_type="NONE", permissions=policies.URL_PERMISSIONS),
        log_group=LogGroupSpec(name=s.log_group_name, tags={TAG_LAB: s.lab}),
    )


def desired_for(
    aws: Aws,
    o: SetupOptions,
    observed: Observed,
    bucket: str,
    *,
    keep_deployed: bool,
    env_bucket: str | None = None,
) -> Desired:
    """`build_desired` for a session's lab, region and account (the one AWS read here:
    the account id, cached by `Aws`)."""
    return build_desired(
        aws.settings,
        o,
        observed,
        bucket,
        region=aws.region,
        account_id=aws.account_id,
        keep_deployed=keep_deployed,
        env_bucket=env_bucket,
    )
