"""Every part of moto the emulator uses, in one list, checked before anything is
patched: a moto release that renamed one fails the start with a message naming the
installed version and the missing part, instead of an AttributeError half-way.
pyproject.toml bounds moto to `>=5.2.2,<6`.

The emulator answers what it does differently in front of moto's WSGI application
(`local/front.py`) and reads moto's backends through their public methods (the ones
moto's own responses call). Only three class members are replaced (`local/patches.py`:
no public seam exists for them), and one private field is written: retention prunes
the oldest X-Ray traces, and moto's X-Ray has no call that deletes a trace.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from dogxray.core.errors import DogxrayError

SUPPORTED = ">=5.2.2,<6"

# (module, attribute path)
PATCHED: tuple[tuple[str, str], ...] = (  # replaced while an emulator runs
    ("moto.cloudwatch.models", "Statistics.get_statistics_for_type"),
    ("moto.core.common_models", "BaseModel.__new__"),
    ("moto.s3.models", "FakeKey.__del__"),
)
USED: tuple[tuple[str, str], ...] = (  # served, called or read
    ("moto.moto_server.werkzeug_app", "DomainDispatcherApplication"),
    ("moto.moto_server.werkzeug_app", "DomainDispatcherApplication.get_backend_for_host"),
    ("moto.moto_server.werkzeug_app", "create_backend_app"),
    ("moto.iam.models", "get_account_id_from"),
    ("moto.core.models", "DEFAULT_ACCOUNT_ID"),
    ("moto.awslambda.models", "lambda_backends"),
    ("moto.awslambda.models", "LambdaBackend.get_function"),
    ("moto.awslambda.models", "LambdaBackend.list_functions"),
    ("moto.xray.models", "xray_backends"),
    ("moto.xray.models", "XRayBackend.process_segment"),
    ("moto.cloudwatch.models", "cloudwatch_backends"),
    ("moto.cloudwatch.models", "CloudWatchBackend.put_metric_data"),
    ("moto.logs.models", "logs_backends"),
    ("moto.logs.models", "LogsBackend.put_log_events"),
)


def _xray_storage() -> bool:
    """The X-Ray backend keeps its traces where retention prunes them (an instance
    field, so it is checked on a backend)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.xray.models import xray_backends

    backend = xray_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    collection = getattr(backend, "_segment_collection", None)
    new_trace = getattr(collection, "_new_trace_item", None)
    return (
        hasattr(collection, "_traces")
        and callable(new_trace)
        and {"finished", "start_date", "end_date", "segments"} <= set(new_trace())
    )


INSTANCE_CHECKS: tuple[tuple[str, Callable[[], bool]], ...] = (
    ("moto.xray.models XRayBackend()._segment_collection._traces", _xray_storage),
)


def _resolve(module: str, path: str) -> Any:
    found: Any = importlib.import_module(module)
    for name in path.split("."):
        found = getattr(found, name)
    return found


def missing() -> list[str]:
    """What of `PATCHED`, `USED` and `INSTANCE_CHECKS` the installed moto lacks."""
    absent = []
    for module, path in (*PATCHED, *USED):
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
