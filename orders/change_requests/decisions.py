"""Deciding change requests: approve (the approval matrix), reject, withdraw; the MES's acknowledgement;
one door for actions by name (API, UI, admin)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import Actor, Conflict, Forbidden, ValidationFailed, allowed, define, message
from config.kernel import events as domain_events
from orders.change_requests import records
from orders.change_requests.apply import change_request_apply
from orders.change_requests.change_lists import operation_reasons
from orders.change_requests.models import ChangeRequest, ChangeRequestStatus, DecisionAction, DecisionRole
from orders.change_requests.policies import (
    ADD_PERM,
    APPROVE_PERM,
    MANAGER_PERM,
    is_manager,
    require_approver,
    require_requester,
)
from orders.change_requests.proposals import change_request_rebase, change_request_submit
from orders.sales.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# An approval without a comment is recorded by name, read in each reader's language.
APPROVED = define("cr.approved", gettext_lazy("Approved"))


def _require_rules_of_today(cr: ChangeRequest, order: SalesOrder) -> None:
    """A request submitted before a rule of the matrix existed (the cancel rule) gets it at its decision."""
    missing = [
        code
        for code in operation_reasons(order=order, changes=cr.changes)
        if code not in (cr.impact.get("manager_reasons") or [])
    ]
    if missing:
        cr.impact = {**cr.impact, "manager_reasons": [*(cr.impact.get("manager_reasons") or []), *missing]}
        cr.needs_manager = True


@transaction.atomic
def change_request_approve(
    *, actor: User, change_request: ChangeRequest | int, comment: str = "", disposition: str = ""
) -> ChangeRequest:
    """Record one approval; the CR is approved once every approval the matrix asks for is in.

    A planner approves; when the matrix asks for it a production manager must approve too (a different
    person): when work started, is reduced, other orders are delayed (settings), and always when the
    request cancels a released order (the cancel rule). The approver picks the disposition of quantity
    already made that becomes surplus or wrong. Two approvers at once: the row lock serialises them; the
    second finds the CR decided (409).
    """
    order, cr = records.lock(change_request)
    require_approver(actor, cr, order, "change_request_approve")
    if cr.status != ChangeRequestStatus.SUBMITTED:
        raise records.not_allowed(cr, _("approved"))
    if actor.pk in (cr.planner_approved_by_id, cr.manager_approved_by_id):
        raise Conflict(_("You have already approved this change request."), code="already_approved")
    _require_rules_of_today(cr, order)
    if cr.needs_manager and cr.manager_approved_by_id is None and is_manager(actor):
        role = DecisionRole.MANAGER
    elif cr.planner_approved_by_id is None:
        role = DecisionRole.PLANNER
    elif cr.needs_manager and cr.manager_approved_by_id is None:
        raise Forbidden(
            _("This change request now waits for a production manager's approval."), code="needs_manager"
        )
    else:  # pragma: no cover - a CR with every approval is approved already
        raise records.not_allowed(cr, _("approved"))
    choices = cr.impact.get("disposition_choices") or []
    disposition = (disposition or "").strip()
    if disposition and disposition not in choices:
        raise ValidationFailed(
            _("Choose a valid disposition."),
            fields={
                "disposition": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices) or "—"}]
            },
        )
    if choices and not (disposition or cr.disposition):
        raise ValidationFailed(
            _("Pick what happens to the quantity already made (to stock, rework or scrap)."),
            fields={"disposition": [_("This field is required.")]},
        )
    if disposition:
        cr.disposition = disposition
    if role == DecisionRole.MANAGER:
        cr.manager_approved_by = actor
    else:
        cr.planner_approved_by = actor
    comment = (comment or "").strip()
    complete = cr.planner_approved_by_id is not None and (
        not cr.needs_manager or cr.manager_approved_by_id is not None
    )
    if complete:
        cr.approve()
        cr.decided_at = timezone.now()
        cr.decided_by = actor
    records.save(cr, actor=actor, reason=comment or message(APPROVED))
    records.decide(cr, action=DecisionAction.APPROVED, role=role, actor=actor, comment=comment)
    if complete:
        records.publish_event(
            cr,
            order,
            domain_events.ChangeRequestApproved,
            actor=actor,
            reason=comment,
            decided_by_id=actor.pk,
        )
    return cr


@transaction.atomic
def change_request_reject(*, actor: User, change_request: ChangeRequest | int, comment: str) -> ChangeRequest:
    """Reject a submitted CR; the comment (required) tells the requester why."""
    order, cr = records.lock(change_request)
    require_approver(actor, cr, order, "change_request_reject")
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed(
            _("Say why the change is rejected."), fields={"comment": [_("This field is required.")]}
        )
    if cr.status != ChangeRequestStatus.SUBMITTED:
        raise records.not_allowed(cr, _("rejected"))
    role = DecisionRole.MANAGER if is_manager(actor) else DecisionRole.PLANNER
    cr.reject()
    cr.decided_at = timezone.now()
    cr.decided_by = actor
    records.save(cr, actor=actor, reason=comment)
    records.decide(cr, action=DecisionAction.REJECTED, role=role, actor=actor, comment=comment)
    records.publish_event(
        cr, order, domain_events.ChangeRequestRejected, actor=actor, reason=comment, decided_by_id=actor.pk
    )
    return cr


@transaction.atomic
def change_request_withdraw(
    *, actor: User, change_request: ChangeRequest | int, comment: str = ""
) -> ChangeRequest:
    """The requester takes the CR back before it is decided."""
    order, cr = records.lock(change_request)
    require_requester(actor, cr, "change_request_withdraw")
    if cr.status not in (ChangeRequestStatus.DRAFT, ChangeRequestStatus.SUBMITTED):
        raise records.not_allowed(cr, _("withdrawn"))
    comment = (comment or "").strip()
    previous_status = cr.status
    cr.withdraw()
    cr.decided_at = timezone.now()
    records.save(cr, actor=actor, reason=comment or _("Withdrawn"))
    records.decide(
        cr, action=DecisionAction.WITHDRAWN, role=DecisionRole.REQUESTER, actor=actor, comment=comment
    )
    records.publish_event(
        cr,
        order,
        domain_events.ChangeRequestWithdrawn,
        actor=actor,
        reason=comment,
        decided_by_id=actor.pk,
        previous_status=previous_status,  # a draft's withdrawal concerns nobody else
    )
    return cr


# --- the MES acknowledged -------------------------------------------------------------------------------
@transaction.atomic
def change_request_mark_acknowledged(*, change_request_id: int, at: dt.datetime | None = None) -> bool:
    """Record when the MES acknowledged the applied change (crm_sync calls this). Idempotent: only the
    first acknowledgement counts; returns whether this call recorded it."""
    at = at or timezone.now()
    # Compare-and-set: a repeated acknowledgement finds acknowledged_at set and changes nothing.
    updated = ChangeRequest.objects.filter(
        pk=change_request_id, status=ChangeRequestStatus.APPLIED, acknowledged_at__isnull=True
    ).update(acknowledged_at=at)
    if updated:
        cr = ChangeRequest.objects.get(pk=change_request_id)
        records.decide(cr, action=DecisionAction.ACKNOWLEDGED, role=DecisionRole.SYSTEM, actor=None)
    return bool(updated)


# --- one door for actions by name (API, UI, admin) ------------------------------------------------------
ACTION_LABELS = {
    "submit": gettext_lazy("Submit"),
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "withdraw": gettext_lazy("Withdraw"),
    "apply": gettext_lazy("Apply"),
    "rebase": gettext_lazy("Re-base"),
}


def change_request_act(
    *,
    actor: User,
    change_request: ChangeRequest | int,
    action: str,
    comment: str = "",
    disposition: str = "",
) -> ChangeRequest:
    if action == "submit":
        return change_request_submit(actor=actor, change_request=change_request)
    if action == "approve":
        return change_request_approve(
            actor=actor, change_request=change_request, comment=comment, disposition=disposition
        )
    if action == "reject":
        return change_request_reject(actor=actor, change_request=change_request, comment=comment)
    if action == "withdraw":
        return change_request_withdraw(actor=actor, change_request=change_request, comment=comment)
    if action == "apply":
        return change_request_apply(actor=actor, change_request=change_request)
    if action == "rebase":
        return change_request_rebase(actor=actor, change_request=change_request)
    raise ValidationFailed(_("Unknown action."), fields={"action": [_("Unknown action.")]})


def available_actions(cr: ChangeRequest, user: Actor) -> list[str]:
    """The actions this user may try on the CR now (the services still decide)."""
    if not (user and user.is_authenticated):
        return []
    mine = cr.requested_by_id == user.pk
    approver = allowed(user, APPROVE_PERM) and not mine
    actions = []
    if cr.status == ChangeRequestStatus.DRAFT and mine:
        actions.append("submit")
    if cr.status == ChangeRequestStatus.SUBMITTED and approver:
        if user.pk not in (cr.planner_approved_by_id, cr.manager_approved_by_id):
            waiting_manager = cr.planner_approved_by_id is not None and cr.needs_manager
            if not waiting_manager or allowed(user, MANAGER_PERM):
                actions.append("approve")
        actions.append("reject")
    if cr.status in (ChangeRequestStatus.DRAFT, ChangeRequestStatus.SUBMITTED) and mine:
        actions.append("withdraw")
    if cr.status == ChangeRequestStatus.APPROVED and allowed(user, APPROVE_PERM):
        actions.append("apply")
    if cr.status in (
        ChangeRequestStatus.SUPERSEDED,
        ChangeRequestStatus.REJECTED,
        ChangeRequestStatus.WITHDRAWN,
    ) and allowed(user, ADD_PERM):
        actions.append("rebase")
    return actions
