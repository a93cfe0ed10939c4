"""A plan at once: the fast plan right after a release, the optimiser's only when it is better and current."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from orders.sales import transitions
from production import tasks
from production.replanning import plan_writer, scheduler_state
from production.scheduling import (
    OrderProjection,
    Schedule,
    optimiser_outcome,
    schedule_optimise,
    schedule_run,
)
from tests.factories import CustomerFactory, ProductFactory, in_days, make_order
from tests.production.conftest import make_routing, make_work_center
from tests.services import require_postgresql


@pytest.fixture
def press(planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])  # an order of 10 takes 10 h
    return product


def release(sales, planner, product, **kwargs):
    return transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True, **kwargs)
    )


def in_current_plan(order) -> bool:
    return OrderProjection.objects.filter(order=order, schedule__is_current=True).exists()


@pytest.fixture
def idle_trap(planner):
    """A plant where dispatching is wrong: a long standard job takes the bend at once, while a VIP order
    due in 3 hours reaches the bend after one hour of cutting. Only a plan that keeps the bend idle for
    that hour (the optimiser's) is on time."""
    cut, bend = make_work_center(planner, "CUT"), make_work_center(planner, "BEND")
    long_job, vip_job = ProductFactory(), ProductFactory()
    make_routing(planner, long_job, [(bend, 0, "60")])  # 10 pieces: 10 h on the bend
    make_routing(planner, vip_job, [(cut, 0, "6"), (bend, 0, "6")])  # 10 pieces: 1 h + 1 h
    return long_job, vip_job


def end_of(day: dt.date) -> dt.datetime:
    zone = timezone.get_default_timezone()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


@pytest.mark.django_db
def test_a_released_order_is_in_the_current_plan_without_waiting_for_the_optimiser(
    sales, planner, press, enqueued, fast_enqueued, django_capture_on_commit_callbacks, settings
):
    settings.PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS = 30
    with django_capture_on_commit_callbacks(execute=True):
        order = release(sales, planner, press)
    assert fast_enqueued == [{}]  # at once, no countdown
    assert enqueued == [{"countdown": 30}]  # the optimiser waits for the burst to end

    tasks.plan_fast.apply()  # what a worker does with the message

    assert in_current_plan(order)
    assert Schedule.objects.get(is_current=True).method == "fast"
    assert optimiser_outcome() is None


@pytest.mark.django_db
def test_a_burst_of_releases_makes_one_fast_run_that_plans_them_all(
    sales, planner, press, fast_enqueued, django_capture_on_commit_callbacks
):
    orders = []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            orders.append(release(sales, planner, press))
    assert len(fast_enqueued) == 1

    assert tasks.plan_fast.apply().get() == 1
    assert tasks.plan_fast.apply().get() is None  # a duplicate message: the request is taken

    assert all(in_current_plan(order) for order in orders)
    assert Schedule.objects.get(is_current=True).generation == scheduler_state().generation == 3


@pytest.mark.django_db
def test_a_release_during_a_fast_run_asks_for_one_more(
    sales, planner, press, fast_enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        release(sales, planner, press)
    tasks.plan_fast.apply()
    with django_capture_on_commit_callbacks(execute=True):
        late = release(sales, planner, press)

    assert len(fast_enqueued) == 2
    tasks.plan_fast.apply()
    assert in_current_plan(late)


@pytest.mark.django_db
def test_the_optimiser_waits_for_a_quiet_time_while_releases_keep_coming(
    sales, planner, press, enqueued, django_capture_on_commit_callbacks, settings
):
    settings.PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS = 30
    with django_capture_on_commit_callbacks(execute=True):
        release(sales, planner, press)
    enqueued.clear()

    assert tasks.reschedule.run() is None  # the release was just now: its result would soon be stale

    assert len(enqueued) == 1 and 28 <= enqueued[0]["countdown"] <= 30
    assert not Schedule.objects.exists() and optimiser_outcome() is None


@pytest.mark.django_db
def test_an_optimiser_result_that_is_not_better_does_not_replace_the_plan(
    sales, planner, press, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        release(sales, planner, press)  # one order on one press: dispatching is already optimal
    tasks.plan_fast.apply()
    fast = Schedule.objects.get(is_current=True)

    assert schedule_optimise(trigger="test", time_limit=1) is None

    assert Schedule.objects.get(is_current=True) == fast
    outcome = optimiser_outcome()
    assert (outcome.outcome, outcome.current_version) == ("not_better", fast.version)


@pytest.mark.django_db
def test_a_better_optimiser_result_replaces_the_plan_and_records_its_gain(
    sales, planner, idle_trap, django_capture_on_commit_callbacks, settings
):
    settings.PRODUCTION_FROZEN_HOURS = 0  # else the fast plan's first hours would stay as they are
    settings.PRODUCTION_FAST_LOCAL_SEARCH = False  # the fast engine's own search would get out of the trap
    long_job, vip_job = idle_trap
    due = in_days(2)
    now = end_of(due) - dt.timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        release(sales, planner, long_job)
        vip = release(sales, planner, vip_job, customer=CustomerFactory(tier="vip"), promised_date=due)
    fast = schedule_run(trigger="test", now=now)
    assert fast.weighted_tardiness > 0

    better = schedule_optimise(trigger="test", time_limit=2, now=now)

    assert better is not None and Schedule.objects.get(is_current=True) == better
    assert (better.method, better.weighted_tardiness) == ("optimised", 0)
    assert better.fast_weighted_tardiness == fast.weighted_tardiness
    assert better.optimiser_gain == fast.weighted_tardiness and better.optimiser_gain_percent == 100.0
    assert not OrderProjection.objects.get(order=vip, schedule=better).at_risk
    assert optimiser_outcome().outcome == "replaced"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_stale_optimiser_result_does_not_overwrite_a_newer_plan(sales, planner, press):
    require_postgresql()
    release(sales, planner, press)  # committed: its request asks for the fast plan
    tasks.plan_fast.apply()
    results = []

    def optimise():
        try:
            results.append(schedule_optimise(trigger="test", time_limit=1))
        finally:
            connection.close()

    with plan_writer():  # the optimiser solves, then waits here to compare
        thread = threading.Thread(target=optimise)
        thread.start()
        _wait_for_a_waiter_on_the_plan_writer_lock()
        newer = release(sales, planner, press)  # new work arrives while the optimiser runs...
        tasks.plan_fast.apply()  # ...and its fast plan is written first
    thread.join(timeout=60)

    current = Schedule.objects.get(is_current=True)
    assert results == [None]
    assert current.method == "fast" and in_current_plan(newer)
    assert optimiser_outcome().outcome == "stale"


def _wait_for_a_waiter_on_the_plan_writer_lock(timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the optimiser never reached the plan writer's lock")


def _idle_trap_released(sales, planner, idle_trap, capture_on_commit, settings) -> dt.datetime:
    """Both orders of the idle trap released (the VIP's promised in two days), no frozen window, no local
    search; returns the planning time: three hours before the promised day ends."""
    settings.PRODUCTION_FROZEN_HOURS = 0
    settings.PRODUCTION_FAST_LOCAL_SEARCH = False
    long_job, vip_job = idle_trap
    due = in_days(2)
    with capture_on_commit(execute=True):
        release(sales, planner, long_job)
        release(sales, planner, vip_job, customer=CustomerFactory(tier="vip"), promised_date=due)
    return end_of(due) - dt.timedelta(hours=3)


@pytest.mark.django_db
def test_the_plan_page_says_which_engine_made_the_plan_and_what_the_optimiser_gained(
    client, sales, planner, idle_trap, django_capture_on_commit_callbacks, settings
):
    now = _idle_trap_released(sales, planner, idle_trap, django_capture_on_commit_callbacks, settings)
    fast = schedule_run(trigger="test", now=now)
    client.force_login(planner)

    page = client.get(reverse("production:planner")).content.decode()
    assert "Made at once by the fast engine" in page

    schedule_optimise(trigger="test", time_limit=2, now=now)
    page = client.get(reverse("production:planner")).content.decode()
    assert "Made by the optimiser" in page
    assert f"Gain over the fast plan: {fast.weighted_tardiness:,}" in page
    assert "made the current plan" in page
    chinese = client.get(reverse("production:planner"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "优化器" in chinese


@pytest.mark.django_db
def test_the_plan_page_says_why_the_optimiser_stopped_in_english_and_chinese(
    client, sales, planner, idle_trap, django_capture_on_commit_callbacks, settings
):
    now = _idle_trap_released(sales, planner, idle_trap, django_capture_on_commit_callbacks, settings)
    schedule_run(trigger="test", now=now)
    client.force_login(planner)

    better = schedule_optimise(trigger="test", time_limit=60, now=now)  # two orders: proven at once

    assert better is not None and better.details["stop_reason"] == "optimal"
    assert optimiser_outcome().stop_reason == "optimal"
    page = client.get(reverse("production:planner")).content.decode()
    said = "the optimiser finished early: no better plan was left to find"
    assert f'data-testid="optimiser-stop">{said}<' in page  # the plan's own line
    assert f'data-testid="optimiser-outcome-stop">{said.capitalize()}.<' in page  # the last run's
    chinese = client.get(reverse("production:planner"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert chinese.count("优化器已提前结束：已没有更优的计划可找") == 2  # noqa: RUF001 (the Chinese colon)


@pytest.mark.django_db
def test_the_api_says_which_engine_made_the_current_plan_and_what_the_optimiser_did(
    client, sales, planner, press, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        release(sales, planner, press)
    tasks.plan_fast.apply()
    schedule_optimise(trigger="test", time_limit=1)
    client.force_login(planner)

    body = client.get("/api/v1/schedule/current/").json()

    assert (body["schedule"]["method"], body["schedule"]["optimiser_gain"]) == ("fast", None)
    assert body["schedule"]["method_display"] == "Fast (dispatching)"
    assert body["optimiser"]["outcome"] == "not_better"
    assert body["optimiser"]["current_version"] == body["schedule"]["version"]
    assert body["optimiser"]["stop_reason"] == "optimal"  # one order, on time: nothing to gain
    assert body["optimiser"]["stop_reason_display"] == (
        "the optimiser finished early: no better plan was left to find"
    )


@pytest.mark.django_db
def test_the_order_page_says_a_released_order_is_being_planned_until_its_fast_plan_is_written(
    client, sales, planner, press, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = release(sales, planner, press)
    client.force_login(planner)
    url = reverse("orders:order_detail", args=[order.number])

    assert 'data-testid="projection-planning"' in client.get(url).content.decode()

    tasks.plan_fast.apply()
    page = client.get(url).content.decode()
    assert 'data-testid="projection-planning"' not in page
    assert 'data-testid="projection-on-time"' in page
