"""order_create_and_advance: an order entered in a later status (a CRM's "created, released") in one pass."""

import pytest
from django.db import transaction

from config.kernel.errors import Conflict, Forbidden, ValidationFailed
from crm_sync.models import OutboxEvent
from orders import sales as services
from orders.models import OrderStatus, SalesOrder
from production.work_orders import WorkOrder
from tests.factories import in_days, valid_spec

pytestmark = pytest.mark.django_db


def _enter(actor, customer, product, transitions, **fields):
    return services.order_create_and_advance(
        actor=actor,
        transitions=transitions,
        customer=customer,
        lines=[{"product": product.pk, "quantity": "12", "spec_values": valid_spec()}],
        requested_date=in_days(20),
        promised_date=fields.pop("promised_date", in_days(25)),
        reason="Entered in the CRM",
        **fields,
    )


def test_an_order_entered_released_is_released_with_its_work_orders(admin_user, customer, product):
    order = SalesOrder.objects.get(pk=_enter(admin_user, customer, product, ["confirm", "release"]).pk)

    assert order.status == OrderStatus.RELEASED
    assert order.confirmed_at is not None and order.released_at is not None
    assert WorkOrder.objects.filter(order=order).count() == 1


def test_each_step_gets_its_own_history_row_with_the_actor_and_reason(admin_user, customer, product):
    order = _enter(admin_user, customer, product, ["confirm", "release"])

    rows = list(order.history.order_by("history_id"))
    assert [row.status for row in rows] == [OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.RELEASED]
    assert {row.history_user_id for row in rows} == {admin_user.pk}
    assert {row.history_change_reason for row in rows} == {"Entered in the CRM"}


def test_each_step_publishes_its_own_event_with_its_own_snapshot_in_sequence(admin_user, customer, product):
    order = _enter(admin_user, customer, product, ["confirm", "release"])

    events = list(OutboxEvent.objects.filter(order=order).order_by("sequence"))
    assert [(e.sequence, e.type, e.data["status"]) for e in events] == [
        (1, "order.created", OrderStatus.DRAFT),
        (2, "order.confirmed", OrderStatus.CONFIRMED),
        (3, "order.released", OrderStatus.RELEASED),
    ]
    assert [wo["number"] for wo in events[2].data["work_orders"]] == [f"{order.number}-01"]


def test_a_refused_step_keeps_nothing_of_the_order(admin_user, customer, product):
    with pytest.raises(ValidationFailed) as refused, transaction.atomic():
        _enter(admin_user, customer, product, ["confirm", "release"], promised_date=None)

    assert refused.value.code == "no_promised_date"
    assert not SalesOrder.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_the_actor_needs_the_rights_of_every_step(sales, customer, product):
    with pytest.raises(Forbidden), transaction.atomic():
        _enter(sales, customer, product, ["confirm", "release"])

    assert not SalesOrder.objects.exists()


def test_a_crm_id_taken_since_the_caller_checked_it_is_refused_by_the_unique_index(
    admin_user, customer, product
):
    first = _enter(admin_user, customer, product, ["confirm"], crm_id="CRM-7")

    # The CRM handler looked the id up itself (crm_id_checked) and another order took it meanwhile.
    with pytest.raises(Conflict), transaction.atomic():
        _enter(admin_user, customer, product, ["confirm", "release"], crm_id="CRM-7", crm_id_checked=True)

    assert list(SalesOrder.objects.values_list("pk", flat=True)) == [first.pk]
    assert not WorkOrder.objects.exists()


def test_the_later_steps_snapshots_carry_the_lines_as_stored(admin_user, customer, product):
    order = _enter(admin_user, customer, product, ["confirm", "release"])

    stored = services.order_event_payload(SalesOrder.objects.get(pk=order.pk))["lines"]
    events = OutboxEvent.objects.filter(order=order, type__in=["order.confirmed", "order.released"])
    assert [event.data["lines"] for event in events] == [stored, stored]
    assert stored[0]["quantity"] == "12.000"


def test_each_steps_history_row_is_the_order_as_that_step_left_it(admin_user, customer, product):
    order = _enter(admin_user, customer, product, ["confirm", "release"])

    rows = list(order.history.order_by("history_id"))
    assert [(row.history_type, row.version) for row in rows] == [("+", 1), ("~", 2), ("~", 3)]
    assert rows[1].confirmed_at is not None and rows[1].released_at is None
    assert rows[2].released_at == SalesOrder.objects.get(pk=order.pk).released_at
    assert rows[0].history_date <= rows[1].history_date <= rows[2].history_date
