"""Run one plan: its phases, by an executor or by its display-only twin.

`setup` plans once; `split` cuts that list by kind into the lanes that run at the same
time (the bucket; the role and its log group) and the steps that follow. The same
`Phases` go to the real `Executor` or to `DisplayOnly` (as chalice's display-only
executor), so `setup --dry-run` lists exactly the steps `setup` then runs.

Each lane records into a `Run` of its own (its thread alone writes it); the lanes' runs
are merged in lane order after both finished, so nothing is shared between threads but
the executor, whose only per-run state (when the role last changed) only the role lane
writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from dogxray.lab.models import Outputs, Step
from dogxray.lab.progress import SILENT, Reporter

# The kinds `setup` changes at once (two lanes: the role propagates while the bucket is
# made); every other step follows, in the plan's order, once both lanes are done.
PARALLEL_LANES: tuple[frozenset[str], ...] = (
    frozenset({"bucket"}),
    frozenset({"role", "log-group"}),
)


@dataclass(frozen=True)
class Phases:
    """One plan cut for execution: `lanes` run at the same time, then `then` in order.
    `steps()` is the plan again, in the order `setup --dry-run` prints it."""

    lanes: tuple[tuple[Step, ...], ...]
    then: tuple[Step, ...]

    def steps(self) -> list[Step]:
        return [st for lane in self.lanes for st in lane] + list(self.then)


def split(steps: Iterable[Step], lanes: tuple[frozenset[str], ...] = PARALLEL_LANES) -> Phases:
    """Cut a plan by its steps' kinds, keeping the plan's order inside each phase. The
    planner puts every lane's steps before the rest, so `split(p).steps() == p`."""
    plan = list(steps)
    laned = frozenset().union(*lanes)
    return Phases(
        lanes=tuple(tuple(st for st in plan if st.kind in kinds) for kinds in lanes),
        then=tuple(st for st in plan if st.kind not in laned),
    )


class StepExecutor(Protocol):
    """What runs a step: `Executor` (the API call) or `DisplayOnly` (nothing)."""

    @property
    def reporter(self) -> Reporter: ...

    def run_one(self, step: Step) -> object: ...


class DisplayOnly:
    """The dry-run twin of `Executor`: runs nothing and reports nothing; the `Run` it
    leaves lists the steps, which `--dry-run` prints."""

    reporter: Reporter = SILENT

    def run_one(self, step: Step) -> object:
        return None


@dataclass
class Run:
    """What running steps left: the steps in the order run, each step name once (the
    `changed` list) and the typed outputs the steps declared (`Step.produces`)."""

    steps: list[Step] = field(default_factory=list)
    outputs: Outputs = field(default_factory=Outputs)

    @property
    def changed(self) -> list[str]:
        return list(dict.fromkeys(st.name for st in self.steps))

    def merge(self, other: Run) -> None:
        self.steps += other.steps
        self.outputs.merge(other.outputs)


def run_steps(executor: StepExecutor, steps: Iterable[Step]) -> Run:
    """Run `steps` in order (each reported first); a failure stops at that step."""
    done = Run()
    for step in steps:
        executor.reporter.progress(step.message)
        reply = executor.run_one(step)
        if step.produces is not None:
            done.outputs.record(step.produces, reply)
        done.steps.append(step)
    return done


def run_phases(executor: StepExecutor, phases: Phases) -> Run:
    """The lanes at the same time (each into its own `Run`), merged in lane order, then
    the rest. The first lane's failure is raised once every lane has stopped."""
    done = Run()
    busy = [lane for lane in phases.lanes if lane]
    if len(busy) > 1:
        with ThreadPoolExecutor(max_workers=len(busy)) as pool:
            futures = [pool.submit(run_steps, executor, lane) for lane in busy]
            for future in futures:
                done.merge(future.result())
    elif busy:
        done.merge(run_steps(executor, busy[0]))
    done.merge(run_steps(executor, phases.then))
    return done
