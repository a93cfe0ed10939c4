"""The frozen window: started operations never move, and operations the plan starts within
PRODUCTION_FROZEN_HOURS keep their slots when something urgent arrives; later ones are replanned."""

import datetime as dt

import pytest
from django.utils import timezone

from orders.models import Priority
from orders.sales import transitions
from production import work_orders
from production.scheduling import ScheduleEntry, schedule_run
from production.work_orders import WorkOrderOperation
from tests.factories import CustomerFactory, ProductFactory, in_days, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def press(planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])  # 10 pieces: 10 hours
    return product


@pytest.fixture
def t0():
    return timezone.now().replace(second=0, microsecond=0)


def release(sales, planner, product, **kwargs):
    order = make_order(owner=sales, product=product, confirmed=True, **kwargs)
    return transitions.order_release(actor=planner, order=order)


def slot(order):
    op = WorkOrderOperation.objects.get(work_order__order=order)
    return op.scheduled_start, op.scheduled_end, op.scheduled_unit


def urgent_vip(sales, planner, product):
    return release(
        sales,
        planner,
        product,
        customer=CustomerFactory(tier="vip"),
        priority=Priority.URGENT,
        priority_reason="Line stop",
        promised_date=in_days(1),
    )


def test_an_operation_starting_within_the_window_keeps_its_slot(sales, planner, press, settings, t0):
    settings.PRODUCTION_FROZEN_HOURS = 8
    first = release(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0)
    before = slot(first)
    vip = urgent_vip(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0)
    assert slot(first) == before
    assert slot(vip)[0] == before[1]


def test_the_kept_slot_is_marked_frozen_in_the_plan(sales, planner, press, settings, t0):
    settings.PRODUCTION_FROZEN_HOURS = 8
    first = release(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0)
    urgent_vip(sales, planner, press)
    schedule = schedule_run(actor=planner, trigger="test", now=t0)
    entry = ScheduleEntry.objects.get(schedule=schedule, operation__work_order__order=first)
    assert entry.frozen


def test_an_operation_starting_after_the_window_is_replanned(sales, planner, press, settings, t0):
    settings.PRODUCTION_FROZEN_HOURS = 8
    first = release(sales, planner, press)
    second = release(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0)
    first_slot, second_before = slot(first), slot(second)
    assert second_before[0] - t0 >= dt.timedelta(hours=8)
    vip = urgent_vip(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0)
    assert slot(first) == first_slot
    assert slot(vip)[0] == first_slot[1]
    assert slot(second)[0] > second_before[0]


def test_without_a_window_an_urgent_order_takes_the_next_slot(sales, planner, press, settings, t0):
    settings.PRODUCTION_FROZEN_HOURS = 0
    first = release(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0)
    before = slot(first)
    vip = urgent_vip(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0)
    assert slot(vip)[0] == t0
    assert slot(first)[0] > before[0]


def test_a_started_operation_never_moves_even_without_a_window(sales, planner, press, settings, t0):
    settings.PRODUCTION_FROZEN_HOURS = 0
    first = release(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0)
    work_order = first.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    op = WorkOrderOperation.objects.get(work_order=work_order)
    work_orders.progress_report_create(
        actor=planner, operation=op, message_id="m-1", good_quantity=1, reported_at=t0
    )
    before = slot(first)
    urgent_vip(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0 + dt.timedelta(minutes=30))
    assert slot(first) == before


def test_the_optimising_engine_keeps_the_window_too(sales, planner, press, settings, t0):
    settings.PRODUCTION_FROZEN_HOURS = 8
    first = release(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0)
    before = slot(first)
    vip = urgent_vip(sales, planner, press)
    schedule_run(actor=planner, trigger="test", now=t0, method="optimised", time_limit=2)
    assert slot(first) == before
    assert slot(vip)[0] >= before[1]
