"""The fast engine's improvement pass (ATC's plan, then a bounded local search on its processing order)."""

import copy
import random
import time

import pytest

from production.scheduling import Calendar, solve
from production.scheduling.dispatch import Flat, atc, edd, serial
from production.scheduling.improve import (
    FULL_BUDGET_OPERATIONS,
    MOVE_BUDGET,
    MOVE_BUDGET_ABOVE,
    MOVE_COST,
    improve,
)
from production.scheduling.sequence import Decoder
from tests.bench.scheduler import generate
from tests.bench.scheduler_checks import freeze_window, verify

# The 200-work-order plant of the scheduler bench (seed 1) where ATC leaves most on the table, and the least
# weighted tardiness a 120-second CP-SAT run (2 workers) found on it.
HARD_PLANT = {"n": 200, "seed": 1 * 7919 + 200}
HARD_PLANT_LONG_SEARCH = 165_066
# The bench's 1,000-work-order plant of seed 2 (ratios) and the optimiser's 300-s run on it (2 workers,
# session 14): the fast plan's worst case at that size.
HARD_LARGE_PLANT = {"n": 1000, "seed": 2 * 7919 + 1000}
HARD_LARGE_PLANT_LONG_SEARCH = 15_757_924


def _frozen(problem):
    return freeze_window(problem, atc(problem), 24)


def _own_calendars(problem):
    # One work center works the early shift only (8 of the others' 16 hours): its calendar differs.
    changed = copy.deepcopy(problem)
    spec = next(iter(changed.work_centers.values()))
    calendar = spec.calendar
    spec.calendar = Calendar(
        calendar.starts,
        [min(end, start + 480) for start, end in zip(calendar.starts, calendar.ends, strict=True)],
    )
    assert spec.calendar.total < calendar.total
    return changed


VARIANTS = {
    "one calendar": lambda p: p,
    "frozen operations": _frozen,
    "own calendars": _own_calendars,
    "own calendars and frozen operations": lambda p: _frozen(_own_calendars(p)),
}


def _random_order(decoder, rng):
    # Random priorities, a successor never before its predecessor.
    keys = [rng.random() for _ in range(decoder.flat.n)]
    for op in range(decoder.flat.n):
        if decoder.pred[op] >= 0:
            keys[op] = max(keys[op], keys[decoder.pred[op]] + 1e-9)
    free = [op for op in range(decoder.flat.n) if op not in decoder.frozen_ops]
    return sorted(free, key=lambda op: (keys[op], op))


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_pass_places_an_order_as_the_serial_scheduler_does(variant):
    problem = VARIANTS[variant](generate(60, seed=8))
    flat = Flat(problem)
    decoder = Decoder(problem, flat)
    order = _random_order(decoder, random.Random(1))
    keys = [0.0] * flat.n
    for position, op in enumerate(order):
        keys[op] = float(position)

    assert decoder.placements(decoder.decode(order)) == serial(flat, keys)


@pytest.mark.parametrize("variant", VARIANTS)
def test_re_decoding_only_what_a_move_changed_gives_the_full_decoding(variant):
    problem = VARIANTS[variant](generate(80, seed=9))
    decoder = Decoder(problem, Flat(problem))
    rng = random.Random(2)
    base = decoder.decode(_random_order(decoder, rng))
    checked = 0
    while checked < 40:
        i, k = sorted(rng.sample(range(len(base.order)), 2))
        op = base.order[k]
        if decoder.pred[op] in base.order[i:k]:
            continue  # would put an operation before its predecessor
        order = [*base.order[:i], op, *base.order[i:k], *base.order[k + 1 :]]

        partial = decoder.decode(order, since=i, until=k + 1, base=base)
        full = decoder.decode(order)

        assert (partial.start, partial.end, partial.unit, partial.job_end, partial.key) == (
            full.start,
            full.end,
            full.unit,
            full.job_end,
            full.key,
        )
        base = partial
        checked += 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_pass_never_returns_a_plan_worse_than_atc(variant):
    problem = VARIANTS[variant](generate(150, seed=3))
    dispatched = atc(problem)

    improved = improve(problem, dispatched, started=time.perf_counter(), budget_seconds=60)

    assert improved.key() <= dispatched.key()
    assert not verify(problem, improved)


def test_the_pass_improves_any_plan_it_is_given_not_only_atcs():
    # The optimiser polishes the plans its window search finds with this pass.
    problem = generate(150, seed=3)
    baseline = edd(problem)

    improved = improve(problem, baseline, started=time.perf_counter(), budget_seconds=60, budget=50_000)

    assert improved.weighted_tardiness < baseline.weighted_tardiness
    assert improved.details["improve_decoded"] <= 50_000 + 2 * sum(len(job.ops) for job in problem.jobs) + 20
    assert not verify(problem, improved)


def test_the_pass_gives_the_same_plan_for_the_same_input_on_a_plant_with_frozen_work():
    def fast(problem):
        return improve(problem, atc(problem), started=time.perf_counter(), budget_seconds=60)

    first = fast(_frozen(generate(150, seed=5)))
    second = fast(_frozen(generate(150, seed=5)))

    assert first.placements == second.placements
    assert first.details["improve_decoded"] == second.details["improve_decoded"]


def test_the_pass_spends_a_budget_of_decodings_not_of_time():
    problem = generate(150, seed=7)

    operations = sum(len(job.ops) for job in problem.jobs)

    plan = improve(problem, atc(problem), started=time.perf_counter(), budget_seconds=60)

    assert plan.details["improve_capped"] is False
    # The first decoding, then moves while the budget lasts (the last one may overrun it by one decoding).
    assert 0 < plan.details["improve_decoded"] <= MOVE_BUDGET + 2 * operations + MOVE_COST


def test_a_plan_above_the_full_budget_size_spends_the_smaller_budget():
    # 500 work orders: over FULL_BUDGET_OPERATIONS operations, under LARGE_OPERATIONS (moves still made).
    problem = generate(500, seed=1 * 7919 + 500)
    operations = sum(len(job.ops) for job in problem.jobs)
    assert operations > FULL_BUDGET_OPERATIONS

    plan = improve(problem, atc(problem), started=time.perf_counter(), budget_seconds=60)

    assert plan.details["improve_capped"] is False
    assert (
        MOVE_BUDGET_ABOVE // 2
        < plan.details["improve_decoded"]
        <= MOVE_BUDGET_ABOVE + 2 * operations + MOVE_COST
    )


def test_a_late_firm_promise_is_kept_before_anything_else():
    problem = generate(120, seed=1)
    dispatched = atc(problem)
    # The lightest work order ATC finishes late but that could finish on time if it went first.
    stretch = max(spec.stretch for spec in problem.work_centers.values())
    late = [
        job
        for job in problem.jobs
        if dispatched.job_end[job.key] > job.due
        and job.due - job.release > 3 * stretch * sum(op.duration for op in job.ops)
    ]
    promised = min(late, key=lambda job: (job.weight, job.key))
    promised.firm = True

    plan = improve(problem, atc(problem), started=time.perf_counter(), budget_seconds=60)

    assert plan.job_end[promised.key] <= promised.due
    assert plan.broken_promises == 0
    assert not verify(problem, plan)


def test_the_fast_plan_of_the_hard_200_plant_is_within_four_percent_of_a_long_search():
    # The issue asks for 10 % of the best 60-s search; on this plant the pass fell furthest behind
    # (1.045 of the 120-s run before the hold-back jump and the larger share of critical moves, 1.031 after).
    problem = generate(HARD_PLANT["n"], seed=HARD_PLANT["seed"])
    started = time.perf_counter()

    plan = improve(problem, atc(problem), started=started, budget_seconds=60)

    assert plan.weighted_tardiness <= 1.04 * HARD_PLANT_LONG_SEARCH
    assert plan.weighted_tardiness < 0.95 * atc(problem).weighted_tardiness


def test_the_fast_plan_of_the_hard_1000_plant_is_within_four_percent_of_a_long_search():
    # ATC alone at this size: its grid decides. A blend wins here (the operation's time plus a quarter of the
    # work after it, K = 32): 1.022 of the long search, where the operation's time alone (K = 40) is 1.097.
    problem = generate(HARD_LARGE_PLANT["n"], seed=HARD_LARGE_PLANT["seed"])

    plan = solve(problem, method="fast")

    assert not verify(problem, plan)
    assert plan.weighted_tardiness <= 1.04 * HARD_LARGE_PLANT_LONG_SEARCH


def test_a_large_plan_is_atcs_without_moves():
    problem = generate(1000, seed=2)

    plan = solve(problem, method="fast")

    assert plan.engine.startswith("atc(")
    assert "improve_moves" not in plan.details
