"""Work orders follow their order, inside the order's own transaction (subscribed in ProductionConfig.ready).

A release makes the order's work orders; a hold, resume or cancel moves them alike; a new priority or
promise asks for a new plan. The order's transition was already authorised for its actor, and the work
orders follow as a consequence: no production permission is asked here, and history records the order's
actor and reason. An applied change request is followed by production.changes (its own subscriber).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from config.kernel import stamp
from config.kernel.events import (
    OrderCancelled,
    OrderEvent,
    OrderHeld,
    OrderPriorityChanged,
    OrderReleased,
    OrderResumed,
    OrderTransitioned,
    OrderUpdated,
)
from production.replanning import schedule_request
from production.work_orders.making import work_orders_create_for_order
from production.work_orders.models import HOLDABLE_STATUSES, WorkOrder, WorkOrderStatus
from production.work_orders.selectors import work_orders_pending_disposition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Each handler and the events it follows (ProductionConfig.ready subscribes them).
FOLLOWED_EVENTS: dict[str, tuple[type[OrderEvent], ...]] = {
    "released": (OrderReleased,),
    "held_resumed_cancelled": (OrderHeld, OrderResumed, OrderCancelled),
    "replan": (OrderUpdated, OrderPriorityChanged),
}


def event_actor(event: OrderEvent) -> User | None:
    """The event's actor as a user (the system actor is known by id only)."""
    if event.actor_id is None:
        return None
    if event.actor is not None and event.actor.pk == event.actor_id:
        return event.actor
    return get_user_model().objects.filter(pk=event.actor_id).first()


def on_order_released(event: OrderReleased) -> None:
    """The released order's work orders are made (and announced: WorkOrdersCreated); a new plan is asked."""
    work_orders_create_for_order(order=event.order, actor=event_actor(event), reason=event.reason)
    schedule_request(trigger=f"{event.type} {event.order.number}")


def on_order_held_resumed_or_cancelled(event: OrderTransitioned) -> None:
    """The order's open work orders are held, resumed or cancelled with it."""
    if event.change_request_id is not None:
        # Made by a change request: its "order.change_applied" already moved the work orders case by case
        # (a cancel holds started work pending its disposition): nothing more to do.
        return
    if isinstance(event, OrderHeld):
        _follow(event, "hold", tuple(HOLDABLE_STATUSES), _("Order held"))
    elif isinstance(event, OrderResumed):
        # Work a change holds pending its disposition stays held: the planner's decision releases it.
        pending = work_orders_pending_disposition(
            work_order_ids=list(event.order.work_orders.values_list("pk", flat=True))
        )
        _follow(event, "resume", (WorkOrderStatus.ON_HOLD,), _("Order resumed"), keep=pending)
    elif isinstance(event, OrderCancelled):
        sources = (
            WorkOrderStatus.PLANNED,
            WorkOrderStatus.RELEASED,
            WorkOrderStatus.IN_PROGRESS,
            WorkOrderStatus.ON_HOLD,
        )
        _follow(event, "cancel", sources, _("Order cancelled"))


def on_order_replan(event: OrderEvent) -> None:
    """A new priority or promised date may change the plan of an order that has work orders."""
    if event.order.work_orders.exists():
        schedule_request(trigger=f"{event.type} {event.order.number}")


def _follow(
    event: OrderEvent,
    method: str,
    sources: tuple[str, ...],
    label: str,
    *,
    keep: set[int] | frozenset[int] = frozenset(),
) -> None:
    actor = event_actor(event)
    reason = f"{label} {event.order.number}: {event.reason}".strip(": ")
    work_orders = WorkOrder.objects.select_for_update(no_key=True).filter(
        order=event.order, status__in=sources
    )
    for work_order in work_orders.exclude(pk__in=keep):
        getattr(work_order, method)()
        stamp(work_order, actor=actor, reason=reason)
        work_order.save()
    schedule_request(trigger=f"{event.type} {event.order.number}")
