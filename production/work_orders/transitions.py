"""A user's transitions of one work order: release to the MES, hold, resume, cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from config.kernel import Conflict, TransitionNotAllowed, ValidationFailed, message, refused, stamp
from orders.models import OrderStatus
from production.replanning import schedule_request
from production.work_orders.announce import TRANSITION_EVENTS, work_order_announce
from production.work_orders.lifecycle import CLOSED_CANCELLED, order_follow_work
from production.work_orders.models import WorkOrder
from production.work_orders.selectors import work_orders_pending_disposition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

WORK_ORDER_LABELS = {
    "release": _("release"),
    "hold": _("hold"),
    "resume": _("resume"),
    "cancel": _("cancel"),
}
WORK_ORDER_REASON_REQUIRED = {"hold", "cancel"}


@transaction.atomic
def work_order_transition(
    *, actor: User | None, work_order: WorkOrder | int, name: str, reason: str = ""
) -> WorkOrder:
    """release (to the MES) / hold / resume / cancel one work order, checking the actor's permission.

    A hold, resume or cancel publishes its work-order event (the MES gets a message for this work order)."""
    if name not in WORK_ORDER_LABELS:
        raise ValidationFailed(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    pk = work_order.pk if isinstance(work_order, WorkOrder) else work_order
    work_order = WorkOrder.objects.select_for_update(no_key=True).select_related("order").get(pk=pk)
    method = getattr(work_order, name)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            _("Work order %(number)s cannot %(action)s from status %(status)s.")
            % {
                "number": work_order.number,
                "action": WORK_ORDER_LABELS[name],
                "status": work_order.get_status_display(),
            }
        )
    # Work-order transitions have no conditions: django-fsm's check is the permission alone (each of them
    # has one, which refuses no actor).
    if actor is None or not has_transition_perm(method, actor):
        raise refused(actor, f"work_order_{name}", work_order.number, "transition permission")
    if name in WORK_ORDER_REASON_REQUIRED and not (reason or "").strip():
        raise ValidationFailed(_("Give a reason."), fields={"reason": [_("This field is required.")]})
    if name == "release" and work_order.routing_missing:
        raise ValidationFailed(
            _("Work order %(number)s has no routing: create the routing of %(sku)s first.")
            % {"number": work_order.number, "sku": work_order.product.sku},
            code="no_routing",
        )
    if name == "resume" and work_orders_pending_disposition(work_order_ids=[work_order.pk]):
        # Held by a change with made quantity nobody has decided about: resuming would make it for nothing.
        raise Conflict(
            _("Work order %(number)s waits for the decision on what was made: decide its disposition.")
            % {"number": work_order.number},
            code="pending_disposition",
        )
    if name == "resume" and work_order.order.status == OrderStatus.ON_HOLD:
        raise Conflict(
            _("Order %(number)s is on hold: resume the order.") % {"number": work_order.order.number},
            code="order_on_hold",
        )
    method()
    if name == "release":
        work_order.released_at = timezone.now()
    stamp(work_order, actor=actor, reason=reason or str(WORK_ORDER_LABELS[name]))
    work_order.save()
    if name in TRANSITION_EVENTS:
        # The MES is told by the work order's own id (one message, acknowledged by the MES).
        work_order_announce(
            TRANSITION_EVENTS[name],
            work_order=work_order,
            actor=actor,
            reason=reason or str(WORK_ORDER_LABELS[name]),
        )
    if name == "cancel":
        # A planner's cancel closes the work order: the rest done, the order completes (lifecycle).
        order_follow_work(
            order=work_order.order,
            work_order=work_order,
            closed_reason=message(CLOSED_CANCELLED, number=work_order.number),
        )
    schedule_request(trigger=f"work_order.{name} {work_order.number}")
    return work_order
