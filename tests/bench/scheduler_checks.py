"""Checks the scheduler bench and the scheduling tests share (pure Python: no database).

- verify(problem, plan): the plan is feasible — every operation placed once, on a unit its work center
  has, in working time with its duration in working minutes (calendars), after its predecessor
  (precedence) and its job's release, with no two operations on one unit at once (capacity), and frozen
  operations where they were. Returns the list of violations (empty: feasible).
- promise_trial(problem, plan, rng): one delivery-date quote kept or not — freeze the plan's frozen window,
  quote a new order against the plan, insert it due at the quoted time, reschedule with the fast engine,
  and report whether it finished by then and what it cost the others.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

from production.scheduling import Job, Op, Plan, Problem, QuoteLine, capable_to_promise, job_weight, solve
from production.scheduling.quote import PlanIndex


def verify(problem: Problem, plan: Plan) -> list[str]:
    problems: list[str] = []
    booked: dict[tuple[Any, int], list[tuple[int, int, Any]]] = {}
    for job in problem.jobs:
        ready = max(0, job.release)
        for op in job.ops:
            placement = plan.placements.get(op.key)
            if placement is None:
                problems.append(f"{op.key}: not placed")
                continue
            spec = problem.work_centers[op.work_center]
            if not 0 <= placement.unit < spec.units:
                problems.append(f"{op.key}: unit {placement.unit} of {spec.units}")
            if op.frozen:
                if (placement.start, placement.end) != (op.frozen_start, op.frozen_end):
                    problems.append(f"{op.key}: frozen operation moved")
                ready = max(ready, placement.end)
            else:
                cal = spec.calendar
                if placement.start < ready:
                    problems.append(f"{op.key}: starts before its predecessor or release")
                if cal.next_working(placement.start) != placement.start:
                    problems.append(f"{op.key}: starts outside working time")
                if cal.add_working(placement.start, op.duration) != placement.end:
                    problems.append(f"{op.key}: duration does not match the calendar")
                ready = placement.end
            booked.setdefault((op.work_center, placement.unit), []).append(
                (placement.start, placement.end, op.key)
            )
    for (wc, unit), slots in booked.items():
        slots.sort(key=lambda slot: (slot[0], slot[1]))
        reach, holder = -(10**12), None
        for start, end, key in slots:
            if start < reach:
                problems.append(f"{wc}/{unit}: {holder} and {key} overlap")
            if end > reach:
                reach, holder = end, key
    return problems


def freeze_window(problem: Problem, plan: Plan, hours: int) -> Problem:
    """The problem as the next reschedule sees it: the leading operations the plan starts within `hours`
    keep their slot (as production.scheduling.service does)."""
    frozen = copy.deepcopy(problem)
    limit = hours * 60
    for job in frozen.jobs:
        for op in job.ops:
            placement = plan.placements[op.key]
            if op.frozen or placement.start >= limit:
                break
            op.frozen_start, op.frozen_end, op.frozen_unit = placement.start, placement.end, placement.unit
    return frozen


@dataclass
class Trial:
    kept: bool
    late_minutes: int
    overtakes: bool
    quoted_extra_twt: int  # what the quote said overtaking costs the others
    actual_extra_twt: int  # what the reschedule cost them


def promise_trial(problem: Problem, plan: Plan, rng: random.Random, *, frozen_hours: int = 8) -> Trial:
    centers = list(problem.work_centers)
    tier = rng.choices(["vip", "key", "standard"], weights=[4, 4, 2])[0]
    weight = job_weight(tier, {"vip": 4, "key": 3, "standard": 2}[tier])
    ops = [(wc, rng.randint(30, 240)) for wc in rng.sample(centers, rng.randint(1, min(3, len(centers))))]
    earliest = rng.choice([0, 0, rng.randint(60, 3 * 1440)])
    index = PlanIndex.from_plan(problem, plan)
    quote = capable_to_promise(
        index, lines=[QuoteLine(ops=ops)], weight=weight, earliest=earliest, frozen_until=frozen_hours * 60
    )
    groups = {job.key: job for job in problem.jobs}
    quoted_extra, _ = quote.cost(
        ends=plan.job_end,
        dues={key: job.due for key, job in groups.items()},
        weights={key: job.weight for key, job in groups.items()},
    )
    rescheduled = freeze_window(problem, plan, frozen_hours)
    new = Job(
        key="QUOTED",
        ops=[Op(key=("QUOTED", s), work_center=wc, duration=d) for s, (wc, d) in enumerate(ops)],
        due=quote.completion,
        weight=weight,
        release=earliest,
        tier=tier,
        firm=True,
    )
    rescheduled.jobs.append(new)
    after = solve(rescheduled, method="fast")
    assert not verify(rescheduled, after), verify(rescheduled, after)[:3]
    late = max(0, after.job_end["QUOTED"] - quote.completion)
    others = after.weighted_tardiness - weight * late
    return Trial(
        kept=late == 0,
        late_minutes=late,
        overtakes=bool(quote.delayed),
        quoted_extra_twt=quoted_extra,
        actual_extra_twt=others - plan.weighted_tardiness,
    )
