"""Which lab `dogxray demo` runs, and the guard that it is a new one.

The demo never acts on an existing lab (issue 15 item 3): anywhere but the embedded
emulator (new and empty each time) it runs under a lab name of its own,
`dog-photo-demo-<6 hex digits>`, unless `--lab NAME` is given; either way it refuses to
start when anything of that lab already exists, before creating anything, so its cleanup
stage can only delete what the demo itself made. `plan` names what it will create, for
the confirmation the command asks on AWS and on any endpoint but dogxray's emulator.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from dogxray.core.aws import Aws
from dogxray.core.config import DEFAULT_LAB, Settings, default_bucket_name
from dogxray.core.errors import DogxrayError

DEMO_LAB_PREFIX = f"{DEFAULT_LAB}-demo-"


def lab_settings(
    settings: Settings, *, lab_given: bool, local: bool, token: str | None = None
) -> Settings:
    """The settings the demo runs with: the lab given with `--lab`, the default lab in the
    embedded emulator (new and empty each run), else a new lab name of the demo's own."""
    if lab_given or local:
        return settings
    return replace(settings, lab=DEMO_LAB_PREFIX + (token or secrets.token_hex(3)))


@dataclass
class DemoPlan:
    """What the demo will create (and delete again at stage 6): for the confirmation."""

    lab: str
    backend: str
    bucket: str
    role: str
    function: str
    log_group: str

    def resources(self) -> list[str]:
        return [
            f"bucket {self.bucket}",
            f"role {self.role}",
            f"function {self.function} with a public Function URL (auth NONE)",
            f"log group {self.log_group}",
        ]


def plan(aws: Aws) -> DemoPlan:
    """The names the demo's lab will get (no call beyond the account id)."""
    s = aws.settings
    return DemoPlan(
        lab=s.lab,
        backend=aws.backend,
        bucket=default_bucket_name(s.lab, aws.account_id, aws.region),
        role=s.role_name(aws.region),
        function=s.function_name,
        log_group=s.log_group_name,
    )


def existing(aws: Aws) -> list[str]:
    """What of the demo's lab already exists ("function X", ...), by name or tag."""
    from dogxray.lab import observe

    seen, bucket = observe.observe(aws, None)
    s = aws.settings
    found = [
        (seen.function.exists, f"function {s.function_name}"),
        (seen.role.exists, f"role {s.role_name(aws.region)}"),
        (seen.bucket.exists, f"bucket {bucket}"),
        (seen.log_group.exists, f"log group {s.log_group_name}"),
    ]
    return [what for there, what in found if there]


def check_new_lab(aws: Aws) -> None:
    """Refuse (exit 2) when anything of the demo's lab exists: the demo builds, breaks and
    deletes its lab, so it must never run on one that someone made."""
    found = existing(aws)
    if not found:
        return
    lab = aws.settings.lab
    raise DogxrayError.usage(
        f"the lab {lab!r} already exists ({', '.join(found)}); the demo never runs on an "
        "existing lab, since it deletes its lab at the end",
        where=aws.backend,
        hint="leave --lab out (the demo then makes a new lab of its own), choose a new "
        f"name with --lab, or remove that lab first with `{aws.settings.command('cleanup')}`",
    )
