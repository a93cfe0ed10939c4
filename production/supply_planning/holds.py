"""Quote holds after the quote: expiry (a beat task), conversion when the order is confirmed, and their end
when the order's work orders are released (the work orders reserve their own material then).

A hold is a materials Reservation without a work order, `reference` "quote:<customer code>:<token>"; a
converted one is "order:<order number>" without an expiry.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import stamp
from config.kernel.events import OrderConfirmed, OrderReleased
from production.materials import Reservation, ReservationState

QUOTE_PREFIX = "quote:"
ORDER_PREFIX = "order:"


def _holds():
    return Reservation.objects.filter(state=ReservationState.ACTIVE, work_order__isnull=True)


@transaction.atomic
def holds_expire(*, now: dt.datetime | None = None) -> int:
    """Expire the quote holds past their expiry (idempotent; locked rows another run holds are skipped)."""
    now = now or timezone.now()
    expired = 0
    for hold in _holds().select_for_update(skip_locked=True).filter(expires_at__lte=now):
        hold.expire()
        stamp(hold, actor=None, reason=_("Quote hold expired"))
        hold.save()
        expired += 1
    return expired


def on_order_confirmed(event: OrderConfirmed) -> None:
    """The confirming sales person's active holds for the order's customer become the order's (no expiry).

    Holds are not tied to a draft order (a quote comes before the order exists), so the holder and the
    customer say whose they are."""
    order = event.order
    holder = getattr(order, "owner_id", None)
    holds = _holds().filter(
        reference__startswith=f"{QUOTE_PREFIX}{order.customer.code}:", expires_at__gt=timezone.now()
    )
    holds = holds.filter(holder_id=holder) if holder else holds.none()
    for hold in holds.select_for_update():
        hold.reference = f"{ORDER_PREFIX}{order.number}"
        hold.expires_at = None
        stamp(
            hold,
            actor=event.actor,
            reason=_("Quote hold kept for confirmed order %(number)s") % {"number": order.number},
        )
        hold.save()


def on_order_released(event: OrderReleased) -> None:
    """Released: the work orders reserve the material now; the order's converted holds end."""
    for hold in _holds().select_for_update().filter(reference=f"{ORDER_PREFIX}{event.order.number}"):
        hold.release()
        stamp(hold, actor=event.actor, reason=_("Order released: its work orders reserve the material"))
        hold.save()
