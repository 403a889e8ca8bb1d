"""Settings, names derived from the lab name, and every environment variable we read.

Explicit options always win over environment variables (the Powertools rule); this
module never imports boto3 so `--help` stays fast.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from dogxray.errors import DogxrayError

# --- environment variable names (the only place they are spelled out) ---
ENV_ENDPOINT_URL = "AWS_ENDPOINT_URL"
ENV_REGION = "AWS_REGION"
ENV_DEFAULT_REGION = "AWS_DEFAULT_REGION"
ENV_PROFILE = "AWS_PROFILE"
ENV_NO_COLOR = "NO_COLOR"
ENV_CACHE_DIR = "DOGXRAY_CACHE_DIR"
# set on the function
ENV_BUCKET_NAME = "BUCKET_NAME"
ENV_DOG_API_URL = "DOG_API_URL"

# --- lab constants ---
DEFAULT_LAB = "dog-photo"
DEFAULT_REGION = "us-east-1"
DEFAULT_RUNTIME = "python3.13"
SUPPORTED_RUNTIMES = ("python3.12", "python3.13", "python3.14")
DEPRECATED_RUNTIMES = (
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
)
ARCHITECTURES = ("x86_64", "arm64")
DEFAULT_ARCH = "x86_64"
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 15
HANDLER = "lambda_function.lambda_handler"
DOG_API_URL = "https://dog.ceo/api/breeds/image/random"
BROKEN_BUCKET = "aws-bucket"  # exists, belongs to someone else: PutObject is denied

# Dummy credentials for the emulator, its clients, tests and benches (never real ones),
# and the environment every offline process gets: no instance-metadata probing.
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
OFFLINE_ENV = {
    **DUMMY_CREDENTIALS,
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}

# --- tags: names + tags on the resources are our only state ---
TAG_LAB = "dogxray:lab"
TAG_BUCKET = "dogxray:bucket"  # on the function: the lab's real bucket (survives break-bucket)
TAG_CREATED = "dogxray:created"  # on the bucket: "true" when dogxray created it

_LAB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,41}$")  # + "-function-role" fits IAM's 64


def validate_runtime(runtime: str) -> str:
    """Refuse runtimes Lambda no longer creates, and ones we do not know, before any AWS call."""
    if runtime in SUPPORTED_RUNTIMES:
        return runtime
    if runtime in DEPRECATED_RUNTIMES:
        raise DogxrayError.usage(
            f"runtime {runtime} is deprecated: Lambda no longer creates functions with it",
            hint=f"use one of {', '.join(SUPPORTED_RUNTIMES)} (default {DEFAULT_RUNTIME})",
        )
    raise DogxrayError.usage(
        f"unknown runtime {runtime!r}",
        hint=f"use one of {', '.join(SUPPORTED_RUNTIMES)} (default {DEFAULT_RUNTIME})",
    )


def validate_arch(arch: str) -> str:
    if arch not in ARCHITECTURES:
        raise DogxrayError.usage(
            f"unknown architecture {arch!r}", hint=f"use one of {', '.join(ARCHITECTURES)}"
        )
    return arch


@dataclass(frozen=True)
class Settings:
    """Global options after env-var fallback. Region is resolved by `dogxray.aws`
    (it may need the profile's configuration)."""

    lab: str = DEFAULT_LAB
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    debug: bool = False

    @classmethod
    def from_options(
        cls,
        *,
        lab: str = DEFAULT_LAB,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        debug: bool = False,
        environ: dict[str, str] | None = None,
    ) -> Settings:
        env = os.environ if environ is None else environ
        if not _LAB_RE.match(lab):
            raise DogxrayError.usage(
                f"invalid lab name {lab!r}",
                hint="use 1-42 letters, digits, '-' or '_', starting with a letter or digit",
            )
        if region is not None and not region.strip():
            raise DogxrayError.usage(
                "--region is empty",
                hint="give a region code such as us-east-1, or leave --region out to use "
                "AWS_REGION / the profile's region",
            )
        endpoint = endpoint_url or env.get(ENV_ENDPOINT_URL) or None
        if endpoint and not re.match(r"^https?://[^/\s]+", endpoint):
            raise DogxrayError.usage(
                f"invalid endpoint URL {endpoint!r}",
                hint="give a full URL such as http://127.0.0.1:4566",
            )
        return cls(
            lab=lab,
            profile=profile or env.get(ENV_PROFILE) or None,
            region=region or env.get(ENV_REGION) or env.get(ENV_DEFAULT_REGION) or None,
            endpoint_url=endpoint,
            debug=debug,
        )

    @property
    def function_name(self) -> str:
        return f"{self.lab}-function"

    @property
    def role_name(self) -> str:
        return f"{self.lab}-function-role"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def policy_name(self) -> str:
        return f"{self.lab}-function-policy"


def default_bucket_name(account_id: str, region: str) -> str:
    return f"lovely-dogs-{account_id}-{region}"
