"""An order's lines in hand: loaded with the order, written by a service, handed on to its caller.

A service that locks an order with its lines, or writes them, keeps them on the order as a
Prefetch("lines", to_attr=LOADED_LINES) would: the list, in line order, products and families loaded. Its
checks, the event snapshots, the subscribers in its transaction and the caller's answer (the API serializes
the order it got back) read them there instead of querying again. They are a snapshot, like the order's
other fields: the `lines` relation itself is never filled, so `order.lines` always reads the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from config.kernel import stamp
from orders.sales.models import LOADED_LINES, OrderLine, SalesOrder
from orders.sales.rules import CleanedLine, NewLine

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def loaded_lines(order: SalesOrder) -> list[OrderLine] | None:
    """The lines loaded with `order` (by the service call that returned it), or None if none were."""
    lines: list[OrderLine] | None = getattr(order, LOADED_LINES, None)
    return lines


def keep_lines(order: SalesOrder, lines: Iterable[OrderLine]) -> list[OrderLine]:
    """Keep `lines` (products and families loaded) on the order as its lines in hand, in line order."""
    kept = sorted(lines, key=lambda line: line.line_no)
    for line in kept:
        line.order = order  # as a prefetch links them: line.order is this order, not another read
    setattr(order, LOADED_LINES, kept)
    return kept


def current_lines(order: SalesOrder) -> list[OrderLine]:
    """The order's lines with their products and families, in line order: those in hand when a service
    loaded them already, else read now (one query)."""
    lines = loaded_lines(order)
    if lines is not None:
        return lines
    return list(order.lines.select_related("product__family").order_by("line_no"))


def new_line(order: SalesOrder, line: NewLine | CleanedLine, *, line_no: int) -> OrderLine:
    """The OrderLine of a cleaned line (unsaved): its unit is the product's."""
    product = line["product"]
    assert product is not None and line["quantity"] is not None  # cleaned without errors
    return OrderLine(
        order=order,
        line_no=line_no,
        product=product,
        quantity=line["quantity"],
        unit=product.unit,
        spec_values=line["spec_values"],
        due_date=line["due_date"],
    )


def save_new_line(
    order: SalesOrder, line: NewLine | CleanedLine, *, line_no: int, actor: User | None, reason: str
) -> OrderLine:
    """Add a line to an order (a direct edit or an applied change request), with its history row."""
    order_line = new_line(order, line, line_no=line_no)
    stamp(order_line, actor=actor, reason=reason)
    order_line.save()
    return order_line
