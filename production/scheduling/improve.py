"""The fast engine's improvement pass: after ATC, a bounded local search on the plan's sequence.

The plan is encoded as one priority key per operation (its start time) and decoded by the serial
scheduler (dispatch.serial: calendar-exact, finite capacity, precedence, release, frozen operations). Moves:
- keep a promise: a firm job (a quoted promise) that is late goes first (its keys before everything);
- advance a late job: its operations' keys move earlier by a share of its lateness (chosen in proportion
  to its weighted tardiness, or on the on-time objective among the nearly on-time);
- yield: a job with slack (or, on the on-time objective, one that is late anyway) moves later;
- swap two neighbouring jobs on a critical (most loaded) work center.
A move is kept when the decoded plan is no worse (Plan.key); ties are kept so the search can drift.

Deterministic: a fixed number of decodings per instance size (MOVE_BUDGET operation-decodings) and a seeded
generator. The fast plan must come in under a second whatever the machine's load, so a wall-clock safety cap
(FAST_SECONDS, counted from the start of the whole fast solve, ATC included) ends the pass early as a last
resort: the move budget takes 0.05-0.4 s on an idle machine at 20-1,000 work orders, so the cap bites only
on a machine two to three times slower than that; then the plan may differ between runs, and its details say
so (improve_capped).
"""

from __future__ import annotations

import random
import time
from typing import Any

from production.scheduling.dispatch import Flat, serial
from production.scheduling.problem import ON_TIME, Plan, Problem, make_plan

# Operation-decodings the pass may spend (an n-operation decoding costs n): about 0.2-0.4 s of Python.
MOVE_BUDGET = 50_000
MAX_MOVES = 400
# Firm promises repaired per plan (each costs a decoding): a few new orders arrive between two plans.
MAX_REPAIRS = 12
# Large plans: ATC alone is within a fraction of a percent of a long search there (bench `scheduler`),
# and a decoding costs 50-300 ms on a shared machine: no moves, only the firm promises' repairs.
LARGE_OPERATIONS = 2000
FAST_SECONDS = 0.8


def improve(problem: Problem, plan: Plan, *, started: float, budget_seconds: float = FAST_SECONDS) -> Plan:
    """The plan improved by the bounded local search; `started` is when the fast solve began (perf_counter)
    and `budget_seconds` the wall-clock cap on the whole solve (a last resort, see the module's doc)."""
    operations = sum(len(job.ops) for job in problem.jobs)
    if operations > LARGE_OPERATIONS and not any(
        job.firm and plan.job_end[job.key] > job.due for job in problem.jobs
    ):
        return plan  # large, and no promise to repair: ATC's plan as it is
    flat = Flat(problem)
    free_ops = flat.n - len(flat.frozen)
    if free_ops < 2:
        return plan
    moves = max(8, min(MAX_MOVES, MOVE_BUDGET // max(1, flat.n)))
    large = flat.n > LARGE_OPERATIONS
    if large:
        moves = 0
    deadline = started + budget_seconds
    rng = random.Random(len(problem.jobs) * 7919 + flat.n)  # noqa: S311 (reproducible, not security)
    jobs = problem.jobs
    job_ops: list[list[int]] = [[] for _ in jobs]
    for i in range(flat.n):
        job_ops[flat.op_job[i]].append(i)
    keys = [float(plan.placements[flat.op_key[i]].start) for i in range(flat.n)]
    best = plan
    best_keys = keys

    def attempt(new_keys: list[float], engine: str) -> bool:
        nonlocal best, best_keys
        candidate = make_plan(problem, serial(flat, new_keys), method=plan.method, engine=engine)
        if candidate.key() <= best.key():
            better = candidate.key() < best.key()
            best, best_keys = candidate, new_keys
            return better
        return False

    engine = f"{plan.engine}+ls"
    if not large:
        attempt(keys, engine)  # the serial decoding of the dispatcher's sequence (often a little tighter)
    # Promises first: each late firm job to the front, in due order.
    firm_late = sorted(
        (j for j, job in enumerate(jobs) if job.firm and best.job_end[job.key] > job.due),
        key=lambda j: jobs[j].due,
    )[:MAX_REPAIRS]
    for rank, j in enumerate(firm_late):
        if time.perf_counter() >= deadline and rank:
            break  # the first promise is always repaired; the others when time allows
        new_keys = best_keys[:]
        for i in job_ops[j]:
            new_keys[i] = -1e12 + rank * 1e6 + new_keys[i] * 1e-6
        attempt(new_keys, engine)
    critical = _critical_centers(flat)
    used = 0
    while used < moves and time.perf_counter() < deadline:
        used += 1
        kind = rng.random()
        new_keys = best_keys[:]
        if kind < 0.55:
            late = _pick_late(best, jobs, rng, on_time=problem.objective == ON_TIME)
            if late is None:
                break
            job = jobs[late]
            lateness = best.job_end[job.key] - job.due
            shift = lateness * rng.choice((0.25, 0.5, 1.0, 1.5, 3.0)) + 1
            for i in job_ops[late]:
                new_keys[i] -= shift
        elif kind < 0.8 and problem.objective == ON_TIME and rng.random() < 0.5:
            # On-time rate: one work order (not a promise) gives way to the end, so others make it.
            j = rng.randrange(len(jobs))
            if jobs[j].firm:
                continue
            top = max(best_keys)
            for rank, i in enumerate(job_ops[j]):
                new_keys[i] = top + 1 + rank
        elif kind < 0.8:
            giving = _pick_yield(best, jobs, rng, on_time=problem.objective == ON_TIME)
            if giving is None:
                continue
            job = jobs[giving]
            room = max(60, job.due - best.job_end[job.key])
            shift = room * rng.choice((0.25, 0.5, 1.0)) + 1
            for i in job_ops[giving]:
                new_keys[i] += shift
        else:
            if not critical:
                continue
            wc = critical[rng.randrange(len(critical))]
            ops = sorted((i for i in range(flat.n) if flat.op_wc[i] == wc), key=lambda i: best_keys[i])
            if len(ops) < 2:
                continue
            p = rng.randrange(len(ops) - 1)
            a, b = ops[p], ops[p + 1]
            new_keys[a], new_keys[b] = best_keys[b], best_keys[a]
        attempt(new_keys, engine)
    capped = used < moves and time.perf_counter() >= deadline
    best.details = {**plan.details, "improve_moves": used, "improve_capped": capped}
    best.seconds = time.perf_counter() - started
    return best


def _critical_centers(flat: Flat) -> list[int]:
    load = [0.0] * len(flat.units)
    for i in range(flat.n):
        load[flat.op_wc[i]] += flat.op_dur[i] / flat.units[flat.op_wc[i]]
    if not load:
        return []
    top = max(load)
    return [wc for wc, value in enumerate(load) if value >= 0.7 * top]


def _pick_late(plan: Plan, jobs: list[Any], rng: random.Random, *, on_time: bool) -> int | None:
    late = [
        (j, plan.job_end[job.key] - job.due, job.weight)
        for j, job in enumerate(jobs)
        if plan.job_end[job.key] > job.due
    ]
    if not late:
        return None
    if on_time:
        # The nearly on time are the ones a small move saves.
        weights = [1.0 / (1.0 + lateness / 60.0) for _, lateness, _ in late]
    else:
        weights = [float(weight * lateness) for _, lateness, weight in late]
    return rng.choices([j for j, _, _ in late], weights=weights)[0]


def _pick_yield(plan: Plan, jobs: list[Any], rng: random.Random, *, on_time: bool) -> int | None:
    if on_time and rng.random() < 0.5:
        hopeless = [
            j for j, job in enumerate(jobs) if plan.job_end[job.key] - job.due > 8 * 60 and not job.firm
        ]
        if hopeless:
            return hopeless[rng.randrange(len(hopeless))]
    slack = [j for j, job in enumerate(jobs) if plan.job_end[job.key] < job.due]
    if not slack:
        return None
    return slack[rng.randrange(len(slack))]
