"""Commands: package (the deployment zip)."""

from __future__ import annotations

from pathlib import Path

import typer

from dogxray.cli import registrar
from dogxray.core import runtimes
from dogxray.core.config import DEFAULT_ARCH, DEFAULT_RUNTIME, DEFAULT_TRACER, Tracer
from dogxray.render import package as show

app = typer.Typer()
command = registrar(app)


@command("package")
def package(
    ctx: typer.Context,
    output: Path = typer.Option(
        Path("function.zip"), "--output", help="file, or existing directory for function.zip"
    ),
    runtime: str = typer.Option(DEFAULT_RUNTIME, "--runtime", help=runtimes.help_text()),
    arch: str = typer.Option(DEFAULT_ARCH, "--arch", help="x86_64 or arm64"),
    tracer: Tracer = typer.Option(
        DEFAULT_TRACER, "--tracer", help="xray (the X-Ray SDK) or otel (OpenTelemetry)"
    ),
    from_env: bool = typer.Option(
        False, "--from-env", help="offline: bundle this environment's installed packages"
    ),
    clear_cache: bool = typer.Option(
        False,
        "--clear-cache",
        help="remove dogxray's cached builds (only those) from the cache directory, then exit",
    ),
) -> None:
    """Build the deployment zip (deterministic; dependencies for the Lambda platform).
    pip builds are cached in $DOGXRAY_CACHE_DIR, else $XDG_CACHE_HOME/dogxray or
    ~/.cache/dogxray. --output: a file is replaced atomically, a link is followed, a
    FIFO or character device (/dev/stdout) is written through."""
    if clear_cache:
        from dogxray.packaging import cache as buildcache

        show.cleared(buildcache.clear())
        return
    from dogxray.core import files
    from dogxray.packaging import build as pkg

    result = pkg.build_for_backend(
        runtime=runtime,
        arch=arch,
        local_interpreter=from_env,
        tracer=tracer.value,
        output=output,
        progress=show.step,
    )
    show.summary(result, to_stderr=files.is_stdout(result.path))
