"""The hand-off of new work orders to the outbox is a contract (WorkOrdersCreated), not handler order.

Whatever order the bus's subscribers run in, a release (entered directly, or by the CRM as created and
released at once) makes the same work orders, and the outbox gets the same rows with the same work orders.
"""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.kernel import bus
from config.kernel.events import OrderEvent, WorkOrdersCreated
from crm_sync.models import OutboxEvent
from orders import sales as order_services
from production.work_orders import WorkOrder
from tests.factories import in_days, make_order, valid_spec
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


def subscriber_orders():
    """The start-up order, its reverse (the outbox before production), and a few shuffles."""
    original = bus.subscriptions()
    orders = [("as started", original), ("reversed", list(reversed(original)))]
    for seed in range(4):
        shuffled = list(original)
        random.Random(seed).shuffle(shuffled)
        orders.append((f"shuffled {seed}", shuffled))
    return orders


@pytest.fixture
def lot_product(planner, product):
    cut = make_work_center(planner, "CUT")
    weld = make_work_center(planner, "WELD", units=2)
    make_routing(planner, product, [(cut, 30, "2"), (weld, 0, "1.5")], lot_size=5)
    return product


def outcome(order):
    """The order's work orders and outbox rows, with the order's number left out (each run makes its own)."""

    def plain(value):
        return value.replace(order.number, "SO") if isinstance(value, str) else value

    work_orders = [
        (
            plain(wo.number),
            wo.quantity,
            wo.status,
            [
                (op.sequence, op.work_center.code, op.planned_minutes)
                for op in wo.operations.order_by("sequence")
            ],
        )
        for wo in WorkOrder.objects.filter(order=order).order_by("number")
    ]
    rows = [
        (
            row.sequence,
            row.type,
            [{**wo, "number": plain(wo["number"])} for wo in row.data["work_orders"]]
            if "work_orders" in row.data
            else None,
        )
        for row in OutboxEvent.objects.filter(order=order).order_by("sequence")
    ]
    return work_orders, rows


def release(sales, planner, product):
    order = make_order(owner=sales, product=product, confirmed=True, lines=2)
    return order_services.order_release(actor=planner, order=order)


def enter_released(admin_user, customer, product):
    return order_services.order_create_and_advance(
        actor=admin_user,
        transitions=["confirm", "release"],
        customer=customer,
        lines=[{"product": product.pk, "quantity": "12", "spec_values": valid_spec()}],
        requested_date=in_days(20),
        promised_date=in_days(25),
        reason="Entered in the CRM",
    )


def test_a_release_gives_the_same_work_orders_and_outbox_rows_whatever_the_subscriber_order(
    sales, planner, lot_product
):
    outcomes = {}
    for name, subscriptions in subscriber_orders():
        with bus.subscriptions_replaced(subscriptions):
            outcomes[name] = outcome(release(sales, planner, lot_product))

    expected = outcomes.pop("as started")
    work_orders, rows = expected
    assert [wo[0] for wo in work_orders] == ["SO-01", "SO-02", "SO-03", "SO-04", "SO-05", "SO-06"]
    released = [row for row in rows if row[1] == "order.released"]
    assert len(released) == 1 and [wo["number"] for wo in released[0][2]] == [wo[0] for wo in work_orders]
    assert all(wo["operations"] for wo in released[0][2])
    for name, got in outcomes.items():
        assert got == expected, name


def test_an_order_the_crm_enters_released_gives_the_same_outcome_whatever_the_subscriber_order(
    admin_user, customer, lot_product
):
    outcomes = {}
    for name, subscriptions in subscriber_orders():
        with bus.subscriptions_replaced(subscriptions):
            outcomes[name] = outcome(enter_released(admin_user, customer, lot_product))

    expected = outcomes.pop("as started")
    _, rows = expected
    assert [(sequence, kind) for sequence, kind, _ in rows] == [
        (1, "order.created"),
        (2, "order.confirmed"),
        (3, "order.released"),
    ]
    assert [wo["number"] for wo in rows[2][2]] == ["SO-01", "SO-02", "SO-03"]
    for name, got in outcomes.items():
        assert got == expected, name


def test_the_release_row_takes_the_announced_work_orders_without_reading_them_back(
    sales, planner, lot_product
):
    order = make_order(owner=sales, product=lot_product, confirmed=True)
    with CaptureQueriesContext(connection) as queries:
        order_services.order_release(actor=planner, order=order)

    reads = [q["sql"] for q in queries.captured_queries if 'FROM "production_workorder"' in q["sql"]]
    # The one read is the release's own "made for this revision yet?"; the outbox reads none back.
    assert len(reads) == 1, reads


def test_work_orders_are_announced_once_with_their_operations(sales, planner, lot_product):
    seen: list[OrderEvent] = []
    bus.subscribe(seen.append, to=(WorkOrdersCreated,))
    try:
        order = release(sales, planner, lot_product)
    finally:
        bus.unsubscribe(seen.append)

    [event] = seen
    assert event.order.pk == order.pk and event.revision == order.revision
    assert [wo.number for wo in event.work_orders] == [f"{order.number}-0{n}" for n in range(1, 7)]
    assert all(
        [op.work_center.code for op in wo.operations_made] == ["CUT", "WELD"] for wo in event.work_orders
    )
    assert event.actor == planner
