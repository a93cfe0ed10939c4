"""Order services: creation, edits, every transition, history and the outbox row."""

import datetime as dt
from decimal import Decimal

import pytest

from config.kernel.errors import Conflict, Forbidden, StaleObject, TransitionNotAllowed, ValidationFailed
from crm_sync.models import OutboxEvent
from orders import catalog
from orders import sales as services
from orders.models import OrderStatus, Priority
from orders.sales import transitions
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    complete_by_hand,
    in_days,
    make_order,
    start_by_hand,
    valid_spec,
)

pytestmark = pytest.mark.django_db


def test_it_creates_a_draft_order_with_a_unique_number_and_lines(sales, customer, product):
    order = services.order_create(
        actor=sales,
        customer=customer,
        lines=[{"product": product.pk, "quantity": "12", "spec_values": valid_spec()}],
        requested_date=in_days(20),
    )
    assert order.status == OrderStatus.DRAFT
    assert order.number.startswith("SO-")
    assert order.owner == sales
    line = order.lines.get()
    assert (line.line_no, line.quantity, line.unit) == (1, Decimal("12"), product.unit)
    assert line.due_date == in_days(20)


def test_order_numbers_are_distinct(sales):
    numbers = {make_order(owner=sales).number for _ in range(5)}
    assert len(numbers) == 5


def test_priority_follows_the_customer_tier(sales):
    vip = CustomerFactory(tier="vip")
    assert make_order(owner=sales, customer=vip).priority == Priority.URGENT


def test_overriding_the_priority_needs_a_reason(sales, customer):
    with pytest.raises(ValidationFailed) as caught:
        make_order(owner=sales, customer=customer, priority=Priority.URGENT)
    assert "priority_reason" in caught.value.fields


def test_overridden_priority_is_kept_with_its_reason(sales, customer):
    order = make_order(
        owner=sales, customer=customer, priority=Priority.URGENT, priority_reason="Line stop at client"
    )
    assert (order.priority, order.priority_overridden, order.priority_reason) == (
        Priority.URGENT,
        True,
        "Line stop at client",
    )


def test_spec_values_are_validated_against_the_family_schema(sales, customer, product):
    with pytest.raises(ValidationFailed) as caught:
        services.order_create(
            actor=sales,
            customer=customer,
            lines=[
                {"product": product.pk, "quantity": 1, "spec_values": {"material": "wood", "colour": "red"}}
            ],
        )
    fields = caught.value.fields
    assert "lines[0].spec_values.material" in fields
    assert "lines[0].spec_values.thickness_mm" in fields
    assert "lines[0].spec_values.colour" in fields


def test_bad_quantity_and_unknown_product_are_named_per_line(sales, customer, product):
    with pytest.raises(ValidationFailed) as caught:
        services.order_create(
            actor=sales,
            customer=customer,
            lines=[
                {"product": product.pk, "quantity": "-1", "spec_values": valid_spec()},
                {"product": 999999, "quantity": "x"},
            ],
        )
    assert set(caught.value.fields) >= {"lines[0].quantity", "lines[1].product", "lines[1].quantity"}


def test_nothing_is_saved_when_a_line_is_invalid(sales, customer, product):
    with pytest.raises(ValidationFailed):
        services.order_create(
            actor=sales,
            customer=customer,
            lines=[
                {"product": product.pk, "quantity": 1, "spec_values": valid_spec()},
                {"product": product.pk, "quantity": 0, "spec_values": valid_spec()},
            ],
        )
    assert not customer.orders.exists()


def test_a_requested_date_in_the_past_is_refused(sales, customer, product):
    with pytest.raises(ValidationFailed) as caught:
        make_order(owner=sales, customer=customer, product=product, requested_date=in_days(-1))
    assert "requested_date" in caught.value.fields


def test_a_user_without_the_permission_cannot_create_orders(service_agent, customer, product):
    with pytest.raises(Forbidden):
        make_order(owner=service_agent, customer=customer, product=product)


def test_a_product_family_is_changed_only_by_those_who_may(sales):
    family = ProductFactory().family
    with pytest.raises(Forbidden):
        catalog.product_family_update(actor=sales, family=family, name="Renamed")
    family.refresh_from_db()
    assert family.name != "Renamed"


def test_confirm_needs_lines(sales, customer):
    order = services.order_create(actor=sales, customer=customer, lines=[])
    with pytest.raises(ValidationFailed) as caught:
        transitions.order_confirm(actor=sales, order=order)
    assert caught.value.code == "no_lines"


def test_confirm_records_time_and_bumps_version(sales):
    order = make_order(owner=sales)
    confirmed = transitions.order_confirm(actor=sales, order=order)
    assert confirmed.status == OrderStatus.CONFIRMED
    assert confirmed.confirmed_at is not None
    assert confirmed.version == order.version + 1


def test_release_needs_a_promised_date(sales, planner):
    order = make_order(owner=sales, confirmed=True, promised=False)
    with pytest.raises(ValidationFailed) as caught:
        transitions.order_release(actor=planner, order=order)
    assert caught.value.code == "no_promised_date"


def test_the_whole_lifecycle_runs_through_the_services(sales, planner, manager):
    order = make_order(owner=sales, confirmed=True)
    order = transitions.order_release(actor=planner, order=order)
    order = start_by_hand(order)
    order = complete_by_hand(order)
    order = transitions.order_ship(actor=manager, order=order)
    order = transitions.order_close(actor=sales, order=order)
    assert order.status == OrderStatus.CLOSED
    assert order.shipped_at and order.completed_at and order.released_at


def test_hold_and_resume_return_to_the_previous_status(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    held = transitions.order_hold(actor=planner, order=order, reason="Material shortage")
    assert held.status == OrderStatus.ON_HOLD
    resumed = transitions.order_resume(actor=planner, order=held)
    assert resumed.status == OrderStatus.RELEASED


def test_hold_needs_a_reason(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    with pytest.raises(ValidationFailed):
        transitions.order_hold(actor=planner, order=order, reason=" ")


def test_an_illegal_transition_is_a_conflict(sales):
    order = make_order(owner=sales)
    with pytest.raises(TransitionNotAllowed):
        transitions.order_ship(actor=sales, order=order)


def test_sales_cannot_release(sales):
    order = make_order(owner=sales, confirmed=True)
    with pytest.raises(Forbidden):
        transitions.order_release(actor=sales, order=order)


def test_sales_cannot_act_on_another_sales_persons_order(sales, other_sales):
    order = make_order(owner=sales)
    with pytest.raises(Forbidden):
        transitions.order_confirm(actor=other_sales, order=order)


def test_sales_cannot_cancel_a_released_order_but_a_manager_can(sales, planner, manager):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    with pytest.raises(Forbidden):
        transitions.order_cancel(actor=sales, order=order, reason="Customer withdrew")
    assert (
        transitions.order_cancel(actor=manager, order=order, reason="Customer withdrew").status == "cancelled"
    )


def test_editing_with_a_stale_version_is_refused(sales):
    order = make_order(owner=sales)
    services.order_update(actor=sales, order=order, expected_version=order.version, data={"remarks": "first"})
    with pytest.raises(StaleObject):
        services.order_update(
            actor=sales, order=order, expected_version=order.version, data={"remarks": "second"}
        )


def test_two_copies_of_one_order_cannot_both_transition(sales):
    order = make_order(owner=sales)
    first, second = type(order).objects.get(pk=order.pk), type(order).objects.get(pk=order.pk)
    transitions.order_confirm(actor=sales, order=first, expected_version=first.version)
    with pytest.raises(Conflict):
        transitions.order_confirm(actor=sales, order=second, expected_version=second.version)


def test_a_released_order_is_locked_for_direct_edits(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    with pytest.raises(Conflict) as caught:
        services.order_update(actor=sales, order=order, expected_version=order.version, data={"remarks": "x"})
    assert caught.value.code == "order_locked"
    assert "change request" in caught.value.message


def test_editing_lines_updates_adds_and_removes(sales, product):
    order = make_order(owner=sales, product=product, lines=2)
    first, second = order.lines.order_by("line_no")
    other = ProductFactory(family=product.family)
    services.order_update(
        actor=sales,
        order=order,
        expected_version=order.version,
        data={},
        lines=[
            {"id": first.pk, "product": product.pk, "quantity": "99", "spec_values": valid_spec()},
            {"product": other.pk, "quantity": "5", "spec_values": valid_spec()},
        ],
        reason="Customer call 14:05",
    )
    lines = list(order.lines.order_by("line_no"))
    assert [(line.line_no, line.quantity) for line in lines] == [(1, Decimal("99")), (3, Decimal("5"))]
    assert not order.lines.filter(pk=second.pk).exists()


def test_history_records_who_and_why(sales):
    order = make_order(owner=sales)
    services.order_update(
        actor=sales,
        order=order,
        expected_version=order.version,
        data={"remarks": "pack in crates"},
        reason="Customer email 3 May",
    )
    record = order.history.first()
    assert (record.history_user, record.history_change_reason, record.remarks) == (
        sales,
        "Customer email 3 May",
        "pack in crates",
    )


def test_every_change_writes_an_outbox_event_in_sequence(sales, planner):
    order = make_order(owner=sales, confirmed=True)
    transitions.order_release(actor=planner, order=order)
    events = list(OutboxEvent.objects.filter(order=order).order_by("sequence"))
    assert [(e.sequence, e.type) for e in events] == [
        (1, "order.created"),
        (2, "order.confirmed"),
        (3, "order.released"),
    ]
    assert events[-1].data["lines"][0]["spec"] == valid_spec()
    assert events[-1].as_cloudevent()["subject"] == order.number


def test_due_dates_default_to_the_requested_date(sales, customer, product):
    order = services.order_create(
        actor=sales,
        customer=customer,
        requested_date=dt.date.today() + dt.timedelta(days=9),
        lines=[{"product": product.pk, "quantity": 1, "spec_values": valid_spec()}],
    )
    assert order.lines.get().due_date == order.requested_date


def test_master_data_writes_need_their_permission_whatever_the_door(sales):
    with pytest.raises(Forbidden):
        catalog.customer_create(actor=sales, code="NEW", name="New Works")


def test_an_admin_may_create_a_customer_through_the_service(admin_user):
    customer = catalog.customer_create(actor=admin_user, code="NEW", name="New Works")
    assert customer.history.first().history_user == admin_user
