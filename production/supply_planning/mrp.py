"""Purchase suggestions (MRP net requirements) and turning one into a purchase order.

Gross requirements are the leaf needs of open work orders (planned, released, in progress: exploded BOMs,
timed by the current plan's start of the consuming operation) plus the quote holds; they are netted per
item and date against stock on hand and open purchase order lines by expected date (netting.py). Reads
are in bulk (a fixed number of queries whatever the number of work orders); the arithmetic is dicts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import ValidationFailed, require
from production.materials import (
    PURCHASED_KINDS,
    Item,
    PurchaseLineInput,
    PurchaseOrder,
    active_reservations,
    on_hand,
    open_supply,
    purchase_order_create,
)
from production.scheduling.models import Schedule
from production.supply_planning import sources
from production.supply_planning.netting import ItemPolicy, NettingInput, Suggestion, net_requirements
from production.supply_planning.policies import ORDER_SUGGESTION, VIEW_SUGGESTIONS

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def netting_input(*, now: dt.datetime) -> NettingInput:
    """Everything MRP needs, read in bulk."""
    today = timezone.localtime(now).date()
    schedule = Schedule.objects.filter(is_current=True).first()
    work_orders = sources.open_work_orders()
    gross: dict[int, list[tuple[dt.date, Decimal, int]]] = defaultdict(list)
    # The plant's day of each moment, worked out once per distinct moment (timezone.localtime per need
    # was half the run at 2,000 work orders).
    zone = timezone.get_default_timezone()
    days: dict[dt.datetime, dt.date] = {}
    for need in sources.work_order_needs(work_orders, now=now, schedule=schedule):
        day = days.get(need.at)
        if day is None:
            day = days[need.at] = need.at.astimezone(zone).date()
        gross[need.item].append((day, need.quantity, need.work_order))
    for item, quantity, consumed, needed_on in (
        active_reservations(now=now)
        .filter(work_order__isnull=True)
        .values_list("item_id", "quantity", "consumed_quantity", "needed_on")
    ):
        gross[item].append((needed_on or today, quantity - consumed, 0))
    policies = {
        pk: ItemPolicy(
            item=pk,
            code=code,
            lead_time_days=lead,
            minimum=minimum or Decimal(0),
            multiple=multiple or Decimal(0),
            purchased=kind in PURCHASED_KINDS,
        )
        for pk, code, lead, minimum, multiple, kind in Item.objects.values_list(
            "pk", "code", "lead_time_days", "minimum_order_quantity", "order_multiple", "kind"
        )
    }
    receipts = {
        item: [(line.expected_date, line.quantity) for line in lines] for item, lines in open_supply().items()
    }
    return NettingInput(
        today=today, policies=policies, on_hand=on_hand(), receipts=receipts, gross=dict(gross)
    )


def purchase_suggestions(*, actor: User | None, now: dt.datetime | None = None) -> list[Suggestion]:
    """The buyer's suggestions: planned purchase orders for bought items, by order date."""
    require(actor, VIEW_SUGGESTIONS, action="purchase_suggestions", target="-")
    suggestions = net_requirements(netting_input(now=now or timezone.now()))
    return sorted((s for s in suggestions if s.purchased), key=lambda s: (s.order_date, s.code, s.need_date))


@transaction.atomic
def suggestion_order(
    *,
    actor: User | None,
    item: Item | int,
    quantity: Decimal,
    expected_date: dt.date,
    supplier: str = "",
) -> PurchaseOrder:
    """Turn a purchase suggestion into an open purchase order of one line (expected supply at once)."""
    require(actor, ORDER_SUGGESTION, action="suggestion_order", target=str(getattr(item, "pk", item)))
    errors: dict[str, list[str]] = {}
    item_row = item if isinstance(item, Item) else Item.objects.filter(pk=item).first()
    if item_row is None or item_row.kind not in PURCHASED_KINDS:
        errors["item"] = [_("Choose an item the plant buys.")]
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        errors["quantity"] = [_("The quantity must be greater than zero.")]
    supplier = (supplier or (item_row.supplier if item_row else "")).strip()
    if not supplier:
        errors["supplier"] = [_("Name the supplier (the item has no preferred supplier).")]
    if errors or item_row is None:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return purchase_order_create(
        supplier=supplier[:200],
        lines=[PurchaseLineInput(item=item_row, quantity=quantity, expected_date=expected_date)],
        actor=actor,
        reason=_("Purchase order from an MRP suggestion"),
        source=_("MRP suggestion"),
    )
