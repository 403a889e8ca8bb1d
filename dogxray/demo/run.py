"""`dogxray demo`: the whole lab, stage by stage, each one narrated and verified.

Every stage says what the console guide would have you click, what dogxray did
instead, and the evidence; the demo passes only when every stage's check passed.
With `local=True` it runs inside the embedded emulator (no AWS account needed).

The demo never acts on an existing lab (`dogxray.demo.own_lab`): outside the embedded
emulator it refuses to start when anything of its lab exists, before creating anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from dogxray.core.config import BROKEN_BUCKET, DEFAULT_TRACER, Settings, Tracer
from dogxray.core.errors import DogxrayError
from dogxray.demo.stages import (
    CLOCK_SKEW_S,
    DemoReport,
    DemoReporter,
    SilentDemo,
    Stage,
    StageFailed,
    StageRunner,
)
from dogxray.lab.models import SetupOptions


@contextmanager
def _local_endpoint(settings: Settings, local: bool, show: DemoReporter) -> Iterator[Settings]:
    if not local:
        yield settings
        return
    from dogxray.local import Emulator

    show.note("starting the embedded emulator (moto + Lambda runtime + X-Ray daemon) ...")
    with Emulator(port=0) as emulator:
        yield replace(settings, endpoint_url=emulator.endpoint_url, region="us-east-1")


def run(
    settings: Settings,
    *,
    local: bool,
    triage: bool = False,
    tracer: Tracer = DEFAULT_TRACER,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], float] = time.time,
    reporter: DemoReporter | None = None,
) -> DemoReport:
    """Run stages 1-6 (with `triage`, the triage and Monitor labs' 7a-7g before the
    cleanup); always attempt cleanup once something was created."""
    from dogxray.core.aws import Aws

    show = reporter or SilentDemo()
    report = DemoReport()
    with _local_endpoint(settings, local, show) as demo_settings:
        aws = Aws(demo_settings)
        if not local:
            from dogxray.demo.own_lab import check_new_lab

            check_new_lab(aws)  # before anything is created: no cleanup stage either
        show.note(f"demo of the lab {demo_settings.lab!r} in {aws.backend}")
        runner = LabDemo(
            aws,
            demo_settings,
            report,
            sleep=sleep,
            clock=clock,
            now=now,
            reporter=show,
            tracer=tracer,
        )
        try:
            runner.stage("1-3", "Build the lab", runner.build)
            runner.stage("4", "Test the function", runner.test_ok)
            runner.stage("5a", "Read the traces", runner.traces_ok)
            runner.stage("5b", "Break the bucket", runner.break_it)
            runner.stage("5c", "Find the failure in X-Ray", runner.find_fault)
            runner.stage("5d", "Fix the bucket", runner.fix_it)
            if triage:
                from dogxray.demo.triage import Triage

                for number, title, body in Triage(runner).stages():
                    runner.stage(number, title, body)
            runner.write_html_report()
        except StageFailed:
            pass
        finally:
            runner.stage("6", "Clean up", runner.clean, always=True)
    return report


class LabDemo(StageRunner):
    """The main lab's stages (1-6), each a method run by `StageRunner.stage`."""

    fault_trace_id = ""

    def build(self, stage: Stage) -> None:
        from dogxray.lab import service

        self.show.narrate(
            "Console: S3 > Create bucket; IAM > Create role (S3, CloudWatch, X-Ray); Lambda > "
            "Create function (Python), paste the code, Configuration > Function URL (NONE), "
            "Environment variables > BUCKET_NAME, Monitoring > X-Ray active tracing."
        )
        if self.tracer is Tracer.otel:
            self.show.narrate(
                "Here the function traces its own work with OpenTelemetry instead of the "
                "X-Ray SDK: its spans go to Lambda's X-Ray daemon, as AWS's ADOT sends them."
            )
        result = service.setup(
            self.aws, SetupOptions(tracer=self.tracer.value), reporter=self.show.lab
        )
        self.url, self.bucket = result.function_url or "", result.bucket
        self.say(stage, f"bucket {self.bucket}")
        self.say(stage, f"role {result.role_arn}")
        self.say(
            stage,
            f"function {result.function_arn} (tracing Active, timeout 15 s, traced with "
            f"{self.tracer.described})",
        )
        self.say(stage, f"Function URL {self.url}")

    def test_ok(self, stage: Stage) -> None:
        self.show.narrate("Console: open the Function URL in a browser and look for a dog photo.")
        result = self.probe()
        self.say(
            stage,
            f"HTTP {result.status}, {result.content_type}, {result.bytes} bytes, "
            f"{result.latency_ms:.0f} ms",
        )
        if not result.ok:
            raise DogxrayError(result.failure or "the photo check failed")
        self.say(
            stage,
            f"the same bytes are in s3://{self.bucket}/{result.s3_key} "
            f"(sha256 {result.sha256[:12]}...)",
        )

    def _wait_for_traces(
        self, ready: Callable[[dict[str, Any]], bool], *, errors_only: bool
    ) -> list[dict[str, Any]]:
        """The traces of the last probed request that are `ready` (fully indexed), newest
        first; polls while X-Ray indexes them (~30-60 s on AWS, at once on the emulator)."""
        from dogxray.core.window import iso
        from dogxray.traces import service as traces

        since = (iso(self.probed_at - CLOCK_SKEW_S) if self.probed_at else None) or "10m"

        def done() -> list[dict[str, Any]] | None:
            found = traces.list_traces(
                self.aws,
                self.settings,
                since=since,
                errors_only=errors_only,
                warn=self.show.note,
                subsegments=True,
            ).to_json()["traces"]
            return [t for t in found if ready(t)] or None

        return self.wait_until(done, "X-Ray to index the traces") or []

    def traces_ok(self, stage: Stage) -> None:
        self.show.narrate("Console: CloudWatch > X-Ray traces > Traces; open the newest trace.")
        found = self._wait_for_traces(_complete, errors_only=False)
        if not found:
            raise DogxrayError(
                "no complete trace of the test request was found in X-Ray",
                hint="X-Ray may still be indexing it: run "
                f"`{self.settings.command('traces')}` in a minute",
            )
        subs = found[0]["subsegments"]
        self.say(
            stage,
            f"trace {found[0]['id']}: call_dog_api {subs.get('call_dog_api') or 0:.0f} ms, "
            f"save_dog_to_s3 {subs['save_dog_to_s3']:.0f} ms",
        )

    def break_it(self, stage: Stage) -> None:
        from dogxray.lab import service

        self.show.narrate(
            "Console: Configuration > Environment variables > BUCKET_NAME = "
            f"{BROKEN_BUCKET}; then reload the Function URL."
        )
        service.break_bucket(self.aws, BROKEN_BUCKET, reporter=self.show.lab)
        self.say(stage, f"BUCKET_NAME is now {BROKEN_BUCKET} (a bucket the function cannot write)")
        result = self.probe()
        body = (result.failure or "").split(": ", 1)[-1]
        self.say(stage, f"the Function URL now answers HTTP {result.status} {body}".rstrip())
        if result.status < 500:
            raise DogxrayError(f"expected a 5xx from the broken function, got {result.status}")

    def find_fault(self, stage: Stage) -> None:
        from dogxray.traces import service as traces

        self.show.narrate("Console: X-Ray traces, filter by fault, open the trace, Exceptions tab.")
        faults = self._wait_for_traces(_explained_fault, errors_only=True)
        if not faults:
            raise DogxrayError(
                "no fault trace with a root cause was found for the failed request",
                hint="X-Ray may still be indexing it: run "
                f"`{self.settings.command('traces --errors')}` in a minute",
            )
        self.fault_trace_id = faults[0]["id"]
        detail = traces.trace_detail(self.aws, self.fault_trace_id, warn=self.show.note)
        self.show.waterfall(detail, self.aws)
        cause = detail.root_cause
        if not cause or cause.get("segment") != "save_dog_to_s3":
            raise DogxrayError(f"expected the root cause on save_dog_to_s3, got {cause}")
        self.say(
            stage, f"root cause: {cause['segment']} raised {cause['exception']}: {cause['message']}"
        )

    def fix_it(self, stage: Stage) -> None:
        from dogxray.lab import service

        self.show.narrate("Console: set BUCKET_NAME back to the lab bucket.")
        service.fix_bucket(self.aws, reporter=self.show.lab)
        result = self.probe()
        if not result.ok:
            raise DogxrayError(result.failure or "the function still fails after the fix")
        self.say(
            stage, f"BUCKET_NAME restored; the Function URL answers HTTP {result.status} again"
        )

    def write_html_report(self) -> None:
        """Stage 5 as one HTML page (`dogxray report`), in a new temporary directory that
        outlives the demo (the demo writes nowhere else); never fails the demo."""
        import tempfile
        from pathlib import Path

        from dogxray.core.aws import ClientError
        from dogxray.monitor import report

        try:
            page = self.show.html_report(report.gather(self.aws, self.settings, since="1h"))
            if page is None:
                return
            path = Path(tempfile.mkdtemp(prefix="dogxray-report-")) / report.REPORT_NAME
            report.write(path, page)
        except (DogxrayError, ClientError) as exc:
            what = exc.what if isinstance(exc, DogxrayError) else str(exc)
            self.show.note(f"warning: no HTML report: {what}")
            return
        self.report.html_path = str(path)
        self.show.evidence(f"HTML report: {path}")

    def clean(self, stage: Stage) -> None:
        from dogxray.lab import service

        self.show.narrate("Console: delete the function, its log group, the role and the bucket.")
        result = service.cleanup(self.aws, reporter=self.show.lab)
        self.say(stage, f"deleted: {', '.join(result.deleted) or 'nothing'}")
        if result.remaining:
            raise DogxrayError(
                f"left behind: {', '.join(result.remaining)}",
                hint=f"remove the rest with `{self.settings.command('cleanup --yes')}`",
            )
        for kept in result.kept:
            self.say(stage, f"kept {kept.resource}: {kept.why}")
        if not result.kept:
            self.say(stage, "nothing is left under the lab's names and tags")
        self.say(stage, "X-Ray traces cannot be deleted; they expire after 30 days")


def _complete(trace: dict[str, Any]) -> bool:
    """A successful request's trace once X-Ray has all of it (the S3 step included; a
    trace whose documents X-Ray did not return yet has no subsegments: not yet)."""
    steps = trace["subsegments"] or {}
    return steps.get("save_dog_to_s3") is not None and not trace.get("partial")


def _explained_fault(trace: dict[str, Any]) -> bool:
    """A fault trace once X-Ray has the documents that carry its exception."""
    return bool(trace["fault"]) and trace["root_cause"] is not None
