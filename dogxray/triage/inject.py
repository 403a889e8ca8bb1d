"""`dogxray inject`: latency and failures in the deployed function (the triage lab).

This sets or removes the `DOGXRAY_INJECT_*` variables (their rules: lab/injection.py)
through the ordinary configuration stage, so the update is planned, applied and waited
for as every mutation is. `setup` keeps an active injection (extra environment variables
are the user's), `status` shows it, `inject --off` and `cleanup` end it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dogxray.core.aws import Aws
from dogxray.core.config import INJECT_ENV
from dogxray.lab.injection import Injection, from_env
from dogxray.lab.models import SetupOptions
from dogxray.lab.progress import SILENT, Reporter


def active(aws: Aws) -> Injection | None:
    """The injection on the deployed function, if any (one GetFunction)."""
    from dogxray.lab import observe

    fn = observe.function(aws, aws.settings.function_name)
    return from_env(fn.env) if fn.exists else None


@dataclass(frozen=True)
class Injected:
    """What `inject` did: the function, the injection now on it (None: off), whether
    anything changed."""

    function: str
    injection: Injection | None
    changed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "injection": None if self.injection is None else self.injection.to_json(),
            "changed": self.changed,
        }


def inject(aws: Aws, wanted: Injection | None, *, reporter: Reporter = SILENT) -> Injected:
    """Set (or with None remove) the injection on the deployed function; waits for the
    update like every configuration change. The lab is observed once."""
    from dogxray.lab import observe, service

    seen = observe.observe(aws, None)
    lab = service.deployed_of(aws, seen[0].function)  # the timeout is checked where the
    # stage plans (`fits`)
    options = (
        SetupOptions(env_remove=frozenset(INJECT_ENV))
        if wanted is None
        else SetupOptions(
            env=wanted.to_env(), env_remove=frozenset(INJECT_ENV) - wanted.to_env().keys()
        )
    )
    done = service.stage(aws, options, ["config"], reporter=reporter, seen=seen)
    return Injected(lab.function_name, wanted, bool(done.changed))
