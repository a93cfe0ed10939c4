"""Stock follows production and purchasing: reservations at release, backflush with progress (scrap too),
receipts against purchase orders, adjustments with a reason."""

import datetime as dt
from decimal import Decimal

import pytest

from config.kernel.errors import Forbidden, ValidationFailed
from orders.sales import transitions
from production import materials, work_orders
from production.materials import (
    ItemKind,
    MovementKind,
    PurchaseLineInput,
    PurchaseOrderStatus,
    ReservationState,
    StockMovement,
)
from tests.factories import ProductFactory, UserFactory, make_order
from tests.production.conftest import make_routing, make_work_center
from tests.production.materials.factories import ItemFactory, LocationFactory, make_bom

pytestmark = pytest.mark.django_db


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


@pytest.fixture
def buyer(db):
    return UserFactory(username="bea", role="purchasing")


@pytest.fixture
def frame(planner):
    """A frame made in two operations: CUT consumes tube (5 % scrap), WELD consumes wire via a welded
    sub-assembly; the line's spec (valid_spec: finish powder) adds powder in its colour."""
    cut, weld = make_work_center(planner, "CUT"), make_work_center(planner, "WELD")
    product = ProductFactory(sku="FRAME-1")
    routing = make_routing(planner, product, [(cut, 0, "1"), (weld, 0, "1")])
    op_cut, op_weld = routing.operations.order_by("sequence")
    top = ItemFactory(code="FRAME-1", kind=ItemKind.FINISHED_PRODUCT, product=product)
    sub = ItemFactory(code="WELDED", kind=ItemKind.SUB_ASSEMBLY)
    tube, wire = ItemFactory(code="TUBE", unit="m"), ItemFactory(code="WIRE", unit="kg")
    powder = ItemFactory(code="PWD-RAL 9010", unit="kg")
    make_bom(
        top,
        [
            {"component": tube, "quantity": 2, "scrap_percent": 5, "operation": op_cut},
            {"component": sub, "quantity": 1, "operation": op_weld},
            {
                "variant_attribute": "colour",
                "component_template": "PWD-{value}",
                "quantity": "0.5",
                "condition_attribute": "finish",
                "condition_value": "powder",
            },
        ],
    )
    make_bom(sub, [{"component": wire, "quantity": "0.25"}])
    return product, {"tube": tube, "wire": wire, "powder": powder}


def release(sales, planner, product):
    order = make_order(owner=sales, product=product, confirmed=True)  # one line of 10
    return transitions.order_release(actor=planner, order=order)


def test_releasing_an_order_reserves_the_leaf_materials_of_its_work_orders(sales, planner, frame):
    product, items = frame
    order = release(sales, planner, product)
    work_order = order.work_orders.get()

    held = {(r.item.code, r.operation_sequence): r.quantity for r in work_order.reservations.all()}

    assert held == {
        ("TUBE", 10): Decimal("21"),  # 10 x 2 m + 5 % scrap
        ("WIRE", 20): Decimal("2.5"),  # through the welded sub-assembly, consumed where it is welded
        ("PWD-RAL 9010", None): Decimal("5"),  # the order's colour; no operation: the first one
    }
    assert materials.reserved([items["tube"].pk]) == {items["tube"].pk: Decimal(21)}


def test_progress_backflushes_good_and_scrap_from_stock(sales, planner, manager, frame):
    product, items = frame
    location = LocationFactory()
    materials.stock_adjust(item=items["tube"], location=location, quantity=100, actor=manager, reason="Count")
    order = release(sales, planner, product)
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    cut = work_order.operations.order_by("sequence").first()

    report, _ = work_orders.progress_report_create(
        actor=planner, operation=cut, message_id="m-1", good_quantity=4, scrap_quantity=1
    )

    moves = {
        m.kind: m.quantity for m in StockMovement.objects.filter(progress_report=report, item=items["tube"])
    }
    assert moves == {MovementKind.CONSUMPTION: Decimal("-8.4"), MovementKind.SCRAP: Decimal("-2.1")}
    assert materials.on_hand([items["tube"].pk]) == {items["tube"].pk: Decimal("89.5")}
    tube_hold = work_order.reservations.get(item=items["tube"])
    assert tube_hold.consumed_quantity == Decimal("10.5") and tube_hold.state == ReservationState.ACTIVE
    # The powder (no operation) went with the first operation; the wire waits for welding.
    assert work_order.reservations.get(item=items["powder"]).consumed_quantity == Decimal("2.5")
    assert work_order.reservations.get(item=items["wire"]).consumed_quantity == 0


def test_a_fully_used_reservation_is_consumed(sales, planner, frame):
    product, items = frame
    order = release(sales, planner, product)
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    cut = work_order.operations.order_by("sequence").first()

    work_orders.progress_report_create(
        actor=planner, operation=cut, message_id="m-1", good_quantity=10, operation_finished=True
    )

    assert work_order.reservations.get(item=items["tube"]).state == ReservationState.CONSUMED
    # Nothing was in stock: the ledger goes negative and shows it.
    assert materials.on_hand([items["tube"].pk])[items["tube"].pk] == Decimal(-21)


def test_finishing_an_operation_with_fewer_made_lets_go_of_the_rest_of_its_material(
    sales, planner, manager, frame
):
    product, items = frame
    location = LocationFactory()
    materials.stock_adjust(item=items["tube"], location=location, quantity=100, actor=manager, reason="Count")
    order = release(sales, planner, product)
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    cut = work_order.operations.order_by("sequence").first()

    work_orders.progress_report_create(
        actor=planner, operation=cut, message_id="m-1", good_quantity=8, operation_finished=True
    )

    tube_hold = work_order.reservations.get(item=items["tube"])
    assert tube_hold.state == ReservationState.RELEASED
    assert tube_hold.consumed_quantity == Decimal("16.8")  # 8 of 10 frames' 21 m
    assert materials.reserved([items["tube"].pk]) == {}  # the 4.2 m not used are free again
    assert materials.on_hand([items["tube"].pk]) == {items["tube"].pk: Decimal("83.2")}
    # The welding's wire is still reserved: its operation has not run yet.
    assert work_order.reservations.get(item=items["wire"]).state == ReservationState.ACTIVE


def test_a_finishing_report_without_quantities_still_lets_go_of_the_material(sales, planner, frame):
    product, items = frame
    order = release(sales, planner, product)
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    cut = work_order.operations.order_by("sequence").first()
    work_orders.progress_report_create(actor=planner, operation=cut, message_id="m-1", good_quantity=5)

    work_orders.progress_report_create(
        actor=planner, operation=cut, message_id="m-2", good_quantity=0, operation_finished=True
    )

    assert work_order.reservations.get(item=items["tube"]).state == ReservationState.RELEASED
    assert work_order.reservations.get(item=items["powder"]).state == ReservationState.RELEASED


def test_cancelling_the_order_releases_its_reservations(sales, planner, manager, frame):
    product, _ = frame
    order = release(sales, planner, product)

    transitions.order_cancel(actor=manager, order=order, reason="Customer withdrew")

    assert set(order.work_orders.get().reservations.values_list("state", flat=True)) == {
        ReservationState.RELEASED
    }


def test_a_purchase_order_is_received_in_parts(buyer):
    steel = ItemFactory(code="STEEL")
    location = LocationFactory()
    po = materials.purchase_order_create(
        supplier="Acme Steel",
        lines=[PurchaseLineInput(item=steel, quantity=Decimal(50), expected_date=dt.date(2026, 12, 20))],
        actor=buyer,
    )
    line = po.lines.get()
    assert po.number.startswith("PO-") and len(po.number) == 9

    materials.purchase_order_receive(line=line, quantity="20", location=location, actor=buyer)
    assert fresh(po).status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert materials.open_supply([steel.pk])[steel.pk][0].quantity == Decimal(30)

    materials.purchase_order_receive(line=line, quantity="30", location=location, actor=buyer)
    assert fresh(po).status == PurchaseOrderStatus.RECEIVED
    assert materials.on_hand([steel.pk]) == {steel.pk: Decimal(50)}
    assert materials.open_supply([steel.pk]) == {}


def test_receiving_more_than_is_open_is_refused_and_changes_nothing(buyer):
    steel = ItemFactory(code="STEEL")
    po = materials.purchase_order_create(
        supplier="Acme",
        lines=[PurchaseLineInput(item=steel, quantity=Decimal(5), expected_date=dt.date(2026, 12, 20))],
        actor=buyer,
    )
    with pytest.raises(ValidationFailed) as error:
        materials.purchase_order_receive(line=po.lines.get(), quantity="6", actor=buyer)
    assert "quantity" in error.value.fields
    assert not StockMovement.objects.exists() and fresh(po).status == PurchaseOrderStatus.OPEN


def test_an_adjustment_needs_a_reason_and_a_count_sets_the_stock(manager):
    bolt, location = ItemFactory(code="BOLT"), LocationFactory()
    with pytest.raises(ValidationFailed):
        materials.stock_adjust(item=bolt, location=location, quantity=5, actor=manager, reason=" ")
    materials.stock_adjust(item=bolt, location=location, quantity=5, actor=manager, reason="Found a box")
    movement = materials.stock_adjust(
        item=bolt, location=location, quantity=3, actor=manager, reason="Counted", counted=True
    )
    assert movement.quantity == Decimal(-2) and movement.actor == manager and movement.reason == "Counted"
    assert materials.on_hand([bolt.pk]) == {bolt.pk: Decimal(3)}


def test_sales_may_not_buy_or_move_stock(sales):
    bolt = ItemFactory(code="BOLT")
    with pytest.raises(Forbidden):
        materials.stock_adjust(item=bolt, location=LocationFactory(), quantity=1, actor=sales, reason="x")
    with pytest.raises(Forbidden):
        materials.purchase_order_create(
            supplier="Acme",
            lines=[PurchaseLineInput(item=bolt, quantity=Decimal(1), expected_date=dt.date(2026, 12, 1))],
            actor=sales,
        )


def test_cancelling_a_work_order_releases_its_reservations(sales, planner, manager, frame):
    product, _ = frame
    work_order = release(sales, planner, product).work_orders.get()

    work_orders.work_order_transition(
        actor=manager, work_order=work_order, name="cancel", reason="Customer withdrew the line"
    )

    assert set(work_order.reservations.values_list("state", flat=True)) == {ReservationState.RELEASED}
