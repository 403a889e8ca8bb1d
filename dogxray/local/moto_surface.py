"""Every part of moto the emulator patches or reads beyond moto's documented API, in one
list, checked before anything is patched: a moto release that renamed one fails the
start with a message naming the installed version and the missing part, instead of an
AttributeError half-way through patching. pyproject.toml bounds moto to `>=5.1,<6`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from dogxray.core.errors import DogxrayError

SUPPORTED = ">=5.1,<6"

# (module, attribute path): class members the emulator replaces or wraps, and the
# server internals it wraps (werkzeug's app on the threaded server).
PATCHED: tuple[tuple[str, str], ...] = (
    ("moto.awslambda.models", "FunctionUrlConfig.__init__"),
    ("moto.awslambda.models", "LambdaFunction.invoke"),
    ("moto.awslambda.models", "LambdaFunction.update_configuration"),
    ("moto.awslambda.models", "LambdaFunction.update_function_code"),
    ("moto.awslambda.models", "LambdaBackend.delete_function"),
    ("moto.awslambda.models", "lambda_backends"),
    ("moto.awslambda.policy", "Policy.decode_policy"),
    ("moto.awslambda.exceptions", "LambdaClientError"),
    ("moto.moto_server.werkzeug_app", "MotoRequestHandler"),
    ("moto.xray.models", "XRayBackend.get_trace_ids"),
    ("moto.xray.models", "xray_backends"),
    ("moto.xray.responses", "XRayResponse.service_graph"),
    ("moto.xray.responses", "XRayResponse.trace_graph"),
    ("moto.cloudwatch.models", "Statistics"),
    ("moto.cloudwatch.models", "cloudwatch_backends"),
    ("moto.logs.models", "logs_backends"),
    ("moto.core.common_models", "BaseModel.__new__"),
    ("moto.s3.models", "FakeKey.__del__"),
    ("moto.moto_api._internal.models", "moto_api_backend.reset"),
    ("moto.server", "ThreadedMotoServer"),
    ("moto.core.models", "DEFAULT_ACCOUNT_ID"),
)


def _xray_storage() -> bool:
    """The X-Ray backend keeps its traces where retention and the graph APIs read them
    (an instance field, so it is checked on a backend)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.xray.models import xray_backends

    backend = xray_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return hasattr(getattr(backend, "_segment_collection", None), "_traces")


INSTANCE_CHECKS: tuple[tuple[str, Callable[[], bool]], ...] = (
    ("moto.xray.models XRayBackend()._segment_collection._traces", _xray_storage),
)


def _resolve(module: str, path: str) -> Any:
    found: Any = importlib.import_module(module)
    for name in path.split("."):
        found = getattr(found, name)
    return found


def missing() -> list[str]:
    """What of `PATCHED` and `INSTANCE_CHECKS` the installed moto lacks."""
    absent = []
    for module, path in PATCHED:
        try:
            _resolve(module, path)
        except (ImportError, AttributeError):
            absent.append(f"{module}.{path}")
    for name, check in INSTANCE_CHECKS:
        try:
            ok = check()
        except (ImportError, AttributeError, KeyError):
            ok = False
        if not ok:
            absent.append(name)
    return absent


def check() -> None:
    """Raise before any patch when the installed moto lacks a part the emulator needs."""
    absent = missing()
    if not absent:
        return
    try:
        installed = version("moto")
    except PackageNotFoundError:
        installed = "(not installed)"
    raise DogxrayError(
        f"the emulator cannot run on moto {installed}: it lacks {', '.join(absent)}",
        hint=f"install a moto dogxray supports: pip install 'moto[s3,xray]{SUPPORTED}'",
    )
