"""Repairing drift by re-sending: one snapshot of the order with all its work orders, to one system; the
next run finds the MES (a real simulator process) agreeing with us."""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.kernel.errors import Conflict
from crm_sync import outbox, reconciliation
from crm_sync.models import Delivery, Drift, ExternalSystem, OutboxEvent
from orders import change_requests as crs
from tests.crm_sync.factories import ExternalSystemFactory
from tests.orders.change_requests.cr_helpers import approved, fresh, make_line, released_order, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def mes_system(mes):
    return ExternalSystemFactory(
        name="Plant MES", kind=ExternalSystem.Kind.MES, format=ExternalSystem.Format.B2MML, base_url=mes.url
    )


@pytest.fixture
def delivered(mes_system, sales, planner):
    """Released (two work orders of 5) and delivered to the MES simulator."""
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    outbox.deliveries_drain(system_id=mes_system.pk, order_id=order.pk)
    return fresh(order)


def lose_what_is_pending(order):
    """The MES answered 200 and then lost it: what reconciliation is for."""
    Delivery.objects.filter(order=order, state=Delivery.State.PENDING).update(state=Delivery.State.DELIVERED)


def test_an_order_the_mes_holds_as_sent_has_no_drift(mes_system, delivered):
    assert reconciliation.reconcile_system(system=mes_system) == []


def test_a_resend_repairs_every_drift_of_that_order_with_that_system(mes_system, delivered, admin_user):
    first, second = delivered.work_orders.order_by("number")
    for number in (first.number, second.number):
        Drift.objects.create(
            system=mes_system,
            order=delivered,
            subject=number,
            work_order=number,
            kind=Drift.Kind.QUANTITY,
            ours={"quantity": "5.000"},
            theirs={"quantity": "4"},
            detected_at="2026-11-26T00:00:00Z",
            last_seen_at="2026-11-26T00:00:00Z",
        )
    one = Drift.objects.filter(subject=first.number).get()

    outcome = reconciliation.drift_repair(drift=one, actor=admin_user)
    outbox.deliveries_drain(system_id=mes_system.pk, order_id=delivered.pk)

    assert delivered.number in outcome
    assert not reconciliation.open_drifts().exists()
    assert OutboxEvent.objects.filter(order=delivered, type="order.resync").count() == 1
    assert reconciliation.reconcile_system(system=mes_system) == []


def test_a_quantity_change_the_mes_lost_is_a_drift_of_that_work_order_and_a_resend_repairs_it(
    mes_system, delivered, sales, planner, manager, admin_user
):
    first, _second = delivered.work_orders.order_by("number")
    report(planner, first, good=2)
    changes = [{"op": "set_quantity", "line_no": 1, "quantity": "7"}]  # the second lot: 5 → 2
    crs.change_request_apply(
        actor=manager, change_request=approved(sales, planner, delivered, changes, manager=manager)
    )
    lose_what_is_pending(delivered)

    found = reconciliation.reconcile_system(system=mes_system)
    drift = next(d for d in found if d.kind == Drift.Kind.QUANTITY)
    reconciliation.drift_repair(drift=drift, actor=admin_user)
    outbox.deliveries_drain(system_id=mes_system.pk, order_id=delivered.pk)

    assert (drift.work_order, drift.ours, drift.theirs) == (
        f"{delivered.number}-02",
        {"quantity": "2.000"},
        {"quantity": "5.000"},
    )
    assert reconciliation.reconcile_system(system=mes_system) == []


def test_a_hold_the_mes_lost_is_a_status_drift_per_work_order(mes_system, delivered, sales, planner, manager):
    changes = [{"op": "hold"}]
    crs.change_request_apply(
        actor=manager, change_request=approved(sales, planner, delivered, changes, manager=manager)
    )
    lose_what_is_pending(delivered)

    found = reconciliation.reconcile_system(system=mes_system)

    held = sorted((d.work_order, d.ours["status"], d.theirs["status"]) for d in found if d.kind == "status")
    numbers = delivered.work_orders.order_by("number").values_list("number", flat=True)
    assert held == [(number, "Held", "Released") for number in numbers]


def test_repairing_an_orders_drifts_together_in_the_admin_resends_it_once(
    client, mes_system, delivered, admin_user
):
    numbers = delivered.work_orders.order_by("number").values_list("number", flat=True)
    drifts = [
        Drift.objects.create(
            system=mes_system,
            order=delivered,
            subject=number,
            work_order=number,
            kind=Drift.Kind.STATUS,
            ours={"status": "Held"},
            theirs={"status": "Released"},
            detected_at="2026-11-26T00:00:00Z",
            last_seen_at="2026-11-26T00:00:00Z",
        )
        for number in numbers
    ]
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:crm_sync_drift_changelist"),
        {"action": "repair", "_selected_action": [drift.pk for drift in drifts]},
    )

    assert response.status_code == 302
    assert OutboxEvent.objects.filter(order=delivered, type="order.resync").count() == 1
    assert not reconciliation.open_drifts().exists()


def test_a_drift_resolved_meanwhile_is_not_repaired_twice(mes_system, delivered, admin_user):
    drift = Drift.objects.create(
        system=mes_system,
        order=delivered,
        subject=delivered.number,
        kind=Drift.Kind.REVISION,
        ours={"revision": 1},
        theirs={"revision": 0},
        detected_at="2026-11-26T00:00:00Z",
        last_seen_at="2026-11-26T00:00:00Z",
    )
    stale = Drift.objects.get(pk=drift.pk)
    reconciliation.drift_repair(drift=drift, actor=admin_user)

    with pytest.raises(Conflict):
        reconciliation.drift_repair(drift=stale, actor=admin_user)
    assert OutboxEvent.objects.filter(order=delivered, type="order.resync").count() == 1
