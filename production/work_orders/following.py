"""Work orders follow their order, inside the order's own transaction (subscribed in ProductionConfig.ready).

A release makes the order's work orders; a hold, resume or cancel moves them alike; a new priority or
promise asks for a new plan. The order's transition was already authorised for its actor, and the work
orders follow as a consequence: no production permission is asked here, and history records the order's
actor and reason. An applied change request is followed by production.changes (its own subscriber).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
from production.work_orders.making import Release, work_orders_create_for_orders
from production.work_orders.models import CLOSED_STATUSES, HOLDABLE_STATUSES, WorkOrder, WorkOrderStatus
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
    on_orders_released([event])


def on_orders_released(events: list[OrderReleased]) -> None:
    """on_order_released's batch form: the work orders of every released order made together, one plan
    asked for all (a CRM's orders taken in together)."""
    work_orders_create_for_orders(
        [Release(order=event.order, actor=event_actor(event), reason=event.reason) for event in events]
    )
    more = f" (+{len(events) - 1})" if len(events) > 1 else ""
    schedule_request(trigger=f"{events[0].type} {events[0].order.number}{more}")


@dataclass(frozen=True)
class FollowUp:
    """What an order's own hold, resume or cancel does to its work orders: which move, by which transition,
    to which status (the status the MES is told)."""

    transition: str
    status: WorkOrderStatus
    label: str
    work_orders: list[WorkOrder]


def order_follow_up(event: OrderTransitioned, work_orders: Sequence[WorkOrder]) -> FollowUp | None:
    """The rule, for production's follow-up below and for the MES's message of the same event (the outbox
    writes it whether or not the follow-up has run yet). None: the event moves no work order."""
    if isinstance(event, OrderHeld):
        moving = [w for w in work_orders if w.status in HOLDABLE_STATUSES]
        return FollowUp("hold", WorkOrderStatus.ON_HOLD, _("Order held"), moving)
    if isinstance(event, OrderResumed):
        held = [w for w in work_orders if w.status == WorkOrderStatus.ON_HOLD]
        # Work a change holds pending its disposition stays held: the planner's decision releases it.
        pending = work_orders_pending_disposition(work_order_ids=[w.pk for w in held])
        moving = [w for w in held if w.pk not in pending]
        # Back to the order's own state (Released or Running): the MES knows which it had reached.
        return FollowUp("resume", WorkOrderStatus.RELEASED, _("Order resumed"), moving)
    if isinstance(event, OrderCancelled):
        moving = [w for w in work_orders if w.status not in CLOSED_STATUSES]
        return FollowUp("cancel", WorkOrderStatus.CANCELLED, _("Order cancelled"), moving)
    return None


def on_order_held_resumed_or_cancelled(event: OrderTransitioned) -> None:
    """The order's open work orders are held, resumed or cancelled with it."""
    if event.change_request_id is not None:
        # Made by a change request: its "order.change_applied" already moved the work orders case by case
        # (a cancel holds started work pending its disposition): nothing more to do.
        return
    locked = list(WorkOrder.objects.select_for_update(no_key=True).filter(order=event.order))
    follow_up = order_follow_up(event, locked)
    if follow_up is None:
        return
    actor = event_actor(event)
    reason = f"{follow_up.label} {event.order.number}: {event.reason}".strip(": ")
    for work_order in follow_up.work_orders:
        getattr(work_order, follow_up.transition)()
        stamp(work_order, actor=actor, reason=reason)
        work_order.save()
    schedule_request(trigger=f"{event.type} {event.order.number}")


def on_order_replan(event: OrderEvent) -> None:
    """A new priority or promised date may change the plan of an order that has work orders."""
    if event.order.work_orders.exists():
        schedule_request(trigger=f"{event.type} {event.order.number}")
