"""One emulator for the whole directory, plus helpers that deploy hand-made zips with
plain boto3 (no dependency on the control plane)."""

from __future__ import annotations

import importlib.util
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from dogxray.local import Emulator
from tests.helpers import TRUST


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def with_xray_sdk(files: dict[str, str]) -> bytes:
    """A zip of `files` plus the installed aws-xray-sdk and wrapt: like a real deployment
    package, since the emulated runtime (as Lambda's) only provides the AWS SDK."""
    buffer = io.BytesIO(zipped(files))
    with zipfile.ZipFile(buffer, "a") as archive:
        for package in ("aws_xray_sdk", "wrapt"):
            spec = importlib.util.find_spec(package)
            assert spec is not None and spec.origin is not None
            root = Path(spec.origin).parent
            for path in root.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, f"{package}/{path.relative_to(root).as_posix()}")
    return buffer.getvalue()


@dataclass
class Lab:
    emu: Emulator
    role_arn: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.emu.endpoint_url, region_name="us-east-1")

    def deploy(
        self,
        files: dict[str, str],
        *,
        handler: str = "app.handler",
        timeout: int = 3,
        env: dict[str, str] | None = None,
        tracing: str = "Active",
        auth: str = "NONE",
        permissions: tuple[str, ...] = ("url", "invoke"),
        code: bytes | None = None,
        name: str | None = None,
    ) -> tuple[str, str]:
        """Create a function (a fresh name unless given) with a Function URL; returns
        (name, url)."""
        name = name or f"fn-{uuid.uuid4().hex[:10]}"
        lam = self.client("lambda")
        lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=self.role_arn,
            Handler=handler,
            Code={"ZipFile": code if code is not None else zipped(files)},
            Timeout=timeout,
            Environment={"Variables": env or {}},
            TracingConfig={"Mode": tracing},
        )
        url = lam.create_function_url_config(FunctionName=name, AuthType=auth)["FunctionUrl"]
        if "url" in permissions:
            lam.add_permission(
                FunctionName=name,
                StatementId="FunctionURLAllowPublicAccess",
                Action="lambda:InvokeFunctionUrl",
                Principal="*",
                FunctionUrlAuthType="NONE",
            )
        if "invoke" in permissions:
            lam.add_permission(
                FunctionName=name,
                StatementId="FunctionURLAllowInvokeAction",
                Action="lambda:InvokeFunction",
                Principal="*",
                InvokedViaFunctionUrl=True,
            )
        return name, url

    def segments(self, response: requests.Response) -> list[dict[str, Any]]:
        """The stored segment documents of the trace a gateway response names."""
        trace_id = response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")
        traces = self.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"]
        return [json.loads(s["Document"]) for t in traces for s in t["Segments"]]

    def log_messages(self, name: str) -> list[str]:
        logs = self.client("logs")
        group = f"/aws/lambda/{name}"
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        events = [
            event
            for stream in streams
            for event in logs.get_log_events(
                logGroupName=group, logStreamName=stream["logStreamName"]
            )["events"]
        ]
        return [e["message"] for e in sorted(events, key=lambda e: e["timestamp"])]


@pytest.fixture(scope="package")  # stopped before other directories' moto tests run
def emulator() -> Iterator[Emulator]:
    # Every request traced: these tests read the trace of the request they sent.
    # Lambda's sampling itself is tested in test_sampling.py.
    with Emulator(port=0, trace_all=True) as emu:
        yield emu


@pytest.fixture(scope="package")
def lab(emulator: Emulator) -> Lab:
    iam = boto3.client("iam", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    role = iam.create_role(
        RoleName=f"local-tests-{int(time.time())}", AssumeRolePolicyDocument=json.dumps(TRUST)
    )
    return Lab(emulator, role["Role"]["Arn"])
