"""Commands: the lab's stages (create-bucket, create-role, deploy-function, configure),
`setup` (all of them), `status`, `break-bucket`, `fix-bucket` and `cleanup`.

Each one validates its input before any AWS call, makes one service call and renders;
boto3 is imported only inside the bodies (via `dogxray.lab.service`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from dogxray import render
from dogxray.cli import OUTPUT_OPTION, Output, connect, registrar, settings
from dogxray.core import runtimes
from dogxray.core.config import BROKEN_BUCKET, Tracer
from dogxray.core.errors import DogxrayError
from dogxray.lab import validate
from dogxray.lab.models import PolicyMode, SetupOptions
from dogxray.lab.progress import SILENT
from dogxray.render import lab as show

if TYPE_CHECKING:
    from dogxray.core.aws import Aws

app = typer.Typer()
command = registrar(app)

BUCKET_OPTION = typer.Option(
    None,
    "--bucket",
    help="photo bucket, in the lab's region (default lovely-dogs-[<lab>-]<account>-<region>)",
)
POLICY_OPTION = typer.Option(
    None, "--policy", help="least-privilege (inline, default) or console (managed policies)"
)
RUNTIME_OPTION = typer.Option(None, "--runtime", help=runtimes.help_text())
ARCH_OPTION = typer.Option(None, "--arch", help="x86_64 (default) or arm64")
MEMORY_OPTION = typer.Option(None, "--memory", help="MB, 128-10240 (default 128)")
TRACER_OPTION = typer.Option(
    None,
    "--tracer",
    help="what traces the function's work: xray (the X-Ray SDK, as the console lab; "
    "default) or otel (OpenTelemetry); a change redeploys the function",
)
FROM_ENV_OPTION = typer.Option(
    False, "--from-env", help="package from this environment's installed packages (offline)"
)


def _can_ask() -> bool:
    """A person at a terminal can answer the cleanup confirmation."""
    return sys.stdin.isatty()


def _checked(options: SetupOptions) -> SetupOptions:
    from dogxray.lab.desired import check_options

    return check_options(options)


@command("create-bucket")
def create_bucket(ctx: typer.Context, bucket: str | None = BUCKET_OPTION) -> None:
    """Stage 1: create the photo bucket (region-correct, validated name, tagged)."""
    if bucket is not None:
        validate.bucket_name(bucket)
    from dogxray.lab import service

    doc = service.create_bucket(connect(ctx), bucket, reporter=show.REPORTER)
    name = doc.bucket
    if doc.bucket_preexisting:
        show.message(
            f"using existing bucket {name}; dogxray did not create it and will never empty "
            "or delete it",
            f"dogxray keeps no local state: pass `--bucket {name}` to `{render.command('setup')}`",
        )
    else:
        show.stage_result(
            doc.changed, done=f"bucket {name} created", unchanged=f"bucket {name} exists"
        )


@command("create-role")
def create_role(ctx: typer.Context, policy: PolicyMode | None = POLICY_OPTION) -> None:
    """Stage 2: the function's role (trusted by Lambda; S3 write, logs, X-Ray write)."""
    from dogxray.lab import service

    doc = service.create_role(connect(ctx), policy, reporter=show.REPORTER)
    show.stage_result(
        doc.changed,
        done=f"role ready: {doc.role_arn}",
        unchanged=f"role is up to date: {doc.role_arn}",
    )


@command("deploy-function")
def deploy_function(
    ctx: typer.Context,
    runtime: str | None = RUNTIME_OPTION,
    arch: str | None = ARCH_OPTION,
    memory: int | None = MEMORY_OPTION,
    tracer: Tracer | None = TRACER_OPTION,
    from_env: bool = FROM_ENV_OPTION,
) -> None:
    """Stage 3: create the function, or upload its code if the package changed."""
    options = _checked(
        SetupOptions(
            runtime=runtime,
            arch=arch,
            memory=memory,
            tracer=tracer.value if tracer else None,
            from_env=from_env,
        )
    )
    from dogxray.lab import service

    doc = service.deploy_function(connect(ctx), options, reporter=show.REPORTER)
    show.stage_result(
        doc.changed,
        done=f"function deployed: {doc.function_arn}",
        unchanged="function code and configuration are up to date (same CodeSha256)",
    )


@command("configure")
def configure(
    ctx: typer.Context,
    timeout: int | None = typer.Option(None, "--timeout", help="seconds, 1-900 (lab: 15)"),
    tracing: bool | None = typer.Option(
        None, "--tracing/--no-tracing", help="X-Ray active tracing (lab: on)"
    ),
    url: bool | None = typer.Option(
        None, "--url/--no-url", help="public Function URL, auth NONE (lab: on)"
    ),
    env: list[str] = typer.Option([], "--env", help="extra KEY=VALUE (repeatable)"),
    reserved: int | None = typer.Option(
        None,
        "--reserved-concurrency",
        help="executions reserved for the function; Lambda throttles beyond them (0 stops it)",
    ),
    unreserved: bool = typer.Option(
        False, "--no-reserved-concurrency", help="remove the reservation (the lab's default)"
    ),
) -> None:
    """Stage 3: Function URL (auth NONE), BUCKET_NAME, active tracing, timeout, reserved
    concurrency. Changes only what is given; the rest stays as the lab recorded it."""
    if reserved is not None and unreserved:
        raise DogxrayError.usage(
            "--reserved-concurrency and --no-reserved-concurrency contradict each other",
            hint="give one of them",
        )
    options = _checked(
        SetupOptions(
            timeout=timeout,
            tracing=tracing,
            url=url,
            env=validate.env_pairs(env, settings(ctx)),
            reserved=reserved,
            unreserved=unreserved,
        )
    )
    from dogxray.lab import service

    doc = service.configure(connect(ctx), options, reporter=show.REPORTER)
    show.stage_result(doc.changed, done="function configured", unchanged="already configured")
    if reserved == 0:
        show.message(
            "reserved concurrency 0: the function is stopped, every invocation is throttled",
            f"`{render.command('configure --no-reserved-concurrency')}` (or a higher number) "
            "starts it again",
        )
    if doc.function_url:
        show.function_url(doc.function_url)


@command("setup")
def setup(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="print the plan; change nothing"),
    output: Output = OUTPUT_OPTION,
    bucket: str | None = BUCKET_OPTION,
    policy: PolicyMode | None = POLICY_OPTION,
    runtime: str | None = RUNTIME_OPTION,
    arch: str | None = ARCH_OPTION,
    memory: int | None = MEMORY_OPTION,
    timeout: int | None = typer.Option(None, "--timeout", help="seconds, 1-900 (default 15)"),
    tracer: Tracer | None = TRACER_OPTION,
    from_env: bool = FROM_ENV_OPTION,
) -> None:
    """Stages 1-3 in order, idempotent: bucket, role, function, URL; prints the URL."""
    options = _checked(
        SetupOptions(
            bucket=bucket,
            policy=policy,
            runtime=runtime,
            arch=arch,
            memory=memory,
            timeout=timeout,
            tracer=tracer.value if tracer else None,
            from_env=from_env,
        )
    )
    from dogxray.lab import service

    doc = service.setup(connect(ctx), options, dry_run=dry_run, reporter=show.REPORTER)
    if output is Output.json:
        render.json_doc(doc.to_json())
    elif dry_run:
        show.plan(doc.plan or [], what=f"setup of lab {doc.lab}")
    else:
        show.setup_result(doc)


@command("status")
def status(ctx: typer.Context, output: Output = OUTPUT_OPTION) -> None:
    """What exists, and what differs from the lab's configuration."""
    from dogxray.lab import injection, service

    found = service.status(connect(ctx))  # one observation: the injection is read from it
    active = injection.from_env(found.function_env) if found.function_env is not None else None
    if output is Output.json:
        render.json_doc({**found.to_json(), "injection": active.to_json() if active else None})
    else:
        show.status(found)
        if active:
            show.injection(active.describe())


@command("break-bucket")
def break_bucket(
    ctx: typer.Context,
    bucket: str = typer.Option(
        BROKEN_BUCKET, "--bucket", help="a bucket the function cannot write"
    ),
) -> None:
    """Stage 5: point BUCKET_NAME at a bucket the function cannot write."""
    validate.bucket_name(bucket)
    from dogxray.lab import service

    show.bucket_switch(service.break_bucket(connect(ctx), bucket, reporter=show.REPORTER))


@command("fix-bucket")
def fix_bucket(ctx: typer.Context) -> None:
    """Stage 5: restore BUCKET_NAME to the lab's bucket."""
    from dogxray.lab import service

    show.bucket_switch(service.fix_bucket(connect(ctx), reporter=show.REPORTER))


@command("cleanup")
def cleanup(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
    dry_run: bool = typer.Option(False, "--dry-run", help="list what would be deleted"),
    all_labs: bool = typer.Option(
        False, "--all-labs", help="every dogxray lab of the region (see `dogxray labs`)"
    ),
    lab: str | None = typer.Option(
        None, "--lab", help="the lab to remove (as the global --lab before the command)"
    ),
) -> None:
    """Stage 6: delete everything dogxray created, then prove nothing is left."""
    from dogxray.lab import service

    aws = _cleanup_session(ctx, lab, all_labs)
    if all_labs:
        _cleanup_all_labs(aws, yes=yes, dry_run=dry_run)
        return
    if dry_run or not yes:
        preview = service.cleanup(aws, dry_run=True)
        if dry_run or not preview.deleted:
            show.cleanup_result(preview, dry_run=True)
            return
        _confirm("cleanup deletes the lab")
        show.cleanup_result(preview, dry_run=True)
        _ask("delete these resources?")
    doc = service.cleanup(aws, reporter=show.REPORTER)
    show.cleanup_result(doc, dry_run=False)
    if doc.remaining:
        raise DogxrayError(
            f"cleanup could not verify that the lab is gone: {', '.join(doc.remaining)} "
            "still exist(s)",
            hint=f"re-run `{render.command('cleanup --yes')}` (it continues where it stopped); "
            "--debug shows the API calls",
        )


def _cleanup_session(ctx: typer.Context, lab: str | None, all_labs: bool) -> Aws:
    """The session of the lab to clean: `cleanup --lab X` is the global `--lab X`."""
    from dogxray.lab.labs import lab_aws

    aws = connect(ctx)
    given = ctx.find_root().get_parameter_source("lab")
    global_lab = given is not None and given.name == "COMMANDLINE"
    if all_labs and (lab is not None or global_lab):
        raise DogxrayError.usage(
            "--all-labs removes every lab of the region; it takes no --lab",
            hint="drop --lab, or drop --all-labs to remove one lab",
        )
    if lab is None or lab == aws.settings.lab:
        return aws
    if global_lab:
        raise DogxrayError.usage(
            f"two labs given: --lab {aws.settings.lab} before the command and --lab {lab} after it",
            hint="give --lab once",
        )
    return lab_aws(aws, lab)


def _confirm(what: str) -> None:
    if not _can_ask():
        raise DogxrayError.usage(
            f"{what} and needs confirmation, but there is no terminal",
            hint="re-run with --yes (see what would go with --dry-run)",
        )


def _ask(question: str) -> None:
    if not typer.confirm(question, default=False, err=True):
        render.progress("cancelled: nothing deleted")
        raise typer.Exit(1)


def _cleanup_all_labs(aws: Aws, *, yes: bool, dry_run: bool) -> None:
    """Every lab the tags show in this region: listed, confirmed, each lab's own cleanup."""
    from dogxray.lab.labs import cleanup_all, find_labs

    found = find_labs(aws)
    show.labs(found, hint=False)
    if not found.labs:
        return
    if not dry_run and not yes:
        _confirm("cleanup --all-labs deletes every lab listed")
        count = len(found.labs)
        _ask(f"delete {'this lab' if count == 1 else f'these {count} labs'} in {aws.region}?")
    reporter = SILENT if dry_run else show.REPORTER
    done = cleanup_all(aws, found.labs, dry_run=dry_run, reporter=reporter)
    show.all_labs_cleanup(done, dry_run=dry_run)
    left = [f"{lab}: {', '.join(r.remaining)}" for lab, r in done.results.items() if r.remaining]
    if left:
        raise DogxrayError(
            f"cleanup could not verify that every lab is gone ({'; '.join(left)})",
            hint=f"re-run `{aws.settings.command('cleanup --all-labs --yes', lab=False)}` "
            "(it continues where it stopped)",
        )
