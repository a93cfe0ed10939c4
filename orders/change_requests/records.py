"""How every change-request write is recorded: locks, saves with history, decision rows, events, supersession.

Every writer locks the order, then the request (always in that order, so two writers never deadlock),
records history with the actor and the reason, writes a decision row and publishes its event on the kernel
bus, in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import (
    Conflict,
    Message,
    TransitionNotAllowed,
    define,
    event_reasons,
    message,
    publish,
    stamp,
)
from config.kernel import events as domain_events
from orders.change_requests.models import (
    ChangeRequest,
    ChangeRequestDecision,
    ChangeRequestNumber,
    DecisionAction,
    DecisionRole,
)
from orders.sales.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# What the system writes in a request's history and decisions: stored as codes, read in the reader's language.
SUBMITTED = define("cr.submitted", gettext_lazy("Submitted: %(reason)s"))
REBASED = define("cr.rebased", gettext_lazy("Re-based as %(number)s"))
# The decision row says "Superseded" already: its comment says only why.
APPLIED = define("cr.applied", gettext_lazy("Applied as revision %(revision)s"))
EDITED = define("cr.edited", gettext_lazy("Edited: %(reason)s"))
SUPERSEDED_WHY = define(
    "cr.superseded.why",
    gettext_lazy("order %(number)s is at revision %(revision)s (this request was made on %(base)s)"),
)
SUPERSEDED = define("cr.superseded", gettext_lazy("Superseded: %(why)s"))
SUPERSEDED_BY = define("cr.superseded.by", gettext_lazy("%(why)s; %(number)s was applied first"))


def next_number() -> str:
    return f"CR-{ChangeRequestNumber.objects.create().pk:06d}"


def lock(change_request: ChangeRequest | int) -> tuple[SalesOrder, ChangeRequest]:
    """Lock the order, then the CR: every CR writer takes them in this order (no deadlocks)."""
    pk = change_request.pk if isinstance(change_request, ChangeRequest) else change_request
    order_id = ChangeRequest.objects.values_list("order_id", flat=True).get(pk=pk)
    order = SalesOrder.objects.select_for_update(no_key=True).select_related("customer").get(pk=order_id)
    cr = ChangeRequest.objects.select_for_update().get(pk=pk)
    return order, cr


def decide(
    cr: ChangeRequest, *, action: str, role: str, actor: User | None, comment: str | Message = ""
) -> None:
    ChangeRequestDecision.objects.create(
        change_request=cr,
        action=action,
        role=role,
        actor=actor if getattr(actor, "pk", None) else None,
        comment=comment.stored() if isinstance(comment, Message) else comment,
    )


def save(cr: ChangeRequest, *, actor: User | None, reason: str | Message) -> None:
    stamp(cr, actor=actor, reason=reason)
    cr.save()


def publish_event(
    cr: ChangeRequest,
    order: SalesOrder,
    event_class: type[domain_events.ChangeRequestEvent],
    *,
    actor: User | None,
    reason: str | Message,
    **fields: Any,
) -> None:
    publish(
        event_class(
            order=order,
            actor=actor,
            **event_reasons(reason),
            change_request_id=cr.pk,
            change_request_number=cr.number,
            requested_by_id=cr.requested_by_id,
            **fields,
        )
    )


def not_allowed(cr: ChangeRequest, action: str) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        _("Change request %(number)s is %(status)s: it cannot be %(action)s.")
        % {"number": cr.number, "status": cr.get_status_display(), "action": action},
        code="transition_not_allowed",
    )


def supersede(cr: ChangeRequest, order: SalesOrder, *, by: str, actor: User) -> None:
    """The order changed since this CR was made: it cannot be applied blindly any more.

    `actor` is whoever's action found it stale (applied another CR, tried to submit or apply this one):
    the event names them, so they get no notice of it (nobody is told of their own action). The history
    and the decision row stay the system's: nobody chose to supersede it.
    """
    previous_status = cr.status
    cr.supersede()
    cr.decided_at = cr.decided_at or timezone.now()
    why = message(SUPERSEDED_WHY, number=order.number, revision=order.revision, base=cr.base_revision)
    if by:  # the number of the request applied first
        why = message(SUPERSEDED_BY, why=why, number=by)
    save(cr, actor=None, reason=message(SUPERSEDED, why=why))
    decide(cr, action=DecisionAction.SUPERSEDED, role=DecisionRole.SYSTEM, actor=None, comment=why)
    publish_event(
        cr,
        order,
        domain_events.ChangeRequestSuperseded,
        actor=actor,
        reason=message(SUPERSEDED, why=why),
        decided_by_id=None,
        previous_status=previous_status,
    )


class Superseded(Exception):
    """Raised inside a write that found its CR made on an older revision (see supersede_then_refuse)."""

    def __init__(self, cr: ChangeRequest, order: SalesOrder) -> None:
        self.cr, self.order = cr, order


def superseded_error(cr: ChangeRequest, order: SalesOrder) -> Conflict:
    return Conflict(
        _(
            "Order %(order)s was changed by another change request (now revision %(revision)s; "
            "%(number)s was made on revision %(base)s). %(number)s is superseded: re-base it on the "
            "current revision and submit it again."
        )
        % {"order": order.number, "revision": order.revision, "number": cr.number, "base": cr.base_revision},
        code="superseded",
        fields={"base_revision": [_("The order has changed since this revision.")]},
    )


def supersede_then_refuse(run: Callable[[], ChangeRequest], *, actor: User) -> ChangeRequest:
    """Run a write; if it found the CR stale, commit the supersession and then refuse with 409."""
    try:
        return run()
    except Superseded as stale:
        with transaction.atomic():
            order, cr = lock(stale.cr.pk)
            if cr.is_open and cr.base_revision != order.revision:
                supersede(cr, order, by="", actor=actor)
        raise superseded_error(stale.cr, stale.order) from None
