"""Several orders at once: the same transition on each (confirm the drafts of an import, release a
week's orders), each through the one door (transitions.order_transition) in its own transaction.

One refused order never undoes or blocks the others: the result names each order with what happened,
so the user sees which to look at. Orders the user may not see are reported as not found, never named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.http import Http404
from django.utils.translation import gettext as _

from config.kernel.errors import ApplicationError, ValidationFailed
from orders.sales.locks import OrderNumber
from orders.sales.transitions import order_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Transitions offered on many orders at once: those that need no reason and no override.
BULK_TRANSITIONS = ("confirm", "release")
MAX_BULK_ORDERS = 500


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    # (order number, the message a user can act on)
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.done) + len(self.refused)


def order_try_transition(*, actor: User, number: str, name: str, reason: str = "") -> str | None:
    """Run transition `name` on the order `number` in its own transaction (transitions.order_transition):
    None when done, else the message a user can act on. An order the actor may not see is "no such order"."""
    try:
        order_transition(actor=actor, order=OrderNumber(number, actor), name=name, reason=reason)
    except Http404:
        return _("No such order.")
    except ApplicationError as exc:
        detail = "; ".join(message for messages in exc.fields.values() for message in messages)
        return f"{exc.message} {detail}".strip()
    return None


def orders_bulk_transition(*, actor: User, numbers: list[str], name: str) -> BulkResult:
    """Run transition `name` (confirm or release) on each order of `numbers`, in the order given."""
    if name not in BULK_TRANSITIONS:
        raise ValidationFailed(
            _("This action cannot be done on several orders at once."),
            fields={"action": [_("Choose confirm or release.")]},
        )
    wanted = list(dict.fromkeys(number.strip() for number in numbers if number.strip()))[:MAX_BULK_ORDERS]
    result = BulkResult()
    for number in wanted:
        refusal = order_try_transition(actor=actor, number=number, name=name)
        if refusal is None:
            result.done.append(number)
        else:
            result.refused.append((number, refusal))
    return result
