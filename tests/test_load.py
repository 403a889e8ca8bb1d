"""`dogxray load`: counts add up, percentiles are consistent, bounds hold, and Ctrl-C
stops with a partial summary. Traffic goes to a server on 127.0.0.1 only."""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.triage import load


class Target:
    """A loopback server answering statuses from a cycle, tracking concurrency."""

    def __init__(
        self, statuses: list[int], delay_s: float = 0.0, answers: int | None = None
    ) -> None:
        """`answers`: after that many answers the server dies (closes every connection
        without a word), as the emulator does when stopped mid-run."""
        self.statuses = statuses
        self.answers = answers
        self.delay_s = delay_s
        self.seen = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                return

            def do_POST(self) -> None:  # the AWS API on the same port: already gone
                self.close_connection = True

            def do_GET(self) -> None:
                if self.path.startswith("/_dogxray/"):  # "is this the emulator?": no
                    self.send_error(404)
                    return
                with target.lock:
                    if target.answers is not None and target.seen >= target.answers:
                        self.close_connection = True
                        return
                    status = target.statuses[target.seen % len(target.statuses)]
                    target.seen += 1
                    target.in_flight += 1
                    target.max_in_flight = max(target.max_in_flight, target.in_flight)
                time.sleep(target.delay_s)
                body = b"dog"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with target.lock:
                    target.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target([200, 200, 200, 502, 429])
    yield server
    server.close()


@pytest.mark.slow
def test_counts_add_up_and_percentiles_are_consistent(target: Target) -> None:
    run = load.run_load(target.url, requests_count=50, concurrency=4)
    doc = load.summary(run, cold_starts=2).to_json()
    assert doc["requests"] == 50 == target.seen
    assert doc["status"] == {"2xx": 30, "3xx": 0, "4xx": 0, "429": 10, "5xx": 10, "no_answer": 0}
    assert sum(doc["status"].values()) == doc["requests"]
    assert doc["throttles"] == 10 and doc["cold_starts"] == 2
    lat = doc["latency_ms"]
    assert lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert lat["max"] == round(max(s.latency_ms for s in run.shots), 1)
    assert doc["throughput_rps"] == round(50 / run.elapsed_s, 2)
    assert not doc["interrupted"] and not doc["stopped_by_duration"]


@pytest.mark.slow
def test_concurrency_is_respected() -> None:
    slow = Target([200], delay_s=0.05)
    try:
        load.run_load(slow.url, requests_count=12, concurrency=3)
    finally:
        slow.close()
    assert slow.seen == 12 and slow.max_in_flight <= 3


@pytest.mark.slow
def test_duration_stops_the_run() -> None:
    slow = Target([200], delay_s=0.05)
    try:
        run = load.run_load(slow.url, requests_count=1000, concurrency=2, duration_s=0.2)
    finally:
        slow.close()
    assert run.stopped_by_duration and 0 < len(run.shots) < 1000


@pytest.mark.slow
def test_ctrl_c_stops_with_a_partial_summary(target: Target) -> None:
    sent: list[int] = []

    def interrupt_after_five(_shot: load.Shot) -> None:
        sent.append(1)
        if len(sent) == 5:
            _thread.interrupt_main()  # the user's Ctrl-C, delivered to the main thread

    slow = Target([200], delay_s=0.02)
    try:
        run = load.run_load(
            slow.url, requests_count=500, concurrency=2, on_shot=interrupt_after_five
        )
    finally:
        slow.close()
    doc = load.summary(run, cold_starts=None).to_json()
    assert doc["interrupted"] and 5 <= doc["requests"] < 500
    assert doc["requests"] == slow.seen == sum(doc["status"].values())


def test_a_rate_spaces_the_requests(target: Target) -> None:
    """5 requests at most 10 a second, 5 workers: the last one starts 0.4 s after the
    first (Lambda's sampling traces the first request of each second)."""
    run = load.run_load(target.url, requests_count=5, concurrency=5, rate=10)
    assert len(run.shots) == 5
    assert run.elapsed_s >= 0.4
    assert target.max_in_flight <= 2  # spaced, not sent at once


def test_no_answer_is_counted_not_raised() -> None:
    run = load.run_load("http://127.0.0.1:9/", requests_count=3, concurrency=1)
    doc = load.summary(run, cold_starts=None).to_json()
    assert doc["status"]["no_answer"] == 3 and {s.error for s in run.shots} == {"ConnectionError"}
    assert doc["no_answer_reasons"] == ["ConnectionError"]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("2m", 120.0), ("500ms", 0.5), ("1.5s", 1.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert load.parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--requests", "0"], "error: --requests 0 is outside 1-10000"),
        (["--requests", "10001"], "error: --requests 10001 is outside 1-10000"),
        (["--concurrency", "101"], "error: --concurrency 101 is outside 1-100"),
        (["--rate", "0"], "error: --rate 0 must be above 0 and at most 1000 requests a second"),
        (["--rate", "-2"], "error: --rate -2 must be above 0 and at most 1000 requests a second"),
        (["--duration", "soon"], "error: invalid --duration 'soon'"),
        (
            ["--duration", "11m"],
            "error: --duration 11m is too long: it must be more than 0 s and at most 600 s",
        ),
        (
            ["--requests", "301"],
            "error: 301 requests to AWS cost money and need confirmation, but there is no terminal",
        ),
    ],
)
def test_bad_input_exits_2_before_any_request(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["load", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0] == message
    assert result.stderr.splitlines()[1].startswith("hint: ")


def test_loopback_rule() -> None:
    assert load.is_loopback("http://127.0.0.1:4566/us-east-1/f/")
    assert load.is_loopback("http://localhost:1/")
    assert not load.is_loopback("https://abc.lambda-url.us-east-1.on.aws/")
    with pytest.raises(DogxrayError):
        load.parse_duration("0s")


# --- the CLI end to end against loopback servers --------------------------------------


def deployed_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The lab as `setup` leaves it, with its Function URL at `url`."""
    from dogxray.lab import service
    from dogxray.lab.models import Deployed

    lab = Deployed("dog-photo-function", "arn:aws:lambda:us-east-1:1:function:f", url, "b", "b")
    monkeypatch.setattr(service, "deployed", lambda _aws: lab)


def test_an_endpoint_that_runs_no_functions_is_said_so_before_any_request(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto makes Function URLs on AWS's own domain that none of its functions answers:
    exit 1 saying so, and send nothing to AWS's addresses."""
    import socket

    url = "https://abcdef.lambda-url.us-east-1.on.aws/"
    deployed_at(monkeypatch, url)
    looked_up: list[object] = []
    resolve = socket.getaddrinfo

    def record(host: object, *args: object, **kw: object) -> object:
        looked_up.append(host)
        return resolve(host, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", record)
    result = CliRunner().invoke(app, ["--endpoint-url", moto_server, "load", "-n", "5"])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {moto_server} runs no functions: the Function URL it made, {url}, is an AWS "
        "address that none of its functions answers\n"
        "hint: a moto server stores functions but never runs them: use `dogxray local` and "
        "its endpoint, or AWS, to send traffic\n"
    )
    assert not [h for h in looked_up if isinstance(h, str) and h.endswith(".on.aws")]


def test_json_names_no_answer_as_the_text_does(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    deployed_at(monkeypatch, "http://127.0.0.1:9/")  # discard port: refused
    args = ["--endpoint-url", moto_server, "load", "-n", "2", "-c", "1", "--output", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["status"]["no_answer"] == 2 and "failed" not in doc["status"]
    assert doc["no_answer_reasons"] == ["ConnectionError"]
    assert result.stderr == (
        "error: none of the 2 requests to http://127.0.0.1:9/ got an answer (ConnectionError)\n"
        f"hint: {moto_server} is not dogxray's emulator and may run no functions; a moto "
        "server stores functions but never runs them: use `dogxray local` and its endpoint, "
        "or AWS, to send traffic\n"
    )


@pytest.mark.slow
def test_the_endpoint_dying_mid_run_keeps_what_was_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`dogxray local` stopped while `load` runs: the Function URL stops answering and
    the logs read after the run fails; the summary of what was measured is printed
    with notes, not lost to `cannot reach the AWS endpoint`. No blank line on stderr
    (not a terminal)."""
    dying = Target([200], answers=4)
    try:
        deployed_at(monkeypatch, dying.url)
        args = ["--endpoint-url", dying.url.rstrip("/"), "load", "-n", "10", "-c", "1"]
        result = CliRunner().invoke(app, args)
    finally:
        dying.close()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("10 requests at concurrency 1 in ")
    assert lines[1] == "status: 2xx 4  3xx 0  4xx 0  429 0  5xx 0  no answer 6"
    assert lines[3] == "cold starts: ?  throttles: 0"
    assert " ".join(line.strip() for line in lines[4:]) == (
        "traced by X-Ray: ? of 10 requests (Lambda traces 1 request a second and 5 % of the "
        "rest; the figures above cover every request)"
    )
    notes = result.stderr.splitlines()
    assert notes[0].startswith(
        "note: cold starts and traced requests not counted: the function's logs could not be read ("
    )
    assert notes[1] == "note: 6 of 10 requests got no answer (ConnectionError)"
    assert len(notes) == 2 and "" not in notes


def test_a_failing_logs_read_is_a_note() -> None:
    from botocore.stub import Stubber

    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings
    from dogxray.monitor import invocations

    aws = Aws(Settings.from_options(region="us-east-1"))
    logs = aws.client("logs")
    stub = Stubber(logs)
    stub.add_client_error("filter_log_events", "ThrottlingException", "Rate exceeded")
    stub.activate()
    assert invocations.counted(aws, "/aws/lambda/f", 0, 1) == (
        None,
        "ThrottlingException: Rate exceeded",
    )


def test_plural_and_singular() -> None:
    import io

    from rich.console import Console

    from dogxray.render import load as show

    run = load.LoadRun(1, 1, [load.Shot(200, 12.0)], elapsed_s=0.5)
    buffer = io.StringIO()
    original = show.out
    show.out = Console(file=buffer, width=100, no_color=True)
    try:
        show.load_summary(load.summary(run, cold_starts=1, url="u"))
    finally:
        show.out = original
    assert buffer.getvalue().splitlines()[0] == "1 request at concurrency 1 in 0.50 s: 2.0 req/s"


@pytest.mark.parametrize(
    ("local", "emulator", "hint"),
    [
        (True, True, "hint: is the emulator (`dogxray local`) still running?"),
        (False, False, "hint: `dogxray --lab a test` sends one request and says what came back;"),
    ],
)
def test_no_answer_at_all_is_an_error_with_a_hint_for_the_backend(
    local: bool, emulator: bool, hint: str
) -> None:
    class Backend:
        is_local, is_emulator, endpoint_url = local, emulator, "http://127.0.0.1:4566"
        settings = Settings(lab="a")

    run = load.LoadRun(3, 1, [load.Shot(0, 1.0, "ReadTimeout")] * 3, elapsed_s=60.0)
    doc = load.summary(run, cold_starts=None, url="https://u/")
    error = load.unanswered(Backend(), doc)  # type: ignore[arg-type]
    assert error is not None and error.exit_code == 1
    assert error.what == "none of the 3 requests to https://u/ got an answer (ReadTimeout)"
    assert f"hint: {error.hint}".startswith(hint)
    assert "`dogxray --lab a test`" in error.hint
    some = load.LoadRun(3, 1, [load.Shot(200, 1.0), *run.shots[:2]], elapsed_s=1.0)
    assert load.unanswered(Backend(), load.summary(some, None, url="u")) is None  # type: ignore[arg-type]


@pytest.mark.slow
def test_an_endpoint_gone_for_good_stops_the_run_with_its_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After 20 requests in a row without an answer the run stops (no hammering a dead
    endpoint for the rest of the count): the summary of what was measured, then exit 1."""
    dying = Target([200], answers=4)
    try:
        deployed_at(monkeypatch, dying.url)
        args = ["--endpoint-url", dying.url.rstrip("/"), "load", "-n", "500", "-c", "1"]
        result = CliRunner().invoke(app, args)
    finally:
        dying.close()
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("24 requests at concurrency 1 in ")
    assert lines[0].endswith(" (no answer any more: 24 of 500 sent)")
    assert lines[1] == "status: 2xx 4  3xx 0  4xx 0  429 0  5xx 0  no answer 20"
    assert result.stderr.splitlines()[1:] == [
        "note: 20 of 24 requests got no answer (ConnectionError)",
        f"error: {dying.url} stopped answering: 20 requests in a row got no answer "
        "(ConnectionError); the summary is what was measured until then",
        "hint: is the endpoint still up? "
        f"`dogxray --endpoint-url {dying.url.rstrip('/')} test` sends one request and says what "
        "came back",
    ]
