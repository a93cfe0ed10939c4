"""What an applied change request does to work already under way, case by case (production/changes.py)."""

from decimal import Decimal

import pytest

from config.kernel.errors import Conflict, ValidationFailed
from orders import change_requests as crs
from orders.models import OrderStatus
from production.changes.models import ChangeDisposition, DispositionKind
from production.scheduling import schedule_run
from production.work_orders import WorkOrderStatus
from tests.factories import ProductFactory, in_days, valid_spec
from tests.orders.change_requests.cr_helpers import (
    approved,
    fresh,
    make_line,
    released_order,
    report,
    submitted,
)

pytestmark = pytest.mark.django_db


def work(order):
    return list(fresh(order).work_orders.order_by("number"))


def apply(actor, cr):
    return crs.change_request_apply(actor=actor, change_request=cr)


def test_quantity_up_grows_the_unstarted_work_order(sales, planner):
    order = released_order(sales, planner, make_line(planner))
    cr = approved(sales, planner, order, [{"op": "set_quantity", "line_no": 1, "quantity": "14"}])
    apply(planner, cr)
    (work_order,) = work(order)
    assert (work_order.quantity, work_order.status, work_order.order_revision) == (Decimal(14), "planned", 2)
    assert work_order.operations.get(sequence=10).planned_minutes == 10 + 14


def test_quantity_up_beyond_the_lot_size_makes_new_work_orders_and_leaves_started_work_alone(
    sales, planner, manager
):
    order = released_order(sales, planner, make_line(planner, lot_size="10"))
    (started,) = work(order)
    report(planner, started, good=3)
    cr = approved(
        sales, planner, order, [{"op": "set_quantity", "line_no": 1, "quantity": "25"}], manager=manager
    )
    apply(planner, cr)
    rows = [(wo.quantity, wo.status) for wo in work(order)]
    assert rows == [(Decimal(10), "in_progress"), (Decimal(10), "planned"), (Decimal(5), "planned")]


def test_quantity_down_cancels_unstarted_work_first(sales, planner, manager):
    order = released_order(sales, planner, make_line(planner, lot_size="4"))  # 10 → 4, 4, 2
    first = work(order)[0]
    report(planner, first, good=1)
    cr = approved(
        sales, planner, order, [{"op": "set_quantity", "line_no": 1, "quantity": "5"}], manager=manager
    )
    apply(planner, cr)
    rows = [(wo.quantity, wo.status) for wo in work(order)]
    assert rows == [(Decimal(4), "in_progress"), (Decimal(1), "planned"), (Decimal(2), "cancelled")]
    assert not ChangeDisposition.objects.exists()


def test_quantity_down_below_what_is_made_records_surplus_with_the_approvers_disposition(
    sales, planner, manager
):
    order = released_order(sales, planner, make_line(planner))
    (work_order,) = work(order)
    report(planner, work_order, good=8)
    changes = [{"op": "set_quantity", "line_no": 1, "quantity": "5"}]
    cr = submitted(sales, order, changes)
    assert cr.needs_manager and cr.impact["surplus_quantity"] == "3"
    assert cr.impact["manager_reasons"] == ["work_started", "reduces_started_work"]
    with pytest.raises(ValidationFailed) as refused:
        crs.change_request_approve(actor=planner, change_request=cr)
    assert "disposition" in refused.value.fields
    crs.change_request_approve(actor=planner, change_request=cr, disposition="stock")
    crs.change_request_approve(actor=manager, change_request=cr)
    apply(planner, cr)
    work_order = fresh(work_order)
    assert work_order.quantity == Decimal(8)
    surplus = ChangeDisposition.objects.get()
    assert (surplus.work_order, surplus.kind, surplus.quantity, surplus.disposition) == (
        work_order,
        DispositionKind.SURPLUS,
        Decimal(3),
        "stock",
    )


def test_quantity_below_what_is_completed_is_refused_and_nothing_is_stored(sales, planner):
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    done = work(order)[0]
    for sequence in (10, 20):
        report(planner, done, good=5, sequence=sequence, finished=True)
    with pytest.raises(ValidationFailed) as refused:
        submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "4"}])
    assert list(refused.value.fields) == ["changes[0].quantity"]
    assert not fresh(order).change_requests.exists()


def test_a_change_that_became_impossible_fails_at_apply_and_changes_nothing(sales, planner, manager):
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    cr = approved(
        sales, planner, order, [{"op": "set_quantity", "line_no": 1, "quantity": "4"}], manager=manager
    )
    done = work(order)[0]
    for sequence in (10, 20):  # meanwhile the plant finished 5
        report(planner, done, good=5, sequence=sequence, finished=True)
    with pytest.raises(Conflict) as refused:
        apply(planner, cr)
    assert refused.value.code == "cannot_apply"
    assert fresh(order).revision == 1 and fresh(cr).status == "approved"
    assert fresh(order).lines.get().quantity == Decimal(10)


def test_a_spec_change_gives_unstarted_work_the_new_spec_and_flags_started_operations(
    sales, planner, manager
):
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    started, unstarted = work(order)
    report(planner, started, good=4, sequence=10, finished=True)
    report(planner, started, good=2, sequence=20)
    changes = [{"op": "set_spec", "line_no": 1, "spec_values": {"material": "aluminium"}}]
    cr = submitted(sales, order, changes)
    assert cr.impact["rework_quantity"] == "4"
    assert cr.impact["disposition_choices"] == ["rework", "scrap"]
    flagged = [row for row in cr.impact["lines"] if row["action"] == "rework"]
    assert [op["sequence"] for op in flagged[0]["operations"]] == [10, 20]
    crs.change_request_approve(actor=planner, change_request=cr, disposition="rework")
    crs.change_request_approve(actor=manager, change_request=cr)
    apply(planner, cr)
    assert fresh(order).lines.get().spec_values["material"] == "aluminium"
    rows = ChangeDisposition.objects.order_by("operation__sequence")
    assert [(r.operation.sequence, r.quantity, r.kind, r.disposition) for r in rows] == [
        (10, Decimal(4), "wrong_spec", "rework"),
        (20, Decimal(2), "wrong_spec", "rework"),
    ]
    assert fresh(unstarted).status == WorkOrderStatus.PLANNED


def test_the_mes_is_told_which_operations_ran_under_the_old_spec(sales, planner, manager):
    from crm_sync.models import OutboxEvent

    order = released_order(sales, planner, make_line(planner))
    (started,) = work(order)
    report(planner, started, good=4)
    changes = [{"op": "set_spec", "line_no": 1, "spec_values": {"finish": "anodised"}}]
    cr = approved(sales, planner, order, changes, manager=manager, disposition="scrap")
    apply(planner, cr)
    event = OutboxEvent.objects.get(type="order.change_applied")
    (row,) = event.data["work_in_progress"]
    assert (row["action"], row["operations"][0]["sequence"], event.data["disposition"]) == (
        "rework",
        10,
        "scrap",
    )
    # Scrapped parts are made again, to the new spec.
    assert [wo.quantity for wo in work(order)] == [Decimal(10), Decimal(4)]


def test_cancel_cancels_unstarted_work_and_holds_started_work_pending_disposition(sales, planner, manager):
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    started, unstarted = work(order)
    report(planner, started, good=2)
    cr = approved(sales, planner, order, [{"op": "cancel"}], manager=manager, disposition="scrap")
    apply(manager, cr)
    assert fresh(order).status == OrderStatus.CANCELLED
    assert (fresh(started).status, fresh(unstarted).status) == ("on_hold", "cancelled")
    pending = ChangeDisposition.objects.get()
    assert (pending.work_order, pending.kind, pending.quantity) == (started, "cancelled", Decimal(2))


def test_removing_a_line_cancels_its_work_and_keeps_the_other_lines(sales, planner):
    order = released_order(sales, planner, make_line(planner), lines=2)
    first, second = work(order)
    cr = approved(sales, planner, order, [{"op": "remove_line", "line_no": 2}])
    apply(planner, cr)
    assert (fresh(first).status, fresh(second).status) == ("planned", "cancelled")
    assert list(fresh(order).lines.values_list("line_no", flat=True)) == [1]


def test_adding_a_line_makes_its_work_orders(sales, planner):
    product = make_line(planner)
    order = released_order(sales, planner, product)
    change = {"op": "add_line", "product": product.sku, "quantity": "6", "spec_values": valid_spec()}
    apply(planner, approved(sales, planner, order, [change]))
    new_line = fresh(order).lines.get(line_no=2)
    assert [(wo.order_line, wo.quantity) for wo in work(order)][-1] == (new_line, Decimal(6))


def test_hold_and_resume_by_change_request_move_the_work_orders(sales, planner):
    order = released_order(sales, planner, make_line(planner))
    apply(planner, approved(sales, planner, order, [{"op": "hold"}]))
    assert fresh(order).status == OrderStatus.ON_HOLD
    assert {wo.status for wo in work(order)} == {"on_hold"}
    apply(planner, approved(sales, planner, order, [{"op": "resume"}]))
    assert fresh(order).status == OrderStatus.RELEASED
    assert {wo.status for wo in work(order)} == {"planned"}


def test_a_date_change_reschedules_and_compares_the_projection_with_the_new_promise(
    sales, planner, django_capture_on_commit_callbacks
):
    order = released_order(sales, planner, make_line(planner))
    cr = submitted(
        sales, order, [{"op": "set_date", "field": "promised_date", "value": in_days(40).isoformat()}]
    )
    assert cr.impact["promised_date"] == in_days(40).isoformat() and cr.impact["late_after"] is False
    crs.change_request_approve(actor=planner, change_request=cr)
    with django_capture_on_commit_callbacks() as callbacks:
        apply(planner, cr)
    assert fresh(order).promised_date == in_days(40)
    assert callbacks, "a reschedule is asked once the change commits"


def test_an_added_quantity_pushing_another_order_past_its_promise_needs_the_manager(sales, planner):
    from production import master_data, scheduling
    from production.master_data import WorkCenter
    from tests.factories import CustomerFactory

    vip_product = make_line(planner)
    center = WorkCenter.objects.get(code="CUT")
    other_product = ProductFactory()
    master_data.routing_create(
        actor=planner,
        product=other_product,
        operations=[{"sequence": 10, "name": "Cut", "work_center": center, "run_minutes_per_unit": 30}],
    )
    order = released_order(
        sales,
        planner,
        vip_product,
        customer=CustomerFactory(tier="vip"),
        promised_date=in_days(2),
        requested_date=in_days(2),
    )
    other = released_order(sales, planner, other_product, promised_date=in_days(3), requested_date=in_days(3))
    scheduling.schedule_run(actor=planner, method="fast", trigger="test")
    big = {"op": "set_quantity", "line_no": 1, "quantity": "6000"}  # ~4 days on the shared center
    cr = submitted(sales, order, [big])
    assert [row["order"] for row in cr.impact["delays_other_orders"]] == [other.number]
    assert cr.impact["projected_after"] > cr.impact["projected_before"]
    assert cr.needs_manager and cr.impact["manager_reasons"] == ["delays_other_orders"]


def test_a_new_promised_time_counts_in_the_impact_to_the_minute(sales, planner):
    order = released_order(sales, planner, make_line(planner), promised_date=in_days(0))
    schedule_run(actor=planner, trigger="test")

    cr = submitted(sales, order, [{"op": "set_time", "field": "promised_time", "value": "00:00"}])

    assert cr.impact["late_after"] is True
