"""The scheduling engines on in-memory problems (no database): rules of time, capacity and priority."""

import datetime as dt
import itertools
import random
import time

import pytest

from production.scheduling import (
    Calendar,
    Job,
    Op,
    Problem,
    ProblemError,
    WorkCenterSpec,
    build_calendar,
    dispatch,
    solve,
)
from production.scheduling.dispatch import ATC_K_VALUES, ATC_K_VALUES_LARGE, atc, decode, edd
from production.scheduling.quote import PlanIndex, QuoteLine, capable_to_promise
from tests.bench.scheduler import generate
from tests.bench.scheduler_checks import verify

MONDAY = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
DAY_SHIFT = [(day, dt.time(8), dt.time(16)) for day in range(5)]


def day_calendar(days=60, exceptions=()):
    return build_calendar(origin=MONDAY, days=days, tz="UTC", shifts=DAY_SHIFT, exceptions=exceptions)


def minutes(day: int, hour: int, minute: int = 0) -> int:
    return day * 1440 + hour * 60 + minute


def problem_of(jobs, units=None, calendar=None):
    calendar = calendar or day_calendar()
    centers = {op.work_center for job in jobs for op in job.ops}
    units = units or {}
    return Problem(
        work_centers={
            c: WorkCenterSpec(key=c, units=units.get(c, 1), calendar=calendar, label=c) for c in centers
        },
        jobs=jobs,
    )


def assert_feasible(problem, plan):
    for job in problem.jobs:
        ready = job.release
        for op in job.ops:
            placement = plan.placements[op.key]
            if not op.frozen:
                assert placement.start >= ready, f"{op.key} starts before its predecessor ends"
                cal = problem.work_centers[op.work_center].calendar
                assert cal.working_between(placement.start, placement.end) == op.duration
                assert cal.next_working(placement.start) == placement.start
            ready = placement.end
    booked = {}
    for job in problem.jobs:
        for op in job.ops:
            p = plan.placements[op.key]
            assert 0 <= p.unit < problem.work_centers[op.work_center].units
            booked.setdefault((op.work_center, p.unit), []).append((p.start, p.end))
    for intervals in booked.values():
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            assert start >= end, "two operations overlap on one unit"


def test_work_pauses_over_the_night_and_goes_on_next_morning():
    calendar = day_calendar()
    # 10 working hours from Monday 08:00 end on Tuesday at 10:00.
    assert calendar.add_working(minutes(0, 8), 600) == minutes(1, 10)


def test_work_starting_on_friday_afternoon_goes_on_on_monday():
    calendar = day_calendar()
    assert calendar.add_working(minutes(4, 15), 120) == minutes(7, 9)


def test_a_holiday_removes_the_whole_day():
    calendar = day_calendar(exceptions=[(dt.date(2026, 3, 3), None, None, False)])
    assert calendar.add_working(minutes(0, 8), 600) == minutes(2, 10)


def test_a_shift_that_ends_before_it_starts_runs_overnight():
    calendar = build_calendar(origin=MONDAY, days=7, tz="UTC", shifts=[(0, dt.time(22), dt.time(6))])
    assert (calendar.starts[0], calendar.ends[0]) == (minutes(0, 22), minutes(1, 6))


def test_operations_respect_precedence_capacity_units_and_calendars():
    rng = random.Random(3)
    jobs = []
    for j in range(25):
        ops = [
            Op(key=(j, s), work_center=rng.choice("ABC"), duration=rng.randint(30, 400))
            for s in range(rng.randint(1, 3))
        ]
        jobs.append(
            Job(
                key=j,
                ops=ops,
                due=rng.randint(600, 9000),
                weight=rng.choice([2, 6, 40]),
                release=rng.randint(0, 2000),
            )
        )
    problem = problem_of(jobs, units={"A": 2, "B": 1, "C": 3})
    assert_feasible(problem, solve(problem, method="fast"))


def test_the_optimised_plan_is_feasible_too():
    problem = generate(20, seed=5)
    assert_feasible(problem, solve(problem, method="optimised", time_limit=1))


def test_a_vip_order_goes_before_a_standard_one_with_the_same_due_date():
    standard = Job(
        key="standard", ops=[Op(key="s", work_center="A", duration=240)], due=minutes(0, 13), weight=2
    )
    vip = Job(key="vip", ops=[Op(key="v", work_center="A", duration=240)], due=minutes(0, 13), weight=40)
    plan = solve(problem_of([standard, vip]), method="fast")
    assert plan.placements["v"].start < plan.placements["s"].start


def test_an_operation_does_not_start_before_its_release_time():
    job = Job(
        key=1, ops=[Op(key="a", work_center="A", duration=60)], due=minutes(3, 0), release=minutes(1, 9)
    )
    plan = solve(problem_of([job]), method="fast")
    assert plan.placements["a"].start == minutes(1, 9)


def test_a_started_operation_never_moves_and_keeps_its_unit():
    started = Op(
        key="run", work_center="A", duration=300, frozen_unit=1, frozen_start=-60, frozen_end=minutes(0, 11)
    )
    then = Op(key="next", work_center="B", duration=60)
    urgent = Job(key="vip", ops=[Op(key="v", work_center="A", duration=60)], due=0, weight=40)
    jobs = [Job(key="wo", ops=[started, then], due=minutes(5, 0)), urgent]
    for method in ("fast", "optimised"):
        plan = solve(problem_of(jobs, units={"A": 2}), method=method, time_limit=1)
        placement = plan.placements["run"]
        assert (placement.unit, placement.start, placement.end) == (1, -60, minutes(0, 11))
        assert plan.placements["next"].start >= minutes(0, 11)


def test_cp_sat_is_never_worse_than_its_seed():
    problem = generate(40, seed=11)
    seed = solve(problem, method="fast")
    optimised = solve(problem, method="optimised", time_limit=1.5)
    assert optimised.key() <= seed.key()
    assert optimised.details["seed_weighted_tardiness"] == seed.weighted_tardiness


def test_tuned_atc_beats_earliest_due_date_on_a_generated_instance():
    problem = generate(200, seed=200)
    assert solve(problem, method="fast").weighted_tardiness < 0.8 * edd(problem).weighted_tardiness


def test_a_work_center_without_working_time_is_a_clear_error():
    job = Job(key="wo-1", ops=[Op(key="a", work_center="PAINT", duration=60)], due=0)
    problem = problem_of([job], calendar=Calendar([], []))
    with pytest.raises(ProblemError) as caught:
        solve(problem)
    assert caught.value.code == "no_capacity" and "PAINT" in str(caught.value)


def test_a_quote_fits_the_new_order_into_the_first_long_enough_gap():
    # One unit, day shifts. Planned: Monday 08-12 and Monday 13-16 (standard orders).
    calendar = day_calendar()
    index = PlanIndex.from_bookings(
        {"A": calendar},
        {"A": 1},
        [
            ("A", 0, minutes(0, 8), minutes(0, 12), 2, "SO-1"),
            ("A", 0, minutes(0, 13), minutes(0, 16), 2, "SO-2"),
        ],
    )
    # 90 minutes do not fit in the 60-minute gap at noon: they start Tuesday 08:00 and end 09:30.
    result = capable_to_promise(index, lines=[QuoteLine(ops=[("A", 90)])], weight=2)
    assert result.completion == minutes(1, 9, 30)
    assert result.delayed == {}


def test_a_vip_quote_overtakes_standard_work_and_names_the_orders_it_delays():
    calendar = day_calendar()
    index = PlanIndex.from_bookings(
        {"A": calendar},
        {"A": 1},
        [
            ("A", 0, minutes(0, 8), minutes(0, 16), 2, "SO-1"),
            ("A", 0, minutes(1, 8), minutes(1, 16), 40, "SO-VIP"),
        ],
    )
    result = capable_to_promise(index, lines=[QuoteLine(ops=[("A", 120)])], weight=40)
    assert result.completion == minutes(0, 10)
    assert result.completion_without_overtaking == minutes(2, 10)
    assert set(result.delayed) == {"SO-1"}


def window_search(problem, seconds):
    seed = solve(problem, method="fast")
    search = make_window_search(problem)
    return seed, search.run(seed, deadline=time.perf_counter() + seconds)


def make_window_search(problem, *, bound=0):
    """The optimiser's window search alone (every work center on one calendar), with the whole model's
    lower bound `bound` on the model's scale."""
    from production.scheduling.calendar import union
    from production.scheduling.cpsat import AxisCost
    from production.scheduling.windows import WindowSearch

    axis = union(spec.calendar for spec in problem.work_centers.values())
    return WindowSearch(
        problem,
        axis,
        dict.fromkeys(problem.work_centers, 1.0),
        2,
        time.perf_counter(),
        cost=AxisCost(problem, axis),
        bound=bound,
    )


def test_the_window_search_improves_a_plan_with_late_work_orders():
    seed, improved = window_search(generate(200, seed=200), 6)
    assert improved.weighted_tardiness < seed.weighted_tardiness


def test_the_window_search_keeps_plans_feasible_and_frozen_operations_in_place():
    problem = generate(80, seed=4)
    frozen = {}
    for job in problem.jobs:
        op = job.ops[0]
        if op.work_center not in frozen:
            op.frozen_unit, op.frozen_start, op.frozen_end = 0, -30, op.duration
            frozen[op.work_center] = op.key
    seed, improved = window_search(problem, 3)
    assert_feasible(problem, improved)
    assert improved.key() <= seed.key()
    for key in frozen.values():
        placement = improved.placements[key]
        assert (placement.unit, placement.start, placement.frozen) == (0, -30, True)


def test_the_window_search_counts_lateness_in_wall_clock_minutes_as_the_plan_does():
    # From Friday 15:00, one hour before the weekend. M first (its last 40 minutes on Monday) leaves W late
    # by 100 working minutes but 65 h 40 min on the clock (3,940 weighted minutes); W first leaves M 50
    # minutes late on Monday, weight 10 (500). Counted in working minutes, M first would look better.
    friday_three = minutes(4, 15)
    jobs = [
        Job(
            key="W",
            ops=[Op(key="W", work_center="M1", duration=60)],
            due=minutes(4, 16),
            release=friday_three,
        ),
        Job(
            key="M",
            ops=[Op(key="M", work_center="M1", duration=100)],
            due=minutes(7, 8, 50),
            weight=10,
            release=friday_three,
        ),
    ]
    problem = problem_of(jobs)
    m_first = decode(problem, {"M": 0.0, "W": 1.0}, engine="test", started=time.perf_counter())
    assert m_first.weighted_tardiness == 3940

    best = make_window_search(problem).run(m_first, deadline=time.perf_counter() + 10)

    assert best.weighted_tardiness == 500
    assert best.placements["W"].end == minutes(4, 16)


def test_atc_ranks_by_the_jobs_work_left_where_that_wins():
    # 800 work orders, most of them late whatever the plan: finishing jobs one by one (w / work left) beats
    # advancing many (w / the operation's time).
    problem = generate(800, seed=6 * 7919 + 800)
    by_operation = atc(problem, k_values=ATC_K_VALUES_LARGE)

    plan = atc(problem)

    assert plan.engine == "atc(k=8.0,work-left)"
    assert plan.weighted_tardiness < 0.95 * by_operation.weighted_tardiness
    assert not verify(problem, plan)


def test_on_an_overloaded_plant_atc_also_blends_the_operations_time_with_the_work_after_it():
    problem = generate(500, seed=6 * 7919 + 500)
    by_operation = atc(problem, k_values=ATC_K_VALUES)

    plan = atc(problem)

    assert "work-left:0.1" in plan.engine
    assert plan.weighted_tardiness < 0.93 * by_operation.weighted_tardiness
    assert not verify(problem, plan)


def test_a_plant_that_is_not_overloaded_is_not_given_the_blends():
    # The bench's hard 200 plant: late work, but a few operations' time per unit of weight.
    problem = generate(200, seed=1 * 7919 + 200)

    plan = atc(problem)

    assert not any(":" in reading for reading in plan.details["atc_k_tried"])
    assert plan.engine == "atc(k=16.0)"
    assert plan.weighted_tardiness == atc(problem, k_values=ATC_K_VALUES).weighted_tardiness


def test_atc_keeps_to_the_usual_reading_when_out_of_time(monkeypatch):
    # A machine too slow for the whole grid: the usual reading always runs, the others are skipped.
    monkeypatch.setattr(dispatch, "ATC_EXTRA_SECONDS", 0.0)
    problem = generate(500, seed=6 * 7919 + 500)

    plan = atc(problem)

    assert plan.details["atc_capped"] is True
    assert "work-left" not in plan.engine
    assert plan.weighted_tardiness == atc(problem, k_values=ATC_K_VALUES).weighted_tardiness
