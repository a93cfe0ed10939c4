"""Editing an order: its fields and lines while it is a draft or confirmed, its priority while it is open.

From release on, an order is locked for direct edits: a change goes through a change request
(orders.change_requests). Each function locks the order, checks visibility, permission and version,
records history with the actor and the reason, and publishes its event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from config.kernel import Conflict, ValidationFailed, refused, stamp
from config.kernel import events as domain_events
from orders.catalog.models import Priority
from orders.sales import policies
from orders.sales.lines import save_new_line
from orders.sales.locks import OrderRef, check_version, lock_order
from orders.sales.models import OPEN_STATUSES, OrderStatus, SalesOrder
from orders.sales.rules import (
    NOT_CLEANED,
    CleanedLine,
    FieldErrors,
    LineInput,
    check_dates,
    clean_lines,
    lines_products,
    resolve_priority,
)
from orders.sales.snapshots import order_event_publish
from orders.validation import full_clean

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The header fields a direct edit may change (priority has its own rule, see order_update).
ORDER_FIELDS = (
    "customer_po",
    "crm_id",
    "requested_date",
    "promised_date",
    "promised_time",
    "start_not_before",
    "remarks",
)


def _require_editable(order: SalesOrder, actor: User | None) -> None:
    if not policies.can_edit_order(actor, order):
        raise refused(actor, "order_update", order.number, "cannot edit this order")
    if not order.is_editable:
        raise Conflict(
            _(
                "Order %(number)s is %(status)s: it is locked for direct edits. "
                "Submit a change request to change it."
            )
            % {"number": order.number, "status": order.get_status_display()},
            code="order_locked",
            # Where the change can be made instead: the CR form of this order and the CR API.
            links={
                "change_request_form": reverse("change_requests:create", args=[order.number]),
                "change_request_api": reverse("change-request-list"),
            },
        )


@transaction.atomic
def order_update(
    *,
    actor: User | None,
    order: OrderRef,
    expected_version: int | None,
    data: Mapping[str, Any],
    lines: Sequence[LineInput] | None = None,
    reason: str = "",
) -> SalesOrder:
    """Edit an order in draft or confirmed.

    `data` holds the header fields to change (absent keys are kept). `lines`, when given, is the
    complete new list: entries with an `id` update that line, entries without one add a line, and
    existing lines not listed are removed. A stale `expected_version` is refused (StaleObject).
    """
    order = lock_order(order)
    _require_editable(order, actor)
    if expected_version is None:
        raise ValidationFailed(
            _("The order's version is required to edit it."),
            fields={"version": [_("This field is required.")]},
        )
    check_version(order, expected_version)

    errors: FieldErrors = {}
    changed = {name for name in ORDER_FIELDS if name in data and data[name] != getattr(order, name)}
    errors.update(check_dates(data, changed=changed))
    crm_id_taken = (
        "crm_id" in changed
        and data["crm_id"]
        and SalesOrder.objects.filter(crm_id=data["crm_id"]).exclude(pk=order.pk).exists()
    )
    if crm_id_taken:
        errors["crm_id"] = [_("Another order already has this CRM id.")]
    priority = None
    if "priority" in data or "priority_reason" in data:
        priority = resolve_priority(
            customer=order.customer,
            priority=data.get("priority", order.priority),
            reason=data.get("priority_reason", order.priority_reason),
        )
        errors.update(priority.errors)
    cleaned_lines: list[CleanedLine] | None = None
    if lines is not None:
        cleaned_lines, line_errors = clean_lines(
            lines,
            products=lines_products([lines]),
            default_due=data.get("requested_date", order.requested_date),
        )
        errors.update(line_errors)
        existing_ids = set(order.lines.values_list("pk", flat=True))
        for index, line in enumerate(cleaned_lines):
            line_id = _existing_id(line)
            if line_id is not None and line_id not in existing_ids:
                errors.setdefault(f"lines[{index}].id", []).append(_("This line is not part of the order."))
        if order.status == OrderStatus.CONFIRMED and not cleaned_lines:
            errors["lines"] = [_("A confirmed order needs at least one line.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)

    for name in changed:
        setattr(order, name, data[name])
    if priority is not None:
        order.priority, order.priority_overridden, order.priority_reason = (
            priority.value,
            priority.overridden,
            priority.reason,
        )
    reason = reason or _("Order edited")
    if cleaned_lines is not None:
        _replace_lines(order, cleaned_lines, actor=actor, reason=reason)
    order.version += 1
    full_clean(order, exclude=NOT_CLEANED)
    stamp(order, actor=actor, reason=reason)
    order.save()
    order_event_publish(
        order, domain_events.OrderUpdated, actor=actor, reason=reason, changed=sorted(changed)
    )
    return order


def _existing_id(line: CleanedLine) -> int | None:
    """The id of the existing line a cleaned line updates; None for a new line."""
    value = line["id"]
    return None if value is None or value == "" else int(value)


def _replace_lines(order: SalesOrder, cleaned: list[CleanedLine], *, actor: User | None, reason: str) -> None:
    current = {line.pk: line for line in order.lines.all()}
    keep = {pk for wanted in cleaned if (pk := _existing_id(wanted)) is not None}
    for pk, line in current.items():
        if pk not in keep:
            stamp(line, actor=actor, reason=reason)
            line.delete()
    next_no = max((line.line_no for line in current.values()), default=0) + 1
    for wanted in cleaned:
        line_id = _existing_id(wanted)
        if line_id is None:
            save_new_line(order, wanted, line_no=next_no, actor=actor, reason=reason)
            next_no += 1
            continue
        existing = current[line_id]
        product = wanted["product"]
        assert product is not None  # cleaned without errors
        updates = {
            "product": product,
            "quantity": wanted["quantity"],
            "unit": product.unit,
            "spec_values": wanted["spec_values"],
            "due_date": wanted["due_date"],
        }
        if any(getattr(existing, key) != value for key, value in updates.items()):
            for key, value in updates.items():
                setattr(existing, key, value)
            stamp(existing, actor=actor, reason=reason)
            existing.save()


@transaction.atomic
def order_set_priority(
    *,
    actor: User | None,
    order: OrderRef,
    priority: int | str | None,
    reason: str,
    expected_version: int | None = None,
) -> SalesOrder:
    """Set an order's priority with a reason, in any open status (also released and in production).

    Who: see policies.can_set_priority. The reason is required and recorded in history (and kept as the
    order's priority reason while the priority differs from the customer's tier). Publishes
    "order.priority_changed" in the same transaction (production replans on it). Setting the priority the
    order already has changes nothing and publishes nothing.
    """
    order = lock_order(order)
    if not policies.can_view_order(actor, order):
        raise refused(actor, "order_set_priority", order.number, "order not visible")
    check_version(order, expected_version)
    if not policies.can_set_priority(actor, order):
        raise refused(actor, "order_set_priority", order.number, "cannot set the priority of this order")
    if order.status not in OPEN_STATUSES:
        raise Conflict(
            _("Order %(number)s is %(status)s: its priority no longer matters.")
            % {"number": order.number, "status": order.get_status_display()},
            code="order_closed",
        )
    errors: FieldErrors = {}
    value: int | None
    try:
        value = int(priority)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = None
    if value not in Priority.values:
        errors["priority"] = [_("Choose a valid priority.")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the priority changes.")]
    elif len(reason) > 300:
        errors["reason"] = [_("At most 300 characters.")]
    if errors or value is None:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    if value == order.priority:
        return order
    previous = order.priority
    order.priority = value
    order.priority_overridden = value != order.customer.default_priority
    order.priority_reason = reason if order.priority_overridden else ""
    order.version += 1
    history_reason = _("Priority %(old)s → %(new)s: %(reason)s") % {
        "old": Priority(previous).label,
        "new": Priority(value).label,
        "reason": reason,
    }
    stamp(order, actor=actor, reason=history_reason)
    order.save()
    order_event_publish(
        order,
        domain_events.OrderPriorityChanged,
        actor=actor,
        reason=history_reason,
        previous_priority=previous,
    )
    return order
