"""Every change to work under way becomes a message of its own for the MES, naming the work order by its id
(production.changes.announce, production.work_orders.announce → the outbox).

A quantity cut or growth, a cancel, a hold or resume, a disposition decided (to stock / scrap) and a rework
request each write one "work_order.*" outbox event carrying the work order as the MES knows it.
"""

from decimal import Decimal

import pytest

from config.kernel.errors import ValidationFailed
from crm_sync.models import OutboxEvent
from orders import change_requests as crs
from orders.sales import transitions
from production import work_orders
from production.changes import change_disposition_decide
from production.changes.models import ChangeDisposition, DispositionKind
from production.work_orders import Lot, WorkOrderStatus
from tests.orders.change_requests.cr_helpers import approved, fresh, make_line, released_order, report

pytestmark = pytest.mark.django_db


def messages(order, type_):
    return list(OutboxEvent.objects.filter(order_id=order.pk, type=type_).order_by("sequence"))


def only(order, type_):
    (event,) = messages(order, type_)
    return event


@pytest.fixture
def running(sales, planner):
    """One running work order of 10 with 6 made on its first operation."""
    order = released_order(sales, planner, make_line(planner))
    (work_order,) = fresh(order).work_orders.all()
    report(planner, work_order, good=6)
    return fresh(order), fresh(work_order)


def test_a_quantity_cut_with_scrap_tells_the_mes_the_new_quantity_and_the_scrap(
    running, sales, planner, manager
):
    order, work_order = running
    changes = [{"op": "set_quantity", "line_no": 1, "quantity": "3"}]
    cr = approved(sales, planner, order, changes, manager=manager, disposition="scrap")
    crs.change_request_apply(actor=manager, change_request=cr)

    cut = only(order, "work_order.quantity_changed")
    assert (cut.data["work_order_number"], cut.data["quantity_from"], cut.data["quantity_to"]) == (
        work_order.number,
        "10",
        "6",
    )
    (sent,) = cut.data["work_orders"]
    assert (sent["number"], sent["quantity"], sent["change"]["kind"]) == (
        work_order.number,
        "6.000",
        "quantity_changed",
    )
    assert sent["change"]["change_request"] == cr.number
    scrap = only(order, "work_order.disposition_decided")
    assert (scrap.data["disposition"], scrap.data["disposition_quantity"]) == ("scrap", "3")
    assert scrap.data["work_orders"][0]["change"]["disposition"] == "scrap"


def test_a_quantity_growth_of_unstarted_work_is_a_quantity_change(sales, planner, manager):
    order = released_order(sales, planner, make_line(planner))
    (work_order,) = fresh(order).work_orders.all()
    cr = approved(sales, planner, order, [{"op": "set_quantity", "line_no": 1, "quantity": "14"}])
    crs.change_request_apply(actor=planner, change_request=cr)
    grown = only(order, "work_order.quantity_changed")
    assert (grown.data["quantity_from"], grown.data["quantity_to"]) == ("10", "14")
    assert grown.data["work_orders"][0]["number"] == work_order.number


def test_a_cancelled_work_order_is_sent_as_cancelled_by_its_own_id(sales, planner, manager):
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    first, second = fresh(order).work_orders.order_by("number")
    cr = approved(sales, planner, order, [{"op": "set_quantity", "line_no": 1, "quantity": "5"}])
    crs.change_request_apply(actor=planner, change_request=cr)

    cancelled = only(order, "work_order.cancelled")
    assert cancelled.data["work_orders"][0]["number"] == second.number
    assert cancelled.data["work_orders"][0]["status"] == WorkOrderStatus.CANCELLED
    # The applied change's own message names it too, as cancelled, instead of leaving it out.
    applied = only(order, "order.change_applied")
    statuses = {row["number"]: row["status"] for row in applied.data["work_orders"]}
    assert statuses == {first.number: WorkOrderStatus.PLANNED, second.number: WorkOrderStatus.CANCELLED}


def test_cancelling_a_released_order_names_its_work_orders_not_its_lines(sales, planner, manager):
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    numbers = sorted(fresh(order).work_orders.values_list("number", flat=True))
    transitions.order_cancel(actor=manager, order=fresh(order), reason="Customer withdrew")
    event = only(order, "order.cancelled")
    assert sorted(row["number"] for row in event.data["work_orders"]) == numbers
    assert {row["status"] for row in event.data["work_orders"]} == {WorkOrderStatus.CANCELLED}


def test_a_planners_hold_and_resume_are_messages_for_that_work_order(running, planner):
    order, work_order = running
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="hold", reason="Tooling")
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="resume")
    held, resumed = only(order, "work_order.held"), only(order, "work_order.resumed")
    assert held.data["work_orders"][0]["status"] == WorkOrderStatus.ON_HOLD
    assert held.reason == "Tooling" and held.actor_id == planner.pk
    assert resumed.data["work_orders"][0]["status"] == WorkOrderStatus.IN_PROGRESS


def test_a_release_by_the_mes_acknowledgement_sends_no_work_order_message(sales, planner):
    order = released_order(sales, planner, make_line(planner))
    (work_order,) = fresh(order).work_orders.all()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    assert not OutboxEvent.objects.filter(order_id=order.pk, type__startswith="work_order.").exists()


def test_rework_of_parts_made_to_the_old_spec_is_a_new_request_naming_the_work_order_and_lot(
    sales, planner, manager, settings
):
    settings.MES_REWORK_MAX_ROUNDS = 3
    order = released_order(sales, planner, make_line(planner))
    (work_order,) = fresh(order).work_orders.all()
    changes = [{"op": "set_spec", "line_no": 1, "spec_values": {"finish": "anodised"}}]
    cr = approved(sales, planner, order, changes)
    report(planner, work_order, good=4)
    work_orders.lot_create(actor=planner, work_order=fresh(work_order), number="LOT-7", quantity=Decimal(4))
    crs.change_request_apply(actor=manager, change_request=cr)
    pending = work_orders.open_dispositions().get()

    change_disposition_decide(actor=planner, disposition=pending, decision="rework", reason="Re-finish")

    rework = only(order, "work_order.rework_requested")
    (request,) = rework.data["work_orders"]
    assert request["number"] == f"{work_order.number}-RW1"
    assert [op["sequence"] for op in request["operations"]] == [10, 20]  # from the re-entry point on
    assert request["quantity"] == "4"
    assert request["change"] == {
        "kind": "rework_requested",
        "change_request": cr.number,
        "reason": rework.reason[:200],
        "rework_of": work_order.number,
        "rework_of_mes_id": None,
        "lot": "LOT-7",
        "reentry_operation": 10,
        "rework_round": 1,
        "max_rework_rounds": 3,
    }
    assert Lot.objects.filter(number="LOT-7").exists()


def test_scrapping_held_work_tells_the_mes_cancelled_and_scrap(sales, planner, manager):
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    started, _unstarted = fresh(order).work_orders.order_by("number")
    report(planner, started, good=2)
    cr = approved(sales, planner, order, [{"op": "cancel"}], manager=manager, disposition="scrap")
    crs.change_request_apply(actor=manager, change_request=cr)
    assert only(order, "work_order.held").data["work_order_number"] == started.number
    pending = work_orders.open_dispositions().get()

    change_disposition_decide(actor=planner, disposition=pending, decision="scrap", reason="Bent")

    cancelled = [e.data["work_order_number"] for e in messages(order, "work_order.cancelled")]
    assert started.number in cancelled
    decided = only(order, "work_order.disposition_decided")
    assert (decided.data["disposition"], decided.data["disposition_quantity"]) == ("scrap", "2")


def test_rework_beyond_the_limit_of_rounds_is_refused_and_nothing_is_sent(sales, planner, manager, settings):
    settings.MES_REWORK_MAX_ROUNDS = 1
    order = released_order(sales, planner, make_line(planner))
    (work_order,) = fresh(order).work_orders.all()
    cr = approved(sales, planner, order, [{"op": "set_spec", "line_no": 1, "spec_values": {"finish": "raw"}}])
    report(planner, work_order, good=4)
    crs.change_request_apply(actor=manager, change_request=cr)
    pending = work_orders.open_dispositions().get()
    # An earlier change had this work order's parts reworked once already.
    ChangeDisposition.objects.create(
        work_order=work_order,
        change_request_number="CR-000000",
        kind=DispositionKind.WRONG_SPEC,
        quantity=Decimal(2),
        disposition="rework",
        decision="rework",
    )

    with pytest.raises(ValidationFailed) as refused:
        change_disposition_decide(actor=planner, disposition=pending, decision="rework", reason="Again")

    assert "limit" in refused.value.fields["decision"][0]
    assert fresh(pending).is_open
    assert not messages(order, "work_order.rework_requested")
