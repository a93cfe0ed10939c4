"""The scheduling problem and plan, independent of Django (minutes from the plan's origin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from production.scheduling.calendar import Calendar

# Weight of a unit of tardiness by customer tier (VIP ≫ key > standard); the order priority multiplies it
# (x2 per step above the tier's default priority, /2 per step below). Integers, for CP-SAT.
TIER_WEIGHT = {"standard": 2, "key": 6, "vip": 40}
TIER_DEFAULT_PRIORITY = {"standard": 2, "key": 3, "vip": 4}


WEIGHTED_TARDINESS, ON_TIME = "weighted_tardiness", "on_time"
OBJECTIVES = (WEIGHTED_TARDINESS, ON_TIME)

# Why the optimiser stopped (Plan.details["stop_reason"], production.scheduling.cpsat): nothing better was
# left to find, it had stopped improving, or its time limit ended it.
STOP_OPTIMAL, STOP_STALLED, STOP_DEADLINE = "optimal", "stalled", "deadline"


def job_weight(tier: str, priority: int) -> int:
    base = TIER_WEIGHT.get(tier, TIER_WEIGHT["standard"])
    steps = int(priority) - TIER_DEFAULT_PRIORITY.get(tier, 2)
    return max(1, int(base * (2.0**steps)))


class ProblemError(Exception):
    """Bad input that must be fixed before planning; `subject` names the thing to fix."""

    def __init__(self, message: str, *, code: str, subject: str) -> None:
        super().__init__(message)
        self.code = code
        self.subject = subject


@dataclass
class WorkCenterSpec:
    key: Any
    units: int
    calendar: Calendar
    label: str = ""

    @property
    def stretch(self) -> float:
        """Wall-clock minutes per working minute, on average over the horizon."""
        if not self.calendar.total:
            return 1.0
        span = self.calendar.ends[-1] - self.calendar.starts[0]
        return max(1.0, span / self.calendar.total)


@dataclass
class Op:
    key: Any
    work_center: Any
    duration: int  # working minutes at this work center (efficiency applied), ≥ 1
    # Started operations are frozen: never moved, kept on their unit.
    frozen_unit: int | None = None
    frozen_start: int | None = None
    frozen_end: int | None = None

    @property
    def frozen(self) -> bool:
        return self.frozen_end is not None


@dataclass
class Job:
    """A work order: its remaining operations in routing order."""

    key: Any
    ops: list[Op]
    due: int
    weight: int = 1
    release: int = 0
    tier: str = "standard"
    group: Any = None  # the sales order
    # A quoted promise (capable_to_promise's date became this job's due): the engines keep it whenever it
    # can be kept, before any objective (Plan.key), so a promise the quote made is not broken by the plan.
    firm: bool = False


@dataclass
class Problem:
    work_centers: dict[Any, WorkCenterSpec]
    jobs: list[Job]
    horizon: int = 0
    objective: str = WEIGHTED_TARDINESS  # or ON_TIME (the planner's choice: what "better" means)

    def validate(self) -> None:
        for job in self.jobs:
            if not job.ops:
                raise ProblemError(
                    f"Work order {job.key} has no operations to plan.",
                    code="no_operations",
                    subject=str(job.key),
                )
            for op in job.ops:
                spec = self.work_centers.get(op.work_center)
                if spec is None:
                    raise ProblemError(
                        f"Operation {op.key} of {job.key} uses an unknown work center {op.work_center}.",
                        code="unknown_work_center",
                        subject=str(op.work_center),
                    )
                if spec.units < 1 or spec.calendar.total <= 0:
                    raise ProblemError(
                        f"Work center {spec.label or spec.key} has no capacity in the planning horizon: "
                        "give it units and shifts.",
                        code="no_capacity",
                        subject=str(spec.label or spec.key),
                    )
                if op.duration < 1:
                    raise ProblemError(
                        f"Operation {op.key} of {job.key} has no duration.",
                        code="no_duration",
                        subject=str(op.key),
                    )


@dataclass
class Placement:
    unit: int
    start: int
    end: int
    frozen: bool = False


@dataclass
class Plan:
    placements: dict[Any, Placement]  # op key → placement
    job_end: dict[Any, int]
    weighted_tardiness: int
    makespan: int
    method: str
    engine: str
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    late_jobs: int = 0
    broken_promises: int = 0  # firm jobs late
    objective: str = WEIGHTED_TARDINESS

    def key(self) -> tuple[int, ...]:
        """Plans compare by broken firm promises, then the objective: total weighted tardiness (then
        makespan), or the number of late work orders (then weighted tardiness, makespan)."""
        if self.objective == ON_TIME:
            return (self.broken_promises, self.late_jobs, self.weighted_tardiness, self.makespan)
        return (self.broken_promises, self.weighted_tardiness, self.makespan)


def make_plan(
    problem: Problem, placements: dict[Any, Placement], *, method: str, engine: str, seconds: float = 0.0
) -> Plan:
    """A Plan of `placements`, scored on `problem`'s objective."""
    job_end: dict[Any, int] = {}
    twt = makespan = late = broken = 0
    for job in problem.jobs:
        end = max(placements[op.key].end for op in job.ops)
        job_end[job.key] = end
        if end > job.due:
            twt += job.weight * (end - job.due)
            late += 1
            broken += int(job.firm)
        makespan = max(makespan, end)
    return Plan(
        placements,
        job_end,
        twt,
        makespan,
        method,
        engine,
        seconds=seconds,
        late_jobs=late,
        broken_promises=broken,
        objective=problem.objective,
    )


def evaluate(problem: Problem, placements: dict[Any, Placement]) -> tuple[dict[Any, int], int, int]:
    job_end: dict[Any, int] = {}
    twt = 0
    makespan = 0
    for job in problem.jobs:
        end = max(placements[op.key].end for op in job.ops)
        job_end[job.key] = end
        twt += job.weight * max(0, end - job.due)
        makespan = max(makespan, end)
    return job_end, twt, makespan


def on_time_rate(problem: Problem, plan: Plan, *, tier: str | None = None, weighted: bool = False) -> float:
    jobs = [job for job in problem.jobs if tier is None or job.tier == tier]
    if not jobs:
        return 1.0
    total = sum(job.weight if weighted else 1 for job in jobs)
    good = sum((job.weight if weighted else 1) for job in jobs if plan.job_end[job.key] <= job.due)
    return good / total
