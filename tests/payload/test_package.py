"""The deployment zip: deterministic, cached, complete, runnable, and within Lambda's limits."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.config import NEVER_BUNDLED_MODULES
from dogxray.core.errors import DogxrayError
from dogxray.packaging import build as pkg

from .conftest import BUCKET, JPEG, Daemon, DogApi
from .zip_runner import run_zip

RUNTIME_ONLY = NEVER_BUNDLED_MODULES  # the runtime provides them; no zip carries them


@pytest.fixture
def env_build(tmp_path: Path) -> pkg.PackageResult:
    return pkg.build_package(from_env=True, cache_dir=tmp_path / "cache-a")


def _names(zip_bytes: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        return zf.namelist()


def test_two_builds_are_byte_identical(tmp_path: Path, env_build: pkg.PackageResult) -> None:
    again = pkg.build_package(from_env=True, cache_dir=tmp_path / "cache-b")
    assert not env_build.cached and not again.cached
    assert again.zip_bytes == env_build.zip_bytes
    assert again.sha256_b64 == env_build.sha256_b64


def test_code_sha256_is_lambdas_form(env_build: pkg.PackageResult) -> None:
    digest = hashlib.sha256(env_build.zip_bytes).digest()
    assert env_build.sha256_b64 == base64.b64encode(digest).decode()
    assert pkg.code_sha256(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_zip_layout(env_build: pkg.PackageResult) -> None:
    names = _names(env_build.zip_bytes)
    assert names == sorted(names)
    assert [n for n in names if "/" not in n] == [
        "injection.py",
        "lambda_function.py",
        "tracing.py",
        "xray_tracing.py",
    ]
    tops = {n.split("/")[0] for n in names}
    assert {"aws_xray_sdk", "wrapt", "requests", "urllib3", "certifi", "idna"} <= tops
    assert "charset_normalizer" in tops
    assert not tops & set(RUNTIME_ONLY)
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".so", "RECORD"))]
    with zipfile.ZipFile(io.BytesIO(env_build.zip_bytes)) as zf:
        infos = zf.infolist()
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert env_build.files == len(infos)
    assert env_build.unzipped_bytes == sum(i.file_size for i in infos)
    assert env_build.zipped_bytes == len(env_build.zip_bytes) < 1_500_000


def test_second_build_comes_from_the_cache_without_rebuilding(
    tmp_path: Path, env_build: pkg.PackageResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_rebuild(*_args: object) -> dict[str, bytes]:
        raise AssertionError("rebuilt instead of using the cache")

    monkeypatch.setattr(pkg, "_installed", no_rebuild)
    again = pkg.build_package(from_env=True, cache_dir=tmp_path / "cache-a")
    assert again.cached
    assert again.zip_bytes == env_build.zip_bytes


def test_an_offline_build_writes_nothing_unless_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The emulator and `demo --local` build offline: nothing lands in a cache directory."""
    monkeypatch.setenv("DOGXRAY_CACHE_DIR", str(tmp_path / "c"))
    result = pkg.build_package(from_env=True)
    assert result.path is None and not result.cached
    assert not (tmp_path / "c").exists()


@pytest.fixture
def payload_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "payload"
    shutil.copytree(pkg.PAYLOAD_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_changed_input_is_a_new_build(
    tmp_path: Path, env_build: pkg.PackageResult, payload_copy: Path
) -> None:
    cache = tmp_path / "cache-a"
    same = pkg.build_package(from_env=True, cache_dir=cache, payload_dir=payload_copy)
    assert same.cached and same.zip_bytes == env_build.zip_bytes
    handler = payload_copy / "lambda_function.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    changed = pkg.build_package(from_env=True, cache_dir=cache, payload_dir=payload_copy)
    assert not changed.cached
    assert changed.sha256_b64 != env_build.sha256_b64
    other_arch = pkg.build_package(from_env=True, cache_dir=cache, arch="arm64")
    assert not other_arch.cached


def test_requirements_must_be_pinned_and_never_bundle_boto3(payload_copy: Path) -> None:
    assert dict(pkg.requirements())["aws-xray-sdk"]
    (payload_copy / "requirements.txt").write_text("requests>=2\n")
    with pytest.raises(DogxrayError, match="cannot read requirement 'requests>=2'"):
        pkg.requirements(payload_copy)
    (payload_copy / "requirements.txt").write_text("boto3==1.40.0\n")
    with pytest.raises(DogxrayError, match="boto3 must not be bundled"):
        pkg.requirements(payload_copy)


@pytest.mark.parametrize("pin", ["python_dateutil==2.9.0", "six==1.16.0", "S3Transfer==0.10.0"])
def test_every_runtime_sdk_package_is_refused_by_its_canonical_name(
    payload_copy: Path, pin: str
) -> None:
    """The one runtime list (dogxray.core.config) decides, whatever the pin's spelling."""
    (payload_copy / "requirements.txt").write_text(pin + "\n")
    with pytest.raises(DogxrayError, match=f"{pin.split('==')[0]} must not be bundled"):
        pkg.requirements(payload_copy)


def test_the_runtime_list_is_one_list() -> None:
    """The emulator offers what the build leaves out, plus urllib3, which the zip pins
    (requests needs urllib3 2) and so shadows; every name is importable here."""
    import importlib.util

    from dogxray.core.config import BUNDLED_OVER_RUNTIME, RUNTIME_MODULES
    from dogxray.local import environment

    assert environment.RUNTIME_PACKAGES == RUNTIME_MODULES
    assert set(RUNTIME_MODULES) == {*RUNTIME_ONLY, "urllib3"}
    assert RUNTIME_ONLY == ("boto3", "botocore", "jmespath", "dateutil", "s3transfer", "six")
    assert {name for name, _ in pkg.requirements()} & BUNDLED_OVER_RUNTIME == {"urllib3"}
    assert all(importlib.util.find_spec(name) for name in RUNTIME_MODULES)


def test_size_limits_are_refused(tmp_path: Path, env_build: pkg.PackageResult) -> None:
    cache = tmp_path / "cache-a"
    with pytest.raises(DogxrayError) as zipped:
        pkg.build_package(from_env=True, cache_dir=cache, max_zipped=100_000)
    assert "over Lambda's 0.0953674 MB limit for a direct upload" in zipped.value.what
    with pytest.raises(DogxrayError) as unzipped:
        pkg.build_package(from_env=True, cache_dir=cache, max_unzipped=1_000_000)
    assert unzipped.value.what.startswith("the function unpacks to ")
    assert "over Lambda's 0.953674 MB limit" in unzipped.value.what
    assert not (tmp_path / "out.zip").exists()


def test_pip_failure_suggests_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload_copy: Path
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    (payload_copy / "requirements.txt").write_text("idna==3.20\n")
    with pytest.raises(DogxrayError) as raised:
        pkg.build_package(cache_dir=tmp_path / "c", payload_dir=payload_copy)
    assert raised.value.what == (
        "could not download the function's dependencies: pip cannot reach the package "
        "index (no network, proxy or PIP_INDEX_URL?)"
    )
    assert "--from-env" in (raised.value.hint or "")
    assert "`setup`" in (raised.value.hint or "")


def test_other_pip_failures_keep_pips_last_line() -> None:
    output = "Collecting x\nERROR: No matching distribution found for idna==99\n"
    assert pkg._pip_failure(output, 1) == "ERROR: No matching distribution found for idna==99"
    assert pkg._pip_failure("", 3) == "pip exited with 3"


def test_cli_package_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["package", "--from-env"])
    assert result.exit_code == 0, result.output
    data = (tmp_path / "function.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    assert result.stdout == (
        "path:           function.zip\n"
        "runtime:        python3.13 (x86_64)\n"
        "tracer:         xray (the X-Ray SDK)\n"
        f"files:          {len(infos)}\n"
        f"zipped bytes:   {len(data)}\n"
        f"unzipped bytes: {sum(i.file_size for i in infos)}\n"
        f"CodeSha256:     {pkg.code_sha256(data)}\n"
        "build:          built\n"
    )
    again = CliRunner().invoke(app, ["package", "--from-env", "--arch", "x86_64"])
    assert again.stdout.endswith("build:          built\n")  # offline builds are not cached
    assert (tmp_path / "function.zip").read_bytes() == data


def test_cli_package_with_opentelemetry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["package", "--from-env", "--tracer", "otel", "--output", "otel.zip"]
    )
    assert result.exit_code == 0, result.output
    assert "tracer:         otel (OpenTelemetry)\n" in result.stdout
    with zipfile.ZipFile(tmp_path / "otel.zip") as zf:
        tops = {name.split("/")[0] for name in zf.namelist()}
    assert {"otel_tracing.py", "tracing.py", "opentelemetry"} <= tops
    assert not {"xray_tracing.py", "aws_xray_sdk", "boto3", "botocore"} & tops


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--runtime", "python3.6"],
            "error: Lambda no longer creates functions with python3.6: creation is blocked "
            "since 2022-07-18 (deprecated 2022-07-18)\n"
            "hint: use python3.13 (the default) or another of python3.8, python3.9, "
            "python3.10, python3.11, python3.12, python3.13, python3.14\n",
        ),
        (
            ["--runtime", "nodejs22.x"],
            "error: unknown runtime 'nodejs22.x'\n"
            "hint: use a Python runtime Lambda offers, e.g. python3.13 (the default); "
            "creatable today: python3.8, python3.9, python3.10, python3.11, python3.12, "
            "python3.13, python3.14\n",
        ),
        (
            ["--arch", "x86"],
            "error: unknown architecture 'x86'\nhint: use one of x86_64, arm64\n",
        ),
    ],
)
def test_cli_refuses_bad_runtime_and_arch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["package", "--from-env", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == message
    assert not (tmp_path / "function.zip").exists()


@pytest.fixture
def moto_bucket(moto_server: str) -> Iterator[str]:
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    name = f"{BUCKET}-zip-{id(s3):x}"
    s3.create_bucket(Bucket=name)
    yield name


@pytest.mark.slow
def test_the_unpacked_zip_runs_the_handler_in_a_fresh_process(
    tmp_path: Path,
    env_build: pkg.PackageResult,
    moto_server: str,
    moto_bucket: str,
    dog_api: DogApi,
    xray_daemon: Daemon,
) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": moto_server,
        "BUCKET_NAME": moto_bucket,
        "DOG_API_URL": dog_api.url,
        "AWS_XRAY_DAEMON_ADDRESS": xray_daemon.address,
    }
    report = run_zip(env_build.path, tmp_path / "run", env, count=2)

    task = str(tmp_path / "run" / "task")
    assert report["modules"]["requests"].startswith(task)
    assert report["modules"]["aws_xray_sdk"].startswith(task)
    assert report["modules"]["boto3"].startswith(str(tmp_path / "run" / "runtime"))
    first, second = report["invocations"]
    assert (first["status"], first["error"]) == (200, None)
    assert second["status"] == 200
    assert base64.b64decode(first["body"]) == JPEG
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    saved = s3.get_object(Bucket=moto_bucket, Key="n02088094_1003.jpg")
    assert saved["Body"].read() == JPEG
    assert [line["outcome"] for line in first["log"]] == ["ok"]
    docs = xray_daemon.collect()
    traced = {doc["trace_id"] for doc in docs}
    assert traced == {first["trace_root"], second["trace_root"]}
    names = {doc["name"] for doc in docs}
    assert {"get_dog_images", "call_dog_api", "save_dog_to_s3"} <= names


@pytest.mark.slow
@pytest.mark.network
@pytest.mark.parametrize(("arch", "machine"), [("x86_64", "x86_64"), ("arm64", "aarch64")])
def test_platform_build_with_pip_from_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arch: str, machine: str
) -> None:
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))
    first = pkg.build_package(arch=arch, cache_dir=tmp_path / "c1")
    second = pkg.build_package(arch=arch, cache_dir=tmp_path / "c2")
    assert not first.cached and not second.cached
    assert first.zip_bytes == second.zip_bytes  # deterministic from pip too

    names = _names(first.zip_bytes)
    assert [n for n in names if "/" not in n] == [
        "injection.py",
        "lambda_function.py",
        "tracing.py",
        "xray_tracing.py",
    ]
    assert not {n.split("/")[0] for n in names} & set(RUNTIME_ONLY)
    native = [n for n in names if n.endswith(".so")]
    assert native == [f"wrapt/_wrappers.cpython-313-{machine}-linux-gnu.so"]
    versions = {n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")}
    assert versions == {
        f"{name.replace('-', '_')}-{version}.dist-info" for name, version in pkg.requirements()
    }
    assert first.zipped_bytes < 1_500_000


def test_a_zip_carries_its_tracers_module_only() -> None:
    from dogxray.packaging.build import PAYLOAD_DIR, _payload_files

    assert "otel_tracing.py" not in _payload_files(PAYLOAD_DIR)  # the X-Ray SDK build
    otel = _payload_files(PAYLOAD_DIR, "otel")
    assert "otel_tracing.py" in otel and "xray_tracing.py" not in otel
