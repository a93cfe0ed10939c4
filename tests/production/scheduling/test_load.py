"""The planner's load versus capacity: working minutes an operation holds a unit, per week."""

import datetime as dt

import pytest

from orders.sales import transitions
from production.scheduling import Schedule, ScheduleEntry, ScheduleMethod, work_center_load
from production.work_orders import WorkOrderOperation
from tests.factories import ProductFactory, make_order
from tests.production.conftest import DAY_SHIFT, make_routing, make_work_center

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)  # a Monday; shifts Monday to Friday 08:00-16:00


@pytest.fixture
def operation(sales, planner):
    center = make_work_center(planner, "PRESS", units=2, shifts=DAY_SHIFT)
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])
    transitions.order_release(actor=planner, order=make_order(owner=sales, product=product, confirmed=True))
    return WorkOrderOperation.objects.get()


def plan(planner, operation, start, end):
    schedule = Schedule.objects.create(
        version=99, trigger="test", method=ScheduleMethod.FAST, created_by=planner, horizon_start=MONDAY
    )
    ScheduleEntry.objects.create(
        schedule=schedule,
        operation=operation,
        work_center=operation.work_center,
        unit=0,
        start=start,
        end=end,
    )
    return {row["week_start"]: row for row in work_center_load(schedule=schedule, weeks=2)}


def test_an_operation_over_the_weekend_counts_its_shift_hours_in_each_week(planner, operation):
    friday_2pm = MONDAY + dt.timedelta(days=4, hours=14)
    next_monday_10am = MONDAY + dt.timedelta(days=7, hours=10)
    weeks = plan(planner, operation, friday_2pm, next_monday_10am)
    assert weeks[MONDAY]["planned_minutes"] == 120  # Friday 14:00-16:00
    assert weeks[MONDAY + dt.timedelta(weeks=1)]["planned_minutes"] == 120  # Monday 08:00-10:00


def test_capacity_is_the_shift_minutes_times_the_units(planner, operation):
    weeks = plan(planner, operation, MONDAY + dt.timedelta(hours=8), MONDAY + dt.timedelta(hours=16))
    week = weeks[MONDAY]
    assert week["capacity_minutes"] == 5 * 8 * 60 * 2
    assert week["utilisation"] == pytest.approx(480 / 4800)


def test_the_part_of_a_started_operation_before_the_plan_start_is_not_counted(planner, operation):
    weeks = plan(planner, operation, MONDAY - dt.timedelta(days=3), MONDAY + dt.timedelta(hours=9))
    assert weeks[MONDAY]["planned_minutes"] == 60
