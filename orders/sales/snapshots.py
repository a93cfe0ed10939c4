"""An order as other systems see it (the snapshot every order event carries), and publishing its events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from config.kernel import events as domain_events
from config.kernel import publish
from orders.sales.lines import current_lines
from orders.sales.models import OrderLine, SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class CustomerSnapshot(TypedDict):
    code: str
    crm_id: str
    tier: str


class LineSnapshot(TypedDict):
    line_no: int
    sku: str
    quantity: str
    unit: str
    due_date: str | None
    spec: dict[str, Any]


class OrderSnapshot(TypedDict):
    """What other systems learn about an order: every attribute the plant needs (event `data`'s base)."""

    number: str
    crm_id: str
    customer: CustomerSnapshot
    customer_po: str
    status: str
    revision: int
    priority: int
    requested_date: str | None
    promised_date: str | None
    remarks: str
    lines: list[LineSnapshot]


def order_event_payload(order: SalesOrder, lines: Sequence[OrderLine] | None = None) -> OrderSnapshot:
    """The order as other systems see it: the base of the data of every event about it. `lines`: its lines
    when the caller has them (products loaded); else those in hand (orders.sales.lines), else read now."""
    return {
        "number": order.number,
        "crm_id": order.crm_id,
        "customer": {
            "code": order.customer.code,
            "crm_id": order.customer.crm_id,
            "tier": order.customer.tier,
        },
        "customer_po": order.customer_po,
        "status": order.status,
        "revision": order.revision,
        "priority": order.priority,
        "requested_date": order.requested_date.isoformat() if order.requested_date else None,
        "promised_date": order.promised_date.isoformat() if order.promised_date else None,
        "remarks": order.remarks,
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.product.sku,
                "quantity": str(line.quantity),
                "unit": line.unit,
                "due_date": line.due_date.isoformat() if line.due_date else None,
                "spec": line.spec_values,
            }
            for line in (current_lines(order) if lines is None else lines)
        ],
    }


def order_event_publish(
    order: SalesOrder,
    event_class: type[domain_events.OrderEvent],
    *,
    actor: User | None,
    reason: str,
    lines: Sequence[OrderLine] | None = None,
    order_is_new: bool = False,
    **fields: Any,
) -> None:
    """Publish `event_class` about `order` with its snapshot taken now, in the caller's transaction."""
    publish(
        event_class(
            order=order,
            actor=actor,
            reason=reason,
            snapshot=order_event_payload(order, lines),
            order_is_new=order_is_new,
            **fields,
        )
    )
