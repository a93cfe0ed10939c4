"""Proposing a change: create, edit, submit and re-base change requests.

From release on an order is locked (the `orders.sales` edits refuse it); a change is proposed as a
CR against the order revision it was made on, with a reason and structured changes
(orders.change_requests.operations), analysed on submit and put to the approval matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import Conflict, StaleObject, ValidationFailed, allowed, message, refused, require
from config.kernel import events as domain_events
from orders.change_requests import records
from orders.change_requests.change_lists import change_diff, clean_changes
from orders.change_requests.impact import Impact, analyse, disposition_choices, manager_reasons
from orders.change_requests.models import (
    ChangeOrigin,
    ChangeRequest,
    ChangeRequestStatus,
    DecisionAction,
    DecisionRole,
)
from orders.change_requests.operations import Change
from orders.change_requests.policies import (
    ADD_PERM,
    CHANGEABLE_STATUSES,
    require_requester,
    require_view,
)
from orders.sales.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _check_proposal(
    *, order: SalesOrder, base_revision: Any, reason: str, changes: Any, origin: str = ChangeOrigin.UI
) -> tuple[str, int, list[Change], Impact]:
    """The checks a proposal passes to be saved (created or edited): (reason, base, changes, impact).

    409 if the order can no longer be changed or `base_revision` is not its current revision; 400 with
    field messages for bad input. Reads only: the caller holds the order's lock.
    """
    if order.status not in CHANGEABLE_STATUSES:
        raise Conflict(
            _("Order %(number)s is %(status)s: it can no longer be changed.")
            % {"number": order.number, "status": order.get_status_display()},
            code="order_closed",
        )
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the order must change.")]
    base: int | None
    try:
        base = int(base_revision)
    except (TypeError, ValueError):
        base = None
        errors["base_revision"] = [_("Give the order revision this change is made on.")]
    if origin not in ChangeOrigin.values:
        errors["origin"] = [_("Choose a valid origin.")]
    cleaned, change_errors = clean_changes(order=order, changes=changes)
    errors.update(change_errors)
    impact: Impact = {}
    if not change_errors:
        impact = analyse(order=order, changes=cleaned)
        errors.update(impact.pop("errors", {}))
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    if base != order.revision:
        raise StaleObject(
            _(
                "Order %(number)s is at revision %(revision)s, not %(base)s: read the order again and make "
                "the change on its current revision."
            )
            % {"number": order.number, "revision": order.revision, "base": base},
            fields={"base_revision": [_("The order has changed since this revision.")]},
        )
    return reason, base, cleaned, impact


@transaction.atomic
def change_request_create(
    *,
    actor: User,
    order: SalesOrder | int,
    base_revision: Any,
    reason: str,
    changes: Any,
    origin: str = ChangeOrigin.UI,
    submit: bool = False,
    rebased_from: ChangeRequest | None = None,
) -> ChangeRequest:
    """Propose a change of a locked order (released, in production or on hold), as a draft or submitted.

    400 for bad input (field messages such as changes[0].quantity), 403 without orders.add_changerequest
    or without sight of the order, 409 if the order is not locked (edit it directly) or no longer
    changeable, or if `base_revision` is not the order's current revision. Nothing is stored on refusal.
    """
    require(actor, ADD_PERM, action="change_request_create", target=str(getattr(order, "pk", order)))
    pk = order.pk if isinstance(order, SalesOrder) else order
    order = SalesOrder.objects.select_for_update(no_key=True).select_related("customer").get(pk=pk)
    require_view(actor, order, "change_request_create")
    if order.is_editable or order.released_at is None:
        raise Conflict(
            _("Order %(number)s is %(status)s: its owner edits it directly, no change request is needed.")
            % {"number": order.number, "status": order.get_status_display()},
            code="order_editable",
        )
    reason, base, cleaned, impact = _check_proposal(
        order=order, base_revision=base_revision, reason=reason, changes=changes, origin=origin
    )
    cr = ChangeRequest(
        order=order,
        number=records.next_number(),
        requested_by=actor,
        origin=origin,
        base_revision=base,
        reason=reason,
        changes=cleaned,
        rebased_from=rebased_from,
    )
    records.save(cr, actor=actor, reason=reason)
    records.decide(
        cr, action=DecisionAction.CREATED, role=DecisionRole.REQUESTER, actor=actor, comment=reason
    )
    if submit:
        _submit(cr, order, actor=actor, impact=impact)
    return cr


@transaction.atomic
def change_request_update(
    *,
    actor: User,
    change_request: ChangeRequest | int,
    base_revision: Any,
    reason: str,
    changes: Any,
    submit: bool = False,
) -> ChangeRequest:
    """The requester edits a draft before submitting it: the reason and the whole list of changes.

    The same checks as change_request_create (400 with field messages, 409 for an order no longer
    changeable or a stale `base_revision`); 403 for anyone but the requester; 409 once the CR is no longer
    a draft. History records the edit with the requester and the new reason; `submit` submits it at once.
    Nothing is stored on refusal.
    """
    order, cr = records.lock(change_request)
    require_view(actor, order, "change_request_update")
    if not allowed(actor, ADD_PERM) or cr.requested_by_id != actor.pk:
        raise refused(actor, "change_request_update", cr.number, "not the requester")
    if cr.status != ChangeRequestStatus.DRAFT:
        raise records.not_allowed(cr, _("edited"))
    reason, base, cleaned, impact = _check_proposal(
        order=order, base_revision=base_revision, reason=reason, changes=changes, origin=cr.origin
    )
    if cr.base_revision != base:
        # Only a draft of the current revision is edited; an older one is re-based first.
        raise records.superseded_error(cr, order)
    cr.reason = reason
    cr.changes = cleaned
    records.save(cr, actor=actor, reason=message(records.EDITED, reason=reason))
    if submit:
        _submit(cr, order, actor=actor, impact=impact)
    return cr


def _submit(cr: ChangeRequest, order: SalesOrder, *, actor: User, impact: Impact) -> None:
    reasons = manager_reasons(impact, order=order, changes=cr.changes)
    impact["manager_reasons"] = reasons
    impact["disposition_choices"] = [str(choice) for choice in disposition_choices(impact)]
    # Old → new as it was when submitted: the page and the API show this even after the order moved on.
    impact["diff"] = change_diff(order=order, changes=cr.changes)
    cr.impact = impact
    cr.needs_manager = bool(reasons)
    cr.submit()
    cr.submitted_at = timezone.now()
    records.save(cr, actor=actor, reason=message(records.SUBMITTED, reason=cr.reason))
    records.decide(cr, action=DecisionAction.SUBMITTED, role=DecisionRole.REQUESTER, actor=actor)
    records.publish_event(
        cr,
        order,
        domain_events.ChangeRequestSubmitted,
        actor=actor,
        reason=cr.reason,
        needs_manager=cr.needs_manager,
    )


def change_request_submit(*, actor: User, change_request: ChangeRequest | int) -> ChangeRequest:
    """Submit a draft: re-check the changes, compute and store the impact, ask for the approvals."""

    @transaction.atomic
    def run() -> ChangeRequest:
        order, cr = records.lock(change_request)
        require_view(actor, order, "change_request_submit")
        require_requester(actor, cr, "change_request_submit")
        if cr.status != ChangeRequestStatus.DRAFT:
            raise records.not_allowed(cr, _("submitted"))
        if cr.base_revision != order.revision:
            raise records.Superseded(cr, order)
        cleaned, errors = clean_changes(order=order, changes=cr.changes)
        impact: Impact = analyse(order=order, changes=cleaned) if not errors else {}
        errors.update(impact.pop("errors", {}) if impact else {})
        if errors:
            raise ValidationFailed(_("This change can no longer be made as proposed."), fields=errors)
        cr.changes = cleaned
        _submit(cr, order, actor=actor, impact=impact)
        return cr

    return records.supersede_then_refuse(run, actor=actor)


def change_request_rebase(*, actor: User, change_request: ChangeRequest | int) -> ChangeRequest:
    """A new draft with the same reason and changes on the order's current revision (for a superseded,
    rejected or withdrawn CR). The old one stays as it is, linked from the copy."""
    pk = change_request.pk if isinstance(change_request, ChangeRequest) else change_request
    old = ChangeRequest.objects.select_related("order").get(pk=pk)
    if old.status not in (
        ChangeRequestStatus.SUPERSEDED,
        ChangeRequestStatus.REJECTED,
        ChangeRequestStatus.WITHDRAWN,
    ):
        raise records.not_allowed(old, _("re-based"))
    with transaction.atomic():
        copy = change_request_create(
            actor=actor,
            order=old.order_id,
            base_revision=SalesOrder.objects.values_list("revision", flat=True).get(pk=old.order_id),
            reason=old.reason,
            changes=old.changes,
            origin=old.origin,
            rebased_from=old,
        )
        records.decide(
            old,
            action=DecisionAction.REBASED,
            role=DecisionRole.REQUESTER,
            actor=actor,
            comment=message(records.REBASED, number=copy.number),
        )
    return copy
