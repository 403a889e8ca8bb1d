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

from dogxray import load
from dogxray.app import app
from dogxray.errors import DogxrayError


class Target:
    """A loopback server answering statuses from a cycle, tracking concurrency."""

    def __init__(self, statuses: list[int], delay_s: float = 0.0) -> None:
        self.statuses = statuses
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

            def do_GET(self) -> None:
                with target.lock:
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


def test_counts_add_up_and_percentiles_are_consistent(target: Target) -> None:
    run = load.run_load(target.url, requests_count=50, concurrency=4)
    doc = load.summary(run, cold_starts=2)
    assert doc["requests"] == 50 == target.seen
    assert doc["status"] == {"2xx": 30, "3xx": 0, "4xx": 0, "429": 10, "5xx": 10, "failed": 0}
    assert sum(doc["status"].values()) == doc["requests"]
    assert doc["throttles"] == 10 and doc["cold_starts"] == 2
    lat = doc["latency_ms"]
    assert lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert lat["max"] == round(max(s.latency_ms for s in run.shots), 1)
    assert doc["throughput_rps"] == round(50 / run.elapsed_s, 2)
    assert not doc["interrupted"] and not doc["stopped_by_duration"]


def test_concurrency_is_respected() -> None:
    slow = Target([200], delay_s=0.05)
    try:
        load.run_load(slow.url, requests_count=12, concurrency=3)
    finally:
        slow.close()
    assert slow.seen == 12 and slow.max_in_flight <= 3


def test_duration_stops_the_run() -> None:
    slow = Target([200], delay_s=0.05)
    try:
        run = load.run_load(slow.url, requests_count=1000, concurrency=2, duration_s=0.2)
    finally:
        slow.close()
    assert run.stopped_by_duration and 0 < len(run.shots) < 1000


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
    doc = load.summary(run, cold_starts=None)
    assert doc["interrupted"] and 5 <= doc["requests"] < 500
    assert doc["requests"] == slow.seen == sum(doc["status"].values())


def test_no_answer_is_counted_not_raised() -> None:
    run = load.run_load("http://127.0.0.1:9/", requests_count=3, concurrency=1)
    doc = load.summary(run, cold_starts=None)
    assert doc["status"]["failed"] == 3 and {s.error for s in run.shots} == {"ConnectionError"}


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
