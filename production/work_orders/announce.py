"""Telling the MES about a change to one work order under way: a typed event per change, published in the
transaction that made it (the outbox writes one message each; see config.kernel.events.WorkOrderEvent).

Called by the doors that change work under way: a user's hold / resume / cancel (transitions), an applied
change request (production.changes.follow) and a decided disposition (production.changes.dispositions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config.kernel import publish
from config.kernel.events import (
    WorkOrderCancelled,
    WorkOrderEvent,
    WorkOrderHeld,
    WorkOrderResumed,
)
from orders.sales import order_event_payload

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from production.work_orders.models import WorkOrder

# A work-order transition and the event that tells the MES about it (a release is the MES's own answer).
TRANSITION_EVENTS: dict[str, type[WorkOrderEvent]] = {
    "hold": WorkOrderHeld,
    "resume": WorkOrderResumed,
    "cancel": WorkOrderCancelled,
}


def work_order_announce(
    event_class: type[WorkOrderEvent],
    *,
    work_order: WorkOrder,
    actor: User | None,
    reason: str,
    change_request_number: str | None = None,
    **fields: Any,
) -> None:
    """Publish `event_class` for the work order (after it is saved), with the order's snapshot."""
    order = work_order.order
    publish(
        event_class(
            order=order,
            actor=actor,
            reason=(reason or "")[:500],
            snapshot=order_event_payload(order),
            work_order_number=work_order.number,
            change_request_number=change_request_number,
            **fields,
        )
    )
