"""Quote holds after the quote, followed by the beat (`holds_expire`), so that no order transition pays for
them: a hold whose sales person confirmed an order of that customer before it expired becomes the order's
(no expiry); an order's holds end once it is released (its work orders reserve their own material then);
the other holds past their expiry expire.

A hold is a materials Reservation without a work order, `reference` "quote:<customer code>:<token>"; a
converted one is "order:<order number>".
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import stamp
from orders.models import OrderStatus, SalesOrder
from production.materials import Reservation, ReservationState

QUOTE_PREFIX = "quote:"
ORDER_PREFIX = "order:"
# An order in one of these no longer needs its converted holds (released: its work orders reserve).
DONE_WITH_HOLDS = (
    OrderStatus.RELEASED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.COMPLETED,
    OrderStatus.SHIPPED,
    OrderStatus.CLOSED,
    OrderStatus.CANCELLED,
)


def _holds() -> QuerySet[Reservation]:
    return Reservation.objects.filter(state=ReservationState.ACTIVE, work_order__isnull=True)


def _convert(now: dt.datetime) -> int:
    """Holds whose holder confirmed an order of the hold's customer between the quote and its expiry."""
    holds = list(_holds().select_for_update(skip_locked=True).filter(reference__startswith=QUOTE_PREFIX))
    if not holds:
        return 0
    codes = {hold.reference.split(":")[1] for hold in holds}
    orders = (
        SalesOrder.objects.filter(customer__code__in=codes, confirmed_at__isnull=False)
        .filter(owner_id__in={hold.holder_id for hold in holds if hold.holder_id})
        .filter(confirmed_at__gte=min(hold.created_at for hold in holds))
        .exclude(status=OrderStatus.CANCELLED)
        .values_list("number", "customer__code", "owner_id", "confirmed_at")
        .order_by("confirmed_at")
    )
    candidates = list(orders)
    converted = 0
    for hold in holds:
        code = hold.reference.split(":")[1]
        number = next(
            (
                number
                for number, customer, owner, confirmed in candidates
                if customer == code
                and owner == hold.holder_id
                and confirmed is not None
                and hold.created_at <= confirmed <= (hold.expires_at or now)
            ),
            None,
        )
        if number is None:
            continue
        hold.reference, hold.expires_at = f"{ORDER_PREFIX}{number}", None
        stamp(
            hold, actor=None, reason=_("Quote hold kept for confirmed order %(number)s") % {"number": number}
        )
        hold.save()
        converted += 1
    return converted


@transaction.atomic
def holds_expire(*, now: dt.datetime | None = None) -> int:
    """Follow the quote holds (beat; idempotent; rows another run holds are skipped). Returns how many
    expired."""
    now = now or timezone.now()
    _convert(now)
    order_holds = list(
        _holds().select_for_update(skip_locked=True).filter(reference__startswith=ORDER_PREFIX)
    )
    numbers = {hold.reference.removeprefix(ORDER_PREFIX) for hold in order_holds}
    done = set(
        SalesOrder.objects.filter(number__in=numbers, status__in=DONE_WITH_HOLDS).values_list(
            "number", flat=True
        )
    )
    for hold in order_holds:
        if hold.reference.removeprefix(ORDER_PREFIX) in done:
            hold.release()
            stamp(hold, actor=None, reason=_("Order released: its work orders reserve the material"))
            hold.save()
    expired = 0
    for hold in _holds().select_for_update(skip_locked=True).filter(expires_at__lte=now):
        hold.expire()
        stamp(hold, actor=None, reason=_("Quote hold expired"))
        hold.save()
        expired += 1
    return expired
