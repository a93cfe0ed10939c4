"""What production tells customer service about an order, through orders' registries (see apps.py).

- a progress provider (orders.providers): percent complete and the current plan's projection, for the
  customer's tracking page and the service desk;
- an at-risk provider: the orders the current plan finishes late, for the service desk's worklist;
- a search provider: lot and work order numbers lead to their order (an after-sales complaint quotes a lot);
- the "at-a-glance" panel of the order page: status, percent complete, projected versus promised date with
  the risk made obvious, open exceptions, and the lots made for the order with their inspections.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import allowed
from orders.models import OrderStatus
from orders.providers import OrderProgress, SearchHit
from production.panels import shared_projection, shared_work_orders
from production.scheduling import OrderProjection
from production.work_orders import (
    Lot,
    QualityInspection,
    WorkOrder,
    WorkOrderStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from orders.models import SalesOrder

SEARCH_LIMIT = 50
NOT_PLANNED = (OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.CANCELLED)
CLOSED_ORDER_STATUSES = (
    OrderStatus.COMPLETED,
    OrderStatus.SHIPPED,
    OrderStatus.CLOSED,
    OrderStatus.CANCELLED,
)


def orders_progress(orders: list[Any]) -> dict[int, OrderProgress]:
    """Percent complete and the current plan's projection of released orders, in two queries for any number.

    Percent is the live work orders' percentages weighted by quantity (as work_orders.order_progress).
    """
    planned = {order.pk: order for order in orders if order.status not in NOT_PLANNED}
    if not planned:
        return {}
    projections = {
        projection.order_id: projection
        for projection in OrderProjection.objects.filter(order_id__in=planned, schedule__is_current=True)
    }
    weighted: dict[int, list[Decimal]] = {pk: [Decimal(0), Decimal(0)] for pk in planned}
    rows = (
        WorkOrder.objects.filter(order_id__in=planned)
        .exclude(status=WorkOrderStatus.CANCELLED)
        .values_list("order_id", "order_revision", "quantity", "percent_complete")
    )
    for order_id, revision, quantity, percent in rows:
        if revision == planned[order_id].revision:  # work orders of an older revision no longer count
            weighted[order_id][0] += quantity * percent
            weighted[order_id][1] += quantity
    answers = {}
    for pk in planned:
        projection = projections.get(pk)
        total_weight, total = weighted[pk][0], weighted[pk][1]
        answers[pk] = OrderProgress(
            percent_complete=(total_weight / total).quantize(Decimal("0.01")) if total else Decimal(0),
            projected_date=_projected_date(projection),
            at_risk=bool(projection and projection.at_risk),
            planned=projection is not None,
        )
    return answers


def _projected_date(projection: OrderProjection | None) -> dt.date | None:
    if projection is None or projection.projected_completion is None:
        return None
    return timezone.localdate(projection.projected_completion)


def at_risk() -> list[int]:
    """Orders the plan in force finishes after their promised date."""
    projections = OrderProjection.objects.filter(schedule__is_current=True, at_risk=True)
    return list(projections.values_list("order_id", flat=True))


def search(term: str) -> list[SearchHit]:
    """Orders whose lots or work orders carry `term` in their number."""
    hits = [
        SearchHit(order_id=order_id, matched=_("lot: %(number)s") % {"number": number})
        for number, order_id in Lot.objects.filter(number__icontains=term).values_list(
            "number", "work_order__order_id"
        )[:SEARCH_LIMIT]
    ]
    hits += [
        SearchHit(order_id=order_id, matched=_("work order: %(number)s") % {"number": number})
        for number, order_id in WorkOrder.objects.filter(number__icontains=term).values_list(
            "number", "order_id"
        )[:SEARCH_LIMIT]
    ]
    return hits


def _weighted_percent(work_orders: list[WorkOrder]) -> Decimal:
    """production.work_orders.order_progress, on work orders in hand."""
    total = sum((wo.quantity for wo in work_orders), Decimal(0))
    if not total:
        return Decimal(0)
    weighted = sum((wo.quantity * wo.percent_complete for wo in work_orders), Decimal(0))
    return (weighted / total).quantize(Decimal("0.01"))


def at_a_glance(order: SalesOrder, user: User) -> dict | None:
    if not allowed(user, "production.view_workorder"):
        return None
    # The work orders and projection the work-orders panel shows too: read once for the page.
    projection = shared_projection(order)
    work_orders = shared_work_orders(order)
    live = [
        wo
        for wo in work_orders
        if wo.order_revision == order.revision and wo.status != WorkOrderStatus.CANCELLED
    ]
    statuses = [wo.status for wo in live]
    open_exceptions = sorted(
        (exception for wo in work_orders for exception in wo.open_exceptions),  # type: ignore[attr-defined]
        key=lambda exception: exception.raised_at,
        reverse=True,
    )
    lots = list(
        Lot.objects.filter(work_order__order=order)
        .select_related("work_order")
        .prefetch_related(
            Prefetch("inspections", queryset=QualityInspection.objects.order_by("-inspected_at"))
        )
        .order_by("number")
    )
    projected = _projected_date(projection)
    slack_days = (order.promised_date - projected).days if projected and order.promised_date else None
    return {
        "order": order,
        "percent": _weighted_percent(live) if statuses else None,
        "work_orders": len(statuses),
        "work_orders_done": sum(1 for status in statuses if status == WorkOrderStatus.COMPLETED),
        "projection": projection,
        "projected": projected,
        "slack_days": slack_days,
        "late_days": -slack_days if slack_days is not None and slack_days < 0 else 0,
        "open_exceptions": open_exceptions,
        # A shipped, completed or cancelled order is not at risk from what is still open on it: no alarm red.
        "order_closed": order.status in CLOSED_ORDER_STATUSES,
        "lots": lots,
    }
