"""Pins: a planner fixes an operation to a line and a start time with a reason; the scheduler keeps it there
(a fixed booking, like the frozen window's) until it is unpinned, and the pin rows are its history."""

import datetime as dt

import pytest
from django.utils import timezone

from config.kernel import Forbidden, ValidationFailed
from orders.sales import transitions
from production.scheduling import ScheduleEntry, schedule_run
from production.scheduling.models import OperationPin
from production.scheduling.pins import operation_pin, operation_unpin
from production.work_orders import WorkOrderOperation
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def t0():
    return timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


@pytest.fixture
def press(planner):
    center = make_work_center(planner, "PRESS", units=2)
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])  # 10 pieces: 10 hours
    return product


def release(sales, planner, product):
    order = make_order(owner=sales, product=product, confirmed=True)
    return transitions.order_release(actor=planner, order=order)


def operation(order, sequence=None):
    operations = WorkOrderOperation.objects.filter(work_order__order=order).order_by("sequence")
    return operations[sequence] if sequence is not None else operations.get()


def entry(schedule, op):
    return ScheduleEntry.objects.get(schedule=schedule, operation=op)


def test_a_pinned_operation_runs_on_its_line_from_its_time_after_a_reschedule(sales, planner, press, t0):
    order = release(sales, planner, press)
    op = operation(order)
    operation_pin(
        actor=planner, operation=op, unit=1, start=t0 + dt.timedelta(hours=30), reason="Die on line 2"
    )
    schedule = schedule_run(actor=planner, trigger="test", now=t0)
    row = entry(schedule, op)
    assert (row.unit, row.start, row.end) == (1, t0 + dt.timedelta(hours=30), t0 + dt.timedelta(hours=40))


def test_a_pin_takes_the_slot_the_frozen_window_would_have_kept_for_another_operation(
    sales, planner, settings, t0
):
    settings.PRODUCTION_FROZEN_HOURS = 8
    center = make_work_center(planner, "LASER")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])
    first = release(sales, planner, product)
    schedule_run(actor=planner, trigger="test", now=t0)
    assert operation(first).scheduled_start == t0  # inside the window: it would keep this slot
    second = release(sales, planner, product)
    operation_pin(actor=planner, operation=operation(second), unit=0, start=t0, reason="Customer audit")
    schedule = schedule_run(actor=planner, trigger="test", now=t0)
    assert entry(schedule, operation(second)).start == t0
    assert entry(schedule, operation(first)).start >= t0 + dt.timedelta(hours=10)


def test_unpinning_lets_the_scheduler_place_the_operation_again(sales, planner, press, t0):
    order = release(sales, planner, press)
    op = operation(order)
    pin = operation_pin(actor=planner, operation=op, unit=1, start=t0 + dt.timedelta(hours=30), reason="Die")
    operation_unpin(actor=planner, pin=pin, reason="Die arrived early")
    schedule = schedule_run(actor=planner, trigger="test", now=t0)
    assert entry(schedule, op).start == t0
    pin.refresh_from_db()
    assert (pin.pinned_by, pin.reason, pin.unpinned_by, pin.unpin_reason) == (
        planner,
        "Die",
        planner,
        "Die arrived early",
    )


def test_pinning_again_replaces_the_pin_and_keeps_the_old_one_as_history(sales, planner, press, t0):
    op = operation(release(sales, planner, press))
    operation_pin(actor=planner, operation=op, unit=0, start=t0 + dt.timedelta(hours=5), reason="First")
    operation_pin(actor=planner, operation=op, unit=1, start=t0 + dt.timedelta(hours=9), reason="Second")
    pins = list(OperationPin.objects.filter(operation=op).order_by("pk"))
    assert [(p.reason, p.active) for p in pins] == [("First", False), ("Second", True)]


def test_the_operations_before_a_pinned_one_are_planned_before_it(sales, planner, t0):
    cut, weld = make_work_center(planner, "CUT"), make_work_center(planner, "WELD")
    product = ProductFactory()
    make_routing(planner, product, [(cut, 0, "30"), (weld, 0, "30")])  # 5 h each
    order = release(sales, planner, product)
    pin_at = t0 + dt.timedelta(hours=24)
    operation_pin(actor=planner, operation=operation(order, 1), unit=0, start=pin_at, reason="Welder")
    schedule = schedule_run(actor=planner, trigger="test", now=t0)
    assert entry(schedule, operation(order, 0)).end <= pin_at
    assert entry(schedule, operation(order, 1)).start == pin_at
    assert schedule.work_orders == 1


def test_a_pin_needs_a_reason_an_existing_line_and_a_future_start(sales, planner, press, t0):
    op = operation(release(sales, planner, press))
    with pytest.raises(ValidationFailed) as caught:
        operation_pin(actor=planner, operation=op, unit=5, start=t0 - dt.timedelta(days=1), reason=" ")
    assert set(caught.value.fields) == {"reason", "unit", "start"}
    assert not OperationPin.objects.exists()


def test_sales_cannot_pin_an_operation(sales, planner, press, t0):
    op = operation(release(sales, planner, press))
    with pytest.raises(Forbidden):
        operation_pin(actor=sales, operation=op, unit=0, start=t0, reason="Mine first")
