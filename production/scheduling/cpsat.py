"""The optimising engine: OR-Tools CP-SAT, warm-started from the fast plan, never worse than it.

Model. Time runs on one axis: the working minutes of the union of all work-center calendars (when every
work center keeps the same calendar, as is usual, this is exact). An operation is a fixed-size interval
(its working minutes, stretched by its work center's share of the union's time when calendars differ);
routing steps are chained; a work center with k identical units is a cumulative resource of capacity k
(NoOverlap when k = 1) — with identical units any such plan can be assigned to units. Frozen operations
are fixed intervals. Objective: total weighted tardiness; then, with that bound kept, makespan.

Every solution is re-timed on the exact calendars by the serial decoder in the order of its start times,
and the result is kept only if it beats the seed on (weighted tardiness, makespan).
"""

from __future__ import annotations

import math
import time
from typing import Any

from ortools.sat.python import cp_model

from .calendar import union
from .dispatch import decode
from .problem import Plan, Problem


def optimise(
    problem: Problem,
    *,
    seed: Plan,
    time_limit: float = 60.0,
    workers: int = 2,
    parameters: dict[str, Any] | None = None,
) -> Plan:
    started = time.perf_counter()
    if not problem.jobs:
        return seed
    axis = union(spec.calendar for spec in problem.work_centers.values())
    stretch = {
        key: (axis.total / spec.calendar.total if spec.calendar.total else 1.0)
        for key, spec in problem.work_centers.items()
    }

    def pos(t: int) -> int:
        return axis.position(max(0, t))

    model = cp_model.CpModel()
    horizon = pos(seed.makespan) * 2 + sum(
        math.ceil(op.duration * stretch[op.work_center]) for job in problem.jobs for op in job.ops
    )
    starts: dict[Any, cp_model.IntVar] = {}
    intervals: dict[Any, list] = {key: [] for key in problem.work_centers}
    blocked: dict[tuple[Any, int], int] = {}
    tardiness = []
    weights = []
    ends_last = []
    hint_end = 0
    for job in problem.jobs:
        prev_end = None
        release = pos(job.release)
        hint_ready = 0
        for op in job.ops:
            if op.frozen:
                end = pos(op.frozen_end or 0)
                # As in the list scheduler, a unit is busy until the end of its last frozen operation.
                unit = (op.work_center, op.frozen_unit or 0)
                blocked[unit] = max(blocked.get(unit, 0), end)
                release = max(release, end)
                continue
            size = max(1, math.ceil(op.duration * stretch[op.work_center]))
            start = model.NewIntVar(0, horizon, f"s{op.key}")
            interval = model.NewFixedSizeIntervalVar(start, size, f"i{op.key}")
            intervals[op.work_center].append(interval)
            starts[op.key] = start
            model.Add(start >= release)
            if prev_end is not None:
                model.Add(start >= prev_end)
            prev_end = start + size
            placement = seed.placements.get(op.key)
            hinted = max(pos(placement.start) if placement is not None else 0, hint_ready)
            model.AddHint(start, hinted)
            hint_ready = hinted + size
        if prev_end is None:
            continue  # only frozen operations left: nothing to decide
        due = pos(job.due) if job.due > 0 else -axis.working_between(job.due, 0)
        late = model.NewIntVar(0, horizon + max(0, -due), f"t{job.key}")
        model.Add(late >= prev_end - due)
        # A complete hint (every variable) is taken as a whole: the search starts from the seed plan.
        model.AddHint(late, max(0, hint_ready - due))
        hint_end = max(hint_end, hint_ready)
        tardiness.append(late)
        weights.append(job.weight)
        ends_last.append(prev_end)
    for (key, unit), end in blocked.items():
        if end > 0:
            intervals[key].append(model.NewFixedSizeIntervalVar(0, end, f"f{key}/{unit}"))
    for key, spec in problem.work_centers.items():
        if not intervals[key]:
            continue
        if spec.units == 1:
            model.AddNoOverlap(intervals[key])
        else:
            model.AddCumulative(intervals[key], [1] * len(intervals[key]), spec.units)
    if not starts:
        return seed
    twt = sum(w * t for w, t in zip(weights, tardiness, strict=True))
    makespan = model.NewIntVar(0, horizon, "makespan")
    model.AddMaxEquality(makespan, ends_last)
    model.AddHint(makespan, hint_end)

    best = seed
    status_names = []

    def solve(limit: float) -> cp_model.CpSolver | None:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.1, limit)
        solver.parameters.num_workers = max(1, workers)
        solver.parameters.random_seed = 7
        for name, value in (parameters or {}).items():
            setattr(solver.parameters, name, value)
        status = solver.Solve(model)
        status_names.append(solver.StatusName(status))
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return solver
        return None

    def consider(solver: cp_model.CpSolver, phase: str) -> None:
        nonlocal best
        order = {key: float(solver.Value(var)) for key, var in starts.items()}
        candidate = decode(problem, order, engine=f"cp-sat({phase})", started=started)
        if candidate.key() < best.key():
            best = candidate

    # Phase 1: weighted tardiness (most of the time); phase 2: makespan with that tardiness kept.
    model.Minimize(twt)
    first = solve(time_limit * 0.8)
    if first is not None:
        consider(first, "tardiness")
        bound = int(first.ObjectiveValue())
        model.ClearHints()
        for var in [*starts.values(), *tardiness, makespan]:  # complete: every variable hinted
            model.AddHint(var, first.Value(var))
        model.Add(twt <= bound)
        model.Minimize(makespan)
        remaining = time_limit - (time.perf_counter() - started)
        second = solve(remaining) if remaining > 0.5 else None
        if second is not None:
            consider(second, "makespan")
    result = Plan(
        best.placements,
        best.job_end,
        best.weighted_tardiness,
        best.makespan,
        method="optimised",
        engine=best.engine if best is not seed else f"seed:{seed.engine}",
        seconds=time.perf_counter() - started,
        details={
            **seed.details,
            "seed_engine": seed.engine,
            "seed_weighted_tardiness": seed.weighted_tardiness,
            "seed_makespan": seed.makespan,
            "solver_status": status_names,
            "improved": best is not seed,
        },
    )
    return result
