"""The demo's stage machinery: stages, their report, the reporter protocol, and the one
runner the lab's and the triage lab's stages share (each stage narrated, timed and
verified; the demo passes only when every stage's check passed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dogxray.core.config import DEFAULT_TRACER, Settings, Tracer
from dogxray.core.errors import DogxrayError
from dogxray.lab.progress import SILENT, Reporter

if TYPE_CHECKING:
    from dogxray.core.aws import Aws
    from dogxray.lab.probe import ProbeResult
    from dogxray.traces.service import TraceDetail

TRACE_WAIT_S = 90  # X-Ray needs up to a minute on AWS; the emulator is immediate
LOCAL_TRACE_WAIT_S = 5
TRACE_POLL_S = 3
# Trace times come from AWS's clock, the probe's from ours: older traces (an earlier
# run, an earlier `dogxray test`) must not pass for the request just made.
CLOCK_SKEW_S = 10
# Lambda traces the first request each second (and 5 % of the others): a request sent
# this long after the previous one ended is the first of its second, so it is traced.
SAMPLING_GAP_S = 1.1


@dataclass
class Stage:
    number: str
    title: str
    ok: bool = False
    seconds: float = 0.0
    evidence: list[str] = field(default_factory=list)


@dataclass
class DemoReport:
    stages: list[Stage] = field(default_factory=list)
    html_path: str | None = None  # the HTML report written before cleanup

    @property
    def ok(self) -> bool:
        return bool(self.stages) and all(stage.ok for stage in self.stages)


class DemoReporter(Protocol):
    """What the demo tells the terminal; the command layer passes
    `dogxray.render.demo.REPORTER`, so this module does not import `dogxray.render`."""

    @property
    def lab(self) -> Reporter:
        """The control plane's reporter (setup, break/fix, cleanup steps)."""

    def note(self, text: str) -> None:
        """A progress line ("starting the embedded emulator ...")."""

    def stage_start(self, stage: Stage) -> None: ...

    def stage_end(self, stage: Stage) -> None: ...

    def narrate(self, text: str) -> None:
        """What the console guide would have you click."""

    def evidence(self, line: str) -> None: ...

    def waterfall(self, detail: TraceDetail, aws: Aws) -> None:
        """The fault trace, as `dogxray trace` shows it."""

    def html_report(self, data: Any) -> str | None:
        """Stage 5 as one HTML page (`dogxray report`); None: write no page."""


class SilentDemo:
    """The default: the demo runs, checks and returns its report without output."""

    lab: Reporter = SILENT

    def note(self, text: str) -> None:
        pass

    def stage_start(self, stage: Stage) -> None:
        pass

    def stage_end(self, stage: Stage) -> None:
        pass

    def narrate(self, text: str) -> None:
        pass

    def evidence(self, line: str) -> None:
        pass

    def waterfall(self, detail: TraceDetail, aws: Aws) -> None:
        pass

    def html_report(self, data: Any) -> str | None:
        return None


class StageFailed(Exception):
    """A stage failed: the stages after it are skipped (cleanup still runs)."""


class StageRunner:
    """Runs the demo's stages in order and holds what they share: the account, the
    injected clock and sleep, the reporter, and the lab's URL and bucket once built.
    The lab's stages (`demo.run.LabDemo`) and the triage lab's (`demo.triage`) both run
    on it."""

    def __init__(
        self,
        aws: Aws,
        settings: Settings,
        report: DemoReport,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        now: Callable[[], float] = time.time,
        reporter: DemoReporter | None = None,
        tracer: Tracer = DEFAULT_TRACER,
    ) -> None:
        self.show = reporter or SilentDemo()
        self.tracer = tracer  # what the function's code traces with
        self.aws = aws
        self.settings = settings
        self.report = report
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.probed_at = 0.0  # wall-clock time of the last request to the Function URL
        self._sent_until: float | None = None  # `clock` when the demo's last request ended
        self.url = ""
        self.bucket = ""

    def stage(
        self, number: str, title: str, body: Callable[[Stage], None], *, always: bool = False
    ) -> None:
        stage = Stage(number, title)
        self.report.stages.append(stage)
        self.show.stage_start(stage)
        start = self.clock()
        try:
            body(stage)
            stage.ok = True
        except DogxrayError as exc:
            stage.evidence.append(f"failed: {exc.what}")
            if exc.hint:
                stage.evidence.append(f"hint: {exc.hint}")
        finally:
            stage.seconds = self.clock() - start
            self.show.stage_end(stage)
        if not stage.ok and not always:
            raise StageFailed(number)

    def wait_until(self, ready: Callable[[], Any], what: str, wait: float | None = None) -> Any:
        """Poll `ready` until it returns something (AWS indexes and publishes with a delay;
        the emulator at once); None when the wait is over."""
        limit = (
            wait
            if wait is not None
            else (LOCAL_TRACE_WAIT_S if self.aws.is_local else TRACE_WAIT_S)
        )
        deadline = self.clock() + limit
        said = False
        while True:
            found = ready()
            if found is not None or self.clock() >= deadline:
                return found
            if not said:
                self.show.note(f"waiting up to {limit:.0f} s for {what} ...")
                said = True
            self.sleep(TRACE_POLL_S)

    def probe(self) -> ProbeResult:
        """One request to the lab's Function URL, checked against the bucket."""
        from dogxray.lab import probe

        probe.check_runs_functions(self.aws, self.url)
        self.space_requests()
        self.probed_at = self.now()
        try:
            return probe.probe(self.aws, self.url, self.bucket)
        finally:
            self.requests_ended()

    def space_requests(self) -> None:
        """Wait until a request now is the first of its second (`SAMPLING_GAP_S`), so
        Lambda's sampling traces it."""
        if self._sent_until is not None:
            wait = self._sent_until + SAMPLING_GAP_S - self.clock()
            if wait > 0:
                self.sleep(wait)

    def requests_ended(self) -> None:
        self._sent_until = self.clock()

    def say(self, stage: Stage, line: str) -> None:
        stage.evidence.append(line)
        self.show.evidence(line)
