"""An endpoint that accepts TCP connections and never answers (a paused emulator) fails
fast with one message and a hint, instead of blocking for minutes; the read-timeout
budget is one per command (issue 15 item 12: `cleanup --yes` took twice as long as the
rest). The read timeout is shortened to 0.1 s through $DOGXRAY_READ_TIMEOUT, which every
`Aws` reads when it is made and the message names; the default 10 s budget is checked by
arithmetic on botocore's own retry loop, with a stand-in for the wait."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import botocore.exceptions as bex
import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core import aws as aws_module
from dogxray.core.aws import Aws
from dogxray.core.config import ENV_READ_TIMEOUT, READ_TIMEOUT_S, Settings, read_timeout_s
from dogxray.core.errors import DogxrayError
from dogxray.core.explain import explain

HINT = (
    "hint: is the emulator paused (Ctrl-Z: resume it with `fg`) or stopped? restart "
    "`dogxray local`, or unset AWS_ENDPOINT_URL / --endpoint-url to use AWS\n"
)


class Silent(str):
    """The endpoint's URL; `.connections` counts the connections it accepted."""

    held: list[socket.socket]

    @property
    def connections(self) -> int:
        return len(self.held)


SHORT_S = "0.1"


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """0.1 s reads, and no retry backoff (random, up to 1 s) between the two attempts."""
    monkeypatch.setenv(ENV_READ_TIMEOUT, SHORT_S)
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda _s: None))


@pytest.fixture
def silent_endpoint() -> Iterator[Silent]:
    """A loopback listener that accepts connections, reads, and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)  # keep it open, say nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = Silent(f"http://127.0.0.1:{server.getsockname()[1]}")
    url.held = held
    try:
        yield url
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.slow
@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["cleanup", "--yes"],
        ["cleanup", "--dry-run"],
        ["traces"],
        ["labs"],
        ["labs", "--all-regions"],
        ["cleanup", "--all-labs", "--yes"],
        ["demo", "--yes"],
        ["setup", "--dry-run"],
    ],
)
def test_every_command_against_a_silent_endpoint_fails_with_a_hint(
    silent_endpoint: Silent, command: list[str]
) -> None:
    result = CliRunner().invoke(app, ["--endpoint-url", silent_endpoint, *command])
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"error: the endpoint {silent_endpoint} accepted the connection but did not answer "
        f"within {SHORT_S} s, tried 2 times\n" + HINT
    )


@pytest.mark.slow
@pytest.mark.timeout(30)
def test_the_timeout_budget_is_one_per_aws_not_one_per_call(silent_endpoint: Silent) -> None:
    """The first call waits twice; every later call of the same Aws (one command) fails at
    once without sending anything, so a command making several calls in a row (cleanup's
    survey, then its checks) is bounded like a command making one."""
    aws = Aws(Settings.from_options(region="us-east-1", endpoint_url=silent_endpoint))
    lam, s3 = aws.client("lambda"), aws.client("s3")  # (the endpoint check connects once)
    before = silent_endpoint.connections
    with pytest.raises(bex.ReadTimeoutError):
        lam.list_functions()
    sent = silent_endpoint.connections
    assert sent == before + 2  # the first attempt and its one retry
    for call in (lam.list_functions, s3.list_buckets):
        with pytest.raises(bex.ReadTimeoutError):
            call()
    assert silent_endpoint.connections == sent  # nothing more was sent
    other = Aws(Settings.from_options(region="us-east-1", endpoint_url=silent_endpoint))
    with pytest.raises(bex.ReadTimeoutError):
        other.client("lambda").list_functions()  # the next command has a budget of its own
    assert silent_endpoint.connections == sent + 2


def test_the_default_budget_is_two_waits_of_10_s_per_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without $DOGXRAY_READ_TIMEOUT every call may wait 10 s and a command waits at most
    2 x 10 s plus one retry backoff: botocore's real retry loop runs; each attempt's wait
    is stood in for by the ReadTimeoutError urllib3 raises after `read_timeout`, and the
    backoff by a recorded sleep."""
    monkeypatch.delenv(ENV_READ_TIMEOUT)
    aws = Aws(Settings.from_options(region="us-east-1"))
    waits: list[float] = []
    backoffs: list[float] = []

    def hang(request: Any, **_: Any) -> None:
        waits.append(lam.meta.config.read_timeout)  # what urllib3 would have waited
        raise bex.ReadTimeoutError(endpoint_url=request.url)

    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=backoffs.append))
    aws.session.register("before-send", hang)
    lam, s3 = aws.client("lambda"), aws.client("s3")
    for call in (lam.list_functions, lam.list_functions, s3.list_buckets):
        with pytest.raises(bex.ReadTimeoutError) as caught:
            call()
    assert READ_TIMEOUT_S == 10 and aws.read_timeout == 10
    assert waits == [10, 10]  # the first call's two attempts; later calls send nothing
    assert len(backoffs) == 1 and 0 <= backoffs[0] <= 1  # standard mode: random(0, 1) s
    assert sum(waits) == aws_module.TIMEOUT_ATTEMPTS * READ_TIMEOUT_S == 20
    explained = explain(caught.value)
    assert explained is not None
    assert explained.what == "AWS did not answer within 10 s, tried 2 times"


@pytest.mark.slow
def test_an_explicit_read_timeout_wins_over_the_environment() -> None:
    """$DOGXRAY_READ_TIMEOUT is 0.1 here (the fixture); `Aws(read_timeout=)` still wins."""
    settings = Settings.from_options(region="us-east-1")
    assert Aws(settings).read_timeout == 0.1
    assert Aws(settings, read_timeout=7).read_timeout == 7
    assert Aws(settings, read_timeout=7).client("sts").meta.config.read_timeout == 7


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "nan", "inf", "3601"])
def test_a_bad_read_timeout_in_the_environment_is_a_usage_error(raw: str) -> None:
    with pytest.raises(DogxrayError) as caught:
        read_timeout_s({ENV_READ_TIMEOUT: raw})
    assert caught.value.exit_code == 2
    assert str(caught.value) == (
        f"DOGXRAY_READ_TIMEOUT {raw!r} is not a number of seconds\n"
        "hint: give seconds above 0, up to 3600 (default 10), or unset DOGXRAY_READ_TIMEOUT"
    )
    assert read_timeout_s({ENV_READ_TIMEOUT: " 2.5 "}) == 2.5
    assert read_timeout_s({}) == read_timeout_s({ENV_READ_TIMEOUT: ""}) == 10
