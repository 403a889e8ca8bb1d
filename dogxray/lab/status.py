"""`status`: what exists, and every difference from the lab's desired configuration.

One observation; drift is the conflicts no step can fix (`conflicts`), then the changes
each repair `setup` would plan carries (`Step.changes`), per status row.
"""

from __future__ import annotations

from dogxray.core.aws import Aws
from dogxray.core.config import ENV_BUCKET_NAME, TAG_BUCKET, TAG_CREATED, tracer_of
from dogxray.core.destination import account_destination
from dogxray.lab import observe as obs
from dogxray.lab.alarm import AlarmResult
from dogxray.lab.conflicts import conflicts
from dogxray.lab.desired import desired_for
from dogxray.lab.models import Desired, Observed, SetupOptions
from dogxray.lab.planner import plan
from dogxray.lab.results import LabStatus, ResourceStatus


def status(aws: Aws) -> LabStatus:
    """Each resource: exists, and every difference from the desired configuration (the
    conflicts no step can fix, and what each planned repair changes). One observation;
    `function_env` carries the function's variables for `inject`'s line."""
    s = aws.settings
    observed, bucket = obs.observe(aws, None)
    fn = observed.function
    env_bucket = fn.tags.get(TAG_BUCKET) or bucket
    d = desired_for(
        aws, SetupOptions(), observed, bucket, keep_deployed=False, env_bucket=env_bucket
    )
    drift = _drift(d, observed)
    if fn.exists and fn.env.get(ENV_BUCKET_NAME) != env_bucket:
        drift["function"] = [
            f"{d} (broken: run `{aws.settings.command('fix-bucket')}`)"
            if d.startswith(f"{ENV_BUCKET_NAME} is ")
            else d
            for d in drift.get("function", [])
        ]
    if observed.bucket.exists and observed.bucket.tags.get(TAG_CREATED) != "true":
        drift.setdefault("bucket", []).append("not created by dogxray: used, never deleted")
    rows = [
        ("bucket", bucket, observed.bucket.exists),
        ("role", s.role_name(aws.region), observed.role.exists),
        ("function", s.function_name, fn.exists),
        ("function-url", fn.url or s.function_name, fn.url is not None),
        ("log-group", s.log_group_name, observed.log_group.exists),
    ]
    return LabStatus(
        lab=s.lab,
        region=aws.region,
        resources=[ResourceStatus(k, n, e, drift.get(k, []) if e else []) for k, n, e in rows],
        function_url=fn.url,
        function_env=dict(fn.env) if fn.exists else None,
        trace_destination=account_destination(aws),
        tracer=tracer_of(fn.env).value if fn.exists else None,
        reserved_concurrency=fn.reserved,
        alarm=_alarm(aws),
    )


def _alarm(aws: Aws) -> AlarmResult | None:
    """The lab's alarm (`alarm`), if any; one the identity may not read is left out."""
    from dogxray.core.aws import ClientError
    from dogxray.lab import alarm

    try:
        return alarm.current(aws)
    except ClientError:
        return None


def _drift(d: Desired, observed: Observed) -> dict[str, list[str]]:
    """Per status row: its conflicts, then the changes of every repair planned for it
    (a missing bucket or role is not drift: it does not exist)."""
    drift: dict[str, list[str]] = {}
    for conflict in conflicts(d, observed):
        drift.setdefault(conflict.kind, []).append(conflict.message)
    parts = {"bucket", "role"} | ({"config", "url"} if observed.function.exists else set())
    for st in plan(d, observed, parts):
        if st.kind == "bucket" and not observed.bucket.exists:
            continue
        if st.kind == "role" and not observed.role.exists:
            continue
        drift.setdefault(st.kind, []).extend(st.changes)  # every repair carries them
    return drift
