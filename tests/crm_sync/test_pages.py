"""The order's sync panel, the admins' sync-health page, reconciliation's drift page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm_sync import outbox, reconciliation
from crm_sync.models import Delivery, Drift, ExternalSystem, OutboxEvent
from orders.sales import transitions
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered_order(crm, sales):
    system = ExternalSystemFactory(name="Main CRM", slug="main-crm", base_url=crm.url)
    order = make_order(owner=sales)
    outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)
    return order


def test_the_order_page_shows_each_systems_sync_status(client, planner, delivered_order):
    client.force_login(planner)

    response = client.get(reverse("orders:order_detail", args=[delivered_order.number]))

    panel = response.content.decode()
    assert 'data-testid="panel-sync-status"' in panel
    assert 'data-testid="sync-system-main-crm"' in panel
    assert "1 delivered" in panel


def test_the_sync_panel_is_hidden_from_those_who_may_not_see_deliveries(client, sales, delivered_order):
    client.force_login(sales)

    response = client.get(reverse("orders:order_detail", args=[delivered_order.number]))

    assert response.status_code == 200
    assert 'data-testid="panel-sync-status"' not in response.content.decode()


def test_the_attempt_log_is_one_click_away_as_an_htmx_partial(client, planner, delivered_order):
    client.force_login(planner)
    delivery = Delivery.objects.get(order=delivered_order)

    response = client.get(reverse("sync:attempts", args=[delivery.pk]), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert 'data-testid="attempt-log"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_an_outsider_cannot_see_the_attempt_log(client, outsider, delivered_order):
    client.force_login(outsider)
    delivery = Delivery.objects.get(order=delivered_order)

    assert client.get(reverse("sync:attempts", args=[delivery.pk])).status_code == 403


def test_admins_see_backlog_failures_and_latency_on_the_health_page(client, admin_user, delivered_order):
    client.force_login(admin_user)

    response = client.get(reverse("sync:health"))

    assert response.status_code == 200
    [row] = response.context["systems"]
    assert (row.system.backlog, row.system.dead, row.latency["hour"]["count"]) == (0, 0, 1)
    assert row.latency["hour"]["p99"] is not None
    assert reverse("sync:health") in response.content.decode()  # the nav link


@pytest.mark.parametrize("persona", ["outsider", "sales", "planner"])
def test_only_admins_open_the_health_page(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("sync:health")).status_code == 403


def test_a_dead_letter_is_replayed_from_the_health_page(client, admin_user, crm, sales, settings):
    settings.SYNC_MAX_ATTEMPTS = 1
    system = ExternalSystemFactory(base_url=crm.url)
    crm.control(fail_next=1)
    order = make_order(owner=sales)
    outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)
    dead = Delivery.objects.get(state=Delivery.State.DEAD)
    client.force_login(admin_user)

    response = client.post(reverse("sync:replay"), {"delivery": [dead.pk]})
    outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)

    assert response.status_code == 302
    assert Delivery.objects.get(pk=dead.pk).state == Delivery.State.DELIVERED


def test_an_outsider_cannot_replay(client, outsider):
    client.force_login(outsider)

    assert client.post(reverse("sync:replay"), {"delivery": [1]}).status_code == 403


def test_reconciliation_finds_an_order_the_mes_does_not_know_and_resends_it(mes, sales, planner, admin_user):
    system = ExternalSystemFactory(
        kind=ExternalSystem.Kind.MES, base_url=mes.url, event_types=["order.released"]
    )
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)
    mes.control(reset=True)  # the MES lost it

    [drift] = reconciliation.reconcile_system(system=system)
    outcome = reconciliation.drift_repair(drift=drift, actor=admin_user)
    outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)

    assert drift.kind == Drift.Kind.MISSING_THERE
    assert order.number in outcome
    assert OutboxEvent.objects.filter(order=order, type="order.resync").count() == 1
    assert [item["subject"] for item in mes.received()] == [order.number]
    assert reconciliation.reconcile_system(system=system) == []
    assert Drift.objects.get(pk=drift.pk).resolved_at is not None


def test_reconciliation_lists_a_status_the_crm_holds_differently(crm, sales, planner):
    system = ExternalSystemFactory(base_url=crm.url)
    order = make_order(owner=sales, confirmed=True)
    outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)
    transitions.order_hold(actor=planner, order=order, reason="credit check")
    # The CRM answered 200 to the hold and then lost it (what reconciliation is for):
    Delivery.objects.filter(order=order, state=Delivery.State.PENDING).update(state=Delivery.State.DELIVERED)

    [drift] = reconciliation.reconcile_system(system=system)

    assert (drift.subject, drift.kind) == (order.number, Drift.Kind.STATUS)
    assert (drift.ours["status"], drift.theirs["status"]) == ("on_hold", "confirmed")


def test_the_drift_page_lists_open_drift_for_planners_and_admins_repair(client, planner, admin_user, crm):
    system = ExternalSystemFactory(base_url=crm.url)
    Drift.objects.create(
        system=system,
        subject="SO-X",
        kind=Drift.Kind.MISSING_HERE,
        detected_at="2026-11-26T00:00:00Z",
        last_seen_at="2026-11-26T00:00:00Z",
    )
    client.force_login(planner)
    page = client.get(reverse("sync:drift"))
    client.force_login(admin_user)
    admin_page = client.get(reverse("sync:drift"))

    assert page.status_code == 200 and "SO-X" in page.content.decode()
    assert reverse("sync:reconcile") not in page.content.decode()
    assert reverse("sync:reconcile") in admin_page.content.decode()


def test_an_outsider_cannot_see_drift(client, outsider):
    client.force_login(outsider)

    assert client.get(reverse("sync:drift")).status_code == 403
