"""Starting production and completing an order: earned by its work orders, or a production manager's override.

An order goes to "in production" when its first work order really starts, and to "completed" when every
work order of its current revision is closed (completed, or cancelled by a decision) and one of them was
completed: production's follow-up does both as the system actor (production.work_orders.lifecycle). The
work orders are known through orders.providers (orders does not import production).

The same transition asked for while the work does not earn it (nothing started; work orders unfinished, or
nothing made) is an override, whichever door asks: only a production manager (OVERRIDE_PERMISSION) may, with
a reason, and only when the caller says so explicitly (`override=True`: the page's confirmation, the API's
`"override": true`), after seeing what is unfinished. Nobody else (a planner, the CRM, the MES, a change
request) can start or complete an order ahead of its work.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from config.kernel import Actor, Forbidden, Message, ValidationFailed, define, message, refused
from orders.providers import OrderWork, WorkOrderState, order_work
from orders.sales.models import SalesOrder
from orders.sales.policies import OVERRIDE_PROGRESS, may_transition

# The transitions the work orders earn, and what earns them.
WORK_TRANSITIONS = frozenset({"start_production", "complete"})


def work_earns(name: str, work: OrderWork) -> bool:
    """Whether the order's work earns transition `name` (start: a work order started; complete: all done)."""
    return work.started if name == "start_production" else work.finished


def quantity_text(value: Decimal) -> str:
    """12.000 → "12", 2.500 → "2.5"."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def work_order_text(work_order: WorkOrderState) -> str:
    """ "WO-1 SKU-1 0/10 Released" """
    return _("%(number)s %(product)s %(done)s/%(planned)s %(status)s") % {
        "number": work_order.number,
        "product": work_order.product,
        "done": quantity_text(work_order.done),
        "planned": quantity_text(work_order.planned),
        "status": work_order.status_label,
    }


def unfinished_summary(name: str, work: OrderWork) -> str:
    """What stands in the way of transition `name`, in one sentence (for messages and the history)."""
    if not work.work_orders:
        return _("The order has no work orders: nothing was made through the plant.")
    if name == "start_production":
        return _("No work order has started (%(count)s planned or released).") % {
            "count": len(work.work_orders)
        }
    unfinished = work.unfinished
    if not unfinished:
        return _("No work order was completed: nothing was made.")
    return ngettext(
        "%(count)s of %(total)s work order is unfinished: %(list)s.",
        "%(count)s of %(total)s work orders are unfinished: %(list)s.",
        len(work.work_orders),
    ) % {
        "count": len(unfinished),
        "total": len(work.work_orders),
        "list": "; ".join(work_order_text(work_order) for work_order in unfinished),
    }


def can_override(actor: Actor, order: SalesOrder) -> bool:
    """A production manager (or an admin) who sees the order."""
    return may_transition(actor, order, OVERRIDE_PROGRESS)


def check_override(
    *, actor: Actor, order: SalesOrder, name: str, reason: str, override: bool
) -> OrderWork | None:
    """None when transition `name` needs no override (not a work transition, or the work earns it); else the
    order's work, once the override is allowed: the caller records it.

    Refusals, in order: an actor who may not override → 403 (code work_unfinished, naming what is
    unfinished: a message the MES's dead letter or a planner can act on); no reason → 400 on `reason`;
    `override` not set → 400 on `override` (code override_required), listing what is unfinished.
    """
    if name not in WORK_TRANSITIONS:
        return None
    work = order_work(order)
    if work_earns(name, work):
        return None
    summary = unfinished_summary(name, work)
    blocked = (
        _("Order %(number)s cannot be completed yet: %(summary)s")
        if name == "complete"
        else _("Production of order %(number)s cannot start yet: %(summary)s")
    ) % {"number": order.number, "summary": summary}
    if not can_override(actor, order):
        # Logged as any refusal; the answer names what is unfinished instead of a bare "not allowed".
        refused(actor, name, order.number, "work unfinished, no override permission")
        raise Forbidden(
            f"{blocked} "
            + (
                _(
                    "It completes by itself when its work orders are done; completing it before is a "
                    "production manager's override, with a reason."
                )
                if name == "complete"
                else _(
                    "It starts by itself with the first work order; starting it before is a production "
                    "manager's override, with a reason."
                )
            ),
            code="work_unfinished",
        )
    if not (reason or "").strip():
        raise ValidationFailed(
            f"{blocked} " + _("Give a reason to override the work orders."),
            code="override_reason_required",
            fields={"reason": [_("This field is required.")]},
        )
    if not override:
        raise ValidationFailed(
            f"{blocked} " + _("Doing it now is an override of the work orders: confirm it."),
            code="override_required",
            fields={"override": [summary, _("Confirm that you override the work orders.")]},
        )
    return work


# The history's reason of an override, stored as codes and read in the reader's language.
OVERRIDE = define("order.override", gettext_lazy("Override by hand: %(reason)s (%(summary)s)"))
NO_WORK = define(
    "order.override.no_work",
    gettext_lazy("The order has no work orders: nothing was made through the plant."),
)
NOT_STARTED = define(
    "order.override.not_started", gettext_lazy("No work order has started (%(count)s planned or released).")
)
NONE_COMPLETED = define(
    "order.override.none_completed", gettext_lazy("No work order was completed: nothing was made.")
)
UNFINISHED = define(
    "order.override.unfinished",
    ngettext_lazy(
        "%(count)s of %(total)s work order is unfinished: %(list)s.",
        "%(count)s of %(total)s work orders are unfinished: %(list)s.",
        "total",
    ),
)


def _summary_message(name: str, work: OrderWork) -> Message:
    """unfinished_summary as a stored message."""
    if not work.work_orders:
        return message(NO_WORK)
    if name == "start_production":
        return message(NOT_STARTED, count=len(work.work_orders))
    unfinished = work.unfinished
    if not unfinished:
        return message(NONE_COMPLETED)
    return message(
        UNFINISHED,
        count=len(unfinished),
        total=len(work.work_orders),
        list="; ".join(work_order_text(work_order) for work_order in unfinished),
    )


def override_reason(name: str, reason: str, work: OrderWork) -> Message:
    """The history's reason of an override: the user's reason and what was unfinished when it was made."""
    return message(OVERRIDE, reason=reason.strip(), summary=_summary_message(name, work))
