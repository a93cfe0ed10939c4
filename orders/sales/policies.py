"""Who may do what to an order. Used by the FSM transitions, the services, the UI and the API alike.

Visibility is the first rule: a user who cannot see an order cannot act on it. Sales see the orders
they own; the plant, customer service and admins (`view_all_salesorders`) see every order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from config.kernel import Actor

if TYPE_CHECKING:
    from orders.sales.models import SalesOrder

VIEW_ALL = "orders.view_all_salesorders"
VIEW_OWN = "orders.view_salesorder"


def sees_all_orders(user: Actor) -> bool:
    """Plant-side roles, customer service and admins see every order."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(VIEW_ALL))


def sees_own_orders(user: Actor) -> bool:
    """Sales see the orders they own."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(VIEW_OWN))


def can_view_order(user: Actor, order: SalesOrder) -> bool:
    if sees_all_orders(user):
        return True
    return sees_own_orders(user) and order.owner_id == user.pk


def can_edit_order(user: Actor, order: SalesOrder) -> bool:
    """Direct edits of fields and lines (the order must also be editable: see services)."""
    return can_view_order(user, order) and user.has_perm("orders.change_salesorder")


def transition_permission(codename: str) -> Callable[[SalesOrder, Actor], bool]:
    """A django-fsm `permission=` callable: the permission plus visibility of the order."""

    def check(order: SalesOrder, user: Actor) -> bool:
        return can_view_order(user, order) and user.has_perm(f"orders.{codename}")

    check.__name__ = f"can_{codename}"
    return check


def can_cancel(order: SalesOrder, user: Actor) -> bool:
    # Sales may cancel while the plant has not been given the order; after release only a manager may.
    if not transition_permission("cancel_salesorder")(order, user):
        return False
    return order.is_editable or user.has_perm("orders.cancel_released_salesorder")


def can_hold(order: SalesOrder, user: Actor) -> bool:
    # Sales may hold and resume an order the plant has not been given yet; once released, holds are the
    # plant's (a quality hold must not be lifted by sales), so only roles that see every order may act.
    if not transition_permission("hold_salesorder")(order, user):
        return False
    status = order.status_before_hold if order.status == "on_hold" else order.status
    return status in ("draft", "confirmed") or user.has_perm(VIEW_ALL)


PRIORITISE_ANY = "orders.prioritise_salesorder"


def can_set_priority(user: Actor, order: SalesOrder) -> bool:
    """Planners and production managers re-prioritise any order not finished, also after release; sales
    only their own orders before release (afterwards the plant's plan depends on it)."""
    if not can_view_order(user, order):
        return False
    if user.has_perm(PRIORITISE_ANY):
        return True
    return order.is_editable and can_edit_order(user, order)
