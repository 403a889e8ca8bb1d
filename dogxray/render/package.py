"""Output of `dogxray package`: the summary on stdout, build progress on stderr."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dogxray import render
from dogxray.core.config import Tracer

if TYPE_CHECKING:
    from dogxray.packaging.build import PackageResult
    from dogxray.packaging.cache import ClearedCache


def step(text: str) -> None:
    """A build progress line (pip, cache) on stderr."""
    render.progress(text)


def summary(result: PackageResult, *, to_stderr: bool = False) -> None:
    """What was built, as `key: value` lines a script can read; on stderr when the zip
    itself went to stdout (`--output /dev/stdout`)."""
    line = render.progress if to_stderr else render.data
    rows = [
        ("path", str(result.path or "(memory only)")),
        ("runtime", f"{result.runtime} ({result.arch})"),
        ("tracer", f"{result.tracer} ({Tracer(result.tracer).described})"),
        ("files", str(result.files)),
        ("zipped bytes", str(result.zipped_bytes)),
        ("unzipped bytes", str(result.unzipped_bytes)),
        ("CodeSha256", result.sha256_b64),
        ("build", "cached" if result.cached else "built"),
    ]
    width = max(len(key) for key, _ in rows) + 1
    for key, value in rows:
        line(f"{key + ':':<{width}} {value}")


def cleared(result: ClearedCache) -> None:
    """What `--clear-cache` removed, and what it left (not dogxray's)."""
    builds = "cached build" if result.removed == 1 else "cached builds"
    freed = f" ({_size(result.freed_bytes)})" if result.removed else ""
    render.data(f"removed {result.removed} {builds}{freed} from {result.folder}")
    if result.kept:
        others = "other entry" if result.kept == 1 else "other entries"
        render.data(f"kept {result.kept} {others} there (not dogxray's builds)")


def _size(count: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("kB", 1024)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count} bytes"
