"""The optimiser stops when it is done or has stopped improving, says why, and never returns a worse plan."""

import time

import pytest

from production.scheduling import Job, Op, OptimiserStop, Schedule, solve
from production.scheduling.problem import (
    ON_TIME,
    STOP_DEADLINE,
    STOP_OPTIMAL,
    STOP_STALLED,
    WEIGHTED_TARDINESS,
)
from production.scheduling.runs import OptimiserOutcome
from tests.bench.scheduler import generate
from tests.bench.scheduler_checks import verify
from tests.production.scheduling.test_engine import make_window_search, minutes, problem_of

# The bench's 20-work-order plant of seed 1 (tests.bench.scheduler.ratios): every order on time.
LOOSE_20 = 1 * 7919 + 20


def tightened(problem, share):
    """`problem` with every work order due after `share` of its time from release to due date."""
    for job in problem.jobs:
        job.due = job.release + int((job.due - job.release) * share)
    return problem


@pytest.mark.parametrize("objective", [WEIGHTED_TARDINESS, ON_TIME])
def test_a_plant_whose_fast_plan_has_no_late_work_order_is_optimised_at_once(objective):
    problem = generate(20, seed=LOOSE_20)
    problem.objective = objective
    assert solve(problem, method="fast").weighted_tardiness == 0

    plan = solve(problem, method="optimised", time_limit=60)

    assert plan.details["stop_reason"] == "optimal"
    assert plan.seconds < 5
    assert (plan.weighted_tardiness, plan.details["window_calls"]) == (0, 0)


def test_a_small_plant_that_stops_improving_gives_the_cores_back_well_before_its_time_limit():
    # 18 of 20 work orders late, and neither CP-SAT nor the window search finds better than the fast plan.
    # About 11 s (CP-SAT gives up after 5 s, the window search after 5 s and 16 neighbourhoods); before, 30 s.
    problem = tightened(generate(20, seed=LOOSE_20), 0.4)
    fast = solve(problem, method="fast")

    plan = solve(problem, method="optimised", time_limit=60)

    assert plan.details["stop_reason"] == "stalled"
    assert plan.seconds < 20
    assert plan.key() <= fast.key()
    assert not verify(problem, plan)


def test_the_window_search_ends_when_the_plan_reaches_the_whole_models_bound():
    # A bound above the seed's cost stands in for a proof: the first gain reaches it.
    problem = generate(200, seed=200)
    seed = solve(problem, method="fast")
    search = make_window_search(problem, bound=10**12)

    best = search.run(seed, deadline=time.perf_counter() + 6)

    assert best.key() < seed.key()
    assert (search.stop_reason, search.improvements) == ("optimal", 1)


def test_a_neighbourhood_of_every_operation_solved_without_a_gain_ends_the_window_search():
    # Three equal orders on one machine, due together: two are late whatever the order.
    jobs = [Job(key=k, ops=[Op(key=k, work_center="M", duration=60)], due=minutes(0, 9)) for k in "ABC"]
    problem = problem_of(jobs)
    seed = solve(problem, method="fast")
    search = make_window_search(problem)

    best = search.run(seed, deadline=time.perf_counter() + 30)

    assert (search.stop_reason, search.calls, search.improvements) == ("optimal", 1, 0)
    assert best is seed


def test_an_optimiser_outcome_recorded_before_the_stop_reason_was_kept_still_reads():
    outcome = OptimiserOutcome.from_json(
        {
            "outcome": "not_better",
            "finished_at": "2026-03-02T08:00:00+00:00",
            "seconds": 60.0,
            "weighted_tardiness": 10,
            "fast_weighted_tardiness": 10,
            "current_version": 3,
            "current_weighted_tardiness": 10,
            "version": None,
        }
    )

    assert outcome is not None and (outcome.stop_reason, outcome.stop_label) == ("", "")


def test_a_plan_stored_before_the_stop_reason_was_kept_says_it_had_stopped_improving():
    assert Schedule(details={"stopped_early": True}).optimiser_stop == (
        "the optimiser stopped early: it had stopped improving"
    )
    assert Schedule(details={}).optimiser_stop == ""


def test_the_plan_page_has_words_for_every_reason_the_engine_gives():
    assert set(OptimiserStop.values) == {STOP_OPTIMAL, STOP_STALLED, STOP_DEADLINE}
