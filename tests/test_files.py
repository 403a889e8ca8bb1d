"""Output paths (`package --output`, `report --file`, the build cache): what a path is
decides how it is written, and nothing that is not dogxray's is replaced or unlinked."""

from __future__ import annotations

import errno
import io
import os
import socket
import stat
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core import files
from dogxray.core.errors import DogxrayError
from dogxray.packaging import build as pkg

ROOT = os.geteuid() == 0
runner = CliRunner()


def write(path: Path, data: bytes = b"new") -> int:
    files.output_path(path, "default.bin")
    return files.write_file(path, data)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def refused(path: Path) -> DogxrayError:
    with pytest.raises(DogxrayError) as caught:
        write(path)
    return caught.value


@pytest.fixture
def no_build(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`package` must refuse its --output before building: any build attempt is noted."""
    calls: list[str] = []

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        calls.append("build")
        raise AssertionError("built before refusing the output path")

    monkeypatch.setattr(pkg, "_pip_install", forbidden)
    monkeypatch.setattr(pkg, "_installed", forbidden)
    monkeypatch.setattr(pkg, "_payload_files", forbidden)
    return calls


def test_regular_file_is_replaced_atomically_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.zip"
    target.write_bytes(b"old")
    target.chmod(0o600)
    inode = target.stat().st_ino
    assert write(target) == 3
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.stat().st_ino != inode  # renamed over, not rewritten in place
    assert leftovers(tmp_path) == []
    assert write(tmp_path / "fresh.zip") == 3  # a new path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.zip", "fresh.zip"]


def test_a_symlink_is_followed_and_its_target_written(tmp_path: Path) -> None:
    real = tmp_path / "real" / "f.zip"
    real.parent.mkdir()
    real.write_bytes(b"old")
    first = tmp_path / "link1"
    first.symlink_to(real)
    second = tmp_path / "link2"
    second.symlink_to("link1")  # relative, and a chain
    write(second)
    assert second.is_symlink() and first.is_symlink()
    assert os.readlink(second) == "link1" and os.readlink(first) == str(real)
    assert real.read_bytes() == b"new"
    assert leftovers(tmp_path) == leftovers(real.parent) == []


def test_a_dangling_link_writes_its_target_or_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to("made.zip")
    write(link)
    assert link.is_symlink() and (tmp_path / "made.zip").read_bytes() == b"new"

    nowhere = tmp_path / "nowhere"
    nowhere.symlink_to(tmp_path / "missing" / "x.zip")
    error = refused(nowhere)
    assert (error.what, error.hint, error.exit_code) == (
        f"cannot write {nowhere}: it is a symbolic link to {tmp_path / 'missing' / 'x.zip'}, "
        f"and the directory {tmp_path / 'missing'} does not exist",
        "fix or remove the link, or choose another path for --output",
        2,
    )
    assert nowhere.is_symlink() and not (tmp_path / "missing").exists()

    under_a_file = tmp_path / "made.zip" / "x.zip"
    assert refused(under_a_file).what == (
        f"cannot write {under_a_file}: {tmp_path / 'made.zip'} is not a directory"
    )

    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    assert "too many levels of symbolic links" in refused(loop).what
    assert loop.is_symlink()


def _fifo_reader(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    return reader, got


def test_a_fifo_is_streamed_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "to-pipe"
    link.symlink_to(fifo)
    reader, got = _fifo_reader(fifo)
    result = runner.invoke(app, ["package", "--from-env", "--output", str(link)])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert fifo.is_fifo() and link.is_symlink()
    assert zipfile.is_zipfile(io.BytesIO(got[0]))
    assert result.stdout.startswith(f"path:           {link}\n")
    assert f"zipped bytes:   {len(got[0])}\n" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "to-pipe"]


def _char_device(path: Path, major: int, minor: int) -> None:
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
    try:
        with open(path, "wb"):
            pass
    except OSError:  # a `nodev` mount: the node exists but cannot be opened
        pytest.skip(f"{path.parent} does not allow device nodes to be opened")


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
def test_a_character_device_is_written_through_never_replaced(tmp_path: Path) -> None:
    null = tmp_path / "null"
    _char_device(null, 1, 3)  # as /dev/null
    assert write(null) == 3
    full = tmp_path / "full"
    _char_device(full, 1, 7)  # as /dev/full: every write fails with ENOSPC
    result = runner.invoke(app, ["package", "--from-env", "--output", str(full)])
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"error: cannot write {full}: no space left on the device\n"
        "hint: free some space, or choose another path for --output\n"
    )
    for node, minor in ((null, 3), (full, 7)):
        info = node.lstat()
        assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, minor)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "null"]


def test_sockets_directories_and_block_devices_are_refused(tmp_path: Path) -> None:
    sock_path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        error = refused(sock_path)
    finally:
        server.close()
    assert (error.what, error.exit_code) == (f"cannot write {sock_path}: it is a socket", 2)
    assert stat.S_ISSOCK(sock_path.lstat().st_mode)
    folder = tmp_path / "d"
    (folder / "default.bin").mkdir(parents=True)  # the default name is itself a folder
    with pytest.raises(DogxrayError, match=r"default\.bin: it is a directory"):
        files.output_path(folder, "default.bin")
    if ROOT:
        block = tmp_path / "b"
        os.mknod(block, stat.S_IFBLK | 0o600, os.makedev(7, 0))
        assert refused(block).what == f"cannot write {block}: it is a block device"
        assert stat.S_ISBLK(block.lstat().st_mode)


def test_unwritable_paths_are_refused_before_the_build(tmp_path: Path, no_build: list[str]) -> None:
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    result = runner.invoke(app, ["package", "--output", "/proc/x.zip"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: cannot write /proc/x.zip: /proc does not take new files\n"
        "hint: choose a path in an ordinary directory for --output\n"
    )
    assert no_build == []


@pytest.mark.skipif(ROOT, reason="root writes into a 0o500 directory anyway")
def test_a_directory_without_write_permission_is_refused_before_the_build(
    tmp_path: Path, no_build: list[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = runner.invoke(app, ["package", "--output", str(locked / "f.zip")])
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot write {locked / 'f.zip'}: permission denied\n")
    assert no_build == [] and list(locked.iterdir()) == []


def _failing(code: int, match: Callable[[Any], bool] = lambda *_: True) -> Callable[..., Any]:
    real_open = os.open

    def fake(path: Any, flags: int, *args: Any, **kwargs: Any) -> Any:
        if flags & os.O_CREAT and match(path):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)

    return fake


@pytest.mark.parametrize(
    ("code", "why", "hint"),
    [
        (
            errno.EROFS,
            "the file system is read-only",
            "choose a path on a writable file system for --output",
        ),
        (  # what a 0o500 directory answers a user who is not root
            errno.EACCES,
            "permission denied",
            "check the permissions of {target} and {folder}, or choose another path for --output",
        ),
    ],
)
def test_a_read_only_or_locked_directory_is_refused_before_the_build(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_build: list[str],
    code: int,
    why: str,
    hint: str,
) -> None:
    monkeypatch.setattr(os, "open", _failing(code))
    target = tmp_path / "f.zip"
    result = runner.invoke(app, ["package", "--output", str(target)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot write {target}: {why}\n"
        f"hint: {hint.format(target=target, folder=tmp_path)}\n"
    )
    assert no_build == [] and list(tmp_path.iterdir()) == []


def test_a_file_system_turned_read_only_mid_write_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename fails with EROFS, and so does removing the temporary file: one clear
    message (exit 1), not "internal error"."""
    target = tmp_path / "f.zip"
    target.write_bytes(b"old")
    files.output_path(target, "x")  # checked while still writable

    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    monkeypatch.setattr(os, "unlink", read_only)
    with pytest.raises(DogxrayError) as caught:
        files.write_file(target, b"new")
    monkeypatch.undo()
    assert (caught.value.what, caught.value.exit_code) == (
        f"cannot write {target}: the file system is read-only",
        1,
    )
    assert target.read_bytes() == b"old"


def test_the_cache_failing_does_not_lose_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    cache = tmp_path / "cache"
    monkeypatch.setattr(os, "open", _failing(errno.EROFS, lambda p: str(cache) in str(p)))
    result = pkg.build_package(
        from_env=True, cache_dir=cache, output=tmp_path / "f.zip", progress=said.append
    )
    assert result.path == tmp_path / "f.zip" and (tmp_path / "f.zip").read_bytes()
    assert said[-1].startswith(f"note: the build is not cached: cannot write {cache}/function-env-")
    assert said[-1].endswith(": the file system is read-only")


def test_dev_stdout_appended_to_keeps_what_was_there(tmp_path: Path) -> None:
    """`package --output /dev/stdout >> file`: the zip goes on stdout's own descriptor
    (reopening it would truncate the file), and the summary goes to stderr."""
    out = tmp_path / "out.bin"
    out.write_bytes(b"before\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with open(out, "ab") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "dogxray", "package", "--from-env", "--output", "/dev/stdout"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"before\nPK\x03\x04")
    assert zipfile.is_zipfile(io.BytesIO(data[len(b"before\n") :]))
    assert b"path:           /dev/stdout\n" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
