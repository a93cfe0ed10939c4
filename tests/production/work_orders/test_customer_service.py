"""What production tells customer service: exceptions and new risks as events, progress and projection for
the tracking page and the desk, lot numbers that find their order, and the order page's "at a glance"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import Notification
from orders.notifications.models import NotificationKind
from orders.sales import transitions
from orders.service_desk import selectors as service_desk
from orders.tracking import services as tracking
from production import work_orders
from production.scheduling import OrderProjection, schedule_run
from tests.factories import ProductFactory, in_days, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def press(planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])  # 60 minutes per piece: an order of 10 takes 10 h
    return product


def release(sales, planner, product, **kwargs):
    order = make_order(owner=sales, product=product, confirmed=True, **kwargs)
    return transitions.order_release(actor=planner, order=order)


# --- events -----------------------------------------------------------------------------------------------
def test_an_exception_on_a_work_order_notifies_the_orders_owner(sales, planner, press):
    order = release(sales, planner, press)
    work_order = order.work_orders.get()
    work_orders.exception_raise(
        actor=planner,
        kind="material_shortage",
        severity="high",
        work_order=work_order,
        description="Coil 2 mm not delivered",
    )
    notice = Notification.objects.get(kind=NotificationKind.EXCEPTION_RAISED)
    assert notice.recipient == sales
    assert "Material shortage" in notice.title and order.number in notice.title
    assert work_order.number in notice.body and "Coil 2 mm not delivered" in notice.body


def test_an_exception_on_a_work_center_alone_notifies_no_order_owner(sales, planner, press):
    release(sales, planner, press)
    center = make_work_center(planner, "SAW")
    work_orders.exception_raise(actor=planner, kind="machine_breakdown", work_center=center)
    assert not Notification.objects.exists()


def test_an_order_newly_at_risk_notifies_its_owner_once(sales, planner, press):
    release(sales, planner, press, lines=3, promised_date=in_days(40))
    late = release(sales, planner, press, promised_date=in_days(1))
    later = timezone.now() + dt.timedelta(days=3)
    schedule_run(actor=planner, trigger="test", now=later)
    schedule_run(actor=planner, trigger="test", now=later)  # still at risk: no news
    notices = Notification.objects.filter(kind=NotificationKind.ORDER_AT_RISK)
    assert [(n.recipient, n.order) for n in notices] == [(sales, late)]
    assert "PRESS" in notices[0].body  # why, from the plan


# --- progress and projection -----------------------------------------------------------------------------
def test_the_tracking_page_expects_the_plans_date_when_it_is_later_than_the_promise(sales, planner, press):
    order = release(sales, planner, press, promised_date=in_days(1))
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(days=3))
    projection = OrderProjection.objects.get(order=order, schedule__is_current=True)
    view = tracking.tracking_view(link=tracking.tracking_link_create(actor=sales, order=order))
    assert view.expected_date == projection.projected_completion.date()
    assert view.expected_is_projection
    assert view.percent_complete == 0


def test_the_tracking_page_keeps_the_promise_when_the_plan_is_earlier(sales, planner, press):
    order = release(sales, planner, press, promised_date=in_days(30))
    schedule_run(actor=planner, trigger="test")
    view = tracking.tracking_view(link=tracking.tracking_link_create(actor=sales, order=order))
    assert (view.expected_date, view.expected_is_projection) == (order.promised_date, False)


def test_the_desk_finds_an_order_by_one_of_its_lot_numbers(sales, planner, press, service_agent):
    order = release(sales, planner, press)
    make_order(owner=sales, product=press)  # another order of the same customer base
    work_orders.lot_create(
        actor=planner, work_order=producing(planner, order), number="L-2026-QX815", quantity=5
    )
    # Letters no order or work order number holds (numbers are counters, and the suite makes many orders).
    results = service_desk.desk_search(user=service_agent, term="QX815")
    assert [r.order for r in results] == [order]
    assert results[0].matched == ["lot: L-2026-QX815"]


def test_the_desk_shows_the_risk_of_each_result(sales, planner, press, service_agent):
    order = release(sales, planner, press, promised_date=in_days(1), customer_po="PO-RISK")
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(days=3))
    [result] = service_desk.desk_search(user=service_agent, term="PO-RISK")
    assert result.order == order and result.at_risk and result.projected_date is not None


def test_the_desk_lists_orders_at_risk_earliest_promise_first_before_any_search(
    client, sales, planner, press, service_agent
):
    on_time = release(sales, planner, press, promised_date=in_days(60))
    late = release(sales, planner, press, promised_date=in_days(2))
    later = release(sales, planner, press, promised_date=in_days(1))
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(days=3))
    client.force_login(service_agent)
    response = client.get(reverse("service:desk"))
    rows = response.context["at_risk"]
    assert [row.order for row in rows] == [later, late]
    assert on_time.number not in response.content.decode()
    assert rows[0].days_late == (rows[0].projected_date - later.promised_date).days > 0


def test_the_desk_worklist_leaves_out_orders_the_user_may_not_see(sales, other_sales, planner, press):
    mine = release(sales, planner, press, promised_date=in_days(1))
    release(other_sales, planner, press, promised_date=in_days(1))
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(days=3))
    rows, total = service_desk.desk_at_risk(user=sales)
    assert ([row.order for row in rows], total) == ([mine], 1)


def test_the_desk_says_when_no_order_is_at_risk(client, sales, planner, press, service_agent):
    release(sales, planner, press, promised_date=in_days(60))
    schedule_run(actor=planner, trigger="test")
    client.force_login(service_agent)
    response = client.get(reverse("service:desk"))
    assert b'data-testid="desk-no-risk"' in response.content


def test_at_a_glance_shows_risk_progress_and_lots_with_their_inspections(
    client, sales, planner, press, service_agent
):
    order = release(sales, planner, press, promised_date=in_days(1))
    lot = work_orders.lot_create(
        actor=planner, work_order=producing(planner, order), number="L-77", quantity=5
    )
    work_orders.inspection_record(actor=planner, lot=lot, result="fail", defect_code="SCRATCH")
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(days=3))
    client.force_login(service_agent)
    page = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert 'data-testid="panel-at-a-glance"' in page
    assert 'data-testid="glance-risk">At risk' in page
    assert "L-77" in page and "SCRATCH" in page


def test_the_desk_runs_a_fixed_number_of_queries_however_many_orders_match(
    client, sales, planner, press, service_agent
):
    def lots(prefix: str, count: int) -> None:
        for index in range(count):
            order = release(sales, planner, press)
            work_orders.lot_create(
                actor=planner, work_order=producing(planner, order), number=f"{prefix}-{index}", quantity=1
            )

    lots("FEW", 1)
    lots("MANY", 5)
    client.force_login(service_agent)
    client.get(reverse("service:desk"), {"q": "FEW"})  # warm the session and permissions
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("service:desk"), {"q": "FEW-"})
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("service:desk"), {"q": "MANY-"})
    assert len(many) == len(few)


def producing(planner, order):
    """The order's work order, released to the shop floor with some parts made: lots can be recorded."""
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    operation = work_order.operations.order_by("sequence").first()
    work_orders.progress_report_create(
        actor=planner, operation=operation, message_id=f"made-{work_order.pk}", good_quantity=1
    )
    return work_order


def test_why_an_order_is_at_risk_reads_in_the_readers_language(client, sales, planner, press, service_agent):
    order = release(sales, planner, press, promised_date=in_days(1))
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(days=3))
    projection = OrderProjection.objects.get(order=order, schedule__is_current=True)
    assert projection.why_detail["kind"] == "wait" and projection.why.startswith("waits")
    client.force_login(service_agent)
    client.post(reverse("set_language"), {"language": "zh-hans"})
    page = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert "等待工作中心 PRESS" in page and "waits" not in page
