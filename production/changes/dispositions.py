"""Deciding what a change request left open: quantities made that became surplus or wrong.

A planner or production manager decides an open ChangeDisposition row; a work order the change held
pending it is completed as made (stock) or cancelled (scrap); scrapped parts made to the old spec are made
again. The order rolls up through the one transition door (orders.sales.transitions).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from config.kernel import (
    Conflict,
    TransitionNotAllowed,
    ValidationFailed,
    define,
    message,
    publish,
    require,
    stamp,
)
from config.kernel.events import DispositionDecided, WorkOrderCancelled
from orders.change_requests.models import Disposition
from orders.sales import order_event_payload
from orders.sales.models import OrderStatus, SalesOrder
from production.changes.announce import announce_disposition, rework_rounds
from production.changes.follow import new_work_order
from production.changes.models import HOLDING_KINDS, ChangeDisposition, DispositionKind
from production.changes.plans import quantity_text
from production.replanning import schedule_request
from production.work_orders import order_follow_work, work_order_announce
from production.work_orders.models import WorkOrder, WorkOrderStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DECIDE_PERM = "production.decide_changedisposition"
# Orders that still want a line's work made (a scrapped wrong part is made again only for them).
ACTIVE_ORDER_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION, OrderStatus.ON_HOLD)

# Stored as a code, read in the reader's language (config.kernel.messages).
CLOSED_DECIDED = define(
    "production.closed_decided", gettext_lazy("All work orders closed (%(number)s decided)")
)


def _decision_label(value: str) -> str:
    return str(dict(Disposition.choices).get(value, value))


@transaction.atomic
def change_disposition_decide(
    *, actor: User, disposition: ChangeDisposition | int, decision: str, reason: str
) -> ChangeDisposition:
    """Decide an open disposition: what happens to quantity a change request left made but not wanted.

    Preconditions: the actor holds production.decide_changedisposition; the row is open; `decision` is one
    of the row's kind (DECISIONS_BY_KIND); a reason is given. Errors: Forbidden, Conflict
    ("already_decided"), ValidationFailed (fields "decision", "reason"); nothing is saved on any of them.

    Side effects, in one transaction: the row records the decision, who, when and why (history too); a
    work order the change held pending this disposition leaves its hold through its own transitions
    (stock: resumed and completed as made; scrap: cancelled); parts made to the old spec that are scrapped
    are made again by a new work order while the order still wants them. When a work order changes state,
    the order rolls up (completed once all its work is closed), "production.disposition_decided" carries
    the order's work orders to the outbox (the MES), and a reschedule is asked. Not idempotent: a second
    decision of the same row is a Conflict.
    """
    pk = disposition.pk if isinstance(disposition, ChangeDisposition) else disposition
    order_id = ChangeDisposition.objects.filter(pk=pk).values_list("work_order__order_id", flat=True).get()
    # Order first, then the row and its work order: the order the apply path locks in (no deadlock).
    order = (
        SalesOrder.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer", "owner")
        .get(pk=order_id)
    )
    row = ChangeDisposition.objects.select_for_update().get(pk=pk)
    require(
        actor, DECIDE_PERM, action="change_disposition_decide", target=f"{row.change_request_number}/{row.pk}"
    )
    if not row.is_open:
        raise Conflict(
            _("This disposition was already decided (%(decision)s).")
            % {"decision": _decision_label(row.decision)},
            code="already_decided",
        )
    decision = (decision or "").strip()
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if decision not in row.decision_choices:
        errors["decision"] = [
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(f"{c} ({_decision_label(c)})" for c in row.decision_choices)}
        ]
    if not reason:
        errors["reason"] = [_("This field is required.")]
    limit = settings.MES_REWORK_MAX_ROUNDS
    if decision == Disposition.REWORK and "decision" not in errors:
        done = rework_rounds(work_order_id=row.work_order_id, excluding=row.change_request_number)
        if done >= limit:
            errors["decision"] = [
                _("This work order was reworked %(rounds)s times already, the limit: scrap it instead.")
                % {"rounds": done}
            ]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)

    work_order = WorkOrder.objects.select_for_update(no_key=True).get(pk=row.work_order_id)
    why = f"{row.change_request_number}: {_decision_label(decision)}. {reason}"
    moved = _carry_out(row, work_order, decision)
    remade = None
    if (
        decision == Disposition.SCRAP
        and row.kind == DispositionKind.WRONG_SPEC
        and work_order.order_line_id is not None
        and order.status in ACTIVE_ORDER_STATUSES
    ):
        remade = _remake(order, work_order, row.quantity, actor, why)
    row.decision = decision
    row.decided_at = timezone.now()
    row.decided_by = actor
    row.decision_reason = reason
    stamp(row, actor=actor, reason=why)
    row.save()
    if moved:
        stamp(work_order, actor=actor, reason=why)
        work_order.save()
        order = _roll_up_closed(order, work_order)
    if moved or remade is not None:
        _publish_decided(order, row, work_order, remade, actor, why)
        schedule_request(trigger=f"disposition.decided {work_order.number}")
    # The MES is told by the work order's own id: cancelled (scrap of held work), and what to do with what
    # was made (to stock, scrap, or a rework request).
    if moved and work_order.status == WorkOrderStatus.CANCELLED:
        work_order_announce(
            WorkOrderCancelled,
            work_order=work_order,
            actor=actor,
            reason=why,
            change_request_number=row.change_request_number,
        )
    announce_disposition(
        work_order,
        decision=decision,
        quantity=row.quantity,
        kind=row.kind,
        change_request_number=row.change_request_number,
        actor=actor,
        reason=why,
    )
    return row


def _carry_out(row: ChangeDisposition, work_order: WorkOrder, decision: str) -> bool:
    """Move a work order held pending this disposition out of its hold; True if its status changed."""
    if row.kind not in HOLDING_KINDS or work_order.status != WorkOrderStatus.ON_HOLD:
        return False
    if decision == Disposition.SCRAP:
        work_order.cancel()
        return True
    # To stock: what was made is kept, the work order is finished as made.
    work_order.resume()
    if not can_proceed(work_order.complete):
        raise TransitionNotAllowed(
            _("Work order %(number)s has not started: it cannot be completed as made; scrap it instead.")
            % {"number": work_order.number}
        )
    work_order.complete()
    work_order.completed_at = timezone.now()
    # Finished as made: nothing more will be made of it, so it counts as done in the order's progress.
    work_order.percent_complete = Decimal(100)
    return True


def _remake(order: SalesOrder, work_order: WorkOrder, quantity: Decimal, actor: User, why: str) -> WorkOrder:
    """A new work order for scrapped parts made to the old spec: made again, to the line's current spec."""
    assert work_order.order_line_id is not None  # the caller checked
    return new_work_order(
        order,
        line_id=work_order.order_line_id,
        product=work_order.product,
        quantity=quantity,
        sequence=WorkOrder.objects.filter(order=order).count() + 1,
        actor=actor,
        reason=why,
    )


def _roll_up_closed(order: SalesOrder, work_order: WorkOrder) -> SalesOrder:
    """The order completes once every work order of its revision is closed and one was completed (a
    cancelled work order may be the last one to close here): production.work_orders' follow-up."""
    return order_follow_work(
        order=order,
        work_order=work_order,
        closed_reason=message(CLOSED_DECIDED, number=work_order.number),
    )


def _publish_decided(
    order: SalesOrder,
    row: ChangeDisposition,
    work_order: WorkOrder,
    remade: WorkOrder | None,
    actor: User,
    why: str,
) -> None:
    """Tell the order's subscribers; the integration adds the order's work orders for the MES."""
    publish(
        DispositionDecided(
            order=order,
            actor=actor,
            reason=why[:500],
            snapshot=order_event_payload(order),
            change_request_number=row.change_request_number,
            disposition_id=row.pk,
            kind=row.kind,
            decision=row.decision,
            quantity=quantity_text(row.quantity),
            work_order_number=work_order.number,
            work_order_status=work_order.status,
            remade_work_order_number=remade.number if remade is not None else None,
        )
    )
