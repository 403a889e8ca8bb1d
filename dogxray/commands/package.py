"""Commands: package (the deployment zip)."""

from __future__ import annotations

from pathlib import Path

import typer

from dogxray.cli import command
from dogxray.config import DEFAULT_ARCH, DEFAULT_RUNTIME
from dogxray.render import package as show


@command("package")
def package(
    output: Path = typer.Option(Path("function.zip"), "--output", help="where to write the zip"),
    runtime: str = typer.Option(DEFAULT_RUNTIME, "--runtime", help="python3.12-python3.14"),
    arch: str = typer.Option(DEFAULT_ARCH, "--arch", help="x86_64 or arm64"),
    from_env: bool = typer.Option(
        False, "--from-env", help="offline: bundle this environment's installed packages"
    ),
) -> None:
    """Build the deployment zip (deterministic; dependencies for the Lambda platform)."""
    from dogxray.package import build_package

    result = build_package(
        runtime=runtime, arch=arch, from_env=from_env, output=output, progress=show.step
    )
    show.summary(result)
