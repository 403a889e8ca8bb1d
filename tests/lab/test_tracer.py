"""`--tracer`: the zip of the chosen tracer, DOGXRAY_TRACER on the function for
OpenTelemetry, the choice recorded and kept, a switch said in one line and deployed as
new code, and `status` naming the tracer."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.lab import service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, make_zip

FUNCTION = "dog-photo-function"


@dataclass
class Builds:
    """A zip provider that records the tracer of each build; each tracer's zip differs."""

    tracers: list[str] = field(default_factory=list)

    def __call__(self, runtime: str, arch: str, local: bool, *, tracer: str) -> bytes:
        self.tracers.append(tracer)
        return make_zip(f"# traced with {tracer}\n")


@dataclass
class Lines:
    said: list[str] = field(default_factory=list)

    def progress(self, text: str) -> None:
        self.said.append(text)

    def spinner(self, text: str):  # type: ignore[no-untyped-def]
        from dogxray.lab.progress import SILENT

        return SILENT.spinner(text)


def _setup(lab: Lab, builds: Builds, tracer: str | None = None) -> Lines:
    lines = Lines()
    lab.executor.reporter = lines  # the executor's reporter is the command's
    service.setup(lab.aws, SetupOptions(tracer=tracer), zip_provider=builds, executor=lab.executor)
    return lines


def _function(lab: Lab) -> dict:
    return lab.client("lambda").get_function(FunctionName=FUNCTION)


def test_otel_is_built_recorded_and_kept(lab: Lab) -> None:
    builds = Builds()
    _setup(lab, builds, "otel")
    fn = _function(lab)
    assert fn["Configuration"]["Environment"]["Variables"]["DOGXRAY_TRACER"] == "otel"
    assert " tracer=otel " in fn["Tags"]["dogxray:settings"]
    assert fn["Configuration"]["TracingConfig"] == {"Mode": "Active"}  # Lambda's segments
    sha = fn["Configuration"]["CodeSha256"]
    _setup(lab, builds)  # no --tracer: the lab keeps what it recorded
    assert builds.tracers == ["otel", "otel"]
    assert _function(lab)["Configuration"]["CodeSha256"] == sha
    assert service.status(lab.aws).tracer == "otel"


def test_a_switch_is_said_and_redeploys_the_code(lab: Lab) -> None:
    builds = Builds()
    assert not [s for s in _setup(lab, builds).said if "redeploying" in s]
    xray_sha = _function(lab)["Configuration"]["CodeSha256"]
    assert "DOGXRAY_TRACER" not in _function(lab)["Configuration"]["Environment"]["Variables"]
    said = _setup(lab, builds, "otel").said
    assert (
        "the function is traced with the X-Ray SDK: redeploying it traced with OpenTelemetry "
        "(new code, DOGXRAY_TRACER set)"
    ) in said
    switched = _function(lab)["Configuration"]
    assert switched["CodeSha256"] != xray_sha
    assert switched["Environment"]["Variables"]["DOGXRAY_TRACER"] == "otel"
    said = _setup(lab, builds, "xray").said
    assert any("redeploying it traced with the X-Ray SDK" in s for s in said)
    back = _function(lab)["Configuration"]
    assert back["CodeSha256"] == xray_sha
    assert "DOGXRAY_TRACER" not in back["Environment"]["Variables"]
    assert builds.tracers == ["xray", "otel", "xray"]


def test_the_deployed_variable_is_read_when_nothing_was_recorded(lab: Lab) -> None:
    """A function deployed before tracers were recorded: setup keeps what it runs."""
    builds = Builds()
    _setup(lab, builds, "otel")
    lab.client("lambda").tag_resource(
        Resource=_function(lab)["Configuration"]["FunctionArn"],
        Tags={"dogxray:settings": "runtime=python3.13"},
    )
    _setup(lab, builds)
    assert builds.tracers == ["otel", "otel"]


runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["setup", "--tracer", "jaeger"],
        ["deploy-function", "--tracer", "XRAY"],
        ["package", "--tracer", ""],
        ["demo", "--local", "--tracer", "zipkin"],
    ],
)
def test_an_unknown_tracer_is_refused(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--tracer" in result.output and "Traceback" not in result.output


def test_the_variable_is_not_an_env_option() -> None:
    result = runner.invoke(app, ["configure", "--env", "DOGXRAY_TRACER=otel"])
    assert result.exit_code == 2
    assert "DOGXRAY_TRACER is the lab's" in result.output
    assert "setup --tracer otel" in result.output
