"""`dogxray load`: traffic to the lab's Function URL, bounded in count and time.

C worker threads share one ticket counter, so exactly `requests` requests are sent unless
the duration, Ctrl-C or an endpoint gone away (`GIVE_UP_AFTER` requests in a row without
an answer) stops them first; each worker keeps its own HTTP session. The
summary counts statuses (throttles are Function URL 429s), takes percentiles with the
project's one percentile function over every request, and counts cold starts and the
requests X-Ray traced (Lambda samples) from the function's REPORT log lines in the run's
window. `rate` spaces the requests (at most that many a second), so Lambda's sampling,
1 request a second per function, keeps more of them. What was measured is never lost: a
logs read that fails (the endpoint stopped mid-run) leaves those counts unknown, with a
note.
A run in which no request got an HTTP answer is an error (`unanswered`), with why when
it can tell. An endpoint other than AWS and dogxray's emulator that made the function an
AWS Function URL (moto) runs no functions: nothing is sent to AWS's addresses for it.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError

from dogxray.core import window
from dogxray.core.aws import Aws
from dogxray.core.errors import DogxrayError
from dogxray.core.stats import percentile
from dogxray.monitor.invocations import counted

MAX_REQUESTS = 10_000
MAX_CONCURRENCY = 100
MAX_DURATION_S = 600.0
MAX_RATE = 1000.0  # requests a second
ASK_ABOVE = 300  # requests to real AWS: ask first (they cost money) unless --yes
HTTP_TIMEOUT_S = 20.0  # a little over the lab's 15 s function timeout
GIVE_UP_AFTER = 20  # requests in a row without an answer: the endpoint is gone, stop
NOT_READ = "the function's logs could not be read"


@dataclass(frozen=True)
class Shot:
    """One request: status 0 means no HTTP answer (connection error, timeout)."""

    status: int
    latency_ms: float
    error: str | None = None


@dataclass
class LoadRun:
    requests: int
    concurrency: int
    shots: list[Shot] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False
    stopped_by_duration: bool = False
    stopped_by_no_answer: bool = False  # GIVE_UP_AFTER requests in a row got no answer


def parse_duration(text: str) -> float:
    """`--duration` (`30s`, `2m`, `500ms`) -> seconds, within 0-MAX_DURATION_S."""
    return window.parse_duration(text, option="--duration", maximum_s=MAX_DURATION_S)


def check_bounds(requests_count: int, concurrency: int, rate: float | None = None) -> None:
    if not 1 <= requests_count <= MAX_REQUESTS:
        raise DogxrayError.usage(
            f"--requests {requests_count} is outside 1-{MAX_REQUESTS}", hint="e.g. --requests 100"
        )
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise DogxrayError.usage(
            f"--concurrency {concurrency} is outside 1-{MAX_CONCURRENCY}",
            hint="e.g. --concurrency 5",
        )
    if rate is not None and not 0 < rate <= MAX_RATE:
        raise DogxrayError.usage(
            f"--rate {rate:g} must be above 0 and at most {MAX_RATE:g} requests a second",
            hint="e.g. --rate 2 (Lambda traces the first request each second)",
        )


_NO_FUNCTIONS_HINT = (
    "a moto server stores functions but never runs them: use `dogxray local` and its "
    "endpoint, or AWS, to send traffic"
)


def _is_aws_host(url: str) -> bool:
    """A Function URL on AWS's own domain (`*.lambda-url.<region>.on.aws`)."""
    return (urlsplit(url).hostname or "").endswith(".on.aws")


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_load(
    url: str,
    *,
    requests_count: int,
    concurrency: int,
    duration_s: float | None = None,
    rate: float | None = None,
    on_shot: Callable[[Shot], None] | None = None,
    session_factory: Callable[[], requests.Session] = requests.Session,
    clock: Callable[[], float] = time.perf_counter,
    stop: threading.Event | None = None,
) -> LoadRun:
    """Send the requests; Ctrl-C (KeyboardInterrupt in the caller's thread) stops new
    requests, lets those in flight finish, and returns what was measured so far."""
    run = LoadRun(requests_count, concurrency)
    halt = stop or threading.Event()
    lock = threading.Lock()
    tickets = [requests_count]
    start = clock()
    deadline = start + duration_s if duration_s else None

    def take() -> bool:
        with lock:
            if halt.is_set() or tickets[0] <= 0:
                return False
            if deadline is not None and clock() >= deadline:
                run.stopped_by_duration = True
                return False
            due = start + (requests_count - tickets[0]) / rate if rate else None
            tickets[0] -= 1
        if due is not None and due > clock():
            halt.wait(due - clock())  # the ticket's turn; Ctrl-C or a stop ends the wait
            return not halt.is_set()
        return True

    unanswered = [0]  # requests in a row without an answer

    def worker() -> None:
        with session_factory() as session:
            while take():
                shot = _one(session, url, clock)
                with lock:
                    run.shots.append(shot)
                    unanswered[0] = unanswered[0] + 1 if shot.status == 0 else 0
                    if unanswered[0] >= GIVE_UP_AFTER and not halt.is_set():
                        run.stopped_by_no_answer = True
                        halt.set()
                if on_shot is not None:
                    on_shot(shot)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
    except KeyboardInterrupt:
        halt.set()
        run.interrupted = True
        for thread in threads:
            thread.join(HTTP_TIMEOUT_S)
    run.elapsed_s = clock() - start
    return run


def _one(session: requests.Session, url: str, clock: Callable[[], float]) -> Shot:
    begin = clock()
    try:
        response = session.get(url, timeout=HTTP_TIMEOUT_S, allow_redirects=False)
        response.content  # noqa: B018  (read the body: the latency covers it)
    except requests.RequestException as exc:
        return Shot(0, (clock() - begin) * 1000, _reason(exc))
    return Shot(response.status_code, (clock() - begin) * 1000)


def _reason(exc: requests.RequestException) -> str:
    """The exception's name; a host that does not resolve is told apart (urllib3's
    NameResolutionError, the reason of the MaxRetryError inside requests' error)."""
    inner = exc.args[0] if exc.args else None
    if isinstance(getattr(inner, "reason", inner), NameResolutionError):
        return "NameResolutionError"
    return type(exc).__name__


@dataclass(frozen=True)
class LoadSummary:
    """What a run measured (`to_json()`: `load --output json`; `status["no_answer"]`:
    requests with no HTTP answer at all). `url` is where it was sent."""

    requests: int
    asked: int
    concurrency: int
    duration_s: float
    throughput_rps: float
    status: dict[str, int]  # 2xx, 3xx, 4xx (not 429), 429, 5xx, no_answer
    latency_ms: dict[str, float | None]  # p50, p95, p99, max
    cold_starts: int | None
    interrupted: bool
    stopped_by_duration: bool
    stopped_by_no_answer: bool
    no_answer_reasons: list[str]
    notes: list[str]
    url: str | None = None
    traced: int | None = None  # of `requests`, how many X-Ray traced (None: not read)

    @property
    def throttles(self) -> int:
        return self.status["429"]

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {} if self.url is None else {"url": self.url}
        doc.update(
            requests=self.requests,
            asked=self.asked,
            concurrency=self.concurrency,
            duration_s=self.duration_s,
            throughput_rps=self.throughput_rps,
            status=self.status,
            latency_ms=self.latency_ms,
            throttles=self.throttles,
            cold_starts=self.cold_starts,
            traced=self.traced,
            interrupted=self.interrupted,
            stopped_by_duration=self.stopped_by_duration,
            stopped_by_no_answer=self.stopped_by_no_answer,
            no_answer_reasons=self.no_answer_reasons,
            notes=self.notes,
        )
        return doc


def summary(
    run: LoadRun,
    cold_starts: int | None,
    notes: list[str] | None = None,
    url: str | None = None,
    traced: int | None = None,
) -> LoadSummary:
    """What the run measured."""
    statuses = [shot.status for shot in run.shots]
    groups = {
        "2xx": sum(200 <= s < 300 for s in statuses),
        "3xx": sum(300 <= s < 400 for s in statuses),
        "4xx": sum(400 <= s < 500 and s != 429 for s in statuses),
        "429": sum(s == 429 for s in statuses),
        "5xx": sum(s >= 500 for s in statuses),
        "no_answer": sum(s == 0 for s in statuses),
    }
    latencies = sorted(shot.latency_ms for shot in run.shots)

    def pct(q: float) -> float | None:
        value = percentile(latencies, q)
        return None if value is None else round(value, 1)

    return LoadSummary(
        requests=len(run.shots),
        asked=run.requests,
        concurrency=run.concurrency,
        duration_s=round(run.elapsed_s, 3),
        throughput_rps=round(len(run.shots) / run.elapsed_s, 2) if run.elapsed_s else 0.0,
        status=groups,
        latency_ms={"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": pct(100)},
        cold_starts=cold_starts,
        interrupted=run.interrupted,
        stopped_by_duration=run.stopped_by_duration,
        stopped_by_no_answer=run.stopped_by_no_answer,
        no_answer_reasons=sorted({shot.error for shot in run.shots if shot.error}),
        notes=list(notes or []),
        url=url,
        traced=traced,
    )


def unanswered(aws: Aws, doc: LoadSummary) -> DogxrayError | None:
    """The error for a run in which requests were sent and none got an HTTP answer."""
    sent, lost = doc.requests, doc.status["no_answer"]
    reasons = ", ".join(doc.no_answer_reasons) or "no answer"
    if sent and lost < sent and doc.stopped_by_no_answer:
        return DogxrayError(
            f"{doc.url} stopped answering: {GIVE_UP_AFTER} requests in a row got no answer "
            f"({reasons}); the summary is what was measured until then",
            hint=f"is the endpoint still up? `{aws.settings.command('test')}` sends one request "
            "and says what came back",
        )
    if not sent or lost < sent:
        return None
    what = f"none of the {sent} requests to {doc.url} got an answer ({reasons})"
    if aws.is_local and not aws.is_emulator:
        return DogxrayError(
            what,
            hint=f"{aws.endpoint_url} is not dogxray's emulator and may run no functions; "
            + _NO_FUNCTIONS_HINT,
        )
    if aws.is_emulator:
        return DogxrayError(
            what,
            hint="is the emulator (`dogxray local`) still running? "
            f"`{aws.settings.command('test')}` sends one request and says what came back",
        )
    return DogxrayError(
        what,
        hint=f"`{aws.settings.command('test')}` sends one request and says what came back; "
        f"`{aws.settings.command('status')}` shows the function and its URL",
    )


def load(
    aws: Aws,
    *,
    requests_count: int,
    concurrency: int,
    duration_s: float | None = None,
    rate: float | None = None,
    on_shot: Callable[[Shot], None] | None = None,
) -> LoadSummary:
    """Load the deployed lab's Function URL; what the run measured."""
    from dogxray.lab.service import deployed

    check_bounds(requests_count, concurrency, rate)
    lab = deployed(aws)
    if not lab.function_url:
        raise DogxrayError(
            f"{lab.function_name} has no Function URL to send traffic to",
            hint=f"`{aws.settings.command('configure --url')}` adds it",
        )
    if aws.is_emulator and not is_loopback(lab.function_url):
        raise DogxrayError(
            f"the emulator's Function URL {lab.function_url} is not on loopback",
            hint="load against the emulator is sent to 127.0.0.1 only; restart `dogxray local`",
        )
    if aws.is_local and not aws.is_emulator and _is_aws_host(lab.function_url):
        raise DogxrayError(
            f"{aws.endpoint_url} runs no functions: the Function URL it made, "
            f"{lab.function_url}, is an AWS address that none of its functions answers",
            hint=_NO_FUNCTIONS_HINT,
        )
    start_ms = int(time.time() * 1000)
    run = run_load(
        lab.function_url,
        requests_count=requests_count,
        concurrency=concurrency,
        duration_s=duration_s,
        rate=rate,
        on_shot=on_shot,
    )
    end_ms = int(time.time() * 1000) + 1000
    found, why = counted(aws, aws.settings.log_group_name, start_ms, end_ms)
    notes = [f"cold starts and traced requests not counted: {NOT_READ} ({why})"] if why else []
    return summary(
        run,
        None if found is None else found.cold_starts,
        notes,
        url=lab.function_url,
        traced=None if found is None else found.traced,
    )
