"""The one door for an order's status transitions: confirm, release, ... cancel.

Every transition goes through `order_transition` (or, for a caller already holding the order's row lock
inside its transaction, `order_transition_in_transaction`), whoever asks: the order page, the REST API,
the admin, the CRM's inbound messages, production's follow-up (the system actor starts and completes
orders) and an applied change request. The door, in this order:

1. locks the order (unless the caller holds it) and checks that the actor sees it (404/403),
2. checks the version the caller read (409 stale) and that the status allows the transition (409),
3. checks the permission through the policies (orders.sales.policies; 403): the actor's own for a direct
   transition; for one made by an approved change request, the change request's approvals
   (`policies.can_transition_by_change_request`: cancelling a released order needs a production manager's
   approval, as a direct cancel needs the manager himself),
4. for start production and complete, checks that the work orders earn it (orders.sales.overrides: a work
   order started; all closed, one completed) or that this is a production manager's explicit override with
   a reason (403 for anyone else, 400 without the reason or the `override` flag); a change request may
   only hold, resume or cancel,
5. checks the reason (hold and cancel need one; 400) and the conditions (lines, promised date; 400),
6. performs the django-fsm transition (`status` is protected: only this door moves it), stamps the time,
   bumps the version, records history with the actor and the reason, saves,
7. publishes the typed event (config.kernel.events.TRANSITION_EVENTS[name]) in the same transaction; an
   override says so (`override=True` on OrderProductionStarted / OrderCompleted).

Adding a transition: a @transition method on SalesOrder, its event class in config.kernel.events, a row in
ORDER_TRANSITIONS below.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from config.kernel import (
    Actor,
    Forbidden,
    Message,
    TransitionNotAllowed,
    ValidationFailed,
    define,
    english,
    message,
    refused,
    stamp,
)
from config.kernel import events as domain_events
from orders.catalog import spec_value_errors
from orders.sales import overrides, policies
from orders.sales.lines import current_lines
from orders.sales.locks import OrderRef, check_version, lock_order
from orders.sales.models import SalesOrder
from orders.sales.snapshots import order_event_publish

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrPromise

    from orders.change_requests.models import ChangeRequest


@dataclass(frozen=True)
class Transition:
    """One row of the transition table: what the door needs to know besides the model's @transition."""

    name: str
    label: StrPromise
    # The order's timestamp field the transition sets ("release" → released_at).
    timestamp: str | None = None
    reason_required: bool = False


ORDER_TRANSITIONS: dict[str, Transition] = {
    transition.name: transition
    for transition in (
        Transition("confirm", gettext_lazy("Confirm"), timestamp="confirmed_at"),
        Transition("release", gettext_lazy("Release to production"), timestamp="released_at"),
        Transition("start_production", gettext_lazy("Start production"), timestamp="production_started_at"),
        Transition("complete", gettext_lazy("Complete"), timestamp="completed_at"),
        Transition("ship", gettext_lazy("Ship"), timestamp="shipped_at"),
        Transition("close", gettext_lazy("Close")),
        Transition("hold", gettext_lazy("Hold"), reason_required=True),
        Transition("resume", gettext_lazy("Resume")),
        Transition("cancel", gettext_lazy("Cancel"), reason_required=True),
    )
}
TRANSITION_LABELS: dict[str, StrPromise] = {name: t.label for name, t in ORDER_TRANSITIONS.items()}
# A transition made without a reason is recorded by its name, read in each reader's language.
TRANSITION_MESSAGES = {
    name: define(f"order.transition.{name}", t.label) for name, t in ORDER_TRANSITIONS.items()
}
REASON_REQUIRED = frozenset(name for name, t in ORDER_TRANSITIONS.items() if t.reason_required)


def transition_label(name: str) -> StrPromise:
    return ORDER_TRANSITIONS[name].label


def _known(name: str) -> Transition:
    if name not in ORDER_TRANSITIONS:
        raise ValidationFailed(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    return ORDER_TRANSITIONS[name]


@transaction.atomic
def order_transition(
    *,
    actor: Actor,
    order: OrderRef,
    name: str,
    reason: str | Message = "",
    expected_version: int | None = None,
    override: bool = False,
) -> SalesOrder:
    """Run transition `name` on `order` (an instance, its id, or an OrderNumber as a user asked for it).

    Preconditions and errors, in the order they are checked: an unknown name is 400; an order the actor may
    not see is 403 (404 given an OrderNumber: a hidden order is missing); a stale `expected_version` or a
    status that does not allow the transition is 409; a missing permission is 403; hold and cancel without
    a reason, or an unmet condition (no lines, no promised date) is 400. Starting production or completing
    ahead of the work orders is an override (orders.sales.overrides): 403 unless a production manager's,
    400 without a reason or without `override=True`. Nothing is written on refusal.

    Side effects, in one transaction: the status (and the transition's timestamp) change, the version goes
    up, history records the actor and the reason (default: the transition's label), the typed event is
    published (the outbox, production's work orders, the owner's notice follow in the same transaction).
    Not idempotent: a second call finds the new status and is refused (409).
    """
    return order_transition_in_transaction(
        actor=actor,
        order=order,
        name=name,
        reason=reason,
        expected_version=expected_version,
        override=override,
    )


def order_transition_in_transaction(
    *,
    actor: Actor,
    order: OrderRef,
    name: str,
    reason: str | Message = "",
    expected_version: int | None = None,
    change_request: ChangeRequest | None = None,
    locked: bool = False,
    publish: bool = True,
    unsaved_steps: list[SalesOrder] | None = None,
    override: bool = False,
) -> SalesOrder:
    """order_transition's body, for a caller already inside a transaction (no savepoint of its own).

    `locked`: the caller holds `order` (an instance it locked, or created in this transaction with its lines
    in hand): it is not locked and read again.
    `change_request`: the approved change request that makes this transition; its approvals are the
    authority (policies.can_transition_by_change_request), the actor is who applies it.
    `publish=False`: the caller publishes the event itself later in the transaction, with
    `order_transition_publish` (a change request publishes its own "order.change_applied" first).
    `override`: the caller confirms a start or completion ahead of the work orders (orders.sales.overrides).
    `unsaved_steps` (an order created here only): the order is not saved; a snapshot of it, stamped for its
    history row, is appended for the caller to save the order once and write the rows together.
    """
    transition = _known(name)
    # A system's reason (a Message) is stored as its code; the checks, the override and the event read text.
    history_reason: str | Message = reason or message(TRANSITION_MESSAGES[name])
    reason_message = reason.stored() if isinstance(reason, Message) else ""
    reason = english(reason) if isinstance(reason, Message) else str(reason)
    order = order if locked and isinstance(order, SalesOrder) else lock_order(order, with_lines=True)
    if not policies.can_view_order(actor, order):
        raise refused(actor, name, order.number, "order not visible")
    check_version(order, expected_version)
    method = getattr(order, name)
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(
            _("Order %(number)s cannot be %(action)s from status %(status)s.")
            % {
                "number": order.number,
                "action": str(transition.label).lower(),
                "status": order.get_status_display(),
            }
        )
    _check_permission(actor, order, name, change_request)
    work = overrides.check_override(actor=actor, order=order, name=name, reason=reason, override=override)
    if transition.reason_required and not (reason or "").strip():
        raise ValidationFailed(_("Give a reason."), fields={"reason": [_("This field is required.")]})
    _check_conditions(order, name)
    method()
    if transition.timestamp:
        setattr(order, transition.timestamp, timezone.now())
    order.version += 1
    if not reason:
        reason, reason_message = english(transition.label), message(TRANSITION_MESSAGES[name]).stored()
    if work is not None:
        history_reason = overrides.override_reason(name, reason, work)
        reason, reason_message = english(history_reason), history_reason.stored()
    stamp(order, actor=actor, reason=history_reason)
    if unsaved_steps is not None:
        order._history_date = timezone.now()
        unsaved_steps.append(copy.copy(order))
    else:
        order.save()
    if publish:
        order_transition_publish(
            order,
            name,
            actor=actor,
            reason=reason,
            reason_message=reason_message,
            change_request=change_request,
            override=work is not None,
        )
    # A transition leaves the lines read under the lock in hand (orders.sales.lines): the caller may answer
    # with them.
    return order


def _check_permission(
    actor: Actor, order: SalesOrder, name: str, change_request: ChangeRequest | None
) -> None:
    if change_request is not None:
        if name not in policies.CHANGE_REQUEST_TRANSITIONS:
            refused(actor, name, order.number, f"{change_request.number}: no change request may {name}")
            raise Forbidden(
                _("A change request cannot %(action)s an order: only hold, resume or cancel it.")
                % {"action": str(transition_label(name)).lower()},
                code="not_by_change_request",
            )
        if not policies.can_transition_by_change_request(order, name, change_request):
            refused(actor, name, order.number, f"{change_request.number} lacks the approval for {name}")
            raise Forbidden(
                _(
                    "Order %(number)s was released to production: cancelling it needs a production "
                    "manager's approval of %(request)s."
                )
                % {"number": order.number, "request": change_request.number},
                code="needs_manager",
            )
        return
    # django-fsm's has_transition_perm() also evaluates conditions; ask for the permission alone (the
    # policies in orders.sales.policies) so that a failed condition gets its own message below.
    if not getattr(order, name)._django_fsm.has_transition_perm(order, order.status, actor):
        raise refused(actor, name, order.number, f"transition permission for {name}")


def order_transition_publish(
    order: SalesOrder,
    name: str,
    *,
    actor: User | None,
    reason: str,
    reason_message: str = "",
    change_request: ChangeRequest | None = None,
    override: bool = False,
) -> None:
    """Publish the event of transition `name` ("hold" → OrderHeld), in the caller's transaction.

    One event however the transition was made, so that the outbox (CRM, MES) and the owner's notice are the
    same; one made by a change request names it (change_request_id, change_request_number); an override
    of the work orders says so (`override`: true; left out otherwise).
    """
    # Only the start and completion events have the field: set when it is an override, left out otherwise.
    extra: dict[str, Any] = {"override": True} if override else {}
    order_event_publish(
        order,
        domain_events.TRANSITION_EVENTS[name],
        actor=actor,
        reason=reason,
        reason_message=reason_message,
        change_request_id=change_request.pk if change_request is not None else None,
        change_request_number=change_request.number if change_request is not None else None,
        **extra,
    )


def _check_conditions(order: SalesOrder, name: str) -> None:
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


# --- the door under each transition's name (production's follow-up, commands, tests) -------------------
class NamedTransition(Protocol):
    def __call__(
        self,
        *,
        actor: Actor,
        order: OrderRef,
        reason: str | Message = "",
        expected_version: int | None = None,
        override: bool = False,
    ) -> SalesOrder: ...


def _named(name: str) -> NamedTransition:
    def door(
        *,
        actor: Actor,
        order: OrderRef,
        reason: str | Message = "",
        expected_version: int | None = None,
        override: bool = False,
    ) -> SalesOrder:
        return order_transition(
            actor=actor,
            order=order,
            name=name,
            reason=reason,
            expected_version=expected_version,
            override=override,
        )

    door.__name__ = door.__qualname__ = f"order_{name}"
    door.__doc__ = f"order_transition(name={name!r}): see order_transition."
    return door


order_confirm = _named("confirm")
order_release = _named("release")
order_start_production = _named("start_production")
order_complete = _named("complete")
order_ship = _named("ship")
order_close = _named("close")
order_hold = _named("hold")
order_resume = _named("resume")
order_cancel = _named("cancel")
