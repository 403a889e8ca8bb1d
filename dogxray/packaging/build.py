"""The deployment zip (the lab's `function.zip`), built deterministically.

Same inputs -> same bytes -> same `CodeSha256`, so `deploy-function` can skip an upload
that would change nothing. Dependencies come either from pip for the Lambda platform
(`--platform manylinux..., --only-binary=:all:`) or, offline, from the running
environment's installed distributions (`from_env`). boto3/botocore are never bundled:
the Lambda runtime has them. pip builds are cached in the user's cache directory under
a key of every input; offline builds are quick and are not written to disk.

The function's source ships inside the installed package as `dogxray._payload` (from the
repository's top-level `lambda_payload/`), so any install can build the zip.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import importlib.util
import io
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from dogxray import __version__
from dogxray.core.config import (
    DEFAULT_ARCH,
    DEFAULT_RUNTIME,
    NEVER_BUNDLED,
    validate_arch,
)
from dogxray.core.errors import DogxrayError
from dogxray.core.files import output_path, write_file
from dogxray.core.runtimes import validate as validate_runtime
from dogxray.core.runtimes import warning as runtime_warning
from dogxray.packaging.cache import build_file, default_cache_dir

PAYLOAD_PACKAGE = "dogxray._payload"
ZIP_NAME = "function.zip"
REQUIREMENTS = "requirements.txt"
# Each tracer's module of the payload; a zip carries its tracer's only (`tracing.py`
# imports the one the function's DOGXRAY_TRACER names).
TRACER_MODULES = {"xray": "xray_tracing.py", "otel": "otel_tracing.py"}
REQUIREMENTS_OF = {"xray": REQUIREMENTS, "otel": "requirements-otel.txt"}
MAX_ZIPPED_BYTES = 50 * 1024 * 1024  # Lambda's limit for a direct (non-S3) upload
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # Lambda's limit for the unpacked function
PIP_TIMEOUT_S = 300
# Lambda's python3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34).
PLATFORMS = {
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
FILE_MODE = 0o100644  # regular file, rw-r--r--
# Files that vary between installs of the same distribution (or are not needed to run).
_SKIP_NAMES = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
_NATIVE = (".so", ".pyd")
# Native speed-ups not worth their size here (the pure-Python modules sit beside them):
# charset-normalizer's mypyc build is ~180 kB zipped; requests barely uses it.
_PURE_PACKAGES = frozenset({"charset_normalizer"})
_SOURCES_OF_NATIVE = (".c", ".h")
# pip's words for "the index is unreachable" (urllib3 / requests / socket errors).
_NETWORK_ERRORS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "ConnectTimeoutError",
    "Read timed out",
    "ProxyError",
    "Network is unreachable",
)
_REQ_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.!+_-]+)$")


def _payload_location() -> Path:
    """Where the installed package keeps the function's source (wheel or editable)."""
    spec = importlib.util.find_spec(PAYLOAD_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DogxrayError(
            "the function's source is missing from this dogxray install",
            where=PAYLOAD_PACKAGE,
            hint="reinstall dogxray (pip install --force-reinstall dogxray)",
        )
    return Path(next(iter(spec.submodule_search_locations)))


PAYLOAD_DIR = _payload_location()


class IndexUnreachable(DogxrayError):
    """pip could not reach the package index: an offline build can stand in."""


@dataclass(frozen=True)
class PackageResult:
    """A built zip and what `package` reports about it."""

    zip_bytes: bytes
    path: Path | None  # where the zip was written (output or cache); None: memory only
    files: int
    zipped_bytes: int
    unzipped_bytes: int
    sha256_b64: str
    runtime: str
    arch: str
    cached: bool
    tracer: str = "xray"


def code_sha256(zip_bytes: bytes) -> str:
    """The zip's SHA-256 as Lambda reports it in `CodeSha256` (base64 of the raw digest)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")


def requirements(payload_dir: Path = PAYLOAD_DIR, tracer: str = "xray") -> list[tuple[str, str]]:
    """The pinned (name, version) pairs the zip of `tracer` carries."""
    pins = []
    source = payload_dir / REQUIREMENTS_OF[tracer]
    for raw in source.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _REQ_RE.match(line)
        if not match:
            raise DogxrayError(
                f"cannot read requirement {line!r}",
                where=str(source),
                hint="pin every line exactly, as name==version",
            )
        if _canonical(match[1]) in NEVER_BUNDLED:
            raise DogxrayError(
                f"{match[1]} must not be bundled: the Lambda runtime provides it",
                where=str(source),
            )
        pins.append((match[1], match[2]))
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _payload_files(payload_dir: Path, tracer: str = "xray") -> dict[str, bytes]:
    """The handler modules, placed at the zip root."""
    others = {module for name, module in TRACER_MODULES.items() if name != tracer}
    files = {
        p.name: p.read_bytes()
        for p in sorted(payload_dir.glob("*.py"))
        # __init__.py marks the source as a package in the wheel only
        if p.name != "__init__.py" and p.name not in others
    }
    if "lambda_function.py" not in files:
        raise DogxrayError(
            f"no lambda_function.py in {payload_dir}",
            hint="reinstall dogxray (pip install --force-reinstall dogxray)",
        )
    return files


def _keep(arcname: str, *, native: bool) -> bool:
    """Whether an installed file belongs in the zip (no caches, no install records)."""
    parts = PurePosixPath(arcname).parts
    if not parts or parts[0] in ("..", "bin") or parts[0].endswith("-stubs"):
        return False
    if "__pycache__" in parts or parts[-1] in _SKIP_NAMES:
        return False
    if arcname.endswith((".pyc", ".pyo", ".pyi", *_SOURCES_OF_NATIVE)):
        return False
    if arcname.endswith(_NATIVE):
        return native and parts[0] not in _PURE_PACKAGES
    return True


def _installed(pins: list[tuple[str, str]], progress: Callable[[str], None]) -> dict[str, bytes]:
    """Files of the pinned distributions as installed in this interpreter (offline).

    Native extensions are left out: every bundled package has a pure-Python fallback,
    and this interpreter's binaries may not match the target runtime or architecture."""
    files: dict[str, bytes] = {}
    for name, version in pins:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise DogxrayError(
                f"{name} is not installed in this Python environment ({sys.prefix})",
                hint="dogxray's own install brings the payload's dependencies: reinstall it "
                "(pip install --force-reinstall dogxray), or build without --from-env",
            ) from None
        if dist.version != version:
            progress(f"note: using installed {name} {dist.version} (pinned {version})")
        for rel in dist.files or ():
            arcname = rel.as_posix()
            source = Path(str(dist.locate_file(rel)))
            if _keep(arcname, native=False) and source.is_file():
                files[arcname] = source.read_bytes()
    return files


PipRunner = Callable[..., "subprocess.CompletedProcess[str]"]


def _pip_install(
    pins: list[tuple[str, str]],
    runtime: str,
    arch: str,
    progress: Callable[[str], None],
    run: PipRunner = subprocess.run,
) -> dict[str, bytes]:
    """Wheels for the Lambda platform from the package index, unpacked by pip."""
    python_version = runtime.removeprefix("python")
    platforms = [arg for plat in PLATFORMS[arch] for arg in ("--platform", plat)]
    progress(f"installing {len(pins)} distributions for {runtime}/{arch} with pip ...")
    with tempfile.TemporaryDirectory(prefix="dogxray-pip-") as tmp:
        target = Path(tmp) / "target"
        req = Path(tmp) / REQUIREMENTS
        req.write_text("".join(f"{n}=={v}\n" for n, v in pins), encoding="utf-8")
        cmd = [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-input",
            "--disable-pip-version-check", "--no-compile", "--no-deps",
            "--target", str(target), *platforms, "--implementation", "cp",
            "--python-version", python_version, "--only-binary=:all:",
            "--timeout", "15", "--retries", "1", "-r", str(req),
        ]  # fmt: skip
        try:
            proc = run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise _pip_error(f"pip took over {PIP_TIMEOUT_S} s", IndexUnreachable) from None
        if proc.returncode != 0:
            output = proc.stderr or proc.stdout
            kind = IndexUnreachable if _offline(output) else DogxrayError
            raise _pip_error(_pip_failure(output, proc.returncode), kind)
        return {
            p.relative_to(target).as_posix(): p.read_bytes()
            for p in sorted(target.rglob("*"))
            if p.is_file() and _keep(p.relative_to(target).as_posix(), native=True)
        }


def _offline(output: str) -> bool:
    return any(marker in output for marker in _NETWORK_ERRORS)


def _pip_failure(output: str, returncode: int) -> str:
    """What went wrong, in words: without a network pip ends with "No matching
    distribution found", which reads as if the pinned version did not exist."""
    if _offline(output):
        return "pip cannot reach the package index (no network, proxy or PIP_INDEX_URL?)"
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return lines[-1] if lines else f"pip exited with {returncode}"


def _pip_error(detail: str, kind: type[DogxrayError] = DogxrayError) -> DogxrayError:
    return kind(
        f"could not download the function's dependencies: {detail}",
        where="pip install --platform ...",
        hint="check the network / package index, or build offline from this environment's "
        "installed packages with --from-env (`dogxray package`, `setup` and "
        "`deploy-function` accept it)",
    )


def deterministic_zip(files: dict[str, bytes]) -> bytes:
    """Sorted entries, fixed timestamps and modes: same files -> same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits below are honoured
            info.external_attr = FILE_MODE << 16
            zf.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def _cache_key(
    payload: dict[str, bytes], pins: Iterable[tuple[str, str]], runtime: str, arch: str, mode: str
) -> str:
    digest = hashlib.sha256()

    def feed(*items: str | bytes) -> None:
        for item in items:
            data = item.encode() if isinstance(item, str) else item
            digest.update(len(data).to_bytes(8, "big") + data)

    # This file's own source too: a change to what gets bundled invalidates old builds.
    feed("dogxray", __version__, Path(__file__).read_bytes(), mode, runtime, arch)
    for name, body in sorted(payload.items()):
        feed(name, body)
    for name, version in pins:
        feed(name, version)
    return digest.hexdigest()[:32]


def _env_pins(pins: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """The versions actually installed (what a --from-env build really contains)."""
    for name, _pinned in pins:
        try:
            yield name, metadata.version(name)
        except metadata.PackageNotFoundError:
            yield name, "missing"


def _check_limits(zip_bytes: bytes, unzipped: int, max_zipped: int, max_unzipped: int) -> None:
    mb = 1024 * 1024
    if len(zip_bytes) > max_zipped:
        raise DogxrayError(
            f"the deployment zip is {len(zip_bytes) / mb:.1f} MB, over Lambda's "
            f"{max_zipped / mb:g} MB limit for a direct upload",
            hint="drop dependencies from lambda_payload/requirements.txt (or use a layer)",
        )
    if unzipped > max_unzipped:
        raise DogxrayError(
            f"the function unpacks to {unzipped / mb:.1f} MB, over Lambda's "
            f"{max_unzipped / mb:g} MB limit",
            hint="drop dependencies from lambda_payload/requirements.txt",
        )


def build_package(
    *,
    runtime: str = DEFAULT_RUNTIME,
    arch: str = DEFAULT_ARCH,
    from_env: bool = False,
    output: Path | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    payload_dir: Path = PAYLOAD_DIR,
    max_zipped: int = MAX_ZIPPED_BYTES,
    max_unzipped: int = MAX_UNZIPPED_BYTES,
    pip_runner: PipRunner = subprocess.run,
    tracer: str = "xray",
) -> PackageResult:
    """Build (or take from the cache) the deployment zip; write it to `output` if given.

    pip builds are cached in `cache_dir` (default: the user's cache directory); offline
    (`from_env`) builds only when a `cache_dir` is given, so the emulator and `demo
    --local` write nothing outside temporary directories."""
    validate_runtime(runtime)
    validate_arch(arch)
    say = progress or (lambda _msg: None)
    target = output_path(output, ZIP_NAME) if output is not None else None
    payload = _payload_files(payload_dir, tracer)
    pins = requirements(payload_dir, tracer)
    mode = "env" if from_env else "pip"
    key_pins = list(_env_pins(pins)) if from_env else pins
    key = _cache_key(payload, key_pins, runtime, arch, mode)
    folder = cache_dir if cache_dir is not None or from_env else default_cache_dir()
    cache_file = build_file(folder, mode, key) if folder is not None else None
    zip_bytes = cache_file.read_bytes() if cache_file and cache_file.is_file() else b""
    cached = bool(zip_bytes) and zipfile.is_zipfile(io.BytesIO(zip_bytes))
    if cached:
        say(f"using the cached build {cache_file}")
    else:
        deps = (
            _installed(pins, say)
            if from_env
            else _pip_install(pins, runtime, arch, say, run=pip_runner)
        )
        zip_bytes = deterministic_zip({**deps, **payload})
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        entries = zf.infolist()
    unzipped = sum(info.file_size for info in entries)
    _check_limits(zip_bytes, unzipped, max_zipped, max_unzipped)
    if not cached and cache_file is not None:
        try:
            write_file(cache_file, zip_bytes, make_parents=True)
        except DogxrayError as exc:  # the build itself is good: only the cache failed
            say(f"note: the build is not cached: {exc.what}")
            cache_file = None
    if target is not None:
        write_file(target, zip_bytes)
    return PackageResult(
        zip_bytes=zip_bytes,
        path=target if target is not None else cache_file,
        files=len(entries),
        zipped_bytes=len(zip_bytes),
        unzipped_bytes=unzipped,
        sha256_b64=code_sha256(zip_bytes),
        runtime=runtime,
        arch=arch,
        cached=cached,
        tracer=tracer,
    )


def build_for_backend(
    *,
    runtime: str,
    arch: str,
    local_interpreter: bool,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> PackageResult:
    """The right zip for where it will run. dogxray's emulator runs functions on this
    interpreter: it gets the offline build. AWS, and any other endpoint (LocalStack runs
    the real Lambda runtime images), gets the Lambda-platform build from pip; when the
    package index cannot be reached, the offline build stands in, said in one line."""
    say = progress or (lambda _msg: None)
    validate_runtime(runtime)  # refuse before warning
    deprecated = runtime_warning(runtime)
    if deprecated:
        say(deprecated)
    if local_interpreter:
        return build_package(runtime=runtime, arch=arch, from_env=True, progress=say, **options)
    try:
        return build_package(runtime=runtime, arch=arch, from_env=False, progress=say, **options)
    except IndexUnreachable:
        say(
            "note: the package index cannot be reached; building the zip offline from this "
            "environment's packages instead (pure Python, runs on Lambda)"
        )
        return build_package(runtime=runtime, arch=arch, from_env=True, progress=say, **options)
