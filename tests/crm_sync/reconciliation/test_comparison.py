"""Reconciliation compares an MES per work order: presence, quantity, and status as the ISA-95 state the
work order goes out with; a CRM per order. The input is what the system's read API reports for the order."""

from __future__ import annotations

import pytest

from crm_sync import reconciliation
from crm_sync.models import Drift, ExternalSystem
from orders.sales import transitions
from production import work_orders
from production.work_orders import WorkOrderStatus
from tests.crm_sync.factories import ExternalSystemFactory
from tests.orders.change_requests.cr_helpers import finish, fresh, make_line, released_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def mes_system():
    return ExternalSystemFactory(kind=ExternalSystem.Kind.MES)


@pytest.fixture
def order(sales, planner):
    """Released, two work orders of 5 (lots of 5)."""
    return released_order(sales, planner, make_line(planner, lot_size="5"))


def work_order_transition(actor, work_order, name):
    work_orders.work_order_transition(actor=actor, work_order=work_order, name=name, reason="test")


def numbers(order):
    return list(fresh(order).work_orders.order_by("number").values_list("number", flat=True))


def held(order, **overrides):
    """What an MES that agrees with us reports, with some work orders' fields changed."""
    return {
        "revision": order.revision,
        "work_orders": {
            number: {"mes_id": f"MES-{number}", "quantity": "5.000", "status": "Released", "operations": {}}
            | overrides.get(number, {})
            for number in numbers(order)
        },
    }


def findings(system, order, reported):
    return [
        (f.subject, f.kind, f.ours, f.theirs) for f in reconciliation.order_findings(system, order, reported)
    ]


def test_an_mes_holding_what_we_hold_is_no_drift(mes_system, order):
    assert findings(mes_system, fresh(order), held(order)) == []


def test_a_quantity_the_mes_holds_differently_is_a_drift_of_that_work_order(mes_system, order):
    _first, second = numbers(order)

    found = findings(mes_system, fresh(order), held(order, **{second: {"quantity": "8"}}))

    assert found == [(second, Drift.Kind.QUANTITY, {"quantity": "5.000"}, {"quantity": "8"})]


def test_a_held_work_order_the_mes_still_runs_is_a_status_drift_in_isa95_terms(mes_system, order, planner):
    first, _second = fresh(order).work_orders.order_by("number")
    work_order_transition(planner, first, "hold")

    found = findings(mes_system, fresh(order), held(order, **{first.number: {"status": "Running"}}))

    assert found == [(first.number, Drift.Kind.STATUS, {"status": "Held"}, {"status": "Running"})]


def test_released_and_running_are_the_same_to_reconciliation(mes_system, order):
    first, _second = numbers(order)

    reported = held(order, **{first: {"status": "Running"}})

    assert findings(mes_system, fresh(order), reported) == []


def test_a_work_order_the_mes_does_not_hold_is_missing_there(mes_system, order):
    _first, second = numbers(order)
    reported = held(order)
    del reported["work_orders"][second]

    [(subject, kind, ours, theirs)] = findings(mes_system, fresh(order), reported)

    assert (subject, kind, theirs) == (second, Drift.Kind.MISSING_THERE, {})
    assert ours == {"quantity": "5.000", "status": "Released"}


def test_a_work_order_cancelled_here_the_mes_never_had_is_no_drift(mes_system, order, manager):
    _first, second = fresh(order).work_orders.order_by("number")
    work_order_transition(manager, second, "cancel")
    reported = held(order)
    del reported["work_orders"][second.number]

    assert findings(mes_system, fresh(order), reported) == []


def test_a_work_order_cancelled_here_the_mes_still_holds_open_is_a_status_drift(mes_system, order, manager):
    _first, second = fresh(order).work_orders.order_by("number")
    work_order_transition(manager, second, "cancel")

    found = findings(mes_system, fresh(order), held(order))

    assert found == [(second.number, Drift.Kind.STATUS, {"status": "Cancelled"}, {"status": "Released"})]


def test_a_work_order_only_the_mes_holds_is_unknown_here(mes_system, order):
    reported = held(order)
    reported["work_orders"]["WO-ELSEWHERE"] = {"quantity": "3", "status": "Running", "mes_id": "MES-9"}

    found = findings(mes_system, fresh(order), reported)

    assert found == [("WO-ELSEWHERE", Drift.Kind.MISSING_HERE, {}, {"quantity": "3", "status": "Running"})]


def test_a_rework_request_the_mes_holds_for_one_of_our_work_orders_is_no_drift(mes_system, order):
    first, _second = numbers(order)
    reported = held(order)
    reported["work_orders"][f"{first}-RW1"] = {"quantity": "2", "status": "Released", "rework_of": first}

    assert findings(mes_system, fresh(order), reported) == []


def test_an_mes_that_lists_only_numbers_is_compared_by_presence(mes_system, order):
    first, second = numbers(order)

    found = findings(mes_system, fresh(order), {"revision": order.revision, "work_orders": [first]})

    assert [(subject, kind) for subject, kind, _ours, _theirs in found] == [
        (second, Drift.Kind.MISSING_THERE)
    ]


def test_an_order_the_mes_does_not_hold_is_one_drift_naming_its_work_orders(mes_system, order):
    [(subject, kind, ours, theirs)] = findings(mes_system, fresh(order), None)

    assert (subject, kind, theirs) == (order.number, Drift.Kind.MISSING_THERE, {})
    assert ours == {"revision": order.revision, "work_orders": ", ".join(numbers(order))}


def test_a_crm_is_compared_per_order_by_status_and_revision(sales, planner):
    crm = ExternalSystemFactory(kind=ExternalSystem.Kind.CRM)
    order = transitions.order_hold(
        actor=planner, order=released_order(sales, planner, make_line(planner)), reason="credit check"
    )

    found = findings(crm, fresh(order), {"status": "released", "revision": order.revision})

    assert found == [(order.number, Drift.Kind.STATUS, {"status": "on_hold"}, {"status": "released"})]


def test_a_work_order_finished_here_is_completed_for_the_mes(mes_system, order, planner):
    first, _second = fresh(order).work_orders.order_by("number")
    finish(planner, first)
    assert fresh(first).status == WorkOrderStatus.COMPLETED

    found = findings(mes_system, fresh(order), held(order, **{first.number: {"status": "Closed"}}))

    assert found == []
