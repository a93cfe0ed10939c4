"""Promises the plan keeps: a quoted date survives the next reschedule, and the quote says what it costs."""

import random

import pytest

from production.scheduling import Job, Op, Problem, QuoteLine, WorkCenterSpec, capable_to_promise, solve
from production.scheduling.quote import PlanIndex
from tests.bench.scheduler import generate
from tests.bench.scheduler_checks import promise_trial, verify
from tests.production.scheduling.test_engine import day_calendar, minutes


@pytest.mark.parametrize(("size", "seed"), [(30, 1), (60, 2), (150, 3)])
def test_a_quoted_date_is_kept_by_the_next_reschedule_on_generated_plants(size, seed):
    problem = generate(size, seed=seed)
    plan = solve(problem, method="fast")
    rng = random.Random(seed)

    trials = [promise_trial(problem, plan, rng) for _ in range(12)]

    late = [trial.late_minutes for trial in trials if not trial.kept]
    assert not late, f"quoted dates missed by {late} minutes"
    assert any(trial.overtakes for trial in trials), "the trials should include quotes that overtake"


def _one_machine(jobs):
    calendar = day_calendar()
    return Problem(
        work_centers={"M": WorkCenterSpec(key="M", units=1, calendar=calendar, label="M")}, jobs=jobs
    )


def test_the_quote_says_what_overtaking_costs_the_orders_it_delays():
    standard = Job(key="S", ops=[Op(key="s1", work_center="M", duration=240)], due=minutes(0, 13), weight=2)
    problem = _one_machine([standard])
    plan = solve(problem, method="fast")  # S runs 8:00-12:00, an hour before it is due
    index = PlanIndex.from_plan(problem, plan)

    quote = capable_to_promise(index, lines=[QuoteLine(ops=[("M", 120)])], weight=40, earliest=0)
    extra, pushed = quote.cost(ends=plan.job_end, dues={"S": standard.due}, weights={"S": 2})

    assert quote.completion == minutes(0, 10)  # the VIP order goes first
    assert quote.delayed == {"S": 120}
    assert pushed == ["S"]  # 12:00 + 2 h is past its 13:00 due time
    assert extra == 2 * 60


def test_the_quote_never_overtakes_work_inside_the_frozen_window():
    standard = Job(key="S", ops=[Op(key="s1", work_center="M", duration=240)], due=minutes(3, 16), weight=2)
    problem = _one_machine([standard])
    plan = solve(problem, method="fast")
    index = PlanIndex.from_plan(problem, plan)

    quote = capable_to_promise(
        index, lines=[QuoteLine(ops=[("M", 120)])], weight=40, earliest=0, frozen_until=8 * 60 + 60
    )

    assert quote.delayed == {}
    assert quote.completion == minutes(0, 14)  # after S, which keeps its slot


def test_a_firm_promise_is_kept_before_weighted_tardiness():
    # Two heavy orders due early would rather go first; the firm promise of a light one is kept anyway.
    heavy = [
        Job(key=f"H{i}", ops=[Op(key=f"h{i}", work_center="M", duration=120)], due=minutes(0, 9), weight=40)
        for i in range(2)
    ]
    promised = Job(
        key="P", ops=[Op(key="p", work_center="M", duration=60)], due=minutes(0, 9), weight=2, firm=True
    )
    problem = _one_machine([*heavy, promised])

    plan = solve(problem, method="fast")

    assert plan.job_end["P"] <= promised.due
    assert plan.broken_promises == 0
    assert not verify(problem, plan)
