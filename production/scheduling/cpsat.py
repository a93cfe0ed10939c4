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
work orders), so after GLOBAL_SHARE of the time a window search takes over: free the operations of one
time window of the best plan, fix the rest, solve that small model exactly (WINDOW_SECONDS), re-time,
keep it if better — centred mostly on late, heavy work orders (see _WindowSearch). Each improvement is then
polished by the fast engine's local search (improve.py, a third of its budget): the new plan's critical paths
open moves no window holds (200-work-order bench plant, seed 1, 20 s, one run each: 1.015 of the 120-s
reference without, 1.008 and 1.021 with — within the runs' spread).

Every solution is re-timed on the exact calendars by the serial decoder in the order of its start times,
and the result is kept only if it beats the best plan so far on (weighted tardiness, makespan).
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from ortools.sat.python import cp_model

from production.scheduling.calendar import Calendar, union
from production.scheduling.dispatch import decode
from production.scheduling.improve import improve
from production.scheduling.problem import ON_TIME, Plan, Problem

# On the on-time objective, a late work order costs this much more than a weighted minute of tardiness.
LATE_JOB_COST = 1_000_000
# The search stops early when this many neighbourhoods in a row (and a quarter of its time) found nothing;
# after half as many it restarts (another neighbourhood kind, another size, the seed's sequence mixed in).
STALL_CALLS = 120

# Share of the time limit the whole model gets before the window search takes over.
GLOBAL_SHARE = 0.15
# Time limit of one window's model: many quick windows beat a few long ones.
WINDOW_SECONDS = 0.5
# Operation-decodings of the local search after each improvement (a third of the fast engine's).
POLISH_BUDGET = 100_000


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
    intervals: dict[Any, list[cp_model.IntervalVar]] = {key: [] for key in problem.work_centers}
    blocked: dict[tuple[Any, int], int] = {}
    tardiness: list[cp_model.IntVar] = []
    weights: list[int] = []
    ends_last: list[cp_model.LinearExprT] = []
    late_flags: list[cp_model.IntVar] = []
    hint_end = 0
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
        due = pos(job.due) if job.due > 0 else -axis.working_between(job.due, 0)
        late = model.new_int_var(0, horizon + max(0, -due), f"t{job.key}")
        model.add(late >= prev_end - due)
        # A complete hint (every variable) is taken as a whole: the search starts from the seed plan.
        model.add_hint(late, max(0, hint_ready - due))
        if job.firm and seed.job_end.get(job.key, due + 1) <= job.due:
            model.add(prev_end <= due)  # a promise the seed keeps stays kept
        if problem.objective == ON_TIME:
            is_late = model.new_bool_var(f"l{job.key}")
            model.add(prev_end <= due).only_enforce_if(is_late.Not())
            model.add_hint(is_late, hint_ready > due)
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
    if not starts:
        return seed
    twt = sum(w * t for w, t in zip(weights, tardiness, strict=True)) + LATE_JOB_COST * sum(late_flags)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends_last)
    model.add_hint(makespan, hint_end)

    best = seed
    status_names: list[str] = []

    def solve(limit: float) -> cp_model.CpSolver | None:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.1, limit)
        solver.parameters.num_workers = max(1, workers)
        solver.parameters.random_seed = 7
        for name, value in (parameters or {}).items():
            setattr(solver.parameters, name, value)
        status = solver.solve(model)
        status_names.append(solver.status_name(status))
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
    # (small exact models) on the best plan so far. Phase 3, on small instances where the whole model
    # finished: makespan with that tardiness kept.
    model.minimize(twt)
    first = solve(time_limit * GLOBAL_SHARE)
    if first is not None:
        consider(first, "tardiness")
    finished = first is not None and status_names[-1] == "OPTIMAL"
    windows = None
    if not finished:
        windows = _WindowSearch(problem, axis, stretch, workers, started)
        best = windows.run(best, deadline=started + time_limit)
    elif first is not None:
        bound = int(first.objective_value)
        model.clear_hints()
        for var in [*starts.values(), *tardiness, *late_flags, makespan]:  # complete: every variable hinted
            model.add_hint(var, first.value(var))
        model.add(twt <= bound)
        model.minimize(makespan)
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
            "stopped_early": windows.stopped_early if windows else False,
        },
    )
    return result


class _WindowSearch:
    """Large-neighbourhood search with small CP-SAT models: free the operations of one time window of
    the best plan, keep everything else where it is, re-sequence the window optimally, and keep the
    result when the re-timed plan is better.

    Why: on a few hundred operations and more, the global model's own search (2 workers) barely moves
    from the seed within a minute; many small exact sub-problems improve steadily. Windows centre on the
    last operation of a late, heavy work order most of the time, elsewhere at random; their size adapts
    (larger while sub-problems solve to optimality, smaller when they time out).
    """

    def __init__(
        self, problem: Problem, axis: Calendar, stretch: dict[Any, float], workers: int, started: float
    ) -> None:
        self.problem = problem
        self.axis = axis
        self.workers = workers
        self.started = started
        self.size: dict[Any, int] = {}
        self.job_of: dict[Any, Any] = {}
        self.pred: dict[Any, Any] = {}
        self.succ: dict[Any, Any] = {}
        self.last: dict[Any, Any] = {}  # job key → its last operation key
        self.jobs = {job.key: job for job in problem.jobs}
        self.units = {key: spec.units for key, spec in problem.work_centers.items()}
        self.wc: dict[Any, Any] = {}
        self.release: dict[Any, int] = {}
        self.blocked: dict[Any, list[int]] = {}  # work center → ends of frozen blocks (one per unit)
        for job in problem.jobs:
            release = self.pos(job.release)
            previous = None
            for op in job.ops:
                if op.frozen:
                    self.blocked.setdefault(op.work_center, []).append(self.pos(op.frozen_end or 0))
                    release = max(release, self.pos(op.frozen_end or 0))
                    continue
                self.size[op.key] = max(1, math.ceil(op.duration * stretch[op.work_center]))
                self.job_of[op.key] = job.key
                self.wc[op.key] = op.work_center
                self.release[op.key] = release
                if previous is not None:
                    self.pred[op.key] = previous
                    self.succ[previous] = op.key
                previous = op.key
            if previous is not None:
                self.last[job.key] = previous
        self.due = {
            job.key: self.pos(job.due) if job.due > 0 else -axis.working_between(job.due, 0)
            for job in problem.jobs
        }
        self.window = 30
        self.rng = random.Random(11)  # noqa: S311 (reproducible search, not security)
        self.calls = 0
        self.improvements = 0
        self.restarts = 0
        self.stopped_early = False
        self.kinds: dict[str, int] = {}  # neighbourhood kind → improvements it found
        self.polished = 0  # improvements the local search added after one
        self.on_time = problem.objective == ON_TIME

    def pos(self, t: int) -> int:
        return self.axis.position(max(0, t))

    def run(self, best: Plan, *, deadline: float) -> Plan:
        keys = list(self.size)
        if len(keys) < 2:
            return best
        budget = deadline - time.perf_counter()
        stalled = 0
        kinds = ("window", "window", "work_center", "random")
        while time.perf_counter() < deadline - 0.05:
            if stalled >= STALL_CALLS and time.perf_counter() > deadline - 0.75 * budget:
                self.stopped_early = True  # it stopped improving: give the cores back
                break
            if stalled and stalled % (STALL_CALLS // 2) == 0:
                self.restarts += 1  # restart: another size, another stream of neighbourhoods
                self.window = 30 + 10 * (self.restarts % 4)
                self.rng.seed(11 + self.restarts)
            start = {key: self.pos(best.placements[key].start) for key in keys}
            ordered = sorted(keys, key=lambda key: (start[key], str(key)))
            index = {key: i for i, key in enumerate(ordered)}
            centre = self._centre(best, ordered, index)
            kind = kinds[self.calls % len(kinds)]
            chosen = self._neighbourhood(kind, ordered, centre)
            limit = min(WINDOW_SECONDS, max(0.05, deadline - time.perf_counter()))
            new_start, optimal = self._solve(chosen, start, limit, best)
            self.calls += 1
            # Grow the neighbourhood while it is solved to optimality, shrink it when it is not.
            self.window = min(250, int(self.window * 1.1) + 1) if optimal else max(12, int(self.window * 0.8))
            stalled += 1
            if new_start is None:
                continue
            order = {key: float(new_start.get(key, start[key])) for key in keys}
            candidate = decode(self.problem, order, engine=f"cp-sat({kind})", started=self.started)
            if candidate.key() < best.key():
                self.improvements += 1
                self.kinds[kind] = self.kinds.get(kind, 0) + 1
                stalled = 0
                best = self._polish(candidate, deadline)
        return best

    def _polish(self, plan: Plan, deadline: float) -> Plan:
        """The fast engine's local search from a plan the window search improved: a new plan opens moves
        (critical paths changed) that no time window holds; cheap (POLISH_BUDGET decodings), never worse."""
        if time.perf_counter() > deadline - 1.0:
            return plan
        polished = improve(
            self.problem, plan, started=time.perf_counter(), budget_seconds=1.0, budget=POLISH_BUDGET
        )
        if polished.key() < plan.key():
            self.polished += 1
            return polished
        return plan

    def _neighbourhood(self, kind: str, ordered: list[Any], centre: int) -> list[Any]:
        """The operations to free: a time window around `centre`; the operations of the centre's work
        center over a longer stretch (re-sequence one machine); or a random half of a double window
        (relax-and-fix: the rest of the window stays put)."""
        half = self.window // 2
        if kind == "work_center":
            wc = self.wc[ordered[centre]]
            same = [key for key in ordered if self.wc[key] == wc]
            at = same.index(ordered[centre])
            return same[max(0, at - half) : at + half + 1]
        if kind == "random":
            wide = ordered[max(0, centre - 2 * half) : centre + 2 * half + 1]
            chosen = [key for key in wide if self.rng.random() < 0.5]
            return chosen if len(chosen) >= 2 else wide
        return ordered[max(0, centre - half) : centre + half + 1]

    def _centre(self, best: Plan, ordered: list[Any], index: dict[Any, int]) -> int:
        late = [
            (job.weight * (best.job_end[job.key] - job.due), job.key)
            for job in self.problem.jobs
            if best.job_end[job.key] > job.due and job.key in self.last
        ]
        if late and self.rng.random() < 0.75:
            total = sum(weight for weight, _ in late)
            pick = self.rng.uniform(0, total)
            for weight, job_key in late:
                pick -= weight
                if pick <= 0:
                    return index[self.last[job_key]]
        return self.rng.randrange(len(ordered))

    def _solve(
        self, chosen: list[Any], start: dict[Any, int], limit: float, best: Plan
    ) -> tuple[dict[Any, int] | None, bool]:
        free = set(chosen)
        lo = min(start[key] for key in chosen)
        hi = max(start[key] + self.size[key] for key in chosen)
        model = cp_model.CpModel()
        var: dict[Any, cp_model.IntVar] = {}
        intervals: dict[Any, list[cp_model.IntervalVar]] = {}
        for key in chosen:
            var[key] = model.new_int_var(lo, hi - self.size[key], f"s{key}")
            model.add_hint(var[key], start[key])
            intervals.setdefault(self.wc[key], []).append(
                model.new_fixed_size_interval_var(var[key], self.size[key], f"i{key}")
            )
            model.add(var[key] >= self.release[key])
            pred = self.pred.get(key)
            if pred is not None:
                if pred in free:
                    model.add(var[key] >= var[pred] + self.size[pred])
                else:
                    model.add(var[key] >= start[pred] + self.size[pred])
            succ = self.succ.get(key)
            if succ is not None and succ not in free:
                model.add(var[key] + self.size[key] <= start[succ])
        # Operations outside the window that overlap its span stay put and take their capacity.
        for key, begin in start.items():
            if key in free or self.wc[key] not in intervals:
                continue
            end = begin + self.size[key]
            if begin < hi and end > lo:
                intervals[self.wc[key]].append(
                    model.new_fixed_size_interval_var(begin, self.size[key], f"f{key}")
                )
        for wc, items in intervals.items():
            for unit_end in self.blocked.get(wc, []):
                if unit_end > lo:
                    items.append(model.new_fixed_size_interval_var(0, unit_end, f"b{wc}{unit_end}"))
            if self.units[wc] == 1:
                model.add_no_overlap(items)
            else:
                model.add_cumulative(items, [1] * len(items), self.units[wc])
        terms: list[cp_model.LinearExprT] = []
        for key in chosen:
            job_key = self.job_of[key]
            if self.last[job_key] != key:
                continue
            job = self.jobs[job_key]
            due = self.due[job_key]
            late = model.new_int_var(0, max(0, hi - due), f"t{key}")
            model.add(late >= var[key] + self.size[key] - due)
            model.add_hint(late, max(0, start[key] + self.size[key] - due))
            terms.append(job.weight * late)
            kept = best.job_end[job_key] <= job.due
            if job.firm and kept:
                model.add(var[key] + self.size[key] <= due)
            if self.on_time:
                is_late = model.new_bool_var(f"l{key}")
                model.add(var[key] + self.size[key] <= due).only_enforce_if(is_late.Not())
                model.add_hint(is_late, start[key] + self.size[key] > due)
                terms.append(LATE_JOB_COST * is_late)
        # Weighted tardiness only: the decoder shifts every operation as early as the new order allows.
        model.minimize(sum(terms))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = limit
        solver.parameters.num_workers = max(1, self.workers)
        solver.parameters.random_seed = 7 + self.calls
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, False
        return {key: solver.value(v) for key, v in var.items()}, status == cp_model.OPTIMAL
