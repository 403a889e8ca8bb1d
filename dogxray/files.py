"""Writing the files users ask for (`package --output`, `report --output`): the same
path rules and an atomic write, in one place."""

from __future__ import annotations

import os
from pathlib import Path

from dogxray.errors import DogxrayError


def output_path(output: Path, default_name: str) -> Path:
    """A file, or `default_name` inside an existing directory; the parent directory must
    exist (a typo is not silently created)."""
    target = output / default_name if output.is_dir() else output
    if not target.parent.is_dir():
        raise DogxrayError.usage(
            f"cannot write {target}: the directory {target.parent} does not exist",
            hint="create it first, or give an existing directory or file path to --output",
        )
    return target


def write_atomic(path: Path, data: bytes, *, make_parents: bool = False) -> int:
    """Write beside the target and rename, so a reader never sees half a file; the size.
    The temporary file is in the target's own directory, never elsewhere."""
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DogxrayError.usage(
            f"cannot write {path}: {exc.strerror or exc}", hint="check the path and permissions"
        ) from exc
    return len(data)
