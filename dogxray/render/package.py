"""Output of `dogxray package`: the summary on stdout, build progress on stderr."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dogxray import render

if TYPE_CHECKING:
    from dogxray.package import PackageResult


def step(text: str) -> None:
    """A build progress line (pip, cache) on stderr."""
    render.progress(text)


def summary(result: PackageResult) -> None:
    """What was built, as `key: value` lines a script can read."""
    rows = [
        ("path", str(result.path or "(memory only)")),
        ("runtime", f"{result.runtime} ({result.arch})"),
        ("files", str(result.files)),
        ("zipped bytes", str(result.zipped_bytes)),
        ("unzipped bytes", str(result.unzipped_bytes)),
        ("CodeSha256", result.sha256_b64),
        ("build", "cached" if result.cached else "built"),
    ]
    width = max(len(key) for key, _ in rows) + 1
    for key, value in rows:
        render.data(f"{key + ':':<{width}} {value}")


def cleared(folder: Path, count: int) -> None:
    render.data(f"removed {count} cached build(s) from {folder}")
