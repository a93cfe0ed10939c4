"""`manage.py setup_demo` with production: a plant that has been running for months.

The demo is loaded once for this module inside a transaction that is rolled back at the end; each test
reads it inside its own savepoint.
"""

import datetime as dt
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm_sync.models import OutboxEvent
from orders.models import OrderStatus, Product, SalesOrder
from production.master_data import CalendarException, Routing, WorkCenter
from production.scheduling import Schedule
from production.work_orders import (
    Lot,
    ProductionException,
    ProgressReport,
    QualityInspection,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)

pytestmark = pytest.mark.django_db

SHIPPED = (OrderStatus.SHIPPED, OrderStatus.CLOSED)
OPEN = (
    OrderStatus.DRAFT,
    OrderStatus.CONFIRMED,
    OrderStatus.RELEASED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.COMPLETED,
    OrderStatus.ON_HOLD,
)


def load(orders: int, seed: int = 42) -> str:
    out = StringIO()
    call_command("setup_demo", "--seed", str(seed), "--orders", str(orders), stdout=out)
    return out.getvalue()


# What the loading logged at INFO or above (the whole demo: production's steps and plan run too).
LOGGED: list[logging.LogRecord] = []


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker):
    handler = logging.Handler(level=logging.INFO)
    handler.emit = LOGGED.append  # type: ignore[method-assign]
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            output = load(45)
            root.removeHandler(handler)
            yield output
            transaction.set_rollback(True)
    finally:
        root.removeHandler(handler)


def test_loading_the_demo_logs_no_info_lines_between_the_passwords_and_the_start():
    assert [record.getMessage() for record in LOGGED if record.levelno == logging.INFO] == []


def test_it_creates_work_centers_with_shifts_and_a_routing_for_every_product():
    centers = WorkCenter.objects.prefetch_related("shifts")

    assert centers.count() >= 10
    assert all(center.shifts.exists() for center in centers)
    assert Routing.objects.count() == Product.objects.count()
    assert all(2 <= routing.operations.count() <= 5 for routing in Routing.objects.all())


def test_the_calendar_has_plant_holidays_and_an_extra_shift():
    assert CalendarException.objects.filter(work_center=None, is_working=False).count() >= 2
    assert CalendarException.objects.filter(is_working=True).exists()


def test_orders_in_production_have_released_work_orders_with_progress():
    in_production = SalesOrder.objects.filter(status=OrderStatus.IN_PRODUCTION)

    assert in_production.exists()
    for order in in_production:
        assert ProgressReport.objects.filter(operation__work_order__order=order).exists(), order.number


def test_progress_drove_orders_to_completed_through_the_system_actor():
    completers = set(
        SalesOrder.history.filter(status=OrderStatus.COMPLETED, history_type="~")
        .exclude(history_change_reason__startswith="Demo")
        .values_list("history_user__username", flat=True)
    )

    assert completers == {"orderbridge-production"}


def test_order_moments_lie_in_the_past_in_the_order_of_their_steps():
    now = timezone.now()
    for order in SalesOrder.objects.all():
        moments = [
            order.created_at,
            order.confirmed_at,
            order.released_at,
            order.completed_at,
            order.shipped_at,
        ]
        reached = [moment for moment in moments if moment is not None]
        assert reached == sorted(reached), order.number
        assert reached[-1] <= now


def test_orders_were_entered_over_months():
    first = SalesOrder.objects.order_by("created_at").first()

    assert timezone.now() - first.created_at > dt.timedelta(days=60)


def test_history_and_outbox_rows_carry_the_moment_of_their_change():
    order = SalesOrder.objects.filter(status=OrderStatus.CLOSED).first()
    release = order.history.get(status=OrderStatus.RELEASED, history_type="~")
    event = OutboxEvent.objects.get(order_id=order.pk, type="order.released")

    assert release.history_date == order.released_at
    assert event.created_at == order.released_at


def test_most_shipped_orders_are_on_time_and_some_are_late():
    shipped = SalesOrder.objects.filter(status__in=SHIPPED)
    late = [order for order in shipped if timezone.localdate(order.shipped_at) > order.promised_date]

    assert 0 < len(late) < shipped.count() / 2


def test_open_orders_have_dates_ahead_and_shipped_orders_dates_behind():
    today = timezone.localdate()

    assert all(order.requested_date >= today for order in SalesOrder.objects.filter(status__in=OPEN))
    assert all(order.promised_date < today for order in SalesOrder.objects.filter(status=OrderStatus.CLOSED))


def test_completed_work_orders_have_a_lot_with_an_inspection_and_a_few_losses():
    completed = WorkOrder.objects.filter(status=WorkOrderStatus.COMPLETED)

    assert completed.exists()
    assert Lot.objects.filter(work_order__in=completed).count() == completed.count()
    assert QualityInspection.objects.count() == Lot.objects.count()
    assert ProgressReport.objects.filter(scrap_quantity__gt=0).exists()


def test_no_work_center_has_more_operations_under_way_than_units():
    under_way = WorkOrderOperation.objects.filter(status="started")
    assert under_way.exists()
    for center in WorkCenter.objects.all():
        assert under_way.filter(work_center=center).count() <= center.units, center.code


def test_finished_operations_took_time_on_the_shop_floor():
    finished = WorkOrderOperation.objects.filter(status="completed")
    assert finished.exists()
    assert not finished.filter(actual_start__gte=F("actual_end")).exists()


def test_some_production_exceptions_are_resolved_and_some_open():
    assert ProductionException.objects.filter(resolved_at__isnull=True).exists()
    assert ProductionException.objects.filter(resolved_at__isnull=False).exists()


def test_a_current_schedule_plans_the_open_work():
    schedule = Schedule.objects.get(is_current=True)

    assert schedule.work_orders > 0
    assert schedule.entries.exists()
    assert schedule.projections.exists()


def test_the_approvers_inbox_has_change_requests_waiting_and_decided_ones_in_history():
    from orders.models import ChangeRequest

    statuses = set(ChangeRequest.objects.values_list("status", flat=True))
    assert "submitted" in statuses
    assert statuses & {"applied", "rejected"}
    assert all(cr.submitted_at is not None for cr in ChangeRequest.objects.all())
