"""Shared set-up of the change-request tests: a released order with real work orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from orders import change_requests as crs
from orders.sales import transitions
from production import master_data, work_orders
from production.work_orders import WorkOrder
from tests.factories import ProductFactory, make_order

ALL_WEEK = [(day, dt.time(0), dt.time(0)) for day in range(7)]


def make_line(planner, *, code="CUT", lot_size=None, product=None):
    """A product with a one-step routing on a work center open around the clock."""
    center = master_data.work_center_create(actor=planner, code=code, name=code.title(), shifts=ALL_WEEK)
    product = product or ProductFactory()
    master_data.routing_create(
        actor=planner,
        product=product,
        lot_size=lot_size,
        operations=[
            {
                "sequence": 10,
                "name": "Cut",
                "work_center": center,
                "setup_minutes": 10,
                "run_minutes_per_unit": 1,
            },
            {
                "sequence": 20,
                "name": "Pack",
                "work_center": center,
                "setup_minutes": 0,
                "run_minutes_per_unit": 1,
            },
        ],
    )
    return product


def released_order(sales, planner, product, **kwargs):
    order = make_order(owner=sales, product=product, confirmed=True, **kwargs)
    return transitions.order_release(actor=planner, order=order)


def report(planner, work_order: WorkOrder, *, good, sequence=10, finished=False, message=None):
    """The MES reports progress on one operation of a work order."""
    if fresh(work_order).status == "planned":
        work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    operation = work_order.operations.get(sequence=sequence)
    work_orders.progress_report_create(
        actor=planner,
        operation=operation,
        message_id=message or f"{work_order.number}-{sequence}-{good}-{finished}",
        good_quantity=Decimal(good),
        operation_finished=finished,
    )


def finish(planner, work_order: WorkOrder):
    for sequence in (10, 20):
        report(planner, work_order, good=work_order.quantity, sequence=sequence, finished=True)


def fresh(instance):
    """Read again (protected FSM fields refuse refresh_from_db)."""
    return type(instance).objects.get(pk=instance.pk)


def submitted(actor, order, changes, reason="Customer called"):
    order = fresh(order)
    return crs.change_request_create(
        actor=actor, order=order, base_revision=order.revision, reason=reason, changes=changes, submit=True
    )


def approved(requester, planner, order, changes, *, manager=None, disposition=""):
    cr = submitted(requester, order, changes)
    cr = crs.change_request_approve(actor=planner, change_request=cr, disposition=disposition)
    if manager is not None and cr.needs_manager:
        cr = crs.change_request_approve(actor=manager, change_request=cr, disposition=disposition)
    return cr
