"""The transitions of a sales order (confirm, release, … cancel): one door each, one protocol.

Each locks the order (with its lines), checks visibility, version, state, permission, reason and the
transition's conditions, records history with the actor and the reason, and publishes the transition's
event in the same transaction.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from config.kernel import events as domain_events
from config.kernel import refused, stamp
from config.kernel.errors import TransitionNotAllowed, ValidationFailed
from orders.catalog import spec_value_errors
from orders.sales import policies
from orders.sales.lines import current_lines
from orders.sales.locks import OrderNumber, OrderRef, check_version, lock_order
from orders.sales.models import SalesOrder
from orders.sales.snapshots import order_event_publish

# --- sales orders: transitions ----------------------------------------------------------------------------
TRANSITION_LABELS = {
    "confirm": gettext_lazy("Confirm"),
    "release": gettext_lazy("Release to production"),
    "start_production": gettext_lazy("Start production"),
    "complete": gettext_lazy("Complete"),
    "ship": gettext_lazy("Ship"),
    "close": gettext_lazy("Close"),
    "hold": gettext_lazy("Hold"),
    "resume": gettext_lazy("Resume"),
    "cancel": gettext_lazy("Cancel"),
}
TIMESTAMP_ON = {
    "confirm": "confirmed_at",
    "release": "released_at",
    "complete": "completed_at",
    "ship": "shipped_at",
    "start_production": "production_started_at",
}
REASON_REQUIRED = {"hold", "cancel"}


@transaction.atomic
def _transition(
    *,
    actor: Any,
    order: OrderRef,
    name: str,
    reason: str = "",
    expected_version: int | None = None,
) -> SalesOrder:
    return transition_in_transaction(
        actor=actor, order=order, name=name, reason=reason, expected_version=expected_version
    )


def transition_in_transaction(
    *,
    actor: Any,
    order: SalesOrder | int | OrderNumber,
    name: str,
    reason: str = "",
    expected_version: int | None = None,
    created_here: bool = False,
    unsaved_steps: list[SalesOrder] | None = None,
) -> SalesOrder:
    """_transition's body, for a caller already inside a transaction (no savepoint of its own): order
    creation's create-and-advance runs it on the order it has just written (orders.sales.creation).

    `unsaved_steps` (an order created here only): the order is not saved; a snapshot of it, stamped for its
    history row, is appended for the caller to save the order once and write the rows together.
    """
    # created_here: the caller made the order in this transaction (no one else can see the row, so there is
    # nothing to lock) and keeps its lines in hand (orders.sales.lines): reading it again would only cost
    # queries.
    order = order if created_here else lock_order(order, with_lines=True)
    if not policies.can_view_order(actor, order):
        raise refused(actor, name, order.number, "order not visible")
    check_version(order, expected_version)
    method = getattr(order, name)
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(
            _("Order %(number)s cannot be %(action)s from status %(status)s.")
            % {
                "number": order.number,
                "action": TRANSITION_LABELS[name].lower(),
                "status": order.get_status_display(),
            }
        )
    # django-fsm's has_transition_perm() also evaluates conditions; ask for the permission alone so that a
    # failed condition gets its own message below instead of a misleading "not allowed".
    if not method._django_fsm.has_transition_perm(order, order.status, actor):
        raise refused(actor, name, order.number, f"transition permission for {name}")
    if name in REASON_REQUIRED and not (reason or "").strip():
        raise ValidationFailed(_("Give a reason."), fields={"reason": [_("This field is required.")]})
    _check_transition_conditions(order, name)
    method()
    if name in TIMESTAMP_ON:
        setattr(order, TIMESTAMP_ON[name], timezone.now())
    order.version += 1
    reason = reason or str(TRANSITION_LABELS[name])
    stamp(order, actor=actor, reason=reason)
    if unsaved_steps is not None and created_here:
        order._history_date = timezone.now()
        unsaved_steps.append(copy.copy(order))
    else:
        order.save()
    order_transition_publish(order, name, actor=actor, reason=reason)
    # A transition leaves the lines read under the lock in hand: the caller may answer with them.
    return order


def order_transition_publish(order: SalesOrder, name: str, *, actor: Any, reason: str, **extra: Any) -> None:
    """Publish the event of transition `name` ("hold" → "order.held"), in the caller's transaction.

    One event however the transition was made: directly above, or by an applied change request
    (orders.change_requests.services), so that the outbox (CRM, MES) and the owner's notice are the same.
    """
    order_event_publish(order, domain_events.TRANSITION_EVENTS[name], actor=actor, reason=reason, **extra)


def _check_transition_conditions(order: SalesOrder, name: str) -> None:
    """The conditions of a transition, each with the message a user can act on."""
    if name == "confirm":
        lines = current_lines(order)
        if not lines:
            raise ValidationFailed(
                _("An order needs at least one line before it can be confirmed."),
                code="no_lines",
                fields={"lines": [_("Add at least one line.")]},
            )
        errors: dict[str, list[str]] = {}
        for index, line in enumerate(lines):
            for key, messages in spec_value_errors(line.product.family.spec_schema, line.spec_values).items():
                errors.setdefault(f"lines[{index}].spec_values.{key}", []).extend(messages)
        if errors:
            raise ValidationFailed(
                _("Some spec attributes are not valid."), code="invalid_spec", fields=errors
            )
    if name == "release" and order.promised_date is None:
        raise ValidationFailed(
            _("Set a promised date before releasing the order to production."),
            code="no_promised_date",
            fields={"promised_date": [_("This field is required.")]},
        )


def order_confirm(*, actor: Any, order: OrderRef, reason: str = "", expected_version: int | None = None):
    return _transition(
        actor=actor, order=order, name="confirm", reason=reason, expected_version=expected_version
    )


def order_release(*, actor: Any, order: OrderRef, reason: str = "", expected_version: int | None = None):
    return _transition(
        actor=actor, order=order, name="release", reason=reason, expected_version=expected_version
    )


def order_start_production(*, actor: Any, order: OrderRef, reason: str = "", expected_version=None):
    return _transition(
        actor=actor, order=order, name="start_production", reason=reason, expected_version=expected_version
    )


def order_complete(*, actor: Any, order: OrderRef, reason: str = "", expected_version: int | None = None):
    return _transition(
        actor=actor, order=order, name="complete", reason=reason, expected_version=expected_version
    )


def order_ship(*, actor: Any, order: OrderRef, reason: str = "", expected_version: int | None = None):
    return _transition(
        actor=actor, order=order, name="ship", reason=reason, expected_version=expected_version
    )


def order_close(*, actor: Any, order: OrderRef, reason: str = "", expected_version: int | None = None):
    return _transition(
        actor=actor, order=order, name="close", reason=reason, expected_version=expected_version
    )


def order_hold(*, actor: Any, order: OrderRef, reason: str, expected_version: int | None = None):
    return _transition(
        actor=actor, order=order, name="hold", reason=reason, expected_version=expected_version
    )


def order_resume(*, actor: Any, order: OrderRef, reason: str = "", expected_version: int | None = None):
    return _transition(
        actor=actor, order=order, name="resume", reason=reason, expected_version=expected_version
    )


def order_cancel(*, actor: Any, order: OrderRef, reason: str, expected_version: int | None = None):
    return _transition(
        actor=actor, order=order, name="cancel", reason=reason, expected_version=expected_version
    )


ORDER_TRANSITIONS = {
    "confirm": order_confirm,
    "release": order_release,
    "start_production": order_start_production,
    "complete": order_complete,
    "ship": order_ship,
    "close": order_close,
    "hold": order_hold,
    "resume": order_resume,
    "cancel": order_cancel,
}


def order_apply_transition(
    *,
    actor: Any,
    order: OrderRef,
    name: str,
    reason: str = "",
    expected_version: int | None = None,
) -> SalesOrder:
    """Run a transition by name (API actions, admin actions, forms). Given an OrderNumber, an order the
    actor may not see is missing (Http404)."""
    if name not in ORDER_TRANSITIONS:
        raise ValidationFailed(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    return ORDER_TRANSITIONS[name](actor=actor, order=order, reason=reason, expected_version=expected_version)
