"""The customer service desk's one search box: "where is my order?" from whatever the caller quotes.

Order number, customer code or name, CRM id (order's or customer's), customer PO; lot and work order
numbers come from production through orders.providers (orders does not import production). Reads only,
and only what the user may see (orders.sales.selectors.orders_visible_to).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from orders import providers
from orders.sales import selectors
from orders.sales.models import OrderStatus, SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_RESULTS = 25
MIN_TERM = 2
CLOSED_STATUSES = (OrderStatus.SHIPPED, OrderStatus.CLOSED, OrderStatus.CANCELLED)


@dataclass
class DeskResult:
    order: SalesOrder
    matched: list[str]
    percent_complete: Decimal | None
    projected_date: dt.date | None
    at_risk: bool

    @property
    def days_late(self) -> int | None:
        """Days the projection lies beyond the promise (None without both dates)."""
        if self.projected_date is None or self.order.promised_date is None:
            return None
        return (self.projected_date - self.order.promised_date).days


def _matches(order: SalesOrder, term: str) -> list[str]:
    lowered = term.lower()
    found = []
    checks = (
        (order.number, _("order number")),
        (order.customer_po, _("customer PO")),
        (order.crm_id, _("CRM id")),
        (order.customer.code, _("customer code")),
        (order.customer.crm_id, _("customer CRM id")),
        (order.customer.name, _("customer")),
    )
    for value, label in checks:
        if value and lowered in value.lower():
            found.append(f"{label}: {value}")
    return found


def _results(orders: list[SalesOrder], matched: dict[int, list[str]]) -> list[DeskResult]:
    progress_of = providers.orders_progress(orders)
    results = []
    for order in orders:
        progress = progress_of.get(order.pk)
        results.append(
            DeskResult(
                order=order,
                matched=matched.get(order.pk, []),
                percent_complete=progress.percent_complete if progress else None,
                projected_date=progress.projected_date if progress else None,
                at_risk=bool(progress and progress.at_risk),
            )
        )
    return results


def desk_at_risk(*, user: User) -> tuple[list[DeskResult], int]:
    """The desk's worklist before anyone calls: open orders the user may see that the current plan finishes
    after their promised date, the earliest promise first (the customer to call first), and how many there
    are in all (the list shows at most MAX_RESULTS)."""
    ids = providers.orders_at_risk()
    if not ids:
        return [], 0
    queryset = selectors.orders_visible_to(user).filter(pk__in=ids).exclude(status__in=CLOSED_STATUSES)
    orders = list(queryset.order_by("promised_date", "-priority", "number")[:MAX_RESULTS])
    return _results(orders, {}), queryset.count()


def desk_search(*, user: User, term: str) -> list[DeskResult]:
    """Orders the user may see that match `term`, newest first, each with what matched and its progress.

    A term equal to an order number comes first. At most MAX_RESULTS orders.
    """
    term = (term or "").strip()
    if len(term) < MIN_TERM:
        return []
    hits = providers.search_hits(term)
    by_provider: dict[int, list[str]] = {}
    for hit in hits:
        by_provider.setdefault(hit.order_id, []).append(hit.matched)
    condition = (
        Q(number__icontains=term)
        | Q(customer_po__icontains=term)
        | Q(crm_id__icontains=term)
        | Q(customer__code__icontains=term)
        | Q(customer__crm_id__icontains=term)
        | Q(customer__name__icontains=term)
        | Q(pk__in=list(by_provider))
    )
    queryset = selectors.orders_visible_to(user).filter(condition).order_by("-created_at", "-id")
    orders = list(queryset[:MAX_RESULTS])
    matched = {order.pk: _matches(order, term) + by_provider.get(order.pk, []) for order in orders}
    results = _results(orders, matched)
    # Stable sort: the order whose number is the term first, the rest stay newest first.
    results.sort(key=lambda result: result.order.number.lower() != term.lower())
    return results
