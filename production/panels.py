"""The "work-orders" section of the order page (registered in ProductionConfig.ready, see orders.panels)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from config.kernel import allowed
from orders import panels
from orders.models import OPEN_STATUSES, Priority
from orders.sales import policies
from production.master_data import floor_work_center_ids
from production.replanning import input_generation
from production.scheduling import OrderProjection, current_schedule, order_projection
from production.work_orders import (
    HOLDABLE_STATUSES,
    WorkOrder,
    WorkOrderStatus,
    order_work_orders,
    work_orders_pending_disposition,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from orders.models import SalesOrder


def work_orders_panel(order: SalesOrder, user: User) -> dict[str, Any] | None:
    """Work orders with status, percent complete, operations (scheduled vs actual, good/scrap/rework),
    lots and inspections, open exceptions, and the projected completion against the promise.

    Hidden from users who may not see production, and for orders the plant has not been given yet.
    """
    if not allowed(user, "production.view_workorder"):
        return None
    work_orders = shared_work_orders(order)
    if not work_orders:
        return None
    projection = shared_projection(order)
    # Not in the plan yet, but the fast plan of the newest input is on its way (seconds, not minutes).
    planning = projection is None and settings.PRODUCTION_PLAN_AT_ONCE and _plan_behind()
    late_by_days = None
    if projection and projection.projected_completion and projection.promised_date:
        projected_day = timezone.localtime(projection.projected_completion).date()
        late_by_days = (projected_day - projection.promised_date).days
    return {
        "order": order,
        "work_orders": work_orders,
        "projection": projection,
        "planning": planning,
        "late_by_days": late_by_days,
        "can_hold": allowed(user, "production.hold_workorder"),
        "can_print": allowed(user, "production.print_traveller"),
        "holdable": [str(status) for status in HOLDABLE_STATUSES],
        "on_hold": WorkOrderStatus.ON_HOLD,
        # Held pending a change's disposition: decided on the planner page, not resumed here.
        "pending_disposition": work_orders_pending_disposition(
            work_order_ids=[work_order.pk for work_order in work_orders]
        ),
        # Work orders of a plant that reports on OrderBridge's own floor: the planner releases them here.
        "floor_release": _floor_releasable(work_orders)
        if allowed(user, "production.release_workorder")
        else set(),
        "can_prioritise": order.status in OPEN_STATUSES and policies.can_set_priority(user, order),
        "priorities": Priority.choices,
    }


def _floor_releasable(work_orders: Any) -> set[int]:
    """The planned work orders whose first operation's work center reports on the floor."""
    first = {}
    for work_order in work_orders:
        operations = list(work_order.operations.all())
        if work_order.status == WorkOrderStatus.PLANNED and operations and not work_order.routing_missing:
            first[work_order.pk] = operations[0].work_center_id
    if not first:
        return set()
    floor = floor_work_center_ids(set(first.values()))
    return {pk for pk, center in first.items() if center in floor}


def shared_work_orders(order: SalesOrder) -> list[WorkOrder]:
    """The order's work orders for its page (production.work_orders.order_work_orders), read once for all
    the panels of the page."""
    return panels.shared(f"production.work_orders:{order.pk}", lambda: order_work_orders(order=order))


def shared_projection(order: SalesOrder) -> OrderProjection | None:
    return panels.shared(f"production.projection:{order.pk}", lambda: order_projection(order=order))


def _plan_behind() -> bool:
    """The current plan was built from older input than the latest request for a plan."""
    current = current_schedule()
    return input_generation() > (current.generation if current is not None else 0)
