"""Changes to work under way that the MES has not acknowledged in time.

Every message that changes work under way (a work order's quantity, status, disposition or rework; an
order's applied change, hold, resume or cancel) is delivered and then acknowledged by the MES
(crm_sync.inbound.mes.acknowledge sets Delivery.acknowledged_at). One still unacknowledged
settings.MES_ACK_TIMEOUT_SECONDS after its delivery is overdue: the order page and sync health show it,
and beat (`mes_acks_overdue_notify`) tells the planners once per message (MesChangesUnacknowledged).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from config.kernel import publish
from config.kernel.events import WORK_ORDER_CHANGE_EVENTS, MesChangesUnacknowledged
from crm_sync.models import Delivery, ExternalSystem
from orders.models import SalesOrder
from orders.sales import order_event_payload

# The messages whose acknowledgement is watched: what changes work the MES already has.
WATCHED_TYPES = (
    *(cls.name for cls in WORK_ORDER_CHANGE_EVENTS),
    "order.change_applied",
    "order.held",
    "order.resumed",
    "order.cancelled",
    "production.disposition_decided",
)
# Deliveries older than this are not looked at again by beat (an outage of the beat longer than this loses
# no overdue message from the pages, only its notification).
LOOKBACK = dt.timedelta(days=1)


def overdue_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=settings.MES_ACK_TIMEOUT_SECONDS)


def mes_changes_unacknowledged(*, now: dt.datetime, order_id: int | None = None) -> QuerySet[Delivery]:
    """Changes delivered to an MES and not acknowledged within the timeout, oldest first."""
    rows = Delivery.objects.filter(
        system__kind=ExternalSystem.Kind.MES,
        state=Delivery.State.DELIVERED,
        acknowledged_at__isnull=True,
        delivered_at__lt=overdue_before(now),
        event__type__in=WATCHED_TYPES,
    )
    if order_id is not None:
        rows = rows.filter(order_id=order_id)
    return rows.select_related("system", "event").order_by("delivered_at")


def mes_acks_overdue_notify(*, now: dt.datetime, limit: int = 500) -> int:
    """Beat: publish MesChangesUnacknowledged per order for overdue changes not yet reported (the planners'
    notification); each delivery is reported once (ack_overdue_at). Returns how many were reported."""
    with transaction.atomic():
        # Two beats at once: the row locks (skipped when taken) keep one report per delivery.
        rows = list(
            mes_changes_unacknowledged(now=now)
            .filter(ack_overdue_at__isnull=True, delivered_at__gte=now - LOOKBACK)
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        if not rows:
            return 0
        Delivery.objects.filter(pk__in=[row.pk for row in rows]).update(ack_overdue_at=now)
        per_order: dict[int, list[Delivery]] = defaultdict(list)
        for row in rows:
            per_order[row.order_id].append(row)
        for order in SalesOrder.objects.filter(pk__in=per_order).select_related("customer", "owner"):
            late = per_order[order.pk]
            first = min((row.delivered_at for row in late if row.delivered_at), default=now)
            publish(
                MesChangesUnacknowledged(
                    order=order,
                    reason=", ".join(sorted({row.event.type for row in late})),
                    snapshot=order_event_payload(order),
                    system_name=late[0].system.name,
                    event_types=sorted({row.event.type for row in late}),
                    delivered_at=first.isoformat(),
                    timeout_seconds=settings.MES_ACK_TIMEOUT_SECONDS,
                )
            )
    return len(rows)
