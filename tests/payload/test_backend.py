"""Which zip each back end gets, where `package` writes, and the build cache.

pip itself is replaced by a recorder (no network): it proves which build ran and with
which platform arguments, and "no index" is injected as pip's own connection error."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.errors import DogxrayError
from dogxray.packaging import build as pkg

OFFLINE_PIP = (
    "WARNING: Retrying ... after connection broken by 'NewConnectionError(...: Failed to "
    "establish a new connection: [Errno 111] Connection refused')'\n"
    "ERROR: No matching distribution found for idna==3.20\n"
)


class FakePip:
    """Stands in for `subprocess.run(pip install --target ...)`."""

    def __init__(self, *, reachable: bool = True) -> None:
        self.reachable = reachable
        self.commands: list[list[str]] = []

    def __call__(self, cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(cmd)
        if not self.reachable:
            return subprocess.CompletedProcess(cmd, 1, "", OFFLINE_PIP)
        target = Path(cmd[cmd.index("--target") + 1])
        (target / "idna").mkdir(parents=True)
        (target / "idna" / "__init__.py").write_text("# from the index\n")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    def arg(self, name: str) -> list[str]:
        cmd = self.commands[-1]
        return [cmd[i + 1] for i, part in enumerate(cmd) if part == name]


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    """The real handler with one small pinned dependency (installed here: idna)."""
    copy = tmp_path / "payload"
    copy.mkdir()
    for source in pkg.PAYLOAD_DIR.glob("*.py"):
        (copy / source.name).write_bytes(source.read_bytes())
    from importlib.metadata import version

    (copy / "requirements.txt").write_text(f"idna=={version('idna')}\n")
    return copy


def names(result: pkg.PackageResult) -> list[str]:
    import io

    with zipfile.ZipFile(io.BytesIO(result.zip_bytes)) as zf:
        return zf.namelist()


def test_the_payload_is_found_in_the_installed_package() -> None:
    assert (pkg.PAYLOAD_DIR / "lambda_function.py").is_file()
    assert (pkg.PAYLOAD_DIR / "requirements.txt").is_file()
    assert pkg.requirements()  # read from the installed package, not a clone path


def test_init_marker_is_not_in_the_zip(payload: Path, tmp_path: Path) -> None:
    result = pkg.build_package(from_env=True, payload_dir=payload)
    assert "__init__.py" not in names(result)
    assert {"lambda_function.py", "xray_tracing.py"} <= set(names(result))


def test_the_emulator_gets_the_local_build_and_pip_is_never_run(payload: Path) -> None:
    pip = FakePip()
    result = pkg.build_for_backend(
        runtime="python3.13",
        arch="x86_64",
        local_interpreter=True,
        payload_dir=payload,
        pip_runner=pip,
    )
    assert pip.commands == []
    assert "idna/__init__.py" in names(result) and result.path is None


@pytest.mark.parametrize(
    ("arch", "platforms"),
    [
        ("x86_64", ["manylinux2014_x86_64", "manylinux_2_28_x86_64"]),
        ("arm64", ["manylinux2014_aarch64", "manylinux_2_28_aarch64"]),
    ],
)
def test_aws_and_other_endpoints_get_the_lambda_platform_build(
    payload: Path, tmp_path: Path, arch: str, platforms: list[str]
) -> None:
    pip = FakePip()
    said: list[str] = []
    result = pkg.build_for_backend(
        runtime="python3.12",
        arch=arch,
        local_interpreter=False,
        payload_dir=payload,
        cache_dir=tmp_path / "cache",
        pip_runner=pip,
        progress=said.append,
    )
    assert len(pip.commands) == 1
    assert pip.arg("--platform") == platforms
    assert pip.arg("--python-version") == ["3.12"]
    assert pip.arg("--implementation") == ["cp"] and "--only-binary=:all:" in pip.commands[0]
    assert "idna/__init__.py" in names(result)
    assert result.path is not None and result.path.parent == tmp_path / "cache"
    again = pkg.build_for_backend(
        runtime="python3.12",
        arch=arch,
        local_interpreter=False,
        payload_dir=payload,
        cache_dir=tmp_path / "cache",
        pip_runner=pip,
        progress=said.append,
    )
    assert again.cached and len(pip.commands) == 1  # the second build is instant, offline
    assert not [line for line in said if "note:" in line]


def test_no_index_falls_back_to_the_offline_build_with_one_line(
    payload: Path, tmp_path: Path
) -> None:
    pip = FakePip(reachable=False)
    said: list[str] = []
    result = pkg.build_for_backend(
        runtime="python3.13",
        arch="x86_64",
        local_interpreter=False,
        payload_dir=payload,
        cache_dir=tmp_path / "cache",
        pip_runner=pip,
        progress=said.append,
    )
    assert len(pip.commands) == 1
    notes = [line for line in said if line.startswith("note:")]
    assert notes == [
        "note: the package index cannot be reached; building the zip offline from this "
        "environment's packages instead (pure Python, runs on Lambda)"
    ]
    assert "idna/__init__.py" in names(result)


def test_a_pip_failure_that_is_not_the_network_is_not_hidden(payload: Path) -> None:
    def broken(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution x\n")

    with pytest.raises(DogxrayError) as info:
        pkg.build_for_backend(
            runtime="python3.13",
            arch="x86_64",
            local_interpreter=False,
            payload_dir=payload,
            pip_runner=broken,
        )
    assert not isinstance(info.value, pkg.IndexUnreachable)
    assert info.value.what.endswith("ERROR: No matching distribution x")


def test_a_deprecated_runtime_is_built_with_a_warning(payload: Path) -> None:
    said: list[str] = []
    pkg.build_for_backend(
        runtime="python3.10",
        arch="x86_64",
        local_interpreter=True,
        payload_dir=payload,
        progress=said.append,
    )
    assert said[0].startswith("warning: python3.10 is deprecated since 2026-10-31")


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DOGXRAY_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert pkg.default_cache_dir() == tmp_path / "xdg" / "dogxray"
    monkeypatch.setenv("DOGXRAY_CACHE_DIR", str(tmp_path / "mine"))
    assert pkg.default_cache_dir() == tmp_path / "mine"


def test_clear_cache_removes_only_dogxrays_builds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, payload: Path
) -> None:
    """$DOGXRAY_CACHE_DIR may be shared (even a home directory): only dogxray's own build
    files go; foreign files and folders, look-alikes included, stay byte for byte."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("DOGXRAY_CACHE_DIR", str(cache))
    build = pkg.build_package(payload_dir=payload, pip_runner=FakePip())
    assert build.path is not None and build.path.parent == cache
    interrupted = cache / f".{build.path.name}.1234.tmp"  # a write cut short
    interrupted.write_bytes(b"x" * 100)
    foreign = {
        "notes.txt": b"mine",
        "function.zip": b"my own zip",
        "function-pip-notahexkey.zip": b"look-alike",
        f"{build.path.name}.bak": b"my backup",
        "photos/function-pip-" + "0" * 32 + ".zip": b"in a sub folder",
    }
    for name, body in foreign.items():
        (cache / name).parent.mkdir(exist_ok=True)
        (cache / name).write_bytes(body)
    (cache / "empty-folder").mkdir()
    (cache / f"function-env-{'1' * 32}.zip").mkdir()  # a folder with a build's name
    (cache / f"function-env-{'2' * 32}.zip").symlink_to(cache / "notes.txt")

    result = CliRunner().invoke(app, ["package", "--clear-cache"])
    assert result.exit_code == 0, result.output
    freed = build.zipped_bytes + 100
    assert result.stdout == (
        f"removed 2 cached builds ({freed / 1024:,.1f} kB) from {cache}\n"
        "kept 8 other entries there (not dogxray's builds)\n"
    )
    assert not build.path.exists() and not interrupted.exists()
    for name, body in foreign.items():
        assert (cache / name).read_bytes() == body
    assert (cache / "empty-folder").is_dir()
    assert (cache / f"function-env-{'1' * 32}.zip").is_dir()
    assert (cache / f"function-env-{'2' * 32}.zip").is_symlink()
    again = CliRunner().invoke(app, ["package", "--clear-cache"])
    assert again.stdout == (
        f"removed 0 cached builds from {cache}\nkept 8 other entries there (not dogxray's builds)\n"
    )


def test_clear_cache_of_a_missing_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOGXRAY_CACHE_DIR", str(tmp_path / "never"))
    result = CliRunner().invoke(app, ["package", "--clear-cache"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"removed 0 cached builds from {tmp_path / 'never'}\n"
    assert not (tmp_path / "never").exists()


def test_output_into_a_directory_writes_function_zip_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["package", "--from-env", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"path:           {out / 'function.zip'}\n")
    assert sorted(p.name for p in out.iterdir()) == ["function.zip"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing beside it


def test_output_with_a_missing_directory_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "f.zip"
    result = CliRunner().invoke(app, ["package", "--from-env", "--output", str(target)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot write {target}: the directory {target.parent} does not exist\n"
        "hint: create it first, or give an existing directory or file path to --output\n"
    )
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.slow
def test_a_plain_moto_server_is_not_the_emulator(moto_server: str) -> None:
    """Another endpoint (moto, LocalStack) runs functions on the Lambda platform."""
    from dogxray.core.aws import Aws, is_emulator
    from dogxray.core.config import Settings
    from dogxray.lab import service
    from dogxray.lab.models import SetupOptions

    assert not is_emulator(moto_server)
    assert not is_emulator("http://127.0.0.1:9")  # nothing listens
    aws = Aws(Settings.from_options(lab="backend-moto", endpoint_url=moto_server))
    builds: list[tuple[str, str, bool]] = []

    def provider(runtime: str, arch: str, local: bool, *, tracer: str) -> bytes:
        builds.append((runtime, arch, local))
        raise DogxrayError("stop here: the zip comes before any change")

    with pytest.raises(DogxrayError, match="stop here"):
        service.setup(aws, SetupOptions(), zip_provider=provider).to_json()
    assert builds == [("python3.13", "x86_64", False)]
