"""An endpoint that accepts TCP connections and never answers (a paused emulator) fails
fast with one message and a hint, instead of blocking for minutes; the read-timeout
budget is one per command (issue 15 item 12: `cleanup --yes` took twice as long as the
rest). The read timeout is shortened to 0.5 s by patching `dogxray.core.aws.READ_TIMEOUT_S`,
which every `Aws` reads when it is made and the message names."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core import aws as aws_module
from dogxray.core.aws import Aws
from dogxray.core.config import Settings

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


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws_module, "READ_TIMEOUT_S", 0.5)


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


@pytest.mark.timeout(60)
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
        "within 0.5 s, tried 2 times\n" + HINT
    )


@pytest.mark.timeout(60)
def test_the_timeout_budget_is_one_per_aws_not_one_per_call(silent_endpoint: Silent) -> None:
    """The first call waits twice; every later call of the same Aws (one command) fails at
    once without sending anything, so a command making several calls in a row (cleanup's
    survey, then its checks) is bounded like a command making one."""
    aws = Aws(Settings.from_options(region="us-east-1", endpoint_url=silent_endpoint))
    lam, s3 = aws.client("lambda"), aws.client("s3")  # (the endpoint check connects once)
    before = silent_endpoint.connections
    with pytest.raises(aws_module.bex.ReadTimeoutError):
        lam.list_functions()
    sent = silent_endpoint.connections
    assert sent == before + 2  # the first attempt and its one retry
    for call in (lam.list_functions, s3.list_buckets):
        with pytest.raises(aws_module.bex.ReadTimeoutError):
            call()
    assert silent_endpoint.connections == sent  # nothing more was sent
    other = Aws(Settings.from_options(region="us-east-1", endpoint_url=silent_endpoint))
    with pytest.raises(aws_module.bex.ReadTimeoutError):
        other.client("lambda").list_functions()  # the next command has a budget of its own
    assert silent_endpoint.connections == sent + 2
