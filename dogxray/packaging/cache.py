"""The cache of deployment-zip builds (`package`'s pip builds; offline builds when a
cache directory is given): where it is, what its files are called, and clearing it.

The cache directory may be shared ($DOGXRAY_CACHE_DIR can point anywhere, even a home
directory), so dogxray recognises its own files by their exact names,
`function-{pip,env}-<32 hex digits>.zip` (and the `.<name>.<hex>.tmp` files of an
interrupted write), and `clear` removes those and nothing else.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from dogxray.core.config import ENV_CACHE_DIR, ENV_XDG_CACHE_HOME
from dogxray.core.errors import DogxrayError

_BUILD = r"function-(?:pip|env)-[0-9a-f]{32}\.zip"
BUILD_NAME = re.compile(rf"^(?:{_BUILD}|\.{_BUILD}\.[0-9a-f]+\.tmp)$")


def default_cache_dir() -> Path:
    """$DOGXRAY_CACHE_DIR, else $XDG_CACHE_HOME/dogxray, else ~/.cache/dogxray."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env)
    xdg = os.environ.get(ENV_XDG_CACHE_HOME)
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dogxray"


def build_file(folder: Path, mode: str, key: str) -> Path:
    """The cached zip of a build `mode` ("pip" or "env") under its cache `key`."""
    return folder / f"function-{mode}-{key}.zip"


@dataclass(frozen=True)
class ClearedCache:
    folder: Path
    removed: int  # dogxray's build files removed
    freed_bytes: int
    kept: int  # other entries of the folder, left untouched

    def to_json(self) -> dict[str, object]:
        return {
            "folder": str(self.folder),
            "removed": self.removed,
            "freed_bytes": self.freed_bytes,
            "kept": self.kept,
        }


def clear(cache_dir: Path | None = None) -> ClearedCache:
    """Remove dogxray's cached builds (regular files named as dogxray names them) from
    the cache directory; every other file and folder there stays, the folder too."""
    folder = cache_dir or default_cache_dir()
    removed = freed = kept = 0
    try:
        entries = sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError as exc:
        raise DogxrayError(
            f"cannot read the cache directory {folder}: {exc.strerror or exc}",
            hint="check its permissions",
        ) from exc
    for entry in entries:
        if not BUILD_NAME.match(entry.name) or entry.is_symlink() or not entry.is_file():
            kept += 1
            continue
        try:
            size = entry.stat().st_size
            entry.unlink()
        except FileNotFoundError:
            continue  # another dogxray removed it
        except OSError as exc:
            raise DogxrayError(
                f"cannot remove the cached build {entry}: {exc.strerror or exc}",
                where=f"{removed} removed before it",
                hint=f"check the permissions of {folder}",
            ) from exc
        removed += 1
        freed += size
    return ClearedCache(folder, removed, freed, kept)
