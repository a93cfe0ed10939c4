"""Reads of materials: items, on-hand stock, open supply in time order, active reservations.

Each selector runs a fixed number of queries whatever the number of items.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from production.materials.models import (
    OPEN_PURCHASE_STATUSES,
    Bom,
    Item,
    PurchaseOrder,
    PurchaseOrderLine,
    Reservation,
    ReservationState,
    StockLevel,
    StockMovement,
)


@dataclass(frozen=True)
class SupplyLine:
    """Open supply of one item: what is still to come on a purchase order line, and when."""

    item_id: int
    expected_date: dt.date
    quantity: Decimal
    purchase_order_number: str
    purchase_order_line_id: int


def items(*, kind: str = "", search: str = "") -> QuerySet[Item]:
    queryset = Item.objects.select_related("product")
    if kind:
        queryset = queryset.filter(kind=kind)
    if search:
        queryset = queryset.filter(
            Q(code__icontains=search) | Q(name__icontains=search) | Q(name_zh__icontains=search)
        )
    return queryset


def item_boms(item: Item) -> QuerySet[Bom]:
    return item.boms.order_by("-version")


def on_hand(item_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """Stock on hand per item id, all locations together (items without stock are left out)."""
    levels = StockLevel.objects.all()
    if item_ids is not None:
        levels = levels.filter(item_id__in=list(item_ids))
    return {
        row["item_id"]: row["total"] or Decimal(0)
        for row in levels.values("item_id").annotate(total=Sum("on_hand")).order_by()
    }


def stock_levels(*, item: Item | None = None) -> QuerySet[StockLevel]:
    levels = StockLevel.objects.select_related("item", "location")
    if item is not None:
        levels = levels.filter(item=item)
    return levels


def stock_movements(*, item: Item, limit: int = 50) -> QuerySet[StockMovement]:
    return (
        StockMovement.objects.filter(item=item)
        .select_related("location", "actor", "work_order", "purchase_order_line__purchase_order")
        .order_by("-occurred_at", "-id")[:limit]
    )


def open_supply(item_ids: Iterable[int] | None = None) -> dict[int, list[SupplyLine]]:
    """Per item id, the open purchase order lines still to be received, earliest expected date first."""
    lines = (
        PurchaseOrderLine.objects.filter(
            purchase_order__status__in=OPEN_PURCHASE_STATUSES, quantity__gt=F("received_quantity")
        )
        .annotate(
            still_open=ExpressionWrapper(
                F("quantity") - F("received_quantity"),
                output_field=DecimalField(max_digits=16, decimal_places=6),
            )
        )
        .order_by("expected_date", "purchase_order__number", "line_number")
        .values_list("item_id", "expected_date", "still_open", "purchase_order__number", "id")
    )
    if item_ids is not None:
        lines = lines.filter(item_id__in=list(item_ids))
    supply: dict[int, list[SupplyLine]] = defaultdict(list)
    for item_id, expected, quantity, number, line_id in lines:
        supply[item_id].append(SupplyLine(item_id, expected, quantity, number, line_id))
    return dict(supply)


def active_reservations(
    item_ids: Iterable[int] | None = None, *, now: dt.datetime | None = None
) -> QuerySet[Reservation]:
    """Active reservations, quote holds past their expiry left out (they no longer hold anything)."""
    now = now or timezone.now()
    reservations = Reservation.objects.filter(state=ReservationState.ACTIVE).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    if item_ids is not None:
        reservations = reservations.filter(item_id__in=list(item_ids))
    return reservations.select_related("item", "work_order", "holder")


def reserved(item_ids: Iterable[int] | None = None, *, now: dt.datetime | None = None) -> dict[int, Decimal]:
    """Per item id, the quantity active reservations still hold (reserved minus consumed)."""
    rows = (
        active_reservations(item_ids, now=now)
        .values("item_id")
        .annotate(total=Sum(F("quantity") - F("consumed_quantity")))
        .order_by()
    )
    return {row["item_id"]: row["total"] or Decimal(0) for row in rows}


def available(item_ids: Iterable[int] | None = None, *, now: dt.datetime | None = None) -> dict[int, Decimal]:
    """Per item id, on hand minus what active reservations hold (may be negative: a shortage)."""
    ids = list(item_ids) if item_ids is not None else None
    stock, held = on_hand(ids), reserved(ids, now=now)
    return {
        item_id: stock.get(item_id, Decimal(0)) - held.get(item_id, Decimal(0)) for item_id in {*stock, *held}
    }


def purchase_orders(*, open_only: bool = False) -> QuerySet[PurchaseOrder]:
    queryset = PurchaseOrder.objects.prefetch_related("lines__item")
    if open_only:
        queryset = queryset.filter(status__in=OPEN_PURCHASE_STATUSES)
    return queryset
