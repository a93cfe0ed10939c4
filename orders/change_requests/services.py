"""Change requests (CRs): every change of an order that production already holds.

From release on an order is locked (orders.sales.services refuses direct edits); a change is proposed as a CR
against the order revision it was made on, with a reason and structured changes (the op list below),
analysed on submit, decided by the approval matrix, and applied in one transaction.

Apps depend one way (crm_sync → production → orders): production registers, in its AppConfig.ready, the
impact analysis (`register_impact_provider`) and follows the applied change through the
"order.change_applied" event, inside the apply transaction; crm_sync writes its outbox row from the same
event. Every write here is keyword-only, runs in one transaction, locks the order then the CR (always in
that order, so two writers never deadlock), records history with the actor and the reason, writes a
decision row, and publishes its event on the config.kernel.bus bus.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import bus as events
from config.kernel import events as domain_events
from config.kernel import refused
from config.kernel import stamp as _stamp
from config.kernel.errors import Conflict, Forbidden, StaleObject, TransitionNotAllowed, ValidationFailed
from orders.catalog import spec_value_errors
from orders.models import (
    CANCELLABLE_STATUSES,
    HOLDABLE_STATUSES,
    ChangeOrigin,
    ChangeRequest,
    ChangeRequestDecision,
    ChangeRequestNumber,
    ChangeRequestStatus,
    DecisionAction,
    DecisionRole,
    Disposition,
    OrderLine,
    OrderStatus,
    Product,
    SalesOrder,
)
from orders.sales import order_event_payload as _order_payload
from orders.sales import order_transition_publish, policies
from orders.sales import parse_quantity as _parse_quantity
from orders.sales import save_new_line as _save_new_line

ADD_PERM = "orders.add_changerequest"
APPROVE_PERM = "orders.approve_changerequest"
MANAGER_PERM = "orders.approve_changerequest_as_manager"

# Orders production holds: from release until the work is finished. Earlier, the owner edits directly.
CHANGEABLE_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION, OrderStatus.ON_HOLD)

OPS = (
    "set_quantity",
    "set_date",
    "set_line_due_date",
    "set_spec",
    "add_line",
    "remove_line",
    "hold",
    "resume",
    "cancel",
)
OP_LABELS = {
    "set_quantity": gettext_lazy("Change the quantity of a line"),
    "set_date": gettext_lazy("Change the requested or promised date"),
    "set_line_due_date": gettext_lazy("Change the due date of a line"),
    "set_spec": gettext_lazy("Change the spec attributes of a line"),
    "add_line": gettext_lazy("Add a line"),
    "remove_line": gettext_lazy("Remove a line"),
    "hold": gettext_lazy("Hold the order"),
    "resume": gettext_lazy("Resume the order"),
    "cancel": gettext_lazy("Cancel the order"),
}
# Changes that are the order's own transitions (orders.sales.services): they publish its event too.
STATUS_OPS = ("hold", "resume", "cancel")
ORDER_DATE_FIELDS = ("requested_date", "promised_date")
# Why a production manager must approve too (codes stored in the impact; labels shown to people).
MANAGER_REASONS = {
    "work_started": gettext_lazy("work has started on an affected line"),
    "reduces_started_work": gettext_lazy("the change cancels or reduces work already started"),
    "delays_other_orders": gettext_lazy("the change pushes another order past its promised date"),
}


# --- impact providers (production registers one in its AppConfig.ready) ---------------------------------
ImpactProvider = Callable[..., dict]
_impact_providers: list[ImpactProvider] = []


def register_impact_provider(provider: ImpactProvider) -> ImpactProvider:
    """`provider(*, order, changes) -> dict` with any of: lines (per-line work orders and what happens to
    them), work_started, reduces_started_work, delays_other_orders (list), surplus_quantity,
    rework_quantity, projected_before/after, errors ({field: [messages]}: the change is impossible)."""
    if provider not in _impact_providers:
        _impact_providers.append(provider)
    return provider


def analyse(*, order: SalesOrder, changes: list[dict]) -> dict:
    """What the (validated) changes would do, as far as the registered providers can tell."""
    impact: dict[str, Any] = {"available": bool(_impact_providers), "errors": {}}
    for provider in _impact_providers:
        result = provider(order=order, changes=changes) or {}
        errors = result.pop("errors", {}) or {}
        for key, messages in errors.items():
            impact["errors"].setdefault(key, []).extend(messages)
        impact.update(result)
    impact["computed_at"] = timezone.now().isoformat()
    return impact


def manager_reasons(impact: dict) -> list[str]:
    """The approval matrix: codes of the reasons a production manager must approve (settings decide)."""
    reasons = []
    if settings.CHANGE_REQUEST_MANAGER_WHEN_WORK_STARTED and impact.get("work_started"):
        reasons.append("work_started")
    if settings.CHANGE_REQUEST_MANAGER_WHEN_REDUCING_STARTED and impact.get("reduces_started_work"):
        reasons.append("reduces_started_work")
    if settings.CHANGE_REQUEST_MANAGER_WHEN_DELAYING_OTHERS and impact.get("delays_other_orders"):
        reasons.append("delays_other_orders")
    return reasons


def disposition_choices(impact: dict) -> list[str]:
    """The dispositions an approver may pick; empty when nothing made is affected."""
    if Decimal(str(impact.get("rework_quantity") or 0)) > 0:
        return [Disposition.REWORK, Disposition.SCRAP]
    made = Decimal(str(impact.get("surplus_quantity") or 0)) + Decimal(
        str(impact.get("cancelled_made_quantity") or 0)
    )
    return list(Disposition.values) if made > 0 else []


# --- validating the changes -----------------------------------------------------------------------------
def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _clean_quantity(value: Any, field: str, errors: dict[str, list[str]]) -> str | None:
    quantity = _parse_quantity(value)
    if quantity is None:
        errors.setdefault(field, []).append(_("Enter a number."))
    elif quantity <= 0:
        errors.setdefault(field, []).append(_("The quantity must be greater than zero."))
    elif quantity != quantity.quantize(Decimal("0.001")) or quantity >= Decimal("1e9"):
        errors.setdefault(field, []).append(_("At most 9 digits and 3 decimals."))
    else:
        return str(quantity.quantize(Decimal("0.001")).normalize()) if quantity % 1 else str(int(quantity))
    return None


def _clean_future_date(value: Any, field: str, errors: dict[str, list[str]], *, required=True):
    if value in (None, "") and not required:
        return None
    parsed = _parse_date(value)
    if parsed is None:
        errors.setdefault(field, []).append(_("Enter a date as YYYY-MM-DD."))
        return None
    if parsed < timezone.localdate():
        errors.setdefault(field, []).append(_("This date is in the past."))
        return None
    return parsed.isoformat()


def _spec_errors(product: Product, values: Any, prefix: str, errors: dict[str, list[str]]) -> None:
    for key, messages in spec_value_errors(product.family.spec_schema or {}, values).items():
        errors.setdefault(f"{prefix}spec_values.{key}" if key else f"{prefix}spec_values", []).extend(
            messages
        )


def clean_changes(*, order: SalesOrder, changes: Any) -> tuple[list[dict], dict[str, list[str]]]:
    """Check each proposed change against the order as it is now; return them normalised, or the errors.

    Errors are keyed like the API's input: "changes[0].quantity", "changes[2].spec_values.material".
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(changes, list) or not changes:
        return [], {"changes": [_("Propose at least one change.")]}
    lines = {line.line_no: line for line in order.lines.select_related("product__family")}
    cleaned: list[dict] = []
    removed: set[int] = set()
    for index, raw in enumerate(changes):
        prefix = f"changes[{index}]."
        if not isinstance(raw, dict):
            errors[f"changes[{index}]"] = [_("Each change must be an object with an op.")]
            continue
        op = raw.get("op")
        if op not in OPS:
            errors[f"{prefix}op"] = [_("Unknown change; use one of: %(ops)s.") % {"ops": ", ".join(OPS)}]
            continue
        item: dict[str, Any] = {"op": op}
        line = None
        if op in ("set_quantity", "set_line_due_date", "set_spec", "remove_line"):
            try:
                line_no = int(raw.get("line_no"))
            except (TypeError, ValueError):
                line_no = None
            line = lines.get(line_no) if line_no is not None else None
            if line is None:
                errors[f"{prefix}line_no"] = [
                    _("This field is required.")
                    if line_no is None
                    else _("The order has no line %(no)s.") % {"no": line_no}
                ]
                continue
            if line_no in removed:
                errors[f"{prefix}line_no"] = [_("This line is removed by another change of this request.")]
                continue
            item["line_no"] = line_no
        if op == "set_quantity":
            quantity = _clean_quantity(raw.get("quantity"), f"{prefix}quantity", errors)
            if quantity is not None and Decimal(quantity) == line.quantity:
                errors[f"{prefix}quantity"] = [_("This is the line's quantity already.")]
            item["quantity"] = quantity
        elif op == "set_date":
            field = raw.get("field")
            if field not in ORDER_DATE_FIELDS:
                errors[f"{prefix}field"] = [_("Use requested_date or promised_date.")]
                continue
            item["field"] = field
            item["value"] = _clean_future_date(raw.get("value"), f"{prefix}value", errors)
        elif op == "set_line_due_date":
            item["value"] = _clean_future_date(raw.get("value"), f"{prefix}value", errors)
        elif op == "set_spec":
            values = raw.get("spec_values")
            if not isinstance(values, dict) or not values:
                errors[f"{prefix}spec_values"] = [_("Give the spec attributes to change.")]
                continue
            # Attributes given replace the line's; null removes one. The result must fit the schema.
            merged = {**line.spec_values, **values}
            merged = {key: value for key, value in merged.items() if value is not None}
            _spec_errors(line.product, merged, prefix, errors)
            if merged == line.spec_values:
                errors[f"{prefix}spec_values"] = [_("These are the line's spec attributes already.")]
            item["spec_values"] = merged
        elif op == "add_line":
            sku = raw.get("product")
            product = (
                Product.objects.select_related("family").filter(sku=sku).first()
                if isinstance(sku, str) and sku
                else None
            )
            if product is None:
                errors[f"{prefix}product"] = [
                    _("This field is required.") if not sku else _("Unknown product.")
                ]
            elif not product.is_active:
                errors[f"{prefix}product"] = [_("This product is no longer sold.")]
            item["product"] = sku
            item["quantity"] = _clean_quantity(raw.get("quantity"), f"{prefix}quantity", errors)
            spec_values = raw.get("spec_values") or {}
            if product is not None:
                _spec_errors(product, spec_values, prefix, errors)
            item["spec_values"] = spec_values
            item["due_date"] = _clean_future_date(
                raw.get("due_date"), f"{prefix}due_date", errors, required=False
            )
        elif op == "remove_line":
            removed.add(line.line_no)
        elif op == "hold" and order.status not in HOLDABLE_STATUSES:
            errors[f"{prefix}op"] = [_("The order is %(status)s: it cannot be held.") % _status(order)]
        elif op == "resume" and order.status != OrderStatus.ON_HOLD:
            errors[f"{prefix}op"] = [_("The order is not on hold.")]
        elif op == "cancel":
            if order.status not in CANCELLABLE_STATUSES:
                errors[f"{prefix}op"] = [
                    _("The order is %(status)s: it cannot be cancelled.") % _status(order)
                ]
            if len(changes) > 1:
                errors[f"{prefix}op"] = [_("Cancelling the order cannot be combined with other changes.")]
        cleaned.append(item)
    if lines and removed >= set(lines) and not any(c.get("op") == "add_line" for c in cleaned):
        errors["changes"] = [_("An order keeps at least one line: cancel the order instead.")]
    return cleaned, errors


def _status(order: SalesOrder) -> dict:
    return {"status": order.get_status_display()}


# --- reading what a change does, for people -------------------------------------------------------------
def describe_change(change: dict, order: SalesOrder | None = None) -> str:
    """One change in words, e.g. "Line 1: quantity 12"."""
    op = change.get("op")
    if op == "set_quantity":
        return _("Line %(no)s: quantity → %(qty)s") % {"no": change["line_no"], "qty": change["quantity"]}
    if op == "set_date":
        label = _("Requested date") if change["field"] == "requested_date" else _("Promised date")
        return f"{label} → {change['value']}"
    if op == "set_line_due_date":
        return _("Line %(no)s: due date → %(date)s") % {"no": change["line_no"], "date": change["value"]}
    if op == "set_spec":
        values = ", ".join(f"{key}={value}" for key, value in change["spec_values"].items())
        return _("Line %(no)s: spec → %(values)s") % {"no": change["line_no"], "values": values}
    if op == "add_line":
        return _("New line: %(qty)s x %(sku)s") % {"qty": change["quantity"], "sku": change["product"]}
    if op == "remove_line":
        return _("Remove line %(no)s") % {"no": change["line_no"]}
    return str(OP_LABELS.get(op, op))


def change_diff(*, order: SalesOrder, changes: list[dict]) -> list[dict]:
    """Old → new per field and line, against the order as it is now (for the CR page and the API)."""
    lines = {line.line_no: line for line in order.lines.all()}
    rows = []
    for change in changes:
        op = change["op"]
        line = lines.get(change.get("line_no"))
        old: Any = "—"
        new: Any = "—"
        subject = _("order")
        if line is not None:
            subject = _("line %(no)s") % {"no": line.line_no}
        if op == "set_quantity" and line is not None:
            field, old, new = _("quantity"), _fmt_qty(line.quantity), change["quantity"]
        elif op == "set_date":
            field = _("requested date") if change["field"] == "requested_date" else _("promised date")
            value = getattr(order, change["field"])
            old, new = (value.isoformat() if value else "—"), change["value"]
        elif op == "set_line_due_date" and line is not None:
            field = _("line due date")
            old, new = (line.due_date.isoformat() if line.due_date else "—"), change["value"]
        elif op == "set_spec" and line is not None:
            field = _("spec attributes")
            old = ", ".join(f"{k}={v}" for k, v in line.spec_values.items()) or "—"
            new = ", ".join(f"{k}={v}" for k, v in change["spec_values"].items()) or "—"
        elif op == "add_line":
            field, subject = _("new line"), _("order")
            new = f"{change['quantity']} x {change['product']}"
        elif op == "remove_line" and line is not None:
            field = _("line")
            old, new = f"{_fmt_qty(line.quantity)} x {line.product.sku}", _("removed")
        elif op in ("hold", "resume", "cancel"):
            field = _("status")
            target = {
                "hold": OrderStatus.ON_HOLD,
                "resume": OrderStatus(order.status_before_hold or OrderStatus.RELEASED),
                "cancel": OrderStatus.CANCELLED,
            }[op]
            old, new = order.get_status_display(), target.label
        else:
            field = str(OP_LABELS.get(op, op))
        rows.append(
            {"op": op, "subject": str(subject), "field": str(field), "old": str(old), "new": str(new)}
        )
    return rows


def _fmt_qty(value: Decimal) -> str:
    return str(value.normalize()) if value % 1 else str(int(value))


# --- helpers --------------------------------------------------------------------------------------------
def _next_number() -> str:
    return f"CR-{ChangeRequestNumber.objects.create().pk:06d}"


def _lock(change_request: ChangeRequest | int) -> tuple[SalesOrder, ChangeRequest]:
    """Lock the order, then the CR: every CR writer takes them in this order (no deadlocks)."""
    pk = change_request.pk if isinstance(change_request, ChangeRequest) else change_request
    order_id = ChangeRequest.objects.values_list("order_id", flat=True).get(pk=pk)
    order = SalesOrder.objects.select_for_update().select_related("customer").get(pk=order_id)
    cr = ChangeRequest.objects.select_for_update().get(pk=pk)
    return order, cr


def _decide(cr: ChangeRequest, *, action: str, role: str, actor: Any, comment: str = "") -> None:
    ChangeRequestDecision.objects.create(
        change_request=cr,
        action=action,
        role=role,
        actor=actor if getattr(actor, "pk", None) else None,
        comment=comment,
    )


def _save(cr: ChangeRequest, *, actor: Any, reason: str) -> None:
    _stamp(cr, actor=actor, reason=reason)
    cr.save()


def _publish(
    cr: ChangeRequest,
    order: SalesOrder,
    event_class: type[domain_events.ChangeRequestEvent],
    *,
    actor: Any,
    reason: str,
    **fields: Any,
) -> None:
    events.publish(
        event_class(
            order=order,
            actor=actor,
            reason=reason,
            change_request_id=cr.pk,
            change_request_number=cr.number,
            requested_by_id=cr.requested_by_id,
            **fields,
        )
    )


def _require_view(actor: Any, order: SalesOrder, action: str) -> None:
    if not policies.can_view_order(actor, order):
        raise refused(actor, action, order.number, "order not visible")


def _not_allowed(cr: ChangeRequest, action: str) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        _("Change request %(number)s is %(status)s: it cannot be %(action)s.")
        % {"number": cr.number, "status": cr.get_status_display(), "action": action},
        code="transition_not_allowed",
    )


def _supersede(cr: ChangeRequest, order: SalesOrder, *, by: str, actor: Any) -> None:
    """The order changed since this CR was made: it cannot be applied blindly any more.

    `actor` is whoever's action found it stale (applied another CR, tried to submit or apply this one):
    the event names them, so they get no notice of it (nobody is told of their own action). The history
    and the decision row stay the system's: nobody chose to supersede it.
    """
    previous_status = cr.status
    cr.supersede()
    cr.decided_at = cr.decided_at or timezone.now()
    reason = _(
        "Superseded: order %(number)s is at revision %(revision)s (this request was made on %(base)s)"
    ) % {
        "number": order.number,
        "revision": order.revision,
        "base": cr.base_revision,
    }
    if by:
        reason = f"{reason}; {by}"
    _save(cr, actor=None, reason=reason)
    _decide(cr, action=DecisionAction.SUPERSEDED, role=DecisionRole.SYSTEM, actor=None, comment=reason)
    _publish(
        cr,
        order,
        domain_events.ChangeRequestSuperseded,
        actor=actor,
        reason=reason,
        decided_by_id=None,
        previous_status=previous_status,
    )


class _Superseded(Exception):
    def __init__(self, cr: ChangeRequest, order: SalesOrder) -> None:
        self.cr, self.order = cr, order


def _superseded_error(cr: ChangeRequest, order: SalesOrder) -> Conflict:
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


def _supersede_then_refuse(run: Callable[[], ChangeRequest], *, actor: Any) -> ChangeRequest:
    """Run a write; if it found the CR stale, commit the supersession and then refuse with 409."""
    try:
        return run()
    except _Superseded as stale:
        with transaction.atomic():
            order, cr = _lock(stale.cr.pk)
            if cr.is_open and cr.base_revision != order.revision:
                _supersede(cr, order, by="", actor=actor)
        raise _superseded_error(stale.cr, stale.order) from None


# --- create, edit, submit, re-base ----------------------------------------------------------------------
def _check_proposal(
    *, order: SalesOrder, base_revision: Any, reason: str, changes: Any, origin: str = ChangeOrigin.UI
) -> tuple[str, int, list[dict], dict]:
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
    try:
        base = int(base_revision)
    except (TypeError, ValueError):
        base = None
        errors["base_revision"] = [_("Give the order revision this change is made on.")]
    if origin not in ChangeOrigin.values:
        errors["origin"] = [_("Choose a valid origin.")]
    cleaned, change_errors = clean_changes(order=order, changes=changes)
    errors.update(change_errors)
    impact: dict = {}
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
    actor: Any,
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
    if not (actor is not None and actor.is_active and actor.has_perm(ADD_PERM)):
        raise refused(actor, "change_request_create", str(getattr(order, "pk", order)), f"missing {ADD_PERM}")
    pk = order.pk if isinstance(order, SalesOrder) else order
    order = SalesOrder.objects.select_for_update().select_related("customer").get(pk=pk)
    _require_view(actor, order, "change_request_create")
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
        number=_next_number(),
        requested_by=actor,
        origin=origin,
        base_revision=base,
        reason=reason,
        changes=cleaned,
        rebased_from=rebased_from,
    )
    _save(cr, actor=actor, reason=reason)
    _decide(cr, action=DecisionAction.CREATED, role=DecisionRole.REQUESTER, actor=actor, comment=reason)
    if submit:
        _submit(cr, order, actor=actor, impact=impact)
    return cr


@transaction.atomic
def change_request_update(
    *,
    actor: Any,
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
    order, cr = _lock(change_request)
    _require_view(actor, order, "change_request_update")
    if not (actor.is_active and actor.has_perm(ADD_PERM)) or cr.requested_by_id != actor.pk:
        raise refused(actor, "change_request_update", cr.number, "not the requester")
    if cr.status != ChangeRequestStatus.DRAFT:
        raise _not_allowed(cr, _("edited"))
    reason, base, cleaned, impact = _check_proposal(
        order=order, base_revision=base_revision, reason=reason, changes=changes, origin=cr.origin
    )
    if cr.base_revision != base:
        # Only a draft of the current revision is edited; an older one is re-based first.
        raise _superseded_error(cr, order)
    cr.reason = reason
    cr.changes = cleaned
    _save(cr, actor=actor, reason=_("Edited: %(reason)s") % {"reason": reason})
    if submit:
        _submit(cr, order, actor=actor, impact=impact)
    return cr


def _submit(cr: ChangeRequest, order: SalesOrder, *, actor: Any, impact: dict) -> None:
    reasons = manager_reasons(impact)
    impact["manager_reasons"] = reasons
    impact["disposition_choices"] = [str(choice) for choice in disposition_choices(impact)]
    # Old → new as it was when submitted: the page and the API show this even after the order moved on.
    impact["diff"] = change_diff(order=order, changes=cr.changes)
    cr.impact = impact
    cr.needs_manager = bool(reasons)
    cr.submit()
    cr.submitted_at = timezone.now()
    _save(cr, actor=actor, reason=_("Submitted: %(reason)s") % {"reason": cr.reason})
    _decide(cr, action=DecisionAction.SUBMITTED, role=DecisionRole.REQUESTER, actor=actor)
    _publish(
        cr,
        order,
        domain_events.ChangeRequestSubmitted,
        actor=actor,
        reason=cr.reason,
        needs_manager=cr.needs_manager,
    )


def change_request_submit(*, actor: Any, change_request: ChangeRequest | int) -> ChangeRequest:
    """Submit a draft: re-check the changes, compute and store the impact, ask for the approvals."""

    @transaction.atomic
    def run() -> ChangeRequest:
        order, cr = _lock(change_request)
        _require_view(actor, order, "change_request_submit")
        if cr.requested_by_id != getattr(actor, "pk", None):
            raise refused(actor, "change_request_submit", cr.number, "not the requester")
        if cr.status != ChangeRequestStatus.DRAFT:
            raise _not_allowed(cr, _("submitted"))
        if cr.base_revision != order.revision:
            raise _Superseded(cr, order)
        cleaned, errors = clean_changes(order=order, changes=cr.changes)
        impact = analyse(order=order, changes=cleaned) if not errors else {}
        errors.update(impact.pop("errors", {}) if impact else {})
        if errors:
            raise ValidationFailed(_("This change can no longer be made as proposed."), fields=errors)
        cr.changes = cleaned
        _submit(cr, order, actor=actor, impact=impact)
        return cr

    return _supersede_then_refuse(run, actor=actor)


def change_request_rebase(*, actor: Any, change_request: ChangeRequest | int) -> ChangeRequest:
    """A new draft with the same reason and changes on the order's current revision (for a superseded,
    rejected or withdrawn CR). The old one stays as it is, linked from the copy."""
    pk = change_request.pk if isinstance(change_request, ChangeRequest) else change_request
    old = ChangeRequest.objects.select_related("order").get(pk=pk)
    if old.status not in (
        ChangeRequestStatus.SUPERSEDED,
        ChangeRequestStatus.REJECTED,
        ChangeRequestStatus.WITHDRAWN,
    ):
        raise _not_allowed(old, _("re-based"))
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
        _decide(
            old,
            action=DecisionAction.REBASED,
            role=DecisionRole.REQUESTER,
            actor=actor,
            comment=_("Re-based as %(number)s") % {"number": copy.number},
        )
    return copy


# --- decisions ------------------------------------------------------------------------------------------
def _require_approver(actor: Any, cr: ChangeRequest, order: SalesOrder, action: str) -> None:
    if not (actor is not None and actor.is_active and actor.has_perm(APPROVE_PERM)):
        raise refused(actor, action, cr.number, f"missing {APPROVE_PERM}")
    _require_view(actor, order, action)
    if cr.requested_by_id == actor.pk:
        raise Forbidden(_("Nobody decides their own change request."), code="own_change_request")


@transaction.atomic
def change_request_approve(
    *, actor: Any, change_request: ChangeRequest | int, comment: str = "", disposition: str = ""
) -> ChangeRequest:
    """Record one approval; the CR is approved once every approval the matrix asks for is in.

    A planner approves; when the impact asks for it a production manager must approve too (a different
    person). The approver picks the disposition of quantity already made that becomes surplus or wrong.
    Two approvers at once: the row lock serialises them; the second finds the CR decided (409).
    """
    order, cr = _lock(change_request)
    _require_approver(actor, cr, order, "change_request_approve")
    if cr.status != ChangeRequestStatus.SUBMITTED:
        raise _not_allowed(cr, _("approved"))
    if actor.pk in (cr.planner_approved_by_id, cr.manager_approved_by_id):
        raise Conflict(_("You have already approved this change request."), code="already_approved")
    is_manager = actor.has_perm(MANAGER_PERM)
    if cr.needs_manager and cr.manager_approved_by_id is None and is_manager:
        role = DecisionRole.MANAGER
    elif cr.planner_approved_by_id is None:
        role = DecisionRole.PLANNER
    elif cr.needs_manager and cr.manager_approved_by_id is None:
        raise Forbidden(
            _("This change request now waits for a production manager's approval."), code="needs_manager"
        )
    else:  # pragma: no cover - a CR with every approval is approved already
        raise _not_allowed(cr, _("approved"))
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
    _save(cr, actor=actor, reason=comment or _("Approved"))
    _decide(cr, action=DecisionAction.APPROVED, role=role, actor=actor, comment=comment)
    if complete:
        _publish(
            cr,
            order,
            domain_events.ChangeRequestApproved,
            actor=actor,
            reason=comment,
            decided_by_id=actor.pk,
        )
    return cr


@transaction.atomic
def change_request_reject(*, actor: Any, change_request: ChangeRequest | int, comment: str) -> ChangeRequest:
    """Reject a submitted CR; the comment (required) tells the requester why."""
    order, cr = _lock(change_request)
    _require_approver(actor, cr, order, "change_request_reject")
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed(
            _("Say why the change is rejected."), fields={"comment": [_("This field is required.")]}
        )
    if cr.status != ChangeRequestStatus.SUBMITTED:
        raise _not_allowed(cr, _("rejected"))
    role = DecisionRole.MANAGER if actor.has_perm(MANAGER_PERM) else DecisionRole.PLANNER
    cr.reject()
    cr.decided_at = timezone.now()
    cr.decided_by = actor
    _save(cr, actor=actor, reason=comment)
    _decide(cr, action=DecisionAction.REJECTED, role=role, actor=actor, comment=comment)
    _publish(
        cr, order, domain_events.ChangeRequestRejected, actor=actor, reason=comment, decided_by_id=actor.pk
    )
    return cr


@transaction.atomic
def change_request_withdraw(
    *, actor: Any, change_request: ChangeRequest | int, comment: str = ""
) -> ChangeRequest:
    """The requester takes the CR back before it is decided."""
    order, cr = _lock(change_request)
    if cr.requested_by_id != getattr(actor, "pk", None):
        raise refused(actor, "change_request_withdraw", cr.number, "not the requester")
    if cr.status not in (ChangeRequestStatus.DRAFT, ChangeRequestStatus.SUBMITTED):
        raise _not_allowed(cr, _("withdrawn"))
    comment = (comment or "").strip()
    previous_status = cr.status
    cr.withdraw()
    cr.decided_at = timezone.now()
    _save(cr, actor=actor, reason=comment or _("Withdrawn"))
    _decide(cr, action=DecisionAction.WITHDRAWN, role=DecisionRole.REQUESTER, actor=actor, comment=comment)
    _publish(
        cr,
        order,
        domain_events.ChangeRequestWithdrawn,
        actor=actor,
        reason=comment,
        decided_by_id=actor.pk,
        previous_status=previous_status,  # a draft's withdrawal concerns nobody else
    )
    return cr


# --- apply ----------------------------------------------------------------------------------------------
def change_request_apply(*, actor: Any, change_request: ChangeRequest | int) -> ChangeRequest:
    """Apply an approved CR in one transaction.

    The order's revision goes up by one, its lines change, "order.change_applied" is published (production
    updates, cancels or creates work orders; crm_sync writes the outbox row), a hold, resume or cancel also
    publishes the order's own event ("order.held"...) as the direct transition does, and every other open
    CR made on the old revision is superseded. If the order changed since the CR was made, the CR is
    superseded (committed) and the call answers 409. If the change cannot be made any more (e.g. the work
    is finished), it answers 409 with the reason and changes nothing.
    """

    @transaction.atomic
    def run() -> ChangeRequest:
        order, cr = _lock(change_request)
        if not (actor is not None and actor.is_active and actor.has_perm(APPROVE_PERM)):
            raise refused(actor, "change_request_apply", cr.number, f"missing {APPROVE_PERM}")
        _require_view(actor, order, "change_request_apply")
        if cr.status != ChangeRequestStatus.APPROVED:
            raise _not_allowed(cr, _("applied"))
        if cr.base_revision != order.revision:
            raise _Superseded(cr, order)
        if order.status not in CHANGEABLE_STATUSES:
            raise Conflict(
                _("Order %(number)s is %(status)s: the change can no longer be applied.")
                % {"number": order.number, "status": order.get_status_display()},
                code="cannot_apply",
            )
        cleaned, errors = clean_changes(order=order, changes=cr.changes)
        impact = analyse(order=order, changes=cleaned) if not errors else {}
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

    return _supersede_then_refuse(run, actor=actor)


def _apply_to_order(cr: ChangeRequest, order: SalesOrder, changes: list[dict], *, actor: Any, impact: dict):
    reason = f"{cr.number}: {cr.reason}"
    lines = {line.line_no: line for line in order.lines.select_related("product")}
    diff = change_diff(order=order, changes=changes)
    removed: list[OrderLine] = []
    next_no = max(lines, default=0) + 1
    for change in changes:
        op = change["op"]
        line = lines.get(change.get("line_no"))
        if op == "set_quantity":
            line.quantity = Decimal(change["quantity"])
        elif op == "set_line_due_date":
            line.due_date = _parse_date(change["value"])
        elif op == "set_spec":
            line.spec_values = change["spec_values"]
        elif op == "set_date":
            setattr(order, change["field"], _parse_date(change["value"]))
        elif op == "add_line":
            product = Product.objects.get(sku=change["product"])
            _save_new_line(
                order,
                {
                    "product": product,
                    "quantity": Decimal(change["quantity"]),
                    "spec_values": change["spec_values"],
                    "due_date": _parse_date(change["due_date"]) or order.requested_date,
                },
                line_no=next_no,
                actor=actor,
                reason=reason,
            )
            next_no += 1
        elif op == "remove_line":
            removed.append(line)
        elif op == "hold":
            order.hold()
        elif op == "resume":
            order.resume()
        elif op == "cancel":
            order.cancel()
        if line is not None and op in ("set_quantity", "set_line_due_date", "set_spec"):
            _stamp(line, actor=actor, reason=reason)
            line.save()
    order.revision += 1
    order.version += 1
    _stamp(order, actor=actor, reason=reason)
    order.save()

    now = timezone.now()
    cr.apply()
    cr.applied_at = now
    cr.applied_by = actor
    cr.applied_revision = order.revision
    _save(cr, actor=actor, reason=_("Applied as revision %(revision)s") % {"revision": order.revision})
    role = (
        DecisionRole.MANAGER if actor is not None and actor.has_perm(MANAGER_PERM) else DecisionRole.PLANNER
    )
    _decide(cr, action=DecisionAction.APPLIED, role=role, actor=actor)

    # The payload shows the order as it now is: removed lines are gone from it. They are deleted after the
    # event, so that production still finds their work orders by line to cancel or hold them.
    removed_ids = [line.pk for line in removed]
    payload = _order_payload(order)
    payload["lines"] = [row for row in payload["lines"] if row["line_no"] not in {x.line_no for x in removed}]
    events.publish(
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
            removed_line_ids=removed_ids,
            work_in_progress=impact.get("lines", []),
        )
    )
    for line in removed:
        _stamp(line, actor=actor, reason=reason)
        line.delete()
    # A hold, resume or cancel is also the order's own transition: the CRM and the MES get the same event,
    # and the owner the same notice, as when it is made directly. Production skips it (change_request_id):
    # the work orders followed the change above, case by case.
    for op in [change["op"] for change in changes if change["op"] in STATUS_OPS]:
        order_transition_publish(
            order,
            op,
            actor=actor,
            reason=reason,
            change_request_id=cr.pk,
            change_request_number=cr.number,
        )
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
        _supersede(other, order, by=_("%(number)s was applied first") % {"number": cr.number}, actor=actor)


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
        _decide(cr, action=DecisionAction.ACKNOWLEDGED, role=DecisionRole.SYSTEM, actor=None)
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
    *, actor: Any, change_request: ChangeRequest | int, action: str, comment: str = "", disposition: str = ""
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


def available_actions(cr: ChangeRequest, user: Any) -> list[str]:
    """The actions this user may try on the CR now (the services still decide)."""
    if not (user and user.is_authenticated):
        return []
    mine = cr.requested_by_id == user.pk
    approver = user.has_perm(APPROVE_PERM) and not mine
    actions = []
    if cr.status == ChangeRequestStatus.DRAFT and mine:
        actions.append("submit")
    if cr.status == ChangeRequestStatus.SUBMITTED and approver:
        if user.pk not in (cr.planner_approved_by_id, cr.manager_approved_by_id):
            waiting_manager = cr.planner_approved_by_id is not None and cr.needs_manager
            if not waiting_manager or user.has_perm(MANAGER_PERM):
                actions.append("approve")
        actions.append("reject")
    if cr.status in (ChangeRequestStatus.DRAFT, ChangeRequestStatus.SUBMITTED) and mine:
        actions.append("withdraw")
    if cr.status == ChangeRequestStatus.APPROVED and user.has_perm(APPROVE_PERM):
        actions.append("apply")
    if cr.status in (
        ChangeRequestStatus.SUPERSEDED,
        ChangeRequestStatus.REJECTED,
        ChangeRequestStatus.WITHDRAWN,
    ) and user.has_perm(ADD_PERM):
        actions.append("rebase")
    return actions
