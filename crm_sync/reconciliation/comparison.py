"""What differs between one of our orders and what a system's read API reports for it (no writes).

A CRM is compared per order (status, revision). An MES is compared per order (revision) and per work
order: presence on either side, quantity, and status as the ISA-95 request state the work order goes out
with (`b2mml.work_order_state`, the mapping the schedules use). Each difference is a Finding with the
fields that differ, field by field, so the drift page can show them as a table.

The MES's read API gives each order's work orders as {"<number>": {"quantity", "status", ...}}; an older
MES gives only their numbers (a list), and then only presence is compared. A request the MES holds to
rework one of our work orders ("rework_of": its number) is the MES's own work order, not drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Prefetch

from crm_sync.b2mml import work_order_state
from crm_sync.models import Drift, ExternalSystem
from orders.models import SalesOrder
from production.work_orders import WorkOrder

# ISA-95 states that say the same thing to us: whether a released request shows Released or Running
# depends on whether the MES started it, which it tells us by progress, not by what we sent; a completed
# request the MES may already have closed.
SAME_STATE = {"Running": "Released", "Closed": "Completed"}


# The work orders an MES comparison reads, fetched for all the run's orders in one query.
WORK_ORDERS_PREFETCH = Prefetch("work_orders", queryset=WorkOrder.objects.order_by("number"))


@dataclass(frozen=True)
class Finding:
    """One difference: subject is the order's number, or the work order's when work_order is set."""

    subject: str
    kind: str
    order: SalesOrder | None
    ours: dict[str, Any] = field(default_factory=dict)
    theirs: dict[str, Any] = field(default_factory=dict)
    work_order: str = ""


def order_findings(system: ExternalSystem, order: SalesOrder, held: dict[str, Any] | None) -> list[Finding]:
    """The differences for one of our orders; `held` is what the system reports for it (None: nothing)."""
    if system.kind == ExternalSystem.Kind.CRM:
        return _crm_findings(order, held)
    return _mes_findings(order, held)


def _crm_findings(order: SalesOrder, held: dict[str, Any] | None) -> list[Finding]:
    ours = {"status": order.status, "revision": order.revision}
    if held is None:
        return [Finding(order.number, Drift.Kind.MISSING_THERE, order, ours)]
    found = []
    if "status" in held and held["status"] != order.status:
        found.append(_finding(order, Drift.Kind.STATUS, "status", order.status, held["status"]))
    if "revision" in held and str(held["revision"]) != str(order.revision):
        found.append(_finding(order, Drift.Kind.REVISION, "revision", order.revision, held["revision"]))
    return found


def _finding(order: SalesOrder, kind: str, name: str, ours: Any, theirs: Any, number: str = "") -> Finding:
    return Finding(number or order.number, kind, order, {name: ours}, {name: theirs}, work_order=number)


def _mes_findings(order: SalesOrder, held: dict[str, Any] | None) -> list[Finding]:
    # Prefetched by the caller for every order of the run (WORK_ORDERS_PREFETCH), in number order.
    ours = {wo.number: _work_order_view(order, wo) for wo in order.work_orders.all()}
    # Cancelled work is nothing the MES must hold (it may never have had it).
    expected = {number: view for number, view in ours.items() if view["status"] != "Cancelled"}
    if held is None:
        summary = {"revision": order.revision, "work_orders": ", ".join(expected) or "—"}
        return [Finding(order.number, Drift.Kind.MISSING_THERE, order, summary)]
    found = []
    if "revision" in held and str(held["revision"]) != str(order.revision):
        found.append(_finding(order, Drift.Kind.REVISION, "revision", order.revision, held["revision"]))
    theirs = held.get("work_orders")
    if isinstance(theirs, list):  # an MES that lists only numbers: presence
        theirs = {str(number): {} for number in theirs}
    if not isinstance(theirs, dict):
        return found
    for number, view in expected.items():
        if number not in theirs:
            found.append(Finding(number, Drift.Kind.MISSING_THERE, order, view, {}, work_order=number))
    for number, reported in theirs.items():
        reported = reported if isinstance(reported, dict) else {}
        if number not in ours and reported.get("rework_of") in ours:
            continue  # the MES's own request to rework one of our work orders, which we asked for
        if number not in ours:
            shown = {name: reported[name] for name in ("quantity", "status") if name in reported}
            found.append(Finding(number, Drift.Kind.MISSING_HERE, order, {}, shown, work_order=number))
        else:
            found.extend(_work_order_findings(order, number, ours[number], reported))
    return found


def _work_order_view(order: SalesOrder, work_order: WorkOrder) -> dict[str, str]:
    status = work_order_state(order.status, work_order.status)
    return {"quantity": str(work_order.quantity), "status": status}


def _work_order_findings(
    order: SalesOrder, number: str, ours: dict[str, str], reported: dict[str, Any]
) -> list[Finding]:
    found: list[Finding] = []
    if ours["status"] == "Cancelled" and reported.get("status") == "Cancelled":
        return found  # cancelled on both sides: what its quantity was no longer matters
    if "quantity" in reported and not _same_quantity(ours["quantity"], reported["quantity"]):
        found.append(
            _finding(order, Drift.Kind.QUANTITY, "quantity", ours["quantity"], reported["quantity"], number)
        )
    if "status" in reported and _state(ours["status"]) != _state(reported["status"]):
        found.append(_finding(order, Drift.Kind.STATUS, "status", ours["status"], reported["status"], number))
    return found


def _same_quantity(ours: str, theirs: Any) -> bool:
    try:
        return Decimal(ours) == Decimal(str(theirs))
    except InvalidOperation:
        return False


def _state(value: Any) -> str:
    return SAME_STATE.get(str(value), str(value))
