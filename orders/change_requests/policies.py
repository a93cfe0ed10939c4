"""Who may do what to change requests: request, approve (as planner or production manager), apply.

The approval matrix itself (which approvals a request needs) is orders.change_requests.impact; the cancel
rule for the order is orders.sales.policies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from config.kernel import Actor, Forbidden, allowed, refused, require
from orders.change_requests.models import ChangeRequest
from orders.sales import policies as order_policies
from orders.sales.models import OrderStatus, SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ADD_PERM = "orders.add_changerequest"
APPROVE_PERM = "orders.approve_changerequest"
MANAGER_PERM = "orders.approve_changerequest_as_manager"

# Orders production holds: from release until the work is finished. Earlier, the owner edits directly.
CHANGEABLE_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION, OrderStatus.ON_HOLD)


def is_manager(actor: Actor) -> bool:
    return allowed(actor, MANAGER_PERM)


def require_view(actor: Actor, order: SalesOrder, action: str) -> None:
    if not order_policies.can_view_order(actor, order):
        raise refused(actor, action, order.number, "order not visible")


def require_requester(actor: Actor, cr: ChangeRequest, action: str) -> None:
    """Only who asked for the change edits, submits or withdraws it."""
    if cr.requested_by_id != getattr(actor, "pk", None):
        raise refused(actor, action, cr.number, "not the requester")


def require_approver(actor: User, cr: ChangeRequest, order: SalesOrder, action: str) -> None:
    require(actor, APPROVE_PERM, action=action, target=cr.number)
    require_view(actor, order, action)
    if cr.requested_by_id == actor.pk:
        raise Forbidden(_("Nobody decides their own change request."), code="own_change_request")
