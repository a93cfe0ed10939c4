"""A change to work under way that the MES has not acknowledged in time shows on the order page and in sync
health, and the planners are told once (crm_sync.outbox.acks, beat task crm_sync.mes_acks_overdue)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm_sync import outbox
from crm_sync.models import Delivery, ExternalSystem
from crm_sync.outbox.health import sync_health
from orders.notifications.models import Notification
from production import work_orders
from production.kpis import KpiFilters
from tests.crm_sync.factories import ExternalSystemFactory
from tests.orders.change_requests.cr_helpers import fresh, make_line, released_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(sales, planner, settings):
    """A planner held a work order; the MES took the message 10 minutes ago and never acknowledged it."""
    settings.MES_ACK_TIMEOUT_SECONDS = 120
    mes = ExternalSystemFactory(name="Line MES", slug="line-mes", kind=ExternalSystem.Kind.MES)
    order = released_order(sales, planner, make_line(planner))
    (work_order,) = fresh(order).work_orders.all()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="hold", reason="Tooling")
    Delivery.objects.filter(system=mes).update(
        state=Delivery.State.DELIVERED, delivered_at=timezone.now() - dt.timedelta(minutes=10)
    )
    return order, Delivery.objects.get(system=mes, event__type="work_order.held")


def overdue(order) -> list[str]:
    return [d.event.type for d in outbox.mes_changes_unacknowledged(now=timezone.now(), order_id=order.pk)]


def test_a_change_not_acknowledged_in_time_is_overdue_but_the_release_is_not_watched(held):
    order, _delivery = held
    assert overdue(order) == ["work_order.held"]


def test_an_acknowledged_change_is_not_overdue(held):
    order, delivery = held
    Delivery.objects.filter(pk=delivery.pk).update(acknowledged_at=timezone.now())
    assert overdue(order) == []


def test_a_change_still_within_the_timeout_is_not_overdue(held, settings):
    order, _delivery = held
    settings.MES_ACK_TIMEOUT_SECONDS = 3600
    assert overdue(order) == []


def test_the_planners_are_notified_once_per_overdue_change(held, planner, manager, sales):
    order, delivery = held
    assert outbox.mes_acks_overdue_notify(now=timezone.now()) == 1
    assert outbox.mes_acks_overdue_notify(now=timezone.now()) == 0
    notices = Notification.objects.filter(event="sync.mes_changes_unacknowledged")
    # The planner who held it is the actor of the hold, not of this notice: every planner hears of it.
    assert sorted(n.recipient.username for n in notices) == sorted([planner.username, manager.username])
    notice = notices.get(recipient=planner)
    assert order.number in notice.title and "Line MES" in notice.body and "work_order.held" in notice.body
    assert notice.link.endswith("#panel-sync-status")
    assert fresh(delivery).ack_overdue_at is not None


def test_the_order_page_shows_the_changes_the_mes_has_not_acknowledged(client, held, planner):
    order, _delivery = held
    client.force_login(planner)
    page = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert 'data-testid="sync-unacknowledged"' in page
    assert "1 change not acknowledged by the MES" in page and "work_order.held" in page


def test_the_order_page_shows_no_warning_when_everything_was_acknowledged(client, held, planner):
    order, delivery = held
    Delivery.objects.filter(pk=delivery.pk).update(acknowledged_at=timezone.now())
    client.force_login(planner)
    page = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert 'data-testid="sync-unacknowledged"' not in page


def test_sync_health_lists_and_counts_them(client, held, admin_user):
    order, _delivery = held
    client.force_login(admin_user)
    page = client.get(reverse("sync:health")).content.decode()
    table = page[page.index('data-testid="unacknowledged"') :]
    assert order.number in table[: table.index("</table>")]
    figures = {str(f.label): f.value for f in sync_health(KpiFilters.default()).figures}
    assert figures["Not acknowledged by the MES"] == 1
