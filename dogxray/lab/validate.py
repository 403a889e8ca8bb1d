"""Input checks that run before any AWS call (bad input -> exit 2 with a hint)."""

from __future__ import annotations

import ipaddress
import re

from dogxray.core.config import ENV_BUCKET_NAME, ENV_TRACER, INJECT_ENV, Settings
from dogxray.core.errors import DogxrayError
from dogxray.lab import injection

TIMEOUT_RANGE = (1, 900)
MEMORY_RANGE = (128, 10240)
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RESERVED_ENV = ("_HANDLER", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR")
_BUCKET_HINT = (
    "use 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or "
    "digit, e.g. lovely-dogs-123456789012-us-east-1"
)


def bucket_name(name: str) -> str:
    """The S3 general-purpose bucket naming rules."""
    problem = None
    if not 3 <= len(name) <= 63:
        problem = "must be 3-63 characters long"
    elif not _BUCKET_RE.match(name):
        problem = (
            "may contain only lowercase letters, digits, '.' and '-', and must start and end "
            "with a letter or digit"
        )
    elif ".." in name or ".-" in name or "-." in name:
        problem = "must not contain '..', '.-' or '-.'"
    elif _is_ip(name):
        problem = "must not look like an IP address"
    elif name.startswith(("xn--", "sthree-", "amzn-s3-demo-")):
        problem = "must not start with 'xn--', 'sthree-' or 'amzn-s3-demo-'"
    elif name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")):
        problem = "must not end with '-s3alias', '--ol-s3', '.mrap', '--x-s3' or '--table-s3'"
    if problem:
        raise DogxrayError.usage(f"invalid bucket name {name!r}: it {problem}", hint=_BUCKET_HINT)
    return name


def _is_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def timeout(seconds: int) -> int:
    low, high = TIMEOUT_RANGE
    if not low <= seconds <= high:
        raise DogxrayError.usage(
            f"timeout {seconds} s is outside {low}-{high} s",
            hint="Lambda allows 1-900 seconds; the lab uses 15",
        )
    return seconds


def memory(mb: int) -> int:
    low, high = MEMORY_RANGE
    if not low <= mb <= high:
        raise DogxrayError.usage(
            f"memory {mb} MB is outside {low}-{high} MB", hint="the lab uses 128 MB"
        )
    return mb


def reserved_concurrency(count: int) -> int:
    """0 or more; Lambda checks the upper bound against the account's limit (it keeps at
    least 100 executions unreserved)."""
    if count < 0:
        raise DogxrayError.usage(
            f"reserved concurrency {count} is negative",
            hint="give 0 or more (0 stops the function), or --no-reserved-concurrency to "
            "remove the reservation",
        )
    return count


def env_pairs(pairs: list[str], settings: Settings) -> dict[str, str]:
    """`--env KEY=VALUE` options -> a dict; names follow Lambda's rules, and the lab's
    own BUCKET_NAME is refused (the lab sets it from the bucket it records, so a value
    given here would be reverted by the next configuration). DOGXRAY_INJECT_* values are
    checked by `inject`'s rules here, and again with the function's timeout and the
    variables it already has when the stage plans its configuration."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise DogxrayError.usage(
                f"malformed --env {pair!r}: expected KEY=VALUE", hint="e.g. --env DOG_BREED=hound"
            )
        if not _ENV_NAME_RE.match(key):
            raise DogxrayError.usage(
                f"invalid environment variable name {key!r}",
                hint="start with a letter; use letters, digits and '_' only",
            )
        if key.startswith("AWS_") or key in _RESERVED_ENV:
            raise DogxrayError.usage(
                f"environment variable {key!r} is reserved by Lambda",
                hint="pick another name (Lambda sets AWS_*, _HANDLER and LAMBDA_TASK_ROOT)",
            )
        if key == ENV_BUCKET_NAME:
            raise DogxrayError.usage(
                f"{ENV_BUCKET_NAME} is the lab's: it names the bucket the lab records",
                hint="`dogxray setup --bucket NAME` uses another bucket; `dogxray break-bucket` "
                "and `dogxray fix-bucket` switch it for the lab's stage 5",
            )
        if key == ENV_TRACER:
            raise DogxrayError.usage(
                f"{ENV_TRACER} is the lab's: it names the tracer the deployed code carries",
                hint="`dogxray setup --tracer otel` (or xray) redeploys the function with that "
                "tracer",
            )
        result[key] = value
    if result.keys() & set(INJECT_ENV):  # inject's rules, on what is given (before any call)
        injection.check_env(result, settings)
    return result
