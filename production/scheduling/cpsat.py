"""The optimising engine: OR-Tools CP-SAT, warm-started from the fast plan, never worse than it.

Model. Time runs on one axis: the working minutes of the union of all work-center calendars (when every
work center keeps the same calendar, as is usual, this is exact). An operation is a fixed-size interval
(its working minutes, stretched by its work center's share of the union's time when calendars differ);
routing steps are chained; a work center with k identical units is a cumulative resource of capacity k
(NoOverlap when k = 1) — with identical units any such plan can be assigned to units. Frozen operations
are fixed intervals. Objective: total weighted tardiness; then, with that bound kept, makespan.

Search. The whole model starts from a complete hint (every variable: starts, tardiness, makespan), so
CP-SAT begins at the seed plan. On small instances it proves optimality and then minimises makespan. On
larger ones its own search barely moves from the seed with 2 workers in a minute (measured: 0.04% on 200
work orders), so after GLOBAL_SHARE of the time a window search takes over (at once above
WHOLE_MODEL_OPERATIONS): free the operations of one time window of the best plan, fix the rest, solve that
small model exactly (WINDOW_SECONDS), re-time, keep it if better — centred mostly on late, heavy work orders
(windows.py: WindowSearch). A window's model counts each work order's lateness in wall-clock minutes, as the
plan does (an end that crosses a night or a weekend costs what it costs the plan). The window search runs one
lane per worker, each solving its own neighbourhood on one core, side by side. Each improvement is then
polished by the fast engine's local search (improve.py, a third of its budget): the new plan's critical paths
open moves no window holds (200-work-order bench plant, seed 1, 20 s, one run each: 1.015 of the 120-s
reference without, 1.008 and 1.021 with — within the runs' spread).

Measured on the bench's 1,000-work-order plant of seed 1, 60 s, one run each (weighted tardiness saved
against the fast plan): 1.03 % before; 1.57 % with the windows' lateness in wall-clock minutes; 2.21 % with
the whole model's phase skipped too; 3.12 % with two lanes (565 neighbourhoods solved instead of 293).

Every solution is re-timed on the exact calendars by the serial decoder in the order of its start times,
and the result is kept only if it beats the best plan so far on (weighted tardiness, makespan).

Stopping (Plan.details["stop_reason"]). "optimal": nothing is left to find on the objective — the seed has
no tardiness (no late work order: nothing can beat it on either objective; only the makespan phase runs),
CP-SAT proved the whole model optimal, the best plan's cost on the model reached the whole model's bound,
or a neighbourhood holding every free operation was solved to optimality without a gain (any other
neighbourhood is a part of it). "stalled": no gain for STALL_SECONDS and for STALL_SHARE of the time run so
far (each CP-SAT phase by this rule, on its own solutions), and in the window search over a number of
neighbourhoods in a row that grows with the plant (STALL_CALLS). "deadline": the time limit ended it. The
model counts working minutes on the axis, the plans wall-clock minutes, so a bound is compared with the
plan's cost on the axis (AxisCost), never with its weighted tardiness.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from ortools.sat.python import cp_model

from production.scheduling.calendar import Calendar, union
from production.scheduling.dispatch import decode
from production.scheduling.problem import (
    ON_TIME,
    STOP_OPTIMAL,
    Plan,
    Problem,
)
from production.scheduling.windows import LATE_JOB_COST, WindowSearch, axis_due, stalled

# Share of the time limit the whole model gets before the window search takes over.
GLOBAL_SHARE = 0.15
# Above this many free operations the whole model's search is skipped: at 1,000 work orders (2,500
# operations) its share of the minute found nothing and stalled, and the window search gains steadily there.
WHOLE_MODEL_OPERATIONS = 1500


def optimise(
    problem: Problem,
    *,
    seed: Plan,
    time_limit: float = 60.0,
    workers: int = 2,
    parameters: dict[str, Any] | None = None,
) -> Plan:
    started = time.perf_counter()
    if not problem.jobs:  # nothing to plan
        return _result(seed, seed, started=started, status_names=[], windows=None, stop_reason=STOP_OPTIMAL)
    axis = union(spec.calendar for spec in problem.work_centers.values())
    stretch = {
        key: (axis.total / spec.calendar.total if spec.calendar.total else 1.0)
        for key, spec in problem.work_centers.items()
    }

    def pos(t: int) -> int:
        return axis.position(max(0, t))

    model = cp_model.CpModel()
    cost = AxisCost(problem, axis)
    horizon = pos(seed.makespan) * 2 + sum(
        math.ceil(op.duration * stretch[op.work_center]) for job in problem.jobs for op in job.ops
    )
    starts: dict[Any, cp_model.IntVar] = {}
    intervals: dict[Any, list[cp_model.IntervalVar]] = {key: [] for key in problem.work_centers}
    blocked: dict[tuple[Any, int], int] = {}
    tardiness: list[cp_model.IntVar] = []
    weights: list[int] = []
    ends_last: list[cp_model.LinearExprT] = []
    late_flags: list[cp_model.IntVar] = []
    hint_end = 0
    hint_cost = 0  # the seed's objective on the model (its complete hint's)
    for job in problem.jobs:
        prev_end = None
        release = pos(job.release)
        hint_ready = 0
        for op in job.ops:
            if op.frozen:
                end = pos(op.frozen_end or 0)
                # As in the list scheduler, a unit is busy until the end of its last frozen operation.
                held = (op.work_center, op.frozen_unit or 0)
                blocked[held] = max(blocked.get(held, 0), end)
                release = max(release, end)
                continue
            size = max(1, math.ceil(op.duration * stretch[op.work_center]))
            start = model.new_int_var(0, horizon, f"s{op.key}")
            interval = model.new_fixed_size_interval_var(start, size, f"i{op.key}")
            intervals[op.work_center].append(interval)
            starts[op.key] = start
            model.add(start >= release)
            if prev_end is not None:
                model.add(start >= prev_end)
            prev_end = start + size
            placement = seed.placements.get(op.key)
            hinted = max(pos(placement.start) if placement is not None else 0, hint_ready)
            model.add_hint(start, hinted)
            hint_ready = hinted + size
        if prev_end is None:
            continue  # only frozen operations left: nothing to decide
        due = axis_due(axis, job.due)
        late = model.new_int_var(0, horizon + max(0, -due), f"t{job.key}")
        model.add(late >= prev_end - due)
        # A complete hint (every variable) is taken as a whole: the search starts from the seed plan.
        model.add_hint(late, max(0, hint_ready - due))
        hint_cost += job.weight * max(0, hint_ready - due)
        if job.firm and seed.job_end.get(job.key, due + 1) <= job.due:
            model.add(prev_end <= due)  # a promise the seed keeps stays kept
        if problem.objective == ON_TIME:
            is_late = model.new_bool_var(f"l{job.key}")
            model.add(prev_end <= due).only_enforce_if(is_late.Not())
            model.add_hint(is_late, hint_ready > due)
            hint_cost += LATE_JOB_COST * (hint_ready > due)
            late_flags.append(is_late)
        hint_end = max(hint_end, hint_ready)
        tardiness.append(late)
        weights.append(job.weight)
        ends_last.append(prev_end)
    for (key, unit), end in blocked.items():
        if end > 0:
            intervals[key].append(model.new_fixed_size_interval_var(0, end, f"f{key}/{unit}"))
    for key, spec in problem.work_centers.items():
        if not intervals[key]:
            continue
        if spec.units == 1:
            model.add_no_overlap(intervals[key])
        else:
            model.add_cumulative(intervals[key], [1] * len(intervals[key]), spec.units)
    if not starts:  # every operation started (frozen): nothing to decide
        return _result(seed, seed, started=started, status_names=[], windows=None, stop_reason=STOP_OPTIMAL)
    twt = sum(w * t for w, t in zip(weights, tardiness, strict=True)) + LATE_JOB_COST * sum(late_flags)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends_last)
    model.add_hint(makespan, hint_end)

    best = seed
    status_names: list[str] = []

    def solve(limit: float) -> cp_model.CpSolver | None:
        """Solve the whole model, stopped early when its own search stalls (windows.stalled on its solutions);
        a stopped search reports FEASIBLE."""
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.1, limit)
        solver.parameters.num_workers = max(1, workers)
        solver.parameters.random_seed = 7
        for name, value in (parameters or {}).items():
            setattr(solver.parameters, name, value)
        with _StallWatch(solver, started=started) as watch:
            status = solver.solve(model, watch)
        stalled = watch.stopped and status != cp_model.OPTIMAL
        status_names.append("STALLED" if stalled else solver.status_name(status))
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return solver
        return None

    def consider(solver: cp_model.CpSolver, phase: str) -> None:
        nonlocal best
        order = {key: float(solver.value(var)) for key, var in starts.items()}
        candidate = decode(problem, order, engine=f"cp-sat({phase})", started=started)
        if candidate.key() < best.key():
            best = candidate

    # Phase 1: the whole model on weighted tardiness, from the complete seed hint. Phase 2: window search
    # (small exact models) on the best plan so far. Phase 3, where the tardiness is proven least (a seed
    # with none, or the whole model finished): makespan with that tardiness kept.
    windows = None
    stop_reason = STOP_OPTIMAL
    first = None
    if seed.weighted_tardiness > 0 and len(starts) <= WHOLE_MODEL_OPERATIONS:
        model.minimize(twt)
        first = solve(time_limit * GLOBAL_SHARE)
        if first is not None:
            consider(first, "tardiness")
    if first is not None and status_names[-1] == "OPTIMAL":
        least = int(first.objective_value)
        model.clear_hints()
        for var in [*starts.values(), *tardiness, *late_flags, makespan]:  # complete: every variable hinted
            model.add_hint(var, first.value(var))
    elif seed.weighted_tardiness == 0:
        least = hint_cost  # no late work order: nothing can beat the seed's tardiness; keep it on the model
    else:
        least = -1
        bound = math.ceil(first.best_objective_bound) if first is not None else 0
        if cost(best) > bound:  # else the best plan so far already reached the bound: nothing to find
            windows = WindowSearch(problem, axis, stretch, workers, started, cost=cost, bound=bound)
            best = windows.run(best, deadline=started + time_limit)
            stop_reason = windows.stop_reason
    if least >= 0:
        model.add(twt <= least)
        model.minimize(makespan)
        remaining = time_limit - (time.perf_counter() - started)
        second = solve(remaining) if remaining > 0.5 else None
        if second is not None:
            consider(second, "makespan")
    return _result(
        seed, best, started=started, status_names=status_names, windows=windows, stop_reason=stop_reason
    )


def _result(
    seed: Plan,
    best: Plan,
    *,
    started: float,
    status_names: list[str],
    windows: WindowSearch | None,
    stop_reason: str,
) -> Plan:
    """The optimiser's plan: the best one, with what it started from, what it did and why it stopped."""
    return Plan(
        best.placements,
        best.job_end,
        best.weighted_tardiness,
        best.makespan,
        method="optimised",
        engine=best.engine if best is not seed else f"seed:{seed.engine}",
        seconds=time.perf_counter() - started,
        late_jobs=best.late_jobs,
        broken_promises=best.broken_promises,
        objective=best.objective,
        details={
            **seed.details,
            "seed_engine": seed.engine,
            "seed_weighted_tardiness": seed.weighted_tardiness,
            "seed_makespan": seed.makespan,
            "solver_status": status_names,
            "improved": best is not seed,
            "window_calls": windows.calls if windows else 0,
            "window_improvements": windows.improvements if windows else 0,
            "neighbourhoods": windows.kinds if windows else {},
            "restarts": windows.restarts if windows else 0,
            "polished": windows.polished if windows else 0,
            "stop_reason": stop_reason,
        },
    )


class _StallWatch(cp_model.CpSolverSolutionCallback):
    """Stops a CP-SAT search that has stalled: no new solution (each is better than the last) since the
    latest, or since the search began, by windows.stalled. CP-SAT calls back only on a solution, so a thread
    looks at the clock; CpSolver.stop_search is made to be called from another thread."""

    POLL = 0.1  # seconds between looks

    def __init__(self, solver: cp_model.CpSolver, *, started: float) -> None:
        super().__init__()
        self.solver = solver
        self.started = started
        self.last = time.perf_counter()
        self.stopped = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cp-sat-stall", daemon=True)

    def on_solution_callback(self) -> None:
        self.last = time.perf_counter()

    def _watch(self) -> None:
        while not self._done.wait(self.POLL):
            if stalled(time.perf_counter(), last=self.last, started=self.started):
                self.stopped = True
                self.solver.stop_search()
                return

    def __enter__(self) -> _StallWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


class AxisCost:
    """A plan's objective on the model's scale: weighted tardiness in working minutes of the axis (plus
    LATE_JOB_COST per late work order on the on-time objective), over the work orders the model holds. It is
    what CP-SAT's bound bounds; a plan's weighted tardiness counts wall-clock minutes (nights, weekends)."""

    def __init__(self, problem: Problem, axis: Calendar) -> None:
        self.on_time = problem.objective == ON_TIME
        self.jobs = [
            (job.key, job.weight, axis_due(axis, job.due))
            for job in problem.jobs
            if any(not op.frozen for op in job.ops)
        ]
        self.axis = axis

    def __call__(self, plan: Plan) -> int:
        total = 0
        for key, weight, due in self.jobs:
            late = self.axis.position(max(0, plan.job_end[key])) - due
            if late > 0:
                total += weight * late + (LATE_JOB_COST if self.on_time else 0)
        return total
