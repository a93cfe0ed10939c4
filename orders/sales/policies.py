"""Who may do what to an order. Used by the FSM transitions, the services, the UI and the API alike.

Visibility is the first rule: a user who cannot see an order cannot act on it. Sales see the orders
they own; the plant, customer service and admins (`view_all_salesorders`) see every order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias, TypeGuard, cast

from config.kernel import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import Model
    from django_fsm import UserWithPermissions

    from orders.change_requests.models import ChangeRequest
    from orders.sales.models import SalesOrder

    # What django-fsm takes as a transition's `permission=`: it calls it with the instance and the user.
    FSMPermission: TypeAlias = Callable[[Model, UserWithPermissions], bool]

VIEW_ALL = "orders.view_all_salesorders"
VIEW_OWN = "orders.view_salesorder"
CANCEL_RELEASED = "orders.cancel_released_salesorder"
# Codename: start production or complete an order ahead of its work orders (orders.sales.overrides).
OVERRIDE_PROGRESS = "override_progress_salesorder"
# What an approved change request may do to an order's status: never start or complete it.
CHANGE_REQUEST_TRANSITIONS = frozenset({"hold", "resume", "cancel"})


def sees_all_orders(user: Actor) -> TypeGuard[User]:
    """Plant-side roles, customer service and admins see every order."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(VIEW_ALL))


def sees_own_orders(user: Actor) -> TypeGuard[User]:
    """Sales see the orders they own."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(VIEW_OWN))


def can_view_order(user: Actor, order: SalesOrder) -> TypeGuard[User]:
    """A user who may see the order (an active, logged-in user: never anonymous, never nobody)."""
    if sees_all_orders(user):
        return True
    return sees_own_orders(user) and order.owner_id == user.pk


def can_edit_order(user: Actor, order: SalesOrder) -> bool:
    """Direct edits of fields and lines (the order must also be editable: see services)."""
    return can_view_order(user, order) and user.has_perm("orders.change_salesorder")


def may_transition(user: Actor, order: SalesOrder, codename: str) -> TypeGuard[User]:
    """The permission `orders.<codename>` on an order the user may see."""
    return can_view_order(user, order) and user.has_perm(f"orders.{codename}")


def _fsm_arguments(instance: Model, user: UserWithPermissions) -> tuple[SalesOrder, Actor]:
    # django-fsm calls a permission with the order whose transition it is and the user its caller passed
    # (an Actor: the services pass theirs, None for the system); its types are the wider ones of any model.
    return cast("SalesOrder", instance), cast("Actor", user)


def transition_permission(codename: str) -> FSMPermission:
    """A django-fsm `permission=` callable: the permission plus visibility of the order."""

    def check(instance: Model, user: UserWithPermissions) -> bool:
        order, actor = _fsm_arguments(instance, user)
        return may_transition(actor, order, codename)

    check.__name__ = f"can_{codename}"
    return check


def cancel_needs_manager(order: SalesOrder) -> bool:
    """The cancel rule: once the plant has been given the order (released, in production, on hold: no
    longer editable), only a production manager (CANCEL_RELEASED) may cancel it, whichever door is used."""
    return not order.is_editable


def can_cancel(instance: Model, user: UserWithPermissions) -> bool:
    # Sales may cancel while the plant has not been given the order; after release only a manager may.
    order, actor = _fsm_arguments(instance, user)
    if not may_transition(actor, order, "cancel_salesorder"):
        return False
    return not cancel_needs_manager(order) or actor.has_perm(CANCEL_RELEASED)


def can_transition_by_change_request(order: SalesOrder, name: str, change_request: ChangeRequest) -> bool:
    """A transition (hold, resume, cancel: nothing else) made by applying an approved change request of
    this order.

    The approvals are the authority, not the permissions of whoever applies it: the approval matrix asked
    the right people. The cancel rule holds here too: cancelling a released order needs a production
    manager's approval of the request, given by someone who may cancel a released order directly.
    """
    if name not in CHANGE_REQUEST_TRANSITIONS:
        return False
    if change_request.order_id != order.pk or change_request.status != "approved":
        return False
    if name == "cancel" and cancel_needs_manager(order):
        manager = change_request.manager_approved_by
        return (
            manager is not None
            and manager.is_active
            and manager.has_perm(CANCEL_RELEASED)
            and can_view_order(manager, order)
        )
    return True


def can_hold(instance: Model, user: UserWithPermissions) -> bool:
    # Sales may hold and resume an order the plant has not been given yet; once released, holds are the
    # plant's (a quality hold must not be lifted by sales), so only roles that see every order may act.
    order, actor = _fsm_arguments(instance, user)
    if not may_transition(actor, order, "hold_salesorder"):
        return False
    status = order.status_before_hold if order.status == "on_hold" else order.status
    return status in ("draft", "confirmed") or actor.has_perm(VIEW_ALL)


PRIORITISE_ANY = "orders.prioritise_salesorder"


def can_set_priority(user: Actor, order: SalesOrder) -> bool:
    """Planners and production managers re-prioritise any order not finished, also after release; sales
    only their own orders before release (afterwards the plant's plan depends on it)."""
    if not can_view_order(user, order):
        return False
    if user.has_perm(PRIORITISE_ANY):
        return True
    return order.is_editable and can_edit_order(user, order)
