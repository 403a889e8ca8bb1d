"""Writing the files users ask for (`package --output`, `report --file`) and the build
cache: the same path rules and the same write, in one place.

The rules (nothing dogxray did not create is ever replaced or unlinked):
- a regular file, or a new path in an existing directory: written atomically (a
  temporary file beside it, then a rename), keeping the old file's permission bits;
- a symbolic link: followed, and the same rules applied to what it points at; a link
  into a directory that does not exist is refused;
- a character device or a FIFO (`/dev/stdout`, a named pipe), or a `/proc` file
  descriptor link: opened and written through, never replaced;
- a block device, a socket or a directory: refused.
`output_path` checks all of this, and that the path can be written, before any work is
done (the pip build); `write_file` applies the rules again when writing.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from dogxray.core.errors import EXIT_FAILED, EXIT_USAGE, DogxrayError

_MAX_LINKS = 40  # the kernel's own limit (MAXSYMLINKS)


@dataclass(frozen=True)
class _Plan:
    shown: Path  # the path as the user gave it (messages)
    path: Path  # where the bytes go: the link's final target, or the path itself
    stream: bool  # open and write through (device, FIFO, /proc link), never replace


def output_path(output: Path, default_name: str, *, option: str = "--output") -> Path:
    """A file, or `default_name` inside an existing directory, checked to be writable
    under the rules above (the parent directory must exist: a typo is not silently
    created). `option` names the command's option in hints."""
    target = output / default_name if output.is_dir() else output
    _check_writable(_plan(target, option), option)
    return target


def write_file(
    path: Path, data: bytes, *, make_parents: bool = False, option: str = "--output"
) -> int:
    """Write `data` under the rules above (a reader never sees half a regular file);
    the size. A temporary file is made only in the target's own directory."""
    if make_parents:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _refused(path, exc, option, exit_code=EXIT_FAILED) from exc
    plan = _plan(path, option)  # again: the path may have changed since output_path
    if plan.stream:
        try:
            _stream(plan.path, data)
        except OSError as exc:
            raise _refused(path, exc, option, exit_code=EXIT_FAILED) from exc
    else:
        _replace(plan, data, option)
    return len(data)


def _stream(path: Path, data: bytes) -> None:
    """Write through. This process's own stdout or stderr (`/dev/stdout`, even when it
    is redirected to a file) is written on its descriptor: reopening it would truncate
    a file opened with `>>` and write over what the command prints after."""
    own = _own_descriptor(path)
    if own is None:
        with open(path, "wb") as device:
            device.write(data)
        return
    (sys.stdout if own == 1 else sys.stderr).flush()  # what was printed comes first
    view = memoryview(data)
    while view:
        view = view[os.write(own, view) :]


def is_regular_file(path: Path) -> bool:
    """Whether `path` (links followed) is a regular file a browser can open."""
    with suppress(OSError):
        return stat.S_ISREG(os.stat(path).st_mode)
    return False


def is_stdout(path: Path | None) -> bool:
    """Whether `path` is this process's standard output (`/dev/stdout`, or the file or
    pipe it is redirected to): the command's own summary then goes to stderr."""
    return path is not None and _own_descriptor(path) == 1


def _own_descriptor(path: Path) -> int | None:
    """1 or 2 when `path` is the file, pipe or terminal of this process's stdout or
    stderr (a real one: not when tests capture them)."""
    try:
        theirs = os.stat(path)
    except OSError:
        return None
    for number, stream in ((1, sys.stdout), (2, sys.stderr)):
        try:
            if stream.fileno() != number:
                continue
            mine = os.fstat(number)
        except (OSError, ValueError, AttributeError):  # captured (CliRunner), closed
            continue
        if (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino):
            return number
    return None


def _in_proc(path: Path) -> bool:
    """A path under /proc: its links (`/proc/self/fd/1`) are not ordinary symlinks."""
    return Path(os.path.realpath(path.parent)).parts[1:2] == ("proc",)


def _follow(path: Path, option: str) -> tuple[Path, bool]:
    """The end of the chain of links at `path`, and whether the chain passes /proc."""
    current = Path(os.path.abspath(path))
    via_proc = _in_proc(current)
    for _ in range(_MAX_LINKS):
        if not current.is_symlink():
            return current, via_proc
        link = Path(os.readlink(current))
        current = Path(os.path.abspath(Path(os.path.realpath(current.parent)) / link))
        via_proc = via_proc or _in_proc(current)
    raise DogxrayError.usage(
        f"cannot write {path}: too many levels of symbolic links (a loop?)",
        hint=f"fix the link, or choose another path for {option}",
    )


def _plan(path: Path, option: str) -> _Plan:
    """How `path` is to be written, or a usage error saying why it cannot be."""
    try:
        final, via_proc = _follow(path, option)
        info: os.stat_result | None = os.stat(path)  # links followed
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError as exc:
        raise _refused(path, exc, option) from exc
    if info is None:  # a new file, or a link to one
        parent = final.parent
        if not parent.is_dir():
            missing = (
                f"{parent} is not a directory"
                if parent.exists()
                else f"the directory {parent} does not exist"
            )
            if final != Path(os.path.abspath(path)):
                raise DogxrayError.usage(
                    f"cannot write {path}: it is a symbolic link to {final}, and {missing}",
                    hint=f"fix or remove the link, or choose another path for {option}",
                )
            raise DogxrayError.usage(
                f"cannot write {path}: {missing}",
                hint=f"create it first, or give an existing directory or file path to {option}",
            )
        return _Plan(path, final, stream=False)
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return _Plan(path, path, stream=True) if via_proc else _Plan(path, final, stream=False)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return _Plan(path, path, stream=True)
    kind = (
        "a directory"
        if stat.S_ISDIR(mode)
        else "a block device"
        if stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise DogxrayError.usage(
        f"cannot write {path}: it is {kind}",
        hint=f"give {option} a file path (or a FIFO or a character device such as "
        "/dev/stdout to write through)",
    )


def _check_writable(plan: _Plan, option: str) -> None:
    """Refuse now what the write would refuse later (before any build or AWS call)."""
    if plan.stream or plan.path.exists():
        if not os.access(plan.path, os.W_OK):
            raise _refused(plan.shown, PermissionError(errno.EACCES, "denied"), option)
        if plan.stream:
            return
    try:  # the only sure test of a directory (root, /proc, read-only mounts): make a file
        probe, fd = _temp_beside(plan.path)
    except OSError as exc:
        raise _refused(plan.shown, exc, option) from exc
    os.close(fd)
    with suppress(OSError):
        probe.unlink()


def _temp_beside(path: Path) -> tuple[Path, int]:
    """A new file of ours beside `path` (never one that exists), and its descriptor."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue


def _replace(plan: _Plan, data: bytes, option: str) -> None:
    """Temporary file beside the target, then rename over it."""
    tmp: Path | None = None
    try:
        tmp, fd = _temp_beside(plan.path)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        with suppress(FileNotFoundError):  # keep the permissions of the file replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(plan.path).st_mode))
        os.replace(tmp, plan.path)
        tmp = None
    except OSError as exc:
        if tmp is not None:
            with suppress(OSError):  # on a read-only file system this fails as well
                tmp.unlink()
        raise _refused(plan.shown, exc, option, exit_code=EXIT_FAILED) from exc


def _refused(path: Path, exc: OSError, option: str, *, exit_code: int = EXIT_USAGE) -> DogxrayError:
    """One message for what the operating system said."""
    folder = path.parent if str(path.parent) else Path(".")
    reasons = {
        errno.EROFS: (
            "the file system is read-only",
            f"choose a path on a writable file system for {option}",
        ),
        errno.EACCES: (
            "permission denied",
            f"check the permissions of {path} and {folder}, or choose another path for {option}",
        ),
        errno.ENOSPC: (
            "no space left on the device",
            f"free some space, or choose another path for {option}",
        ),
    }
    reasons[errno.EPERM] = reasons[errno.EACCES]
    if exc.errno == errno.ENOENT and folder.is_dir():  # /proc, /sys: no new files there
        reasons[errno.ENOENT] = (
            f"{folder} does not take new files",
            f"choose a path in an ordinary directory for {option}",
        )
    what, hint = reasons.get(
        exc.errno or 0,
        (exc.strerror or str(exc), f"check the path and its permissions, or choose another "
         f"path for {option}"),
    )  # fmt: skip
    return DogxrayError(f"cannot write {path}: {what}", hint=hint, exit_code=exit_code)


# The earlier name (other modules may still call it): the same rules, not always a rename.
write_atomic = write_file
