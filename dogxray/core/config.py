"""Settings, names derived from the lab name, and every environment variable we read.

Explicit options always win over environment variables (the Powertools rule); this
module never imports botocore so `--help` stays fast.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from dogxray.core.errors import DogxrayError
from dogxray.core.runtimes import DEFAULT_RUNTIME as DEFAULT_RUNTIME  # re-exported

# --- environment variable names (the only place they are spelled out) ---
ENV_ENDPOINT_URL = "AWS_ENDPOINT_URL"
ENV_REGION = "AWS_REGION"
ENV_DEFAULT_REGION = "AWS_DEFAULT_REGION"
ENV_PROFILE = "AWS_PROFILE"
ENV_NO_COLOR = "NO_COLOR"
ENV_CACHE_DIR = "DOGXRAY_CACHE_DIR"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
ENV_LOCAL_CONCURRENCY = "DOGXRAY_LOCAL_CONCURRENCY"  # the emulator's account limit
ENV_LOCAL_IDLE_TIMEOUT = "DOGXRAY_LOCAL_IDLE_TIMEOUT"  # seconds before an idle env stops
# "1": the emulator traces every request of an Active function (no Lambda sampling)
ENV_LOCAL_TRACE_ALL = "DOGXRAY_LOCAL_TRACE_ALL"
# "1": the emulator is a Transaction Search account; the share of traces it indexes
ENV_LOCAL_TRANSACTION_SEARCH = "DOGXRAY_LOCAL_TRANSACTION_SEARCH"
ENV_LOCAL_INDEXED_PERCENT = "DOGXRAY_LOCAL_INDEXED_PERCENT"
# seconds an AWS call may wait for an answer (READ_TIMEOUT_S); tests shorten it
ENV_READ_TIMEOUT = "DOGXRAY_READ_TIMEOUT"
# what the emulator keeps (LOCAL_KEEP_* below)
ENV_LOCAL_KEEP_TRACES = "DOGXRAY_LOCAL_KEEP_TRACES"
ENV_LOCAL_KEEP_LOG_EVENTS = "DOGXRAY_LOCAL_KEEP_LOG_EVENTS"
ENV_LOCAL_KEEP_DATAPOINTS = "DOGXRAY_LOCAL_KEEP_DATAPOINTS"
# seconds between the emulator's evaluations of CloudWatch alarms (default 5)
ENV_LOCAL_ALARM_INTERVAL = "DOGXRAY_LOCAL_ALARM_INTERVAL"
# set on the function
ENV_BUCKET_NAME = "BUCKET_NAME"
ENV_DOG_API_URL = "DOG_API_URL"
# fault injection (triage lab); the payload reads the same names (lambda_payload/injection.py)
ENV_INJECT_LATENCY_MS = "DOGXRAY_INJECT_LATENCY_MS"
ENV_INJECT_LATENCY_RATE = "DOGXRAY_INJECT_LATENCY_RATE"
ENV_INJECT_FAILURE_RATE = "DOGXRAY_INJECT_FAILURE_RATE"
ENV_INJECT_AT = "DOGXRAY_INJECT_AT"
ENV_INJECT_SEED = "DOGXRAY_INJECT_SEED"
INJECT_ENV = (
    ENV_INJECT_LATENCY_MS,
    ENV_INJECT_LATENCY_RATE,
    ENV_INJECT_FAILURE_RATE,
    ENV_INJECT_AT,
    ENV_INJECT_SEED,
)
INJECT_STEPS = ("call_dog_api", "save_dog_to_s3")

# --- what Lambda's Python runtime provides (the one list; package build, emulator, tests) ---
# Besides the standard library: the AWS SDK and its dependencies, as distribution name ->
# import names. The emulator offers all of them to the function, as Lambda does.
LAMBDA_RUNTIME_PACKAGES: dict[str, tuple[str, ...]] = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "python-dateutil": ("dateutil",),
    "six": ("six",),
    "urllib3": ("urllib3",),
}
# Runtime packages a zip may still carry: `requests` needs urllib3 2, newer than some
# runtimes' botocore pins; the zip comes first on sys.path, so the function uses its own.
BUNDLED_OVER_RUNTIME = frozenset({"urllib3"})
# Distributions a payload must not pin (the runtime's copy is the one to use) ...
NEVER_BUNDLED = frozenset(LAMBDA_RUNTIME_PACKAGES) - BUNDLED_OVER_RUNTIME
# ... their top-level import names (what a built zip must not contain) ...
NEVER_BUNDLED_MODULES = tuple(m for d in sorted(NEVER_BUNDLED) for m in LAMBDA_RUNTIME_PACKAGES[d])
# ... and every import name the runtime provides.
RUNTIME_MODULES = tuple(m for names in LAMBDA_RUNTIME_PACKAGES.values() for m in names)

# --- the AWS client's read timeout (dogxray.core.aws) ---
# Every dogxray call is answered in seconds; a hung endpoint is not. $DOGXRAY_READ_TIMEOUT
# overrides it (an `Aws(read_timeout=...)` argument wins over both): the hung-endpoint tests
# wait 0.1 s, not 10.
READ_TIMEOUT_S = 10
READ_TIMEOUT_MAX_S = 3_600


def env_flag(
    value: bool | None, name: str, hint: str, environ: Mapping[str, str] | None = None
) -> bool:
    """An on/off option: `value` if given, else $name (`1`/`true`/`0`/`false`), else off."""
    if value is not None:
        return value
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    flags = {"": False, "0": False, "false": False, "1": True, "true": True}
    if raw.lower() not in flags:
        raise DogxrayError.usage(f"{name}={raw} is not on or off", hint=hint)
    return flags[raw.lower()]


def read_timeout_s(environ: Mapping[str, str] | None = None) -> float:
    """Seconds an AWS call waits for an answer: $DOGXRAY_READ_TIMEOUT, else READ_TIMEOUT_S."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_READ_TIMEOUT, "").strip()
    if not raw:
        return READ_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= READ_TIMEOUT_MAX_S:
        raise DogxrayError.usage(
            f"{ENV_READ_TIMEOUT} {raw!r} is not a number of seconds",
            hint=f"give seconds above 0, up to {READ_TIMEOUT_MAX_S} (default {READ_TIMEOUT_S}), "
            f"or unset {ENV_READ_TIMEOUT}",
        )
    return seconds


# --- lab constants ---
DEFAULT_LAB = "dog-photo"
DEFAULT_REGION = "us-east-1"
ARCHITECTURES = ("x86_64", "arm64")
DEFAULT_ARCH = "x86_64"
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 15
HANDLER = "lambda_function.lambda_handler"
DOG_API_URL = "https://dog.ceo/api/breeds/image/random"
BROKEN_BUCKET = "aws-bucket"  # exists, belongs to someone else: PutObject is denied


class Tracer(str, Enum):
    """What traces the function's own work: the AWS X-Ray SDK (the console lab's) or
    OpenTelemetry; the deployment zip carries that tracer only."""

    xray = "xray"
    otel = "otel"

    @property
    def described(self) -> str:
        return "the X-Ray SDK" if self is Tracer.xray else "OpenTelemetry"


DEFAULT_TRACER = Tracer.xray
# The function's variable naming its tracer (lambda_payload/tracing.py reads it); set for
# OpenTelemetry only, so an X-Ray lab's environment is the console lab's.
ENV_TRACER = "DOGXRAY_TRACER"


def tracer_of(env: Mapping[str, str]) -> Tracer:
    """The tracer a function's variables select, by the payload's rule (`otel`; anything
    else is the X-Ray SDK)."""
    return Tracer.otel if env.get(ENV_TRACER) == Tracer.otel.value else Tracer.xray


# The emulator's account concurrency limit (AWS: 1,000 per region). Every execution
# environment is a Python subprocess (~40-70 MB, ~0.3 s of CPU to start); on a 2-core
# machine more than ~10 only queue for the CPU and swap, while 10 is enough to show
# scale-out, cold starts and throttles at `dogxray load --concurrency 10`.
LOCAL_CONCURRENCY = 10
LOCAL_CONCURRENCY_MAX = 100  # `load --concurrency` goes no higher either
# Idle environments are stopped after this long, as Lambda reclaims them (it keeps them
# for minutes, unspecified); 5 minutes keeps the lab warm between commands.
LOCAL_IDLE_TIMEOUT_S = 300.0
# What the emulator keeps in memory (AWS keeps traces 30 days, logs and metrics longer):
# the newest ones up to these counts, so a long `load` stays flat. Per request of the lab
# the emulator stores ~20 KB of trace (8 segments), 4 log events and 4 datapoints; with
# these bounds its main process levels off ~150 MB above its start (186 -> 333 MB over
# 15,000 requests, bench/emulator_memory.py). 5,000 traces are more than X-Ray samples of
# a 10,000-request `load` on AWS (1 per second plus 5%). Each is overridable by its
# ENV_LOCAL_KEEP_* variable.
LOCAL_KEEP_TRACES = 5_000  # X-Ray traces, per account and region (oldest go first)
LOCAL_KEEP_LOG_EVENTS = 50_000  # CloudWatch Logs events, per log group
LOCAL_KEEP_DATAPOINTS = 10_000  # CloudWatch datapoints, per metric (name + dimensions)
LOCAL_KEEP_MAX = 10_000_000

# dogxray's emulator answers this path on its AWS endpoint, so a client can tell it from
# any other endpoint (a plain moto server, LocalStack) before choosing what zip to build.
EMULATOR_MARKER_PATH = "/_dogxray/emulator"
EMULATOR_MARKER = {"emulator": "dogxray"}
# ... and its Function URL gateway this one (with the AWS endpoint's URL), so a client
# pointed at the gateway by mistake can say which port is the API.
GATEWAY_MARKER_PATH = "/_dogxray/gateway"

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
TAG_REGION = "dogxray:region"  # on the role: IAM is global, the role serves one region
TAG_SETTINGS = "dogxray:settings"  # on the function: the options the lab was given

_LAB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,41}$")
_BUCKET_MAX = 63  # S3
_ROLE_MAX = 64  # IAM


def _short_hash(text: str) -> str:
    """Stable across runs and machines (unlike hash()): tells truncated names apart."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def validate_tracer(tracer: str) -> Tracer:
    try:
        return Tracer(tracer)
    except ValueError:
        raise DogxrayError.usage(
            f"unknown tracer {tracer!r}",
            hint="use xray (the X-Ray SDK, as the console lab) or otel (OpenTelemetry)",
        ) from None


def validate_arch(arch: str) -> str:
    if arch not in ARCHITECTURES:
        raise DogxrayError.usage(
            f"unknown architecture {arch!r}", hint=f"use one of {', '.join(ARCHITECTURES)}"
        )
    return arch


@dataclass(frozen=True)
class Settings:
    """Global options after env-var fallback. Region is resolved by `dogxray.core.aws`
    (it may need the profile's configuration)."""

    lab: str = DEFAULT_LAB
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    debug: bool = False
    # The global options given on the command line ("profile", "region", "endpoint_url"):
    # the ones a hint must repeat (the environment's carry over in the same shell).
    given: frozenset[str] = frozenset()

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
        given: frozenset[str] = frozenset(),
    ) -> Settings:
        """`given`: the options the user typed (`command` repeats them in hints)."""
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
        if profile is not None and not profile.strip():
            raise DogxrayError.usage(
                "--profile is empty",
                hint="give a profile name from `aws configure list-profiles`, or leave "
                "--profile out to use AWS_PROFILE / the default profile",
            )
        if endpoint_url is not None and not endpoint_url.strip():
            raise DogxrayError.usage(
                "--endpoint-url is empty",
                hint="give a full URL such as http://127.0.0.1:4566, or leave --endpoint-url "
                "out to use AWS_ENDPOINT_URL / AWS",
            )
        endpoint = endpoint_url or env.get(ENV_ENDPOINT_URL, "").strip() or None
        if endpoint and not re.match(r"^https?://[^/\s]+", endpoint):
            raise DogxrayError.usage(
                f"invalid endpoint URL {endpoint!r}",
                hint="give a full URL such as http://127.0.0.1:4566",
            )
        return cls(
            lab=lab,
            profile=profile or env.get(ENV_PROFILE, "").strip() or None,
            region=region
            or env.get(ENV_REGION, "").strip()
            or env.get(ENV_DEFAULT_REGION, "").strip()
            or None,
            endpoint_url=endpoint,
            debug=debug,
            given=given,
        )

    def command(self, args: str, *, lab: bool = True) -> str:
        """A dogxray command line for a hint, with the global options this run was given:
        `command("test --count 3")` -> "dogxray --lab a --region eu-west-1 test --count 3".
        A lab other than the default is always named; --profile, --region and
        --endpoint-url only when typed (set in the environment, they carry over).
        `lab=False` for commands about every lab (`cleanup --all-labs`)."""
        words = ["dogxray"]
        if lab and self.lab != DEFAULT_LAB:
            words += ["--lab", self.lab]
        for name, value in (
            ("profile", self.profile),
            ("region", self.region),
            ("endpoint_url", self.endpoint_url),
        ):
            if name in self.given and value:
                words += [f"--{name.replace('_', '-')}", value]
        prefix = " ".join(shlex.quote(w) for w in words)
        return f"{prefix} {args}" if args else prefix

    @property
    def function_name(self) -> str:
        return f"{self.lab}-function"

    def role_name(self, region: str) -> str:
        """One role per lab and region: IAM is global, so a shared role would let one
        region's setup rewrite (and its cleanup delete) the other region's permissions."""
        name = f"{self.lab}-function-role-{region}"
        if len(name) <= _ROLE_MAX:
            return name
        tail = f"-{_short_hash(self.lab)}-function-role-{region}"
        return self.lab[: _ROLE_MAX - len(tail)].rstrip("-_") + tail

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def policy_name(self) -> str:
        return f"{self.lab}-function-policy"


def default_bucket_name(lab: str, account_id: str, region: str) -> str:
    """The lab's bucket unless `--bucket` is given: `lovely-dogs-<account>-<region>` for the
    default lab (the SPEC's name), `lovely-dogs-<slug>-<account>-<region>` for any other.

    The slug is the lab lowercased with `_` -> `-`. When that loses information (upper case,
    `_`, a `--` that a hashed name could also produce) or the name would pass 63 characters,
    the slug is cut and `--<hash of the lab>` appended, so two labs never share a bucket."""
    suffix = f"-{account_id}-{region}"
    if lab == DEFAULT_LAB:
        return f"lovely-dogs{suffix}"
    slug = lab.lower().replace("_", "-")
    name = f"lovely-dogs-{slug}{suffix}"
    if slug == lab and "--" not in slug and len(name) <= _BUCKET_MAX:
        return name
    tail = f"--{_short_hash(lab)}{suffix}"
    keep = _BUCKET_MAX - len("lovely-dogs-") - len(tail)
    return f"lovely-dogs-{slug[:keep].rstrip('-')}{tail}"
