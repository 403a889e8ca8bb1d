"""What the commands and the demo call: observe -> desired -> conflicts -> plan -> run.

Every entry point reads the deployed resources once (names + tags are the only state), so
any of them can follow an interrupted run. `setup` builds the package first, then runs
its one plan: the bucket and the role at once, then the function once the zip is ready.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from dogxray.core.aws import Aws
from dogxray.core.config import (
    BROKEN_BUCKET,
    DEFAULT_TRACER,
    ENV_BUCKET_NAME,
    ENV_TRACER,
    TAG_CREATED,
    Settings,
    Tracer,
    tracer_of,
)
from dogxray.core.errors import DogxrayError
from dogxray.lab import injection, validate
from dogxray.lab import observe as obs
from dogxray.lab.conflicts import ALL_PARTS, conflicts
from dogxray.lab.desired import check_options, desired_for, partition
from dogxray.lab.executor import Executor
from dogxray.lab.models import (
    Desired,
    FunctionSpec,
    Observed,
    ObservedFunction,
    PolicyMode,
    SetupOptions,
)
from dogxray.lab.observe import deployed as deployed
from dogxray.lab.observe import deployed_of as deployed_of
from dogxray.lab.observe import nothing_deployed as nothing_deployed
from dogxray.lab.planner import STEP_NAMES, plan
from dogxray.lab.progress import SILENT, Reporter
from dogxray.lab.results import (
    BucketSwitch,
    CleanupResult,
    LabResult,
)
from dogxray.lab.run import DisplayOnly, Run, run_phases, run_steps, split
from dogxray.lab.status import status as status
from dogxray.packaging.build import code_sha256


class ZipProvider(Protocol):
    """(runtime, arch, local_interpreter, tracer) -> the zip; tests inject small ones."""

    def __call__(
        self, runtime: str, arch: str, local_interpreter: bool, *, tracer: str
    ) -> bytes: ...


def build_zip(
    runtime: str,
    arch: str,
    local_interpreter: bool,
    *,
    tracer: str = DEFAULT_TRACER.value,
    reporter: Reporter = SILENT,
) -> bytes:
    """The real package (dogxray.packaging.build); tests inject a small hand-made zip instead."""
    from dogxray.packaging.build import build_for_backend

    result = build_for_backend(
        runtime=runtime,
        arch=arch,
        local_interpreter=local_interpreter,
        progress=reporter.progress,
        tracer=tracer,
    )
    return bytes(result.zip_bytes)


def _zip_provider(zip_provider: ZipProvider | None, reporter: Reporter) -> ZipProvider:
    """The injected provider, else the real build reporting through `reporter`."""
    if zip_provider is not None:
        return zip_provider
    return functools.partial(build_zip, reporter=reporter)


def _refuse_conflicts(d: Desired, observed: Observed, parts: Iterable[str] = ALL_PARTS) -> None:
    """The first conflict no step can fix, as the error that stops the command."""
    found = conflicts(d, observed, parts)
    if found:
        raise found[0].error()


def setup(
    aws: Aws,
    options: SetupOptions,
    *,
    dry_run: bool = False,
    zip_provider: ZipProvider | None = None,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> LabResult:
    """Build or repair the whole lab; a second run on an unchanged lab changes nothing.
    With `dry_run` the result also carries `plan` (the steps as data, `Step.to_json`) and
    nothing is changed.

    Everything that can fail without touching AWS comes first: options, a read of what is
    deployed, conflicts no step can fix (another account's bucket, a foreign role) and the
    zip (built or taken from the cache). Then one plan, cut into phases (`run.split`): the
    bucket and the role (+ log group) in parallel, so the role propagates while the bucket
    is made, then the function, its configuration and URL. `--dry-run` runs the same
    phases through `DisplayOnly`, so it lists exactly what `setup` runs."""
    o = check_options(options)
    observed, bucket = obs.observe(aws, o.bucket)
    infra = desired_for(aws, o, observed, bucket, keep_deployed=False)
    _check_injection(infra, aws.settings)
    _refuse_conflicts(infra, observed)
    runs = executor or Executor(aws, reporter=reporter)
    f = infra.function
    _say_tracer_switch(f, observed.function, runs.reporter)
    local = o.from_env or aws.is_emulator
    zip_bytes = _zip_provider(zip_provider, runs.reporter)(
        f.runtime, f.arch, local, tracer=f.tracer
    )
    desired = replace(infra, function=_with_zip(f, zip_bytes))
    phases = split(plan(desired, observed))
    done = run_phases(DisplayOnly() if dry_run else runs, phases)
    doc = _setup_doc(aws, desired, observed, done)
    if dry_run:
        doc.plan = [st.to_json() for st in done.steps]
    return doc


def _check_injection(d: Desired, settings: Settings) -> None:
    """The injection the function's environment will carry, by `inject`'s rules, and
    with room left in the timeout it will have (whichever command set either)."""
    injection.fits(
        injection.check_env(dict(d.function.env), settings), d.function.timeout, settings
    )


def _say_tracer_switch(f: FunctionSpec, fn: ObservedFunction, reporter: Reporter) -> None:
    """One line when the deployed function is traced by the other tracer: its code and
    its DOGXRAY_TRACER both change."""
    deployed = tracer_of(fn.env)
    if fn.exists and deployed.value != f.tracer:
        reporter.progress(
            f"the function is traced with {deployed.described}: redeploying it traced with "
            f"{Tracer(f.tracer).described} (new code, {ENV_TRACER} "
            f"{'set' if f.tracer != DEFAULT_TRACER.value else 'removed'})"
        )


def _with_zip(f: FunctionSpec, zip_bytes: bytes) -> FunctionSpec:
    return replace(f, zip_bytes=zip_bytes, code_sha256=code_sha256(zip_bytes))


def _setup_doc(aws: Aws, d: Desired, observed: Observed, done: Run) -> LabResult:
    """The lab's names (the outputs of the steps run, else what was observed) and which
    step names changed, in STEP_NAMES' order."""
    fn = observed.function
    url = done.outputs.function_url or fn.url
    changed = [n for n in STEP_NAMES if n in done.changed]
    skip = {"function-code", "function-configuration"} if "function" in changed else set()
    return LabResult(
        lab=d.lab,
        region=d.region,
        bucket=d.bucket.name,
        role_arn=d.role.arn,
        function_arn=done.outputs.function_arn or fn.arn or _function_arn(aws, d),
        function_url=url if d.url.enabled else None,
        changed=changed,
        unchanged=[n for n in STEP_NAMES if n not in changed and n not in skip],
    )


def _function_arn(aws: Aws, d: Desired) -> str:
    return (
        f"arn:{partition(d.region)}:lambda:{d.region}:{aws.account_id}:function:{d.function.name}"
    )


Seen = tuple[Observed, str]  # one command's observation and the lab's bucket (obs.observe)


def stage(
    aws: Aws,
    options: SetupOptions,
    parts: Iterable[str],
    *,
    zip_provider: ZipProvider | None = None,
    executor: Executor | None = None,
    env_bucket: str | None = None,
    reporter: Reporter = SILENT,
    seen: Seen | None = None,
) -> LabResult:
    """One lab stage (create-bucket, create-role, deploy-function, configure, break/fix):
    only `parts` are planned; options not given keep what is deployed. `seen`: the
    observation the command already made (each command observes once)."""
    o = check_options(options)
    observed, bucket = seen or obs.observe(aws, o.bucket)
    wanted = frozenset(parts)
    if wanted & {"code", "function"} and not observed.role.exists:
        raise DogxrayError(
            f"role {aws.settings.role_name(aws.region)} does not exist yet",
            hint=f"run `{aws.settings.command('create-role')}` first, or "
            f"`{aws.settings.command('setup')}` for every stage",
        )
    if not wanted & {"bucket", "role", "function"} and not observed.function.exists:
        raise DogxrayError(
            nothing_deployed(aws.settings),
            hint=f"`{aws.settings.command('setup')}` builds the whole lab",
        )
    desired = desired_for(aws, o, observed, bucket, keep_deployed=True, env_bucket=env_bucket)
    if wanted & {"function", "config"}:
        _check_injection(desired, aws.settings)
    _refuse_conflicts(desired, observed, wanted)
    runs = executor or Executor(aws, reporter=reporter)
    if zip_provider is not None:  # for the runtime, arch and tracer the lab keeps
        f = desired.function
        _say_tracer_switch(f, observed.function, runs.reporter)
        zip_bytes = zip_provider(f.runtime, f.arch, o.from_env or aws.is_emulator, tracer=f.tracer)
        desired = replace(desired, function=_with_zip(f, zip_bytes))
    done = run_steps(runs, plan(desired, observed, wanted))
    doc = _setup_doc(aws, desired, observed, done)
    doc.bucket_preexisting = observed.bucket.exists and (
        observed.bucket.tags.get(TAG_CREATED) != "true"
    )
    return doc


def break_bucket(
    aws: Aws,
    bucket: str = BROKEN_BUCKET,
    *,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> BucketSwitch:
    """Point BUCKET_NAME at a bucket the function cannot write; the real one stays on the
    function's `dogxray:bucket` tag so `fix-bucket` can restore it."""
    validate.bucket_name(bucket)
    seen = obs.observe(aws, None)
    dep = deployed_of(aws, seen[0].function)
    if bucket == dep.bucket:
        raise DogxrayError.usage(
            f"{bucket} is the lab's real bucket", hint="pick a bucket the function cannot write"
        )
    doc = stage(
        aws,
        SetupOptions(),
        ["config"],
        executor=executor,
        env_bucket=bucket,
        reporter=reporter,
        seen=seen,
    )
    return BucketSwitch(
        function=dep.function_name,
        bucket_name=bucket,
        real_bucket=dep.bucket,
        changed=bool(doc.changed),
        message=f"BUCKET_NAME of {dep.function_name} now points at {bucket} (was {dep.env_bucket})"
        if doc.changed
        else f"BUCKET_NAME already points at {bucket}",
        hint=f"call the Function URL (`{aws.settings.command('test')}`) to see Internal "
        f"Server Error, then `{aws.settings.command('traces --errors')}`; "
        f"`{aws.settings.command('fix-bucket')}` restores it",
    )


def fix_bucket(
    aws: Aws, *, executor: Executor | None = None, reporter: Reporter = SILENT
) -> BucketSwitch:
    seen = obs.observe(aws, None)
    dep = deployed_of(aws, seen[0].function)
    doc = stage(
        aws,
        SetupOptions(),
        ["config"],
        executor=executor,
        env_bucket=dep.bucket,
        reporter=reporter,
        seen=seen,
    )
    return BucketSwitch(
        function=dep.function_name,
        bucket_name=dep.bucket,
        real_bucket=dep.bucket,
        changed=bool(doc.changed),
        message=f"BUCKET_NAME of {dep.function_name} restored to {dep.bucket}"
        if doc.changed
        else f"BUCKET_NAME already is the lab's bucket {dep.bucket}",
        hint=None,
    )


def create_bucket(
    aws: Aws,
    bucket: str | None = None,
    *,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> LabResult:
    return stage(aws, SetupOptions(bucket=bucket), ["bucket"], executor=executor, reporter=reporter)


def create_role(
    aws: Aws,
    policy: PolicyMode | None = None,
    *,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> LabResult:
    return stage(aws, SetupOptions(policy=policy), ["role"], executor=executor, reporter=reporter)


def deploy_function(
    aws: Aws,
    options: SetupOptions,
    *,
    zip_provider: ZipProvider | None = None,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> LabResult:
    """Create the function, or upload its code when the zip's SHA-256 differs from the
    deployed CodeSha256 (and apply --runtime/--arch/--memory). BUCKET_NAME is kept."""
    seen = obs.observe(aws, check_options(options).bucket)
    parts = ["function", "code", "config", "logs"]
    return stage(
        aws,
        options,
        parts,
        zip_provider=_zip_provider(zip_provider, executor.reporter if executor else reporter),
        executor=executor,
        env_bucket=seen[0].function.env.get(ENV_BUCKET_NAME),
        reporter=reporter,
        seen=seen,
    )


def configure(
    aws: Aws,
    options: SetupOptions,
    *,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> LabResult:
    """Function URL (auth NONE + its two permissions), BUCKET_NAME, tracing, timeout."""
    return stage(aws, options, ["config", "url"], executor=executor, reporter=reporter)


def cleanup(
    aws: Aws,
    *,
    dry_run: bool = False,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> CleanupResult:
    """Delete what the lab created (see `dogxray.lab.cleanup`); `remaining` is empty when
    nothing is left under the lab's names and tags."""
    from dogxray.lab import cleanup as _cleanup

    return _cleanup.cleanup(aws, dry_run=dry_run, executor=executor, reporter=reporter)
