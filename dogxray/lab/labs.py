"""`dogxray labs`: every dogxray lab of the account, found by its `dogxray:lab` tag, and
`cleanup --all-labs`: every lab of one region removed, each by the lab's own cleanup.

Per region, one Resource Groups Tagging API GetResources (tag key `dogxray:lab`) finds the
tagged functions, log groups and buckets; S3's ListBuckets (`BucketRegion`) says which
buckets are in the region (the tagging API of some endpoints, moto's, lists every bucket
in every region). IAM is global and its roles are not in the tagging API everywhere:
ListRoles once, then ListRoleTags for the roles named like a lab's, placed in a region
by their `dogxray:region` tag. Per lab function, GetFunction (state, BUCKET_NAME, role)
and GetFunctionUrlConfig. When the tagging API is refused (no `tag:GetResources`
permission), the services' own list calls stand in for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import EndpointConnectionError

from dogxray.core.aws import Aws, ClientError, error_code
from dogxray.core.config import (
    ENV_BUCKET_NAME,
    TAG_BUCKET,
    TAG_CREATED,
    TAG_LAB,
    TAG_REGION,
    Settings,
)
from dogxray.core.errors import DogxrayError
from dogxray.lab.progress import SILENT, Reporter
from dogxray.lab.results import CleanupResult

COMPLETE, BROKEN, HALF_MADE = "complete", "broken", "half-made"
_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


@dataclass
class LabEntry:
    """One lab in one region: its resources (None: not found), age and health."""

    lab: str
    region: str
    function: str | None = None
    role: str | None = None
    bucket: str | None = None
    log_group: str | None = None
    url: str | None = None
    alarm: str | None = None  # dogxray makes no alarm yet
    created: str | None = None  # ISO 8601 UTC of its oldest dated resource
    age_s: float | None = None
    state: str = COMPLETE
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "lab": self.lab,
            "region": self.region,
            "state": self.state,
            "function": self.function,
            "role": self.role,
            "bucket": self.bucket,
            "log_group": self.log_group,
            "url": self.url,
            "alarm": self.alarm,
            "created": self.created,
            "age_s": None if self.age_s is None else round(self.age_s),
            "problems": self.problems,
        }


@dataclass
class LabList:
    """`labs`: the regions looked at, the labs found, and regions that could not be read."""

    regions: list[str]
    labs: list[LabEntry]
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "regions": self.regions,
            "labs": [lab.to_json() for lab in self.labs],
            "skipped": self.skipped,
        }


@dataclass
class _Found:
    """What one region holds, by lab: tagged ARNs -> tags, plus the roles of the region."""

    functions: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> tags
    log_groups: dict[str, dict[str, str]] = field(default_factory=dict)
    buckets: dict[str, dict[str, str]] = field(default_factory=dict)
    bucket_dates: dict[str, datetime | None] = field(default_factory=dict)  # every bucket here


@dataclass(frozen=True)
class _Role:
    name: str
    lab: str
    region: str | None
    created: datetime | None


def _tags(items: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def regions(aws: Aws, all_regions: bool) -> list[str]:
    """This session's region, or every region Lambda is offered in (this partition)."""
    if not all_regions:
        return [aws.region]
    partition = aws.session.get_partition_for_region(aws.region)
    found = aws.session.get_available_regions("lambda", partition_name=partition)
    return sorted(set(found) | {aws.region})


def _tagged(aws: Aws, region: str, found: _Found) -> None:
    """GetResources by the `dogxray:lab` tag key; ARNs sorted into the three kinds."""
    pages = aws.client("resourcegroupstaggingapi", region).get_paginator("get_resources")
    for page in pages.paginate(TagFilters=[{"Key": TAG_LAB}]):
        for item in page.get("ResourceTagMappingList", []):
            arn, tags = item["ResourceARN"], _tags(item.get("Tags"))
            if ":lambda:" in arn and ":function:" in arn:
                found.functions[arn.split(":function:", 1)[1].split(":")[0]] = tags
            elif ":logs:" in arn and ":log-group:" in arn:
                found.log_groups[arn.split(":log-group:", 1)[1].removesuffix(":*")] = tags
            elif arn.startswith("arn:aws:s3:::") or ":s3:::" in arn:
                found.buckets[arn.rsplit(":", 1)[1]] = tags


def _listed(aws: Aws, region: str, found: _Found) -> None:
    """The services' own list calls, when the tagging API is refused."""
    lam = aws.client("lambda", region)
    for page in lam.get_paginator("list_functions").paginate():
        for f in page.get("Functions", []):
            tags = lam.list_tags(Resource=f["FunctionArn"]).get("Tags") or {}
            if TAG_LAB in tags:
                found.functions[f["FunctionName"]] = dict(tags)
    logs = aws.client("logs", region)
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/"):
        for g in page.get("logGroups", []):
            arn = str(g.get("logGroupArn") or g.get("arn", "")).removesuffix(":*")
            tags = logs.list_tags_for_resource(resourceArn=arn).get("tags") or {}
            if TAG_LAB in tags:
                found.log_groups[g["logGroupName"]] = dict(tags)
    s3 = aws.client("s3", region)
    for name in found.bucket_dates:
        try:
            tags = _tags(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
        except ClientError:
            continue  # untagged, or not readable: not a lab's
        if TAG_LAB in tags:
            found.buckets[name] = tags


def _survey_region(aws: Aws, region: str) -> _Found:
    found = _Found()
    listing = aws.client("s3", region).list_buckets(BucketRegion=region)
    found.bucket_dates = {b["Name"]: b.get("CreationDate") for b in listing.get("Buckets", [])}
    try:
        _tagged(aws, region, found)
    except ClientError as exc:
        if error_code(exc) not in _DENIED:
            raise
        _listed(aws, region, found)
    found.buckets = {n: t for n, t in found.buckets.items() if n in found.bucket_dates}
    return found


def _roles(aws: Aws) -> list[_Role]:
    """IAM roles (global) tagged `dogxray:lab`, among those named like a lab's role."""
    iam = aws.client("iam")
    candidates = []
    for page in iam.get_paginator("list_roles").paginate():
        candidates += [r for r in page.get("Roles", []) if "-function-role" in r["RoleName"]]

    def read(role: dict[str, Any]) -> _Role | None:
        try:
            tags = _tags(iam.list_role_tags(RoleName=role["RoleName"]).get("Tags"))
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
        if TAG_LAB not in tags:
            return None
        return _Role(role["RoleName"], tags[TAG_LAB], tags.get(TAG_REGION), role.get("CreateDate"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [r for r in pool.map(read, candidates) if r is not None]


def _function_detail(aws: Aws, region: str, name: str) -> dict[str, Any] | None:
    lam = aws.client("lambda", region)
    try:
        found: dict[str, Any] = lam.get_function(FunctionName=name)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    try:
        found["Url"] = lam.get_function_url_config(FunctionName=name).get("FunctionUrl")
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        found["Url"] = None
    return found


def _entry(
    lab: str,
    region: str,
    found: _Found,
    roles: list[_Role],
    details: dict[str, dict[str, Any] | None],
    now: float,
) -> LabEntry:
    entry = LabEntry(lab=lab, region=region)
    dates: list[datetime] = []
    fns = sorted(n for n, t in found.functions.items() if t.get(TAG_LAB) == lab)
    fn_name = f"{lab}-function" if f"{lab}-function" in fns else (fns[0] if fns else None)
    detail = details.get(fn_name) if fn_name else None
    cfg: dict[str, Any] = (detail or {}).get("Configuration") or {}
    fn_tags = found.functions.get(fn_name or "", {})
    if detail:
        entry.function, entry.url = fn_name, detail.get("Url")
        modified = _lambda_time(cfg.get("LastModified"))
        dates += [modified] if modified else []
    role = next((r for r in roles if r.lab == lab and r.region == region), None)
    if role:
        entry.role = role.name
        dates += [role.created] if role.created else []
    owned = sorted(n for n, t in found.buckets.items() if t.get(TAG_LAB) == lab)
    recorded = fn_tags.get(TAG_BUCKET)
    if recorded and recorded in found.bucket_dates:
        entry.bucket = recorded
    elif owned:
        entry.bucket = owned[0]
    bucket_date = found.bucket_dates.get(entry.bucket or "")
    dates += [bucket_date] if bucket_date else []
    logs = [n for n, t in found.log_groups.items() if t.get(TAG_LAB) == lab]
    entry.log_group = f"/aws/lambda/{fn_name}" if f"/aws/lambda/{fn_name}" in logs else None
    entry.log_group = entry.log_group or (sorted(logs)[0] if logs else None)
    if dates:
        oldest = min(dates)
        entry.created = oldest.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry.age_s = max(0.0, now - oldest.timestamp())
    _health(entry, cfg, recorded)
    return entry


def _lambda_time(text: str | None) -> datetime | None:
    """Lambda's LastModified ("2026-12-03T08:35:03.000+0000"); None when unreadable."""
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text or "", pattern)
        except ValueError:
            continue
    return None


def _health(entry: LabEntry, cfg: dict[str, Any], recorded: str | None) -> None:
    """complete, broken (made, but it cannot work) or half-made (a part is missing)."""
    missing = [
        kind
        for kind, value in (
            ("function", entry.function),
            ("role", entry.role),
            ("bucket", entry.bucket),
            ("Function URL", entry.url),
        )
        if value is None
    ]
    problems = []
    if cfg.get("State") == "Failed":
        problems.append(f"the function is in state Failed: {cfg.get('StateReason') or '?'}")
    env = ((cfg.get("Environment") or {}).get("Variables") or {}).get(ENV_BUCKET_NAME)
    real = recorded or entry.bucket
    if entry.function and real and env != real:
        problems.append(f"BUCKET_NAME is {env}, not the lab's bucket {real} (`fix-bucket`)")
    if entry.function and entry.role and not str(cfg.get("Role", "")).endswith(f"/{entry.role}"):
        problems.append(f"the function does not use the lab's role {entry.role}")
    if missing:
        entry.state = HALF_MADE
        problems.insert(0, "missing: " + ", ".join(missing))
    elif problems:
        entry.state = BROKEN
    entry.problems = problems


def _labs_in(aws: Aws, region: str, roles: list[_Role], now: float) -> list[LabEntry]:
    found = _survey_region(aws, region)
    names = {t[TAG_LAB] for kind in (found.functions, found.log_groups) for t in kind.values()}
    names |= {t[TAG_LAB] for t in found.buckets.values() if t.get(TAG_CREATED) == "true"}
    names |= {r.lab for r in roles if r.region == region}
    wanted = sorted(n for n, t in found.functions.items() if t.get(TAG_LAB) in names)
    with ThreadPoolExecutor(max_workers=8) as pool:
        read = pool.map(lambda n: _function_detail(aws, region, n), wanted)
        details = dict(zip(wanted, read, strict=True))
    return [_entry(lab, region, found, roles, details, now) for lab in sorted(names)]


def find_labs(
    aws: Aws, *, all_regions: bool = False, now: Callable[[], float] = time.time
) -> LabList:
    """Every dogxray lab in this region (or every region), sorted by region and name."""
    where = regions(aws, all_regions)
    roles = _roles(aws)
    result = LabList(regions=where, labs=[])

    def one(region: str) -> list[LabEntry] | None:
        try:
            return _labs_in(aws, region, roles, now())
        except (ClientError, EndpointConnectionError):
            if region != aws.region:  # an opt-in region not enabled for the account, ...
                return None
            raise

    with ThreadPoolExecutor(max_workers=8) as pool:
        for region, labs in zip(where, pool.map(one, where), strict=True):
            if labs is None:
                result.skipped.append(region)
            else:
                result.labs += labs
    return result


@dataclass
class AllLabsCleanup:
    """`cleanup --all-labs`: each lab's own cleanup result, and labs not cleaned (why)."""

    region: str
    results: dict[str, CleanupResult]
    skipped: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "labs": {lab: r.to_json() for lab, r in self.results.items()},
            "skipped": self.skipped,
        }


def lab_aws(aws: Aws, lab: str) -> Aws:
    """A session for another lab of the same account, region and endpoint."""
    checked = Settings.from_options(lab=lab, environ={})  # the lab-name rule
    return Aws(replace(aws.settings, lab=checked.lab), read_timeout=aws.read_timeout)


def cleanup_all(
    aws: Aws, labs: list[LabEntry], *, dry_run: bool = False, reporter: Reporter = SILENT
) -> AllLabsCleanup:
    """Each lab's own cleanup (its tags, names and bucket-sharing rules), in name order;
    a lab whose bucket another lab of the list still used is cleaned once more at the end,
    when that lab is gone."""
    from dogxray.lab import cleanup

    done = AllLabsCleanup(region=aws.region, results={})
    sessions: dict[str, Aws] = {}
    for entry in labs:
        try:
            sessions[entry.lab] = lab_aws(aws, entry.lab)
        except DogxrayError as exc:
            done.skipped[entry.lab] = exc.what
    for lab, session in sessions.items():
        reporter.progress(f"lab {lab}")
        done.results[lab] = cleanup.cleanup(session, dry_run=dry_run, reporter=reporter)
    if dry_run:
        return done
    names = set(sessions)
    for lab, session in sessions.items():
        if any(_used_by(k.why, names) for k in done.results[lab].kept):
            reporter.progress(f"lab {lab}, again: the labs that used its bucket are gone")
            again = cleanup.cleanup(session, reporter=reporter)
            first = done.results[lab]
            again.deleted = list(dict.fromkeys(first.deleted + again.deleted))
            done.results[lab] = again
    gone = {item for result in done.results.values() for item in result.deleted}
    for result in done.results.values():  # kept by one lab, deleted by its owner later
        result.kept = [k for k in result.kept if k.resource not in gone]
        dropped = tuple(f"kept {item}: " for item in gone)
        result.notes = [n for n in result.notes if not n.startswith(dropped)]
    return done


def _used_by(why: str, labs: set[str]) -> bool:
    return any(f"lab {lab} (function " in why for lab in labs)
