"""MRP net requirements, independent of Django: gross requirements per item and date, netted against stock
and open supply in time order, offset by lead time, rounded up to the minimum and multiple order quantity.

Items are netted level by level (low-level code: an item is netted only after every item that uses it), so
a sub-assembly's planned orders become gross requirements of its components at their release date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal


@dataclass(frozen=True)
class ItemPolicy:
    item: int
    code: str
    lead_time_days: int = 0
    minimum: Decimal = Decimal(0)
    multiple: Decimal = Decimal(0)
    purchased: bool = True


@dataclass(frozen=True)
class Component:
    item: int
    per_unit: Decimal  # with scrap applied


@dataclass(frozen=True)
class Suggestion:
    item: int
    code: str
    need_date: dt.date
    order_date: dt.date
    quantity: Decimal
    net_requirement: Decimal
    late: bool  # the order date is already past: expedite
    purchased: bool
    orders: tuple[int, ...] = ()  # work orders whose needs it covers


@dataclass
class NettingInput:
    today: dt.date
    policies: dict[int, ItemPolicy]
    on_hand: dict[int, Decimal] = field(default_factory=dict)
    receipts: dict[int, list[tuple[dt.date, Decimal]]] = field(default_factory=dict)
    # item → [(date, quantity, work order)] of independent (top-level) needs
    gross: dict[int, list[tuple[dt.date, Decimal, int]]] = field(default_factory=dict)
    structure: dict[int, list[Component]] = field(default_factory=dict)  # made item → its components


def round_order(net: Decimal, policy: ItemPolicy) -> Decimal:
    quantity = net
    if policy.multiple > 0:
        quantity = (net / policy.multiple).to_integral_value(rounding=ROUND_CEILING) * policy.multiple
    if quantity < policy.minimum:
        quantity = policy.minimum
        if policy.multiple > 0:
            quantity = (quantity / policy.multiple).to_integral_value(
                rounding=ROUND_CEILING
            ) * policy.multiple
    return quantity


def low_level_codes(structure: dict[int, list[Component]], items: set[int]) -> dict[int, int]:
    """The deepest level each item appears at (0: top); a cycle stops at the item's first visit."""
    level = dict.fromkeys(items, 0)
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(item: int) -> None:
        stack = [(item, iter(structure.get(item, ())))]
        state[item] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                order.append(node)
                stack.pop()
            elif state.get(child.item) is None:
                state[child.item] = 1
                stack.append((child.item, iter(structure.get(child.item, ()))))

    for item in list(structure) + list(items):
        if item not in state:
            visit(item)
    for node in reversed(order):  # parents before children
        for child in structure.get(node, ()):
            level[child.item] = max(level.get(child.item, 0), level.get(node, 0) + 1)
    return level


def net_requirements(data: NettingInput) -> list[Suggestion]:
    """Planned orders per item, in date order. Pure: dicts in, suggestions out."""
    gross: dict[int, list[tuple[dt.date, Decimal, int]]] = defaultdict(list)
    for item, rows in data.gross.items():
        gross[item].extend(rows)
    levels = low_level_codes(data.structure, set(gross) | set(data.policies))
    suggestions: list[Suggestion] = []
    for item in sorted(levels, key=lambda key: (levels[key], key)):
        needs = gross.get(item)
        if not needs:
            continue
        policy = data.policies.get(item) or ItemPolicy(item=item, code=str(item))
        receipts = sorted(data.receipts.get(item, ()))
        balance = data.on_hand.get(item, Decimal(0))
        by_date: dict[dt.date, tuple[Decimal, set[int]]] = {}
        for date, quantity, work_order in needs:
            total, orders = by_date.get(date, (Decimal(0), set()))
            orders.add(work_order)
            by_date[date] = (total + quantity, orders)
        r = 0
        for date in sorted(by_date):
            quantity, orders = by_date[date]
            while r < len(receipts) and receipts[r][0] <= date:
                balance += receipts[r][1]
                r += 1
            balance -= quantity
            if balance >= 0:
                continue
            net = -balance
            size = round_order(net, policy)
            order_date = date - dt.timedelta(days=policy.lead_time_days)
            balance += size
            suggestions.append(
                Suggestion(
                    item=item,
                    code=policy.code,
                    need_date=date,
                    order_date=order_date,
                    quantity=size,
                    net_requirement=net,
                    late=order_date < data.today,
                    purchased=policy.purchased,
                    orders=tuple(sorted(orders)),
                )
            )
            # A made item's planned order needs its components when it starts (its release date).
            start = max(order_date, data.today)
            for component in data.structure.get(item, ()):
                gross[component.item].extend(
                    (start, size * component.per_unit, work_order) for work_order in sorted(orders)[:1]
                )
    return suggestions
