"""Reads of materials: items, on-hand stock, open supply in time order, active reservations.

Each selector runs a fixed number of queries whatever the number of items.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    CharField,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils import timezone

from production.materials.models import (
    OPEN_PURCHASE_STATUSES,
    Bom,
    BomRevision,
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


@dataclass(frozen=True)
class ReservedRow:
    """What an active reservation (or quote hold) still holds of an item, and when it is needed."""

    item_id: int
    open_quantity: Decimal
    needed_on: dt.date | None


@dataclass
class ItemPosition:
    """Stock on hand, open supply (earliest first) and active reservations of some items, read together."""

    on_hand: dict[int, Decimal]
    supply: dict[int, list[SupplyLine]]
    reserved: list[ReservedRow]


_NUMBER: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=6)


def item_position(
    item_ids: Iterable[int],
    *,
    now: dt.datetime | None = None,
    work_order_reservations: bool = True,
    except_work_orders: Iterable[int] = (),
) -> ItemPosition:
    """`on_hand`, `open_supply` and the active reservations (quote holds past expiry left out) of the items
    in ONE query (a UNION ALL of the three reads): what every delivery-date quote reads, so one round trip
    to the database instead of three. `work_order_reservations=False` leaves out released work orders'
    reservations (a caller that counts their needs instead); `except_work_orders` leaves out those work
    orders' reservations (work whose needs are about to change)."""
    ids = list(item_ids)
    now = now or timezone.now()

    stock = (
        StockLevel.objects.filter(item_id__in=ids)
        .annotate(
            k=Value("s", output_field=CharField()),
            d=Value(None, output_field=DateField()),
            q=F("on_hand"),
            c=Value(Decimal(0), output_field=_NUMBER),
            n=Value("", output_field=CharField()),
            i2=Value(0, output_field=IntegerField()),
            i3=Value(0, output_field=IntegerField()),
        )
        .values_list("k", "item_id", "d", "q", "c", "n", "i2", "i3")
        .order_by()  # no model ordering (its joins) inside the union: the supply is sorted below
    )
    supply = (
        PurchaseOrderLine.objects.filter(
            item_id__in=ids,
            purchase_order__status__in=OPEN_PURCHASE_STATUSES,
            quantity__gt=F("received_quantity"),
        )
        .annotate(
            k=Value("p", output_field=CharField()),
            d=F("expected_date"),
            q=ExpressionWrapper(F("quantity") - F("received_quantity"), output_field=_NUMBER),
            c=Value(Decimal(0), output_field=_NUMBER),
            n=F("purchase_order__number"),
            i2=F("id"),
            i3=F("line_number"),
        )
        .values_list("k", "item_id", "d", "q", "c", "n", "i2", "i3")
        .order_by()  # no model ordering (its joins) inside the union: the supply is sorted below
    )
    reservations = Reservation.objects.filter(item_id__in=ids, state=ReservationState.ACTIVE).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    if not work_order_reservations:
        reservations = reservations.filter(work_order__isnull=True)
    excepted = list(except_work_orders)
    if excepted:
        reservations = reservations.exclude(work_order_id__in=excepted)
    held = (
        reservations.annotate(
            k=Value("r", output_field=CharField()),
            d=F("needed_on"),
            q=F("quantity"),
            c=F("consumed_quantity"),
            n=Value("", output_field=CharField()),
            i2=Value(0, output_field=IntegerField()),
            i3=Value(0, output_field=IntegerField()),
        )
        .values_list("k", "item_id", "d", "q", "c", "n", "i2", "i3")
        .order_by()
    )
    position = ItemPosition(on_hand={}, supply=defaultdict(list), reserved=[])
    lines: list[tuple[dt.date, str, int, SupplyLine]] = []
    for kind, item_id, day, quantity, consumed, number, line_id, line_number in stock.union(
        supply, held, all=True
    ):
        if kind == "s":
            position.on_hand[item_id] = position.on_hand.get(item_id, Decimal(0)) + quantity
        elif kind == "p":
            lines.append((day, number, line_number, SupplyLine(item_id, day, quantity, number, line_id)))
        else:
            position.reserved.append(ReservedRow(item_id, max(quantity - consumed, Decimal(0)), day))
    for _day, _number, _line, line in sorted(lines, key=lambda entry: entry[:3]):
        position.supply[line.item_id].append(line)
    position.supply = dict(position.supply)
    return position


def bom_revision() -> str | None:
    """The token database triggers change on every write to items, BOMs, lines and variants (None before
    the first such write): what a cache built from those tables is valid for."""
    return BomRevision.objects.filter(pk=1).values_list("token", flat=True).first()
