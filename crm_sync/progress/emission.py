"""Writing the owed progress events: one per order when due, with the order's state at that moment.

The event (config.kernel.events.OrderProgressed, type "order.progress") is published on the bus inside the
transaction that clears the marker, so the outbox records it like any order event: the next number in the
order's sequence, one delivery per system that takes the type, delivered in sequence, at least once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.kernel import publish
from config.kernel.events import OrderProgressed
from crm_sync.models import OutboxEvent, ProgressFeed
from orders.models import OrderStatus, SalesOrder
from orders.sales import order_event_payload
from production.progress_detail import order_progress_detail

logger = logging.getLogger("orderbridge.crm_sync")

# Orders whose production is worth reporting: planned, under way, paused, or just finished (the last
# reports complete the order: their event carries the final quantities).
PROGRESS_STATUSES = (
    OrderStatus.RELEASED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.ON_HOLD,
    OrderStatus.COMPLETED,
)
REASON = "progress"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def progress_emit(*, order_id: int, now: dt.datetime | None = None) -> OutboxEvent | None:
    """Write the order's owed progress event if it is due (at `now`); None when nothing was written.

    Idempotent: the marker is cleared in the transaction that writes the event, so a second call (a task
    run twice, the sweep and the task at once) finds nothing owed. An order no longer in production
    (cancelled, shipped) has its marker cleared without an event.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The order's lock first, as every writer of its events takes it (the outbox numbers them under it).
        order = (
            SalesOrder.objects.select_for_update(no_key=True, of=("self",))
            .select_related("customer")
            .filter(pk=order_id)
            .first()
        )
        if order is None:
            return None
        # Then the marker's: a report still holding it commits first, and its quantities are read below.
        feed = ProgressFeed.objects.select_for_update().filter(order_id=order_id).first()
        if feed is None or feed.due_at is None or feed.due_at > now:
            return None
        if order.status not in PROGRESS_STATUSES:
            ProgressFeed.objects.filter(order_id=order_id).update(due_at=None)
            return None
        detail = order_progress_detail(order=order)
        previous = feed.projected_sent if feed.last_sent_at is not None else None
        projected = detail.projected_completion
        shifted = (
            previous is not None
            and projected is not None
            and abs(projected - previous) > dt.timedelta(hours=settings.PROJECTION_SHIFT_HOURS)
        )
        publish(
            OrderProgressed(
                order=order,
                reason=REASON,
                snapshot=order_event_payload(order),
                as_of=now.isoformat(),
                percent_complete=str(detail.percent_complete),
                work_orders=detail.work_orders,
                projected_completion=_iso(projected),
                projected_date=detail.projected_date.isoformat() if detail.projected_date else None,
                on_time=detail.on_time,
                late_days=detail.late_days,
                previous_projected_completion=_iso(previous),
                projection_shifted=shifted,
            )
        )
        ProgressFeed.objects.filter(order_id=order_id).update(
            due_at=None,
            next_allowed_at=now + dt.timedelta(seconds=settings.CRM_PROGRESS_INTERVAL_SECONDS),
            last_sent_at=now,
            projected_sent=projected,
            events_sent=F("events_sent") + 1,
        )
        rows = OutboxEvent.objects.filter(order_id=order_id, type=OrderProgressed.name)
        return rows.order_by("-sequence").first()


def progress_emit_due(*, now: dt.datetime | None = None, limit: int = 500, grace_seconds: float = 0) -> int:
    """Write the owed events that are due (at least `grace_seconds` ago: their own task is normally on the
    way); each order in its own transaction. Returns how many were written."""
    now = now or timezone.now()
    due = list(
        ProgressFeed.objects.filter(due_at__lte=now - dt.timedelta(seconds=grace_seconds))
        .order_by("due_at")
        .values_list("order_id", flat=True)[:limit]
    )
    written = 0
    for order_id in due:
        try:
            if progress_emit(order_id=order_id, now=now) is not None:
                written += 1
        except Exception:  # one order's failure (its marker stays, retried next sweep) must not stop the rest
            logger.exception("progress event for order %s not written", order_id)
    return written
