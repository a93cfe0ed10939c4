"""Reads for the supply planning pages: the open shortages per work order and per item."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from production.supply_planning.models import Shortage


def open_shortages() -> list[Shortage]:
    return list(
        Shortage.objects.filter(resolved_at__isnull=True)
        .select_related("item", "work_order__order__customer", "exception")
        .order_by("needed_at", "pk")
    )


def shortages_by_item(rows: list[Shortage]) -> list[dict[str, Any]]:
    """Per item: how much is short, the orders and work orders affected, first need and latest arrival."""
    groups: dict[int, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            row.item_id,
            {
                "item": row.item,
                "quantity": Decimal(0),
                "orders": [],
                "work_orders": [],
                "first_needed": row.needed_at,
                "projected": row.projected_at,
                "sources": [],
            },
        )
        group["quantity"] += row.quantity
        if row.work_order.order.number not in group["orders"]:
            group["orders"].append(row.work_order.order.number)
        group["work_orders"].append(row.work_order.number)
        group["first_needed"] = min(group["first_needed"], row.needed_at)
        if row.projected_at and (group["projected"] is None or row.projected_at > group["projected"]):
            group["projected"] = row.projected_at
        if row.source and row.source not in group["sources"]:
            group["sources"].append(row.source)
    return sorted(groups.values(), key=lambda group: (group["first_needed"], group["item"].code))


def shortages_by_work_order(rows: list[Shortage]) -> list[dict[str, Any]]:
    groups: dict[int, list[Shortage]] = defaultdict(list)
    for row in rows:
        groups[row.work_order_id].append(row)
    return [
        {
            "work_order": items[0].work_order,
            "order": items[0].work_order.order,
            "rows": items,
            "projected": max((row.projected_at for row in items if row.projected_at), default=None),
        }
        for items in groups.values()
    ]
