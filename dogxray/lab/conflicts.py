"""Conflicts: what no step can fix, as data (pure: desired + observed in, no AWS).

A name owned by another account, or a resource dogxray did not create for this lab. The
planner makes no step for a resource in conflict; `setup` and the stages raise the first
one (`Conflict.error`) before anything changes; `status` lists them as drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dogxray.core.config import TAG_LAB
from dogxray.lab.models import Conflict, Desired, Observed

ALL_PARTS = frozenset({"bucket", "role", "logs", "function", "code", "config", "url"})


def conflicts(
    desired: Desired, observed: Observed, parts: Iterable[str] = ALL_PARTS
) -> list[Conflict]:
    """Pure: what no step can fix, in the plan's order (bucket, role, function). The
    function's is every part's (no stage touches a lab whose function is another's)."""
    wanted = frozenset(parts)
    found = [
        bucket_conflict(desired, observed) if "bucket" in wanted else None,
        role_conflict(desired, observed) if "role" in wanted else None,
        function_conflict(desired, observed),
    ]
    return [c for c in found if c is not None]


def bucket_conflict(d: Desired, o: Observed) -> Conflict | None:
    b, ob = d.bucket, o.bucket
    if not ob.exists:
        return None
    if not ob.ours:
        return Conflict(
            "bucket",
            f"bucket {b.name} already exists and belongs to another AWS account",
            hint="bucket names are global: choose another with `--bucket NAME`",
        )
    if ob.region and ob.region != b.region:
        return Conflict(
            "bucket",
            f"bucket {b.name} is in {ob.region}, not in the lab's region {b.region}",
            hint=f"use `--region {ob.region}` for this lab, or choose a bucket in {b.region} "
            "with `--bucket NAME` (or none for the lab's default)",
            usage=True,
        )
    return None


def role_conflict(d: Desired, o: Observed) -> Conflict | None:
    return _foreign("role", d.role.name, o.role.exists, o.role.tags, d.lab)


def function_conflict(d: Desired, o: Observed) -> Conflict | None:
    return _foreign("function", d.function.name, o.function.exists, o.function.tags, d.lab)


def _foreign(
    kind: str, name: str, exists: bool, tags: Mapping[str, str], lab: str
) -> Conflict | None:
    """A resource under the lab's name that dogxray did not tag as this lab's."""
    if exists and tags.get(TAG_LAB) != lab:
        return Conflict(
            kind,
            f"{kind} {name} exists but dogxray did not create it for lab {lab!r}",
            hint="choose another lab name with `dogxray --lab NAME ...`",
        )
    return None
