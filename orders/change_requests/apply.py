"""Applying an approved change request: one transaction, one new revision of the order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import Conflict, message, publish, require, stamp
from config.kernel import events as domain_events
from orders.change_requests import records
from orders.change_requests.change_lists import apply_changes, change_diff, clean_changes
from orders.change_requests.impact import Impact, analyse
from orders.change_requests.models import ChangeRequest, ChangeRequestStatus, DecisionAction, DecisionRole
from orders.change_requests.operations import Change
from orders.change_requests.policies import APPROVE_PERM, CHANGEABLE_STATUSES, is_manager, require_view
from orders.sales import order_event_payload, order_transition_in_transaction, order_transition_publish
from orders.sales.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def change_request_apply(*, actor: User, change_request: ChangeRequest | int) -> ChangeRequest:
    """Apply an approved CR in one transaction.

    The order's revision goes up by one, its lines change, "order.change_applied" is published (production
    updates, cancels or creates work orders; crm_sync writes the outbox row). A hold, resume or cancel is
    the order's own transition, made through the one door (orders.sales.transitions) with the CR's approvals
    as the authority, and publishes the order's own event ("order.held"...) as the direct transition does,
    after "order.change_applied". Every other open CR made on the old revision is superseded.

    403 without orders.approve_changerequest or sight of the order, and for a cancel of a released order
    without a production manager's approval. If the order changed since the CR was made, the CR is
    superseded (committed) and the call answers 409. If the change cannot be made any more (e.g. the work
    is finished), it answers 409 with the reason and changes nothing.
    """

    @transaction.atomic
    def run() -> ChangeRequest:
        order, cr = records.lock(change_request)
        require(actor, APPROVE_PERM, action="change_request_apply", target=cr.number)
        require_view(actor, order, "change_request_apply")
        if cr.status != ChangeRequestStatus.APPROVED:
            raise records.not_allowed(cr, _("applied"))
        if cr.base_revision != order.revision:
            raise records.Superseded(cr, order)
        if order.status not in CHANGEABLE_STATUSES:
            raise Conflict(
                _("Order %(number)s is %(status)s: the change can no longer be applied.")
                % {"number": order.number, "status": order.get_status_display()},
                code="cannot_apply",
            )
        cleaned, errors = clean_changes(order=order, changes=cr.changes)
        impact: Impact = analyse(order=order, changes=cleaned) if not errors else {}
        errors.update(impact.pop("errors", {}) if impact else {})
        if errors:
            details = "; ".join(message for messages in errors.values() for message in messages)
            raise Conflict(
                _("%(number)s can no longer be applied: %(details)s")
                % {"number": cr.number, "details": details},
                code="cannot_apply",
                fields=errors,
            )
        _apply_to_order(cr, order, cleaned, actor=actor, impact=impact)
        return cr

    return records.supersede_then_refuse(run, actor=actor)


def _apply_to_order(
    cr: ChangeRequest, order: SalesOrder, changes: list[Change], *, actor: User, impact: Impact
) -> None:
    reason = f"{cr.number}: {cr.reason}"
    diff = change_diff(order=order, changes=changes)
    done = apply_changes(order, changes, actor=actor, reason=reason)
    order.revision += 1
    if done.transition is not None:
        # The order's own transition, through the one door: it checks the CR's approvals (the cancel
        # rule), bumps the version, records history and saves the order with the new revision. Its event
        # is published below, after "order.change_applied", as the CRM and the MES have always got them.
        order_transition_in_transaction(
            actor=actor,
            order=order,
            name=done.transition,
            reason=reason,
            change_request=cr,
            locked=True,
            publish=False,
        )
    else:
        order.version += 1
        stamp(order, actor=actor, reason=reason)
        order.save()

    cr.apply()
    cr.applied_at = timezone.now()
    cr.applied_by = actor
    cr.applied_revision = order.revision
    records.save(cr, actor=actor, reason=message(records.APPLIED, revision=order.revision))
    role = DecisionRole.MANAGER if is_manager(actor) else DecisionRole.PLANNER
    records.decide(cr, action=DecisionAction.APPLIED, role=role, actor=actor)

    # The payload shows the order as it now is: removed lines are gone from it. They are deleted after the
    # event, so that production still finds their work orders by line to cancel or hold them.
    removed_numbers = {line.line_no for line in done.removed}
    payload = order_event_payload(order)
    payload["lines"] = [row for row in payload["lines"] if row["line_no"] not in removed_numbers]
    publish(
        domain_events.OrderChangeApplied(
            order=order,
            actor=actor,
            reason=reason,
            snapshot=payload,
            change_request_id=cr.pk,
            change_request_number=cr.number,
            revision=order.revision,
            changes=changes,
            diff=diff,
            disposition=cr.disposition,
            removed_line_ids=[line.pk for line in done.removed],
            work_in_progress=impact.get("lines", []),
        )
    )
    for line in done.removed:
        stamp(line, actor=actor, reason=reason)
        line.delete()
    # A hold, resume or cancel: the CRM and the MES get the same event, and the owner the same notice, as
    # when it is made directly. Production skips it (change_request_id): the work orders followed the
    # change above, case by case.
    if done.transition is not None:
        order_transition_publish(order, done.transition, actor=actor, reason=reason, change_request=cr)
    # Every other open CR was made on an older revision now: it must be re-based, not applied blindly.
    for other in (
        ChangeRequest.objects.select_for_update()
        .filter(
            order=order,
            status__in=[
                s.value
                for s in (
                    ChangeRequestStatus.DRAFT,
                    ChangeRequestStatus.SUBMITTED,
                    ChangeRequestStatus.APPROVED,
                )
            ],
        )
        .exclude(pk=cr.pk)
    ):
        records.supersede(other, order, by=cr.number, actor=actor)
