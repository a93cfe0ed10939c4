"""Writes of the integration outbox."""

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from orders.events import OrderEvent

from .models import OutboxEvent


def outbox_record_order_event(event: OrderEvent) -> OutboxEvent:
    """Write the event row in the caller's transaction.

    The caller holds the order's row lock (or has just created the order), so reading the last
    sequence and writing the next one cannot race; the unique constraint is the backstop.
    """
    last = OutboxEvent.objects.filter(order_id=event.order.pk).aggregate(last=Max("sequence"))["last"] or 0
    return OutboxEvent.objects.create(
        type=event.type,
        source=settings.EVENT_SOURCE,
        subject=event.order.number,
        order_id=event.order.pk,
        sequence=last + 1,
        time=timezone.now(),
        data=event.data,
        actor_id=event.actor_id,
        reason=(event.reason or "")[:500],
    )
