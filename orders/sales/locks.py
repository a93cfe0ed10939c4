"""Taking an order for a write: its row lock (with its lines if asked), and the lost-update guard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from django.http import Http404
from django.utils.translation import gettext as _

from config.kernel import StaleObject
from orders.sales import selectors
from orders.sales.lines import keep_lines
from orders.sales.models import OrderLine, SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True)
class OrderNumber:
    """An order named by its number as `user` asked for it (an API URL). Services given one lock the order
    only if the user may see it, in the same query, and raise Http404 otherwise: a hidden order is missing
    to its asker, never forbidden (that would tell that it exists)."""

    number: str
    user: User | AnonymousUser | None


# How services take an order: the instance, its id, or its number as a user asked for it (OrderNumber).
OrderRef: TypeAlias = SalesOrder | int | OrderNumber


def lock_order(order: OrderRef, *, with_lines: bool = False) -> SalesOrder:
    """The order, row-locked until commit. Only the order's row: `of=("self",)` keeps the customer's row
    free, or every order of one customer would queue behind each other.

    `with_lines`: its lines too, in hand (orders.sales.lines), read after the lock, so they are the lines as
    of commit (lines change only under it)."""
    queryset = SalesOrder.objects.select_related("customer", "owner")
    if isinstance(order, OrderNumber):
        queryset = selectors.orders_visible_to(order.user).filter(number=order.number)
    else:
        queryset = queryset.filter(pk=order.pk if isinstance(order, SalesOrder) else order)
    try:
        # FOR NO KEY UPDATE, here and wherever an order or a work order is locked: rows that reference it
        # (a plan's projections, outbox rows) take KEY SHARE on it as they commit, which FOR UPDATE blocks,
        # a deadlock with a plan being stored. Writers still exclude each other.
        locked = queryset.select_for_update(no_key=True, of=("self",)).get()
    except SalesOrder.DoesNotExist:
        if isinstance(order, OrderNumber):
            raise Http404(_("No order %(number)s.") % {"number": order.number}) from None
        raise
    if with_lines:
        # One plain query: prefetch_related's machinery costs more than the query itself.
        lines = OrderLine.objects.filter(order_id=locked.pk).select_related("product__family")
        keep_lines(locked, lines.order_by("line_no"))
    return locked


def check_version(order: SalesOrder, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != order.version:
        raise StaleObject(
            _(
                "Order %(number)s was changed by someone else since you opened it (your version %(yours)s, "
                "now %(now)s). Reload it and apply your change again."
            )
            % {"number": order.number, "yours": expected_version, "now": order.version},
            fields={"version": [_("This order has changed since you read it.")]},
        )
