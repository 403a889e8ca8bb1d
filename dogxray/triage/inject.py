"""`dogxray inject`: latency and failures in the deployed function (the triage lab).

This sets or removes the `DOGXRAY_INJECT_*` variables (their rules: lab/injection.py)
through the ordinary configuration stage, so the update is planned, applied and waited
for as every mutation is. `setup` keeps an active injection (extra environment variables
are the user's), `status` shows it, `inject --off` and `cleanup` end it.
"""

from __future__ import annotations

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


def inject(aws: Aws, wanted: Injection | None, *, reporter: Reporter = SILENT) -> dict[str, Any]:
    """Set (or with None remove) the injection on the deployed function; waits for the
    update like every configuration change."""
    from dogxray.lab import service

    lab = service.deployed(aws)  # the timeout is checked where the stage plans (`fits`)
    options = (
        SetupOptions(env_remove=frozenset(INJECT_ENV))
        if wanted is None
        else SetupOptions(
            env=wanted.to_env(), env_remove=frozenset(INJECT_ENV) - wanted.to_env().keys()
        )
    )
    doc = service.stage(aws, options, ["config"], reporter=reporter)
    return {
        "function": lab.function_name,
        "injection": None if wanted is None else wanted.to_json(),
        "changed": bool(doc.changed),
    }
