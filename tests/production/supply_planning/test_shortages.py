"""Shortages: material availability is each work order's release in the plan; a new shortage raises one
production exception (the existing flow tells sales and the CRM), however often the list is refreshed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm_sync.models import OutboxEvent
from orders.notifications.models import Notification, NotificationKind
from orders.sales import transitions
from production.scheduling import schedule_run
from production.scheduling.models import ScheduleEntry
from production.supply_planning import Shortage, shortages_refresh
from production.work_orders import ExceptionKind, ProductionException
from tests.factories import make_order
from tests.production.supply_planning.conftest import in_days_date, purchase, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def short_order(sales, planner, buyer, frame, profile):
    """10 frames need 20 m of AL-6063: 4 m in stock, 50 m coming in 6 days."""
    stock(profile, "4")
    po = purchase(buyer, profile, "50", days=6)
    order = make_order(owner=sales, product=frame, confirmed=True)
    order = transitions.order_release(actor=planner, order=order)
    return order, po


def test_a_work_order_starts_no_earlier_than_its_material_arrives(planner, short_order):
    schedule_run(actor=planner, trigger="test")
    start = ScheduleEntry.objects.get(schedule__is_current=True).start
    arrival = dt.datetime.combine(in_days_date(6), dt.time(0), tzinfo=timezone.get_default_timezone())
    assert start >= arrival


def test_a_new_shortage_raises_one_production_exception_however_often_it_is_refreshed(planner, short_order):
    order, po = short_order
    [shortage] = shortages_refresh()
    assert shortages_refresh() == []
    schedule_run(actor=planner, trigger="test")
    assert shortages_refresh() == []
    exception = ProductionException.objects.get(kind=ExceptionKind.MATERIAL_SHORTAGE)
    assert exception.work_order.order == order
    assert "AL-6063" in exception.description and po.number in exception.description
    assert shortage.exception == exception
    assert timezone.localtime(shortage.projected_at).date() == in_days_date(6)


def test_a_shortage_ends_when_its_material_is_there(short_order, profile):
    shortages_refresh()
    stock(profile, "100")
    shortages_refresh()
    assert Shortage.objects.get().resolved_at is not None
    assert ProductionException.objects.get().resolved_at is not None


def test_the_sales_person_and_the_crm_hear_of_a_new_shortage_with_its_projected_date(sales, short_order):
    order, po = short_order

    shortages_refresh()

    notice = Notification.objects.get(kind=NotificationKind.EXCEPTION_RAISED)
    assert notice.recipient == sales and order.number in notice.title
    assert "AL-6063" in notice.body and po.number in notice.body
    assert in_days_date(6).isoformat() in notice.body
    sent = OutboxEvent.objects.get(order_id=order.pk, type="production.exception_raised")
    assert sent.data["kind"] == ExceptionKind.MATERIAL_SHORTAGE
    assert sent.data["expected_delay_minutes"] >= 5 * 24 * 60  # the material is 6 days out
