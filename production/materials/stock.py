"""Stock and supply writes: every change of stock is a movement in the ledger plus its cached level, in
one transaction; purchase orders are created and received (partly or fully) here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import Message, ValidationFailed, as_stored, define, message, require, stamp
from production.materials.models import (
    OPEN_PURCHASE_STATUSES,
    Item,
    Location,
    MovementKind,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    StockMovement,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from production.work_orders import ProgressReport, WorkOrder

# Reasons the ledger and the history keep, as messages read in each reader's language.
RECEIVED = define("materials.received", gettext_lazy("Received against %(number)s"))
PO_CREATED = define("materials.po_created", gettext_lazy("Purchase order created"))
MANAGE_STOCK = "production.manage_stock"
MANAGE_PURCHASING = "production.manage_purchasing"


def decimal_value(value: object, field: str, errors: dict[str, list[str]]) -> Decimal:
    """`value` as a Decimal, or a field error (and zero)."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("Enter a number."))
        return Decimal(0)
    if not number.is_finite():
        errors.setdefault(field, []).append(_("Enter a number."))
        return Decimal(0)
    return number


def default_location() -> Location:
    """The first active location by code; a MAIN store is made when there is none."""
    location = Location.objects.filter(is_active=True).order_by("code").first()
    if location is None:
        location, _created = Location.objects.get_or_create(
            code="MAIN", defaults={"name": "Main store", "name_zh": "主仓库"}
        )
    return location


def movement_record(
    *,
    item: Item,
    location: Location,
    kind: str,
    quantity: Decimal,
    actor: User | None,
    reason: str | Message,
    occurred_at: dt.datetime | None = None,
    work_order: WorkOrder | None = None,
    progress_report: ProgressReport | None = None,
    purchase_order_line: PurchaseOrderLine | None = None,
) -> StockMovement:
    """Write one ledger row and move the cached level by the same signed quantity (no permission check:
    the calling service has made it). Must run inside the caller's transaction."""
    movement = StockMovement.objects.create(
        item=item,
        location=location,
        kind=kind,
        quantity=quantity,
        occurred_at=occurred_at or timezone.now(),
        actor=actor,
        reason=as_stored(reason)[:2000],
        work_order=work_order,
        progress_report=progress_report,
        purchase_order_line=purchase_order_line,
    )
    # An atomic increment: concurrent movements of one item and location add up instead of overwriting.
    updated = StockLevel.objects.filter(item=item, location=location).update(on_hand=F("on_hand") + quantity)
    if not updated:
        level, created = StockLevel.objects.get_or_create(
            item=item, location=location, defaults={"on_hand": quantity}
        )
        if not created:
            StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity)
    return movement


def stock_adjust(
    *,
    item: Item,
    location: Location,
    quantity: object,
    actor: User | None,
    reason: str,
    counted: bool = False,
) -> StockMovement:
    """Correct stock with a reason: by `quantity` (signed), or to `quantity` when `counted` (a count)."""
    require(actor, MANAGE_STOCK, action="stock_adjust", target=item.code)
    errors: dict[str, list[str]] = {}
    value = decimal_value(quantity, "quantity", errors)
    if not reason.strip():
        errors["reason"] = [_("Say why the stock changes.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    with transaction.atomic():
        level = StockLevel.objects.select_for_update().filter(item=item, location=location).first()
        delta = value - (level.on_hand if level else Decimal(0)) if counted else value
        if delta == 0:
            raise ValidationFailed(
                _("The stock would not change."), fields={"quantity": [_("The stock would not change.")]}
            )
        return movement_record(
            item=item,
            location=location,
            kind=MovementKind.ADJUSTMENT,
            quantity=delta,
            actor=actor,
            reason=reason.strip(),
        )


@dataclass(frozen=True)
class PurchaseLineInput:
    item: Item
    quantity: Decimal
    expected_date: dt.date
    location: Location | None = None


def next_purchase_order_number() -> str:
    last = PurchaseOrder.objects.filter(number__startswith="PO-").order_by("-number").first()
    sequence = int(last.number[3:]) + 1 if last and last.number[3:].isdigit() else 1
    return f"PO-{sequence:06d}"


def purchase_order_create(
    *,
    supplier: str,
    lines: Sequence[PurchaseLineInput],
    actor: User | None,
    reason: str = "",
    note: str = "",
    source: str = "",
) -> PurchaseOrder:
    """An open purchase order PO-000123 with its lines (expected supply from now on)."""
    require(actor, MANAGE_PURCHASING, action="purchase_order_create", target=supplier)
    errors: dict[str, list[str]] = {}
    if not supplier.strip():
        errors["supplier"] = [_("This field is required.")]
    if not lines:
        errors["lines"] = [_("A purchase order needs at least one line.")]
    for index, line in enumerate(lines, start=1):
        if line.quantity <= 0:
            errors.setdefault("quantity", []).append(
                _("Line %(line)s: the quantity must be greater than zero.") % {"line": index}
            )
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    with transaction.atomic():
        # One number at a time: the lock serialises numbering (a unique number is also enforced).
        PurchaseOrder.objects.select_for_update().order_by("-number").first()
        order = PurchaseOrder(
            number=next_purchase_order_number(),
            supplier=supplier.strip(),
            note=note,
            source=source,
            created_by=actor,
        )
        stamp(order, actor=actor, reason=reason or message(PO_CREATED))
        order.save()
        for index, line in enumerate(lines, start=1):
            row = PurchaseOrderLine(
                purchase_order=order,
                line_number=index,
                item=line.item,
                quantity=line.quantity,
                expected_date=line.expected_date,
                location=line.location,
            )
            stamp(row, actor=actor, reason=reason or message(PO_CREATED))
            row.save()
    return order


def purchase_order_receive(
    *,
    line: PurchaseOrderLine,
    quantity: object,
    actor: User | None,
    reason: str = "",
    location: Location | None = None,
    occurred_at: dt.datetime | None = None,
) -> StockMovement:
    """Receive (part of) a purchase order line into stock: a receipt movement, the line's received
    quantity, and the order's status (partially received, or received when every line is complete).
    Receiving more than is open is refused."""
    require(actor, MANAGE_STOCK, action="purchase_order_receive", target=str(line.purchase_order_id))
    errors: dict[str, list[str]] = {}
    value = decimal_value(quantity, "quantity", errors)
    if not errors and value <= 0:
        errors["quantity"] = [_("The quantity must be greater than zero.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    with transaction.atomic():
        order = PurchaseOrder.objects.select_for_update().get(pk=line.purchase_order_id)
        line = PurchaseOrderLine.objects.select_for_update().select_related("item").get(pk=line.pk)
        if order.status not in OPEN_PURCHASE_STATUSES:
            raise ValidationFailed(
                _("Purchase order %(number)s is %(status)s: nothing can be received.")
                % {"number": order.number, "status": order.get_status_display()},
                code="not_open",
            )
        if value > line.open_quantity:
            raise ValidationFailed(
                _("Only %(open)s remain open on this line.") % {"open": line.open_quantity.normalize()},
                fields={"quantity": [_("More than the open quantity.")]},
            )
        why: str | Message = reason or message(RECEIVED, number=order.number)
        line.received_quantity += value
        stamp(line, actor=actor, reason=why)
        line.save(update_fields=["received_quantity"])
        movement = movement_record(
            item=line.item,
            location=location or line.location or default_location(),
            kind=MovementKind.RECEIPT,
            quantity=value,
            actor=actor,
            reason=why,
            occurred_at=occurred_at,
            purchase_order_line=line,
        )
        complete = not order.lines.exclude(pk=line.pk).filter(quantity__gt=F("received_quantity")).exists()
        if complete and line.open_quantity == 0:
            order.receive_all()
        else:
            order.receive_part()
        stamp(order, actor=actor, reason=why)
        order.save()
    return movement


def purchase_order_cancel(*, order: PurchaseOrder, actor: User | None, reason: str) -> PurchaseOrder:
    require(actor, MANAGE_PURCHASING, action="purchase_order_cancel", target=order.number)
    if not reason.strip():
        raise ValidationFailed(_("Say why."), fields={"reason": [_("This field is required.")]})
    with transaction.atomic():
        order = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
        if order.status != "open":
            raise ValidationFailed(_("Only an open purchase order with nothing received can be cancelled."))
        order.cancel()
        stamp(order, actor=actor, reason=reason)
        order.save()
    return order
